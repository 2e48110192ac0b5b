"""The stage configuration: one typed, validated record read from CDK context.

Every setting has a default here; ``cdk.json`` (``context``) and ``-c key=value`` flags override
it. Values from ``-c`` arrive as strings and are parsed to the field's type. The pipeline's own
settings (window size, session gap, watermark delay, ... : ``augury.settings.PIPELINE``) are
read through the shared settings object under their CDK context keys, so the synth validates
them exactly as the job does. A bad value fails the synth with ``SettingsError`` naming the
context key.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, Final

from augury.collector import parse_origins
from augury.settings import (
    PIPELINE,
    PIPELINE_DEFAULTS,
    RETIRED,
    PipelineSettings,
    SettingsError,
    cdk_context,
    invalid,
)

CACHE_MODES: Final = ("serverless", "replication-group")


@dataclass(frozen=True)
class StageConfig:
    """Everything that differs between deployments of the pipeline (context keys in brackets)."""

    env_name: str = "dev"
    """[env_name] Stage name, part of every resource name: lowercase letters, digits, dashes."""
    local: bool = False
    """[local] Build the LocalStack-community mode: no VPC, ElastiCache, Managed Flink, Lambda."""
    shards: int = 0
    """[shards] Kinesis shards; 0 means on-demand capacity."""
    retention_hours: int = 24
    """[retention_hours] Kinesis retention, 24..8760 hours."""
    schedule_minutes: int = 1
    """[schedule_minutes] The generator's EventBridge rate, in minutes (1..14)."""
    events_per_invocation: int = 3000
    """[events_per_invocation] Events the generator produces per scheduled invocation."""
    cache_mode: str = "serverless"
    """[cache_mode] ElastiCache for Valkey: ``serverless`` or ``replication-group``."""
    cache_node_type: str = "cache.t4g.small"
    """[cache_node_type] Node type of the replication group (ignored when serverless)."""
    flink_parallelism: int = 1
    """[flink_parallelism] Managed Flink parallelism."""
    flink_parallelism_per_kpu: int = 1
    """[flink_parallelism_per_kpu] Parallel tasks per KPU (KPUs = parallelism / this)."""
    flink_autoscaling: bool = False
    """[flink_autoscaling] Let Managed Flink scale parallelism on CPU."""
    checkpoint_interval_seconds: int = 60
    """[checkpoint_interval_seconds] Flink checkpoint interval."""
    firehose_buffer_seconds: int = 60
    """[firehose_buffer_seconds] Firehose buffering interval (0..900)."""
    firehose_buffer_mib: int = 64
    """[firehose_buffer_mib] Firehose buffering size (1..128 MiB)."""
    raw_ia_days: int = 30
    """[raw_ia_days] Raw objects move to S3 Standard-IA after this many days."""
    raw_glacier_days: int = 90
    """[raw_glacier_days] ... then to Glacier Flexible Retrieval."""
    raw_expire_days: int = 365
    """[raw_expire_days] ... and expire after this many days."""
    log_retention_days: int = 30
    """[log_retention_days] CloudWatch Logs retention of the Lambda and the Flink app."""
    alarm_email: str = ""
    """[alarm_email] Optional address subscribed to the alarm topic."""
    collector_origins: str = "*"
    """[collector_origins] Origins the HTTP collector's CORS allows: ``*`` or a comma-separated
    list of ``https://shop.example.com``-style origins."""
    collector_rate_limit: int = 1000
    """[collector_rate_limit] The collector stage's steady request rate limit (requests/s)."""
    collector_burst_limit: int = 2000
    """[collector_burst_limit] The collector stage's burst limit (requests)."""
    collector_endpoint_type: str = "REGIONAL"
    """[collector_endpoint_type] ``REGIONAL`` or ``EDGE``; only an edge-optimized API stamps
    the source IP's country (CloudFront's header, which a client cannot forge there)."""
    collector_access_logs: bool = True
    """[collector_access_logs] Write the collector stage's access log to CloudWatch Logs."""
    collector_waf_rate_limit: int = 3000
    """[collector_waf_rate_limit] A WAF rule blocks a source IP above this many requests per
    5 minutes (0: no web ACL)."""
    pipeline: PipelineSettings = PIPELINE_DEFAULTS
    """The pipeline settings (context keys ``window_seconds``, ``session_gap_seconds``, ... as
    ``augury.settings.PIPELINE`` names them), passed to the job and the read API."""

    def __post_init__(self) -> None:
        checks: list[tuple[str, bool, str]] = [
            (
                "env_name",
                re.fullmatch(r"[a-z][a-z0-9-]{0,19}", self.env_name) is not None,
                "must be 1-20 lowercase letters, digits or dashes, starting with a letter",
            ),
            ("shards", 0 <= self.shards <= 500, "must be 0 (on-demand) .. 500"),
            ("retention_hours", 24 <= self.retention_hours <= 8760, "must be 24..8760"),
            ("schedule_minutes", 1 <= self.schedule_minutes <= 14, "must be 1..14"),
            (
                "events_per_invocation",
                1 <= self.events_per_invocation <= 1_000_000,
                "must be 1..1000000",
            ),
            ("cache_mode", self.cache_mode in CACHE_MODES, f"must be one of {CACHE_MODES}"),
            (
                "cache_node_type",
                self.cache_node_type.startswith("cache."),
                "must be a node type like cache.t4g.small",
            ),
            ("flink_parallelism", 1 <= self.flink_parallelism <= 64, "must be 1..64"),
            ("flink_parallelism_per_kpu", 1 <= self.flink_parallelism_per_kpu <= 8, "must be 1..8"),
            (
                "checkpoint_interval_seconds",
                10 <= self.checkpoint_interval_seconds <= 3600,
                "must be 10..3600",
            ),
            ("firehose_buffer_seconds", 0 <= self.firehose_buffer_seconds <= 900, "must be 0..900"),
            ("firehose_buffer_mib", 1 <= self.firehose_buffer_mib <= 128, "must be 1..128"),
            ("raw_ia_days", self.raw_ia_days >= 30, "must be at least 30 (S3 Standard-IA minimum)"),
            (
                "raw_glacier_days",
                self.raw_glacier_days >= self.raw_ia_days + 30,
                "must be at least raw_ia_days + 30",
            ),
            (
                "raw_expire_days",
                self.raw_expire_days >= self.raw_glacier_days + 90,
                "must be at least raw_glacier_days + 90 (Glacier minimum storage)",
            ),
            (
                "log_retention_days",
                self.log_retention_days in _LOG_RETENTION_DAYS,
                f"must be one of CloudWatch's retention periods {_LOG_RETENTION_DAYS}",
            ),
            (
                "alarm_email",
                self.alarm_email == "" or bool(re.fullmatch(r"[^@\s]+@[^@\s]+", self.alarm_email)),
                "must be an e-mail address or empty",
            ),
            (
                "collector_origins",
                all(_ORIGIN.fullmatch(o) for o in self.origins) and len(self.origins) > 0,
                "must be * or a comma-separated list of origins like https://shop.example.com",
            ),
            ("collector_rate_limit", 1 <= self.collector_rate_limit <= 10_000, "must be 1..10000"),
            (
                "collector_burst_limit",
                1 <= self.collector_burst_limit <= 5000,
                "must be 1..5000 (API Gateway's account-level burst)",
            ),
            (
                "collector_endpoint_type",
                self.collector_endpoint_type in ("REGIONAL", "EDGE"),
                "must be REGIONAL or EDGE",
            ),
            (
                "collector_waf_rate_limit",
                self.collector_waf_rate_limit == 0
                or 10 <= self.collector_waf_rate_limit <= 2_000_000_000,
                "must be 0 (no WAF) or 10..2000000000 requests per 5 minutes",
            ),
        ]
        for name, ok, rule in checks:
            if not ok:
                raise invalid(f"CDK context key {name}", getattr(self, name), rule)

    @property
    def prefix(self) -> str:
        """Resource-name prefix of the stage, e.g. ``augury-dev``."""
        return "augury-local" if self.local else f"augury-{self.env_name}"

    @property
    def origins(self) -> tuple[str, ...]:
        """The collector's CORS origins (``("*",)`` for any)."""
        return parse_origins(self.collector_origins)

    @property
    def generator_rate(self) -> float:
        """Events per second the generator produces to hit ``events_per_invocation``."""
        return self.events_per_invocation / (self.schedule_minutes * 60)

    @classmethod
    def keys(cls) -> list[str]:
        """The context keys this configuration reads (the stage's, then the pipeline's)."""
        return [f.name for f in _own_fields()] + [s.context for s in PIPELINE if s.context]

    @classmethod
    def from_context(cls, get: Callable[[str], Any]) -> StageConfig:
        """Read each setting with ``get(key)`` (``try_get_context``); None keeps the default."""
        values: dict[str, Any] = {}
        for f in _own_fields():
            raw = get(f.name)
            if raw is not None:
                values[f.name] = _parse(f, raw)
        context = {s.context: get(s.context) for s in PIPELINE if s.context}
        values["pipeline"] = PipelineSettings.from_channels(cdk_context(context))
        return cls(**values)

    @classmethod
    def reject_unknown(cls, context: Mapping[str, Any], only_ours: bool = True) -> None:
        """Fail on a context key that is none of ours: a typo, a retired name.

        ``lateness_seconds`` is now ``watermark_delay_seconds``, for example. With
        ``only_ours``, CDK's own keys (``@aws-cdk/...``, ``aws:...``, lookups with ``-`` or
        ``:``) are left alone: only keys shaped like ours are checked.
        """
        ours = re.compile(r"[a-z][a-z0-9_]*")
        known = set(cls.keys())
        unknown = sorted(
            k for k in context if k not in known and (not only_ours or ours.fullmatch(k))
        )
        retired = [k for k in unknown if k in RETIRED]
        if retired:  # its message says what took its place
            PipelineSettings.from_channels(cdk_context({retired[0]: context[retired[0]]}))
        if unknown:
            raise SettingsError(f"unknown CDK context key(s) {unknown}; known: {cls.keys()}")

    @classmethod
    def from_mapping(cls, context: Mapping[str, Any]) -> StageConfig:
        """Read the settings from a plain mapping (tests, scripts): every key must be ours."""
        cls.reject_unknown(context, only_ours=False)
        return cls.from_context(context.get)


_ORIGIN: Final = re.compile(r"\*|https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")
_LOG_RETENTION_DAYS: Final = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731)


def _own_fields() -> list[dataclasses.Field[Any]]:
    """The stage's own settings (the pipeline's come from ``augury.settings``)."""
    return [f for f in fields(StageConfig) if f.name != "pipeline"]


def _parse(f: dataclasses.Field[Any], raw: Any) -> Any:
    kind: type[Any] = type(f.default)
    try:
        if kind is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("true", "1", "yes"):
                return True
            if text in ("false", "0", "no", ""):
                return False
            raise ValueError(raw)
        if kind is int:
            if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
                raise ValueError(raw)
            return int(str(raw).strip())
        return str(raw)
    except ValueError:
        raise invalid(f"CDK context key {f.name}", raw, f"is not a valid {kind.__name__}") from None
