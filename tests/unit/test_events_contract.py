"""The event contract: a table of edge cases, the shared raw-bytes corpus, hypothesis properties."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from augury import events as c
from tests.contract_corpus import CASES, Case
from tests.contract_corpus import NOW_MS as CORPUS_NOW_MS

NOW = c.parse_timestamp_ms("2026-11-23T17:30:00Z") or 0
GOOD: dict[str, Any] = {
    "event_id": "0b7f5a8e-1c7e-4d0e-9a51-2f7b0c0d1e2f",
    "user_id": "user-1",
    "device_id": "phone-42",
    "client_event": "add_belgian_beer",
    "client_timestamp": "2026-11-23T17:30:00.123Z",
    "countrycode": "BE",
    "page_url": "/p/bières/1",
    "session_id": "abc",
}


def _with(**changes: Any) -> str:
    doc = dict(GOOD)
    for k, v in changes.items():
        if v is _DROP:
            doc.pop(k)
        else:
            doc[k] = v
    return json.dumps(doc)


_DROP = object()


def test_a_good_event_is_valid_with_its_event_time() -> None:
    ev = c.validate(json.dumps(GOOD) + "\n", NOW + 1_000)
    assert isinstance(ev, c.ClickEvent)
    assert ev.event_time_ms == NOW + 123
    early = c.validate(json.dumps(GOOD) + "\n", NOW)  # stamped 123 ms after it arrived
    assert isinstance(early, c.ClickEvent) and early.event_time_ms == NOW
    assert ev.page_url == "/p/bières/1" and ev.session_id == "abc"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "malformed_json"),
        ('{"event_id": "x"', "malformed_json"),
        (b"\xff\xfe{}", "invalid_utf8"),
        (b'{"event_id": "\\ud800"}', "lone_surrogate"),
        ('{"event_id": "a", "event_id": "b"}', "duplicate_key"),
        ('{"a": NaN}', "malformed_json"),
        ("[1, 2]", "not_object"),
        ('"a string"', "not_object"),
        ("null", "not_object"),
        ("42", "not_object"),
        (_with(event_id=_DROP), "missing_field:event_id"),
        (_with(user_id=None), "missing_field:user_id"),
        (_with(device_id=""), "missing_field:device_id"),
        # Several problems: the first check in contract order wins.
        (_with(countrycode=_DROP, client_event="BAD"), "missing_field:countrycode"),
        (_with(user_id=_DROP, device_id=_DROP), "missing_field:user_id"),
        (_with(event_id="e" * 65), "invalid_field:event_id"),
        (_with(event_id=7), "invalid_field:event_id"),
        (_with(user_id="u" * 129), "invalid_field:user_id"),
        (_with(device_id=["phone"]), "invalid_field:device_id"),
        (_with(client_event="Add To Cart"), "invalid_field:client_event"),
        (_with(client_event="a" * 65), "invalid_field:client_event"),
        (_with(client_event="café"), "invalid_field:client_event"),
        (_with(client_timestamp="2026-11-23T17:30:00"), "invalid_field:client_timestamp"),
        (_with(client_timestamp="2026-11-23T17:30Z"), "invalid_field:client_timestamp"),
        (_with(client_timestamp="2026-11-23 17:30:00Z"), "invalid_field:client_timestamp"),
        (_with(client_timestamp="2026-02-30T17:30:00Z"), "invalid_field:client_timestamp"),
        (_with(client_timestamp="2026-11-23T24:00:00Z"), "invalid_field:client_timestamp"),
        (
            _with(client_timestamp="2026-11-23T17:30:00.1234567890Z"),
            "invalid_field:client_timestamp",
        ),
        (_with(client_timestamp="٢٠٢٦-11-23T17:30:00Z"), "invalid_field:client_timestamp"),
        (_with(client_timestamp=1795455000), "invalid_field:client_timestamp"),
        (_with(countrycode="be"), "invalid_field:countrycode"),
        # An impossible instant is invalid in the timestamp's own place in the order.
        (
            _with(client_timestamp="2026-02-30T17:30:00Z", countrycode="be"),
            "invalid_field:client_timestamp",
        ),
        (_with(countrycode="BEL"), "invalid_field:countrycode"),
        (_with(page_url="p/1"), "invalid_field:page_url"),
        (_with(page_url="/" + "x" * 2048), "invalid_field:page_url"),
        (_with(page_url=12), "invalid_field:page_url"),
        (_with(session_id=5), "invalid_field:session_id"),
        (_with(client_timestamp="2026-11-23T17:35:00.001Z"), "future_timestamp"),
        (_with(client_timestamp="2026-11-23T19:35:01+02:00"), "future_timestamp"),
        (_with(arrival_ms="12a"), "invalid_field:arrival_ms"),
        (_with(arrival_ms=123), "invalid_field:arrival_ms"),
        (_with(arrival_ms="1" * 16), "invalid_field:arrival_ms"),
        (_with(arrival_ms=" 123"), "invalid_field:arrival_ms"),
        (_with(arrival_ms=str(NOW), arrival_country="be"), "invalid_field:arrival_country"),
        (_with(arrival_country=["BE"]), "invalid_field:arrival_country"),
        # Judged as of the collector's stamp, when it is earlier than the arrival (now).
        (_with(arrival_ms=str(NOW - 300_000)), "future_timestamp"),
    ],
)
def test_invalid_events_get_exactly_one_reason(raw: str | bytes, reason: str) -> None:
    result = c.validate(raw, NOW)
    assert isinstance(result, c.Invalid)
    assert result.reason == reason
    assert result.raw == (raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw)


@pytest.mark.parametrize(
    ("changes", "event_time"),
    [
        ({"page_url": _DROP, "session_id": _DROP}, NOW + 123),
        ({"page_url": None}, NOW + 123),
        ({"client_timestamp": "2026-11-23T17:35:00Z"}, NOW + 1_000),  # ahead: at its arrival
        ({"client_timestamp": "2026-11-23T18:30:00+01:00"}, NOW),
        ({"client_timestamp": "2026-11-23T12:00:00-05:30"}, NOW),
        ({"client_timestamp": "2026-11-23T17:30:00.9Z"}, NOW + 900),
        ({"client_timestamp": "2026-11-23T17:30:00.123456789Z"}, NOW + 123),
        ({"client_timestamp": "2020-01-01T00:00:00Z"}, 1577836800000),  # very late is valid
        ({"extra": {"nested": [1]}, "countrycode": "US"}, NOW + 123),
        ({"page_url": "/"}, NOW + 123),
        ({"event_id": "e" * 64, "user_id": "u" * 128, "client_event": "a" * 64}, NOW + 123),
        # The collector's stamp: judged as of the earlier of it and the arrival.
        ({"arrival_ms": str(NOW + 500), "arrival_country": "BE"}, NOW + 123),
        ({"arrival_ms": str(NOW + 100)}, NOW + 100),
        ({"arrival_ms": str(NOW + 5_000)}, NOW + 123),
        ({"arrival_ms": str(NOW - 300_000 + 123)}, NOW - 300_000 + 123),  # 5 minutes fast
        ({"arrival_ms": "00" + str(NOW)}, NOW),  # 15 digits
        ({"arrival_ms": None, "arrival_country": None}, NOW + 123),
        ({"arrival_country": "US"}, NOW + 123),
    ],
)
def test_valid_edge_cases(changes: dict[str, Any], event_time: int) -> None:
    result = c.validate(_with(**changes), NOW + 1_000)  # judged (arrived) a second later
    assert isinstance(result, c.ClickEvent), result
    assert result.event_time_ms == event_time


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_the_shared_corpus(case: Case) -> None:
    result = c.validate(case.record, CORPUS_NOW_MS)
    if case.reason is None:
        assert isinstance(result, c.ClickEvent), result
        assert result.event_time_ms == case.event_time_ms
    else:
        assert isinstance(result, c.Invalid) and result.reason == case.reason
        assert result.raw == case.record.decode("utf-8", "replace")


TS_INVALID = c.invalid(c.TIMESTAMP_FIELD)


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        # What #13 item 5 found: each crashed Python or split the two implementations.
        (_with(user_id="u").encode().replace(b'"u"', b'"u\xff"'), "invalid_utf8"),
        (b'{"n": ' + b"1" * 1001 + b"}", "malformed_json"),
        (b"[" * 100_000 + b"]" * 100_000, "malformed_json"),  # RecursionError before
        (_with(client_timestamp="9999-12-31T23:59:59-01:00").encode(), TS_INVALID),
        (_with(client_timestamp="0001-01-01T00:00:00+01:00").encode(), TS_INVALID),
        (_with(user_id="\ud800").encode(), "lone_surrogate"),  # json.dumps escapes it
    ],
)
def test_what_used_to_crash_or_disagree_gets_a_reason(record: bytes, reason: str) -> None:
    result = c.validate(record, NOW)
    assert isinstance(result, c.Invalid) and result.reason == reason


def test_a_str_is_judged_as_its_utf8_bytes() -> None:
    too_large = " " * (c.MAX_RECORD_BYTES + 1)
    for raw in (json.dumps(GOOD, ensure_ascii=False), "x\udc80", "", too_large):
        data = raw.encode("utf-8", "surrogatepass")
        assert c.validate(raw, NOW) == c.validate(data, NOW)
    assert c.validate("x\udc80", NOW) == c.Invalid(c.INVALID_UTF8, "x\ufffd\ufffd\ufffd")


def test_the_line_ending_does_not_count_toward_the_size_limit() -> None:
    body = b'{"pad":"' + b"x" * (c.MAX_RECORD_BYTES - 10) + b'"}'
    assert len(body) == c.MAX_RECORD_BYTES
    for ending in (b"", b"\n", b"\r\n", b"\r\n\n"):
        result = c.validate(body + ending, NOW)
        assert isinstance(result, c.Invalid) and result.reason == c.missing("event_id")
    result = c.validate(b" " + body, NOW)
    assert isinstance(result, c.Invalid) and result.reason == c.RECORD_TOO_LARGE


def test_timestamps_at_the_ends_of_the_range() -> None:
    assert c.parse_timestamp_ms("1970-01-01T00:00:00Z") == c.MIN_EVENT_TIME_MS == 0
    assert c.parse_timestamp_ms("1970-01-01T00:00:00-01:00") == c.MIN_EVENT_TIME_MS + 3_600_000
    assert c.parse_timestamp_ms("1970-01-01T00:00:00+01:00") is None
    assert c.parse_timestamp_ms("0001-01-01T00:00:00Z") is None
    assert c.parse_timestamp_ms("9999-12-31T23:59:59.999999Z") == c.MAX_EVENT_TIME_MS
    assert c.parse_timestamp_ms("9999-12-31T22:59:59.999-01:00") == c.MAX_EVENT_TIME_MS
    assert c.parse_timestamp_ms("9999-12-31T23:00:00-01:00") is None
    assert c.parse_timestamp_ms("0001-01-01T00:00:00.999+00:01") is None


def test_reason_kinds_and_field_rules_are_consistent() -> None:
    assert [f.name for f in c.REQUIRED] == [
        "event_id", "user_id", "device_id", "client_event", "client_timestamp", "countrycode",
    ]  # fmt: skip
    assert c.missing("user_id") == "missing_field:user_id"
    assert c.invalid("page_url") == "invalid_field:page_url"
    assert c.ALL_REASON_KINDS == (
        "record_too_large", "invalid_utf8", "malformed_json", "lone_surrogate", "duplicate_key",
        "not_object", "missing_field", "invalid_field", "future_timestamp", "late",
    )  # fmt: skip


def test_the_collector_stamps_are_the_last_optional_fields() -> None:
    assert (c.ARRIVAL_FIELD, c.ARRIVAL_COUNTRY_FIELD) == c.STAMPED_FIELDS
    assert c.STAMPED_FIELDS == ("arrival_ms", "arrival_country")
    assert tuple(f.name for f in c.FIELDS[-2:]) == c.STAMPED_FIELDS
    assert not any(f.required for f in c.FIELDS[-2:])
    stamped = c.validate(_with(arrival_ms=str(NOW), arrival_country="BE"), NOW + 1_000)
    assert isinstance(stamped, c.ClickEvent)
    assert (stamped.arrival_ms, stamped.arrival_country) == (NOW, "BE")
    plain = c.validate(_with(), NOW + 1_000)
    assert isinstance(plain, c.ClickEvent)
    assert (plain.arrival_ms, plain.arrival_country) == (None, None)


def test_format_and_parse_timestamps_round_trip() -> None:
    assert c.format_timestamp(NOW + 5) == "2026-11-23T17:30:00.005Z"
    assert c.parse_timestamp_ms(c.format_timestamp(NOW + 5)) == NOW + 5


def test_encode_is_one_ndjson_line() -> None:
    data = c.encode(GOOD)
    assert data.endswith(b"\n") and data.count(b"\n") == 1
    assert json.loads(data) == GOOD


# --- properties -------------------------------------------------------------------------

ident = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1,
                max_size=64)  # fmt: skip
valid_docs = st.fixed_dictionaries(
    {
        "event_id": ident,
        "user_id": ident,
        "device_id": ident,
        "client_event": st.from_regex(r"[a-z0-9_]{1,64}", fullmatch=True),
        "client_timestamp": st.integers(0, NOW + c.MAX_FUTURE_MS).map(c.format_timestamp),
        "countrycode": st.from_regex(r"[A-Z]{2}", fullmatch=True),
    },
    optional={
        "page_url": st.text(max_size=100).map(lambda s: "/" + s),
        "session_id": ident,
    },
)


@settings(max_examples=300, deadline=None)
@given(valid_docs)
def test_every_event_built_by_the_rules_is_valid(doc: dict[str, Any]) -> None:
    result = c.validate(c.encode(doc), NOW)
    assert isinstance(result, c.ClickEvent)
    assert result.event_time_ms == min(c.parse_timestamp_ms(doc["client_timestamp"]) or 0, NOW)


@settings(max_examples=300, deadline=None)
@given(valid_docs, st.integers(0, NOW + 10 * c.MAX_FUTURE_MS), st.integers(-1, 10**15 - 1))
def test_a_stamped_event_is_judged_as_of_the_earlier_time(doc: dict[str, Any], now_ms: int,
                                                          stamp: int) -> None:  # fmt: skip
    stamped = {c.ARRIVAL_FIELD: str(stamp), **doc} if stamp >= 0 else doc
    judged_at = now_ms if stamp < 0 else min(now_ms, stamp)
    got, plain = c.validate(c.encode(stamped), now_ms), c.validate(c.encode(doc), judged_at)
    if isinstance(plain, c.Invalid):
        assert got == c.Invalid(plain.reason, c.encode(stamped).decode())
    else:
        assert isinstance(got, c.ClickEvent)
        assert got.event_time_ms == plain.event_time_ms
        assert got.arrival_ms == (None if stamp < 0 else stamp)


@settings(max_examples=300, deadline=None)
@given(valid_docs, st.sampled_from([f.name for f in c.REQUIRED]),
       st.sampled_from([None, "", "DROP"]))  # fmt: skip
def test_removing_a_required_field_names_it(doc: dict[str, Any], name: str, how: Any) -> None:
    bad = dict(doc)
    if how == "DROP":
        del bad[name]
    else:
        bad[name] = how
    result = c.validate(c.encode(bad), NOW)
    assert isinstance(result, c.Invalid) and result.reason == c.missing(name)


@settings(max_examples=300, deadline=None)
@given(valid_docs, st.sampled_from([f.name for f in c.FIELDS]),
       st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.booleans(),
                 st.lists(st.integers(), max_size=2)))  # fmt: skip
def test_a_non_string_field_is_invalid(doc: dict[str, Any], name: str, value: Any) -> None:
    result = c.validate(c.encode({**doc, name: value}), NOW)
    assert isinstance(result, c.Invalid) and result.reason == c.invalid(name)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_give_an_event_or_one_known_reason(raw: bytes) -> None:
    result = c.validate(raw, NOW)
    if isinstance(result, c.Invalid):
        kind = result.reason.split(":")[0]
        assert kind in c.ALL_REASON_KINDS


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 4_102_444_800_000), st.integers(-23 * 60, 23 * 60))
def test_zone_offsets_give_the_same_instant(epoch_ms: int, offset_min: int) -> None:
    from datetime import UTC, datetime, timedelta, timezone

    zone = timezone(timedelta(minutes=offset_min))
    local = datetime.fromtimestamp(epoch_ms // 1000, tz=UTC).astimezone(zone)
    sign = "+" if offset_min >= 0 else "-"
    hh, mm = divmod(abs(offset_min), 60)
    text = local.strftime("%Y-%m-%dT%H:%M:%S") + f".{epoch_ms % 1000:03d}{sign}{hh:02d}:{mm:02d}"
    assert c.parse_timestamp_ms(text) == epoch_ms
