"""What bounded reads buy ``/pages/top``: 60 windows of 50 000 distinct pages each.

Baseline: the earlier read, every window's whole page set (``ZRANGE 0 -1``) summed in Python.
Variants: the read model's bounded read (each window's ``page_depth(limit) + 1`` biggest pages)
for a top 10 and a top 100. Same data, same process, same Redis; per variant the latency of one
request (best of the runs and its spread), the elements read and the Python heap's peak
(``tracemalloc``) are reported.
"""

from __future__ import annotations

import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import redis

from augury import read_model
from augury.endpoints import Endpoints
from augury.read_model import PageCount
from augury.redis_keys import Keys
from augury.settings import MINUTE_MS
from bench.harness import BenchResult, Measurement, peak_rss_mb

WINDOWS = 60
PAGES = 50_000
RUNS = 5
KEYS = Keys("augury:bench:read_api:")


def _write(conn: Any, starts: list[int]) -> None:
    for w, start in enumerate(starts):
        pipe = conn.pipeline(transaction=False)
        pipe.hset(KEYS.window(start), mapping={"events": PAGES, "final": 1})
        pipe.zadd(KEYS.windows, {str(start): start})
        pipe.zadd(KEYS.window_pages(start),
                  {f"/p/{i:05}": PAGES * 2 // (i + 1) + (i * 7919 + w * 104_729) % 97
                   for i in range(PAGES)})  # fmt: skip
        for key in (KEYS.window(start), KEYS.window_pages(start), KEYS.windows):
            pipe.expire(key, 3600)
        pipe.execute()


def _whole_sets(conn: Any, starts: list[int], limit: int) -> list[PageCount]:
    """The earlier read: every page of every window."""
    pipe = conn.pipeline(transaction=False)
    for start in starts:
        pipe.zrange(KEYS.window_pages(start), 0, -1, withscores=True)
    return read_model.top((pair for pages in pipe.execute() for pair in pages), limit)


def _measure(name: str, fn: Callable[[], object]) -> tuple[Measurement, dict[str, float], float]:
    """Best-of-``RUNS`` timing, the latency distribution, and the heap's peak in MiB.

    The heap is traced in one more, untimed run (tracing slows allocation down).
    """
    seconds = []
    for _ in range(RUNS):
        started = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - started)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    p50, worst = statistics.median(seconds), max(seconds)
    dist = {"n": RUNS, "p50_s": round(p50, 4), "p99_s": round(worst, 4),
            "mean_s": round(statistics.fmean(seconds), 4)}  # fmt: skip
    return Measurement(name, 1, min(seconds)), dist, peak / 2**20


def run() -> BenchResult:
    """Time the whole-set read against the bounded one, on the same 3 M stored pages."""
    conn = redis.Redis.from_url(Endpoints.local().redis_url, decode_responses=True)
    newest = int(time.time() * 1000) // MINUTE_MS * MINUTE_MS
    starts = [newest - w * MINUTE_MS for w in range(WINDOWS)]
    _write(conn, starts)
    try:
        variants: dict[str, tuple[Callable[[], object], int]] = {
            "whole sets, top 10 (baseline)": (lambda: _whole_sets(conn, starts, 10), PAGES),
            "bounded, top 10": (lambda: read_model.page_ranking_in_range(
                conn, KEYS, starts[-1], starts[0], 10, WINDOWS), read_model.page_depth(10) + 1),
            "bounded, top 100": (lambda: read_model.page_ranking_in_range(
                conn, KEYS, starts[-1], starts[0], 100, WINDOWS), read_model.page_depth(100) + 1),
        }  # fmt: skip
        result = BenchResult("read_api", "requests/s")
        notes = []
        for name, (fn, per_window) in variants.items():
            measurement, dist, peak_mib = _measure(name, fn)
            result.measurements.append(measurement)
            result.latency[name] = dist
            notes.append(f"{name}: {WINDOWS * per_window:,} pages read, "
                         f"Python heap peak {peak_mib:,.1f} MiB")  # fmt: skip
        result.peak_tree_rss_mb = peak_rss_mb()
        result.notes = (f"{WINDOWS} windows x {PAGES:,} distinct pages in Redis; "
                        + "; ".join(notes))  # fmt: skip
        return result
    finally:
        conn.unlink(*conn.scan_iter(f"{KEYS.prefix}*"))
