"""The generator's settings: environment variables, overridden by the invocation payload."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from augury import env as env_names
from augury.resources import DEFAULT_STREAM_NAME
from augury.settings import SettingsError, invalid


@dataclass(frozen=True)
class GeneratorConfig:
    """How much traffic to produce, for how long, and which faults to inject.

    Every field can be set by the environment variable ``CLICKGEN_<FIELD>`` (upper case) and
    overridden per invocation by a payload key of the same name. Fractions are shares of the
    events the simulated clients produce (see docs/generator.md).
    """

    rate: float = 50.0
    """Events per second, on average, bots included."""
    duration_s: int = 60
    """Seconds of traffic one invocation produces (the schedule's period)."""
    seed: int = 42
    """Seed of the deterministic traffic model."""
    users: int = 2000
    """Size of the simulated user population."""
    bot_fraction: float = 0.02
    """Share of events that come from bots (bursts of more than 10 events in one second)."""
    malformed_fraction: float = 0.01
    """Share of events sent malformed (each with one contract violation)."""
    duplicate_fraction: float = 0.01
    """Share of well-formed events resent exactly a second time."""
    late_fraction: float = 0.02
    """Share of human events delivered late, as buffering mobile clients do."""
    late_max_minutes: float = 3.0
    """The largest lag of a late event."""
    pace: bool = True
    """Emit events as their time comes (True), or all at once (backfill, tests)."""
    stream_name: str = DEFAULT_STREAM_NAME
    """The Kinesis stream to write to (``AUGURY_STREAM_NAME`` also sets it)."""
    max_attempts: int = 8
    """PutRecords attempts per batch before failing records are reported."""
    backoff_base_ms: int = 50
    """First retry's backoff ceiling; doubles each attempt (full jitter)."""

    def __post_init__(self) -> None:
        checks: list[tuple[str, bool, str]] = [
            ("rate", 0 < self.rate <= 100_000, "must be in (0, 100000]"),
            ("duration_s", 1 <= self.duration_s <= 900, "must be 1..900 seconds"),
            ("users", 1 <= self.users <= 10_000_000, "must be 1..10000000"),
            ("late_max_minutes", 0 < self.late_max_minutes <= 120, "must be in (0, 120]"),
            ("max_attempts", 1 <= self.max_attempts <= 20, "must be 1..20"),
            ("backoff_base_ms", 1 <= self.backoff_base_ms <= 10_000, "must be 1..10000"),
            ("stream_name", 1 <= len(self.stream_name) <= 128, "must be 1..128 characters"),
        ]
        for name in ("bot_fraction", "malformed_fraction", "duplicate_fraction", "late_fraction"):
            checks.append((name, 0 <= getattr(self, name) < 1, "must be in [0, 1)"))
        for name, ok, rule in checks:
            if not ok:
                raise invalid(f"generator setting {name}", getattr(self, name), rule, name)

    @classmethod
    def from_sources(
        cls, env: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
    ) -> GeneratorConfig:
        """Defaults, then ``CLICKGEN_*`` (and ``AUGURY_STREAM_NAME``), then ``overrides``."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        labels: dict[str, tuple[str, Any]] = {}  # field -> (how it was given, the raw value)
        if env.get(env_names.STREAM_NAME):
            values["stream_name"] = env[env_names.STREAM_NAME]
            labels["stream_name"] = (f"environment variable {env_names.STREAM_NAME}",
                                     env[env_names.STREAM_NAME])  # fmt: skip
        known = {f.name: f for f in fields(cls)}
        for name, f in known.items():
            raw = env.get(env_names.clickgen(name))
            if raw is not None and raw != "":
                labels[name] = (f"environment variable {env_names.clickgen(name)}", raw)
                values[name] = _coerce(labels[name][0], raw, f)
        for name, value in (overrides or {}).items():
            if name not in known:
                raise SettingsError(f"unknown setting {name!r}; known: {', '.join(known)}")
            if value is not None:
                labels[name] = (f"generator setting {name}", value)
                values[name] = _coerce(labels[name][0], value, known[name])
        try:
            return cls(**values)
        except SettingsError as exc:  # a range check: name the value as it was given
            if exc.setting not in labels:
                raise
            raise invalid(*labels[exc.setting], exc.rule) from None

    def replace(self, **changes: Any) -> GeneratorConfig:
        """A copy with ``changes`` applied (validated)."""
        return dataclasses.replace(self, **changes)


def _coerce(label: str, raw: Any, f: dataclasses.Field[Any]) -> Any:
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    try:
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if kind == "int":
            if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
                raise ValueError(raw)
            return int(raw)
        if kind == "float":
            if isinstance(raw, bool):
                raise ValueError(raw)
            return float(raw)
        return str(raw)
    except (TypeError, ValueError):
        raise invalid(label, raw, f"is not a valid {kind}") from None
