"""Flink tests share one job per module: start-up costs several seconds."""

from __future__ import annotations

import pytest

pytest.importorskip("pyflink", reason="the flink dependency group is not installed")
