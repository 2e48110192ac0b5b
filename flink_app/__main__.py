r"""``python -m flink_app replay``: rebuild Redis from raw files (bounded, BATCH mode).

python -m flink_app replay --input PATH_OR_S3_URI --redis-url redis://HOST:PORT/DB \\
        [--dead-letter PATH] [--ttl SECONDS] [--properties FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from augury.endpoints import Endpoints


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m flink_app",
        description="Augury's PyFlink sessionizer on a local Flink mini-cluster.",
    )
    sub = p.add_subparsers(dest="command", required=True)
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
    r.add_argument("--redis-url", help="default: sink.redis.url (redis://127.0.0.1:6379/0)")
    r.add_argument(
        "--dead-letter",
        default=".local/dead-letter",
        help="directory for invalid events with their reason (default: %(default)s)",
    )
    r.add_argument("--ttl", type=int, help="seconds before keys expire (default 86400)")
    r.add_argument("--properties", type=Path,
                   help="a properties file (Managed Flink's JSON property groups)")  # fmt: skip
    return p


def _progress(stop: threading.Event, started: float) -> None:
    while not stop.wait(10):
        print(f"[replay] running for {time.monotonic() - started:.0f}s", file=sys.stderr)


def replay(args: argparse.Namespace) -> dict[str, Any]:
    """Run one replay; the totals it wrote."""
    import redis

    from augury.redis_keys import Keys
    from flink_app import inputs, job, settings

    flags = {"source.type": "files", "source.input.path": args.input,
             "sink.redis.url": args.redis_url, "sink.redis.ttl.seconds": args.ttl,
             "sink.deadletter.path": args.dead_letter}  # fmt: skip
    s = settings.load(args.properties, flags=flags)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="augury-replay-") as scratch:
        path = inputs.local_input(s.input_path, Path(scratch), Endpoints.from_env())
        dead_letter = Path(s.dead_letter_path).resolve()
        print(f"[replay] {path} -> {s.redis_url} (dead letter: {dead_letter})", file=sys.stderr)
        t_env = job.table_env(s, batch=True)
        stmts = job.add_replay(t_env, s, str(path.resolve()), str(dead_letter))
        stop = threading.Event()
        threading.Thread(target=_progress, args=(stop, started), daemon=True).start()
        try:
            stmts.execute().wait()
        finally:
            stop.set()
    totals = redis.Redis.from_url(s.redis_url, decode_responses=True).hgetall(
        Keys(s.key_prefix).totals
    )
    summary = {"seconds": round(time.monotonic() - started, 1), "totals": totals,
               "dead_letter": str(dead_letter)}  # fmt: skip
    print(f"[replay] done in {summary['seconds']}s", file=sys.stderr)
    return summary


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = _parser().parse_args(argv)
    from flink_app.settings import SettingsError

    try:
        if args.command == "replay":
            print(json.dumps(replay(args)))
    except (SettingsError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
