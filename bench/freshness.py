"""End-to-end freshness: from an event's production until Redis shows it, early and final.

At the highest rate the local Kinesis (LocalStack) sustains, measured first, a producer puts
valid, unique, human events (event time = production time) into a stream of the benchmark's
own; the streaming job (``python -m flink_app run``) reads it into Redis under its own key
prefix while a poller reads the windows every 100 ms. An event is visible **early** at the
first poll whose window count includes it (the k-th event of a window once ``events`` >= k),
and **final** when its window has ``final`` = 1; after the measured traffic the same traffic
goes on, unmeasured, until the last window's end + delay has passed, so every window closes as
a live stream closes it. The baseline, in the same process tree and
on the same stream, is a plain Kinesis consumer polling like the connector does (200 ms): how
long the same events take to be readable at all. The peak memory of the whole local stack
(LocalStack, Redis, the job's Python client and JVM, this process) is sampled every second.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from augury import env as env_names
from augury import events as contract
from augury.endpoints import Endpoints
from augury.redis_keys import Keys
from augury.settings import PipelineSettings
from bench.harness import BenchResult, Measurement, latency_stats, tree_rss_mb

SETTINGS = PipelineSettings.from_env()
"""The job runs with these (the environment's), and the bench reads them."""
WINDOW_MS = SETTINGS.window_ms
TRAFFIC_S = float(os.environ.get(env_names.BENCH_FRESHNESS_SECONDS, "150"))
PROBE_S = 5.0
BATCH = 500
USERS = 100_000  # so that no user comes near the bot threshold (10 events in a second)
CLOSE_AFTER_MS = 4_000  # how long the traffic goes on past the last window's end + delay
STATE = Path(__file__).resolve().parents[1] / ".local" / "state" / "bench"


def _event(user: int, now_ms: int) -> tuple[str, bytes]:
    event_id = str(uuid.uuid4())
    doc = {"event_id": event_id, "user_id": f"bench-{user:06d}", "device_id": "bench",
           "client_event": "page_view", "client_timestamp": contract.format_timestamp(now_ms),
           "countrycode": "BE", "page_url": "/bench"}  # fmt: skip
    return event_id, contract.encode(doc)


@dataclass
class Produced:
    """What the producers put: each event's production time by id, and per window."""

    sent_ms: dict[str, int] = field(default_factory=dict)
    by_window: dict[int, list[int]] = field(default_factory=dict)
    count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def stamp(self, ids: list[str], now_ms: int) -> None:
        """Note the send time before the put: a consumer may read the events before it returns."""
        with self.lock:
            for eid in ids:
                self.sent_ms[eid] = now_ms

    def add(self, ids: list[str], now_ms: int) -> None:
        """Count the events Kinesis accepted (the poller reads this while it grows)."""
        with self.lock:
            window = self.by_window.setdefault(now_ms // WINDOW_MS * WINDOW_MS, [])
            window.extend([now_ms] * len(ids))
            self.count += len(ids)

    def windows(self) -> list[int]:
        """The windows written to so far."""
        with self.lock:
            return list(self.by_window)


def put_batch(kinesis: Any, stream: str, produced: Produced | None, user: int,
              size: int = BATCH) -> int:  # fmt: skip
    """One PutRecords of ``size`` events stamped now; the records accepted."""
    now_ms = int(time.time() * 1000)
    batch = [_event((user + i) % USERS, now_ms) for i in range(size)]
    if produced is not None:
        produced.stamp([eid for eid, _ in batch], now_ms)
    got = kinesis.put_records(StreamName=stream, Records=[
        {"Data": data, "PartitionKey": eid} for eid, data in batch])  # fmt: skip
    ok = [eid for (eid, _), r in zip(batch, got["Records"], strict=True) if "ErrorCode" not in r]
    if produced is not None:
        produced.add(ok, now_ms)
    return len(ok)


def _parallel(producers: int, work: Any) -> None:
    threads = [threading.Thread(target=work, args=(i,)) for i in range(producers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def max_put_rate(endpoints: Endpoints, stream: str) -> tuple[int, float]:
    """(producers, records/s): the most the stream takes with 1, 2 or 4 producers at full speed."""
    best = (1, 0.0)
    for producers in (1, 2, 4):
        rate = _full_speed(endpoints, stream, producers)
        print(f"[bench] {producers} producer(s): {rate:,.0f} records/s", file=sys.stderr)
        best = max(best, (producers, rate), key=lambda b: b[1])
    return best


def _full_speed(endpoints: Endpoints, stream: str, producers: int) -> float:
    counts = [0] * producers
    start = time.monotonic()

    def work(i: int) -> None:
        kinesis = endpoints.client("kinesis")
        while time.monotonic() - start < PROBE_S:
            counts[i] += put_batch(kinesis, stream, None, counts[i] + i * USERS // 4)

    _parallel(producers, work)
    return sum(counts) / (time.monotonic() - start)


def produce(endpoints: Endpoints, stream: str, producers: int, rate: float, seconds: float,
            produced: Produced) -> None:  # fmt: skip
    """Put up to ``rate`` events per second for ``seconds`` from ``producers`` paced threads.

    Batches are a tenth of a second of events, so event times are that fine; when Kinesis
    takes less, the producers fall behind and the achieved rate is what it sustained.
    """
    start = time.monotonic()
    share = rate / producers
    size = max(1, min(BATCH, round(share / 10)))

    def work(i: int) -> None:
        kinesis = endpoints.client("kinesis")
        sent = 0
        while (elapsed := time.monotonic() - start) < seconds:
            due = sent / share
            if due > elapsed:
                time.sleep(due - elapsed)
            sent += put_batch(kinesis, stream, produced, sent + i * USERS // 4, size)

    _parallel(producers, work)


def consume_baseline(kinesis: Any, stream: str, produced: Produced, stop: threading.Event,
                     latencies: list[float]) -> None:  # fmt: skip
    """Read the stream like the connector (GetRecords every 200 ms); put-to-read seconds."""
    shard = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    it = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard,
                                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]  # fmt: skip
    while not stop.is_set() and it:
        got = kinesis.get_records(ShardIterator=it, Limit=10_000)
        now_ms = int(time.time() * 1000)
        for record in got["Records"]:
            eid = record["PartitionKey"]
            sent_ms = produced.sent_ms.get(eid)
            if sent_ms is not None:
                latencies.append((now_ms - sent_ms) / 1000)
        it = got.get("NextShardIterator")
        if not got["Records"]:
            time.sleep(0.2)


def poll_windows(conn: Any, keys: Keys, produced: Produced, stop: threading.Event,
                 seen: dict[int, list[tuple[int, int, bool]]]) -> None:  # fmt: skip
    """Every 100 ms: (time, events, final) of every window the producer has written to."""
    while not stop.is_set():
        starts = produced.windows()
        pipe = conn.pipeline(transaction=False)
        for start in starts:
            pipe.hmget(keys.window(start), "events", "final")
        now_ms = int(time.time() * 1000)
        for start, (events, final) in zip(starts, pipe.execute(), strict=True):
            if events is not None:
                seen.setdefault(start, []).append((now_ms, int(events), final == "1"))
        time.sleep(0.1)


def visibility(produced: Produced, seen: dict[int, list[tuple[int, int, bool]]]
               ) -> tuple[list[float], list[float], list[float]]:  # fmt: skip
    """Per-event early and final freshness in seconds, and per-window closing delays.

    Events never visible are left out; a window's closing delay is how long after its end
    plus the watermark delay it was final.
    """
    early: list[float] = []
    final: list[float] = []
    closing: list[float] = []
    for start, sent in produced.by_window.items():
        polls = seen.get(start, [])
        final_at = next((t for t, _, f in polls if f), None)
        if final_at is not None:
            closing.append((final_at - start - WINDOW_MS - SETTINGS.watermark_delay_ms) / 1000)
        i = 0
        for k, sent_ms in enumerate(sorted(sent), start=1):
            while i < len(polls) and polls[i][1] < k:
                i += 1
            if i < len(polls):
                early.append((polls[i][0] - sent_ms) / 1000)
            if final_at is not None:
                final.append((final_at - sent_ms) / 1000)
    return early, final, closing


def _stack_pids() -> list[int]:
    from localplatform import localstack_host, redis_server
    from localplatform.config import PlatformConfig

    cfg = PlatformConfig.from_env()
    return [p for p in (localstack_host.running_pid(cfg), redis_server.running_pid(cfg)) if p]


def run() -> BenchResult:
    """Kinesis round trip (baseline) against early and final results in Redis."""
    from demo.runners import FlinkJob
    from localplatform.config import PlatformConfig

    endpoints = Endpoints.local()
    kinesis = endpoints.client("kinesis")
    run_id = uuid.uuid4().hex[:8]
    stream = f"augury-bench-{run_id}"
    keys = Keys(f"augury:bench:{run_id}:")
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=stream)
    run_dir = STATE / f"freshness-{run_id}"
    run_dir.mkdir(parents=True, exist_ok=True)
    conn = redis.Redis.from_url(endpoints.redis_url, decode_responses=True)
    peak = {"mb": 0.0}
    stop_rss = threading.Event()
    job: FlinkJob | None = None

    def sample_rss() -> None:
        while not stop_rss.wait(1.0):
            pids = [os.getpid(), *_stack_pids()] + ([job.proc.pid] if job else [])
            peak["mb"] = max(peak["mb"], sum(tree_rss_mb(p) for p in pids))

    threading.Thread(target=sample_rss, daemon=True).start()
    try:
        probe = f"{stream}-probe"
        kinesis.create_stream(StreamName=probe, ShardCount=1)
        kinesis.get_waiter("stream_exists").wait(StreamName=probe)
        try:
            producers, rate = max_put_rate(endpoints, probe)
        finally:
            kinesis.delete_stream(StreamName=probe, EnforceConsumerDeletion=True)
        skip_before = int(time.time() * 1000)
        job = FlinkJob(run_dir, endpoints.redis_url, endpoints.localstack_url or "", stream,
                       (f"sink.redis.key.prefix={keys.prefix}",
                        f"source.skip.arrived.before.ms={skip_before}"),
                       jobs_dir=PlatformConfig.from_env().jobs_dir, name="bench-flink")  # fmt: skip
        _wait_reading(kinesis, stream, conn, keys, job)
        produced = Produced()
        stop = threading.Event()
        baseline: list[float] = []
        seen: dict[int, list[tuple[int, int, bool]]] = {}
        threads = [
            threading.Thread(target=consume_baseline, args=(endpoints.client("kinesis"), stream,
                                                            produced, stop, baseline)),
            threading.Thread(target=poll_windows, args=(conn, keys, produced, stop, seen)),
        ]  # fmt: skip
        for t in threads:
            t.start()
        print(f"[bench] {TRAFFIC_S:.0f} s of traffic at up to {rate:,.0f} events/s",
              file=sys.stderr)  # fmt: skip
        started = time.perf_counter()
        produce(endpoints, stream, producers, rate, TRAFFIC_S, produced)
        traffic_s = time.perf_counter() - started
        # The site keeps sending, as a live one does: the same traffic, not measured, until the
        # last window's end + delay has passed by a few seconds, so that its watermark passes
        # the end the way it does for every other window (rather than by one late marker).
        end = (int(time.time() * 1000) // WINDOW_MS + 1) * WINDOW_MS
        end += SETTINGS.watermark_delay_ms + CLOSE_AFTER_MS
        after = Produced()
        produce(endpoints, stream, producers, rate, end / 1000 - time.time(), after)
        # An event counts in the totals once the watermark has passed its second: one marker,
        # sent when the delay has passed after the last event, moves it past every event sent.
        time.sleep((SETTINGS.watermark_delay_ms + 2_000) / 1000)
        _, marker = _event(0, int(time.time() * 1000))
        kinesis.put_record(StreamName=stream, Data=marker, PartitionKey="marker")
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            job.check()
            if all(any(f for _, _, f in seen.get(w, [])) for w in produced.windows()):
                break
            time.sleep(1)
        stop.set()
        for t in threads:
            t.join(timeout=30)
        early, final, closing = visibility(produced, seen)
        settle = time.monotonic() + 30  # the totals aggregate may trail the windows a little
        while int(conn.hget(keys.totals, "accepted") or 0) < produced.count + after.count:
            if time.monotonic() > settle:
                break
            time.sleep(1)
        accepted = int(conn.hget(keys.totals, "accepted") or 0) - after.count
    finally:
        stop_rss.set()
        if job is not None:
            job.stop()
        kinesis.delete_stream(StreamName=stream, EnforceConsumerDeletion=True)
        for key in conn.scan_iter(f"{keys.prefix}*", count=1000):
            conn.delete(key)
    result = BenchResult("freshness", "events/s")
    result.measurements.append(Measurement(f"Kinesis put, {producers} producer(s) (max)",
                                           round(rate * PROBE_S), PROBE_S))  # fmt: skip
    result.measurements.append(Measurement("sustained while the job reads", produced.count,
                                           traffic_s))  # fmt: skip
    result.measurements.append(Measurement("accepted by the job", accepted, traffic_s))
    result.latency = {
        "Kinesis put to read (baseline)": latency_stats(baseline),
        "early result in Redis": latency_stats(early),
        "final result in Redis": latency_stats(final),
        "final result after its window's end + delay (windows)": latency_stats(closing),
    }
    result.peak_tree_rss_mb = round(peak["mb"], 1)
    result.notes = (
        f"{produced.count} events over {traffic_s:.0f} s into a 1-shard LocalStack stream; "
        f"windows {WINDOW_MS // 1000} s, early results written every "
        f"{SETTINGS.early_fire_ms} ms, watermark delay "
        f"{SETTINGS.watermark_delay_ms // 1000} s; peak memory is the RSS of the whole local "
        "stack (LocalStack, Redis, the job's Python client and JVM, this process)"
    )
    return result


def _wait_reading(kinesis: Any, stream: str, conn: Any, keys: Keys, job: Any) -> None:
    """Put one invalid probe every 3 s until the job counts it (the job is reading)."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        job.check()
        kinesis.put_record(StreamName=stream, Data=b'{"probe": 1}\n', PartitionKey="probe")
        time.sleep(3)
        if conn.hget(keys.totals, "invalid"):
            return
    raise RuntimeError("the Flink job read no probe in 180 s")
