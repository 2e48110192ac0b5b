"""The event contract's shared corpus: raw records (bytes) and the verdict each must get.

Every implementation of the contract is checked against it: Python's ``augury.events.validate``
(``tests/unit/test_events_contract.py``), the JVM's ``ClickContract`` run directly
(``tests/unit/test_contract_jvm.py``) and ``ParseClick`` inside the job's own SQL on a Flink
mini-cluster (``tests/flink/test_parse_click.py``). Each case is judged as of ``NOW_MS``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from augury import events as c

NOW_MS = 1_795_455_000_000  # 2026-11-23T17:30:00Z
MIB = 1024 * 1024


@dataclass(frozen=True)
class Case:
    """One raw record and its verdict: ``reason`` None means valid, at ``event_time_ms``."""

    name: str
    record: bytes
    reason: str | None
    event_time_ms: int | None = None


GOOD: dict[str, Any] = {
    "event_id": "0b7f5a8e-1c7e-4d0e-9a51-2f7b0c0d1e2f",
    "user_id": "user-1",
    "device_id": "phone-42",
    "client_event": "page_view",
    "client_timestamp": "2026-11-23T17:29:00.123Z",
    "countrycode": "BE",
    "page_url": "/p/bières/1",
    "session_id": "s-1",
}
GOOD_TIME = NOW_MS - 60_000 + 123


def event(**changes: Any) -> bytes:
    """GOOD with ``changes`` (None removes a field), as the generator encodes it."""
    doc = {k: v for k, v in {**GOOD, **changes}.items() if v is not None}
    return c.encode(doc)


def stamped(arrival_ms: int, arrival_country: str = "BE", **changes: Any) -> bytes:
    """GOOD with ``changes``, as the HTTP collector puts it into Kinesis: its two stamped fields
    (``augury.events.STAMPED_FIELDS``) prepended to the client's JSON object."""
    client = event(**changes)
    stamp = json.dumps({c.ARRIVAL_FIELD: str(arrival_ms), c.ARRIVAL_COUNTRY_FIELD: arrival_country},
                       separators=(",", ":"))  # fmt: skip
    return stamp[:-1].encode() + b"," + client[1:]


def replace(old: bytes, new: bytes, record: bytes | None = None) -> bytes:
    """``record`` (GOOD's) with ``old`` replaced once by ``new``."""
    record = event() if record is None else record
    assert old in record, old
    return record.replace(old, new, 1)


def _padded(total: int, ending: bytes = b"\n") -> bytes:
    """A valid event of exactly ``total`` bytes before ``ending`` (padded in an ignored field)."""
    base = event(pad="").rstrip(b"\n")
    return replace(b'"pad":""', b'"pad":"' + b"x" * (total - len(base)) + b'"', base) + ending


def _nested(depth: int) -> bytes:
    """A valid event whose ignored field nests arrays so the document is ``depth`` deep."""
    inner = "[" * (depth - 1) + "]" * (depth - 1)
    return replace(b'"countrycode":"BE"', b'"countrycode":"BE","deep":' + inner.encode())


def _number(chars: int) -> bytes:
    """A valid event with an ignored number written with ``chars`` characters."""
    return replace(b'"countrycode":"BE"', b'"countrycode":"BE","n":-' + b"9" * (chars - 1))


TS = "client_timestamp"
# fmt: off
CASES: tuple[Case, ...] = (
    Case("a good event", event(), None, GOOD_TIME),
    Case("CRLF line ending", event().rstrip(b"\n") + b"\r\n", None, GOOD_TIME),
    Case("no line ending", event().rstrip(b"\n"), None, GOOD_TIME),
    Case("whitespace around", b" \t" + event().rstrip(b"\n") + b" \r\n", None, GOOD_TIME),
    # One record, one line: the raw archive is read line by line, so a record with a line break
    # inside would be one event streaming and several broken lines replayed.
    Case("pretty-printed over lines", json.dumps(GOOD, indent=2).encode(), c.MALFORMED_JSON),
    Case("ASCII escapes", json.dumps(GOOD).encode(), None, GOOD_TIME),
    # --- size: 1 MiB, not counting the line ending --------------------------------------------
    Case("exactly 1 MiB", _padded(MIB), None, GOOD_TIME),
    Case("exactly 1 MiB with CRLF", _padded(MIB, b"\r\n"), None, GOOD_TIME),
    Case("1 MiB and a byte", _padded(MIB + 1), c.RECORD_TOO_LARGE),
    Case("1 MiB of spaces and a byte", b" " * MIB + b"{", c.RECORD_TOO_LARGE),
    Case("too large beats invalid UTF-8", b"\xff" * (MIB + 1), c.RECORD_TOO_LARGE),
    # --- encoding -----------------------------------------------------------------------------
    Case("invalid byte in an id", replace(b'"user-1"', b'"user-\xff1"'), c.INVALID_UTF8),
    Case("lone continuation byte", replace(b'"user-1"', b'"user-\x801"'), c.INVALID_UTF8),
    Case("overlong slash", replace(b'"/p/', b'"\xc0\xafp/'), c.INVALID_UTF8),
    Case("UTF-8 encoded surrogate", replace(b'"user-1"', b'"\xed\xa0\x80"'), c.INVALID_UTF8),
    Case("above U+10FFFF", replace(b'"user-1"', b'"\xf4\x90\x80\x80"'), c.INVALID_UTF8),
    Case("truncated sequence at the end", event().rstrip(b"\n") + b"\xe2\x82", c.INVALID_UTF8),
    Case("Latin-1 text", replace(b"bi\xc3\xa8res", b"bi\xe8res"), c.INVALID_UTF8),
    Case("four-byte UTF-8 is fine", event(user_id="\U0001f37a" * 128), None, GOOD_TIME),
    Case("129 four-byte characters", event(user_id="\U0001f37a" * 129), c.invalid("user_id")),
    Case("BOM before the JSON", b"\xef\xbb\xbf" + event(), c.MALFORMED_JSON),
    Case("BOM inside a value", event(user_id="\ufeffuser-1"), None, GOOD_TIME),
    # --- lone surrogates ----------------------------------------------------------------------
    Case("lone high surrogate in an id", replace(b'"user-1"', rb'"user-\ud800"'), c.LONE_SURROGATE),
    Case("lone low surrogate", replace(b'"user-1"', rb'"\udc00"'), c.LONE_SURROGATE),
    Case("surrogates reversed", replace(b'"user-1"', rb'"\ude00\ud83d"'), c.LONE_SURROGATE),
    Case("high surrogate at the end", replace(b'"s-1"', rb'"s-1\ud83d"'), c.LONE_SURROGATE),
    Case("lone surrogate in an ignored field", replace(b'"BE"', rb'"BE","note":"\ud800"'),
         c.LONE_SURROGATE),
    Case("lone surrogate in a key", replace(b'"BE"', rb'"BE","\udfff":1'), c.LONE_SURROGATE),
    Case("escaped pair is one character", replace(b'"user-1"', rb'"\ud83c\udf7a"'), None,
         GOOD_TIME),
    Case("escaped high, then a raw character", replace(b'"user-1"', b'"\\ud83c\xf0\x9f\x8d\xba"'),
         c.LONE_SURROGATE),
    Case("escaped backslash before u", replace(b'"user-1"', rb'"\\ud800"'), None, GOOD_TIME),
    Case("lone surrogate beats duplicate keys", b'{"a":"\\ud800","a":1}', c.LONE_SURROGATE),
    Case("lone surrogate beats not_object", b'["\\udbff"]', c.LONE_SURROGATE),
    # --- control characters, NUL --------------------------------------------------------------
    Case("NUL after the object", event().rstrip(b"\n") + b"\x00", c.MALFORMED_JSON),
    Case("raw NUL inside a string", replace(b'"user-1"', b'"user\x00-1"'), c.MALFORMED_JSON),
    Case("escaped NUL inside a string", replace(b'"user-1"', rb'"user\u0000-1"'), None, GOOD_TIME),
    Case("raw tab inside a string", replace(b'"user-1"', b'"user\t-1"'), c.MALFORMED_JSON),
    Case("DEL inside a string", replace(b'"user-1"', b'"user\x7f-1"'), None, GOOD_TIME),
    Case("form feed as whitespace", b"\x0c" + event(), c.MALFORMED_JSON),
    Case("no-break space as whitespace", b"\xc2\xa0" + event(), c.MALFORMED_JSON),
    # --- empty and not JSON -------------------------------------------------------------------
    Case("empty", b"", c.MALFORMED_JSON),
    Case("only a newline", b"\n", c.MALFORMED_JSON),
    Case("only CRLF", b"\r\n", c.MALFORMED_JSON),
    Case("only spaces", b"   ", c.MALFORMED_JSON),
    Case("half an event", event()[:40], c.MALFORMED_JSON),
    Case("two events on one line", event().rstrip(b"\n") + event(), c.MALFORMED_JSON),
    Case("trailing comma", replace(b'"BE"', b'"BE",'), c.MALFORMED_JSON),
    Case("single quotes", b"{'event_id':'x'}", c.MALFORMED_JSON),
    Case("comment", b"/* x */" + event(), c.MALFORMED_JSON),
    Case("invalid escape", replace(b'"user-1"', rb'"user\x41"'), c.MALFORMED_JSON),
    Case("short unicode escape", replace(b'"user-1"', rb'"user\u41"'), c.MALFORMED_JSON),
    Case("NaN", replace(b'"countrycode":"BE"', b'"countrycode":"BE","v":NaN'), c.MALFORMED_JSON),
    Case("Infinity", b'{"v":Infinity}', c.MALFORMED_JSON),
    Case("-Infinity", b'{"v":-Infinity}', c.MALFORMED_JSON),
    Case("leading zero", b'{"v":01}', c.MALFORMED_JSON),
    Case("bare decimal point", b'{"v":1.}', c.MALFORMED_JSON),
    Case("leading plus", b'{"v":+1}', c.MALFORMED_JSON),
    # --- limits: nesting and numbers ----------------------------------------------------------
    Case("nested 32 deep", _nested(32), None, GOOD_TIME),
    Case("nested 33 deep", _nested(33), c.MALFORMED_JSON),
    Case("nested 5000 deep", b"[" * 5000 + b"]" * 5000, c.MALFORMED_JSON),
    Case("nested 100000 deep, unclosed", b'{"a":' * 100_000, c.MALFORMED_JSON),
    Case("brackets inside strings do not nest", event(note="[" * 100 + "{" * 100), None, GOOD_TIME),
    Case("number of 100 characters", _number(100), None, GOOD_TIME),
    Case("number of 101 characters", _number(101), c.MALFORMED_JSON),
    Case("number of 1001 digits", replace(b'"user-1"', b"1" * 1001), c.MALFORMED_JSON),
    Case("number of 5000 digits", b"9" * 5000, c.MALFORMED_JSON),
    Case("float with exponent at 100", replace(b'"BE"', b'"BE","f":-1.' + b"5" * 92 + b"e+100"),
         None, GOOD_TIME),
    Case("float with exponent at 101", replace(b'"BE"', b'"BE","f":-1.' + b"5" * 93 + b"e+100"),
         c.MALFORMED_JSON),
    Case("a huge exponent is short", replace(b'"BE"', b'"BE","f":1e999999'), None, GOOD_TIME),
    # --- duplicate keys -----------------------------------------------------------------------
    Case("event_id twice", replace(b'"user_id"', b'"event_id":"other","user_id"'), c.DUPLICATE_KEY),
    Case("an ignored key twice", replace(b'"BE"', b'"BE","x":1,"x":1'), c.DUPLICATE_KEY),
    Case("duplicate in a nested object", replace(b'"BE"', b'"BE","x":{"a":1,"a":2}'),
         c.DUPLICATE_KEY),
    Case("duplicate once unescaped", replace(b'"BE"', b'"BE","\\u0061":1,"a":2'), c.DUPLICATE_KEY),
    Case("same key in sibling objects", replace(b'"BE"', b'"BE","x":[{"a":1},{"a":2}]'), None,
         GOOD_TIME),
    Case("malformed beats duplicate", b'{"a":1,"a":2', c.MALFORMED_JSON),
    Case("duplicate beats not_object", b'[{"a":1,"a":2}]', c.DUPLICATE_KEY),
    # --- not an object, fields ----------------------------------------------------------------
    Case("an array", b"[1,2]\n", c.NOT_OBJECT),
    Case("a string", b'"event"', c.NOT_OBJECT),
    Case("null", b"null", c.NOT_OBJECT),
    Case("a number", b"42\n", c.NOT_OBJECT),
    Case("an empty object", b"{}", c.missing("event_id")),
    Case("a numeric event_id", replace(b'"0b7f5a8e-1c7e-4d0e-9a51-2f7b0c0d1e2f"', b"7"),
         c.invalid("event_id")),
    Case("a float user_id", replace(b'"user-1"', b"1.5"), c.invalid("user_id")),
    Case("a boolean device_id", replace(b'"phone-42"', b"true"), c.invalid("device_id")),
    Case("an object session_id", replace(b'"s-1"', b'{"id":"s-1"}'), c.invalid("session_id")),
    Case("an array page_url", replace(b'"/p/bi', b'["/p/bi').replace(b'/1"', b'/1"]', 1),
         c.invalid("page_url")),
    Case("a null optional field", replace(b'"s-1"', b"null"), None, GOOD_TIME),
    Case("a null required field", replace(b'"phone-42"', b"null"), c.missing("device_id")),
    Case("an empty required field", replace(b'"phone-42"', b'""'), c.missing("device_id")),
    Case("the first missing field wins", event(user_id=None, countrycode=None),
         c.missing("user_id")),
    # --- timestamps ---------------------------------------------------------------------------
    Case("year 9999 shifted past the end", event(**{TS: "9999-12-31T23:59:59-01:00"}),
         c.invalid(TS)),
    Case("year 1 shifted before the start", event(**{TS: "0001-01-01T00:00:00+01:00"}),
         c.invalid(TS)),
    Case("year 1", event(**{TS: "0001-01-01T00:00:00Z"}), c.invalid(TS)),
    Case("a carriage return inside", event().rstrip(b"\n").replace(b",", b",\r", 1),
         c.MALFORMED_JSON),
    Case("a line break then the line ending", event().replace(b",", b",\n", 1),
         c.MALFORMED_JSON),
    Case("the last instant before the epoch", event(**{TS: "1969-12-31T23:59:59.999Z"}),
         c.invalid(TS)),
    Case("the epoch written in another zone", event(**{TS: "1969-12-31T23:00:00-01:00"}), None,
         c.MIN_EVENT_TIME_MS),
    Case("the first instant", event(**{TS: "1970-01-01T00:00:00Z"}), None, c.MIN_EVENT_TIME_MS),
    Case("a second fast: at its arrival", event(**{TS: c.format_timestamp(NOW_MS + 1_000)}),
         None, NOW_MS),
    Case("the last instant", event(**{TS: "9999-12-31T23:59:59.999999999Z"}), c.FUTURE_TIMESTAMP),
    Case("year 0", event(**{TS: "0000-12-31T23:00:00-02:00"}), c.invalid(TS)),
    Case("February 30", event(**{TS: "2026-02-30T10:00:00Z"}), c.invalid(TS)),
    Case("offset +24:00", event(**{TS: "2026-11-23T10:00:00+24:00"}), c.invalid(TS)),
    Case("Arabic-Indic digits", event(**{TS: "٢٠٢٦-11-23T17:29:00Z"}), c.invalid(TS)),
    Case("exactly 5 minutes ahead: at its arrival", event(**{TS: "2026-11-23T17:35:00Z"}), None,
         NOW_MS),
    Case("5 minutes and 1 ms ahead", event(**{TS: "2026-11-23T17:35:00.001Z"}), c.FUTURE_TIMESTAMP),
    # --- the HTTP collector's stamp: judged as of the earlier of the arrival and the stamp ----
    Case("stamped after the client's time", stamped(NOW_MS - 30_000), None, GOOD_TIME),
    Case("stamped before the client's time: at the stamp", stamped(GOOD_TIME - 2_000), None,
         GOOD_TIME - 2_000),
    Case("stamped later than the arrival: at the arrival",
         stamped(NOW_MS + 600_000, **{TS: c.format_timestamp(NOW_MS + 1_000)}), None, NOW_MS),
    Case("a fast clock, exactly 5 minutes past the stamp", stamped(GOOD_TIME - 300_000), None,
         GOOD_TIME - 300_000),
    Case("a fast clock, 5 minutes and 1 ms past the stamp", stamped(GOOD_TIME - 300_001),
         c.FUTURE_TIMESTAMP),
    Case("stamped at the epoch", stamped(0, **{TS: "1970-01-01T00:00:00.000Z"}), None, 0),
    Case("a stamp with leading zeros", stamped(GOOD_TIME - 2_000).replace(b'"arrival_ms":"',
         b'"arrival_ms":"00'), None, GOOD_TIME - 2_000),
    Case("a stamp of 15 digits", stamped(999_999_999_999_999), None, GOOD_TIME),
    Case("a stamp of 16 digits", stamped(10**15), c.invalid(c.ARRIVAL_FIELD)),
    Case("a stamp that is not digits", event(arrival_ms="12a"), c.invalid(c.ARRIVAL_FIELD)),
    Case("a numeric stamp", event(arrival_ms=123), c.invalid(c.ARRIVAL_FIELD)),
    Case("an empty stamp", event(arrival_ms=""), c.invalid(c.ARRIVAL_FIELD)),
    Case("a negative stamp", event(arrival_ms="-1"), c.invalid(c.ARRIVAL_FIELD)),
    Case("a stamp with Arabic-Indic digits", event(arrival_ms="١٢٣"), c.invalid(c.ARRIVAL_FIELD)),
    Case("a null stamp", replace(b'"arrival_ms":"1', b'"arrival_ms":null,"x":"1',
         stamped(NOW_MS)), None, GOOD_TIME),
    Case("a bad stamp beats a future timestamp",
         event(arrival_ms="x", **{TS: "9999-01-01T00:00:00Z"}), c.invalid(c.ARRIVAL_FIELD)),
    Case("a bad timestamp beats a bad stamp",
         event(arrival_ms="x", **{TS: "2026-02-30T10:00:00Z"}), c.invalid(TS)),
    Case("a lower-case arrival country", stamped(NOW_MS, arrival_country="be"),
         c.invalid(c.ARRIVAL_COUNTRY_FIELD)),
    Case("an arrival country of three letters", stamped(NOW_MS, arrival_country="BEL"),
         c.invalid(c.ARRIVAL_COUNTRY_FIELD)),
    Case("a bad stamp beats a bad arrival country", event(arrival_ms=1, arrival_country=2),
         c.invalid(c.ARRIVAL_FIELD)),
    Case("an arrival country without a stamp", event(arrival_country="US"), None, GOOD_TIME),
)
# fmt: on
"""Every case, each name unique."""

SNIPPETS: tuple[bytes, ...] = (
    b"\x00", b"\x7f", b"\x80", b"\xbf", b"\xc0\xaf", b"\xc1\xbf", b"\xc2", b"\xc2\xa0", b"\xe2\x82",
    b"\xe0\x9f\xbf", b"\xed\x9f\xbf", b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xef\xbb\xbf",
    b"\xef\xbf\xbd", b"\xf0\x8f\xbf\xbf", b"\xf0\x9f\x8d\xba", b"\xf4\x8f\xbf\xbf",
    b"\xf4\x90\x80\x80", b"\xf5", b"\xff", b'"', b"\\", b"\\u", b"\\u00", b"\\ud800", b"\\udbff",
    b"\\udc00", b"\\udfff", b"\\ud83c\\udf7a", b"\\ud83c", b"\\\\ud800", b"\\u0000", b"\\/", b"{",
    b"}", b"[", b"]", b",", b":", b" ", b"\t", b"\r", b"\n", b"\r\n", b"\x0c", b"\x0b", b"NaN",
    b"Infinity", b"-Infinity", b"null", b"true", b"false", b"-", b"0", b"01", b"-0", b"1.", b".5",
    b"1e5", b"1E+", b"e", b"'", b"/*", b'"event_id":"x",', b'"user_id":1,', b',"event_id":"dup"',
    b',"x":{"a":1,"a":2}', b',"k":"\\udead"', b"[" * 31, b"]" * 31, b"[" * 33, b"{" * 40,
    b"9" * 99, b"9" * 100, b"9" * 101, b"-" + b"9" * 99, b"1." + b"5" * 90 + b"e+1234",
)  # fmt: skip
"""Bytes worth inserting into a record: broken UTF-8, escapes, brackets, numbers, keys."""
