"""The Redis writer against the real server: layout, idempotency, TTLs."""

from __future__ import annotations

import uuid

import redis

from augury.endpoints import Endpoints
from augury.redis_keys import Keys
from flink_app.redis_writer import RedisWriter


def test_writes_are_absolute_so_repeating_them_changes_nothing(endpoints: Endpoints) -> None:
    conn = redis.Redis.from_url(endpoints.redis_url, decode_responses=True)
    keys = Keys(f"augury:test:{uuid.uuid4().hex[:8]}:")
    writer = RedisWriter(redis.Redis.from_url(endpoints.redis_url), keys, ttl_s=120,
                         clock_ms=lambda: 42)  # fmt: skip

    def write_all() -> None:
        writer.windows([(60_000, 5, 3, 2, 11, True)])
        writer.window_dims([(60_000, "evt:page_view", 4, "hash"), (60_000, "/p/ü", 3, "pages")])
        writer.sessions([("u1", "phone-1", 61_000, 65_000, 3, "page_view", "purchase", "BE")])
        writer.totals(5, 1, 2, 11, 0)

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
        "updated_ms": "42", "evt:page_view": "4",
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
