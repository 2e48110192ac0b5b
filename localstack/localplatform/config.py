"""Settings of the local platform, read from the environment once, with their defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from augury import env as env_names
from augury.endpoints import Endpoints
from augury.settings import SettingsError

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCALSTACK_DIR = REPO_ROOT / "localstack"

# The AWS services the pipeline uses; DynamoDB backs LocalStack's Firehose Kinesis source,
# KMS and Secrets Manager back encrypted streams and the cache secret in the CDK local mode.
LOCALSTACK_SERVICES = (
    "s3", "kinesis", "firehose", "events", "sqs", "sns", "cloudformation", "cloudwatch",
    "logs", "iam", "sts", "ssm", "lambda", "dynamodb", "kms", "secretsmanager", "apigateway",
)  # fmt: skip

PLATFORM_MODES = ("auto", "host", "docker")


@dataclass(frozen=True)
class PlatformConfig:
    """Where the local platform keeps its state and which ports it serves on."""

    tools_dir: Path
    state_dir: Path
    mode: str
    localstack_host: str
    localstack_port: int
    redis_host: str
    redis_port: int
    endpoints: Endpoints
    localstack_python: str | None
    redis_server: str | None
    health_timeout_s: float

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PlatformConfig:
        """Read ``AUGURY_*`` settings; a bad value raises an error naming the variable."""
        env = os.environ if env is None else env
        endpoints = Endpoints.local(env)
        mode = env.get(env_names.PLATFORM, "auto")
        if mode not in PLATFORM_MODES:
            raise SettingsError(
                f"environment variable {env_names.PLATFORM}={mode!r} is not one of "
                f"{', '.join(PLATFORM_MODES)}"
            )
        ls = urlsplit(endpoints.localstack_url or "")
        redis = urlsplit(endpoints.redis_url)
        if redis.scheme not in ("redis", "rediss"):
            raise SettingsError(
                f"environment variable {env_names.REDIS_URL}={endpoints.redis_url!r}: the local "
                "platform serves redis://HOST:PORT"
            )
        timeout_raw = env.get(env_names.HEALTH_TIMEOUT, "120")
        try:
            timeout = float(timeout_raw)
        except ValueError:
            timeout = -1.0
        if timeout <= 0:
            raise SettingsError(
                f"environment variable {env_names.HEALTH_TIMEOUT}={timeout_raw!r} must be a "
                "positive number of seconds"
            )
        tools_dir = Path(env.get(env_names.TOOLS_DIR) or REPO_ROOT / ".local").resolve()
        state_dir = Path(env.get(env_names.STATE_DIR) or tools_dir / "state").resolve()
        return cls(
            tools_dir=tools_dir,
            state_dir=state_dir,
            mode=mode,
            localstack_host=ls.hostname or "127.0.0.1",
            localstack_port=ls.port or 4566,
            redis_host=redis.hostname or "127.0.0.1",
            redis_port=redis.port or 6379,
            endpoints=endpoints,
            localstack_python=env.get(env_names.LOCALSTACK_PYTHON) or None,
            redis_server=env.get(env_names.REDIS_SERVER) or None,
            health_timeout_s=timeout,
        )

    @property
    def localstack_url(self) -> str:
        """The LocalStack gateway URL."""
        return f"http://{self.localstack_host}:{self.localstack_port}"

    # What is installed (shared by every platform instance) lives under tools_dir; what one
    # running instance writes (data, PID files, logs) lives under state_dir.

    @property
    def localstack_venv(self) -> Path:
        """LocalStack's own Python 3.13 virtual environment."""
        return self.tools_dir / "localstack-venv"

    @property
    def localstack_packages(self) -> Path:
        """LocalStack's runtime packages (Java links, kinesis-mock)."""
        return self.tools_dir / "localstack-packages"

    @property
    def bin_dir(self) -> Path:
        """Executables the platform installs for itself (e.g. a redis-server link)."""
        return self.tools_dir / "bin"

    @property
    def localstack_dir(self) -> Path:
        """One LocalStack instance's FILESYSTEM_ROOT parent, PID file and log."""
        return self.state_dir / "localstack"

    @property
    def jobs_dir(self) -> Path:
        """PID files of the jobs run on top of the platform (``localplatform.jobs``)."""
        return self.state_dir / "jobs"

    @property
    def redis_dir(self) -> Path:
        """One Redis instance's data directory, PID file and log."""
        return self.state_dir / "redis"
