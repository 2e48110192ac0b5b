"""The streaming job (``python -m flink_app run``'s pipeline) on a real mini-cluster and Redis.

Over files, in streaming mode, the run is deterministic: lateness is decided from checkpointed
state (the largest event time seen), not from the watermark's timing, so the result equals the
plain-Python streaming reference key by key.
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

from augury.endpoints import Endpoints
from augury.redis_keys import Keys
from flink_app import job, settings
from lambdas.clickgen import traffic
from lambdas.clickgen.config import GeneratorConfig
from tests import reference
from tests.flink import edge_cases
from tests.flink.test_replay import _image, assert_same_image


@dataclass
class Streamed:
    prefix: str
    lines: list[str]
    now_ms: int
    dead_letter: Path
    conn: Any


@pytest.fixture(scope="module")
def streamed(platform_up: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Streamed]:
    now_ms = int(time.time() * 1000)
    start = now_ms - now_ms % 60_000 - 90 * 60_000
    generated = traffic.generate(GeneratorConfig(rate=30, seed=5), start, start + 180_000)
    lines = edge_cases.stream_lines(now_ms) + [
        r.data.decode().rstrip("\n") for r in generated.records
    ]
    root = tmp_path_factory.mktemp("stream")
    (root / "in").mkdir()
    (root / "in" / "clicks.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    prefix = f"augury:stream:{uuid.uuid4().hex[:8]}:"
    s = settings.load(flag_values={
        "source.type": "files", "source.input.path": str(root / "in"),
        "sink.redis.key.prefix": prefix, "sink.redis.url": Endpoints.local().redis_url,
        "job.checkpoint.interval.seconds": 2, "job.checkpoint.dir": str(root / "chk"),
    })  # fmt: skip
    t_env = job.table_env(s, batch=False)
    job.configure_stream(t_env, s)
    job.build(t_env, s, job.STREAM, str(root / "dead")).execute().wait()
    conn = redis.Redis.from_url(s.redis_url, decode_responses=True)
    yield Streamed(prefix, lines, now_ms, root / "dead", conn)
    for key in conn.scan_iter(f"{prefix}*", count=1000):
        conn.delete(key)


def test_redis_equals_the_streaming_reference_key_by_key(streamed: Streamed) -> None:
    expected = reference.stream(streamed.lines, streamed.now_ms, Keys(streamed.prefix))
    assert_same_image(_image(streamed.conn, streamed.prefix), expected.image)


def test_late_events_are_counted_and_kept_out_of_windows(streamed: Streamed) -> None:
    keys = Keys(streamed.prefix)
    totals = streamed.conn.hgetall(keys.totals)
    assert int(totals["late"]) >= 3  # the three edge-case stragglers, plus generated ones
    assert int(totals["bot_events"]) > 0 and int(totals["duplicates"]) > 0
    assert not streamed.conn.keys(f"{streamed.prefix}session:late|*")


def test_dead_letter_holds_every_invalid_and_late_event_with_its_reason(streamed: Streamed) -> None:
    expected = reference.stream(streamed.lines, streamed.now_ms, Keys(streamed.prefix))
    got: list[tuple[str, str]] = []
    for path in streamed.dead_letter.rglob("*"):
        if path.is_file() and not path.name.startswith("."):
            for line in path.read_text(encoding="utf-8").splitlines():
                doc = json.loads(line)
                got.append((doc["reason"], doc["raw"]))
    assert Counter(got) == Counter(expected.dead_letter)
    assert {reason for reason, _ in got} >= {"late", "malformed_json", "missing_field:user_id"}
