"""``python -m lambdas.read_api``: the read API and the dashboard page on a local port.

Reads Redis at ``AUGURY_REDIS_URL`` (``--redis-url``); ``--openapi`` prints the OpenAPI
document instead of serving.
"""

from __future__ import annotations

import argparse
import os
import sys

from augury import env as env_names
from augury.serving import serve_until_interrupted


def main(argv: list[str] | None = None) -> int:
    """Serve until Ctrl-C (or print the OpenAPI document)."""
    p = argparse.ArgumentParser(prog="python -m lambdas.read_api", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=8088, help="port to listen on (8088)")
    p.add_argument("--redis-url", help="Redis URL (default: AUGURY_REDIS_URL or local Redis)")
    p.add_argument("--openapi", action="store_true", help="print the OpenAPI document and exit")
    args = p.parse_args(argv)
    if args.redis_url:
        os.environ[env_names.REDIS_URL] = args.redis_url
    os.environ.setdefault(env_names.POWERTOOLS_LOG_LEVEL, "WARNING")

    from augury.settings import SettingsError
    from lambdas.read_api import handler
    from lambdas.read_api.config import ReadApiConfig
    from lambdas.read_api.local_server import make_server

    if args.openapi:
        print(handler.openapi_json())
        return 0
    try:
        cfg = ReadApiConfig.from_env()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    server = make_server(args.host, args.port, handler.lambda_handler)
    base = f"http://{args.host}:{server.server_address[1]}"
    print(f"[read-api] serving {cfg.redis_url} ({cfg.pipeline.window_s} s windows under "
          f"{cfg.pipeline.key_prefix}) at {base} (dashboard {base}/dashboard/, "
          f"OpenAPI {base}/openapi.json); Ctrl-C stops", file=sys.stderr)  # fmt: skip
    return serve_until_interrupted(server)


if __name__ == "__main__":
    sys.exit(main())
