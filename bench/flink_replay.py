"""Replay throughput of the Flink job on a generated file of raw events.

Variants, all in this process tree on the same file:
- the naive baseline: read the file in Python, validate each event and write Redis per event
  (the style of a simple Kafka-to-Redis consumer);
- a parse-only Flink scan (validation SQL, count the rows);
- the full replay (validate, dedupe, bots, sessions, windows, Redis).
"""

from __future__ import annotations

import os
import shutil
import sys
import time
import uuid
from pathlib import Path

import redis

from augury import events as contract
from augury.endpoints import Endpoints
from augury.redis_keys import Keys
from bench.harness import BenchResult, Measurement, TreeRss
from lambdas.clickgen import traffic
from lambdas.clickgen.config import GeneratorConfig

DATA_DIR = Path(__file__).parent / "data"
EVENTS = int(os.environ.get("AUGURY_BENCH_EVENTS", "2000000"))
RATE = 2000


def input_file(events: int = EVENTS) -> tuple[Path, int]:
    """A cached NDJSON file of about ``events`` generated records (and its line count)."""
    path = DATA_DIR / f"replay-{events}.ndjson"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        cfg = GeneratorConfig(rate=RATE, seed=11)
        start = (int(time.time() * 1000) // 60_000 - 24 * 60) * 60_000
        seconds = events // RATE
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            for chunk in range(0, seconds, 60):
                w = traffic.generate(
                    cfg, start + chunk * 1000, start + min(seconds, chunk + 60) * 1000
                )
                fh.write(b"".join(r.data for r in w.records))
                print(f"[bench] generating {chunk}/{seconds}s", file=sys.stderr, flush=True)
        tmp.rename(path)
    with path.open("rb") as fh:
        lines = sum(1 for _ in fh)
    return path, lines


def naive(path: Path, lines: int, limit: int) -> Measurement:
    """Python reads, validates and writes Redis one event at a time (first ``limit`` lines)."""
    conn = redis.Redis.from_url(Endpoints.local().redis_url)
    keys = Keys(f"augury:bench:{uuid.uuid4().hex[:6]}:")
    now = int(time.time() * 1000)
    start = time.perf_counter()
    with path.open("rb") as fh:
        for n, line in enumerate(fh):
            if n >= limit:
                break
            ev = contract.validate(line, now)
            if isinstance(ev, contract.ClickEvent):
                ws = ev.event_time_ms - ev.event_time_ms % 60_000
                conn.hincrby(keys.window(ws), "events", 1)
                conn.hincrby(keys.window(ws), f"evt:{ev.client_event}", 1)
    seconds = time.perf_counter() - start
    for key in conn.scan_iter(f"{keys.prefix}*"):
        conn.delete(key)
    return Measurement("naive Python per-event (baseline)", min(limit, lines), seconds)


def flink(path: Path, lines: int, parse_only: bool) -> Measurement:
    """The Flink job (or only its validation scan) over the whole file."""
    from flink_app import job, settings

    prefix = f"augury:bench:{uuid.uuid4().hex[:6]}:"
    s = settings.load(flags={"source.type": "files", "source.input.path": str(path),
                             "sink.redis.key.prefix": prefix,
                             "sink.redis.url": Endpoints.local().redis_url})  # fmt: skip
    start = time.perf_counter()
    t_env = job.table_env(s, batch=True)
    if parse_only:
        from flink_app import sql

        t_env.execute_sql(
            "CREATE TEMPORARY TABLE raw_events (line STRING) WITH ("
            f"'connector'='filesystem', 'path'='{path}', 'format'='raw')"
        )
        t_env.execute_sql("CREATE TEMPORARY TABLE sink (n BIGINT) WITH ('connector'='blackhole')")
        parsed = sql.validated_select("raw_events", str(int(time.time() * 1000)))
        t_env.execute_sql(
            f"INSERT INTO sink SELECT COUNT(*) FROM ({parsed}) WHERE reason IS NULL"
        ).wait()
        label = "Flink parse-only scan"
    else:
        dead = DATA_DIR / f"dead-{uuid.uuid4().hex[:6]}"
        job.add_replay(t_env, s, str(path), str(dead)).execute().wait()
        shutil.rmtree(dead, ignore_errors=True)
        label = "Flink replay (end to end)"
    seconds = time.perf_counter() - start
    conn = redis.Redis.from_url(s.redis_url)
    for key in conn.scan_iter(f"{prefix}*", count=1000):
        conn.delete(key)
    return Measurement(label, lines, seconds)


def run() -> BenchResult:
    """Naive baseline, parse-only scan and full replay on one file."""
    path, lines = input_file()
    result = BenchResult("flink_replay", "events/s", notes=f"{lines} events in {path.name}")
    result.measurements.append(naive(path, lines, limit=min(lines, 200_000)))
    result.measurements.append(flink(path, lines, parse_only=True))
    with TreeRss() as rss:
        result.measurements.append(flink(path, lines, parse_only=False))
    result.peak_tree_rss_mb = round(rss.peak_mb, 1)
    result.notes += f"; peak RSS of the replay's process tree (JVM included): {rss.peak_mb:.0f} MiB"
    return result
