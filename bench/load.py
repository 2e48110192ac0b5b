"""``python -m bench.load`` (``make load``): the HTTP collector under a paced load, events counted.

The load tool is ``hey`` (``localplatform.load_tool``: Debian's package, installed when missing):
Apache Bench has no rate control, ``hey`` paces each of its workers (``-q`` requests per second
per worker, ``-c`` workers, ``-z`` a duration). It posts one body again and again: a single event
to ``/events`` (``--batch 1``) or ``{"events": [...]}`` of ``--batch`` events to
``/events/batch``. The same event ids repeat from request to request; that is fine for a load
(the collector does not deduplicate, the job does), and what is checked is how many records
reached Kinesis, not which.

Every event of a run carries the run's tag (``device_id`` ``load-<tag>``), so the records of
this run are counted even in a stream others write to. With no ``--url`` (and no
``AUGURY_COLLECTOR_URL``) the run creates a Kinesis stream, starts ``python -m collector`` on a
free port writing to it, reads every shard from ``TRIM_HORIZON`` once ``hey`` is done, and
deletes the stream; with one, it asks the collector which stream it writes to (``GET
/health``) and reads from where each shard was when the run started (``LATEST``).

Counted: requests sent, answered 2xx, not (other statuses and transport errors, from ``hey``'s
summary); events accepted (2xx answers times the events per request: ``hey`` does not read
bodies, so an event a 200 answer lists with an ``error_code`` counts as accepted, and so as lost
if it is not in the stream); records found; lost = accepted - found.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from augury import env as env_names
from augury.collector import BATCH_FIELD, BATCH_PATH, EVENTS_PATH, MAX_BATCH_EVENTS
from augury.endpoints import Endpoints

ROOT: Final = Path(__file__).resolve().parents[1]
"""The repository: ``python -m collector`` runs from here (the collector is not installed)."""
PER_WORKER_RATE: Final = 4.0
"""Requests per second one worker is paced at, at most. hey starts its workers together and each
ticks every ``workers / rate`` seconds, so the load comes in bursts of ``workers`` requests at
each tick: the fewer the workers, the smaller the bursts (at 20 requests/s against the local
collector, p50 151 ms with 20 workers, 49 ms with 5). A worker waits for its answer before its
next tick, so ``rate / PER_WORKER_RATE`` workers keep the rate while answers take under 250 ms."""
MAX_WORKERS: Final = 256
SUSTAINED_SHARE: Final = 0.95
"""A run sustained its target when it achieved this share of it with no error and no loss."""
LOSS_CHECK_S: Final = 120.0
"""During a longer run the stream is also read every so often: a shard iterator expires after
5 minutes unused."""
UNPACED_WORKERS: Final = 32
"""Workers of an unpaced run (no rate: as fast as the answers come; the benchmark's probe)."""
PROGRESS_S: Final = 5.0
SHARDS: Final = 4
"""Shards of a fresh stream. LocalStack's Kinesis (kinesis-mock) takes longer for each put the
more records the shard holds; a batch's events (one user each) spread over the shards. A
single-event load has one user, so one shard."""
_COLLECTOR_LINE: Final = re.compile(r"\[collector\] (http://\S+) -> ")


def log(message: str) -> None:
    """A progress line on stderr."""
    print(f"[load] {message}", file=sys.stderr, flush=True)


# --- bodies -------------------------------------------------------------------------------------


def event(tag: str, i: int, now: datetime) -> dict[str, str]:
    """A valid event of run ``tag`` (``device_id`` ``load-<tag>``), the ``i``-th of its body."""
    stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
    return {
        "event_id": str(uuid.uuid4()),
        "user_id": f"load-u{i}",
        "device_id": f"load-{tag}",
        "client_event": "page_view",
        "client_timestamp": stamp,
        "countrycode": "BE",
        "page_url": f"/load/{tag}/{i}",
    }


def body(tag: str, batch: int, now: datetime | None = None) -> bytes:
    """What each request posts: one event (``batch`` 1) or ``{"events": [...]}`` of ``batch``."""
    if not 1 <= batch <= MAX_BATCH_EVENTS:
        raise ValueError(f"events per request: 1..{MAX_BATCH_EVENTS}, not {batch}")
    now = now or datetime.now(UTC)
    if batch == 1:
        doc: Any = event(tag, 0, now)
    else:
        doc = {BATCH_FIELD: [event(tag, i, now) for i in range(batch)]}
    return json.dumps(doc, separators=(",", ":")).encode("utf-8")


def path_for(batch: int) -> str:
    """The collector's path for ``batch`` events per request."""
    return EVENTS_PATH if batch == 1 else BATCH_PATH


def scheduled(rate: float | None, duration_s: float, workers: int) -> int:
    """Requests a paced run schedules: each worker's ticks before the end (0 when unpaced).

    A worker sends on a tick every ``workers / rate`` seconds, the first one interval after the
    start: ``floor(duration * rate / workers)`` each, whatever the server does. hey may send
    one more per worker, on the tick it was waiting for when the duration ended.
    """
    if not rate:
        return 0
    return workers * math.floor(duration_s * rate / workers + 1e-9)


def workers_for(rate: float) -> int:
    """How many paced workers send ``rate`` requests per second (``PER_WORKER_RATE`` each)."""
    return max(1, min(MAX_WORKERS, math.ceil(rate / PER_WORKER_RATE)))


# --- hey ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeyReport:
    """What ``hey``'s summary says (seconds; None where it printed NaN or nothing)."""

    total_s: float
    statuses: dict[int, int]
    errors: dict[str, int]
    percentiles: dict[int, float]
    """Latency by percentile (10, 25, 50, 75, 90, 95, 99), seconds; hey leaves out one it has
    too few requests for (the 99th below 100 requests)."""
    slowest_s: float | None = None
    fastest_s: float | None = None
    average_s: float | None = None
    requests_per_s: float | None = None

    @property
    def requests(self) -> int:
        """Requests that got an answer or an error."""
        return sum(self.statuses.values()) + sum(self.errors.values())

    @property
    def ok(self) -> int:
        """Answers with a 2xx status."""
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    @property
    def not_ok(self) -> int:
        """Answers with another status, and requests that got none (transport errors)."""
        return self.requests - self.ok


_SECONDS = r"\s+([0-9.]+|NaN) secs"
_FIGURES: Final = {
    "total_s": re.compile(r"^\s*Total:" + _SECONDS, re.M),
    "slowest_s": re.compile(r"^\s*Slowest:" + _SECONDS, re.M),
    "fastest_s": re.compile(r"^\s*Fastest:" + _SECONDS, re.M),
    "average_s": re.compile(r"^\s*Average:" + _SECONDS, re.M),
    "requests_per_s": re.compile(r"^\s*Requests/sec:\s+([0-9.]+|NaN)\s*$", re.M),
}
_PERCENTILE: Final = re.compile(r"^\s*(\d+)% in ([0-9.]+) secs", re.M)
_COUNTED: Final = re.compile(r"^\s*\[(\d+)\]\s+(.*?)\s*$")


def _number(text: str) -> float | None:
    value = float(text)
    return None if math.isnan(value) else value


def parse_hey(text: str) -> HeyReport:
    """``hey``'s default summary (0.1.x) as figures; ValueError when it is not one."""
    figures: dict[str, float | None] = {}
    for name, pattern in _FIGURES.items():
        m = pattern.search(text)
        figures[name] = _number(m.group(1)) if m else None
    total = figures.pop("total_s")
    if total is None:
        raise ValueError(f"not hey's summary (no total time):\n{text[:500]}")
    percentiles = {
        int(p): float(s) for p, s in _PERCENTILE.findall(text) if int(p) > 0 and float(s) > 0
    }
    statuses: dict[int, int] = {}
    errors: dict[str, int] = {}
    section = ""
    for line in text.splitlines():
        if not line.startswith(" ") and line.strip().endswith(":"):
            section = line.strip()
            continue
        m = _COUNTED.match(line)
        if m is None:
            continue
        if section == "Status code distribution:":
            statuses[int(m.group(1))] = int(m.group(2).split()[0])
        elif section == "Error distribution:":
            errors[m.group(2)] = errors.get(m.group(2), 0) + int(m.group(1))
    return HeyReport(total, statuses, errors, percentiles, **figures)


def hey_command(hey: str, url: str, rate: float | None, duration_s: float, workers: int,
                body_file: Path) -> list[str]:  # fmt: skip
    """``hey`` posting ``body_file`` for ``duration_s`` from ``workers`` workers.

    ``rate``: requests per second in all, shared by the workers; None: as fast as answers come.
    """
    cmd = [hey, "-z", f"{duration_s:g}s", "-c", str(workers), "-m", "POST",
           "-T", "application/json", "-D", str(body_file)]  # fmt: skip
    if rate is not None:
        cmd += ["-q", f"{rate / workers:.6g}"]
    return [*cmd, url]


# --- counting what reached Kinesis ----------------------------------------------------------------


class StreamCounter:
    """Counts the records holding ``marker`` in every shard, from where it is opened.

    ``TRIM_HORIZON``: the whole stream (a fresh one); ``LATEST``: what arrives after ``open``.
    """

    def __init__(self, kinesis: Any, stream: str, marker: bytes, start: str) -> None:
        self.kinesis, self.stream, self.marker, self.start = kinesis, stream, marker, start
        self.found = 0
        self.read = 0
        self._iterators: dict[str, str | None] = {}

    def open(self) -> StreamCounter:
        """Take an iterator per shard (before the load, for ``LATEST``)."""
        shards = self.kinesis.list_shards(StreamName=self.stream)["Shards"]
        for shard in shards:
            self._iterators[shard["ShardId"]] = self.kinesis.get_shard_iterator(
                StreamName=self.stream, ShardId=shard["ShardId"], ShardIteratorType=self.start
            )["ShardIterator"]
        return self

    def drain(self) -> int:
        """Read every shard until caught up; the records found so far."""
        for shard, iterator in self._iterators.items():
            while iterator:
                try:
                    page = self.kinesis.get_records(ShardIterator=iterator, Limit=10_000)
                except self.kinesis.exceptions.ProvisionedThroughputExceededException:
                    time.sleep(0.25)
                    continue
                records = page["Records"]
                self.read += len(records)
                self.found += sum(1 for r in records if self.marker in r["Data"])
                iterator = page.get("NextShardIterator")
                if not records and page.get("MillisBehindLatest", 0) == 0:
                    break
            self._iterators[shard] = iterator
        return self.found


# --- the collector and its stream ---------------------------------------------------------------


@contextmanager
def fresh_stream(kinesis: Any, shards: int = 1, prefix: str = "augury-load") -> Iterator[str]:
    """A new Kinesis stream's name, deleted afterwards."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    try:
        deadline = time.monotonic() + 60
        while (
            kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"][
                "StreamStatus"
            ]
            != "ACTIVE"
        ):
            if time.monotonic() > deadline:
                raise RuntimeError(f"stream {name} not active within 60 s")
            time.sleep(0.2)
        yield name
    finally:
        kinesis.delete_stream(StreamName=name, EnforceConsumerDeletion=True)


@contextmanager
def local_collector(stream: str, timeout_s: float = 60.0) -> Iterator[str]:
    """``python -m collector`` on a free port writing to ``stream``; its base URL.

    Its stderr is kept draining (the last lines are in the error when it fails to start).
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", "collector", "--port", "0", "--stream", stream],
        cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert proc.stderr is not None
    lines: list[str] = []
    found = threading.Event()
    url: list[str] = []

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line.rstrip())
            del lines[:-50]
            m = _COLLECTOR_LINE.search(line)
            if m and not found.is_set():
                url.append(m.group(1))
                found.set()
        found.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        if not found.wait(timeout_s) or not url:
            raise RuntimeError("python -m collector did not start:\n" + "\n".join(lines[-20:]))
        yield url[0]
    finally:
        proc.terminate()  # SIGTERM: the collector's process ends with its server
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        reader.join(5)


def collector_stream(url: str) -> str:
    """The stream a running collector writes to (its ``GET /health``)."""
    health = f"{url.rstrip('/')}/health"
    try:
        with urllib.request.urlopen(health, timeout=5) as answer:
            return str(json.load(answer)["stream"])
    except (OSError, ValueError, KeyError) as exc:
        raise RuntimeError(f"no collector answers at {health} ({exc})") from exc


def localstack_reachable(endpoints: Endpoints) -> bool:
    """Whether LocalStack answers its health check."""
    try:
        with urllib.request.urlopen(f"{endpoints.localstack_url}/_localstack/health", timeout=5):
            return True
    except OSError:
        return False


# --- one run ------------------------------------------------------------------------------------


@dataclass
class LoadReport:
    """One paced run: what was sent and answered, and what reached the stream."""

    rate: float | None
    """The target, requests per second (None: unpaced)."""
    duration_s: float
    batch: int
    workers: int
    requests: int
    ok: int
    not_ok: int
    accepted: int
    """Events in 2xx answers (``ok * batch``)."""
    found: int
    """Records of this run in the stream."""
    elapsed_s: float
    p50_s: float | None
    p99_s: float | None
    mean_s: float | None
    p99_is_slowest: bool = False
    """hey prints no 99th percentile below 100 requests: its slowest request stands in."""
    statuses: dict[int, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def lost(self) -> int:
        """Events accepted that are not in the stream."""
        return max(0, self.accepted - self.found)

    @property
    def extra(self) -> int:
        """Records in the stream beyond what was accepted (a request timed out after its put)."""
        return max(0, self.found - self.accepted)

    @property
    def achieved_rps(self) -> float:
        """Requests answered 2xx per second of the run."""
        return self.ok / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def achieved_eps(self) -> float:
        """Events accepted per second of the run."""
        return self.accepted / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def scheduled(self) -> int:
        """Requests the pacing scheduled (``scheduled``); 0 for an unpaced run."""
        return scheduled(self.rate, self.duration_s, self.workers)

    @property
    def reached(self) -> float:
        """Requests answered 2xx as a share of those scheduled.

        Below 1 when answers came too slowly for the workers to keep their ticks (a tick
        missed is dropped), or were not 2xx.
        """
        return self.ok / self.scheduled if self.scheduled else 1.0

    def sustained(self, share: float = SUSTAINED_SHARE) -> bool:
        """Whether the run reached ``share`` of its target with no error and no event lost.

        The target is counted in requests (``scheduled``), not divided by the run's wall time:
        that includes the last answers' wait, and a worker's last tick falls up to one
        interval (up to 1 s) before the end.
        """
        reached = self.reached >= share
        return reached and self.not_ok == 0 and self.lost == 0 and self.accepted > 0

    def as_dict(self) -> dict[str, Any]:
        """The report with its derived figures, for JSON."""
        derived = {"lost": self.lost, "extra": self.extra, "sustained": self.sustained(),
                   "scheduled": self.scheduled, "reached": round(self.reached, 4),
                   "achieved_rps": round(self.achieved_rps, 2),
                   "achieved_eps": round(self.achieved_eps, 2)}  # fmt: skip
        return {**asdict(self), **derived}

    def summary(self) -> str:
        """The human summary ``make load`` prints."""

        def ms(s: float | None) -> str:
            return "-" if s is None else f"{s * 1000:.1f} ms"

        target = "unpaced" if self.rate is None else f"{self.rate:g} req/s"
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items())) or "none"
        lines = [
            f"target              {target} x {self.batch} event(s)/request for "
            f"{self.duration_s:g} s ({self.workers} workers)",
            f"requests sent       {self.requests}",
            f"2xx                 {self.ok}",
            f"non-2xx             {self.not_ok} (statuses {statuses}"
            + (f"; errors {sum(self.errors.values())})" if self.errors else ")"),
            f"events accepted     {self.accepted}",
            f"records in Kinesis  {self.found}",
            f"lost                {self.lost}" + (f" (extra {self.extra})" if self.extra else ""),
            f"achieved rate       {self.achieved_rps:,.1f} req/s = {self.achieved_eps:,.1f} "
            f"events/s over {self.elapsed_s:.1f} s"
            + (
                f" ({self.ok} of the {self.scheduled} requests the pacing scheduled: "
                f"{self.reached:.1%})"
                if self.rate
                else ""
            ),
            f"latency             p50 {ms(self.p50_s)}, p99 {ms(self.p99_s)}"
            + (" (hey's slowest: under 100 requests)" if self.p99_is_slowest else ""),
            f"sustained           {'yes' if self.sustained() else 'no'} (>= "
            f"{SUSTAINED_SHARE:.0%} of the scheduled requests answered, no non-2xx, nothing "
            "lost)",
        ]
        for error, n in sorted(self.errors.items(), key=lambda e: -e[1])[:5]:
            lines.append(f"  error x{n}: {error}")
        return "\n".join(lines)


@contextmanager
def _ticker(every_s: float, tick: Callable[[float], None]) -> Iterator[None]:
    """Call ``tick(elapsed)`` every ``every_s`` in a thread while the block runs."""
    stop = threading.Event()
    start = time.monotonic()

    def loop() -> None:
        while not stop.wait(every_s):
            tick(time.monotonic() - start)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def drive(url: str, counter: StreamCounter, rate: float | None, duration_s: float, batch: int,
          tag: str, workers: int | None = None, hey: str | None = None,
          quiet: bool = False) -> LoadReport:  # fmt: skip
    """One ``hey`` run of ``rate`` requests per second against the collector at ``url``.

    ``counter`` is opened here (before the first request) and drained after the last answer.
    """
    from localplatform import load_tool

    hey = hey or load_tool.install()
    workers = workers or (workers_for(rate) if rate else UNPACED_WORKERS)
    target = f"{url.rstrip('/')}{path_for(batch)}"
    counter.open()
    with tempfile.TemporaryDirectory(prefix="augury-load-") as tmp:
        body_file = Path(tmp) / "body.json"
        body_file.write_bytes(body(tag, batch))
        cmd = hey_command(hey, target, rate, duration_s, workers, body_file)
        if not quiet:
            log(" ".join(cmd))

        checked = [0.0]

        def tick(elapsed: float) -> None:
            if not quiet:
                log(f"{min(elapsed, duration_s):.0f}/{duration_s:g} s")
            if elapsed - checked[0] >= LOSS_CHECK_S:  # keep the shard iterators fresh
                checked[0] = elapsed
                found = counter.drain()
                if not quiet:
                    log(f"records of this run in {counter.stream} so far: {found}")

        with _ticker(PROGRESS_S, tick):
            done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"hey failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    report = parse_hey(done.stdout)
    if not quiet:
        log(f"counting the run's records in {counter.stream}")
    found = counter.drain()
    p99 = report.percentiles.get(99)
    return LoadReport(
        rate=rate, duration_s=duration_s, batch=batch, workers=workers,
        requests=report.requests, ok=report.ok, not_ok=report.not_ok,
        accepted=report.ok * batch, found=found, elapsed_s=report.total_s,
        p50_s=report.percentiles.get(50), p99_s=p99 if p99 is not None else report.slowest_s,
        mean_s=report.average_s, p99_is_slowest=p99 is None and report.slowest_s is not None,
        statuses=report.statuses, errors=report.errors,
    )  # fmt: skip


def run(rate: float | None, duration_s: float, batch: int = 1, url: str | None = None,
        workers: int | None = None, shards: int = SHARDS,
        quiet: bool = False) -> LoadReport:  # fmt: skip
    """A whole ``make load``: against ``url``'s collector, or one of its own on a fresh stream.

    ``rate``: requests per second (None: unpaced, ``UNPACED_WORKERS`` as fast as they go).
    """
    from localplatform import load_tool

    hey = load_tool.install()
    endpoints = Endpoints.local()
    if not localstack_reachable(endpoints):
        raise RuntimeError(f"LocalStack does not answer at {endpoints.localstack_url} (make up)")
    kinesis = endpoints.client("kinesis")
    tag = uuid.uuid4().hex[:12]
    marker = f"load-{tag}".encode()
    if url:
        stream = collector_stream(url)
        if not quiet:
            log(f"collector {url} writes to {stream}; counting from where each shard is now")
        counter = StreamCounter(kinesis, stream, marker, "LATEST")
        return drive(url, counter, rate, duration_s, batch, tag, workers, hey, quiet)
    with fresh_stream(kinesis, shards) as stream:
        if not quiet:
            log(f"created stream {stream}; starting python -m collector")
        with local_collector(stream) as own_url:
            if not quiet:
                log(f"collector {own_url} -> {stream}")
            counter = StreamCounter(kinesis, stream, marker, "TRIM_HORIZON")
            return drive(own_url, counter, rate, duration_s, batch, tag, workers, hey, quiet)


def main(argv: list[str] | None = None) -> int:
    """Run one load and print its summary (``--json``: the report as JSON on stdout too)."""
    p = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--rate", type=float, default=20.0, help="requests per second (20)")
    p.add_argument("--duration", type=float, default=30.0, help="seconds (30)")
    p.add_argument("--batch", type=int, default=1,
                   help=f"events per request: 1 posts to {EVENTS_PATH}, more (up to "
                        f"{MAX_BATCH_EVENTS}) to {BATCH_PATH}")  # fmt: skip
    p.add_argument("--url", default=os.environ.get(env_names.COLLECTOR_URL) or None,
                   help="a running collector's base URL (AUGURY_COLLECTOR_URL; default: start "
                        "one on a fresh stream)")  # fmt: skip
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help=f"hey's workers (default: rate / {PER_WORKER_RATE:g}, at least 1)",
    )
    p.add_argument("--shards", type=int, default=SHARDS,
                   help=f"shards of the fresh stream ({SHARDS})")  # fmt: skip
    p.add_argument("--json", action="store_true", help="also print the report as JSON")
    args = p.parse_args(argv)
    if args.rate <= 0 or args.duration <= 0:
        p.error("--rate and --duration must be positive")
    if not 1 <= args.batch <= MAX_BATCH_EVENTS:
        p.error(f"--batch must be 1..{MAX_BATCH_EVENTS}")
    try:
        report = run(args.rate, args.duration, args.batch, args.url, args.workers, args.shards)
    except (RuntimeError, OSError, BotoCoreError, ClientError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report.summary())
    if args.json:
        print(json.dumps(report.as_dict()))
    return 0 if report.lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
