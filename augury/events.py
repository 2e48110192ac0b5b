"""The click event contract: the one definition of a valid event and of each invalid reason.

The generator Lambda, the Flink job, the tests and ``docs/events.md`` all follow this module.
Each event is one JSON object per Kinesis record, ending in a newline (Firehose's raw files are
then NDJSON). The contract is defined on a record's raw bytes: the JVM's ``ParseClick`` gives
the same verdict and reason for the same bytes (``tests/unit/test_contract_jvm.py`` checks it on a
corpus and on generated mutations). The rules and limits are data (``FIELDS`` and the ``MAX_*``
constants), passed to the JVM as JSON rather than re-typed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

MAX_RECORD_BYTES: Final = 1024 * 1024
"""A record longer than this many bytes, not counting its line ending (trailing CR and LF
bytes), is ``record_too_large``: Kinesis's own record limit, so framing never decides."""
MAX_DEPTH: Final = 32
"""JSON nested deeper than this many arrays and objects (``[[1]]`` is 2 deep) is malformed."""
MAX_NUMBER_CHARS: Final = 100
"""A JSON number written with more characters than this (sign, ``.``, exponent included) is
malformed."""
MIN_EVENT_TIME_MS: Final = 0
"""1970-01-01T00:00:00Z: the earliest instant a ``client_timestamp`` may denote. An earlier one is
a broken clock; and a window's start (the time minus its remainder) is the same in SQL and
Python only for times that are not negative."""
MAX_EVENT_TIME_MS: Final = 253_402_300_799_999
"""9999-12-31T23:59:59.999Z: the latest instant a ``client_timestamp`` may denote."""
MAX_FUTURE_MS: Final = 5 * 60 * 1000
"""An event more than this far ahead of the time it is judged at (``validate``'s ``now_ms``: the
streaming job passes the record's arrival time; or the collector's ``ARRIVAL_FIELD`` stamp when
that is earlier) is ``future_timestamp``. One up to this far ahead is valid, and its event time
is the time it is judged at (the clock-skew rule: no device can place an event after its
arrival, so none can move event time ahead for everyone)."""

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


ARRIVAL_FIELD: Final = "arrival_ms"
"""The HTTP collector's arrival stamp: the epoch milliseconds at which it received the request,
as a string of 1-15 ASCII digits. A record that carries one is judged as of the earlier of its
source arrival (``validate``'s ``now_ms``) and the stamp, so a replay of the raw archive, which
holds the stamp, judges it as streaming did."""
ARRIVAL_COUNTRY_FIELD: Final = "arrival_country"
"""The collector's country of the request's source IP, where known (``[A-Z]{2}``): kept in the
raw data only, not used by the job."""
STAMPED_FIELDS: Final = (ARRIVAL_FIELD, ARRIVAL_COUNTRY_FIELD)
"""The fields the HTTP collector writes into each event itself (prepended to the client's JSON
object). Clients must not send them: the collector refuses a body that has any of them."""

FIELDS: Final = (
    FieldRule("event_id", required=True, max_len=64),
    FieldRule("user_id", required=True, max_len=128),
    FieldRule("device_id", required=True, max_len=128),
    FieldRule("client_event", required=True, pattern=r"[a-z0-9_]{1,64}"),
    FieldRule("client_timestamp", required=True, pattern=TIMESTAMP_PATTERN),
    FieldRule("countrycode", required=True, pattern=r"[A-Z]{2}"),
    FieldRule("page_url", required=False, max_len=2048, starts_with="/"),
    FieldRule("session_id", required=False, max_len=128),
    # Stamped by the collector (STAMPED_FIELDS); last, so that the fields above keep their places.
    FieldRule(ARRIVAL_FIELD, required=False, pattern=r"[0-9]{1,15}"),
    FieldRule(ARRIVAL_COUNTRY_FIELD, required=False, pattern=r"[A-Z]{2}"),
)
REQUIRED: Final = tuple(f for f in FIELDS if f.required)
TIMESTAMP_FIELD: Final = "client_timestamp"
"""The field that gives event time."""
OPTIONAL: Final = tuple(f for f in FIELDS if not f.required)

# Reasons, in the order they are checked.
RECORD_TOO_LARGE: Final = "record_too_large"
INVALID_UTF8: Final = "invalid_utf8"
MALFORMED_JSON: Final = "malformed_json"
LONE_SURROGATE: Final = "lone_surrogate"
DUPLICATE_KEY: Final = "duplicate_key"
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
    RECORD_TOO_LARGE, INVALID_UTF8, MALFORMED_JSON, LONE_SURROGATE, DUPLICATE_KEY, NOT_OBJECT,
    "missing_field", "invalid_field", FUTURE_TIMESTAMP, LATE,
)  # fmt: skip
"""Every reason kind (the part before ``:``), in the order validation checks them."""


@dataclass(frozen=True)
class ClickEvent:
    """A valid click event.

    ``event_time_ms`` is ``client_timestamp`` in UTC milliseconds, but never later than the time
    the event was judged at (its arrival, or the collector's earlier ``arrival_ms`` stamp): see
    ``MAX_FUTURE_MS``.
    """

    event_id: str
    user_id: str
    device_id: str
    client_event: str
    client_timestamp: str
    countrycode: str
    event_time_ms: int
    page_url: str | None = None
    session_id: str | None = None
    arrival_ms: int | None = None
    arrival_country: str | None = None


@dataclass(frozen=True)
class Invalid:
    """An event that failed validation, with its one reason and its raw text.

    ``raw`` is the record's text; bytes that are not UTF-8 become U+FFFD, one for each maximal
    ill-formed subsequence (Python's ``errors="replace"``, the Unicode standard's practice).
    """

    reason: str
    raw: str


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def parse_timestamp_ms(text: str) -> int | None:
    """``client_timestamp`` as UTC epoch milliseconds (fraction truncated); None if invalid.

    Invalid: not the pattern, a local date or time that does not exist, an offset beyond 23:59,
    or an instant outside ``MIN_EVENT_TIME_MS``..``MAX_EVENT_TIME_MS`` (years 0001-9999 in UTC).
    """
    m = _TIMESTAMP_RE.fullmatch(text)
    if m is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = m.groups()
    try:
        local = datetime(
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
    since_epoch = local - _EPOCH  # both in range: no overflow, unlike shifting by the offset
    epoch_s = since_epoch.days * 86_400 + since_epoch.seconds - offset_min * 60
    epoch_ms = epoch_s * 1000 + int((fraction or "0").ljust(3, "0")[:3])
    return epoch_ms if MIN_EVENT_TIME_MS <= epoch_ms <= MAX_EVENT_TIME_MS else None


def format_timestamp(epoch_ms: int) -> str:
    """UTC ISO-8601 with milliseconds and ``Z``, e.g. ``2026-11-23T17:30:00.123Z``."""
    dt = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


# --- JSON, as strict as the JVM's parser: the same documents parse on both sides -------------

_NUMBER: Final = object()
"""What a JSON number parses to: numbers are never a field's value, so never converted."""


class _DuplicateKeyError(Exception):
    """An object with a key twice (raised while parsing, judged once the parse is complete)."""


def _number(text: str) -> object:
    if len(text) > MAX_NUMBER_CHARS:
        raise ValueError(f"number of {len(text)} characters")
    return _NUMBER


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    doc = dict(pairs)
    if len(doc) != len(pairs):
        raise _DuplicateKeyError
    return doc


class _Pairs(list[Any]):
    """An object as its list of (key, value) pairs: nothing lost to duplicate keys."""


_STRICT: Final = json.JSONDecoder(
    object_pairs_hook=_object, parse_int=_number, parse_float=_number,
    parse_constant=_reject_constant,
)  # fmt: skip
_PAIRS: Final = json.JSONDecoder(
    object_pairs_hook=_Pairs, parse_int=_number, parse_float=_number,
    parse_constant=_reject_constant,
)  # fmt: skip
# A JSON string, an open or close bracket, or a quote that opens no complete string.
_STRUCTURE: Final = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]|"', re.DOTALL)
_SURROGATE_ESCAPE: Final = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def _too_deep(text: str) -> bool:
    """Nesting deeper than ``MAX_DEPTH`` (exact for JSON; invalid JSON is malformed anyway).

    Checked before parsing, so the recursive parser never goes deeper than ``MAX_DEPTH``.
    """
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    depth = 0
    for m in _STRUCTURE.finditer(text):
        c = text[m.start()]
        if c == '"':
            if m.end() - m.start() == 1:
                return False  # an unterminated string: not JSON, and no deeper than so far
        elif c in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        else:
            depth -= 1
    return False


def _has_lone_surrogate(tree: Any) -> bool:
    """Whether a parsed string (a key or a value, anywhere) holds an unpaired surrogate."""
    stack = [tree]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return True
        elif isinstance(value, list | tuple):
            stack.extend(value)
    return False


def _parse(text: str) -> tuple[str | None, Any]:
    """(None, the document) for JSON the contract accepts, else (its reason, None)."""
    if _too_deep(text):
        return MALFORMED_JSON, None
    duplicate = False
    try:
        doc = _STRICT.decode(text)
    except _DuplicateKeyError:
        duplicate = True
    except ValueError:  # JSONDecodeError, NaN/Infinity, a number too long
        return MALFORMED_JSON, None
    # The JSON decoder joins an escaped surrogate pair into one character: one left is lone.
    if duplicate or ("\\u" in text and _SURROGATE_ESCAPE.search(text)):
        try:
            tree = _PAIRS.decode(text)
        except ValueError:
            return MALFORMED_JSON, None
        if _has_lone_surrogate(tree):
            return LONE_SURROGATE, None
        if duplicate:
            return DUPLICATE_KEY, None
    return None, doc


def json_verdict(text: str) -> str | None:
    """None when ``text`` is JSON the contract accepts, else the reason it is not.

    The reason is ``malformed_json`` (the depth and number limits included), ``lone_surrogate``
    or ``duplicate_key``. The record rules around it (size, UTF-8, one line) and the object and
    field rules are ``validate``'s.
    """
    return _parse(text)[0]


def validate(raw: str | bytes, now_ms: int) -> ClickEvent | Invalid:
    """Validate one raw record against the contract, as of ``now_ms`` (its arrival, or now).

    A record with a valid ``ARRIVAL_FIELD`` stamp is judged as of ``min(now_ms, stamp)``: the
    future rule and the clamp of event time use the earlier of the two. Never raises. A ``str``
    is judged as its UTF-8 bytes; one holding a surrogate code point (which has none) is judged
    as the bytes Python's ``surrogatepass`` gives it: invalid UTF-8.
    """
    text: str | None = None
    if isinstance(raw, bytes):
        data = raw
    else:
        try:
            data, text = raw.encode("utf-8"), raw
        except UnicodeEncodeError:
            data = raw.encode("utf-8", "surrogatepass")
    if len(data) > MAX_RECORD_BYTES and len(data.rstrip(b"\r\n")) > MAX_RECORD_BYTES:
        return Invalid(RECORD_TOO_LARGE, data.decode("utf-8", "replace"))
    if text is None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return Invalid(INVALID_UTF8, data.decode("utf-8", "replace"))
    body = data.rstrip(b"\r\n")
    if b"\n" in body or b"\r" in body:  # one record, one line: the archive is line by line
        return Invalid(MALFORMED_JSON, text)
    reason, doc = _parse(text)
    if reason is not None:
        return Invalid(reason, text)
    if not isinstance(doc, dict):
        return Invalid(NOT_OBJECT, text)
    for rule in REQUIRED:
        value = doc.get(rule.name)
        if value is None or value == "":
            return Invalid(missing(rule.name), text)
    event_time_ms = 0
    judged_ms = now_ms
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
        elif rule.name == ARRIVAL_FIELD:
            judged_ms = min(judged_ms, int(value))  # the collector received it then
    if event_time_ms - judged_ms > MAX_FUTURE_MS:
        return Invalid(FUTURE_TIMESTAMP, text)
    event_time_ms = min(event_time_ms, judged_ms)  # a fast clock: the event happened on arrival
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
        arrival_ms=None if doc.get(ARRIVAL_FIELD) is None else int(doc[ARRIVAL_FIELD]),
        arrival_country=doc.get(ARRIVAL_COUNTRY_FIELD),
    )


def encode(doc: dict[str, Any]) -> bytes:
    """One Kinesis record's bytes: compact JSON and a trailing newline (NDJSON in Firehose)."""
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
