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

from augury import env as env_names
from augury import events as contract
from augury.endpoints import Endpoints
from augury.redis_keys import EVENT_FIELD_PREFIX, Keys
from augury.settings import MINUTE_MS, PipelineSettings
from bench.harness import BenchResult, Measurement, TreeRss
from lambdas.clickgen import traffic
from lambdas.clickgen.config import GeneratorConfig

DATA_DIR = Path(__file__).parent / "data"
EVENTS = int(os.environ.get(env_names.BENCH_EVENTS, "2000000"))
SETTINGS = PipelineSettings.from_env()
RATE = 2000


def input_file(events: int = EVENTS) -> tuple[Path, int]:
    """A cached NDJSON file of about ``events`` generated records (and its line count)."""
    path = DATA_DIR / f"replay-{events}.ndjson"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        cfg = GeneratorConfig(rate=RATE, seed=11)
        start = (int(time.time() * 1000) // MINUTE_MS - 24 * 60) * MINUTE_MS
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
                ws = ev.event_time_ms - ev.event_time_ms % SETTINGS.window_ms
                conn.hincrby(keys.window(ws), "events", 1)
                conn.hincrby(keys.window(ws), EVENT_FIELD_PREFIX + ev.client_event, 1)
    seconds = time.perf_counter() - start
    for key in conn.scan_iter(f"{keys.prefix}*"):
        conn.delete(key)
    return Measurement("naive Python per-event (baseline)", min(limit, lines), seconds)


def flink(path: Path, lines: int, parse_only: bool) -> Measurement:
    """The Flink job (or only its validation scan) over the whole file."""
    from flink_app import job, settings

    prefix = f"augury:bench:{uuid.uuid4().hex[:6]}:"
    s = settings.load(flag_values={"source.type": "files", "source.input.path": str(path),
                                   "sink.redis.key.prefix": prefix,
                                   "sink.redis.url": Endpoints.local().redis_url})  # fmt: skip
    start = time.perf_counter()
    t_env = job.table_env(s, batch=True)
    dead = DATA_DIR / f"dead-{uuid.uuid4().hex[:6]}"
    if parse_only:  # the job's first two stages, counted into a blackhole
        params = job.parameters(s, job.REPLAY, str(dead), str(path))
        for stage in ("source", "validate"):
            job.apply(t_env, stage, job.REPLAY, params)
        t_env.execute_sql("CREATE TEMPORARY TABLE sink (n BIGINT) WITH ('connector'='blackhole')")
        t_env.execute_sql("INSERT INTO sink SELECT COUNT(*) FROM valid").wait()
        label = "Flink parse-only scan"
    else:
        job.build(t_env, s, job.REPLAY, str(dead), input_path=str(path)).execute().wait()
        label = "Flink replay (end to end)"
    shutil.rmtree(dead, ignore_errors=True)
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
