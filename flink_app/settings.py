"""The job's settings: the pipeline's (``augury.settings``) plus where to read and write.

On Managed Flink they come from the application's property groups
(``/etc/flink/application_properties.json``, or the file ``AUGURY_MANAGED_FLINK_PROPERTIES``
names: the application zip run outside the service); locally the same ``group.key`` properties
come from a properties file of the same shape, then environment variables, then ``--set``
flags, later ones winning. The pipeline settings (window, gap, delay, early results, bots,
dedupe, TTL, key prefix) are ``augury.settings.PIPELINE``; this module adds the job's own
(source, sink, checkpoints). Everything is validated at start-up: a bad value raises
``augury.settings.SettingsError`` naming the setting as its channel spells it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from augury import env as env_names
from augury.endpoints import DEFAULT_REDIS_URL, DEFAULT_REGION, redis_url_with_secret
from augury.resources import DEFAULT_STREAM_NAME
from augury.settings import (
    ENVIRONMENT,
    FLAG,
    PIPELINE,
    RETIRED,
    Channel,
    PipelineSettings,
    SettingsError,
    Spec,
    environment,
    flags,
    invalid,
    properties,
    resolve,
)

__all__ = [
    "JOB", "MANAGED_FLINK_PROPERTIES", "JobSettings", "SettingsError", "load",
    "managed_properties",
]  # fmt: skip

MANAGED_FLINK_PROPERTIES: Final = Path("/etc/flink/application_properties.json")
"""Where Managed Flink puts the application's property groups; the job runs on the service when
it exists (the service then provides the cluster, the class path and the checkpoints)."""


def _job(attr: str, prop: str, default: int | str, low: int = 0, high: int = 0, scale: int = 1,
         pattern: str | None = None, rule: str = "", env: str | None = None) -> Spec:  # fmt: skip
    return Spec(attr, prop, env or env_names.job_property(prop), None, default, low, high, scale,
                pattern, rule)  # fmt: skip


JOB: Final[tuple[Spec, ...]] = (
    _job("source_type", "source.type", "kinesis", pattern="kinesis|files|traffic",
         rule="must be kinesis, files or traffic"),
    _job("stream_name", "source.stream.name", DEFAULT_STREAM_NAME, pattern=r"[\w.-]{1,128}",
         rule="must be a Kinesis stream name", env=env_names.STREAM_NAME),
    _job("region", "source.aws.region", DEFAULT_REGION, pattern=r"[a-z]{2}(-[a-z]+)+-\d",
         rule="must be an AWS region like us-east-1"),
    _job("aws_endpoint", "source.aws.endpoint", "", pattern=r"(https?://\S+)?",
         rule="must be an http(s):// URL (LocalStack) or empty (AWS)",
         env=env_names.LOCALSTACK_URL),
    _job("start_position", "source.start.position", "LATEST",
         pattern="LATEST|TRIM_HORIZON|AT_TIMESTAMP",
         rule="must be LATEST, TRIM_HORIZON or AT_TIMESTAMP"),
    _job("start_timestamp", "source.start.timestamp", "", pattern=r"(\d+(\.\d+)?)?",
         rule="must be epoch seconds"),
    _job("skip_arrived_before_ms", "source.skip.arrived.before.ms", 0, 0, 2**62),
    _job("input_path", "source.input.path", ""),
    _job("files_monitor_ms", "source.files.monitor.seconds", 0, 0, 86400, 1000),
    _job("traffic_rate", "source.traffic.rate", 0, 0, 10_000_000),
    _job("traffic_probe_ms", "source.traffic.probe.interval.ms", 0, 0, 3_600_000),
    _job("traffic_count", "source.traffic.count", 0, 0, 2**62),
    _job("traffic_progress_path", "source.traffic.progress.path", ""),
    _job("redis_url", "sink.redis.url", DEFAULT_REDIS_URL, pattern=r"(redis|rediss)://.+",
         rule="must be a redis:// or rediss:// URL", env=env_names.REDIS_URL),
    _job("redis_auth_secret_arn", "sink.redis.auth.secret.arn", "",
         env=env_names.REDIS_AUTH_SECRET_ARN),
    _job("dead_letter_path", "sink.deadletter.path", ""),
    _job("idle_timeout_ms", "windows.idle.timeout.seconds", 30, 1, 3600, 1000),
    _job("parallelism", "job.parallelism", 1, 1, 1024),
    _job("checkpoint_interval_ms", "job.checkpoint.interval.seconds", 30, 1, 3600, 1000),
    _job("checkpoint_dir", "job.checkpoint.dir", ""),
)  # fmt: skip
"""The job's own settings (the pipeline's are ``augury.settings.PIPELINE``)."""

KNOWN: Final = frozenset(s.prop for s in (*PIPELINE, *JOB))
"""Every property ``group.key`` the job reads."""
GROUPS: Final = frozenset(key.split(".", 1)[0] for key in KNOWN)


@dataclass(frozen=True)
class JobSettings:
    """Validated settings of one run of the job."""

    pipeline: PipelineSettings
    source_type: str
    stream_name: str
    region: str
    aws_endpoint: str
    start_position: str
    start_timestamp: str
    skip_arrived_before_ms: int
    input_path: str
    files_monitor_ms: int
    traffic_rate: int
    traffic_probe_ms: int
    traffic_count: int
    traffic_progress_path: str
    redis_url: str
    redis_auth_secret_arn: str
    dead_letter_path: str
    idle_timeout_ms: int
    parallelism: int
    checkpoint_interval_ms: int
    checkpoint_dir: str

    @classmethod
    def from_channels(cls, *channels: Channel) -> JobSettings:
        """The settings from ``channels`` (later ones win), validated."""
        for channel in channels:
            _reject_unknown(channel)
        found = resolve(JOB, channels)
        v = found.values
        if v["start_position"] == "AT_TIMESTAMP" and not v["start_timestamp"]:
            raise SettingsError("source.start.timestamp is required with AT_TIMESTAMP")
        if v["source_type"] in ("files", "traffic") and not v["input_path"]:
            kind = v["source_type"]
            raise SettingsError(f"source.input.path is required with source.type={kind}")
        return cls(PipelineSettings.from_channels(*channels), **v)  # type: ignore[arg-type]

    @classmethod
    def from_groups(cls, groups: Mapping[str, Mapping[str, Any]]) -> JobSettings:
        """The settings from property groups alone (defaults for the rest)."""
        return cls.from_channels(properties(groups))


def _reject_unknown(channel: Channel) -> None:
    """A property of one of the job's groups, or an AUGURY_FLINK_ variable, that it never reads."""
    if channel.kind == ENVIRONMENT:
        names = {s.env for s in JOB}
        renamed = {env_names.job_property(s.prop): s.env for s in (*PIPELINE, *JOB)}
        for name in channel.values:
            if name in RETIRED:
                continue  # the pipeline's settings say what took its place
            if name.startswith(env_names.JOB_PROPERTY_PREFIX) and name not in names:
                hint = f"use {renamed[name]}" if name in renamed else "see docs/flink.md#settings"
                raise SettingsError(f"unknown setting: environment variable {name} ({hint})")
        return
    for key in channel.values:
        group = key.split(".", 1)[0]
        if key not in KNOWN and key not in RETIRED and (group in GROUPS or channel.kind == FLAG):
            raise SettingsError(f"unknown setting {key} ({channel.kind})")


def read_property_groups(path: Path) -> Channel:
    """Managed Flink's JSON (a list of ``{"PropertyGroupId", "PropertyMap"}``) as a channel."""
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise SettingsError(f"cannot read properties file {path}: {exc}") from exc
    if not isinstance(doc, list):
        raise SettingsError(f"{path}: expected a list of property groups")
    groups: dict[str, dict[str, str]] = {}
    for entry in doc:
        group = entry.get("PropertyGroupId") if isinstance(entry, dict) else None
        props = entry.get("PropertyMap", {}) if isinstance(entry, dict) else None
        if not isinstance(group, str) or not isinstance(props, dict):
            raise SettingsError(f"{path}: each group needs PropertyGroupId and PropertyMap")
        groups[group] = {str(k): str(v) for k, v in props.items()}
    return properties(groups, origin=f"property (in {path})")


def managed_properties(env: Mapping[str, str] | None = None) -> Channel | None:
    """Managed Flink's property groups, or None when the job is given none.

    From the file ``AUGURY_MANAGED_FLINK_PROPERTIES`` names (in ``env``, default
    ``os.environ``), else from ``MANAGED_FLINK_PROPERTIES`` when it exists. The variable is the
    one way to give the job the service's file at another path (the application zip run
    outside the service); a file it names that is missing or unreadable is an error naming the
    variable, never a silent fall-back to the defaults.
    """
    name = env_names.MANAGED_FLINK_PROPERTIES
    override = (os.environ if env is None else env).get(name, "").strip()
    if not override:
        if MANAGED_FLINK_PROPERTIES.exists():
            return read_property_groups(MANAGED_FLINK_PROPERTIES)
        return None
    path = Path(override)
    if not path.is_file():
        raise SettingsError(f"environment variable {name}={override!r}: no such file")
    try:
        return read_property_groups(path)
    except SettingsError as exc:
        raise SettingsError(f"environment variable {name}: {exc}") from exc


def parse_sets(items: list[str]) -> dict[str, str]:
    """``--set group.key=value`` items as a mapping; a malformed one raises SettingsError."""
    pairs = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or "." not in key:
            raise invalid("flag --set", item, "must look like group.key=value")
        pairs[key.strip()] = value.strip()
    return pairs


def load(
    properties_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    flag_values: Mapping[str, Any] | None = None,
) -> JobSettings:
    """Settings from Managed Flink's file (``managed_properties``), a local file, env, flags.

    ``env`` is the environment (default ``os.environ``).
    """
    channels = []
    managed = managed_properties(env)
    if managed is not None:
        channels.append(managed)
    if properties_file is not None:
        channels.append(read_property_groups(properties_file))
    channels.append(environment(os.environ if env is None else env))
    channels.append(flags({k: v for k, v in (flag_values or {}).items() if v is not None}))
    return JobSettings.from_channels(*channels)


def redis_url_with_auth(settings: JobSettings, fetch_secret: Callable[[str], str]) -> str:
    """``sink.redis.url`` with the password from ``sink.redis.auth.secret.arn`` (when set) added.

    ``fetch_secret(arn)`` returns the secret's string (Secrets Manager GetSecretValue).
    """
    return redis_url_with_secret(settings.redis_url, settings.redis_auth_secret_arn, fetch_secret)
