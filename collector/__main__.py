"""``python -m collector``: the HTTP collector on a local port, writing to LocalStack's Kinesis.

Clients post click events to ``/events`` (one) or ``/events/batch`` (up to 500); each becomes
one Kinesis record stamped with its arrival time (``docs/collector.md``). The browser tracker
is served at ``/augury.js`` and a demo shop page at ``/shop/``.
"""

from __future__ import annotations

import argparse
import os
import sys

from augury import env as env_names
from augury.collector import LOCAL_PORT, parse_origins
from augury.resources import DEFAULT_STREAM_NAME
from augury.serving import serve_until_interrupted


def main(argv: list[str] | None = None) -> int:
    """Serve until Ctrl-C."""
    p = argparse.ArgumentParser(prog="python -m collector", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=LOCAL_PORT, help=f"port ({LOCAL_PORT}; 0: any)")
    stream = os.environ.get(env_names.STREAM_NAME, DEFAULT_STREAM_NAME)
    p.add_argument(
        "--stream",
        default=stream,
        help=f"Kinesis stream ({env_names.STREAM_NAME}, else {DEFAULT_STREAM_NAME})",
    )
    p.add_argument("--origins", default="*",
                   help="comma-separated origins CORS allows, or * (default)")  # fmt: skip
    p.add_argument("--log-requests", action="store_true", help="log every request to stderr")
    args = p.parse_args(argv)

    from augury.endpoints import Endpoints
    from augury.settings import SettingsError
    from collector.server import CollectorConfig, make_server

    try:
        endpoints = Endpoints.local()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    origins = parse_origins(args.origins) or ("*",)
    config = CollectorConfig(args.stream, endpoints, origins, args.log_requests)
    try:
        server = make_server(args.host, args.port, config)
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    print(f"[collector] {server.url} -> Kinesis stream {args.stream} at "
          f"{endpoints.localstack_url}; tracker {server.url}/augury.js, shop "
          f"{server.url}/shop/; Ctrl-C stops", file=sys.stderr)  # fmt: skip
    return serve_until_interrupted(server)


if __name__ == "__main__":
    sys.exit(main())
