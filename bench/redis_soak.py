"""Redis memory over time at a constant write rate: flat with the sorted sets trimmed.

The job's writer (the Java sink's, driven by ``flink_app.redis_sink.SinkWriter``) writes
sessions and windows at a constant rate, with a short retention, for a few retention periods;
``used_memory`` is sampled throughout. Baseline: the same writer with the trimming switched off
(what the job did before), whose sorted sets keep every member although their hashes expire.
Reported: the memory slope over the second half of each run (bytes per second), and the final
``used_memory`` of each.
"""

from __future__ import annotations

import sys
import time
import uuid

import redis

from augury.endpoints import Endpoints
from augury.redis_keys import Keys
from bench.harness import BenchResult, Measurement
from flink_app.redis_sink import SinkWriter, core

RETENTION_S = 10
RUN_S = 45
SESSIONS_PER_S = 2_000
BATCHES_PER_S = 10
USERS = 5_000
SAMPLE_EVERY_S = 1.0


def slope(samples: list[tuple[float, int]]) -> float:
    """Least-squares slope (bytes per second) of ``(seconds, used_memory)`` samples."""
    n = len(samples)
    if n < 2:
        return 0.0
    mean_t = sum(t for t, _ in samples) / n
    mean_m = sum(m for _, m in samples) / n
    var = sum((t - mean_t) ** 2 for t, _ in samples)
    cov = sum((t - mean_t) * (m - mean_m) for t, m in samples)
    return cov / var if var else 0.0


def soak(trim: bool, label: str) -> tuple[Measurement, dict[str, float]]:
    """Write at the constant rate for RUN_S; the measurement and the memory figures.

    ``trim`` off: the writer as it was, whose sorted sets only ever grow (their hashes expire).
    """
    url = Endpoints.local().redis_url
    conn = redis.Redis.from_url(url)
    keys = Keys(f"augury:bench:soak:{uuid.uuid4().hex[:8]}:")
    writer = SinkWriter(url, keys, ttl_s=RETENTION_S, trim=trim)
    per_batch = SESSIONS_PER_S // BATCHES_PER_S
    samples: list[tuple[float, int]] = []
    start = time.monotonic()
    next_sample = start
    written = n = 0
    while (elapsed := time.monotonic() - start) < RUN_S:
        now_ms = int(time.time() * 1000)
        rows = []
        for _ in range(per_batch):
            n += 1
            rows.append((f"user-{n % USERS}", "d", now_ms - 1_000, now_ms, 3, "a", "b", "BE"))
        writer.sessions(rows)
        writer.windows([core(now_ms - now_ms % 1_000, True, n, n, 0)])  # a window per second
        written += per_batch
        if time.monotonic() >= next_sample:
            used = int(conn.info("memory")["used_memory"])
            samples.append((elapsed, used))
            next_sample += SAMPLE_EVERY_S
            print(f"[bench] {label}: {elapsed:4.0f} s, used_memory {used / 2**20:6.1f} MiB",
                  file=sys.stderr, flush=True)  # fmt: skip
        time.sleep(max(0.0, start + written / SESSIONS_PER_S - time.monotonic()))
    seconds = time.monotonic() - start
    writer.close()
    second_half = [s for s in samples if s[0] >= RUN_S / 2]
    figures = {"slope_bytes_per_s": round(slope(second_half)),
               "final_used_memory_mb": round(samples[-1][1] / 2**20, 1),
               "sessions_listed": int(conn.zcard(keys.sessions))}  # fmt: skip
    for key in conn.scan_iter(f"{keys.prefix}*", count=1000):
        conn.delete(key)
    return Measurement(label, written, seconds), figures


def run() -> BenchResult:
    """The untrimmed baseline, then the job's writer, each for RUN_S at the same rate."""
    result = BenchResult("redis_soak", "sessions/s")
    figures: dict[str, dict[str, float]] = {}
    for trim, label in ((False, "untrimmed (baseline)"), (True, "trimmed")):
        measurement, figures[label] = soak(trim, label)
        result.measurements.append(measurement)
    base, trimmed = figures["untrimmed (baseline)"], figures["trimmed"]
    result.notes = (
        f"{SESSIONS_PER_S} sessions/s for {RUN_S} s, retention {RETENTION_S} s, {USERS} users. "
        f"Memory slope over the second half: untrimmed {base['slope_bytes_per_s']:,.0f} B/s, "
        f"trimmed {trimmed['slope_bytes_per_s']:,.0f} B/s; sessions still listed at the end: "
        f"{base['sessions_listed']:,.0f} vs {trimmed['sessions_listed']:,.0f}; final used_memory "
        f"{base['final_used_memory_mb']} vs {trimmed['final_used_memory_mb']} MiB."
    )
    print(f"[bench] {result.notes}", file=sys.stderr)
    return result
