"""A device with a fast clock cannot make anyone else's events late (the clock-skew rule).

Five users send one event a second for two minutes; it arrives in batches of 20 s (one watched
file each, its modification time the batch's arrival). With the second batch, one device sends
an event stamped four minutes ahead of its arrival: valid (within the contract's five), and,
before the rule, enough to push the largest event time seen, and the watermark, four minutes
ahead, so that every later on-time event of everybody was dead-lettered as late. Under the rule
its event time is its arrival: nothing is late, and the skewed event counts where it arrived.

A replay of the same records has no arrival times (the raw archive carries none, and these
records have no collector stamp): it judges as of its own start, so there the skewed event keeps
its stamp (with the collector's stamp it would not: ``tests/flink/test_collector_stamp.py``).
Nothing is late in a replay either.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from augury import events as contract
from augury.redis_keys import TOTAL_FIELDS, session_id
from flink_app import job
from tests import reference
from tests.flink.runs import (
    assert_same_image,
    run_files,
    start_files,
    totals_of,
    wait_for,
    write_lines,
)

USERS = [f"u{i}" for i in range(1, 6)]
BATCH_MS = 20_000
SKEW_MS = 4 * 60_000
PENDING = 8 * len(USERS)
"""Records of a batch's last seconds: counted once the next batch moves the watermark."""


def _click(event_id: str, user: str, ts_ms: int) -> str:
    doc = {"event_id": event_id, "user_id": user, "device_id": "d", "client_event": "page_view",
           "client_timestamp": contract.format_timestamp(ts_ms), "countrycode": "BE",
           "page_url": "/"}  # fmt: skip
    return contract.encode(doc).decode().rstrip("\n")


def _batches(t0: int) -> list[tuple[int, list[str]]]:
    """(arrival_ms, lines) per batch: 20 s of the five users' clicks, arriving at its end."""
    batches = []
    for b in range(6):
        start, arrival = t0 + b * BATCH_MS, t0 + (b + 1) * BATCH_MS
        lines = [_click(f"{u}-{b}-{s}", u, start + s * 1_000 + i)
                 for s in range(BATCH_MS // 1_000) for i, u in enumerate(USERS)]  # fmt: skip
        if b == 1:
            lines.insert(3, _click("skewed", "fast", arrival + SKEW_MS))
        batches.append((arrival, lines))
    batches.append((t0 + 300_000, [_click("closer", "closer", t0 + 300_000)]))  # closes W0, W1
    return batches


@pytest.fixture(scope="module")
def skewed(platform_up: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    now_ms = int(time.time() * 1000)
    t0 = now_ms - now_ms % 60_000 - 15 * 60_000
    batches = _batches(t0)
    lines = [line for _, batch in batches for line in batch]
    arrivals = [arrival for arrival, batch in batches for _ in batch]
    root = tmp_path_factory.mktemp("skew")
    inbox = root / "in"
    inbox.mkdir()
    result, run = start_files(job.STREAM, inbox, root, lines, now_ms,
                              flags={"source.files.monitor.seconds": 1})  # fmt: skip

    def records_read() -> int:
        totals = run.conn.hgetall(run.keys.totals)
        return sum(int(totals.get(field, 0)) for field in TOTAL_FIELDS)

    try:
        sent = 0
        for n, (arrival, batch) in enumerate(batches):
            staged = write_lines(root / "staging" / f"{n}.ndjson", batch)
            os.utime(staged, ns=(arrival * 1_000_000, arrival * 1_000_000))
            staged.rename(inbox / f"{n}.ndjson")  # arrives whole, in order
            sent += len(batch)
            # Every record counted but the batch's last seconds (their bot counts wait for
            # the watermark): this batch was read before the next one arrives.
            wait_for(f"batch {n}", lambda sent=sent: records_read() >= sent - PENDING)  # type: ignore[misc]
        # ... and the closing record itself waits for a watermark no record will move.
        wait_for("every record but the last", lambda: records_read() == len(lines) - 1)
        closer_window = run.keys.window(t0 + 60_000)
        wait_for("the final windows", lambda: run.conn.hget(closer_window, "final") == "1")
        time.sleep(2)  # the sessions closed by the same watermark
        yield run, t0, arrivals
    finally:
        result.get_job_client().cancel().result()
        run.drop()


def test_nobody_is_late_because_of_one_fast_clock(skewed: Any) -> None:
    run, _, arrivals = skewed
    but_last = reference.stream(run.lines[:-1], run.now_ms, run.keys, arrivals=arrivals[:-1])
    totals = totals_of(run.conn, run.keys)
    assert totals == but_last.image[run.keys.totals]
    assert totals["late"] == "0" and totals["accepted"] == str(len(run.lines) - 1)


def test_the_skewed_event_counts_at_its_arrival(skewed: Any) -> None:
    run, t0, arrivals = skewed
    expected = reference.stream(run.lines, run.now_ms, run.keys, arrivals=arrivals).image
    arrived = t0 + 2 * BATCH_MS
    fast = run.keys.session(session_id("fast", "d", arrived))
    assert run.conn.hgetall(fast) == expected[fast]
    got = run.image()
    users = [run.keys.session(session_id(u, "d", t0 + i)) for i, u in enumerate(USERS)]
    for key in (run.keys.window(t0), run.keys.window(t0 + 60_000), run.keys.window_pages(t0),
                run.keys.user_sessions("fast"), *users):  # fmt: skip
        assert got.get(key) == expected[key], key


def test_a_replay_keeps_the_stamp_and_nothing_is_late(skewed: Any, tmp_path: Path) -> None:
    run, t0, _ = skewed
    write_lines(tmp_path / "in" / "clicks.ndjson", run.lines)
    replayed = run_files(job.REPLAY, tmp_path / "in", tmp_path, run.lines, run.now_ms)
    try:
        expected = reference.replay(replayed.lines, replayed.now_ms, replayed.keys)
        assert_same_image(replayed.image(), expected.image)
        stamped = t0 + 2 * BATCH_MS + SKEW_MS
        assert replayed.conn.exists(replayed.keys.session(session_id("fast", "d", stamped)))
    finally:
        replayed.drop()
