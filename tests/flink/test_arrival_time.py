"""A record is judged as of its arrival: read again later, a once-future event cannot move time.

A click stamped 10 minutes after it arrived is ``future_timestamp``. Read again minutes later
(a restore, a catch-up from TRIM_HORIZON), it is only 4 minutes ahead of the clock; judged as of
the reading, it would pass, push the watermark 4 minutes ahead, and every other event's windows
would be dropped as late by Flink's window operators. Judged as of its arrival (here the file's
modification time, as Kinesis's arrival time in the demo), it stays in the dead letter and the
windows are all there.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis

from augury import events as contract
from augury.endpoints import Endpoints
from augury.redis_keys import Keys
from flink_app import job, settings
from lambdas.clickgen import traffic
from lambdas.clickgen.config import GeneratorConfig
from tests import reference
from tests.flink.test_replay import _image, assert_same_image


@dataclass
class Reread:
    keys: Keys
    lines: list[str]
    arrived_ms: int
    conn: Any


@pytest.fixture(scope="module")
def reread(platform_up: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reread]:
    now_ms = int(time.time() * 1000)
    arrived_ms = now_ms - 6 * 60_000  # the file (the batch of records) arrived 6 minutes ago
    future = contract.encode({"event_id": "from-the-future", "user_id": "skewed",
                              "device_id": "d", "client_event": "page_view",
                              "client_timestamp": contract.format_timestamp(now_ms + 4 * 60_000),
                              "countrycode": "BE"}).decode().rstrip("\n")  # fmt: skip
    start = arrived_ms - arrived_ms % 60_000 - 60_000
    records = traffic.generate(GeneratorConfig(rate=20, seed=8, late_fraction=0.0), start,
                               start + 180_000).records  # fmt: skip
    lines = [future] + [r.data.decode().rstrip("\n") for r in records]
    root = tmp_path_factory.mktemp("reread")
    (root / "in").mkdir()
    path = root / "in" / "clicks.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.utime(path, (arrived_ms / 1000, arrived_ms / 1000))
    keys = Keys(f"augury:reread:{uuid.uuid4().hex[:8]}:")
    s = settings.load(env={}, flag_values={
        "source.type": "files", "source.input.path": str(root / "in"),
        "sink.redis.key.prefix": keys.prefix, "sink.redis.url": Endpoints.local().redis_url,
    })  # fmt: skip
    t_env = job.table_env(s, batch=False)
    job.configure_stream(t_env, s)
    job.build(t_env, s, job.STREAM, str(root / "dead")).execute().wait()
    conn = redis.Redis.from_url(s.redis_url, decode_responses=True)
    yield Reread(keys, lines, arrived_ms, conn)
    for key in conn.scan_iter(f"{keys.prefix}*", count=1000):
        conn.delete(key)


def test_the_once_future_event_stays_invalid_and_every_window_is_there(reread: Reread) -> None:
    totals = reread.conn.hgetall(reread.keys.totals)
    assert int(totals["late"]) == 0 and int(totals["accepted"]) > 1000
    assert reread.conn.zcard(reread.keys.windows) >= 3
    expected = reference.stream(reread.lines, reread.arrived_ms, reread.keys)
    assert ("future_timestamp", reread.lines[0]) in expected.dead_letter
    assert_same_image(_image(reread.conn, reread.keys.prefix), expected.image)
