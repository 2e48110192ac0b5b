"""The JVM's ParseClick gives exactly the Python contract's verdict, line by line.

Two runs of the job's own first two stages on a Flink mini-cluster: the replay over text lines,
and the stream over a file of raw bytes (the streaming source's BYTES column), where every
record must get Python's verdict on the same bytes, its event time, and its dead-letter text.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from augury import events as contract
from augury import raw_archive
from flink_app import job, settings
from tests.contract_corpus import CASES, SNIPPETS
from tests.contract_corpus import NOW_MS as CORPUS_NOW_MS

TRICKY: list[Any] = [
    None, "", " ", "x", "X" * 64, "e" * 65, "u" * 128, "u" * 129, "é" * 64, "日本" * 40,
    "page_view", "Page_View", "add_to_cart\n", "a b", "BE", "be", "BEL", "B", "B\n",
    "/", "/p/ü", "p/1", "/" + "x" * 2047, "/" + "x" * 2048,
    "2026-11-23T10:00:00Z", "2026-11-23T10:00:00.1234Z", "2026-11-23T10:00:00.123456789+05:30",
    "2026-11-23T10:00:00.1234567890Z", "2026-02-29T10:00:00Z", "2028-02-29T10:00:00Z",
    "2026-11-23T24:00:00Z", "2026-11-23T10:60:00Z", "2026-11-23T10:00:60Z", "0000-01-01T00:00:00Z",
    "0001-01-01T00:00:00Z", "2026-11-23T10:00:00+23:59", "2026-11-23T10:00:00+24:00",
    "2026-11-23T10:00:00-00:60", "2026-11-23T10:00:00", "2026-11-23 10:00:00Z",
    "2026-11-23T10:00:00z", "\uff12\uff10\uff12\uff16-11-23T10:00:00Z",
    0, 1.5, True, [], ["a"], {"a": 1},
]  # fmt: skip
RAW: list[str] = [
    "", "null", "[]", "42", '"s"', "{", '{"a":1} x', '{"a": NaN}', "{}", '{"event_id": "a"}',
    '{"event_id":"1","event_id":"2"}',
]  # fmt: skip


def _lines(now_ms: int, n: int = 3000) -> list[str]:
    rng = random.Random(7)
    base = {
        "event_id": "id", "user_id": "u", "device_id": "d", "client_event": "page_view",
        "client_timestamp": contract.format_timestamp(now_ms - 60_000), "countrycode": "BE",
        "page_url": "/", "session_id": "s",
    }  # fmt: skip
    out = list(RAW)
    out.append(json.dumps(base | {"client_timestamp": contract.format_timestamp(now_ms + 300_000)}))
    out.append(json.dumps(base | {"client_timestamp": contract.format_timestamp(now_ms + 300_001)}))
    for i in range(n):
        doc: dict[str, Any] = dict(base, event_id=f"id-{i}")
        for _ in range(rng.randint(0, 3)):
            name = rng.choice(list(base))
            if rng.random() < 0.2:
                doc.pop(name, None)
            else:
                doc[name] = rng.choice(TRICKY)
        out.append(json.dumps(doc, ensure_ascii=rng.random() < 0.5))
    return out


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Any, Any]]:
    now_ms = int(time.time() * 1000)
    lines = _lines(now_ms)
    path = Path(tmp_path_factory.mktemp("parse")) / "lines.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    s = settings.load(env={}, flag_values={"source.type": "files", "source.input.path": str(path)})
    t_env = job.table_env(s, batch=True)
    params = job.parameters(s, job.REPLAY, dead_letter="", now_ms=now_ms)
    for stage in ("source", "validate"):  # the job's own first two stages
        job.apply(t_env, stage, job.REPLAY, params)
    with t_env.execute_sql("SELECT line, reason, event_time_ms FROM parsed").collect() as rows:
        got = [(r[0], r[1], r[2]) for r in rows]
    expected = []
    records = list(raw_archive.records(lines))  # what the replay reads: no blank lines
    for line in records:
        v = contract.validate(line, now_ms)
        expected.append((line, v.reason if isinstance(v, contract.Invalid) else None,
                         None if isinstance(v, contract.Invalid) else v.event_time_ms))  # fmt: skip
    assert sorted(g[0] for g in got) == sorted(records)
    by_line = {g[0]: g for g in got}
    return [(by_line[e[0]], e) for e in expected]


def test_every_line_gets_the_python_verdict(verdicts: list[Any]) -> None:
    mismatches = [(g, e) for g, e in verdicts if g != e]
    assert mismatches == []


def test_the_sample_covers_every_reason_kind(verdicts: list[Any]) -> None:
    kinds = {e[1].split(":")[0] for _, e in verdicts if e[1]}
    assert kinds == {"malformed_json", "duplicate_key", "not_object", "missing_field",
                     "invalid_field", "future_timestamp"}  # fmt: skip
    assert sum(1 for _, e in verdicts if e[1] is None) > 100


# --- the stream: raw bytes ------------------------------------------------------------------


def _damaged(records: list[bytes], n: int) -> list[bytes]:
    """``n`` records, each one of ``records`` with one to three snippets or bytes spliced in."""
    rng = random.Random(13)
    out = []
    for _ in range(n):
        data = bytearray(rng.choice(records))
        for _ in range(rng.randint(1, 3)):
            at = rng.randint(0, len(data))
            piece = rng.choice(SNIPPETS) if rng.random() < 0.8 else rng.randbytes(2)
            data[at : at + (len(piece) if rng.random() < 0.5 else 0)] = piece
        out.append(bytes(data))
    return out


def _one_line(record: bytes) -> bytes:
    """The record as a line of a file (no newline inside: the file source splits at LF)."""
    return record.removesuffix(b"\n").replace(b"\n", b" ")


@pytest.fixture(scope="module")
def byte_verdicts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Counter[Any], Counter[Any]]:
    """Flink's and Python's (text, reason, event time) of the records, as multisets."""
    corpus = [_one_line(case.record) for case in CASES]
    events = [line.encode() for line in _lines(CORPUS_NOW_MS, 500)]
    small = [r for r in corpus if len(r) < 4096] + events
    records = corpus + events + [_one_line(r) for r in _damaged(small, 3000)]
    path = Path(tmp_path_factory.mktemp("parse-bytes")) / "records.ndjson"
    path.write_bytes(b"\n".join(records) + b"\n")
    os.utime(path, (CORPUS_NOW_MS / 1000, CORPUS_NOW_MS / 1000))  # their arrival: the future rule
    s = settings.load(env={}, flag_values={"source.type": "files", "source.input.path": str(path)})
    t_env = job.table_env(s, batch=False)
    t_env.get_config().set("collect-sink.batch-size.max", "64mb")  # the 1 MiB records' rows
    params = job.parameters(s, job.STREAM, dead_letter="")
    for stage in ("source", "validate"):  # the streaming job's own first two stages
        job.apply(t_env, stage, job.STREAM, params)
    with t_env.execute_sql("SELECT line, reason, event_time_ms FROM parsed").collect() as rows:
        got = Counter((r[0], r[1], r[2]) for r in rows)
    expected: Counter[Any] = Counter()
    for record in records:
        line = record.removesuffix(b"\r")  # the file source drops a CR before the LF
        v = contract.validate(line, CORPUS_NOW_MS)
        expected[(v.raw, v.reason, None) if isinstance(v, contract.Invalid)
                 else (line.decode(), None, v.event_time_ms)] += 1  # fmt: skip
    assert got.total() == len(records) == expected.total()
    return got, expected


def test_every_raw_record_gets_the_python_verdict_and_text(byte_verdicts: Any) -> None:
    got, expected = byte_verdicts
    assert (got - expected, expected - got) == (Counter(), Counter())


def test_the_raw_sample_covers_every_validation_reason(byte_verdicts: Any) -> None:
    _, expected = byte_verdicts
    kinds = {reason.split(":")[0] for _, reason, _ in expected if reason}
    assert kinds == set(contract.ALL_REASON_KINDS) - {contract.LATE}
    assert sum(n for (_, reason, _), n in expected.items() if reason is None) > 100
