"""Progress output for platform commands."""

from __future__ import annotations

import sys


def step(message: str) -> None:
    """Print one progress line (to stderr, so stdout stays machine-readable)."""
    print(f"[platform] {message}", file=sys.stderr, flush=True)
