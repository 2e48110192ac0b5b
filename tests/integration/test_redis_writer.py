"""The Redis writer against the real server: layout, idempotency, TTLs."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import redis

from augury import read_model
from augury.endpoints import Endpoints
from augury.redis_keys import Keys, session_id
from flink_app.redis_writer import RedisWriter
from localplatform import procs, redis_server
from localplatform.config import PlatformConfig


def test_writes_are_absolute_so_repeating_them_changes_nothing(endpoints: Endpoints) -> None:
    conn = redis.Redis.from_url(endpoints.redis_url, decode_responses=True)
    keys = Keys(f"augury:test:{uuid.uuid4().hex[:8]}:")
    writer = RedisWriter(redis.Redis.from_url(endpoints.redis_url), keys, ttl_s=120,
                         clock_ms=lambda: 42)  # fmt: skip

    def write_all() -> None:
        writer.windows([(60_000, 5, 3, 2, 11, True)])
        writer.window_dims([(60_000, "evt:page_view", 4, "hash"), (60_000, "/p/ü", 3, "pages")])
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
        "events": "5", "users": "3", "sessions": "2", "bot_events": "11", "final": "1",
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


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_batch_waits_for_redis_to_come_back_and_is_not_lost(
    platform_up: PlatformConfig, tmp_path: Path
) -> None:
    port = _free_port()
    binary = redis_server.find_server(platform_up)
    assert binary is not None
    sleeps: list[float] = []
    server: list[int] = []

    def sleep_then_start_redis(seconds: float) -> None:
        sleeps.append(seconds)
        if not server:  # Redis comes back during the first backoff
            server.append(procs.spawn(
                [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
                pid_file=tmp_path / "redis.pid", log_file=tmp_path / "redis.log",
                env={}, cwd=tmp_path,
            ))  # fmt: skip
            deadline = time.monotonic() + 10
            while not procs.port_open("127.0.0.1", port) and time.monotonic() < deadline:
                time.sleep(0.05)

    keys = Keys("augury:test:down:")
    writer = RedisWriter(redis.Redis(port=port, socket_connect_timeout=1), keys, ttl_s=120,
                         sleep=sleep_then_start_redis)  # fmt: skip
    try:
        writer.totals({"accepted": 7, "invalid": 1, "duplicates": 0, "bot_events": 0, "late": 0})
        assert sleeps and server
        conn = redis.Redis(port=port, decode_responses=True)
        assert conn.hgetall(keys.totals)["accepted"] == "7"
    finally:
        procs.stop_recorded(tmp_path / "redis.pid", timeout_s=5)


def test_after_the_give_up_time_the_error_surfaces() -> None:
    writer = RedisWriter(redis.Redis(port=_free_port(), socket_connect_timeout=1), Keys(),
                         ttl_s=120, give_up_s=0, sleep=lambda s: None)  # fmt: skip
    with pytest.raises(redis.ConnectionError):
        writer.totals({"accepted": 1, "invalid": 0, "duplicates": 0, "bot_events": 0, "late": 0})


def test_streaming_window_results_never_hide_the_session_count(endpoints: Endpoints) -> None:
    conn = redis.Redis.from_url(endpoints.redis_url, decode_responses=True)
    keys = Keys(f"augury:test:{uuid.uuid4().hex[:8]}:")
    clock = iter([1_000, 2_000, 3_000])
    writer = RedisWriter(redis.Redis.from_url(endpoints.redis_url), keys, ttl_s=120,
                         clock_ms=lambda: next(clock))  # fmt: skip
    writer.windows([(60_000, 3, 2, None, 0, False)])  # early result: sessions absent -> 0
    assert conn.hget(keys.window(60_000), "sessions") == "0"
    assert conn.hget(keys.window(60_000), "final_ms") is None  # not final yet
    writer.window_dims([(60_000, "sessions", 4, "hash")])  # sessions closed
    writer.windows([(60_000, 9, 5, None, 1, True)])  # the final result keeps them
    assert conn.hgetall(keys.window(60_000)) == {
        "events": "9", "users": "5", "sessions": "4", "bot_events": "1", "final": "1",
        "updated_ms": "2000", "final_ms": "2000",
    }  # fmt: skip
    writer.windows([(60_000, 9, 5, None, 1, True)])  # a restored job writes it again
    assert conn.hmget(keys.window(60_000), "updated_ms", "final_ms") == ["3000", "2000"]
    conn.delete(*conn.scan_iter(f"{keys.prefix}*"))


def test_totals_never_go_backwards_and_take_one_round_trip(endpoints: Endpoints) -> None:
    conn = redis.Redis.from_url(endpoints.redis_url, decode_responses=True)
    keys = Keys(f"augury:test:{uuid.uuid4().hex[:8]}:")
    writer = RedisWriter(redis.Redis.from_url(endpoints.redis_url), keys, ttl_s=120,
                         monotonic=True)  # a streaming job's writer  # fmt: skip
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
    writer.totals(older, since="run-1")  # a retraction row, or an update that reaches Redis late
    assert conn.hgetall(keys.totals) == {"since": "run-1", **{k: str(v) for k, v in newer.items()}}
    writer.totals({**newer, "duplicates": 6}, since="run-1")
    assert conn.hget(keys.totals, "duplicates") == "6"
    writer.totals(older, since="run-2")  # a job started without state: new totals
    assert conn.hgetall(keys.totals) == {"since": "run-2", **{k: str(v) for k, v in older.items()}}
    RedisWriter(conn, keys, ttl_s=120).totals(older, since="replay")  # a replay sets its own
    assert conn.hget(keys.totals, "since") == "replay"
    conn.delete(keys.totals)


def test_a_streaming_window_is_never_lowered_a_replay_sets_it(endpoints: Endpoints) -> None:
    conn = redis.Redis.from_url(endpoints.redis_url, decode_responses=True)
    keys = Keys(f"augury:test:{uuid.uuid4().hex[:8]}:")
    stream = RedisWriter(redis.Redis.from_url(endpoints.redis_url), keys, ttl_s=120,
                         monotonic=True)  # fmt: skip
    stream.windows([(60_000, 40, 9, None, 2, True)])
    stream.window_dims([(60_000, "evt:page_view", 30, "hash"), (60_000, "/a", 12, "pages")])
    # The window fired again after its state was lost (a restart after a quiet period): less.
    stream.windows([(60_000, 1, 1, None, 0, False)])
    stream.window_dims([(60_000, "evt:page_view", 1, "hash"), (60_000, "/a", 1, "pages"),
                        (60_000, "/b", 1, "pages")])  # fmt: skip
    got = conn.hgetall(keys.window(60_000))
    assert (got["events"], got["users"], got["bot_events"], got["final"]) == ("40", "9", "2", "1")
    assert got["evt:page_view"] == "30"
    assert conn.zrange(keys.window_pages(60_000), 0, -1, withscores=True) == [
        ("/b", 1.0), ("/a", 12.0)]  # fmt: skip
    replay = RedisWriter(redis.Redis.from_url(endpoints.redis_url), keys, ttl_s=120)
    replay.windows([(60_000, 39, 9, 4, 2, True)])
    assert conn.hget(keys.window(60_000), "events") == "39"
    conn.delete(*conn.scan_iter(f"{keys.prefix}*"))


def test_sorted_sets_keep_only_members_within_the_retention(endpoints: Endpoints) -> None:
    conn = redis.Redis.from_url(endpoints.redis_url, decode_responses=True)
    keys = Keys(f"augury:test:{uuid.uuid4().hex[:8]}:")
    writer = RedisWriter(redis.Redis.from_url(endpoints.redis_url), keys, ttl_s=60)
    month_ago = 1_700_000_000_000  # a replay of old data: its results stay listed
    for minute in range(5):
        ws = month_ago + minute * 60_000
        writer.windows([(ws, 1, 1, 1, 0, True)])
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
    conn.delete(*conn.scan_iter(f"{keys.prefix}*"))


def test_ids_with_the_separator_make_two_sessions(endpoints: Endpoints) -> None:
    conn = redis.Redis.from_url(endpoints.redis_url, decode_responses=True)
    keys = Keys(f"augury:test:{uuid.uuid4().hex[:8]}:")
    writer = RedisWriter(redis.Redis.from_url(endpoints.redis_url), keys, ttl_s=120)
    writer.sessions([("a|b", "c", 1_000, 2_000, 2, "x", "y", "BE"),
                     ("a", "b|c", 1_000, 3_000, 3, "x", "z", "FR")])  # fmt: skip
    assert conn.zcard(keys.sessions) == 2
    for user, device, end in (("a|b", "c", 2_000), ("a", "b|c", 3_000)):
        (mine,) = read_model.user_sessions(conn, keys, user)
        assert (mine.user_id, mine.device_id, mine.end_ms) == (user, device, end)
    conn.delete(*conn.scan_iter(f"{keys.prefix}*"))
