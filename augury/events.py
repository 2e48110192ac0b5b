"""The click event contract: the one definition of a valid event and of each invalid reason.

The generator Lambda, the Flink job, the tests and ``docs/events.md`` all follow this module.
Each event is one JSON object per Kinesis record, ending in a newline (Firehose's raw files are
then NDJSON). The rules are data (``FIELDS``) so other engines (Flink SQL) can be generated
from them rather than re-typed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

MAX_FUTURE_MS: Final = 5 * 60 * 1000
"""An event more than this far ahead of the time it is judged at (``validate``'s ``now_ms``: the
streaming job passes the record's arrival time) is ``future_timestamp``."""

# ASCII digits only: Python's \d would also accept other scripts' digits.
TIMESTAMP_PATTERN: Final = (
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]{1,9}))?(Z|[+-][0-9]{2}:[0-9]{2})"
)
_TIMESTAMP_RE: Final = re.compile(TIMESTAMP_PATTERN)


@dataclass(frozen=True)
class FieldRule:
    """A field's rule: required or not, its length bounds, and an optional pattern."""

    name: str
    required: bool
    min_len: int = 1
    max_len: int | None = None
    pattern: str | None = None
    starts_with: str | None = None

    def accepts(self, value: str) -> bool:
        """True when the string ``value`` satisfies this rule (type checked by the caller)."""
        if len(value) < self.min_len or (self.max_len is not None and len(value) > self.max_len):
            return False
        if self.starts_with is not None and not value.startswith(self.starts_with):
            return False
        return self.pattern is None or re.fullmatch(self.pattern, value) is not None


FIELDS: Final = (
    FieldRule("event_id", required=True, max_len=64),
    FieldRule("user_id", required=True, max_len=128),
    FieldRule("device_id", required=True, max_len=128),
    FieldRule("client_event", required=True, pattern=r"[a-z0-9_]{1,64}"),
    FieldRule("client_timestamp", required=True, pattern=TIMESTAMP_PATTERN),
    FieldRule("countrycode", required=True, pattern=r"[A-Z]{2}"),
    FieldRule("page_url", required=False, max_len=2048, starts_with="/"),
    FieldRule("session_id", required=False, max_len=128),
)
REQUIRED: Final = tuple(f for f in FIELDS if f.required)
TIMESTAMP_FIELD: Final = "client_timestamp"
"""The field that gives event time."""
OPTIONAL: Final = tuple(f for f in FIELDS if not f.required)

# Reasons, in the order they are checked.
MALFORMED_JSON: Final = "malformed_json"
NOT_OBJECT: Final = "not_object"
FUTURE_TIMESTAMP: Final = "future_timestamp"
LATE: Final = "late"  # given by the Flink job, not by validation: too late for its window


def missing(field: str) -> str:
    """The reason for a required field that is absent, null or empty."""
    return f"missing_field:{field}"


def invalid(field: str) -> str:
    """The reason for a field that is present but breaks its rule (or is not a string)."""
    return f"invalid_field:{field}"


ALL_REASON_KINDS: Final = (
    MALFORMED_JSON, NOT_OBJECT, "missing_field", "invalid_field", FUTURE_TIMESTAMP, LATE,
)  # fmt: skip


@dataclass(frozen=True)
class ClickEvent:
    """A valid click event. ``event_time_ms`` is ``client_timestamp`` in UTC milliseconds."""

    event_id: str
    user_id: str
    device_id: str
    client_event: str
    client_timestamp: str
    countrycode: str
    event_time_ms: int
    page_url: str | None = None
    session_id: str | None = None


@dataclass(frozen=True)
class Invalid:
    """An event that failed validation, with its one reason and its raw text."""

    reason: str
    raw: str


def parse_timestamp_ms(text: str) -> int | None:
    """``client_timestamp`` as UTC epoch milliseconds (fraction truncated); None if invalid."""
    m = _TIMESTAMP_RE.fullmatch(text)
    if m is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = m.groups()
    try:
        base = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=UTC
        )
    except ValueError:
        return None
    offset_min = 0
    if zone != "Z":
        hh, mm = int(zone[1:3]), int(zone[4:6])
        if hh > 23 or mm > 59:
            return None
        offset_min = (hh * 60 + mm) * (1 if zone[0] == "+" else -1)
    millis = int((fraction or "0").ljust(3, "0")[:3])
    epoch_s = int((base - timedelta(minutes=offset_min)).timestamp())
    return epoch_s * 1000 + millis


def format_timestamp(epoch_ms: int) -> str:
    """UTC ISO-8601 with milliseconds and ``Z``, e.g. ``2026-11-23T17:30:00.123Z``."""
    dt = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def validate(raw: str | bytes, now_ms: int) -> ClickEvent | Invalid:
    """Validate one raw record against the contract, as of ``now_ms`` (its arrival, or now)."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return Invalid(MALFORMED_JSON, raw.decode("utf-8", errors="replace"))
    else:
        text = raw
    try:
        doc = json.loads(text, parse_constant=_reject_constant)
    except ValueError:
        return Invalid(MALFORMED_JSON, text)
    if not isinstance(doc, dict):
        return Invalid(NOT_OBJECT, text)
    for rule in REQUIRED:
        value = doc.get(rule.name)
        if value is None or value == "":
            return Invalid(missing(rule.name), text)
    event_time_ms = 0
    for rule in FIELDS:
        value = doc.get(rule.name)
        if value is None and not rule.required:
            continue
        if not isinstance(value, str) or not rule.accepts(value):
            return Invalid(invalid(rule.name), text)
        if rule.name == TIMESTAMP_FIELD:
            # The pattern admits impossible instants (Feb 30, +24:00): those are invalid
            # here, in the field's own place in the order of checks.
            parsed = parse_timestamp_ms(value)
            if parsed is None:
                return Invalid(invalid(rule.name), text)
            event_time_ms = parsed
    if event_time_ms - now_ms > MAX_FUTURE_MS:
        return Invalid(FUTURE_TIMESTAMP, text)
    return ClickEvent(
        event_id=doc["event_id"],
        user_id=doc["user_id"],
        device_id=doc["device_id"],
        client_event=doc["client_event"],
        client_timestamp=doc["client_timestamp"],
        countrycode=doc["countrycode"],
        event_time_ms=event_time_ms,
        page_url=doc.get("page_url"),
        session_id=doc.get("session_id"),
    )


def encode(doc: dict[str, Any]) -> bytes:
    """One Kinesis record's bytes: compact JSON and a trailing newline (NDJSON in Firehose)."""
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
