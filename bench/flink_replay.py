"""Replay throughput of the Flink job on generated files of raw events.

Variants, all in this process tree on the same file:
- the baseline: a parse-only Flink scan (the job's source and validate stages, counted into a
  blackhole): what reading and judging every record costs, start-up included;
- the full replay (validate, dedupe, bots, sessions, windows, totals, Redis); the target is at
  most twice the scan's time. Each Flink variant runs in a Python process of its own, so each
  starts its own JVM cold (neither inherits the other's warmed-up code);
- DuckDB doing the same stages on the same file (``bench/duckdb_replay.py``), without Redis.

Each file is generated once (``bench/data/``): 2 million events for ``flink_replay`` (or
``AUGURY_BENCH_EVENTS``), 10 million for ``flink_replay_10m`` (where start-up weighs less).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import redis

from augury import env as env_names
from augury.endpoints import Endpoints
from augury.settings import MINUTE_MS
from bench import duckdb_replay
from bench.harness import BenchResult, Measurement, TreeRss
from lambdas.clickgen import traffic
from lambdas.clickgen.config import GeneratorConfig

DATA_DIR = Path(__file__).parent / "data"
EVENTS = int(os.environ.get(env_names.BENCH_EVENTS, "2000000"))
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


def flink(path: Path, lines: int, parse_only: bool) -> Measurement:
    """The Flink job (or only its source and validate stages) over the whole file."""
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
        label = "Flink parse-only scan (baseline)"
    else:
        job.build(t_env, s, job.REPLAY, str(dead), input_path=str(path)).execute().wait()
        label = "Flink replay, end to end"
    seconds = time.perf_counter() - start
    shutil.rmtree(dead, ignore_errors=True)
    conn = redis.Redis.from_url(s.redis_url)
    for key in conn.scan_iter(f"{prefix}*", count=1000):
        conn.delete(key)
    return Measurement(label, lines, seconds)


def _on_its_own(path: Path, lines: int, parse_only: bool) -> Measurement:
    """:func:`flink` in a Python process (and so a JVM) of its own."""
    variant = "scan" if parse_only else "replay"
    done = subprocess.run([sys.executable, "-m", "bench.flink_replay", variant, str(path),
                           str(lines)], stdout=subprocess.PIPE, text=True, check=True)  # fmt: skip
    return Measurement(**json.loads(done.stdout.strip().splitlines()[-1]))


def run(events: int = EVENTS) -> BenchResult:
    """Parse-only scan, full replay and DuckDB on one file of about ``events`` events."""
    path, lines = input_file(events)
    name = "flink_replay" if events == EVENTS else f"flink_replay_{events // 1_000_000}m"
    result = BenchResult(name, "events/s", notes=f"{lines} events in {path.name}")
    print(f"[bench] parse-only scan of {path.name}", file=sys.stderr, flush=True)
    result.measurements.append(_on_its_own(path, lines, parse_only=True))
    print("[bench] full replay", file=sys.stderr, flush=True)
    with TreeRss() as rss:
        result.measurements.append(_on_its_own(path, lines, parse_only=False))
    print("[bench] DuckDB", file=sys.stderr, flush=True)
    duck = duckdb_replay.replay(path)
    result.measurements.append(Measurement("DuckDB, the same stages (no Redis)", lines,
                                           duck["seconds"]))  # fmt: skip
    scan, full = result.measurements[0].seconds, result.measurements[1].seconds
    result.peak_tree_rss_mb = round(rss.peak_mb, 1)
    result.notes += (
        f"; replay / scan time {full / scan:.2f} (target <= 2.0); replay / DuckDB time "
        f"{full / duck['seconds']:.2f}; peak RSS of the replay's process tree (JVM included): "
        f"{rss.peak_mb:.0f} MiB"
    )
    return result


if __name__ == "__main__":  # one Flink variant: python -m bench.flink_replay scan|replay FILE LINES
    _, which, file, count = sys.argv
    m = flink(Path(file), int(count), parse_only=which == "scan")
    print(json.dumps({"name": m.name, "items": m.items, "seconds": m.seconds}))
