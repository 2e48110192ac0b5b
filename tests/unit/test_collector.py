"""The collector's definitions: models generated from the contract, the record mapping.

The model must never refuse what the contract accepts, and must refuse each field-rule breach
with the reason the job's dead letter would give; the mapping must give the documented bytes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from augury import collector as c
from augury import events
from collector.edge import INVALID_BATCH, Refusal, check_batch, check_event, parse
from tests.contract_corpus import CASES, GOOD, NOW_MS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "collector.md"


def _client_view(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in events.STAMPED_FIELDS}


def test_every_valid_corpus_event_passes_the_model() -> None:
    checked = 0
    for case in CASES:
        if case.reason is not None:
            continue
        doc = json.loads(case.record)
        assert check_event(_client_view(doc)) is None, case.name
        checked += 1
    assert checked >= 10


def _mutations() -> list[tuple[str, dict[str, Any]]]:
    cases: list[tuple[str, dict[str, Any]]] = []
    for rule in events.FIELDS:
        if rule.name in events.STAMPED_FIELDS:
            continue
        cases.append((f"{rule.name} number", {**GOOD, rule.name: 7}))
        cases.append((f"{rule.name} object", {**GOOD, rule.name: {"a": "b"}}))
        if rule.max_len is not None:
            cases.append((f"{rule.name} too long", {**GOOD, rule.name: "a" * (rule.max_len + 1)}))
        if rule.pattern is not None or rule.starts_with is not None:
            cases.append((f"{rule.name} off pattern", {**GOOD, rule.name: "Not Valid!"}))
        if rule.required:
            cases.append((f"{rule.name} absent", {k: v for k, v in GOOD.items() if k != rule.name}))
            cases.append((f"{rule.name} null", {**GOOD, rule.name: None}))
            cases.append((f"{rule.name} empty", {**GOOD, rule.name: ""}))
    return cases


@pytest.mark.parametrize(("name", "doc"), _mutations(), ids=[n for n, _ in _mutations()])
def test_each_field_breach_is_refused_with_the_contracts_reason(
    name: str, doc: dict[str, Any]
) -> None:
    expected = events.validate(events.encode(doc), NOW_MS)
    assert isinstance(expected, events.Invalid), name
    refusal = check_event(doc)
    assert refusal is not None, name
    assert refusal.reason == expected.reason
    assert refusal.field == expected.reason.split(":", 1)[1]


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"{", events.MALFORMED_JSON), (b"NaN", events.MALFORMED_JSON), (b"", events.MALFORMED_JSON),
     (b"\xff", events.INVALID_UTF8), (b"[1]", events.NOT_OBJECT), (b'"x"', events.NOT_OBJECT),
     (b"null", events.NOT_OBJECT), (b'{"a":"\\ud83d"}', events.LONE_SURROGATE),
     (b'{"a":1,"a":2}', events.DUPLICATE_KEY), (b"[" * 40 + b"]" * 40, events.MALFORMED_JSON)],
)  # fmt: skip
def test_bodies_that_are_no_event_object(body: bytes, reason: str) -> None:
    doc = parse(body)
    refusal = doc if isinstance(doc, Refusal) else check_event(doc)
    assert refusal is not None and refusal.reason == reason


@pytest.mark.parametrize("name", events.STAMPED_FIELDS)
def test_a_client_cannot_send_the_collectors_stamps(name: str) -> None:
    refusal = check_event({**GOOD, name: "1796441811135"})
    assert refusal == Refusal(events.invalid(name), name)


def test_batch_envelope_and_the_first_bad_event_named() -> None:
    bad: dict[str, Any]
    for bad in ({}, {"events": []}, {"events": {}}, {"events": [GOOD] * (c.MAX_BATCH_EVENTS + 1)}):
        refusal = check_batch(bad)
        assert refusal is not None and refusal.reason == INVALID_BATCH, bad
    assert check_batch({"events": [GOOD] * c.MAX_BATCH_EVENTS}) is None
    batch = {"events": [GOOD, GOOD, GOOD, {**GOOD, "countrycode": "be"}, {**GOOD, "user_id": ""}]}
    refusal = check_batch(batch)
    assert refusal is not None
    assert refusal.answer() == {
        "message": "events[3]: invalid_field:countrycode",
        "reason": "invalid_field:countrycode",
        "field": "countrycode",
        "at": "events[3]",
    }


def _documented_examples() -> list[dict[str, str]]:
    text = DOCS.read_text()
    blocks = re.findall(r"<!-- mapping example -->\n```text\n(.*?)```", text, re.DOTALL)
    examples = []
    for block in blocks:
        fields = dict(line.split(":", 1) for line in block.splitlines() if line.strip())
        examples.append({k.strip(): v.strip() for k, v in fields.items()})
    return examples


def test_numbers_and_strings_are_written_as_sent() -> None:
    body = '{"a": 1E400, "b": [1, 2.50, -0], "c": "é\\u00e9 \\"q\\" </x>", "t": true, "n": null}'
    doc = parse(body.encode())
    written = '{"a":1E400,"b":[1,2.50,-0],"c":"éé \\"q\\" </x>","t":true,"n":null}'
    assert c.event_json(doc) == written


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([r for r in events.FIELDS if r.name not in events.STAMPED_FIELDS]),
       st.one_of(st.text(max_size=80), st.from_regex(events.TIMESTAMP_PATTERN, fullmatch=True),
                 st.from_regex(r"[a-z0-9_]{1,64}\n?", fullmatch=True),
                 st.from_regex(r"[A-Z]{2}[\n\u2028]?", fullmatch=True),
                 st.from_regex(r"/[^\n]{0,20}\n?[^\n]{0,5}", fullmatch=True)))  # fmt: skip
def test_the_model_accepts_a_field_value_exactly_when_the_contract_does(
    rule: events.FieldRule, value: str
) -> None:
    """A schema pattern is searched for, and "$" matches before a final newline: the model's
    patterns must say "nothing follows" instead (and the timestamp's calendar check is the
    contract's alone, so only its pattern is compared)."""
    doc = {**GOOD, rule.name: value}
    contract_ok = value != "" and rule.accepts(value) if rule.required else rule.accepts(value)
    if rule.name == events.TIMESTAMP_FIELD:
        contract_ok = value != "" and re.fullmatch(rule.pattern or "", value) is not None
    assert (check_event(doc) is None) == contract_ok, (rule.name, value)


def test_the_mapping_gives_the_documented_records_byte_for_byte() -> None:
    examples = _documented_examples()
    assert len(examples) >= 2
    for ex in examples:
        event = json.loads(ex["event"])
        assert c.event_json(event) == ex["event"]
        got = c.record(c.event_json(event), int(ex["arrival"]), ex["country"] or None)
        assert got == ex["record"].encode("utf-8")


def test_a_mapped_record_is_judged_as_of_its_arrival() -> None:
    """Whatever reads the record later (stream or replay), a fast clock counts at arrival."""
    arrival = NOW_MS - 120_000
    fast = {**GOOD, "client_timestamp": events.format_timestamp(arrival + 60_000)}
    got = events.validate(c.record(c.event_json(fast), arrival, "BE"), NOW_MS)
    assert isinstance(got, events.ClickEvent)
    assert got.event_time_ms == arrival
    too_fast = {**GOOD, "client_timestamp": events.format_timestamp(arrival + 6 * 60_000)}
    late_read = events.validate(c.record(c.event_json(too_fast), arrival), NOW_MS + 3_600_000)
    assert isinstance(late_read, events.Invalid) and late_read.reason == events.FUTURE_TIMESTAMP


def test_only_a_two_letter_country_is_stamped() -> None:
    for country in ("be", "BEL", "", "É1"):
        assert b"arrival_country" not in c.record(c.event_json(GOOD), 1, country)


def test_the_templates_name_the_stream_and_stamp_the_request_time() -> None:
    for template in (c.single_request_template("s-1"), c.batch_request_template("s-1")):
        assert '"StreamName":"s-1"' in template
        assert "$context.requestTimeEpoch" in template
        assert c.COUNTRY_HEADER not in template  # regional: the header is not trusted
    assert c.COUNTRY_HEADER in c.batch_request_template("s-1", trust_country_header=True)


def test_answers_keep_the_request_order() -> None:
    response = {
        "FailedRecordCount": 1,
        "Records": [
            {"SequenceNumber": "1", "ShardId": "shardId-0"},
            {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "slow"},
        ],
    }
    assert c.answer_put_records(response) == {
        "failed": 1,
        "results": [
            {"sequence_number": "1", "shard_id": "shardId-0"},
            {"error_code": "ProvisionedThroughputExceededException", "error_message": "slow"},
        ],
    }
