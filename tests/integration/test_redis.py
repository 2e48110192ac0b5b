"""The platform's Redis server is real and answers."""

from __future__ import annotations

import redis

from augury.endpoints import Endpoints


def test_redis_ping_set_get(endpoints: Endpoints) -> None:
    conn = redis.Redis.from_url(endpoints.redis_url, decode_responses=True)
    assert conn.ping() is True
    key = "augury:test:foundation"
    assert conn.set(key, "héllo", ex=60) is True
    assert conn.get(key) == "héllo"
    assert 0 < conn.ttl(key) <= 60
    conn.delete(key)
    assert conn.get(key) is None
    assert int(str(conn.info("server")["redis_version"]).split(".")[0]) >= 7
