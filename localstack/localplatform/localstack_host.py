"""LocalStack community (localstack-core) run directly on the host, without Docker."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from augury import env as env_names
from localplatform import offline_packages, procs, python313
from localplatform.config import LOCALSTACK_DIR, LOCALSTACK_SERVICES, REPO_ROOT, PlatformConfig
from localplatform.console import step

LOCK_FILE = LOCALSTACK_DIR / "requirements.lock"
# The provider plugin that serves LocalStack's DynamoDB from moto (see its module docstring).
DYNAMODB_PROVIDER = LOCALSTACK_DIR / "dynamodb-provider"
DYNAMODB_PROVIDER_NAME = "moto"
BUILD_LEFTOVERS = shutil.ignore_patterns("build", "*.egg-info", "__pycache__")
# localstack-core's dependencies as of its release: today's cbor2 and pyOpenSSL break it.
EXCLUDE_NEWER = "2026-03-31"
# Where LocalStack's analytics and license calls go: a closed loopback port (offline, no account).
DEAD_ENDPOINT = "http://127.0.0.1:9"


@dataclass(frozen=True)
class Health:
    """LocalStack's answer to ``/_localstack/health``."""

    ok: bool
    version: str
    services: dict[str, str]
    error: str = ""

    def failed_services(self, wanted: tuple[str, ...]) -> list[str]:
        """Wanted services that are neither available nor running."""
        good = ("available", "running")
        return [s for s in wanted if self.services.get(s) not in good]


def venv_dir(cfg: PlatformConfig) -> Path:
    """LocalStack's own virtual environment."""
    return cfg.localstack_venv


def venv_python(cfg: PlatformConfig) -> Path:
    """LocalStack's venv interpreter."""
    return venv_dir(cfg) / "bin" / "python"


def filesystem_root(cfg: PlatformConfig) -> Path:
    """LocalStack's FILESYSTEM_ROOT: its data, packages and caches."""
    return cfg.localstack_dir / "fs"


def pid_file(cfg: PlatformConfig) -> Path:
    """The LocalStack process's PID file."""
    return cfg.localstack_dir / "localstack.pid"


def log_file(cfg: PlatformConfig) -> Path:
    """LocalStack's log."""
    return cfg.localstack_dir / "localstack.log"


def runtime_env(cfg: PlatformConfig, base: dict[str, str]) -> dict[str, str]:
    """The environment LocalStack runs with on the host (pure: no I/O)."""
    env = dict(base)
    # Drop settings meant for clients of LocalStack, not for LocalStack itself.
    for key in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", env_names.LOCALSTACK_URL):
        env.pop(key, None)
    gateway = f"{cfg.localstack_host}:{cfg.localstack_port}"
    env.update(
        {
            # The machine may carry Docker's marker file: without this, LocalStack believes it
            # runs in a container and rewrites the system's DNS resolver configuration.
            "OVERRIDE_IN_DOCKER": "0",
            "DNS_ADDRESS": "0",
            "GATEWAY_LISTEN": gateway,
            "LOCALSTACK_HOST": gateway,
            "FILESYSTEM_ROOT": str(filesystem_root(cfg)),
            "DISABLE_EVENTS": "1",
            "SKIP_SSL_CERT_DOWNLOAD": "1",
            "API_ENDPOINT": DEAD_ENDPOINT,
            "ANALYTICS_API": DEAD_ENDPOINT,
            "SERVICES": ",".join(LOCALSTACK_SERVICES),
            # CloudFormation: deploy stacks whose dashboards LocalStack cannot create.
            "CFN_IGNORE_UNSUPPORTED_RESOURCE_TYPES": "1",
            "EAGER_SERVICE_LOADING": "0",
            # kinesis-mock would rewrite its whole state to disk every 5 s; PutRecords latency
            # then grows with the data (measured: 0.2 s to 4 s per call within 15k records).
            "KINESIS_PERSISTENCE": "0",
            # DynamoDB (the KCL's leases behind Firehose's Kinesis source) from moto, not from
            # Amazon's DynamoDB Local, which is not open source.
            "PROVIDER_OVERRIDE_DYNAMODB": DYNAMODB_PROVIDER_NAME,
            # A helper script LocalStack runs uses `#!/usr/bin/env python`.
            "PATH": f"{venv_dir(cfg) / 'bin'}{os.pathsep}{base.get('PATH', '')}",
        }
    )
    return env


def _lock_digest() -> str:
    """What the venv is made of: the lock file and the DynamoDB provider plugin's sources."""
    digest = hashlib.sha256(LOCK_FILE.read_bytes())
    sources = [DYNAMODB_PROVIDER / "pyproject.toml", *DYNAMODB_PROVIDER.glob("*/*.py")]
    for path in sorted(sources):
        digest.update(str(path.relative_to(DYNAMODB_PROVIDER)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def install(cfg: PlatformConfig) -> None:
    """Create LocalStack's Python 3.13 venv from the lock file and its offline packages.

    Idempotent: a stamp of the lock file's and the DynamoDB plugin's digest skips work that is
    already done. A LocalStack this platform started from an outdated install is stopped first
    (its files are about to be replaced); the next ``up`` starts the new one.
    """
    venv = venv_dir(cfg)
    stamp = venv / ".augury-lock"
    current = stamp.exists() and stamp.read_text() == _lock_digest()
    outdated = not current or offline_packages.has_dynamodb_local(cfg.localstack_packages)
    if outdated and running_pid(cfg) is not None:
        step("LocalStack: stopping the running instance, its install is being replaced")
        stop(cfg)
    if not current:
        python = python313.find(cfg.localstack_python)
        step(f"LocalStack: creating its venv with {python} (localstack-core, pinned)")
        if venv.exists():
            shutil.rmtree(venv)
        uv = _find_uv()
        if uv:
            subprocess.run([uv, "venv", "-q", "--python", python, str(venv)], check=True)
            pip = [uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python")]
            subprocess.run([*pip, "--exclude-newer", EXCLUDE_NEWER, "-r", str(LOCK_FILE)],
                           check=True)  # fmt: skip
        else:
            subprocess.run([python, "-m", "venv", str(venv)], check=True)
            pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
            subprocess.run([*pip, "-r", str(LOCK_FILE)], check=True)
        step("LocalStack: installing its DynamoDB provider (moto)")
        # Built from a fresh copy: no build leftovers in the checkout, none carried over.
        with tempfile.TemporaryDirectory() as tmp:
            source = Path(tmp) / DYNAMODB_PROVIDER.name
            shutil.copytree(DYNAMODB_PROVIDER, source, ignore=BUILD_LEFTOVERS)
            subprocess.run([*pip, "--no-deps", str(source)], check=True)
        stamp.write_text(_lock_digest())
    offline_packages.ensure(
        cfg.localstack_packages, venv_python(cfg), runtime_env(cfg, dict(os.environ))
    )


def prepare_state(cfg: PlatformConfig) -> None:
    """Create this instance's FILESYSTEM_ROOT, sharing the installed runtime packages."""
    lib = offline_packages.lib_dir(filesystem_root(cfg))
    lib.parent.mkdir(parents=True, exist_ok=True)
    if lib.is_symlink() and lib.resolve() == cfg.localstack_packages.resolve():
        return
    if lib.is_symlink() or lib.is_file():
        lib.unlink()
    elif lib.exists():
        shutil.rmtree(lib)
    lib.symlink_to(cfg.localstack_packages, target_is_directory=True)


def _find_uv() -> str | None:
    local = REPO_ROOT / ".local" / "uv" / "bin" / "uv"
    if local.exists():
        return str(local)
    return os.environ.get(env_names.UV_RUNNING) or shutil.which("uv")


def health(cfg: PlatformConfig, timeout_s: float = 2.0) -> Health:
    """Ask LocalStack for its health; never raises."""
    url = f"{cfg.localstack_url}/_localstack/health"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:
            body = json.loads(resp.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return Health(ok=False, version="", services={}, error=str(exc))
    services = {k: str(v) for k, v in body.get("services", {}).items()}
    return Health(ok=True, version=str(body.get("version", "")), services=services)


def running_pid(cfg: PlatformConfig) -> int | None:
    """The PID of the LocalStack this platform started, if it still runs."""
    return procs.running(pid_file(cfg))


def start(cfg: PlatformConfig) -> bool:
    """Start LocalStack unless something already serves its port; True when started here."""
    if running_pid(cfg) is not None or procs.port_open(cfg.localstack_host, cfg.localstack_port):
        return False
    install(cfg)
    prepare_state(cfg)
    step(f"LocalStack: starting on {cfg.localstack_url} (log: {log_file(cfg)})")
    procs.spawn(
        [str(venv_python(cfg)), "-m", "localstack.runtime.main"],
        pid_file=pid_file(cfg),
        log_file=log_file(cfg),
        env=runtime_env(cfg, dict(os.environ)),
        cwd=cfg.localstack_dir,
    )
    return True


def wait_healthy(cfg: PlatformConfig) -> Health:
    """Wait until LocalStack answers its health check, or fail with its log's tail."""
    deadline = time.monotonic() + cfg.health_timeout_s
    while True:
        h = health(cfg)
        if h.ok:
            return h
        pid = procs.read_pid(pid_file(cfg))
        if pid is not None and not procs.is_alive(pid):
            last = procs.tail(log_file(cfg), 30)
            raise RuntimeError(f"LocalStack exited during start-up; last log lines:\n{last}")
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"LocalStack not healthy after {cfg.health_timeout_s:.0f}s "
                f"({env_names.HEALTH_TIMEOUT}); last log lines:\n{procs.tail(log_file(cfg), 30)}"
            )
        time.sleep(0.5)


def stop(cfg: PlatformConfig) -> bool:
    """Stop the LocalStack this platform started, with all its children."""
    return procs.stop_recorded(pid_file(cfg))
