"""The Docker path: the same platform from ``localstack/docker-compose.yml``."""

from __future__ import annotations

import shutil
import subprocess

from augury import env as env_names
from localplatform.config import LOCALSTACK_DIR, PlatformConfig
from localplatform.console import step

COMPOSE_FILE = LOCALSTACK_DIR / "docker-compose.yml"


def engine_available() -> bool:
    """True when a Docker engine answers (the client alone is not enough)."""
    docker = shutil.which("docker")
    if docker is None:
        return False
    try:
        result = subprocess.run([docker, "info"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def use_docker(cfg: PlatformConfig, engine: bool | None = None) -> bool:
    """Whether this platform runs in Docker: by AUGURY_PLATFORM, else when an engine answers."""
    if cfg.mode == "host":
        return False
    available = engine_available() if engine is None else engine
    if cfg.mode == "docker" and not available:
        raise RuntimeError(
            f"{env_names.PLATFORM}=docker, but no Docker engine answers `docker info`"
        )
    return available


def _compose(*args: str) -> None:
    subprocess.run(["docker", "compose", "-f", str(COMPOSE_FILE), *args], check=True)


def up() -> None:
    """Start LocalStack and Redis containers and wait for their health checks."""
    step(f"docker: starting {COMPOSE_FILE.name}")
    _compose("up", "-d", "--wait")


def down() -> None:
    """Remove the containers (and LocalStack's volume)."""
    step("docker: stopping")
    _compose("down", "-v")


def logs(service: str, follow: bool) -> None:
    """Show a container's logs."""
    _compose("logs", *(["-f"] if follow else []), service)
