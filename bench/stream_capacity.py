"""Streaming capacity: the highest rate the job sustains with early results still fresh.

The job streams from the ``augury-traffic`` source (Java, in the job's jar): the generator's
traffic model (``lambdas/clickgen/traffic.py``: users, sessions, bots, duplicates, malformed and
late events), generated once into a pool and replayed at a set rate as if sent now, with no
emulator in the way. Every 100 ms the source also sends a probe, a valid event whose page is
``/probe/<send time>``; a poller reads the windows' page counts every 50 ms, so each probe's
**early** freshness is when its page first shows, and its **final** freshness when its window's
``final`` flag does (against the window's end plus the watermark delay, the earliest a final can
be right). Checkpoints are on (every 10 s) throughout.

Variants, in this process tree on the same pool:
- the baseline: a pass-through job, the same source into a blackhole (the contract's parse only);
- the job unpaced (as fast as it goes): its throughput, an upper bound;
- paced runs, searching the highest rate whose early results stay within the target (p99 at most
  3 s) while the job keeps up (at least 97 % of the rate read);
- the job at half that rate, longer, for early and final freshness.
"""

from __future__ import annotations

import os
import struct
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from augury import env as env_names
from augury.endpoints import Endpoints
from augury.redis_keys import Keys
from augury.settings import MINUTE_MS
from bench.harness import BenchResult, Measurement, TreeRss, latency_stats, percentile
from lambdas.clickgen import traffic
from lambdas.clickgen.config import GeneratorConfig

DATA_DIR = Path(__file__).parent / "data"
POOL_RATE = 20_000
POOL_SECONDS = int(os.environ.get(env_names.BENCH_POOL_SECONDS, "60"))
EARLY_P99_TARGET_S = 3.0
KEEP_UP = 0.97
PROBE_MS = 100
PROBE_PAGE = "/probe/"
HALF_S = 240  # four one-minute windows close
# The JVM of this process's runs: the pool (about 350 MB) and ten minutes of dedupe state at
# tens of thousands of events/s do not fit the local streaming job's default heap.
CAPACITY_JVM_ARGS = "-XX:+UseParallelGC -Xmx6g"


def pool_frame(send_ms: int, data: bytes) -> bytes:
    """One record as the ``augury-traffic`` source reads it: send time, length, bytes."""
    return struct.pack(">qi", send_ms, len(data)) + data


def pool_file(rate: int = POOL_RATE, seconds: int = POOL_SECONDS) -> tuple[Path, int]:
    """The generator's traffic for ``seconds`` at ``rate``, as the source's frames; cached."""
    path = DATA_DIR / f"traffic-{rate}-{seconds}.pool"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        cfg = GeneratorConfig(rate=rate, seed=23)
        start = (int(time.time() * 1000) // MINUTE_MS - 60) * MINUTE_MS
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            for chunk in range(0, seconds, 10):
                window = traffic.generate(cfg, start + chunk * 1000,
                                          start + min(seconds, chunk + 10) * 1000)  # fmt: skip
                fh.writelines(pool_frame(r.emit_ms, r.data) for r in window.records)
                print(f"[bench] generating the traffic pool: {chunk}/{seconds} s",
                      file=sys.stderr, flush=True)  # fmt: skip
        tmp.rename(path)
    count = 0
    with path.open("rb") as fh:
        while header := fh.read(12):
            _, length = struct.unpack(">qi", header)
            fh.seek(length, os.SEEK_CUR)
            count += 1
    return path, count


@dataclass
class Run:
    """One run's figures."""

    rate: float
    seconds: float
    sent: list[tuple[int, int]] = field(default_factory=list)  # (ms, records sent so far)
    early_s: list[float] = field(default_factory=list)
    final_s: list[float] = field(default_factory=list)

    def achieved(self, skip_s: float) -> float:
        """Records per second over the run after its first ``skip_s`` seconds."""
        if len(self.sent) < 2:
            return 0.0
        t0 = self.sent[0][0] + skip_s * 1000
        steady = [p for p in self.sent if p[0] >= t0] or self.sent[-2:]
        (a_ms, a_n), (b_ms, b_n) = steady[0], steady[-1]
        return (b_n - a_n) / ((b_ms - a_ms) / 1000) if b_ms > a_ms else 0.0


def _progress(path: Path) -> list[tuple[int, int]]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        ms, n = line.split()
        out.append((int(ms), int(n)))
    return out


class _Poller(threading.Thread):
    """Every 50 ms: which probes show in the windows' pages, and which windows are final."""

    def __init__(self, conn: Any, keys: Keys, window_ms: int, delay_ms: int) -> None:
        super().__init__(daemon=True)
        self.conn, self.keys, self.window_ms, self.delay_ms = conn, keys, window_ms, delay_ms
        self.seen: dict[int, int] = {}  # probe send ms -> first seen ms
        self.final_at: dict[int, int] = {}  # window start -> first seen final ms
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.05):
            now = int(time.time() * 1000)
            current = now - now % self.window_ms
            starts = [current - i * self.window_ms for i in range(3)]
            pipe = self.conn.pipeline(transaction=False)
            for ws in starts:
                pipe.zscan(self.keys.window_pages(ws), 0, match=f"{PROBE_PAGE}*", count=100_000)
                pipe.hget(self.keys.window(ws), "final")
            replies = pipe.execute()
            seen_ms = int(time.time() * 1000)
            for i, ws in enumerate(starts):
                for page, _ in replies[2 * i][1]:
                    sent = int(page.removeprefix(PROBE_PAGE))
                    self.seen.setdefault(sent, seen_ms)
                if replies[2 * i + 1] == "1":
                    self.final_at.setdefault(ws, seen_ms)

    def figures(self, since_ms: int) -> tuple[list[float], list[float]]:
        """(early seconds per probe, final seconds past end + delay per window) from ``since_ms``.

        A window is final for all its probes at once: its final freshness is one figure.
        """
        early = [(seen - sent) / 1000 for sent, seen in self.seen.items() if sent >= since_ms]
        windows = {sent - sent % self.window_ms for sent in self.seen if sent >= since_ms}
        final = [(self.final_at[ws] - (ws + self.window_ms + self.delay_ms)) / 1000
                 for ws in sorted(windows) if ws in self.final_at]  # fmt: skip
        return early, final


def run_job(pool: Path, rate: float, seconds: float, full: bool = True, warmup_s: float = 10.0,
            count: int = 0) -> Run:  # fmt: skip
    """The job (or the pass-through baseline) from the pool at ``rate`` for ``seconds``."""
    from flink_app import job, settings

    endpoints = Endpoints.local()
    prefix = f"augury:bench:cap:{uuid.uuid4().hex[:6]}:"
    with tempfile.TemporaryDirectory(prefix="augury-capacity-") as scratch:
        work = Path(scratch)
        progress = work / "progress"
        s = settings.load(flag_values={
            "source.type": "traffic", "source.input.path": str(pool),
            "source.traffic.rate": round(rate), "source.traffic.probe.interval.ms": PROBE_MS,
            "source.traffic.progress.path": str(progress), "source.traffic.count": count,
            "sink.redis.key.prefix": prefix, "sink.redis.url": endpoints.redis_url,
            "job.checkpoint.interval.seconds": 10, "job.checkpoint.dir": str(work / "chk"),
        })  # fmt: skip
        t_env = job.table_env(s, batch=False, jvm_args=CAPACITY_JVM_ARGS)
        job.configure_stream(t_env, s)
        conn = redis.Redis.from_url(endpoints.redis_url, decode_responses=True)
        poller = _Poller(conn, Keys(prefix), s.pipeline.window_ms, s.pipeline.watermark_delay_ms)
        if full:
            statements = job.build(t_env, s, job.STREAM, str(work / "dead"))
        else:  # the baseline: the same source, parsed, into a blackhole
            params = job.parameters(s, job.STREAM, str(work / "dead"))
            for stage in ("source", "validate"):
                job.apply(t_env, stage, job.STREAM, params)
            t_env.execute_sql(
                "CREATE TEMPORARY TABLE pass (n BIGINT) WITH ('connector' = 'blackhole')"
            )
            statements = t_env.create_statement_set()
            statements.add_insert_sql("INSERT INTO pass SELECT event_time_ms FROM parsed")
        started = time.time()
        result = statements.execute()
        poller.start()
        try:
            if count:
                result.wait()
            else:
                time.sleep(seconds)
        finally:
            poller.stop.set()
            client = result.get_job_client()
            if client is not None and not count:
                client.cancel().result()
        figures = Run(rate, time.time() - started, _progress(progress))
        since = figures.sent[0][0] + int(warmup_s * 1000) if figures.sent else 0
        figures.early_s, figures.final_s = poller.figures(since)
        for key in conn.scan_iter(f"{prefix}*", count=1000):
            conn.delete(key)
    return figures


def fresh(run: Run, warmup_s: float) -> bool:
    """Whether the run kept up with its rate and its early results stayed within the target."""
    p99 = percentile(run.early_s, 99) if run.early_s else float("inf")
    return run.achieved(warmup_s) >= KEEP_UP * run.rate and p99 <= EARLY_P99_TARGET_S


def run() -> BenchResult:
    """Baseline, unpaced job, the capacity search, and freshness at half the capacity."""
    pool, records = pool_file()
    cores = os.cpu_count() or 1
    # the pass-through writes no results: the latencies are against the targets, not a baseline
    result = BenchResult("stream_capacity", "events/s", latency_baseline=False)
    print(f"[bench] pass-through baseline ({records} records in the pool)", file=sys.stderr)
    base = run_job(pool, 0, 40, full=False)
    result.measurements.append(Measurement("pass-through (source, parse, blackhole)",
                                           int(base.achieved(10) * 30), 30))  # fmt: skip
    print(f"[bench] baseline {base.achieved(10):,.0f}/s; the job unpaced", file=sys.stderr)
    unpaced = run_job(pool, 0, 40)
    upper = unpaced.achieved(10)
    result.measurements.append(Measurement("the job, unpaced", int(upper * 30), 30))
    low, high, best = 0.0, upper, None
    for attempt in range(4):  # bisect the rate between what passed and what did not
        rate = upper * 0.9 if attempt == 0 else (low + high) / 2
        print(f"[bench] the job at {rate:,.0f}/s", file=sys.stderr, flush=True)
        paced = run_job(pool, rate, 45)
        ok = fresh(paced, 15)
        print(f"[bench]   read {paced.achieved(15):,.0f}/s, early p99 "
              f"{latency_stats(paced.early_s).get('p99_s')} s: {'fresh' if ok else 'not fresh'}",
              file=sys.stderr, flush=True)  # fmt: skip
        if ok:
            low, best = rate, paced
        else:
            high = rate
    capacity = low
    if best is not None:
        result.measurements.append(
            Measurement("the job, highest fresh rate", int(capacity * 30), 30)
        )
    half = capacity / 2 or upper / 4
    print(f"[bench] freshness at half the capacity: {half:,.0f}/s for {HALF_S} s",
          file=sys.stderr)  # fmt: skip
    with TreeRss() as rss:
        at_half = run_job(pool, half, HALF_S)
    result.peak_tree_rss_mb = round(rss.peak_mb, 1)
    result.latency = {
        f"early result after its event (probes), at {half:,.0f}/s": latency_stats(at_half.early_s),
        f"final result after its window's end + delay (windows), at {half:,.0f}/s": latency_stats(
            at_half.final_s
        ),
    }
    result.notes = (
        f"{cores} cores; pool of {records} records ({POOL_SECONDS} s of the traffic model at "
        f"{POOL_RATE}/s); capacity {capacity:,.0f} events/s = {capacity / cores:,.0f} per core "
        f"(early p99 <= {EARLY_P99_TARGET_S} s, reading >= {KEEP_UP:.0%} of the rate); "
        f"pass-through {base.achieved(10):,.0f}/s; unpaced {upper:,.0f}/s; peak RSS of this "
        f"process tree (one JVM for every run) during the run at half the capacity "
        f"{rss.peak_mb:,.0f} MiB; probes seen in Redis at half the capacity: "
        f"{len(at_half.early_s)} of about {(at_half.seconds - 10) * 1000 / PROBE_MS:,.0f} sent "
        f"after the warm-up (a probe never seen is not in the percentiles)"
    )
    return result
