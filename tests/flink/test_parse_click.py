"""The JVM's ParseClick gives exactly the Python contract's verdict, line by line."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

import pytest

from augury import events as contract
from flink_app import job, settings

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
    for line in lines:
        v = contract.validate(line, now_ms)
        expected.append((line, v.reason if isinstance(v, contract.Invalid) else None,
                         None if isinstance(v, contract.Invalid) else v.event_time_ms))  # fmt: skip
    assert sorted(g[0] for g in got) == sorted(lines)
    by_line = {g[0]: g for g in got}
    return [(by_line[e[0]], e) for e in expected]


def test_every_line_gets_the_python_verdict(verdicts: list[Any]) -> None:
    mismatches = [(g, e) for g, e in verdicts if g != e]
    assert mismatches == []


def test_the_sample_covers_every_reason_kind(verdicts: list[Any]) -> None:
    kinds = {e[1].split(":")[0] for _, e in verdicts if e[1]}
    assert kinds == {"malformed_json", "not_object", "missing_field", "invalid_field",
                     "future_timestamp"}  # fmt: skip
    assert sum(1 for _, e in verdicts if e[1] is None) > 100
