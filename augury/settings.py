"""The pipeline's settings: defined once here, read by everything that needs them.

Window size, session gap, watermark delay, early-fire interval, bot threshold, dedupe horizon,
the Redis keys' TTL and prefix decide what the results are and where they live. The Flink job,
CDK (which passes them to Managed Flink and the read API), the read model and API, the demo,
the benchmarks and the tests all take them from :class:`PipelineSettings`.

Each setting has one name per channel, all in :data:`PIPELINE`: a property ``group.key``
(Managed Flink property groups, a properties file, ``--set``), an environment variable
(``augury.env``) and a CDK context key. Values arrive as text or numbers from any channel; the
last channel that sets one wins. A bad value raises :class:`SettingsError`, the one error type
of every settings reader in Augury, naming the setting as its channel spells it, e.g.
``environment variable AUGURY_WINDOW_SECONDS='0' must be between 1 and 3600``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from augury import env as env_names
from augury.redis_keys import DEFAULT_PREFIX

MINUTE_MS: Final = 60 * 1000
"""Milliseconds in a minute (a unit, not a window or a gap: those are settings)."""


class SettingsError(ValueError):
    """A setting is missing, malformed or out of range; the message names it and its channel."""

    def __init__(self, message: str, rule: str = "", setting: str | None = None) -> None:
        super().__init__(message)
        self.rule = rule
        """What the value breaks (``must be between 1 and 3600``), when one value is at fault."""
        self.setting = setting
        """The field at fault, for a reader that knows better how its value was given."""


def invalid(label: str, raw: Any, rule: str, setting: str | None = None) -> SettingsError:
    """The error for ``raw``, given as ``label`` (e.g. ``CDK context key shards``)."""
    return SettingsError(f"{label}={raw!r} {rule}", rule, setting)


ENVIRONMENT: Final = "environment variable"
FLAG: Final = "flag --set"
PROPERTY: Final = "property"


@dataclass(frozen=True)
class Spec:
    """One setting: its names in every channel, its default, unit and valid range."""

    attr: str
    """The attribute on the settings object (in its internal unit, e.g. ``window_ms``)."""
    prop: str
    """The property ``group.key`` (Managed Flink property groups, properties files, --set)."""
    env: str | None
    """The environment variable (``augury.env``), or None when the channel does not set it."""
    context: str | None
    """The CDK context key, or None when CDK does not set it."""
    default: int | str
    """In the unit the channels use (seconds, minutes, ...)."""
    low: int = 0
    high: int = 0
    scale: int = 1
    """Internal value = channel value x scale (1000 for seconds to milliseconds)."""
    pattern: str | None = None
    """For text settings: the full match a value must make."""
    rule: str = ""
    """For text settings: what ``pattern`` means, for the error message."""
    doc: str = ""

    def parse(self, raw: Any, label: str) -> int | str:
        """The internal value of ``raw`` (given as ``label``), validated."""
        if isinstance(self.default, str):
            text = str(raw)
            if self.pattern is not None and re.fullmatch(self.pattern, text) is None:
                raise invalid(label, raw, self.rule)
            return text
        if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
            raise invalid(label, raw, "is not an integer")
        try:
            value = int(str(raw).strip()) if not isinstance(raw, float) else int(raw)
        except ValueError:
            raise invalid(label, raw, "is not an integer") from None
        if not self.low <= value <= self.high:
            raise invalid(label, raw, f"must be between {self.low} and {self.high}")
        return value * self.scale


@dataclass(frozen=True)
class Channel:
    """Raw values from one place, and how that place names a setting."""

    kind: str
    """How errors introduce a setting of this channel: ``property``, ``environment variable``."""
    values: Mapping[str, Any]
    name_of: Callable[[Spec], str | None]

    def get(self, spec: Spec) -> tuple[str, Any] | None:
        """``(label, raw)`` when this channel sets ``spec`` (empty text counts as unset)."""
        name = self.name_of(spec)
        if name is None or name not in self.values:
            return None
        raw = self.values[name]
        if raw is None or (isinstance(raw, str) and raw.strip() == ""):
            return None
        return f"{self.kind} {name}", raw


def properties(groups: Mapping[str, Mapping[str, Any]], origin: str = PROPERTY) -> Channel:
    """Property groups (``{"windows": {"size.seconds": "60"}}``) as a channel."""
    flat = {f"{g}.{k}": v for g, keys in groups.items() for k, v in keys.items()}
    return Channel(origin, flat, lambda s: s.prop)


def flags(values: Mapping[str, Any]) -> Channel:
    """``--set group.key=value`` flags as a channel."""
    return Channel(FLAG, values, lambda s: s.prop)


def environment(values: Mapping[str, str] | None = None) -> Channel:
    """Environment variables as a channel (``os.environ`` by default)."""
    return Channel(ENVIRONMENT, os.environ if values is None else values, lambda s: s.env)


def cdk_context(values: Mapping[str, Any]) -> Channel:
    """CDK context (``cdk.json``, ``-c key=value``) as a channel."""
    return Channel("CDK context key", values, lambda s: s.context)


@dataclass(frozen=True)
class Resolved:
    """Each setting's value (attr -> internal value) and channel (None: the default)."""

    values: dict[str, int | str]
    channels: dict[str, Channel | None]

    def name(self, spec: Spec, like: str) -> str:
        """``spec`` as the channel of ``like`` (another attr) spells it, else as its own does."""
        channel = self.channels.get(spec.attr) or self.channels.get(like)
        name = channel.name_of(spec) if channel is not None else None
        return f"{channel.kind} {name}" if channel is not None and name else spec.prop


def resolve(specs: Iterable[Spec], channels: Iterable[Channel]) -> Resolved:
    """Each spec's value: from the last channel that sets it, else its default."""
    channels = list(channels)
    out = Resolved({}, {})
    for spec in specs:
        found: tuple[str, Any] | None = None
        source: Channel | None = None
        for channel in channels:
            got = channel.get(spec)
            if got is not None:
                found, source = got, channel
        label, raw = found if found is not None else (f"{spec.prop} (default)", spec.default)
        out.values[spec.attr] = spec.parse(raw, label)
        out.channels[spec.attr] = source
    return out


KEY_PREFIX_PATTERN: Final = r"[A-Za-z0-9:_.\-{}]{1,64}"
"""What a Redis key prefix may be: none of its characters is special in a glob (ACL key
patterns, ``augury.cache_access``) nor in the key layout."""

PIPELINE: Final[tuple[Spec, ...]] = (
    Spec("window_ms", "windows.size.seconds", env_names.WINDOW_SECONDS, "window_seconds", 60,
         1, 3600, 1000, doc="tumbling window size"),
    Spec("session_gap_ms", "sessions.gap.seconds", env_names.SESSION_GAP_SECONDS,
         "session_gap_seconds", 60, 1, 24 * 3600, 1000, doc="inactivity that ends a session"),
    Spec("watermark_delay_ms", "windows.watermark.delay.seconds",
         env_names.WATERMARK_DELAY_SECONDS, "watermark_delay_seconds", 5, 0, 3600, 1000,
         doc="how far behind the newest event time the watermark trails (lateness allowed)"),
    Spec("early_fire_ms", "windows.early.fire.ms", env_names.EARLY_FIRE_MS, "early_fire_ms", 100,
         10, 60_000, doc="early results (every result) are written at least this often, in "
                         "processing time"),
    Spec("bot_threshold", "windows.bot.threshold", env_names.BOT_THRESHOLD, "bot_threshold", 10,
         1, 1_000_000, doc="more events than this by one user in one second is a bot"),
    Spec("dedupe_horizon_ms", "windows.dedupe.horizon.minutes", env_names.DEDUPE_HORIZON_MINUTES,
         "dedupe_horizon_minutes", 10, 1, 7 * 24 * 60, MINUTE_MS,
         doc="how long an event_id is remembered for deduplication"),
    Spec("ttl_s", "sink.redis.ttl.seconds", env_names.REDIS_TTL_SECONDS, "redis_ttl_seconds",
         24 * 3600, 60, 400 * 24 * 3600, doc="retention of every Redis key but the totals"),
    Spec("key_prefix", "sink.redis.key.prefix", env_names.REDIS_KEY_PREFIX, "redis_key_prefix",
         DEFAULT_PREFIX, pattern=KEY_PREFIX_PATTERN,
         rule="must be 1-64 letters, digits or : _ . - { }", doc="prefix of every Redis key"),
)  # fmt: skip
"""The pipeline settings, their names in each channel, defaults and ranges."""


@dataclass(frozen=True)
class PipelineSettings:
    """What the results are and where they live (internal units: ms, s, counts)."""

    window_ms: int
    session_gap_ms: int
    watermark_delay_ms: int
    early_fire_ms: int
    bot_threshold: int
    dedupe_horizon_ms: int
    ttl_s: int
    key_prefix: str

    @classmethod
    def from_channels(cls, *channels: Channel) -> PipelineSettings:
        """The settings from ``channels`` (later ones win; none: the defaults), validated."""
        for channel in channels:
            _reject_retired(channel)
        found = resolve(PIPELINE, channels)
        return cls(**found.values)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, values: Mapping[str, str] | None = None) -> PipelineSettings:
        """The settings from the environment (``os.environ`` by default)."""
        return cls.from_channels(environment(values))

    def value_of(self, spec: Spec) -> int | str:
        """``spec``'s value in its channels' unit (seconds, minutes, ...)."""
        value = getattr(self, spec.attr)
        return value if isinstance(value, str) else value // spec.scale

    def property_groups(self) -> dict[str, dict[str, str]]:
        """As Managed Flink property groups (every value as text)."""
        groups: dict[str, dict[str, str]] = {}
        for spec in PIPELINE:
            group, _, key = spec.prop.partition(".")
            groups.setdefault(group, {})[key] = str(self.value_of(spec))
        return groups

    def environment(self) -> dict[str, str]:
        """As environment variables (for a Lambda's or a child process's environment)."""
        return {spec.env: str(self.value_of(spec)) for spec in PIPELINE if spec.env}

    @property
    def window_s(self) -> int:
        """The window size in seconds."""
        return self.window_ms // 1000


RETIRED: Final = {
    "windows.early.fire.seconds": "windows.early.fire.ms",
    "AUGURY_EARLY_FIRE_SECONDS": "AUGURY_EARLY_FIRE_MS",
    "early_fire_seconds": "early_fire_ms",
}
"""Names of settings that are gone, and what took their place: early results used to fire every
so many seconds of event time; now they follow each event, written every so many milliseconds."""


def _reject_retired(channel: Channel) -> None:
    for name in channel.values:
        if name in RETIRED:
            raise SettingsError(
                f"{channel.kind} {name} is retired: early results now follow every event as it "
                f"arrives and are written at least every {RETIRED[name]} (processing time, "
                "milliseconds)"
            )


PIPELINE_DEFAULTS: Final = PipelineSettings.from_channels()
"""The settings when nothing is configured (every spec's default)."""
