"""A real Redis server on loopback, started from the machine's binaries (Redis 7 or Valkey)."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import redis

from augury import env as env_names
from localplatform import apt, procs
from localplatform.config import PlatformConfig
from localplatform.console import step

SERVER_NAMES = ("redis-server", "valkey-server")
# Debian's redis-tools ships the server binary as redis-check-rdb; it runs as a server when
# invoked under the name redis-server. Installing redis-tools (rather than redis-server) avoids
# a system service that would start on the same port.
CHECK_RDB = "redis-check-rdb"
APT_PACKAGE = "redis-tools"

MISSING_MESSAGE = (
    "No Redis server found and it could not be installed here. Install Redis 7 or Valkey "
    "(Debian/Ubuntu: sudo apt-get install redis-tools  or  redis-server; macOS: brew install "
    f"redis), or set {env_names.REDIS_SERVER} to a redis-server/valkey-server binary."
)


def pid_file(cfg: PlatformConfig) -> Path:
    """The Redis process's PID file."""
    return cfg.redis_dir / "redis.pid"


def log_file(cfg: PlatformConfig) -> Path:
    """Redis's log."""
    return cfg.redis_dir / "redis.log"


def find_server(
    cfg: PlatformConfig, which: Callable[[str], str | None] = shutil.which
) -> str | None:
    """The Redis server binary to run: the setting, PATH, or the platform's own link."""
    if cfg.redis_server:
        if not os.access(cfg.redis_server, os.X_OK):
            raise FileNotFoundError(
                f"{env_names.REDIS_SERVER}={cfg.redis_server!r} is not an executable file"
            )
        return cfg.redis_server
    for name in SERVER_NAMES:
        found = which(name)
        if found:
            return found
    link = cfg.bin_dir / "redis-server"
    return str(link) if link.exists() else None


def install(cfg: PlatformConfig) -> str:
    """Find a Redis server, installing Debian's redis-tools when none is present."""
    found = find_server(cfg)
    if found:
        return found
    check_rdb = shutil.which(CHECK_RDB)
    if check_rdb is None:
        apt.install([APT_PACKAGE], MISSING_MESSAGE)
        check_rdb = shutil.which(CHECK_RDB)
        if check_rdb is None:
            raise FileNotFoundError(f"{MISSING_MESSAGE}\n({APT_PACKAGE} has no {CHECK_RDB})")
    cfg.bin_dir.mkdir(parents=True, exist_ok=True)
    link = cfg.bin_dir / "redis-server"
    link.unlink(missing_ok=True)
    link.symlink_to(check_rdb)
    return str(link)


def server_argv(binary: str, cfg: PlatformConfig) -> list[str]:
    """The command line of the platform's Redis (pure)."""
    return [
        binary,
        "--bind", cfg.redis_host,
        "--port", str(cfg.redis_port),
        "--dir", str(cfg.redis_dir),
        "--save", "",
        "--appendonly", "no",
        "--daemonize", "no",
        "--protected-mode", "yes",
    ]  # fmt: skip


def client(cfg: PlatformConfig) -> redis.Redis:
    """A Redis client for the platform's server."""
    return redis.Redis(host=cfg.redis_host, port=cfg.redis_port, socket_timeout=2)


def ping(cfg: PlatformConfig) -> str | None:
    """The server's version when it answers PING, else None."""
    try:
        conn = client(cfg)
        conn.ping()
        info = conn.info("server")
        conn.close()
    except (redis.RedisError, OSError):
        return None
    return str(info.get("valkey_version") or info.get("redis_version", "?"))


def running_pid(cfg: PlatformConfig) -> int | None:
    """The PID of the Redis this platform started, if it still runs."""
    return procs.running(pid_file(cfg))


def start(cfg: PlatformConfig) -> bool:
    """Start Redis unless something already serves its port; True when started here."""
    if running_pid(cfg) is not None or procs.port_open(cfg.redis_host, cfg.redis_port):
        return False
    binary = install(cfg)
    cfg.redis_dir.mkdir(parents=True, exist_ok=True)
    step(f"Redis: starting {binary} on {cfg.redis_host}:{cfg.redis_port}")
    procs.spawn(
        server_argv(binary, cfg),
        pid_file=pid_file(cfg),
        log_file=log_file(cfg),
        env=dict(os.environ),
        cwd=cfg.redis_dir,
    )
    return True


def wait_healthy(cfg: PlatformConfig, timeout_s: float = 15.0) -> str:
    """Wait until Redis answers PING; its version."""
    deadline = time.monotonic() + timeout_s
    while True:
        version = ping(cfg)
        if version:
            return version
        pid = procs.read_pid(pid_file(cfg))
        if pid is not None and not procs.is_alive(pid):
            raise RuntimeError(f"Redis exited during start-up:\n{procs.tail(log_file(cfg), 20)}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"Redis not answering after {timeout_s:.0f}s")
        time.sleep(0.2)


def stop(cfg: PlatformConfig) -> bool:
    """Stop the Redis this platform started."""
    return procs.stop_recorded(pid_file(cfg), timeout_s=10)
