"""``python -m lambdas.clickgen``: run the generator's handler locally (LocalStack by default).

Once, now:            python -m lambdas.clickgen --rate 200 --duration 60
On the local schedule: python -m lambdas.clickgen --schedule --rate 200 [--start-now]

On the schedule, SIGTERM lets the running invocation finish and then stops; Ctrl-C (SIGINT)
stops at once.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from augury import env as env_names
from augury.endpoints import Endpoints
from lambdas.clickgen import local_runner


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m lambdas.clickgen",
        description="Produce realistic click events into Kinesis by invoking the generator "
        "Lambda's handler locally, once or on a real EventBridge schedule (LocalStack). "
        "Unset options keep the CLICKGEN_* environment settings or their defaults.",
    )
    p.add_argument("--rate", type=float, help="events per second (default 50)")
    p.add_argument("--duration", type=int, dest="duration_s", help="seconds (default 60)")
    p.add_argument("--seed", type=int, help="seed of the deterministic traffic (default 42)")
    p.add_argument("--users", type=int, help="simulated users (default 2000)")
    for name in ("bot", "malformed", "duplicate", "late"):
        p.add_argument(f"--{name}-fraction", type=float, help=f"share of {name} events")
    p.add_argument("--late-max-minutes", type=float, help="largest lag of late events (3)")
    p.add_argument("--no-pace", dest="pace", action="store_false", default=None,
                   help="send everything at once instead of in real time")  # fmt: skip
    p.add_argument("--stream", help="Kinesis stream (default: AUGURY_STREAM_NAME or augury-clicks)")
    p.add_argument("--no-create-stream", dest="create_stream", action="store_false",
                   help="do not create the stream when it is missing")  # fmt: skip
    p.add_argument("--schedule", action="store_true",
                   help="run on the local EventBridge schedule (rate(1 minute) -> SQS) "
                        "instead of once")  # fmt: skip
    p.add_argument("--max-invocations", type=int, help="with --schedule: stop after N")
    p.add_argument("--start-now", action="store_true",
                   help="with --schedule: do not wait up to a minute for the first scheduled "
                        f"event; produce {local_runner.BRIDGE_S} s of traffic at a time until it "
                        "comes")  # fmt: skip
    p.add_argument("--results", type=Path, metavar="FILE",
                   help="append a JSON line to FILE as each invocation starts (event: start) "
                        "and ends (event: done, with its summary)")  # fmt: skip
    p.add_argument("--aws", action="store_true",
                   help="use real AWS (default credentials) instead of LocalStack")  # fmt: skip
    return p


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    keys = ("rate", "duration_s", "seed", "users", "bot_fraction", "malformed_fraction",
            "duplicate_fraction", "late_fraction", "late_max_minutes", "pace")  # fmt: skip
    return {k: getattr(args, k) for k in keys if getattr(args, k) is not None}


def _ensure_stream(endpoints: Endpoints, name: str) -> None:
    kinesis = endpoints.client("kinesis")
    try:
        kinesis.describe_stream_summary(StreamName=name)
        return
    except kinesis.exceptions.ResourceNotFoundException:
        pass
    print(f"[clickgen] creating stream {name}", file=sys.stderr)
    kinesis.create_stream(StreamName=name, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 1})


def main(argv: list[str] | None = None) -> int:
    """Run the handler once or on the schedule; print each invocation's summary as JSON."""
    args = _parser().parse_args(argv)
    if not args.aws and not os.environ.get(env_names.LOCALSTACK_URL):
        os.environ[env_names.LOCALSTACK_URL] = Endpoints.local().localstack_url or ""
    if args.stream:
        os.environ[env_names.STREAM_NAME] = args.stream
    # Imported after the environment is set: the handler reads it at import.
    from augury.settings import SettingsError
    from lambdas.clickgen.config import GeneratorConfig
    from lambdas.clickgen.handler import lambda_handler
    from lambdas.local_context import LocalContext

    overrides = _overrides(args)
    try:
        cfg = GeneratorConfig.from_sources(overrides=overrides)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    endpoints = Endpoints.from_env()
    if args.create_stream and not args.aws:
        _ensure_stream(endpoints, cfg.stream_name)

    def record(kind: str, fields: dict[str, Any]) -> None:
        if args.results is not None:
            with args.results.open("a") as fh:
                fh.write(json.dumps({"event": kind, **fields}) + "\n")

    def show(result: dict[str, Any]) -> None:
        print(json.dumps(result), flush=True)
        record("done", result)

    if args.schedule:
        queue_url = local_runner.ensure_schedule(endpoints)
        local_runner.drop_stale_ticks(endpoints, queue_url)
        period_s = local_runner.schedule_period_s(endpoints) or 60
        print(f"[clickgen] waiting for scheduled events on {queue_url} (SIGTERM stops after "
              "the running invocation, Ctrl-C at once)", file=sys.stderr)  # fmt: skip
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            local_runner.run(endpoints, queue_url, lambda_handler, overrides,
                             args.max_invocations, stop=stop, on_result=show,
                             bridge_s=local_runner.BRIDGE_S if args.start_now else None,
                             on_start=lambda started: record("start", started),
                             period_s=period_s)  # fmt: skip
        except KeyboardInterrupt:
            return 130
        return 0
    now = local_runner.iso_second(time.time())
    print(f"[clickgen] {cfg.rate:g} events/s for {cfg.duration_s}s into {cfg.stream_name}",
          file=sys.stderr)  # fmt: skip
    event = local_runner.scheduled_event(now, overrides)
    show(lambda_handler(event, LocalContext(local_runner.FUNCTION_NAME)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
