r"""The job's command line: ``run`` (streaming) and ``replay`` (bounded BATCH).

python -m flink_app run [--source kinesis|files] [--stream NAME] [--start-position POS] \\
        [--from-checkpoint latest|DIR] [--set GROUP.KEY=VALUE ...] [--properties FILE]
python -m flink_app replay --input PATH_OR_S3_URI [--redis-url redis://HOST:PORT/DB] \\
        [--dead-letter PATH] [--ttl SECONDS] [--set GROUP.KEY=VALUE ...] [--properties FILE]

On Managed Service for Apache Flink, ``main.py`` calls ``run`` and the settings come from the
application's property groups.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from augury.endpoints import Endpoints

LOCAL_DEAD_LETTER = ".local/dead-letter/stream"
"""Where a local streaming run writes dead letters unless a setting says otherwise."""
LOCAL_CHECKPOINTS = ".local/state/flink-checkpoints"
"""Where a local streaming run checkpoints unless a setting says otherwise."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m flink_app",
        description="Augury's PyFlink sessionizer on a local Flink mini-cluster.",
    )
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run",
        help="streaming: Kinesis (or watched files) to sessions and windows in Redis",
        description="Validate, deduplicate, filter bots, sessionize on event time and write "
        "early and final windows to Redis, continuously. Locally it runs on a "
        "Flink mini-cluster against LocalStack's Kinesis (AUGURY_LOCALSTACK_URL), with "
        "checkpoints under --checkpoint-dir; Ctrl-C stops it, --from-checkpoint resumes.",
    )
    run.add_argument("--source", choices=["kinesis", "files"], help="default: kinesis")
    run.add_argument("--stream", help="Kinesis stream name (default augury-clicks)")
    run.add_argument("--start-position", choices=["LATEST", "TRIM_HORIZON", "AT_TIMESTAMP"],
                     help="where a new run starts reading (default LATEST)")  # fmt: skip
    run.add_argument("--input", help="with --source files: a directory to watch")
    run.add_argument("--redis-url", help="default: AUGURY_REDIS_URL or redis://127.0.0.1:6379/0")
    run.add_argument("--dead-letter",
                     help=f"invalid and late events go here (default: sink.deadletter.path, "
                          f"else {LOCAL_DEAD_LETTER})")  # fmt: skip
    run.add_argument("--checkpoint-dir",
                     help=f"checkpoints (default: job.checkpoint.dir, else "
                          f"{LOCAL_CHECKPOINTS})")  # fmt: skip
    run.add_argument("--from-checkpoint", metavar="latest|DIR",
                     help="resume from a chk-N directory, or the newest one")  # fmt: skip
    run.add_argument("--set", action="append", default=[], metavar="GROUP.KEY=VALUE",
                     help="any property, e.g. windows.early.fire.ms=250")  # fmt: skip
    run.add_argument("--properties", type=Path,
                     help="a properties file (Managed Flink's JSON property groups)")  # fmt: skip
    run.add_argument("--no-metrics", action="store_true",
                     help="do not publish the job's counters to CloudWatch every 10 s")  # fmt: skip
    r = sub.add_parser(
        "replay",
        help="bounded BATCH replay of raw NDJSON files (plain or .gz) into Redis",
        description="Validate, deduplicate, filter bots, sessionize and aggregate raw click "
        "events (Firehose's archive format) in BATCH mode, and write the results to Redis. "
        "Every window is final; there is no late data in a replay.",
    )
    r.add_argument("--input", required=True,
                   help="a file, a directory, or an s3:// prefix (LocalStack when "
                        "AUGURY_LOCALSTACK_URL is set)")  # fmt: skip
    r.add_argument("--redis-url", help="default: AUGURY_REDIS_URL or redis://127.0.0.1:6379/0")
    r.add_argument(
        "--dead-letter",
        default=".local/dead-letter",
        help="directory for invalid events with their reason (default: %(default)s)",
    )
    r.add_argument(
        "--ttl",
        type=int,
        help="seconds before keys expire (default: sink.redis.ttl.seconds, 86400)",
    )
    r.add_argument("--set", action="append", default=[], metavar="GROUP.KEY=VALUE",
                   help="any property, e.g. windows.size.seconds=30")  # fmt: skip
    r.add_argument("--properties", type=Path,
                   help="a properties file (Managed Flink's JSON property groups)")  # fmt: skip
    return p


def _progress(stop: threading.Event, started: float) -> None:
    while not stop.wait(10):
        print(f"[replay] running for {time.monotonic() - started:.0f}s", file=sys.stderr)


def _totals_line(redis_url: str, key: str) -> str:
    import redis

    try:
        totals = redis.Redis.from_url(redis_url, decode_responses=True, socket_timeout=2).hgetall(
            key
        )
    except redis.RedisError as exc:
        return f"redis unavailable ({exc})"
    return ", ".join(f"{k!s}={v!s}" for k, v in sorted(totals.items())) or "no results yet"


def _metrics_publisher(redis_url: str, keys: Any) -> Any:
    """The job's counters to CloudWatch (namespace Augury, job=sessionizer), or None."""
    import redis

    from augury.cloudwatch import JobMetricsPublisher
    from augury.endpoints import Endpoints

    try:
        conn = redis.Redis.from_url(redis_url, decode_responses=True, socket_timeout=2)
        return JobMetricsPublisher(Endpoints.from_env().client("cloudwatch"), conn, keys)
    except Exception as exc:
        print(f"[run] CloudWatch metrics off: {exc}", file=sys.stderr)
        return None


def run_settings(args: argparse.Namespace, managed: bool) -> Any:
    """The streaming run's ``JobSettings``: flags over env over the properties files.

    Outside the service, a run given no checkpoint or dead-letter location by any channel gets
    the local defaults (``LOCAL_CHECKPOINTS``, ``LOCAL_DEAD_LETTER``).
    """
    from flink_app import settings

    flags: dict[str, Any] = dict(settings.parse_sets(args.set))
    flags.update({
        "source.type": args.source, "source.stream.name": args.stream,
        "source.start.position": args.start_position, "source.input.path": args.input,
        "sink.redis.url": args.redis_url, "job.checkpoint.dir": args.checkpoint_dir,
        "sink.deadletter.path": args.dead_letter,
    })  # fmt: skip
    s = settings.load(args.properties, flag_values=flags)
    if managed:
        return s
    return dataclasses.replace(
        s,
        checkpoint_dir=s.checkpoint_dir or LOCAL_CHECKPOINTS,
        dead_letter_path=s.dead_letter_path or LOCAL_DEAD_LETTER,
    )


def run(args: argparse.Namespace) -> int:
    """Run the streaming job until it ends (bounded files), fails, or Ctrl-C."""
    from augury.redis_keys import Keys
    from flink_app import job, settings
    from flink_app.environment import redis_url

    managed = settings.MANAGED_FLINK_PROPERTIES.exists()
    s = run_settings(args, managed)
    restore = None
    if args.from_checkpoint == "latest":
        found = job.latest_checkpoint(s.checkpoint_dir) if s.checkpoint_dir else None
        if found is None:
            raise FileNotFoundError(f"no completed checkpoint under {s.checkpoint_dir!r}")
        restore = str(found)
    elif args.from_checkpoint:
        restore = args.from_checkpoint
    dead_letter = s.dead_letter_path or LOCAL_DEAD_LETTER
    if not dead_letter.startswith("s3://"):
        dead_letter = str(Path(dead_letter).resolve())
    source = s.stream_name if s.source_type == "kinesis" else s.input_path
    print(f"[run] {s.source_type}:{source} -> redis {s.pipeline.key_prefix}* (dead letter: "
          f"{dead_letter}; checkpoints: {s.checkpoint_dir or 'managed'}"
          f"{'; restoring ' + restore if restore else ''})", file=sys.stderr)  # fmt: skip
    t_env = job.table_env(s, batch=False)
    job.configure_stream(t_env, s, restore_from=restore, managed=managed)
    result = job.build(t_env, s, job.STREAM, dead_letter).execute()
    if managed:
        return 0  # the service runs the job
    started = time.monotonic()
    keys = Keys(s.pipeline.key_prefix)
    stop = threading.Event()

    url = redis_url(s)
    publisher = None if args.no_metrics else _metrics_publisher(url, keys)

    def progress() -> None:
        nonlocal publisher
        while not stop.wait(10):
            line = _totals_line(url, keys.totals)
            print(f"[run] {time.monotonic() - started:.0f}s: {line}", file=sys.stderr)
            if publisher is not None:
                try:
                    publisher.publish()
                except Exception as exc:  # metrics never stop the job
                    print(f"[run] CloudWatch metrics off: {exc}", file=sys.stderr)
                    publisher = None

    threading.Thread(target=progress, daemon=True).start()
    try:
        result.wait()
    except KeyboardInterrupt:
        print("[run] stopping (checkpoints are kept; resume with --from-checkpoint latest)",
              file=sys.stderr)  # fmt: skip
        client = result.get_job_client()
        if client is not None:
            client.cancel()
        return 130
    finally:
        stop.set()
    print(f"[run] input ended after {time.monotonic() - started:.0f}s", file=sys.stderr)
    return 0


def replay(args: argparse.Namespace) -> dict[str, Any]:
    """Run one replay; the totals it wrote."""
    import redis

    from augury.redis_keys import Keys
    from flink_app import inputs, job, settings

    flags: dict[str, Any] = dict(settings.parse_sets(args.set))
    flags.update({"source.type": "files", "source.input.path": args.input,
                  "sink.redis.url": args.redis_url, "sink.redis.ttl.seconds": args.ttl,
                  "sink.deadletter.path": args.dead_letter})  # fmt: skip
    s = settings.load(args.properties, flag_values=flags)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="augury-replay-") as scratch:
        path = inputs.local_input(s.input_path, Path(scratch), Endpoints.from_env())
        dead_letter = Path(s.dead_letter_path).resolve()
        print(f"[replay] {path} -> {s.redis_url} (dead letter: {dead_letter})", file=sys.stderr)
        t_env = job.table_env(s, batch=True)
        stmts = job.build(t_env, s, job.REPLAY, str(dead_letter), input_path=str(path.resolve()))
        stop = threading.Event()
        threading.Thread(target=_progress, args=(stop, started), daemon=True).start()
        try:
            stmts.execute().wait()
        finally:
            stop.set()
    totals = redis.Redis.from_url(s.redis_url, decode_responses=True).hgetall(
        Keys(s.pipeline.key_prefix).totals
    )
    summary = {"seconds": round(time.monotonic() - started, 1), "totals": totals,
               "dead_letter": str(dead_letter)}  # fmt: skip
    print(f"[replay] done in {summary['seconds']}s", file=sys.stderr)
    return summary


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = _parser().parse_args(argv)
    from augury.settings import SettingsError

    try:
        if args.command == "replay":
            print(json.dumps(replay(args)))
        elif args.command == "run":
            return run(args)
    except (SettingsError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
