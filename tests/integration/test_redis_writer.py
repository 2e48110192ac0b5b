"""The job's Redis writer (the Java sink's, run outside Flink) against the real server.

Layout, idempotency, TTLs, retries, trimming, and the streaming rules: early results never go
backwards and never touch a final window, the first final result overwrites them, and a later
one only raises.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import redis

from augury import read_model
from augury.endpoints import Endpoints
from augury.redis_keys import Keys, session_id
from flink_app.redis_sink import SinkError, SinkWriter, core, count
from localplatform import procs, redis_server
from localplatform.config import PlatformConfig
from tests.unit.test_redis_keys import PARTS


def test_writes_are_absolute_so_repeating_them_changes_nothing(endpoints: Endpoints) -> None:
    conn = redis.Redis.from_url(endpoints.redis_url, decode_responses=True)
    keys = Keys(f"augury:test:{uuid.uuid4().hex[:8]}:")
    writer = SinkWriter(endpoints.redis_url, keys, ttl_s=120, clock_ms=lambda: 42)

    def write_all() -> None:
        writer.windows([core(60_000, True, 5, 3, 11),
                        count(60_000, True, "hash", "evt:page_view", 4),
                        count(60_000, True, "pages", "/p/ü", 3)])  # fmt: skip
        writer.sessions([("u1", "phone-1", 61_000, 65_000, 3, "page_view", "purchase", "BE")])
        writer.totals({"accepted": 5, "invalid": 1, "duplicates": 2, "bot_events": 11, "late": 0})

    write_all()
    first = {k: conn.type(k) for k in conn.scan_iter(f"{keys.prefix}*")}
    snapshot = {k: (conn.hgetall(k) if t == "hash" else conn.zrange(k, 0, -1, withscores=True))
                for k, t in first.items()}  # fmt: skip
    write_all()
    again = {k: (conn.hgetall(k) if t == "hash" else conn.zrange(k, 0, -1, withscores=True))
             for k, t in first.items()}  # fmt: skip
    assert again == snapshot

    assert conn.hgetall(keys.window(60_000)) == {
        "events": "5", "users": "3", "sessions": "1", "bot_events": "11", "final": "1",
        "updated_ms": "42", "final_ms": "42", "evt:page_view": "4",
    }  # fmt: skip
    assert conn.zrange(keys.window_pages(60_000), 0, -1, withscores=True) == [("/p/ü", 3.0)]
    sid = "u1|phone-1|61000"
    assert conn.hget(keys.session(sid), "duration_ms") == "4000"
    assert conn.zscore(keys.sessions, sid) == 61_000
    assert conn.zscore(keys.user_sessions("u1"), sid) == 61_000
    assert conn.hgetall(keys.totals)["duplicates"] == "2"
    for key in first:
        assert (conn.ttl(key) == -1) == (key == keys.totals)
        conn.delete(key)
    writer.close()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_batch_waits_for_redis_to_come_back_and_is_not_lost(
    platform_up: PlatformConfig, tmp_path: Path
) -> None:
    port = _free_port()
    keys = Keys("augury:test:down:")
    writer = SinkWriter(f"redis://127.0.0.1:{port}/0", keys, ttl_s=120, backoff_ms=100)
    started: list[int] = []
    # The port answers and hangs up until the writer has tried once; then Redis starts there.
    gate = socket.create_server(("127.0.0.1", port))
    gate.settimeout(60)  # no attempt in a minute: the test fails (the writer gives up later)

    def start_redis_after_the_first_attempt() -> None:
        conn, _ = gate.accept()
        conn.close()
        gate.close()
        started.append(_spawn_redis(platform_up, tmp_path, port))

    thread = threading.Thread(target=start_redis_after_the_first_attempt)
    thread.start()
    try:
        writer.totals({"accepted": 7, "invalid": 1, "duplicates": 0, "bot_events": 0, "late": 0})
        thread.join()
        assert started and writer.last_retries > 0
        conn = redis.Redis(port=port, decode_responses=True)
        assert conn.hgetall(keys.totals)["accepted"] == "7"
    finally:
        thread.join()
        writer.close()
        procs.stop_recorded(tmp_path / "redis.pid", timeout_s=5)


def _spawn_redis(platform: PlatformConfig, work: Path, port: int) -> int:
    binary = redis_server.find_server(platform)
    assert binary is not None
    return procs.spawn([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
                       pid_file=work / "redis.pid", log_file=work / "redis.log", env={},
                       cwd=work)  # fmt: skip


def test_a_replica_that_takes_no_writes_yet_is_waited_for(
    platform_up: PlatformConfig, tmp_path: Path
) -> None:
    """READONLY (a replica during a failover) is weather, not a bug: retried until promoted."""
    port = _free_port()
    _spawn_redis(platform_up, tmp_path, port)
    conn = redis.Redis(port=port, decode_responses=True)
    wait_until_up = time.monotonic() + 30
    while True:
        try:
            conn.replicaof("127.0.0.1", _free_port())  # a replica of nothing: read-only
            break
        except redis.ConnectionError:
            assert time.monotonic() < wait_until_up, "the private Redis did not start"
            time.sleep(0.1)
    keys = Keys("augury:test:ro:")
    writer = SinkWriter(f"redis://127.0.0.1:{port}/0", keys, ttl_s=120, backoff_ms=100)

    def promote_after_the_first_refusal() -> None:
        while "errorstat_READONLY" not in conn.info("errorstats"):
            time.sleep(0.05)
        conn.replicaof("NO", "ONE")

    thread = threading.Thread(target=promote_after_the_first_refusal, daemon=True)
    thread.start()
    try:
        writer.sessions([("u-1", "d-1", 1_000, 2_000, 2, "page_view", "click", "BE")])
        assert writer.last_retries > 0
        assert conn.hget(keys.session(session_id("u-1", "d-1", 1_000)), "events") == "2"
    finally:
        thread.join(timeout=10)
        writer.close()
        procs.stop_recorded(tmp_path / "redis.pid", timeout_s=5)


def test_after_the_give_up_time_the_error_surfaces() -> None:
    url = f"redis://127.0.0.1:{_free_port()}/0"
    with (
        SinkWriter(url, Keys(), ttl_s=120, give_up_ms=0) as writer,
        pytest.raises(SinkError, match="unreachable"),
    ):
        writer.totals({"accepted": 1, "invalid": 0, "duplicates": 0, "bot_events": 0, "late": 0})


def test_streaming_window_results_never_hide_the_session_count(endpoints: Endpoints) -> None:
    conn = redis.Redis.from_url(endpoints.redis_url, decode_responses=True)
    keys = Keys(f"augury:test:{uuid.uuid4().hex[:8]}:")
    clock = iter([1_000, 2_000, 3_000, 4_000])
    writer = SinkWriter(endpoints.redis_url, keys, ttl_s=120, streaming=True,
                        clock_ms=lambda: next(clock))  # fmt: skip
    writer.windows([core(60_000, False, 3, 2, 0)])  # early result: sessions absent -> 0
    assert conn.hget(keys.window(60_000), "sessions") == "0"
    assert conn.hget(keys.window(60_000), "final_ms") is None  # not final yet
    # Four sessions that started in the window close: its sessions are the index's count.
    writer.sessions([(f"u{i}", "d", 60_000 + i, 200_000, 2, "a", "b", "BE") for i in range(4)])
    writer.sessions(
        [
            ("u9", "d", 119_999, 200_000, 2, "a", "b", "BE"),
            ("u9", "d", 120_000, 200_000, 2, "a", "b", "BE"),
        ]
    )  # the next window's
    writer.windows([core(60_000, True, 9, 5, 1)])  # the final result keeps them
    assert conn.hgetall(keys.window(60_000)) == {
        "events": "9", "users": "5", "sessions": "5", "bot_events": "1", "final": "1",
        "updated_ms": "4000", "final_ms": "4000",
    }  # fmt: skip
    assert conn.hget(keys.window(120_000), "sessions") == "1"
    writer.close()
    restored = SinkWriter(endpoints.redis_url, keys, ttl_s=120, streaming=True,
                          clock_ms=lambda: 5_000)  # fmt: skip
    restored.windows([core(60_000, True, 9, 5, 1)])  # a restored job writes it again
    assert conn.hmget(keys.window(60_000), "updated_ms", "final_ms") == ["5000", "4000"]
    restored.close()
    conn.delete(*conn.scan_iter(f"{keys.prefix}*"))


def test_totals_never_go_backwards_and_take_one_round_trip(endpoints: Endpoints) -> None:
    conn = redis.Redis.from_url(endpoints.redis_url, decode_responses=True)
    keys = Keys(f"augury:test:{uuid.uuid4().hex[:8]}:")
    writer = SinkWriter(endpoints.redis_url, keys, ttl_s=120, streaming=True)  # a job's
    newer = {"accepted": 20, "invalid": 3, "duplicates": 5, "bot_events": 2, "late": 1}
    older = {"accepted": 12, "invalid": 3, "duplicates": 0, "bot_events": 2, "late": 0}
    before = conn.info("commandstats")
    writer.totals(older, since="run-1")
    writer.totals(newer, since="run-1")
    after = conn.info("commandstats")

    def calls(stats: dict[str, Any], command: str) -> int:
        return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))

    assert calls(after, "eval") - calls(before, "eval") == 2  # one command per write ...
    assert calls(after, "script|exists") == calls(before, "script|exists")  # ... none before
    writer.totals(older, since="run-1")  # an update that reaches Redis late
    assert conn.hgetall(keys.totals) == {"since": "run-1", **{k: str(v) for k, v in newer.items()}}
    writer.totals({**newer, "duplicates": 6}, since="run-1")
    assert conn.hget(keys.totals, "duplicates") == "6"
    writer.totals(older, since="run-2")  # a job started without state: new totals
    assert conn.hgetall(keys.totals) == {"since": "run-2", **{k: str(v) for k, v in older.items()}}
    writer.close()
    with SinkWriter(endpoints.redis_url, keys, ttl_s=120) as replay:  # a replay sets its own
        replay.totals(older, since="replay")
    assert conn.hget(keys.totals, "since") == "replay"
    conn.delete(keys.totals)


def _window(conn: Any, keys: Keys, ws: int) -> tuple[dict[str, str], list[tuple[str, float]]]:
    got = conn.hgetall(keys.window(ws))
    for volatile in ("updated_ms", "final_ms"):
        got.pop(volatile, None)
    return got, conn.zrange(keys.window_pages(ws), 0, -1, withscores=True)


def test_early_results_never_go_backwards_and_the_first_final_overwrites_them(
    endpoints: Endpoints,
) -> None:
    conn = redis.Redis.from_url(endpoints.redis_url, decode_responses=True)
    keys = Keys(f"augury:test:{uuid.uuid4().hex[:8]}:")
    ws = 60_000
    stream = SinkWriter(endpoints.redis_url, keys, ttl_s=120, streaming=True)
    # Counts so far, with the bot verdicts so far: the third early result is older than the
    # second (an update that reaches Redis late): nothing goes backwards.
    for events, pages in ((10, 4), (25, 9), (12, 5)):
        stream.windows([core(ws, False, events, 3, 0),
                        count(ws, False, "hash", "evt:buy", events),
                        count(ws, False, "pages", "/a", pages)])  # fmt: skip
    assert _window(conn, keys, ws) == (
        {"events": "25", "users": "3", "bot_events": "0", "final": "0", "sessions": "0",
         "evt:buy": "25"}, [("/a", 9.0)])  # fmt: skip
    # The final result: 11 of those events turned out to be a bot's second, among them every
    # visit of /a: its exact counts replace the early ones, and a count of 0 removes a field.
    stream.windows([core(ws, True, 14, 2, 11), count(ws, True, "hash", "evt:buy", 14),
                    count(ws, True, "pages", "/a", 0),
                    count(ws, True, "pages", "/b", 2)])  # fmt: skip
    final = ({"events": "14", "users": "2", "bot_events": "11", "final": "1", "sessions": "0",
              "evt:buy": "14"}, [("/b", 2.0)])  # fmt: skip
    assert _window(conn, keys, ws) == final
    # An early result that reaches the writer after the final one changes nothing.
    stream.windows([core(ws, False, 30, 5, 0), count(ws, False, "pages", "/a", 30)])
    assert _window(conn, keys, ws) == final
    # The final comes in parts (the window's fields after its core): each part overwrites.
    ws2 = 120_000
    stream.windows([core(ws2, False, 5, 1, 0), count(ws2, False, "hash", "cc:BE", 5)])
    stream.windows([core(ws2, True, 3, 1, 2)])
    stream.windows([count(ws2, True, "hash", "cc:BE", 3)])
    assert conn.hget(keys.window(ws2), "cc:BE") == "3"
    stream.close()
    # A window that was final before this writer (a restored job writing it again, or a
    # window fired again after its state expired, with less): its final counts only rise.
    restored = SinkWriter(endpoints.redis_url, keys, ttl_s=120, streaming=True)
    restored.windows([core(ws, True, 1, 1, 0), count(ws, True, "hash", "evt:buy", 1),
                      count(ws, True, "pages", "/b", 1),
                      count(ws, True, "pages", "/c", 1)])  # fmt: skip
    assert _window(conn, keys, ws) == (final[0], [("/c", 1.0), ("/b", 2.0)])
    restored.close()
    with SinkWriter(endpoints.redis_url, keys, ttl_s=120) as replay:  # a replay sets its own
        replay.windows([core(ws, True, 13, 2, 11)])
    assert conn.hget(keys.window(ws), "events") == "13"
    conn.delete(*conn.scan_iter(f"{keys.prefix}*"))


def test_a_restored_job_completes_a_final_it_wrote_in_parts(endpoints: Endpoints) -> None:
    """The job stopped between two parts of a window's first final (its core, then its fields).

    Restored from a checkpoint taken before that final, the job computes it again: the writer
    overwrites what was written after the checkpoint's snapshot, so the speculative early
    fields are replaced; a final written before the snapshot (a window fired again after its
    state expired, with less) still only rises.
    """
    conn = redis.Redis.from_url(endpoints.redis_url, decode_responses=True)
    keys = Keys(f"augury:test:{uuid.uuid4().hex[:8]}:")
    old, ws = 60_000, 120_000
    crashed = SinkWriter(endpoints.redis_url, keys, ttl_s=120, streaming=True,
                         clock_ms=iter(range(1_000, 10_000, 1_000)).__next__)  # fmt: skip
    crashed.windows([core(old, True, 9, 3, 0), count(old, True, "hash", "evt:buy", 9)])  # at 1000
    crashed.windows([core(ws, False, 12, 2, 0), count(ws, False, "hash", "evt:buy", 12),
                     count(ws, False, "pages", "/a", 12)])  # at 2000, early  # fmt: skip
    crashed.windows([core(ws, True, 2, 1, 10)])  # at 3000: the final's first part, then a crash
    crashed.close()
    assert conn.hget(keys.window(ws), "evt:buy") == "12"  # the early, speculative count
    restored = SinkWriter(
        endpoints.redis_url, keys, ttl_s=120, streaming=True, restored_from_ms=2_500
    )  # the snapshot: after 2000, before 3000
    restored.windows([core(ws, True, 2, 1, 10), count(ws, True, "hash", "evt:buy", 2),
                      count(ws, True, "pages", "/a", 0)])  # fmt: skip
    assert _window(conn, keys, ws) == (
        {"events": "2", "users": "1", "bot_events": "10", "final": "1", "sessions": "0",
         "evt:buy": "2"}, [])  # fmt: skip
    restored.windows([core(old, True, 1, 1, 0), count(old, True, "hash", "evt:buy", 1)])
    assert conn.hmget(keys.window(old), "events", "evt:buy") == ["9", "9"]  # final before: kept
    restored.close()
    conn.delete(*conn.scan_iter(f"{keys.prefix}*"))


def test_a_final_straddling_the_checkpoint_is_completed_but_never_lowered(
    endpoints: Endpoints,
) -> None:
    """A window aggregate in parallel: a final's core before the checkpoint, its fields after.

    The writer's state names the windows whose final it began in the checkpoint's last interval:
    restored, it completes those; one it did not name only rises. A restored final with fewer
    events than the stored one is not the same computation: it only rises too.
    """
    conn = redis.Redis.from_url(endpoints.redis_url, decode_responses=True)
    keys = Keys(f"augury:test:{uuid.uuid4().hex[:8]}:")
    named, unnamed, fewer = 60_000, 120_000, 180_000
    crashed = SinkWriter(endpoints.redis_url, keys, ttl_s=120, streaming=True,
                         clock_ms=iter(range(1_000, 10_000, 1_000)).__next__)  # fmt: skip
    crashed.windows(
        [core(ws, False, 12, 2, 0) for ws in (named, unnamed)]
        + [count(ws, False, "hash", "evt:buy", 12) for ws in (named, unnamed)]
    )
    crashed.windows([core(ws, True, 2, 1, 10) for ws in (named, unnamed)])  # at 2000: cores
    crashed.windows([core(fewer, True, 9, 3, 0)])  # at 3000, after the snapshot
    crashed.close()
    restored = SinkWriter(endpoints.redis_url, keys, ttl_s=120, streaming=True,
                          restored_from_ms=2_500, restored_finals=[named])  # fmt: skip
    restored.windows([core(named, True, 2, 1, 10), count(named, True, "hash", "evt:buy", 2),
                      core(unnamed, True, 2, 1, 10), count(unnamed, True, "hash", "evt:buy", 2),
                      core(fewer, True, 1, 1, 0)])  # fmt: skip
    restored.close()
    assert conn.hget(keys.window(named), "evt:buy") == "2"  # completed: the exact count
    assert conn.hget(keys.window(unnamed), "evt:buy") == "12"  # not named: it only rises
    assert conn.hget(keys.window(fewer), "events") == "9"  # fewer events: it only rises
    conn.delete(*conn.scan_iter(f"{keys.prefix}*"))


def test_sorted_sets_keep_only_members_within_the_retention(endpoints: Endpoints) -> None:
    conn = redis.Redis.from_url(endpoints.redis_url, decode_responses=True)
    keys = Keys(f"augury:test:{uuid.uuid4().hex[:8]}:")
    writer = SinkWriter(endpoints.redis_url, keys, ttl_s=60)
    month_ago = 1_700_000_000_000  # a replay of old data: its results stay listed
    for minute in range(5):
        ws = month_ago + minute * 60_000
        writer.windows([core(ws, True, 1, 1, 0)])
        writer.sessions([("u", "d", ws + 1, ws + 2, 2, "a", "b", "BE")])
    assert conn.zcard(keys.windows) == 2  # the newest and the one a retention before it
    assert conn.zcard(keys.sessions) == conn.zcard(keys.user_sessions("u")) == 2
    newest = month_ago + 4 * 60_000
    assert conn.zrange(keys.windows, 0, -1) == [str(newest - 60_000), str(newest)]
    writer.sessions([("v", "d", newest + 30_001, newest + 30_002, 1, "a", "a", "BE")])
    assert conn.zrange(keys.sessions, 0, -1) == [
        session_id("u", "d", newest + 1),
        session_id("v", "d", newest + 30_001),
    ]
    assert conn.zcard(keys.user_sessions("u")) == 2  # trimmed by its own user's writes only
    writer.close()
    conn.delete(*conn.scan_iter(f"{keys.prefix}*"))


def test_ids_with_the_separator_make_two_sessions(endpoints: Endpoints) -> None:
    conn = redis.Redis.from_url(endpoints.redis_url, decode_responses=True)
    keys = Keys(f"augury:test:{uuid.uuid4().hex[:8]}:")
    with SinkWriter(endpoints.redis_url, keys, ttl_s=120) as writer:
        writer.sessions([("a|b", "c", 1_000, 2_000, 2, "x", "y", "BE"),
                         ("a", "b|c", 1_000, 3_000, 3, "x", "z", "FR")])  # fmt: skip
    assert conn.zcard(keys.sessions) == 2
    for user, device, end in (("a|b", "c", 2_000), ("a", "b|c", 3_000)):
        (mine,) = read_model.user_sessions(conn, keys, user)
        assert (mine.user_id, mine.device_id, mine.end_ms) == (user, device, end)
    conn.delete(*conn.scan_iter(f"{keys.prefix}*"))


def test_the_sink_names_every_key_as_redis_keys_does(endpoints: Endpoints) -> None:
    """The Java writer builds key names from ``augury.redis_keys``' layout, ids escaped alike."""
    conn = redis.Redis.from_url(endpoints.redis_url, decode_responses=True)
    keys = Keys(f"augury:test:{uuid.uuid4().hex[:8]}:{{x}}:")  # a brace in the prefix, too
    parts = [*PARTS, "😀|", "{user_id}"]
    rows = [(u, d, s, s + 1, 1, "a", "b", "BE") for u in parts for d in parts for s in (1, 2)]
    with SinkWriter(endpoints.redis_url, keys, ttl_s=120) as writer:
        writer.sessions(rows)
        writer.windows([core(60_000, True, 1, 1, 0)])
        writer.totals({"accepted": 1, "invalid": 0, "duplicates": 0, "bot_events": 0, "late": 0})
    expected = {keys.session(session_id(u, d, s)) for u, d, s, *_ in rows}
    expected |= {keys.user_sessions(u) for u in parts}
    expected |= {keys.sessions, keys.window(0), keys.window(60_000), keys.windows, keys.totals}
    got = set(conn.scan_iter(match=f"{keys.prefix.replace('{', '[{]')}*", count=1000))
    assert got == expected
    assert set(conn.zrange(keys.sessions, 0, -1)) == {session_id(u, d, s) for u, d, s, *_ in rows}
    conn.delete(*got)
