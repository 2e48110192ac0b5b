"""``make demo``: the whole pipeline live on this machine.

1. installs what is missing; 2. brings LocalStack and Redis up; 3. deploys the CDK app's local
mode (Kinesis, Firehose to S3, the generator's EventBridge schedule, the dashboard);
4. runs the generator's handler on that schedule (the local runner drains the rule's queue);
5. runs the Flink job streaming from LocalStack's Kinesis into Redis; 6. shows the results
live. Ctrl-C stops the generator and the job; ``make down`` stops the platform.

``--headless --duration N`` runs N minutes without the view, then closes the last windows,
checks that every event is accounted for, prints a JSON summary and exits 0 when it balances.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from augury import events as contract
from augury import raw_archive, read_model
from augury.endpoints import Endpoints
from augury.redis_keys import TOTAL_FIELDS, Keys
from augury.resources import DEFAULT_STREAM_NAME, LOCAL_RAW_BUCKET, LOCAL_SCHEDULE_QUEUE
from demo import checks
from flink_app.settings import JobSettings, merge_sources

ROOT = Path(__file__).resolve().parents[1]
MARKER_USER = "augury-demo-closer"
_DEFAULTS = JobSettings.from_groups(merge_sources([], {}, {}))
WATERMARK_DELAY_MS = _DEFAULTS.watermark_delay_ms
WINDOW_MS = _DEFAULTS.window_ms
"""The job runs with the default watermark delay and window size."""


def step(message: str) -> None:
    """Progress output (stderr; stdout carries the JSON summary)."""
    print(f"[demo] {message}", file=sys.stderr, flush=True)


def raw_records(endpoints: Endpoints) -> int:
    """Records (lines) in the raw archive."""
    return sum(obj.records for obj in raw_archive.objects(endpoints.client("s3"), LOCAL_RAW_BUCKET))


class FlinkJob:
    """``python -m flink_app run`` in its own process group, logging to a file."""

    def __init__(
        self,
        run_dir: Path,
        redis_url: str,
        localstack_url: str,
        stream: str = DEFAULT_STREAM_NAME,
        sets: tuple[str, ...] = (),
    ) -> None:
        self.log_path = run_dir / "flink.log"
        self.dead_letter = run_dir / "dead-letter"
        cmd = [
            sys.executable, "-m", "flink_app", "run", "--stream", stream,
            # LocalStack's Kinesis cannot parse the connector's AT_TIMESTAMP requests (LATEST
            # uses them too): read from the start and skip what arrived before this run.
            "--start-position", "TRIM_HORIZON",
            "--set", f"source.skip.arrived.before.ms={int(time.time() * 1000)}",
            "--set", f"source.aws.endpoint={localstack_url}", "--redis-url", redis_url,
            "--dead-letter", str(self.dead_letter), "--checkpoint-dir", str(run_dir / "chk"),
            "--set", "job.checkpoint.interval.seconds=10",
            *(arg for item in sets for arg in ("--set", item)),
        ]  # fmt: skip
        env = {k: v for k, v in os.environ.items() if "FLINK" not in k}
        env["FLINK_LOG_DIR"] = str(run_dir)  # the JVM's own log next to this run's files
        with self.log_path.open("w") as log:
            self.proc = subprocess.Popen(
                cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def check(self) -> None:
        """Raise when the job has exited."""
        if self.proc.poll() is not None:
            tail = self.log_path.read_text()[-3000:]
            raise RuntimeError(f"the Flink job exited ({self.proc.returncode}):\n{tail}")

    def stop(self) -> None:
        """Stop the client, its mini-cluster and Python workers."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)

    def dead_letter_lines(self) -> int:
        """Lines in the committed dead-letter files."""
        return sum(
            len(p.read_text(encoding="utf-8").splitlines())
            for p in self.dead_letter.rglob("*")
            if p.is_file() and not p.name.startswith(".")
        )


class Generator:
    """The generator's handler on the deployed EventBridge schedule (the local runner)."""

    def __init__(self, endpoints: Endpoints, rate: float, log: Path) -> None:
        # The handler logs (Powertools JSON, EMF metrics) to stdout; here that is a log file,
        # so stdout keeps only the demo's summary. Powertools binds its stream at import.
        self.real_stdout = sys.stdout
        sys.stdout = log.open("a", buffering=1)
        from lambdas.clickgen import handler, local_runner

        sqs = endpoints.client("sqs")
        self.queue_url = sqs.get_queue_url(QueueName=LOCAL_SCHEDULE_QUEUE)["QueueUrl"]
        sqs.purge_queue(QueueUrl=self.queue_url)  # ticks left from an earlier run
        self.produced = 0
        self.invocations = 0
        self.stop_event = threading.Event()

        def counted(result: dict[str, Any]) -> None:
            self.produced += int(result["sent"])
            self.invocations += 1

        self.thread = threading.Thread(
            target=local_runner.run,
            kwargs={"endpoints": endpoints, "queue_url": self.queue_url,
                    "handler": handler.lambda_handler, "overrides": {"rate": rate},
                    "stop": self.stop_event, "on_result": counted},
            daemon=True,
        )  # fmt: skip
        self.thread.start()

    def stop(self, wait: bool) -> None:
        """Take no new tick; with ``wait``, let the running minute of traffic finish."""
        self.stop_event.set()
        if wait:
            self.thread.join(timeout=120)


def _totals(conn: Any, keys: Keys) -> dict[str, int]:
    return {k: int(v) for k, v in conn.hgetall(keys.totals).items()}


CLOSE_MARGIN_MS = 2_000
"""How far past the closing window's end plus the watermark delay the closing marker is: past
the one-second bot buckets of the last events sent."""


def marker_time(now_ms: int, window_ms: int, delay_ms: int) -> int:
    """The closing marker's event time: its watermark closes the window ``now_ms`` is in.

    At most a window plus the delay ahead, well within the contract's future tolerance.
    """
    window_end = (now_ms // window_ms + 1) * window_ms
    return window_end + delay_ms + CLOSE_MARGIN_MS


def _close_windows(endpoints: Endpoints) -> tuple[int, int]:
    """One valid event ahead of the present: its watermark closes every window of the traffic.

    Returns when it was sent and its event time (epoch ms).
    """
    event_ms = marker_time(int(time.time() * 1000), WINDOW_MS, WATERMARK_DELAY_MS)
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


def _finals(conn: Any, keys: Keys, run: Run) -> list[checks.FinalTiming]:
    windows = read_model.windows(conn, keys, 0, 2**62, read_model.MAX_ITEMS)
    return checks.final_timings(windows, WATERMARK_DELAY_MS, run.traffic_end_ms,
                                run.marker_sent_ms, run.marker_event_ms)  # fmt: skip


def late_final(t: checks.FinalTiming) -> dict[str, Any]:
    """A window whose final result was late (or missing), for the summary."""
    return {"window_ms": t.start_ms, "lag_s": None if t.lag_ms is None else t.lag_ms / 1000}


def summarize(endpoints: Endpoints, conn: Any, keys: Keys, run: Run,
              job: FlinkJob) -> dict[str, Any]:  # fmt: skip
    """The closing summary, once every produced event is accounted for (or a timeout)."""
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
    while time.monotonic() < deadline and any(t.final_ms is None for t in _finals(conn, keys, run)):
        time.sleep(1)  # the windows the marker closes
    finals = _finals(conn, keys, run)
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


def _live(conn: Any, keys: Keys, job: FlinkJob, gen: Generator, minutes: float | None,
          dashboard: str) -> None:  # fmt: skip
    from rich.live import Live

    from demo import live

    started = time.monotonic()
    with Live(refresh_per_second=1, screen=False) as view:
        while minutes is None or time.monotonic() - started < minutes * 60:
            job.check()
            header = (f"Augury demo: {gen.produced} events produced in {gen.invocations} "
                      f"scheduled runs; dashboard {dashboard}; Ctrl-C stops")  # fmt: skip
            view.update(live.render(live.snapshot(conn, keys), header))
            time.sleep(1)


def record_run(state_dir: Path, fields: dict[str, Any]) -> None:
    """Merge ``fields`` into ``demo/latest.json`` (the notebook finds the last run there)."""
    path = state_dir / "demo" / "latest.json"
    current = json.loads(path.read_text()) if path.exists() and "run_dir" not in fields else {}
    path.write_text(json.dumps({**current, **fields}, indent=2))


def start_api(redis_url: str, port: int) -> Any:
    """The read API and the dashboard page on a background thread (any free port if taken)."""
    os.environ["AUGURY_REDIS_URL"] = redis_url
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    from lambdas.read_api import handler
    from lambdas.read_api.local_server import BackgroundServer

    try:
        return BackgroundServer(handler.lambda_handler, port=port)
    except OSError as exc:
        step(f"port {port} is taken ({exc.strerror}); the read API takes a free one")
        return BackgroundServer(handler.lambda_handler, port=0)


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
    args = p.parse_args(argv)
    minutes = args.duration if args.duration else (3.0 if args.headless else None)

    import redis

    from localplatform import cdk_local, platform
    from localplatform.config import PlatformConfig

    cfg = PlatformConfig.from_env()
    step("1/6 installing what is missing (LocalStack, its packages, Redis, the CDK CLI)")
    platform.install(cfg)
    cdk_local.install_cli(cfg)
    step("2/6 bringing the platform up (LocalStack, Redis)")
    platform.up(cfg)
    endpoints = cfg.endpoints
    os.environ["AUGURY_LOCALSTACK_URL"] = cfg.localstack_url
    step("3/6 deploying the CDK app's local mode with cdklocal")
    cdk_local.deploy(cfg)
    api = start_api(endpoints.redis_url, args.api_port)
    step(f"read API on {api.url} (OpenAPI {api.url}/openapi.json); dashboard {api.url}/dashboard/")

    keys = Keys()
    conn = redis.Redis.from_url(endpoints.redis_url, decode_responses=True)
    stale = list(conn.scan_iter(f"{keys.prefix}*", count=1000))
    if stale:
        step(f"clearing {len(stale)} keys of an earlier run from Redis")
        conn.delete(*stale)
    run_dir = cfg.state_dir / "demo" / time.strftime("%Y%m%dT%H%M%S")
    run_dir.mkdir(parents=True)
    record_run(cfg.state_dir, {"run_dir": str(run_dir), "started_ms": int(time.time() * 1000)})
    raw_before = raw_records(endpoints)
    step(f"4/6 starting the Flink job (Kinesis -> Redis); log: {run_dir / 'flink.log'}")
    job = FlinkJob(run_dir, endpoints.redis_url, cfg.localstack_url)
    try:
        probes = wait_until_reading(endpoints, conn, keys, job)
    except (RuntimeError, KeyboardInterrupt) as exc:
        job.stop()
        print(f"error: {exc}", file=sys.stderr)
        return 1
    step(f"5/6 starting the generator on its schedule at {args.rate:g} events/s "
         "(first run within a minute)")  # fmt: skip
    gen = Generator(endpoints, args.rate, run_dir / "generator.log")
    try:
        if args.headless:
            minutes = minutes or 3.0
            step(f"6/6 running {minutes:g} minutes headless")
            deadline = time.monotonic() + minutes * 60
            while time.monotonic() < deadline:
                job.check()
                time.sleep(5)
                step(f"{gen.produced} events produced; totals {_totals(conn, keys)}")
        else:
            step("6/6 live view")
            _live(conn, keys, job, gen, minutes, f"{api.url}/dashboard/")
    except KeyboardInterrupt:
        step("stopping the generator and the job (make down stops the platform)")
        gen.stop(wait=False)
        job.stop()
        return 130
    except RuntimeError as exc:
        gen.stop(wait=False)
        job.stop()
        print(f"error: {exc}", file=sys.stderr)
        return 1
    step("stopping the generator (its current minute of traffic finishes first)")
    gen.stop(wait=True)
    traffic_end_ms = int(time.time() * 1000)
    step("closing the last windows and checking that every event is accounted for")
    sent_ms, event_ms = _close_windows(endpoints)
    run = Run(gen.produced, probes, raw_before, traffic_end_ms, sent_ms, event_ms)
    try:
        summary = summarize(endpoints, conn, keys, run, job)
    finally:
        job.stop()
        api.stop()
    print(json.dumps(summary, indent=2), file=gen.real_stdout)
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    record_run(cfg.state_dir, {"summary": summary})
    step("done; the platform stays up for inspection (make status; make down)")
    return 0 if summary["balanced"] and summary["finals"]["on_time"] else 1


if __name__ == "__main__":
    sys.exit(main())
