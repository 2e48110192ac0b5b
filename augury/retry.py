"""Retry timing shared by every writer (Kinesis in the generator, Redis in the Flink job)."""

from __future__ import annotations

import random


def backoff_s(attempt: int, base_ms: int, rng: random.Random, cap_ms: int = 5_000) -> float:
    """Full-jitter exponential backoff before retry number ``attempt`` (1-based), in seconds."""
    ceiling = min(cap_ms, base_ms * 2 ** (attempt - 1))
    return rng.uniform(0, ceiling) / 1000
