"""The streaming job (``python -m flink_app run``'s pipeline) on a real mini-cluster and Redis.

Over files, in streaming mode, the run is deterministic: lateness is decided from checkpointed
state (the largest event time seen), not from the watermark's timing, so the result equals the
plain-Python streaming reference key by key.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from flink_app import job
from lambdas.clickgen.config import GeneratorConfig
from tests import reference
from tests.flink import edge_cases
from tests.flink.runs import JobRun, assert_same_image, run_files, traffic_lines, write_lines


@pytest.fixture(scope="module")
def streamed(platform_up: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[JobRun]:
    now_ms = int(time.time() * 1000)
    start = now_ms - now_ms % 60_000 - 90 * 60_000
    generated = traffic_lines(GeneratorConfig(rate=30, seed=5), start, start + 180_000)
    lines = edge_cases.stream_lines(now_ms) + generated
    root = tmp_path_factory.mktemp("stream")
    write_lines(root / "in" / "clicks.ndjson", lines)
    run = run_files(job.STREAM, root / "in", root, lines, now_ms)
    yield run
    run.drop()


def test_redis_equals_the_streaming_reference_key_by_key(streamed: JobRun) -> None:
    expected = reference.stream(streamed.lines, streamed.now_ms, streamed.keys)
    assert_same_image(streamed.image(), expected.image)


def test_late_events_are_counted_and_kept_out_of_windows(streamed: JobRun) -> None:
    keys = streamed.keys
    totals = streamed.conn.hgetall(keys.totals)
    assert int(totals["late"]) >= 3  # the three edge-case stragglers, plus generated ones
    assert int(totals["bot_events"]) > 0 and int(totals["duplicates"]) > 0
    assert not streamed.conn.keys(f"{keys.prefix}session:late|*")


def test_dead_letter_holds_every_invalid_and_late_event_with_its_reason(streamed: JobRun) -> None:
    expected = reference.stream(streamed.lines, streamed.now_ms, streamed.keys)
    got = streamed.dead_letters()
    assert got == Counter(expected.dead_letter)
    assert {reason for reason, _ in got} >= {"late", "malformed_json", "missing_field:user_id"}
