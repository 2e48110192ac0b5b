"""The read API's settings: environment variables, checked at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from augury.endpoints import EndpointError, Endpoints
from augury.redis_keys import DEFAULT_PREFIX

ENV_PREFIX = "READ_API_"


class ConfigError(ValueError):
    """A read API setting is invalid; the message names it."""


@dataclass(frozen=True)
class ReadApiConfig:
    """Where the Redis contract is and how much one request may ask for.

    ``AUGURY_REDIS_URL`` (``rediss://user@host:port`` for ElastiCache) and
    ``AUGURY_REDIS_AUTH_SECRET_ARN`` (the AUTH password's secret, optional) locate Redis;
    ``READ_API_KEY_PREFIX`` and ``READ_API_DEFAULT_MINUTES`` shape the answers.
    """

    redis_url: str
    redis_auth_secret_arn: str = ""
    key_prefix: str = DEFAULT_PREFIX
    default_minutes: int = 60
    """The time range of ``/windows`` and ``/sessions`` when the request gives none."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ReadApiConfig:
        """Read and check the settings."""
        env = os.environ if env is None else env
        try:
            redis_url = Endpoints.from_env(env).redis_url
        except EndpointError as exc:
            raise ConfigError(str(exc)) from None
        minutes_raw = env.get(f"{ENV_PREFIX}DEFAULT_MINUTES") or "60"
        if not minutes_raw.isdigit() or not 1 <= int(minutes_raw) <= 7 * 24 * 60:
            raise ConfigError(f"{ENV_PREFIX}DEFAULT_MINUTES={minutes_raw!r} must be 1..10080")
        prefix = env.get(f"{ENV_PREFIX}KEY_PREFIX", DEFAULT_PREFIX)
        if not prefix:
            raise ConfigError(f"{ENV_PREFIX}KEY_PREFIX must not be empty")
        return cls(
            redis_url=redis_url,
            redis_auth_secret_arn=env.get("AUGURY_REDIS_AUTH_SECRET_ARN", ""),
            key_prefix=prefix,
            default_minutes=int(minutes_raw),
        )
