"""The read API's settings: environment variables, checked at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from augury import env as env_names
from augury.endpoints import Endpoints
from augury.settings import PipelineSettings, Spec, environment, resolve

DEFAULT_MINUTES = Spec(
    "default_minutes",
    "api.default.minutes",
    env_names.READ_API_DEFAULT_MINUTES,
    None,
    60,
    1,
    7 * 24 * 60,
    doc="range of /windows and /sessions by default",
)
"""The time range of ``/windows`` and ``/sessions`` when a request gives none."""


@dataclass(frozen=True)
class ReadApiConfig:
    """Where the Redis contract is, what the pipeline wrote, how much one request may ask for.

    ``AUGURY_REDIS_URL`` (``rediss://user@host:port`` for ElastiCache) and
    ``AUGURY_REDIS_AUTH_SECRET_ARN`` (the AUTH password's secret, optional) locate Redis; the
    pipeline settings (``augury.settings``: the key prefix, the window size) say what it holds;
    ``READ_API_DEFAULT_MINUTES`` shapes the answers. A bad value raises ``SettingsError``.
    """

    redis_url: str
    pipeline: PipelineSettings
    redis_auth_secret_arn: str = ""
    default_minutes: int = 60

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ReadApiConfig:
        """Read and check the settings."""
        env = os.environ if env is None else env
        minutes = resolve([DEFAULT_MINUTES], [environment(env)]).values["default_minutes"]
        assert isinstance(minutes, int)
        return cls(
            redis_url=Endpoints.from_env(env).redis_url,
            pipeline=PipelineSettings.from_env(env),
            redis_auth_secret_arn=env.get(env_names.REDIS_AUTH_SECRET_ARN, ""),
            default_minutes=minutes,
        )
