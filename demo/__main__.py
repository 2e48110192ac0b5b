"""``make demo``: the whole pipeline live on this machine.

1. installs what is missing; 2. brings LocalStack and Redis up; 3. deploys the CDK app's local
mode (Kinesis, Firehose to S3, the generator's EventBridge schedule, the dashboard);
4. runs the generator's handler on that schedule (the local runner drains the rule's queue);
5. runs the Flink job streaming from LocalStack's Kinesis into Redis; 6. shows the results
live. Ctrl-C stops the generator and the job; ``make down`` stops the platform.

Alongside, the HTTP collector (``python -m collector``'s server) serves a demo shop carrying the
browser tracker: click around in it and your own session shows in the live view and on the
dashboard (a minute after your last click, when the session closes).

``--headless --duration N`` runs N minutes without the view, then closes the last windows,
checks that every event is accounted for, prints a JSON summary and exits 0 when it balances.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from augury import env as env_names
from augury import events as contract
from augury import raw_archive, read_model
from augury.collector import LOCAL_PORT
from augury.endpoints import Endpoints
from augury.redis_keys import TOTAL_FIELDS, Keys
from augury.resources import DEFAULT_STREAM_NAME, LOCAL_RAW_BUCKET
from augury.settings import PipelineSettings, SettingsError
from demo import checks, runners
from demo.runners import FlinkJob, Generator, GeneratorProgress
from lambdas.clickgen import local_runner

MARKER_USER = "augury-demo-closer"


def step(message: str) -> None:
    """Progress output (stderr; stdout carries the JSON summary).

    Never raises: after a hang-up the terminal is gone, and cleanup must still run.
    """
    with contextlib.suppress(OSError, ValueError):
        print(f"[demo] {message}", file=sys.stderr, flush=True)


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, a closed terminal (SIGHUP) or SIGTERM: stop the generator and the job."""

    def __init__(self, sig: signal.Signals) -> None:
        super().__init__(sig.name)
        self.sig = sig

    @property
    def exit_code(self) -> int:
        """The shell's code for death by this signal (130 for Ctrl-C, 129 for a hang-up)."""
        return 128 + int(self.sig)

    @classmethod
    def once(cls, sig: signal.Signals) -> Interrupted:
        """The interruption, with SIGINT, SIGHUP and SIGTERM ignored from now on."""
        ignore_signals()
        return cls(sig)


CAUGHT = (signal.SIGINT, signal.SIGHUP, signal.SIGTERM)


def ignore_signals() -> None:
    """Ignore SIGINT, SIGHUP and SIGTERM: nothing may interrupt the cleanup."""
    for sig in CAUGHT:
        signal.signal(sig, signal.SIG_IGN)


def stop_on_signals() -> None:
    """Turn SIGINT, SIGHUP and SIGTERM into :class:`Interrupted`, once.

    After the first, further signals are ignored so that the cleanup they started (stopping
    the generator and the job's JVM) runs to the end.
    """

    def handler(signum: int, frame: FrameType | None) -> None:
        raise Interrupted.once(signal.Signals(signum))

    for sig in CAUGHT:
        signal.signal(sig, handler)


def raw_records(endpoints: Endpoints) -> int:
    """Records (lines) in the raw archive."""
    return sum(obj.records for obj in raw_archive.objects(endpoints.client("s3"), LOCAL_RAW_BUCKET))


def _totals(conn: Any, keys: Keys) -> dict[str, int]:
    return dataclasses.asdict(read_model.totals(conn, keys))


CLOSE_MARGIN_MS = 2_000
"""How far past the closing window's end plus the watermark delay the closing marker is: past
the one-second bot buckets of the last events sent."""


def marker_time(now_ms: int, window_ms: int, delay_ms: int) -> int:
    """The closing marker's event time: its watermark closes the window ``now_ms`` is in.

    Up to a window plus the delay after ``now_ms``: the marker is sent when that time comes.
    """
    window_end = (now_ms // window_ms + 1) * window_ms
    return window_end + delay_ms + CLOSE_MARGIN_MS


def _close_windows(endpoints: Endpoints, settings: PipelineSettings) -> tuple[int, int]:
    """One valid event whose watermark closes every window of the traffic.

    No event counts later than its arrival (the contract's clock-skew rule), so the marker is
    sent when its time has come, not stamped ahead of it. Returns when it was sent and its event
    time (epoch ms).
    """
    now_ms = int(time.time() * 1000)
    event_ms = marker_time(now_ms, settings.window_ms, settings.watermark_delay_ms)
    step(f"waiting {(event_ms - now_ms) / 1000:.0f} s for the closing marker's time "
         "(no event counts later than its arrival)")  # fmt: skip
    while (left_ms := event_ms - int(time.time() * 1000)) > 0:
        time.sleep(min(left_ms / 1000, 1.0))
    line = contract.encode({
        "event_id": f"closer-{event_ms}", "user_id": MARKER_USER, "device_id": "demo",
        "client_event": "page_view", "client_timestamp": contract.format_timestamp(event_ms),
        "countrycode": "BE", "page_url": "/",
    })  # fmt: skip
    endpoints.client("kinesis").put_record(
        StreamName=DEFAULT_STREAM_NAME, Data=line, PartitionKey=MARKER_USER
    )
    return int(time.time() * 1000), event_ms


PROBE = b'{"probe": "augury-demo: is the job reading?"}\n'


def wait_until_reading(endpoints: Endpoints, conn: Any, keys: Keys, job: FlinkJob) -> int:
    """Put probe records until the job counts one; the number of probes sent.

    The generator starts once the job reads, so none of its traffic waits on start-up. Probes are
    invalid on purpose (no event_id): the dead letter and the ``invalid`` total count them.
    """
    kinesis = endpoints.client("kinesis")
    deadline = time.monotonic() + 180
    probes = 0
    while time.monotonic() < deadline:
        job.check()
        kinesis.put_record(StreamName=DEFAULT_STREAM_NAME, Data=PROBE, PartitionKey="probe")
        probes += 1
        time.sleep(3)
        if _totals(conn, keys).get("invalid", 0) > 0:
            return probes
    raise RuntimeError(f"the Flink job read none of {probes} probe records in 180 s")


@dataclass(frozen=True)
class Run:
    """What the run did: events produced, probes sent, when traffic and the marker went."""

    produced: int
    probes: int
    raw_before: int
    traffic_end_ms: int
    marker_sent_ms: int
    marker_event_ms: int


def _finals(conn: Any, settings: PipelineSettings, run: Run) -> list[checks.FinalTiming]:
    windows = read_model.windows(conn, Keys(settings.key_prefix), 0, 2**62, read_model.MAX_ITEMS,
                                 window_ms=settings.window_ms)  # fmt: skip
    return checks.final_timings(windows, settings.watermark_delay_ms, run.traffic_end_ms,
                                run.marker_sent_ms, run.marker_event_ms)  # fmt: skip


def late_final(t: checks.FinalTiming) -> dict[str, Any]:
    """A window whose final result was late (or missing), for the summary."""
    return {"window_ms": t.start_ms, "lag_s": None if t.lag_ms is None else t.lag_ms / 1000}


def summarize(endpoints: Endpoints, conn: Any, settings: PipelineSettings, run: Run,
              job: FlinkJob) -> dict[str, Any]:  # fmt: skip
    """The closing summary, once every produced event is accounted for (or a timeout)."""
    keys = Keys(settings.key_prefix)
    produced, probes, raw_before = run.produced, run.probes, run.raw_before
    deadline = time.monotonic() + 180
    accounted = 0
    raw = 0
    while time.monotonic() < deadline:
        job.check()
        # The probes are read and counted (invalid); they are not traffic. The closing marker is
        # archived, but stays unclassified: its bot check waits for a watermark past it.
        accounted = sum(_totals(conn, keys).get(k, 0) for k in TOTAL_FIELDS) - probes
        raw = raw_records(endpoints) - raw_before - probes - 1
        if accounted >= produced and raw >= produced:
            break
        time.sleep(3)
    totals = _totals(conn, keys)
    dead_expected = totals.get("invalid", 0) + totals.get("late", 0)
    while time.monotonic() < deadline and job.dead_letter_lines() < dead_expected:
        time.sleep(2)  # dead-letter files are committed at the job's next checkpoint
    while time.monotonic() < deadline and any(
        t.final_ms is None for t in _finals(conn, settings, run)
    ):
        time.sleep(1)  # the windows the marker closes
    finals = _finals(conn, settings, run)
    lags = [t.lag_ms for t in finals if t.lag_ms is not None]
    windows = [int(w) for w in conn.zrange(keys.windows, 0, -1)]
    final = sum(1 for w in windows if conn.hget(keys.window(w), "final") == "1")
    return {
        "produced": produced,
        "probes": probes,
        "raw_records_in_s3": raw,
        "accounted_in_redis": accounted,
        "balanced": produced == raw == accounted and job.dead_letter_lines() == dead_expected,
        "windows": len(windows),
        "final_windows": final,
        "sessions": conn.zcard(keys.sessions),
        # Every window that closed: final in Redis within the slack of becoming closable?
        "finals": {
            "closed_windows": len(finals),
            "on_time": all(t.on_time for t in finals),
            "slack_s": checks.FINAL_SLACK_MS / 1000,
            "max_lag_s": max(lags) / 1000 if lags else None,
            "late": [late_final(t) for t in finals if not t.on_time],
        },
        "totals": totals,
        "dead_letter": {"lines": job.dead_letter_lines(), "path": str(job.dead_letter),
                        "invalid": totals.get("invalid", 0), "late": totals.get("late", 0),
                        "probes_among_invalid": probes},
    }  # fmt: skip


def schedule_line(progress: GeneratorProgress, now_ms: int, period_s: int) -> str:
    """What the generator is doing, and when the next scheduled run is due."""
    due = progress.next_due_ms(now_ms, period_s * 1000)
    if due is None:
        return (f"waiting for the first scheduled run (EventBridge rate, every {period_s} s); "
                f"meanwhile the generator produces {local_runner.BRIDGE_S} s of traffic at a "
                "time")  # fmt: skip
    runs = f"{progress.scheduled} scheduled run" + ("s" if progress.scheduled != 1 else "")
    return f"{runs} so far; the next is due in {(due - now_ms) / 1000:.0f} s"


def live_view(conn: Any, settings: PipelineSettings, job: FlinkJob, gen: Generator,
              minutes: float | None, dashboard: str, terminal: TextIO,
              period_s: int, collector: Any = None, shop: str = "") -> None:  # fmt: skip
    """Refresh the terminal view every second until ``minutes`` pass (or forever).

    ``period_s`` is the deployed schedule's period (the CDK app's ``schedule_minutes``).
    """
    from rich.console import Console
    from rich.live import Live

    from demo import live

    console = Console(file=terminal)
    started = time.monotonic()
    try:
        # Refreshed here, not by rich's thread: a write to a closed terminal fails right here.
        with Live(console=console, auto_refresh=False, screen=False) as view:
            while minutes is None or time.monotonic() - started < minutes * 60:
                job.check()
                gen.check()
                progress = gen.progress()
                now_ms = int(time.time() * 1000)
                header = (
                    f"Augury demo: {progress.produced} events produced by "
                    f"{progress.invocations} finished generator runs; dashboard {dashboard}; "
                    + (f"demo shop {shop}; " if shop else "")
                    + "Ctrl-C stops\n"
                    + schedule_line(progress, now_ms, period_s)
                )
                users = collector.server.recent_users() if collector is not None else []
                snap = live.snapshot(conn, settings, now_ms, users)
                view.update(live.render(snap, header), refresh=True)
                time.sleep(1)
    except OSError as exc:  # EIO: the terminal went away before (or without) its SIGHUP
        raise Interrupted.once(signal.SIGHUP) from exc


def record_run(state_dir: Path, fields: dict[str, Any]) -> None:
    """Merge ``fields`` into ``demo/latest.json`` (the notebook finds the last run there)."""
    path = state_dir / "demo" / "latest.json"
    current = json.loads(path.read_text()) if path.exists() and "run_dir" not in fields else {}
    path.write_text(json.dumps({**current, **fields}, indent=2))


def start_api(redis_url: str, port: int, log: Path) -> Any:
    """The read API and the dashboard page on a background thread (any free port if taken).

    The handler's logs (Powertools JSON) go to ``log``, never to the terminal's live view.
    """
    os.environ[env_names.REDIS_URL] = redis_url
    os.environ.setdefault(env_names.POWERTOOLS_LOG_LEVEL, "WARNING")
    from lambdas.read_api import handler
    from lambdas.read_api.local_server import BackgroundServer

    logs = handler.logger.registered_handler
    if isinstance(logs, logging.StreamHandler):
        logs.setStream(log.open("a", buffering=1))

    try:
        return BackgroundServer(handler.lambda_handler, port=port)
    except OSError as exc:
        step(f"port {port} is taken ({exc.strerror}); the read API takes a free one")
        return BackgroundServer(handler.lambda_handler, port=0)


def start_collector(endpoints: Endpoints, port: int) -> Any:
    """The HTTP collector, its tracker and the demo shop on a background thread."""
    from collector.server import BackgroundCollector, CollectorConfig

    config = CollectorConfig(os.environ.get(env_names.STREAM_NAME, DEFAULT_STREAM_NAME), endpoints)
    try:
        return BackgroundCollector(config, port=port)
    except OSError as exc:
        step(f"port {port} is taken ({exc.strerror}); the collector takes a free one")
        return BackgroundCollector(config, port=0)


def main(argv: list[str] | None = None) -> int:
    """Run the demo."""
    p = argparse.ArgumentParser(prog="python -m demo", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--rate", type=float, default=20,
                   help="generator events per second (default 20)")  # fmt: skip
    p.add_argument("--headless", action="store_true", help="no live view; summary at the end")
    p.add_argument("--duration", type=float,
                   help="minutes to run (default: until Ctrl-C; 3 when headless)")  # fmt: skip
    p.add_argument("--api-port", type=int, default=8088,
                   help="read API and dashboard port (default 8088; 0: any free)")  # fmt: skip
    p.add_argument("--collector-port", type=int, default=LOCAL_PORT,
                   help=f"collector and demo shop port (default {LOCAL_PORT}; 0: any)")  # fmt: skip
    args = p.parse_args(argv)
    minutes = args.duration if args.duration else (3.0 if args.headless else None)
    terminal = sys.stdout  # the view's and the summary's; nothing replaces it
    try:  # the job, the read API and this view all read these (AUGURY_WINDOW_SECONDS, ...)
        settings = PipelineSettings.from_env()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stop_on_signals()

    import redis

    from localplatform import cdk_local, platform
    from localplatform.config import PlatformConfig

    api: Any = None
    collector: Any = None
    try:
        cfg = PlatformConfig.from_env()
        step("1/6 installing what is missing (LocalStack, its packages, Redis, the CDK CLI)")
        platform.install(cfg)
        cdk_local.install_cli(cfg)
        step("2/6 bringing the platform up (LocalStack, Redis)")
        platform.up(cfg)
        endpoints = cfg.endpoints
        os.environ[env_names.LOCALSTACK_URL] = cfg.localstack_url
        step("3/6 deploying the CDK app's local mode with cdklocal")
        cdk_local.deploy(cfg)
        run_dir = cfg.state_dir / "demo" / time.strftime("%Y%m%dT%H%M%S")
        run_dir.mkdir(parents=True)
        api = start_api(endpoints.redis_url, args.api_port, run_dir / "read-api.log")
        step(f"read API on {api.url} (OpenAPI {api.url}/openapi.json); "
             f"dashboard {api.url}/dashboard/")  # fmt: skip

        keys = Keys(settings.key_prefix)
        conn = redis.Redis.from_url(endpoints.redis_url, decode_responses=True)
        stale = list(conn.scan_iter(f"{keys.prefix}*", count=1000))
        if stale:
            step(f"clearing {len(stale)} keys of an earlier run from Redis")
            conn.delete(*stale)
        record_run(cfg.state_dir, {"run_dir": str(run_dir), "started_ms": int(time.time() * 1000)})
        raw_before = raw_records(endpoints)
        step(f"4/6 starting the Flink job (Kinesis -> Redis); log: {run_dir / 'flink.log'}")
        job = FlinkJob(run_dir, endpoints.redis_url, cfg.localstack_url, jobs_dir=cfg.jobs_dir)
        probes = wait_until_reading(endpoints, conn, keys, job)
        # Only now: the job skips what arrived before it started reading.
        collector = start_collector(endpoints, args.collector_port)
        shop = f"{collector.url}/shop/?api={api.url}"
        step(f"your own clicks: the demo shop {shop} (HTTP collector {collector.url}/events, "
             f"tracker {collector.url}/augury.js)")  # fmt: skip
        step(f"5/6 starting the generator at {args.rate:g} events/s: now, then on the deployed "
             f"EventBridge schedule; log: {run_dir / 'generator.log'}")  # fmt: skip
        gen = Generator(run_dir, args.rate, jobs_dir=cfg.jobs_dir)
        if args.headless:
            minutes = minutes or 3.0
            step(f"6/6 running {minutes:g} minutes headless")
            deadline = time.monotonic() + minutes * 60
            while time.monotonic() < deadline:
                job.check()
                gen.check()
                time.sleep(5)
                step(f"{gen.progress().produced} events produced; totals {_totals(conn, keys)}")
        else:
            step("6/6 live view")
            period_s = local_runner.schedule_period_s(endpoints) or 60
            live_view(conn, settings, job, gen, minutes, f"{api.url}/dashboard/", terminal,
                      period_s, collector, shop)  # fmt: skip
        step("stopping the generator (its current minute of traffic finishes first) and the "
             "collector")  # fmt: skip
        gen.finish()
        collected = collector.stop()  # final: later clicks are answered 503, not stored
        # Windows close by traffic only up to its last event's time, not the clock's: a window
        # due after that is closed by the marker (and judged from the marker's send time).
        traffic_end_ms = gen.progress().traffic_end_ms or int(time.time() * 1000)
        step("closing the last windows and checking that every event is accounted for")
        sent_ms, event_ms = _close_windows(endpoints, settings)
        produced = gen.progress().produced + collected
        run = Run(produced, probes, raw_before, traffic_end_ms, sent_ms, event_ms)
        summary = {
            **summarize(endpoints, conn, settings, run, job),
            "collected_over_http": collected,
        }
    except Interrupted as exc:
        step(f"{exc}: stopping the generator and the job (make down stops the platform)")
        return exc.exit_code
    except (RuntimeError, OSError, ValueError) as exc:
        step(f"error: {exc}")
        return 1
    finally:
        ignore_signals()  # not a second Ctrl-C, not the hang-up that follows one
        for child in runners.started():  # the generator, then the job (and one half-started)
            try:
                child.stop()
            except Exception as exc:  # stop the others all the same; make down stops this one
                step(f"could not stop {child.name} ({exc}); `make down` stops it")
        if api is not None:
            api.stop()
        if collector is not None:
            collector.stop()
    print(json.dumps(summary, indent=2), file=terminal)
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    record_run(cfg.state_dir, {"summary": summary})
    step("done; the platform stays up for inspection (make status; make down)")
    return 0 if summary["balanced"] and summary["finals"]["on_time"] else 1


if __name__ == "__main__":
    sys.exit(main())
