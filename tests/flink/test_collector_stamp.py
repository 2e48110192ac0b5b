"""The HTTP collector's arrival stamp: a record gets the same verdict streamed and replayed.

The collector prepends ``arrival_ms`` (when it received the request) and ``arrival_country`` to
each event; the raw archive keeps them. Both modes judge a stamped record as of the earlier of
its source arrival and its stamp: streaming, the arrival is the file's modification time (a
Kinesis arrival in production), which comes after every stamp; replaying, it is the replay's
start, a quarter of an hour later. So both judge as of the stamp.

Five users click once a second for two minutes, every click stamped 250 ms after its client
time. Two devices have fast clocks: one stamped four minutes ahead of its stamp (valid: it
counts at its stamp, in the first window, in both modes; without the stamp it would count at
the file's arrival streaming and four minutes later replaying), one six minutes ahead
(``future_timestamp`` in both; without the stamp it would pass in both). A bad stamp is
``invalid_field:arrival_ms`` in both. The input is in event-time order, so nothing is late and
the two modes must leave the same Redis image and dead letter, each equal to the reference.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from augury import events as contract
from augury.redis_keys import session_id
from flink_app import job
from tests import reference
from tests.flink.runs import JobRun, assert_same_image, run_files, write_lines

USERS = [f"u{i}" for i in range(1, 6)]
SECONDS = 120
STAMP_DELAY_MS = 250
FAST_MS = 4 * 60_000
TOO_FAST_MS = 6 * 60_000


def _doc(event_id: str, user: str, ts_ms: int) -> dict[str, Any]:
    return {"event_id": event_id, "user_id": user, "device_id": "d", "client_event": "page_view",
            "client_timestamp": contract.format_timestamp(ts_ms), "countrycode": "BE",
            "page_url": "/"}  # fmt: skip


def _line(doc: dict[str, Any], stamp: str | None) -> str:
    """``doc`` as the collector puts it into Kinesis: its stamps first (None: as sent)."""
    stamps = {} if stamp is None else {contract.ARRIVAL_FIELD: stamp,
                                       contract.ARRIVAL_COUNTRY_FIELD: "BE"}  # fmt: skip
    return contract.encode({**stamps, **doc}).decode().rstrip("\n")


@dataclass
class Stamped:
    """The records, when the fast device's click was stamped, and both runs over them."""

    t0: int
    fast_stamp: int
    stream: JobRun
    replay: JobRun
    file_arrival: int


@pytest.fixture(scope="module")
def stamped(platform_up: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stamped]:
    now_ms = int(time.time() * 1000)
    t0 = now_ms - now_ms % 60_000 - 15 * 60_000
    file_arrival = t0 + SECONDS * 1_000 + 5_000  # after every stamp, in a later window
    fast_stamp = t0 + 59_500
    clicks = [(f"{u}-{s}", u, t0 + s * 1_000 + i) for s in range(SECONDS)
              for i, u in enumerate(USERS)]  # fmt: skip
    lines = [_line(_doc(*click), str(click[2] + STAMP_DELAY_MS)) for click in clicks]
    lines += [
        _line(_doc("fast", "fast", fast_stamp + FAST_MS), str(fast_stamp)),
        _line(_doc("too-fast", "too-fast", t0 + 30_000 + TOO_FAST_MS), str(t0 + 30_000)),
        _line(_doc("bad-stamp", "bad", t0 + 40_000), "12a"),
    ]
    # In event-time order (the invalid ones anywhere): nothing is late in the stream.
    lines.sort(key=lambda line: getattr(contract.validate(line, file_arrival), "event_time_ms", 0))
    root = tmp_path_factory.mktemp("stamp")
    path = write_lines(root / "in" / "clicks.ndjson", lines)
    os.utime(path, (file_arrival / 1000, file_arrival / 1000))
    stream = run_files(job.STREAM, root / "in", root, lines, file_arrival)
    replay = run_files(job.REPLAY, root / "in", root, lines, now_ms)
    yield Stamped(t0, fast_stamp, stream, replay, file_arrival)
    stream.drop()
    replay.drop()


def test_without_the_stamp_the_modes_would_differ(stamped: Stamped) -> None:
    fast = _doc("fast", "fast", stamped.fast_stamp + FAST_MS)
    streamed = contract.validate(_line(fast, None), stamped.file_arrival)
    replayed = contract.validate(_line(fast, None), stamped.replay.now_ms)
    assert isinstance(streamed, contract.ClickEvent) and isinstance(replayed, contract.ClickEvent)
    assert streamed.event_time_ms == stamped.file_arrival
    assert replayed.event_time_ms == stamped.fast_stamp + FAST_MS
    too_fast = _line(_doc("too-fast", "too-fast", stamped.t0 + 30_000 + TOO_FAST_MS), None)
    assert isinstance(contract.validate(too_fast, stamped.file_arrival), contract.ClickEvent)


def test_each_mode_equals_the_reference(stamped: Stamped) -> None:
    s, r = stamped.stream, stamped.replay
    arrivals = [stamped.file_arrival] * len(s.lines)
    expected = reference.stream(s.lines, s.now_ms, s.keys, arrivals=arrivals)
    assert_same_image(s.image(), expected.image)
    assert_same_image(r.image(), reference.replay(r.lines, r.now_ms, r.keys).image)


def test_streamed_and_replayed_alike(stamped: Stamped) -> None:
    streamed, replayed = stamped.stream.image(relative=True), stamped.replay.image(relative=True)
    assert_same_image(streamed, replayed)
    assert replayed["totals"]["late"] == "0" and replayed["totals"]["invalid"] == "2"
    assert stamped.stream.dead_letters() == stamped.replay.dead_letters()
    reasons = {reason for reason, _ in stamped.replay.dead_letters()}
    assert reasons == {contract.FUTURE_TIMESTAMP, contract.invalid(contract.ARRIVAL_FIELD)}


def test_the_fast_clock_counts_at_its_stamp_in_both_modes(stamped: Stamped) -> None:
    sid = session_id("fast", "d", stamped.fast_stamp)
    for run in (stamped.stream, stamped.replay):
        session = run.conn.hgetall(run.keys.session(sid))
        assert session["start_ms"] == str(stamped.fast_stamp), run.keys.prefix
        assert run.conn.zrange(run.keys.user_sessions("fast"), 0, -1) == [sid]
        first_window = run.conn.hgetall(run.keys.window(stamped.t0))
        assert first_window["final"] == "1"
        assert int(first_window["users"]) == len(USERS) + 1  # the five, and the fast device
