"""The HTTP collector's sustained rate, against Kinesis puts straight to the same LocalStack.

For single events (``POST /events``, one PutRecord each) and for batches of ``BATCH`` events
(``POST /events/batch``, one PutRecords each; what the browser tracker sends), the highest rate
in events per second that is **sustained**: the load reaches ``SUSTAINED_SHARE`` of its target,
every request is answered 2xx, and every event accepted is in the stream (``bench.load``).

Measured: ``hey`` paced against ``python -m collector`` (``bench.load.run``). Baseline, in this
process tree: boto3 ``put_record`` (or ``put_records`` of the same batch) from as many threads
as ``hey`` has workers, each paced as a ``hey`` worker is (a tick every ``workers / rate``
seconds; a tick missed while waiting for an answer is dropped), with the records the collector
would write.

Both searches of a batch size start at ``FIRST`` of the higher of their two unpaced rates (no
pacing, ``UNPACED_WORKERS`` workers, ``PROBE_S``). Then, for ``STEPS`` steps of ``STEP_S``: after
a sustained step the rate goes up by ``GROW`` while no step failed, else it bisects up to the
lowest rate not sustained; after a step that fell short, the next tries ``REACHED`` of the rate
reached (when above the highest sustained one), else it bisects down (halves while nothing was
sustained). The direct and the collector searches take turns step by step, so both meet the
same neighbours on a shared machine.

Every step writes to a fresh stream: LocalStack's Kinesis (kinesis-mock) takes longer for each
put the more records the shard holds (measured: PutRecords of 20 into one shard, 21 ms at 800
records, 100 ms at 9 600), so a stream shared by the steps would slow the later ones.
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from augury.collector import event_json, partition_key, record
from augury.endpoints import Endpoints
from bench import load
from bench.harness import BenchResult, Measurement, TreeRss, percentile

BATCH: Final = 20
"""Events per request of the batch variants: the browser tracker's default batch."""
STEP_S: Final = 15.0
PROBE_S: Final = 4.0
SHARDS: Final = 4
"""Shards of each step's fresh stream (a single-event load has one user: one shard)."""
STEPS: Final = 3
FIRST: Final = 0.75
"""The first step's share of the unpaced rate."""
GROW: Final = 1.5
"""The next step's rate after a sustained one, while none has failed."""
REACHED: Final = 0.9
"""After a step that fell short of its rate, the next tries this share of what it reached."""


def direct(endpoints: Endpoints, stream: str, rate: float | None, batch: int,
           duration_s: float, workers: int | None = None,
           start: str = "LATEST") -> load.LoadReport:  # fmt: skip
    """Kinesis puts of the load's records at ``rate`` requests per second, paced as ``hey`` does.

    ``start``: where the count of the run's records starts (``TRIM_HORIZON`` in a fresh stream).
    """
    workers = workers or (load.workers_for(rate) if rate else load.UNPACED_WORKERS)
    tag = uuid.uuid4().hex[:12]
    now = datetime.now(UTC)
    events = [load.event(tag, i, now) for i in range(batch)]
    arrival_ms = int(now.timestamp() * 1000)
    records = [{"PartitionKey": partition_key(e), "Data": record(event_json(e), arrival_ms)}
               for e in events]  # fmt: skip
    # One client for every thread (boto3's clients are thread-safe), a connection per thread.
    kinesis = endpoints.client("kinesis", config=Config(max_pool_connections=workers))
    counter = load.StreamCounter(kinesis, stream, f"load-{tag}".encode(), start).open()
    interval = workers / rate if rate else 0.0
    lock = threading.Lock()
    latencies: list[float] = []
    ok = [0]
    errors: dict[str, int] = {}
    began = time.monotonic()
    end = began + duration_s

    def work() -> None:
        tick = 1
        while True:
            if interval:
                due = began + tick * interval
                if due > end:  # as hey: ticks up to the end
                    return
                time.sleep(max(0.0, due - time.monotonic()))
            elif time.monotonic() >= end:
                return
            sent = time.monotonic()
            try:
                if batch == 1:
                    kinesis.put_record(StreamName=stream, **records[0])
                else:
                    kinesis.put_records(StreamName=stream, Records=records)
                error = None
            except (ClientError, BotoCoreError) as exc:
                error = type(exc).__name__
            took = time.monotonic() - sent
            with lock:
                latencies.append(took)
                if error is None:
                    ok[0] += 1
                else:
                    errors[error] = errors.get(error, 0) + 1
            if interval:  # hey's ticker keeps one missed tick and drops the others
                tick = max(tick + 1, int((time.monotonic() - began) / interval))

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - began
    found = counter.drain()
    return load.LoadReport(
        rate=rate, duration_s=duration_s, batch=batch, workers=workers,
        requests=len(latencies), ok=ok[0], not_ok=len(latencies) - ok[0],
        # A PutRecords entry with an ErrorCode is not in the stream: lost, as through the collector.
        accepted=ok[0] * batch, found=found, elapsed_s=elapsed,
        p50_s=percentile(latencies, 50) if latencies else None,
        p99_s=percentile(latencies, 99) if latencies else None,
        mean_s=statistics.fmean(latencies) if latencies else None,
        statuses={200: ok[0]} if ok[0] else {}, errors=errors,
    )  # fmt: skip


@dataclass
class Search:
    """A bisection of the sustained rate (events per second) of one way of putting events."""

    name: str
    trial: Callable[[float | None, float], load.LoadReport]
    """``trial(requests per second or None for unpaced, seconds)``."""
    batch: int
    unpaced: load.LoadReport | None = None
    low: float = 0.0
    high: float | None = None
    next_rate: float = 0.0
    best: load.LoadReport | None = None
    tried: list[load.LoadReport] = field(default_factory=list)

    def probe(self) -> float:
        """The unpaced rate (events/s), for where the searches start."""
        self.unpaced = self.trial(None, PROBE_S)
        _say(f"{self.name}: unpaced {self.unpaced.achieved_eps:,.0f} events/s "
             f"({self.unpaced.not_ok} non-2xx, {self.unpaced.lost} lost)")  # fmt: skip
        return self.unpaced.achieved_eps

    def step(self) -> None:
        """Try the next rate; narrow the bounds."""
        rate = self.next_rate
        report = self.trial(rate / self.batch, STEP_S)
        self.tried.append(report)
        ok = report.sustained()
        verdict = "sustained" if ok else "not sustained"
        _say(f"{self.name}: {rate:,.0f} events/s -> {report.reached:.1%} of the scheduled "
             f"requests answered, {report.not_ok} non-2xx, {report.lost} lost, p99 "
             f"{(report.p99_s or 0) * 1000:,.0f} ms: {verdict}")  # fmt: skip
        if ok:
            self.low, self.best = rate, report
            # Nothing failed yet: a step up; else the middle of what passed and what did not.
            self.next_rate = rate * GROW if self.high is None else (rate + self.high) / 2
            return
        self.high = rate
        middle = (self.low + rate) / 2 if self.low else rate / 2
        reached = rate * report.reached
        if report.not_ok or report.lost or reached <= self.low:
            self.next_rate = middle
        else:  # it fell short of the rate: just under what it reached, if above what passed
            self.next_rate = max(middle, REACHED * reached)

    def result(self) -> load.LoadReport:
        """The highest sustained run, or the slowest tried when none was."""
        if self.best is not None:
            return self.best
        return min(self.tried, key=lambda r: r.rate or 0.0)

    def trail(self) -> str:
        """The steps, for the notes: ``90 ok, 112 no, ...`` (events/s)."""
        return ", ".join(f"{(r.rate or 0) * self.batch:,.0f} {'ok' if r.sustained() else 'no'}"
                         for r in self.tried)  # fmt: skip


def _say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _latency(report: load.LoadReport) -> dict[str, float]:
    figures = {"n": float(report.requests)}
    for key, value in (("p50_s", report.p50_s), ("p99_s", report.p99_s),
                       ("mean_s", report.mean_s)):  # fmt: skip
        if value is not None:
            figures[key] = round(value, 3)
    return figures


def _searches(endpoints: Endpoints, kinesis: Any, batch: int) -> tuple[Search, Search]:
    """Direct and collector searches for ``batch`` events per request, a fresh stream a step."""
    label = "single events" if batch == 1 else f"batches of {batch}"
    what = "put_record" if batch == 1 else f"put_records of {batch}"

    def through(rate: float | None, seconds: float) -> load.LoadReport:
        return load.run(rate, seconds, batch, shards=SHARDS, quiet=True)

    def straight(rate: float | None, seconds: float) -> load.LoadReport:
        with load.fresh_stream(kinesis, SHARDS, "augury-bench-direct") as stream:
            return direct(endpoints, stream, rate, batch, seconds, start="TRIM_HORIZON")

    base = Search(f"direct {what} (baseline)", straight, batch)
    measured = Search(f"collector, {label} (hey)", through, batch)
    # Both start at the same rate, from the higher unpaced one: their first steps compare.
    start = FIRST * max(base.probe(), measured.probe(), float(batch))
    base.next_rate = measured.next_rate = start
    for _ in range(STEPS):  # in turns: both meet the same neighbours on a shared machine
        for search in (base, measured):
            search.step()
    return base, measured


def run() -> BenchResult:
    """The four searches (direct and collector, single and batch), interleaved per mode."""
    from localplatform import load_tool

    load_tool.install()
    endpoints = Endpoints.local()
    kinesis = endpoints.client("kinesis")
    result = BenchResult("collector", "events/s", latency_baseline=False)
    with TreeRss() as rss:
        pairs = [_searches(endpoints, kinesis, batch) for batch in (1, BATCH)]
    result.peak_tree_rss_mb = round(rss.peak_mb, 1)
    notes: list[str] = []
    for base, measured in pairs:
        b, m = base.result(), measured.result()
        for search, report in ((base, b), (measured, m)):
            result.measurements.append(Measurement(search.name, report.accepted,
                                                   report.elapsed_s))  # fmt: skip
            result.latency[f"{search.name}, per request"] = _latency(report)
        ratio = measured.low / base.low if base.low else float("nan")
        achieved = m.achieved_eps / b.achieved_eps if b.achieved_eps else float("nan")
        p99 = (m.p99_s or 0) / b.p99_s if b.p99_s else float("nan")
        unsustained = [s.name for s in (base, measured) if s.best is None]
        unbounded = [s.name for s in (base, measured) if s.high is None]
        notes.append(
            f"batch {base.batch}: collector/direct {ratio:.2f} (highest sustained target "
            f"{measured.low:,.0f} vs {base.low:,.0f} events/s; achieved rates {achieved:.2f}; "
            f"p99 per request {p99:.2f}x); steps (events/s) direct [{base.trail()}], "
            f"collector [{measured.trail()}]; unpaced direct "
            f"{base.unpaced.achieved_eps if base.unpaced else 0:,.0f}, collector "
            f"{measured.unpaced.achieved_eps if measured.unpaced else 0:,.0f}"
            + (f"; NOT sustained at any step: {', '.join(unsustained)}" if unsustained else "")
            + (
                f"; sustained at every step (a lower bound): {', '.join(unbounded)}"
                if unbounded
                else ""
            )
        )
    result.notes = (
        "; ".join(notes)
        + f". Sustained: >= {load.SUSTAINED_SHARE:.0%} of the requests the pacing scheduled "
        f"answered 2xx, none not 2xx, no event lost; {STEPS} steps of {STEP_S:g} s per search; "
        f"workers = rate / {load.PER_WORKER_RATE:g} requests/s, the same for both; a fresh "
        f"{SHARDS}-shard stream per step (single events: one user, one shard), in the same "
        "LocalStack. The table's figures are the events accepted per second of wall time in "
        "the highest sustained step (its last answers' wait included); 'vs baseline' is "
        "against direct single puts (the collector's own ratios are in these notes)."
    )
    return result
