"""The job's Redis writer (Java) against what the Redis server itself takes, on the same server.

Baseline: ``redis-benchmark -P 50`` (pipelines of 50 commands, one connection per client) with
HSET and ZADD, the commands the writer sends most. Variants: the job's writer
(``io.augury.flink.redis``, run by ``RedisWriterCli --bench``, in batches of 5 000 rows as the
sink flushes them) writing closed sessions (a hash, two index entries, TTLs, trims and the
window's session count: about five commands a row) and window fields (one field or page count a
row, raised by a Lua script per window).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
import uuid
from urllib.parse import urlsplit

import redis

from augury.endpoints import Endpoints
from augury.redis_keys import Keys
from bench.harness import BenchResult, Measurement
from flink_app.redis_sink import command

ROWS = 300_000
BENCH_COMMANDS = 1_000_000


def redis_benchmark(url: str, tests: str = "hset,zadd") -> dict[str, float]:
    """Requests per second of ``redis-benchmark -P 50`` for each of ``tests``."""
    binary = shutil.which("redis-benchmark")
    if binary is None:
        raise FileNotFoundError(
            "redis-benchmark is not on PATH (Debian: apt-get install redis-tools)"
        )
    parts = urlsplit(url)
    out = subprocess.run(
        [binary, "-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 6379),
         "-P", "50", "-n", str(BENCH_COMMANDS), "-r", "100000", "-t", tests, "--csv"],
        capture_output=True, text=True, check=True, timeout=600,
    ).stdout  # fmt: skip
    rates = {}
    for row in csv.reader(io.StringIO(out)):
        if row and row[0] != "test":
            rates[row[0].split()[0].lower()] = float(row[1])
    return rates


def writer(url: str, kind: str, rows: int, streaming: bool) -> tuple[float, int]:
    """(seconds, rows) of the job's writer writing ``rows`` generated rows of ``kind``."""
    keys = Keys(f"augury:bench:sink:{uuid.uuid4().hex[:6]}:")
    cmd = command(url, keys, 600, streaming, bench=kind, rows=rows, batch=5000)
    done = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True,
                                     timeout=600).stdout)  # fmt: skip
    conn = redis.Redis.from_url(url)
    for key in conn.scan_iter(f"{keys.prefix}*", count=1000):
        conn.delete(key)
    return float(done["seconds"]), int(done["rows"])


def run() -> BenchResult:
    """redis-benchmark's HSET and ZADD, then the writer's sessions and window fields."""
    url = Endpoints.local().redis_url
    result = BenchResult("redis_sink", "rows/s")
    rates = redis_benchmark(url)
    print(f"[bench] redis-benchmark -P 50: {rates}", file=sys.stderr)
    hset = rates["hset"]
    result.measurements.append(Measurement("redis-benchmark -P 50 HSET (baseline, commands)",
                                           BENCH_COMMANDS, BENCH_COMMANDS / hset))  # fmt: skip
    zadd = rates["zadd"]
    result.measurements.append(Measurement("redis-benchmark -P 50 ZADD (commands)",
                                           BENCH_COMMANDS, BENCH_COMMANDS / zadd))  # fmt: skip
    for kind, label in (
        ("sessions", "job writer: sessions"),
        ("windows", "job writer: window fields"),
    ):
        seconds, rows = writer(url, kind, ROWS, streaming=True)
        print(f"[bench] {label}: {rows / seconds:,.0f} rows/s", file=sys.stderr)
        result.measurements.append(Measurement(label, rows, seconds))
    result.notes = (
        f"{ROWS} rows per writer variant in batches of 5 000 (streaming rules); redis-benchmark "
        f"with {BENCH_COMMANDS} requests, 50 clients, pipelines of 50, 100 000 random keys; "
        "a session row is about five commands (HSET, EXPIRE, two ZADD, EXPIRE; trims and the "
        "window's session count per batch)"
    )
    return result
