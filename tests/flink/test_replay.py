"""Replay on a real local Flink mini-cluster and a real Redis equals the Python reference."""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from typing import Any

import pytest

from flink_app import job
from lambdas.clickgen.config import GeneratorConfig
from tests import reference
from tests.flink import edge_cases
from tests.flink.runs import JobRun, assert_same_image, run_files, traffic_lines, write_lines


@pytest.fixture(scope="module")
def replayed(platform_up: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[JobRun]:
    now_ms = int(time.time() * 1000)
    lines = edge_cases.lines(now_ms)
    start = now_ms - now_ms % 60_000 - 90 * 60_000
    generated = traffic_lines(GeneratorConfig(rate=30, seed=3), start, start + 180_000)
    root = tmp_path_factory.mktemp("replay")
    write_lines(root / "in" / "edge.ndjson", lines)
    with gzip.open(root / "in" / "generated.ndjson.gz", "wt", encoding="utf-8") as fh:
        fh.write("\n".join(generated) + "\n")
    run = run_files(job.REPLAY, root / "in", root, lines + generated, now_ms)
    yield run
    run.drop()


def test_redis_equals_the_reference_key_by_key(replayed: JobRun) -> None:
    expected = reference.replay(replayed.lines, replayed.now_ms, replayed.keys)
    assert_same_image(replayed.image(), expected.image)


def test_edge_cases_came_out_as_the_contract_says(replayed: JobRun) -> None:
    keys, conn = replayed.keys, replayed.conn
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


def test_dead_letter_has_every_invalid_record_with_its_reason(replayed: JobRun) -> None:
    expected = reference.replay(replayed.lines, replayed.now_ms, replayed.keys)
    got = replayed.dead_letters()
    assert sorted(got.elements()) == sorted(expected.dead_letter)
    reasons = {reason.split(":")[0] for reason, _ in got}
    assert reasons == {"malformed_json", "not_object", "missing_field", "invalid_field",
                       "future_timestamp"}  # fmt: skip
    totals = replayed.conn.hgetall(replayed.keys.totals)
    assert int(totals["invalid"]) == sum(got.values())
    assert int(totals["duplicates"]) >= 2 and int(totals["bot_events"]) >= 11
