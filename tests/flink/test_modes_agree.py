"""Streaming and replay are one pipeline: on in-order input they leave the same Redis image.

The two modes share every stage; they differ only where their semantics do (event time and
watermarks, lateness, early results). With input in event-time order nothing is late and every
window ends final, so the streaming job (over files, bounded) and the replay must agree key by
key, and on the dead letter line by line. If a stage's two variants drift apart, this fails.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from augury import events as contract
from augury.endpoints import Endpoints
from flink_app import job, settings
from lambdas.clickgen import traffic
from lambdas.clickgen.config import GeneratorConfig
from tests.flink.test_replay import _image


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
    replay: dict[str, Any]
    stream: dict[str, Any]
    dead_replay: Counter[tuple[str, str]]
    dead_stream: Counter[tuple[str, str]]


def _dead(path: Path) -> Counter[tuple[str, str]]:
    got: Counter[tuple[str, str]] = Counter()
    for part in path.rglob("*"):
        if part.is_file() and not part.name.startswith("."):
            for line in part.read_text(encoding="utf-8").splitlines():
                doc = json.loads(line)
                got[(doc["reason"], doc["raw"])] += 1
    return got


def _run(mode: str, root: Path, prefix: str, now_ms: int) -> None:
    flags = {"source.type": "files", "source.input.path": str(root / "in"),
             "sink.redis.key.prefix": prefix, "sink.redis.url": Endpoints.local().redis_url,
             "job.checkpoint.interval.seconds": 2,
             "job.checkpoint.dir": str(root / f"chk-{mode}")}  # fmt: skip
    s = settings.load(env={}, flag_values=flags)
    t_env = job.table_env(s, batch=mode == job.REPLAY)
    if mode == job.STREAM:
        job.configure_stream(t_env, s)
    job.build(t_env, s, mode, str(root / f"dead-{mode}"), input_path=str(root / "in"),
              now_ms=now_ms).execute().wait()  # fmt: skip


@pytest.fixture(scope="module")
def both(platform_up: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Both]:
    now_ms = int(time.time() * 1000)
    start = now_ms - now_ms % 60_000 - 90 * 60_000
    cfg = GeneratorConfig(rate=40, seed=21, late_fraction=0.0)
    records = traffic.generate(cfg, start, start + 240_000).records
    lines = in_order([r.data.decode().rstrip("\n") for r in records], now_ms)
    root = tmp_path_factory.mktemp("modes")
    (root / "in").mkdir()
    (root / "in" / "clicks.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    run_id = uuid.uuid4().hex[:8]
    prefixes = {mode: f"augury:{mode}:{run_id}:" for mode in (job.REPLAY, job.STREAM)}
    for mode, prefix in prefixes.items():
        _run(mode, root, prefix, now_ms)
    conn = redis.Redis.from_url(Endpoints.local().redis_url, decode_responses=True)

    def image(prefix: str) -> dict[str, Any]:
        return {k.removeprefix(prefix): v for k, v in _image(conn, prefix).items()}

    yield Both(image(prefixes[job.REPLAY]), image(prefixes[job.STREAM]),
               _dead(root / "dead-replay"), _dead(root / "dead-stream"))  # fmt: skip
    for prefix in prefixes.values():
        for key in conn.scan_iter(f"{prefix}*", count=1000):
            conn.delete(key)


def test_streaming_and_replay_leave_the_same_redis_image(both: Both) -> None:
    assert sorted(both.stream) == sorted(both.replay)
    for key, value in both.replay.items():
        assert both.stream[key] == value, key
    totals = both.replay["totals"]
    assert int(totals["late"]) == 0 and int(totals["bot_events"]) > 0
    assert int(totals["duplicates"]) > 0 and int(totals["invalid"]) > 0
    assert sum(1 for k in both.replay if k.startswith("session:")) > 100


def test_streaming_and_replay_dead_letter_the_same_lines(both: Both) -> None:
    assert both.dead_stream == both.dead_replay
    assert sum(both.dead_replay.values()) > 0
