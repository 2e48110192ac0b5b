"""Where the pipeline's services are: the one place that knows LocalStack and Redis addresses.

Every Python module that talks to AWS or Redis gets its address from here, so a local run
and a cloud run differ only in environment variables:

- ``AUGURY_LOCALSTACK_URL``: when set, every AWS client goes to this LocalStack endpoint with
  dummy credentials (the local tooling sets it; in AWS it is unset and boto3 resolves as usual).
- ``AUGURY_REDIS_URL``: the Redis (or Valkey, ElastiCache) URL.
- ``AWS_DEFAULT_REGION`` / ``AWS_REGION``: the region, ``us-east-1`` by default.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import boto3

from augury import env as env_names
from augury.settings import SettingsError

LOCALSTACK_HOST = "127.0.0.1"
LOCALSTACK_PORT = 4566
DEFAULT_LOCALSTACK_URL = f"http://{LOCALSTACK_HOST}:{LOCALSTACK_PORT}"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_REGION = "us-east-1"
# LocalStack accepts any credentials; its default account is 000000000000.
LOCALSTACK_ACCOUNT_ID = "000000000000"
LOCALSTACK_CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}


def _check_url(name: str, value: str, schemes: tuple[str, ...]) -> str:
    parts = urlsplit(value)
    needs_host = parts.scheme != "unix"
    if parts.scheme not in schemes or (needs_host and not parts.hostname):
        raise SettingsError(
            f"environment variable {name}={value!r} is not a valid URL; expected "
            f"{'|'.join(schemes)}://HOST:PORT"
        )
    try:
        _ = parts.port
    except ValueError as exc:
        raise SettingsError(f"environment variable {name}={value!r} has an invalid port") from exc
    return value


@dataclass(frozen=True)
class Endpoints:
    """Addresses of the AWS API (real or LocalStack) and of Redis."""

    localstack_url: str | None
    redis_url: str
    region: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Endpoints:
        """Read the endpoints from the environment (see the module docstring)."""
        env = os.environ if env is None else env
        localstack_url = env.get(env_names.LOCALSTACK_URL) or None
        if localstack_url is not None:
            _check_url(env_names.LOCALSTACK_URL, localstack_url, ("http", "https"))
        redis_url = _check_url(
            env_names.REDIS_URL,
            env.get(env_names.REDIS_URL) or DEFAULT_REDIS_URL,
            ("redis", "rediss", "unix"),
        )
        region = next((env[n] for n in env_names.REGION if env.get(n)), DEFAULT_REGION)
        return cls(localstack_url=localstack_url, redis_url=redis_url, region=region)

    @classmethod
    def local(cls, env: Mapping[str, str] | None = None) -> Endpoints:
        """The local platform's endpoints: LocalStack even when the variable is unset."""
        found = cls.from_env(env)
        return cls(
            localstack_url=found.localstack_url or DEFAULT_LOCALSTACK_URL,
            redis_url=found.redis_url,
            region=found.region,
        )

    @property
    def is_local(self) -> bool:
        """True when AWS calls go to LocalStack."""
        return self.localstack_url is not None

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``boto3.client`` that reach these endpoints."""
        kwargs: dict[str, Any] = {"region_name": self.region}
        if self.localstack_url is not None:
            kwargs["endpoint_url"] = self.localstack_url
            kwargs.update(LOCALSTACK_CREDENTIALS)
        return kwargs

    def client(self, service_name: str, **overrides: Any) -> Any:
        """A boto3 client for ``service_name`` at these endpoints."""
        return boto3.client(service_name, **{**self.client_kwargs(), **overrides})  # type: ignore[call-overload]

    def secret_string(self, arn: str) -> str:
        """A Secrets Manager secret's string (the cache's AUTH password in AWS)."""
        return str(self.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"])


def redis_url_with_secret(url: str, secret_arn: str, fetch_secret: Callable[[str], str]) -> str:
    """``url`` with the password from the secret ``secret_arn`` (when set) added.

    ``fetch_secret(arn)`` returns the secret's string; the URL's user (``default`` when none)
    is kept, the password is URL-quoted.
    """
    if not secret_arn:
        return url
    password = fetch_secret(secret_arn)
    parts = urlsplit(url)
    user = parts.username or "default"
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{parts.hostname or ''}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))
