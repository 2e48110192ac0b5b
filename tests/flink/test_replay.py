"""Replay on a real local Flink mini-cluster and a real Redis equals the Python reference."""

from __future__ import annotations

import gzip
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from augury.endpoints import Endpoints
from augury.redis_keys import Keys
from flink_app import job, settings
from lambdas.clickgen import traffic
from lambdas.clickgen.config import GeneratorConfig
from tests import reference
from tests.flink import edge_cases


@dataclass
class Replayed:
    prefix: str
    lines: list[str]
    now_ms: int
    dead_letter: Path
    conn: Any  # redis.Redis with decode_responses=True


def _image(conn: Any, prefix: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in conn.scan_iter(f"{prefix}*", count=1000):
        if conn.type(key) == "hash":
            h = conn.hgetall(key)
            h.pop("updated_ms", None)  # the time of the write
            h.pop("final_ms", None)  # the time of the first final write
            out[key] = h
        else:
            out[key] = dict(conn.zrange(key, 0, -1, withscores=True))
    return out


@pytest.fixture(scope="module")
def replayed(platform_up: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replayed]:
    now_ms = int(time.time() * 1000)
    lines = edge_cases.lines(now_ms)
    start = now_ms - now_ms % 60_000 - 90 * 60_000
    window = traffic.generate(GeneratorConfig(rate=30, seed=3), start, start + 180_000)
    generated = [r.data.decode().rstrip("\n") for r in window.records]
    root = tmp_path_factory.mktemp("replay")
    (root / "in").mkdir()
    (root / "in" / "edge.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with gzip.open(root / "in" / "generated.ndjson.gz", "wt", encoding="utf-8") as fh:
        fh.write("\n".join(generated) + "\n")
    prefix = f"augury:test:{uuid.uuid4().hex[:8]}:"
    s = settings.load(flag_values={"source.type": "files", "source.input.path": str(root / "in"),
                                   "sink.redis.key.prefix": prefix,
                                   "sink.redis.url": Endpoints.local().redis_url})  # fmt: skip
    t_env = job.table_env(s, batch=True)
    job.build(t_env, s, job.REPLAY, str(root / "dead"), input_path=str(root / "in"),
              now_ms=now_ms).execute().wait()  # fmt: skip
    conn = redis.Redis.from_url(s.redis_url, decode_responses=True)
    yield Replayed(prefix, lines + generated, now_ms, root / "dead", conn)
    for key in conn.scan_iter(f"{prefix}*", count=1000):
        conn.delete(key)


def assert_same_image(got: dict[str, Any], expected: reference.RedisImage) -> None:
    """The same keys, and each key's value equal (reported by key)."""
    assert sorted(got) == sorted(expected)
    for key, value in expected.items():
        assert got[key] == value, key


def test_redis_equals_the_reference_key_by_key(replayed: Replayed) -> None:
    expected = reference.replay(replayed.lines, replayed.now_ms, Keys(replayed.prefix))
    assert_same_image(_image(replayed.conn, replayed.prefix), expected.image)


def test_edge_cases_came_out_as_the_contract_says(replayed: Replayed) -> None:
    keys, conn = Keys(replayed.prefix), replayed.conn
    base = replayed.now_ms - replayed.now_ms % 60_000 - 120 * 60_000
    gap = conn.zrange(keys.user_sessions("gap"), 0, -1)
    assert gap == [f"gap|phone-1|{base + 1_000}", f"gap|phone-1|{base + 122_001}"]
    assert conn.hget(keys.session(gap[0]), "events") == "2"
    assert conn.zcard(keys.user_sessions("ten")) == 1  # 10 in a second: human
    assert conn.zcard(keys.user_sessions("eleven")) == 0  # 11: bot
    assert conn.zcard(keys.user_sessions("split")) == 1
    tie = conn.hgetall(keys.session(f"tie|phone-t|{base + 300_000}"))
    assert (tie["first_event"], tie["last_event"], tie["countrycode"]) == (
        "aaa_first", "zzz_last", "AT",
    )  # fmt: skip
    pages = conn.zrange(keys.window_pages(base + 180_000), 0, -1, withscores=True)
    assert ("/c/bières-belges", 1.0) in pages and ("/p/日本/1", 1.0) in pages
    window = conn.hgetall(keys.window(base + 180_000))
    assert window["events"] == "4" and window["final"] == "1"
    assert int(window["evt:app_open"]) == 1 and "updated_ms" in window
    assert conn.ttl(keys.window(base + 180_000)) > 0
    assert conn.ttl(keys.totals) == -1  # the one key that never expires


def test_dead_letter_has_every_invalid_record_with_its_reason(replayed: Replayed) -> None:
    expected = reference.replay(replayed.lines, replayed.now_ms, Keys(replayed.prefix))
    got = []
    for part in replayed.dead_letter.rglob("*"):
        if part.is_file() and not part.name.startswith("."):
            got += [json.loads(x) for x in part.read_text(encoding="utf-8").splitlines()]
    assert sorted((d["reason"], d["raw"]) for d in got) == sorted(expected.dead_letter)
    reasons = {d["reason"].split(":")[0] for d in got}
    assert reasons == {"malformed_json", "not_object", "missing_field", "invalid_field",
                       "future_timestamp"}  # fmt: skip
    totals = replayed.conn.hgetall(Keys(replayed.prefix).totals)
    assert int(totals["invalid"]) == len(got)
    assert int(totals["duplicates"]) >= 2 and int(totals["bot_events"]) >= 11
