"""Command line of the local platform: ``python -m localplatform --help``."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from augury import env as env_names
from augury.settings import SettingsError
from localplatform import (
    browser,
    cdk_local,
    docker_compose,
    jobs,
    localstack_host,
    platform,
    procs,
    redis_server,
)
from localplatform.config import PlatformConfig


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m localplatform",
        description=(
            "Augury's local platform: LocalStack community (on the host without Docker, or in "
            "Docker when an engine answers) and a Redis server. Settings come from the "
            "environment: AUGURY_PLATFORM=auto|host|docker, AUGURY_LOCALSTACK_URL, "
            "AUGURY_REDIS_URL, AUGURY_STATE_DIR, AUGURY_LOCALSTACK_PYTHON, AUGURY_REDIS_SERVER, "
            "AUGURY_HEALTH_TIMEOUT."
        ),
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("install", help="install LocalStack (own venv), its offline packages, Redis")
    sub.add_parser("up", help="start everything not yet running and wait until healthy")
    dn = sub.add_parser(
        "down",
        help="stop everything the platform started, children included",
        description="Stop the jobs left running on the platform (a demo's Flink job and "
        "generator, by their recorded process groups), then LocalStack and Redis.",
    )
    dn.add_argument(
        "parts",
        nargs="*",
        metavar="PART",
        help="only these: jobs, localstack, redis (default: all)",
    )
    st = sub.add_parser("status", help="show each component and whether it is healthy")
    st.add_argument("--json", action="store_true", help="print JSON instead of a table")
    st.add_argument("--check", action="store_true", help="exit 1 unless all are healthy")
    lg = sub.add_parser("logs", help="print a component's log")
    lg.add_argument("component", choices=platform.COMPONENTS, nargs="?", default="localstack")
    lg.add_argument("-n", "--lines", type=int, default=50, help="lines to show (default 50)")
    lg.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    sub.add_parser("env", help="print shell exports that point clients at the platform")
    png = sub.add_parser("dashboard-png", help="render a CloudWatch dashboard to a PNG")
    png.add_argument("--name", default="augury-local-pipeline", help="dashboard name")
    png.add_argument("--minutes", type=int, default=60, help="time range (default 60)")
    png.add_argument("--out", type=Path, default=Path(".local/state/dashboard.png"),
                     help="PNG path (default .local/state/dashboard.png)")  # fmt: skip
    sub.add_parser("browser", help="install Chromium for the dashboard's browser tests")
    sub.add_parser("cdk-cli", help="install the pinned CDK CLI and cdklocal (npm ci)")
    sub.add_parser("deploy", help="deploy the CDK app's local mode to the running LocalStack")
    sub.add_parser("destroy", help="empty the local stacks' buckets and destroy the stacks")
    return parser


def _logs(cfg: PlatformConfig, component: str, lines: int, follow: bool) -> None:
    if docker_compose.use_docker(cfg):
        docker_compose.logs(component, follow)
        return
    path = (
        localstack_host.log_file(cfg) if component == "localstack" else redis_server.log_file(cfg)
    )
    print(procs.tail(path, lines))
    if not follow:
        return
    with path.open() as fh:
        fh.seek(0, 2)
        while True:
            line = fh.readline()
            if line:
                print(line, end="", flush=True)
            else:
                time.sleep(0.5)


def main(argv: list[str] | None = None) -> int:
    """Run one platform command; the process exit code."""
    args = _parser().parse_args(argv)
    try:
        cfg = PlatformConfig.from_env()
        if args.command == "install":
            platform.install(cfg)
        elif args.command == "up":
            platform.up(cfg)
            print(platform.render(platform.status(cfg)))
        elif args.command == "down":
            unknown = set(args.parts) - {platform.JOBS, *platform.COMPONENTS}
            if unknown:
                parts = ", ".join([platform.JOBS, *platform.COMPONENTS])
                raise SettingsError(f"down: unknown part(s) {sorted(unknown)}; parts: {parts}")
            stopped = platform.down(cfg, only=args.parts or None)
            print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
        elif args.command == "status":
            statuses = platform.status(cfg)
            if args.json:
                print(json.dumps([s.as_dict() for s in statuses], indent=2))
            else:
                print(platform.render(statuses))
                for name, pgid in jobs.running(cfg.jobs_dir).items():
                    print(f"job {name} is running (process group {pgid}; `make down` stops it)")
            if args.check and not all(s.healthy for s in statuses):
                return 1
        elif args.command == "logs":
            _logs(cfg, args.component, args.lines, args.follow)
        elif args.command == "env":
            print(f"export {env_names.LOCALSTACK_URL}={cfg.localstack_url}")
            print(f"export {env_names.REDIS_URL}={cfg.endpoints.redis_url}")
            print(f"export {env_names.REGION[1]}={cfg.endpoints.region}")
        elif args.command == "dashboard-png":
            from localplatform import dashboard_png

            cloudwatch = cfg.endpoints.client("cloudwatch")
            points = dashboard_png.render(cloudwatch, args.name, args.out, args.minutes)
            with_data = sum(1 for n in points.values() if n)
            print(f"wrote {args.out}: {len(points)} metric widgets, {with_data} with data")
        elif args.command == "browser":
            print(browser.install())
        elif args.command == "cdk-cli":
            print(cdk_local.install_cli(cfg))
        elif args.command == "deploy":
            platform.up(cfg)
            print(json.dumps(cdk_local.deploy(cfg), indent=2))
        elif args.command == "destroy":
            destroyed = cdk_local.destroy(cfg)
            print("destroyed: " + (", ".join(destroyed) if destroyed else "no local stacks"))
    except (SettingsError, FileNotFoundError, RuntimeError, TimeoutError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as exc:
        print(
            f"error: command failed ({exc.returncode}): {' '.join(map(str, exc.cmd))}",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
