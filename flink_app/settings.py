"""The job's settings, in property groups as Managed Service for Apache Flink provides them.

On Managed Flink the groups come from ``/etc/flink/application_properties.json``; locally the
same keys come from a properties file (same JSON shape), then environment variables
``AUGURY_FLINK_<GROUP>_<KEY>`` (upper case, dots as underscores), then command-line flags.
Everything is validated at start-up; a bad value raises an error naming ``group.key``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from augury.endpoints import DEFAULT_REDIS_URL, redis_url_with_secret
from augury.redis_keys import DEFAULT_PREFIX, DEFAULT_TTL_S
from augury.resources import DEFAULT_STREAM_NAME

MANAGED_FLINK_PROPERTIES: Final = Path("/etc/flink/application_properties.json")
ENV_PREFIX: Final = "AUGURY_FLINK_"

# group -> key -> default (as a string, the way property groups carry values)
DEFAULTS: Final[dict[str, dict[str, str]]] = {
    "source": {
        "type": "kinesis",  # kinesis | files
        "stream.name": DEFAULT_STREAM_NAME,
        "stream.arn": "",
        "aws.region": "us-east-1",
        "aws.endpoint": "",  # LocalStack locally; empty on AWS
        "start.position": "LATEST",  # LATEST | TRIM_HORIZON | AT_TIMESTAMP
        "start.timestamp": "",  # epoch seconds, with AT_TIMESTAMP
        "skip.arrived.before.ms": "0",  # kinesis: drop records that arrived before (0 = none)
        "input.path": "",  # files: a local directory/file or s3:// URI
        "files.monitor.seconds": "0",  # streaming over files: watch for new ones (0 = read once)
    },
    "sink": {
        "redis.url": DEFAULT_REDIS_URL,
        "redis.key.prefix": DEFAULT_PREFIX,
        "redis.ttl.seconds": str(DEFAULT_TTL_S),
        "redis.auth.secret.arn": "",  # Secrets Manager secret holding the AUTH password
        "deadletter.path": "",
    },
    "windows": {
        "size.seconds": "60",
        "watermark.delay.seconds": "5",
        "idle.timeout.seconds": "30",
        "early.fire.seconds": "5",
        "dedupe.horizon.minutes": "10",
        "bot.threshold": "10",
    },
    "sessions": {
        "gap.seconds": "60",
    },
    "job": {
        "parallelism": "1",
        "checkpoint.interval.seconds": "30",
        "checkpoint.dir": "",
    },
}


class SettingsError(ValueError):
    """A job setting is invalid; the message names ``group.key``."""


def read_property_groups(path: Path) -> dict[str, dict[str, str]]:
    """Managed Flink's JSON: a list of ``{"PropertyGroupId", "PropertyMap"}``."""
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise SettingsError(f"cannot read properties file {path}: {exc}") from exc
    if not isinstance(doc, list):
        raise SettingsError(f"{path}: expected a list of property groups")
    groups: dict[str, dict[str, str]] = {}
    for entry in doc:
        group = entry.get("PropertyGroupId")
        props = entry.get("PropertyMap", {})
        if not isinstance(group, str) or not isinstance(props, dict):
            raise SettingsError(f"{path}: each group needs PropertyGroupId and PropertyMap")
        groups[group] = {str(k): str(v) for k, v in props.items()}
    return groups


def merge_sources(
    files: list[dict[str, dict[str, str]]],
    env: Mapping[str, str],
    flags: Mapping[str, str],
) -> dict[str, dict[str, str]]:
    """Defaults, then property files, then environment, then ``flags`` (``group.key``)."""
    merged = {g: dict(keys) for g, keys in DEFAULTS.items()}
    for groups in files:
        for group, props in groups.items():
            if group in merged:
                for key, value in props.items():
                    _known(group, key)
                    merged[group][key] = value
    for group, keys in DEFAULTS.items():
        for key in keys:
            name = ENV_PREFIX + f"{group}_{key}".upper().replace(".", "_")
            if env.get(name):
                merged[group][key] = env[name]
    for dotted, value in flags.items():
        group, _, key = dotted.partition(".")
        _known(group, key)
        merged[group][key] = value
    return merged


def _known(group: str, key: str) -> None:
    if group not in DEFAULTS or key not in DEFAULTS[group]:
        raise SettingsError(f"unknown setting {group}.{key}")


def _int(groups: dict[str, dict[str, str]], group: str, key: str, low: int, high: int) -> int:
    raw = groups[group][key]
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{group}.{key}={raw!r} is not an integer") from None
    if not low <= value <= high:
        raise SettingsError(f"{group}.{key}={value} must be between {low} and {high}")
    return value


@dataclass(frozen=True)
class JobSettings:
    """Validated settings of one run of the job."""

    source_type: str
    stream_name: str
    stream_arn: str
    region: str
    aws_endpoint: str
    start_position: str
    start_timestamp: str
    input_path: str
    files_monitor_ms: int
    skip_arrived_before_ms: int
    redis_url: str
    redis_auth_secret_arn: str
    key_prefix: str
    ttl_s: int
    dead_letter_path: str
    window_ms: int
    watermark_delay_ms: int
    idle_timeout_ms: int
    early_fire_ms: int
    dedupe_horizon_ms: int
    bot_threshold: int
    session_gap_ms: int
    parallelism: int
    checkpoint_interval_ms: int
    checkpoint_dir: str

    @classmethod
    def from_groups(cls, g: dict[str, dict[str, str]]) -> JobSettings:
        """Validate merged property groups."""
        source_type = g["source"]["type"]
        if source_type not in ("kinesis", "files"):
            raise SettingsError(f"source.type={source_type!r} must be kinesis or files")
        position = g["source"]["start.position"]
        if position not in ("LATEST", "TRIM_HORIZON", "AT_TIMESTAMP"):
            raise SettingsError(
                f"source.start.position={position!r} must be LATEST, TRIM_HORIZON or AT_TIMESTAMP"
            )
        if position == "AT_TIMESTAMP" and not g["source"]["start.timestamp"]:
            raise SettingsError("source.start.timestamp is required with AT_TIMESTAMP")
        if source_type == "files" and not g["source"]["input.path"]:
            raise SettingsError("source.input.path is required with source.type=files")
        redis_url = g["sink"]["redis.url"]
        if not redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise SettingsError(f"sink.redis.url={redis_url!r} must be a redis:// URL")
        return cls(
            source_type=source_type,
            stream_name=g["source"]["stream.name"],
            stream_arn=g["source"]["stream.arn"],
            region=g["source"]["aws.region"],
            aws_endpoint=g["source"]["aws.endpoint"],
            start_position=position,
            start_timestamp=g["source"]["start.timestamp"],
            input_path=g["source"]["input.path"],
            files_monitor_ms=_int(g, "source", "files.monitor.seconds", 0, 86400) * 1000,
            skip_arrived_before_ms=_int(g, "source", "skip.arrived.before.ms", 0, 2**62),
            redis_url=redis_url,
            redis_auth_secret_arn=g["sink"]["redis.auth.secret.arn"],
            key_prefix=g["sink"]["redis.key.prefix"],
            ttl_s=_int(g, "sink", "redis.ttl.seconds", 60, 400 * 24 * 3600),
            dead_letter_path=g["sink"]["deadletter.path"],
            window_ms=_int(g, "windows", "size.seconds", 1, 3600) * 1000,
            watermark_delay_ms=_int(g, "windows", "watermark.delay.seconds", 0, 3600) * 1000,
            idle_timeout_ms=_int(g, "windows", "idle.timeout.seconds", 1, 3600) * 1000,
            early_fire_ms=_int(g, "windows", "early.fire.seconds", 1, 3600) * 1000,
            dedupe_horizon_ms=_int(g, "windows", "dedupe.horizon.minutes", 1, 7 * 24 * 60) * 60_000,
            bot_threshold=_int(g, "windows", "bot.threshold", 1, 1_000_000),
            session_gap_ms=_int(g, "sessions", "gap.seconds", 1, 24 * 3600) * 1000,
            parallelism=_int(g, "job", "parallelism", 1, 1024),
            checkpoint_interval_ms=_int(g, "job", "checkpoint.interval.seconds", 1, 3600) * 1000,
            checkpoint_dir=g["job"]["checkpoint.dir"],
        )


def redis_url_with_auth(settings: JobSettings, fetch_secret: Callable[[str], str]) -> str:
    """``sink.redis.url`` with the password from ``sink.redis.auth.secret.arn`` (when set) added.

    ``fetch_secret(arn)`` returns the secret's string (Secrets Manager GetSecretValue).
    """
    return redis_url_with_secret(settings.redis_url, settings.redis_auth_secret_arn, fetch_secret)


def load(
    properties_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
) -> JobSettings:
    """Settings from Managed Flink's file (when present), a local file, env and flags."""
    env = os.environ if env is None else env
    files = []
    if MANAGED_FLINK_PROPERTIES.exists():
        files.append(read_property_groups(MANAGED_FLINK_PROPERTIES))
    if properties_file is not None:
        files.append(read_property_groups(properties_file))
    clean_flags = {k: str(v) for k, v in (flags or {}).items() if v is not None}
    return JobSettings.from_groups(merge_sources(files, env, clean_flags))
