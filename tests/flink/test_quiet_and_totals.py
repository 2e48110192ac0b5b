"""Production-shaped streams: totals never go backwards, and a quiet period changes nothing.

* While a stream with duplicates, bots, invalid and late events runs, a poller reads the totals
  every 20 ms: no counter ever decreases (a changelog's retractions are never written), and
  the last read equals the reference.
* A session spans a quiet period longer than every state TTL (a short dedupe horizon makes the
  test fast): the window's ``sessions`` count and every lateness decision equal an
  uninterrupted run (the reference), though the state of the count, of the largest event time
  seen and of dedupe all expired during the pause.
"""

from __future__ import annotations

import threading
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from augury import events as contract
from augury.redis_keys import TOTAL_FIELDS, session_id
from flink_app import job
from lambdas.clickgen.config import GeneratorConfig
from tests import reference
from tests.flink import edge_cases
from tests.flink.runs import (
    JobRun,
    start_files,
    totals_of,
    traffic_lines,
    wait_for,
    write_lines,
)

STATE_TTL_MS = 3_000
"""The test's dedupe horizon (table.exec.state.ttl): the pause below is several times it."""
QUIET_S = 15
TTL = f"{STATE_TTL_MS} ms"


def _click(n: int, user: str, ts_ms: int) -> str:
    doc = {"event_id": f"quiet-{n}", "user_id": user, "device_id": "d",
           "client_event": "page_view", "client_timestamp": contract.format_timestamp(ts_ms),
           "countrycode": "BE", "page_url": "/"}  # fmt: skip
    return contract.encode(doc).decode().rstrip("\n")


def test_totals_never_decrease_while_the_stream_runs(platform_up: Any, tmp_path: Path) -> None:
    now_ms = int(time.time() * 1000)
    start = now_ms - now_ms % 60_000 - 90 * 60_000
    generated = traffic_lines(GeneratorConfig(rate=40, seed=11), start, start + 240_000)
    lines = edge_cases.stream_lines(now_ms) + generated
    write_lines(tmp_path / "in" / "clicks.ndjson", lines)
    reads: list[dict[str, str]] = []
    done = threading.Event()
    holder: list[JobRun] = []

    def poll() -> None:
        while not done.is_set():
            if holder:
                reads.append(holder[0].conn.hgetall(holder[0].keys.totals))
            time.sleep(0.02)  # the job writes the totals every flush interval (100 ms)

    result, run = start_files(job.STREAM, tmp_path / "in", tmp_path, lines, now_ms)
    holder.append(run)
    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        result.wait()
    finally:
        done.set()
        poller.join()
    try:
        expected = reference.stream(lines, now_ms, run.keys).image[run.keys.totals]
        final = totals_of(run.conn, run.keys)
        assert final == expected
        assert int(final["duplicates"]) > 0 and int(final["bot_events"]) > 0
        assert int(final["invalid"]) > 0 and int(final["late"]) > 0
        seen = [r for r in reads if r]
        assert len(seen) >= 5, "the poller saw the totals change while the job ran"
        for field in TOTAL_FIELDS:
            values = [int(r.get(field, 0)) for r in seen]
            drops = [(a, b) for a, b in pairwise(values) if b < a]
            assert not drops, f"{field} went backwards: {drops[:5]}"
    finally:
        run.drop()


@pytest.fixture(scope="module")
def quiet(platform_up: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A watched-files stream: a first batch, a pause of QUIET_S, then a second batch."""
    now_ms = int(time.time() * 1000)
    t0 = now_ms - now_ms % 60_000 - 10 * 60_000  # window W = [t0, t0 + 60 s)
    first = [_click(i, f"u{i}", t0 + i * 500) for i in range(1, 6)]  # five sessions in W ...
    first.append(_click(6, "spans", t0 + 5_000))  # ... and one that spans the pause
    first.append(_click(7, "clock", t0 + 69_000))  # the watermark: t0 + 64 s, W is final
    second = [
        _click(8, "old", t0 + 30_000),  # W closed before the pause: late, whatever the state
        _click(9, "spans", t0 + 62_000),  # 57 s after its last event: the same session
        _click(10, "clock", t0 + 200_000),  # closes every session above
    ]
    root = tmp_path_factory.mktemp("quiet")
    inbox = root / "in"
    inbox.mkdir()
    write_lines(root / "staging" / "1.ndjson", first).rename(inbox / "1.ndjson")
    result, run = start_files(job.STREAM, inbox, root, first + second, now_ms,
                              flags={"source.files.monitor.seconds": 1},
                              table_config={"table.exec.state.ttl": TTL})  # fmt: skip
    try:
        spans = run.keys.session(session_id("spans", "d", t0 + 5_000))
        window = run.keys.window(t0)
        wait_for("the first batch's sessions", lambda: run.conn.hget(window, "sessions") == "5")
        time.sleep(QUIET_S)  # longer than every processing-time state TTL (and its cleanup)
        write_lines(root / "staging" / "2.ndjson", second).rename(inbox / "2.ndjson")
        wait_for("the session that spans the pause", lambda: run.conn.exists(spans) == 1)
        time.sleep(3)  # the window's count follows the session in the same batch, or the next
        yield run, t0
    finally:
        result.get_job_client().cancel().result()
        run.drop()


def test_a_quiet_period_changes_no_window_count(quiet: Any) -> None:
    run, t0 = quiet
    expected = reference.stream(run.lines, run.now_ms, run.keys).image
    assert expected[run.keys.window(t0)]["sessions"] == "6"
    assert run.conn.hget(run.keys.window(t0), "sessions") == "6"
    spans = run.keys.session(session_id("spans", "d", t0 + 5_000))
    assert run.conn.hgetall(spans) == expected[spans]


def test_a_quiet_period_changes_no_lateness_decision(quiet: Any) -> None:
    run, t0 = quiet
    expected = reference.stream(run.lines, run.now_ms, run.keys)
    assert ("late", run.lines[7]) in expected.dead_letter
    assert not run.conn.exists(run.keys.session(session_id("old", "d", t0 + 30_000)))
    wait_for("the late event's dead letter", lambda: ("late", run.lines[7]) in run.dead_letters(),
          timeout_s=150)  # the dead letter's files roll over every minute  # fmt: skip
