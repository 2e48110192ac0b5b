"""One contract, byte for byte: the JVM's ``ClickContract`` and Python's ``validate`` agree.

Both judge the same raw bytes: the shared corpus (``tests/contract_corpus.py``) and, each run,
at least 10 000 records hypothesis builds by mutating valid events (JSON-level changes, then
byte-level damage: invalid UTF-8, surrogate escapes, brackets, long numbers, duplicate keys,
truncation). Every record must get the same reason, event time, field values and dead-letter
text on both sides. The JVM runs once per test (``ContractCheck`` in the job's jar, records
framed on stdin), so 10 000 records cost about a second of Java.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from augury import events as c
from augury.resources import FLINK_JAR
from flink_app import contract as job_contract
from tests.contract_corpus import CASES, GOOD, NOW_MS, SNIPPETS, Case

PROPERTY_CASES = 10_000
CONTRACT_CHECK = "io.augury.flink.ContractCheck"

Verdict = tuple[str | None, int | None, list[str | int | None] | None, str]
"""(reason, event time, the fields' values when valid, the record's text)."""
ARRIVAL_INDEX = [f.name for f in c.FIELDS].index(c.ARRIVAL_FIELD)
"""Where the collector's stamp is among the values: text in the JVM, an int in Python."""


def jvm_verdicts(records: list[bytes], now_ms: int) -> list[Verdict]:
    """Each record as the JVM judges it: one ``java`` process for all of them."""
    java = shutil.which("java")
    if java is None or not FLINK_JAR.exists():
        pytest.fail(f"needs java and {FLINK_JAR}: build it with `make flink-jar`")
    frames = [job_contract.rules_json().encode(), *records]
    payload = b"".join(struct.pack(">i", len(f)) + f for f in frames)
    run = subprocess.run([java, "-cp", str(FLINK_JAR), CONTRACT_CHECK, str(now_ms)],
                         input=payload, capture_output=True, check=False, timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stderr.decode(errors="replace")[-3000:]
    # One JSON object per line, split at LF only (str.splitlines would split at U+2028 too).
    out = [json.loads(line) for line in run.stdout.decode("utf-8").split("\n")[:-1]]
    assert len(out) == len(records)
    for o in out:  # the stamp as ClickEvent.arrival_ms has it ("007" is 7)
        stamp = o["values"][ARRIVAL_INDEX]
        o["values"][ARRIVAL_INDEX] = None if stamp is None else int(stamp)
    return [(o["reason"], o["event_time_ms"], None if o["reason"] else o["values"], o["text"])
            for o in out]  # fmt: skip


def python_verdict(record: bytes, now_ms: int) -> Verdict:
    """The record as ``augury.events.validate`` judges it, in the JVM's terms."""
    result = c.validate(record, now_ms)
    if isinstance(result, c.Invalid):
        return result.reason, None, None, result.raw
    values = [getattr(result, f.name) for f in c.FIELDS]
    return None, result.event_time_ms, values, record.decode("utf-8")


def assert_agree(records: list[bytes], now_ms: int) -> None:
    """Python and the JVM give every record the same verdict (smallest differences shown)."""
    python = [python_verdict(r, now_ms) for r in records]
    jvm = jvm_verdicts(records, now_ms)
    differ = [(r, p, j) for r, p, j in zip(records, python, jvm, strict=True) if p != j]
    differ.sort(key=lambda d: len(d[0]))
    assert differ == [], f"{len(differ)} of {len(records)} differ; smallest first"


# --- the corpus -----------------------------------------------------------------------------


def test_the_jvm_gives_every_corpus_record_its_verdict() -> None:
    jvm = jvm_verdicts([case.record for case in CASES], NOW_MS)
    got = {case.name: (v[0], v[1]) for case, v in zip(CASES, jvm, strict=True)}
    assert got == {case.name: (case.reason, case.event_time_ms) for case in CASES}


def test_python_and_the_jvm_agree_on_the_corpus_text_and_values() -> None:
    assert_agree([case.record for case in CASES], NOW_MS)


# --- generated records: mutations of valid events -------------------------------------------

TIMESTAMPS = [
    "2026-11-23T17:30:00Z", "2026-11-23T17:35:00Z", "2026-11-23T17:35:00.001Z",
    "2026-11-23T19:35:00.000999+02:00", "2026-11-23T17:30:00.123456789-05:30",
    "9999-12-31T23:59:59-01:00", "9999-12-31T23:59:59.999999999Z", "0001-01-01T00:00:00+01:00",
    "0001-01-01T00:00:00Z", "0001-01-01T00:59:59.999-01:00", "0000-12-31T23:00:00-02:00",
    "2028-02-29T10:00:00Z", "2026-02-29T10:00:00Z", "2026-11-23T24:00:00Z", "2026-11-23T10:60:00Z",
    "2026-11-23T10:00:60Z", "2026-11-23T10:00:00+23:59", "2026-11-23T10:00:00+24:00",
    "2026-11-23T10:00:00-00:60", "2026-11-23T10:00:00", "2026-11-23 10:00:00Z",
    "2026-11-23T10:00:00z", "2026-11-23T10:00:00.1234567890Z", "٢٠٢٦-11-23T17:30:00Z",
    "1969-12-31T23:59:59.999Z",
]  # fmt: skip

# Any text, lone surrogates included: JSON escapes them (\udXXX) when ensure_ascii, and the
# surrogatepass encoding writes their three bytes (invalid UTF-8) when not.
any_text = st.text(st.characters(codec=None, categories=None), max_size=12)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(10**30), 10**30),
                         st.floats(allow_nan=False, allow_infinity=False), any_text)  # fmt: skip
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(any_text, inner, max_size=3)
    ),
    max_leaves=8,
)
# Around the limits: nesting (with the root object, 1 + depth deep) and number length.
nested = st.integers(28, 34).map(lambda depth: json.loads("[" * depth + "]" * depth))
long_numbers = st.builds(lambda digits, sign: sign * 10 ** (digits - 1), st.integers(96, 102),
                         st.sampled_from([1, -1]))  # fmt: skip
# The collector's stamp: around the time judged at, anywhere, and broken.
stamps = st.one_of(
    st.integers(NOW_MS - 10**6, NOW_MS + 10**5).map(str),
    st.integers(0, 10**16).map(str),
    st.sampled_from(["0", "00" + str(NOW_MS), "9" * 15, "1" * 16, "12a", "", " 1", "-1", "1.5",
                     "١٢٣", "BE"]),
    st.integers(-5, 10**16),
)  # fmt: skip
field_values = st.one_of(
    any_text,
    stamps,
    nested,
    long_numbers,
    st.sampled_from(TIMESTAMPS),
    st.integers(c.MIN_EVENT_TIME_MS, c.MAX_EVENT_TIME_MS).map(c.format_timestamp),
    st.integers(NOW_MS - 10**7, NOW_MS + 10**6).map(c.format_timestamp),
    st.sampled_from(["", "x" * 64, "x" * 65, "u" * 128, "u" * 129, "/", "/" + "p" * 2047,
                     "/" + "p" * 2048, "p/1", "page_view", "Page_View", "BE", "be", "BEL"]),
    json_values,
)  # fmt: skip


@st.composite
def events(draw: st.DrawFn) -> bytes:
    """A valid event, then changed: fields dropped, replaced, added; then encoded."""
    doc: dict[str, Any] = dict(GOOD)
    doc["event_id"] = draw(st.uuids()).hex if draw(st.booleans()) else GOOD["event_id"]
    if draw(st.booleans()):  # stamped by the collector
        country = draw(st.sampled_from(["BE", "US", "be", "BEL", None, 1]))
        doc = {c.ARRIVAL_FIELD: draw(stamps), c.ARRIVAL_COUNTRY_FIELD: country, **doc}
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from([*GOOD, *c.STAMPED_FIELDS, "extra"]))
        if draw(st.integers(0, 4)) == 0:
            doc.pop(name, None)
        else:
            doc[name] = draw(field_values)
    keys = draw(st.permutations(list(doc)))
    text = json.dumps({k: doc[k] for k in keys}, ensure_ascii=draw(st.booleans()),
                      separators=draw(st.sampled_from([(",", ":"), (", ", ": ")])))  # fmt: skip
    if draw(st.integers(0, 9)) == 0:  # a key twice (JSON itself cannot say it)
        again = draw(st.sampled_from([*GOOD, *c.STAMPED_FIELDS, "extra"]))
        text = "{" + json.dumps(again) + ":" + json.dumps(draw(field_values)) + "," + text[1:]
    ending = draw(st.sampled_from([b"\n", b"", b"\r\n", b" \n"]))
    return text.encode("utf-8", "surrogatepass") + ending


@st.composite
def damaged(draw: st.DrawFn, base: st.SearchStrategy[bytes]) -> bytes:
    """``base``'s record with up to four byte-level changes at any places."""
    data = bytearray(draw(base))
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 1, 1, 2, 3, 4]))):
        at = draw(st.integers(0, len(data)))
        op = draw(st.integers(0, 5))
        piece = draw(st.sampled_from(SNIPPETS) if op < 4 else st.binary(min_size=1, max_size=4))
        if op in (0, 4):
            data[at:at] = piece  # insert
        elif op in (1, 5):
            data[at : at + len(piece)] = piece  # overwrite
        elif op == 2:
            del data[at : at + draw(st.integers(1, 8))]  # delete
        else:
            data = data[:at]  # truncate
    return bytes(data)


small_corpus = st.sampled_from([case.record for case in CASES if len(case.record) < 4096])


@st.composite
def records(draw: st.DrawFn) -> bytes:
    """Mostly damaged events, some damaged corpus records, a few random bytes."""
    choice = draw(st.integers(0, 9))
    if choice < 7:
        return draw(damaged(events()))
    return draw(damaged(small_corpus) if choice < 9 else st.binary(max_size=64))


def test_python_and_the_jvm_agree_on_generated_records() -> None:
    generated: list[bytes] = []

    @settings(max_examples=PROPERTY_CASES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(records())
    def collect(record: bytes) -> None:
        python_verdict(record, NOW_MS)  # never raises (hypothesis shrinks it if it does)
        generated.append(record)

    collect()
    assert len(generated) >= PROPERTY_CASES
    verdicts = [python_verdict(r, NOW_MS) for r in generated]
    kinds = {str(v[0]).split(":")[0] for v in verdicts}
    assert kinds >= {"None", c.INVALID_UTF8, c.MALFORMED_JSON, c.LONE_SURROGATE,
                     c.DUPLICATE_KEY, c.NOT_OBJECT, "missing_field", "invalid_field",
                     c.FUTURE_TIMESTAMP}, kinds  # fmt: skip
    assert {v[0] for v in verdicts} >= {c.invalid(f) for f in c.STAMPED_FIELDS}
    # The stamp decides: an event time capped at it, and a future one judged against it (as of
    # an arrival past the last valid event time, only a stamp can make a record future).
    assert any(v[2] and v[1] == v[2][ARRIVAL_INDEX] != NOW_MS for v in verdicts)
    late_now = c.MAX_EVENT_TIME_MS + c.MAX_FUTURE_MS + 1
    assert any(python_verdict(r, late_now)[0] == c.FUTURE_TIMESTAMP for r in generated)
    assert_agree(generated, NOW_MS)


def test_the_corpus_is_what_it_says() -> None:
    assert len({case.name for case in CASES}) == len(CASES)
    assert all(isinstance(case, Case) and isinstance(case.record, bytes) for case in CASES)
