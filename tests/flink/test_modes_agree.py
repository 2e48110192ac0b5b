"""Streaming and replay are one pipeline: on in-order input they leave the same Redis image.

The two modes share every stage; they differ only where their semantics do (event time and
watermarks, lateness, early results). With input in event-time order nothing is late and every
window ends final, so the streaming job (over files, bounded) and the replay must agree key by
key, and on the dead letter line by line. If a stage's two variants drift apart, this fails.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from augury import events as contract
from flink_app import job
from lambdas.clickgen.config import GeneratorConfig
from tests.flink.runs import JobRun, run_files, traffic_lines, write_lines


def in_order(lines: list[str], now_ms: int) -> list[str]:
    """Valid events sorted by event time (stable), invalid lines where they were."""
    timed = []
    for i, line in enumerate(lines):
        v = contract.validate(line, now_ms)
        timed.append((v.event_time_ms if isinstance(v, contract.ClickEvent) else None, i, line))
    valid = iter(sorted((t, i, line) for t, i, line in timed if t is not None))
    return [line if t is None else next(valid)[2] for t, _, line in timed]


@dataclass
class Both:
    replay: JobRun
    stream: JobRun


@pytest.fixture(scope="module")
def both(platform_up: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Both]:
    now_ms = int(time.time() * 1000)
    start = now_ms - now_ms % 60_000 - 90 * 60_000
    cfg = GeneratorConfig(rate=40, seed=21, late_fraction=0.0)
    lines = in_order(traffic_lines(cfg, start, start + 240_000), now_ms)
    root = tmp_path_factory.mktemp("modes")
    write_lines(root / "in" / "clicks.ndjson", lines)
    runs = Both(*(run_files(mode, root / "in", root, lines, now_ms)
                  for mode in (job.REPLAY, job.STREAM)))  # fmt: skip
    yield runs
    runs.replay.drop()
    runs.stream.drop()


def test_streaming_and_replay_leave_the_same_redis_image(both: Both) -> None:
    replay, stream = both.replay.image(relative=True), both.stream.image(relative=True)
    assert sorted(stream) == sorted(replay)
    for key, value in replay.items():
        assert stream[key] == value, key
    totals = replay["totals"]
    assert int(totals["late"]) == 0 and int(totals["bot_events"]) > 0
    assert int(totals["duplicates"]) > 0 and int(totals["invalid"]) > 0
    assert sum(1 for k in replay if k.startswith("session:")) > 100


def test_streaming_and_replay_dead_letter_the_same_lines(both: Both) -> None:
    assert both.stream.dead_letters() == both.replay.dead_letters()
    assert sum(both.replay.dead_letters().values()) > 0
