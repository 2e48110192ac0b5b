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
from collections.abc import Iterator
from typing import Any

import pytest

from augury import events as contract
from flink_app import job
from lambdas.clickgen.config import GeneratorConfig
from tests import reference
from tests.flink.runs import JobRun, assert_same_image, run_files, traffic_lines, write_lines


@pytest.fixture(scope="module")
def reread(platform_up: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[JobRun]:
    now_ms = int(time.time() * 1000)
    arrived_ms = now_ms - 6 * 60_000  # the file (the batch of records) arrived 6 minutes ago
    future = contract.encode({"event_id": "from-the-future", "user_id": "skewed",
                              "device_id": "d", "client_event": "page_view",
                              "client_timestamp": contract.format_timestamp(now_ms + 4 * 60_000),
                              "countrycode": "BE"}).decode().rstrip("\n")  # fmt: skip
    start = arrived_ms - arrived_ms % 60_000 - 180_000  # the traffic before the batch arrived
    cfg = GeneratorConfig(rate=20, seed=8, late_fraction=0.0)
    lines = [future, *traffic_lines(cfg, start, start + 180_000)]
    root = tmp_path_factory.mktemp("reread")
    path = write_lines(root / "in" / "clicks.ndjson", lines)
    os.utime(path, (arrived_ms / 1000, arrived_ms / 1000))
    # The stream judges each line as of its arrival (the file's time): the reference does too.
    run = run_files(job.STREAM, root / "in", root, lines, arrived_ms)
    yield run
    run.drop()


def test_the_once_future_event_stays_invalid_and_every_window_is_there(reread: JobRun) -> None:
    totals = reread.conn.hgetall(reread.keys.totals)
    assert int(totals["late"]) == 0 and int(totals["accepted"]) > 1000
    assert reread.conn.zcard(reread.keys.windows) >= 3
    expected = reference.stream(reread.lines, reread.now_ms, reread.keys)
    assert ("future_timestamp", reread.lines[0]) in expected.dead_letter
    assert_same_image(reread.image(), expected.image)
