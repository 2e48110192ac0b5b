"""``/pages/top`` over 60 windows of 50 000 distinct pages each reads a bounded amount.

Work is counted, never timed: a client wrapper counts the commands sent to Redis and the
elements of their replies, and the answer's size is measured in bytes. The data (3 M sorted-set
members) is written with pipelined bulk writes under the module's own key prefix and unlinked
afterwards.
"""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis

from augury import read_model
from augury.endpoints import Endpoints
from augury.redis_keys import Keys
from lambdas.read_api import handler
from lambdas.read_api.local_server import BackgroundServer

WINDOWS = 60
PAGES = 50_000
WINDOW_MS = 60_000
TTL_S = 3_600


def page(i: int) -> str:
    return f"/p/{i:05}"


def count(window: int, i: int) -> int:
    """Zipf-like popularity with a per-window jitter: page 0 biggest, every count distinct-ish."""
    return PAGES * 2 // (i + 1) + (i * 7919 + window * 104_729) % 97


class CountingRedis:
    """A Redis client that counts the commands it sends and the elements of their replies."""

    def __init__(self, conn: redis.Redis) -> None:
        self.conn = conn
        self.commands: Counter[str] = Counter()
        self.elements = 0

    def record(self, name: str, reply: Any) -> None:
        self.commands[name] += 1
        self.elements += len(reply) if isinstance(reply, list | dict) else 1

    def pipeline(self, transaction: bool = True) -> CountingPipeline:
        return CountingPipeline(self, self.conn.pipeline(transaction=transaction))

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.conn, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            reply = method(*args, **kwargs)
            self.record(name, reply)
            return reply

        return call


class CountingPipeline:
    """A pipeline that reports each queued command's reply to its ``CountingRedis``."""

    def __init__(self, owner: CountingRedis, pipe: Any) -> None:
        self.owner, self.pipe, self.names = owner, pipe, list[str]()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.pipe, name)

        def queue(*args: Any, **kwargs: Any) -> CountingPipeline:
            self.names.append(name)
            method(*args, **kwargs)
            return self

        return queue

    def execute(self) -> list[Any]:
        replies: list[Any] = self.pipe.execute()
        for name, reply in zip(self.names, replies, strict=True):
            self.owner.record(name, reply)
        return replies


@dataclass
class Big:
    url: str
    keys: Keys
    starts: list[int]
    truth: Counter[str]
    counting: CountingRedis


def write(conn: redis.Redis, keys: Keys, starts: list[int]) -> None:
    """The windows, their hashes and 50 000 pages each, one pipeline per window."""
    for w, start in enumerate(starts):
        fields = {"events": PAGES, "users": 1, "sessions": 0, "bot_events": 0, "final": 1,
                  "updated_ms": start}  # fmt: skip
        pipe = conn.pipeline(transaction=False)
        pipe.hset(keys.window(start), mapping=fields)  # type: ignore[arg-type]
        pipe.zadd(keys.windows, {str(start): start})
        pipe.zadd(keys.window_pages(start), {page(i): count(w, i) for i in range(PAGES)})
        for key in (keys.window(start), keys.window_pages(start), keys.windows):
            pipe.expire(key, TTL_S)
        pipe.execute()


@pytest.fixture(scope="module")
def big(endpoints: Endpoints, monkeypatch_module: pytest.MonkeyPatch) -> Iterator[Big]:
    keys = Keys(f"augury:test:{uuid.uuid4().hex[:8]}:")
    conn = redis.Redis.from_url(endpoints.redis_url, decode_responses=True)
    newest = int(time.time() * 1000) // WINDOW_MS * WINDOW_MS
    starts = [newest - w * WINDOW_MS for w in range(WINDOWS)]
    try:
        write(conn, keys, starts)
        truth = Counter({page(i): sum(count(w, i) for w in range(WINDOWS)) for i in range(PAGES)})
        monkeypatch_module.setenv("AUGURY_REDIS_URL", endpoints.redis_url)
        monkeypatch_module.setenv("AUGURY_REDIS_KEY_PREFIX", keys.prefix)
        monkeypatch_module.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
        handler.config.cache_clear()
        handler.connection.cache_clear()
        counting = CountingRedis(conn)
        monkeypatch_module.setattr(handler, "connection", lambda: counting)
        server = BackgroundServer(handler.lambda_handler)
        try:
            yield Big(server.url, keys, starts, truth, counting)
        finally:
            server.stop()
            handler.config.cache_clear()
    finally:
        written = list(conn.scan_iter(f"{keys.prefix}*"))
        if written:
            conn.unlink(*written)  # freed in the background


def fetch(big: Big, query: str) -> tuple[dict[str, Any], int, Counter[str], int]:
    """The answer, its size in bytes, and the commands and elements it read from Redis."""
    big.counting.commands.clear()
    big.counting.elements = 0
    target = f"{big.url}/pages/top?from={big.starts[-1]}&to={big.starts[0]}&{query}"
    with urllib.request.urlopen(target, timeout=60) as resp:
        assert resp.status == 200
        raw = resp.read()
    return json.loads(raw), len(raw), Counter(big.counting.commands), big.counting.elements


def test_the_data_is_as_big_as_claimed(big: Big) -> None:
    conn = big.counting.conn
    assert sum(conn.zcard(big.keys.window_pages(s)) for s in big.starts) == WINDOWS * PAGES


@pytest.mark.parametrize("limit", [10, read_model.MAX_PAGES])
def test_top_pages_read_at_most_depth_plus_one_pages_per_window(big: Big, limit: int) -> None:
    body, size, commands, elements = fetch(big, f"limit={limit}")
    depth = read_model.page_depth(limit)
    assert (body["windows"], body["per_window"], len(body["pages"])) == (WINDOWS, depth, limit)
    # one listing of the windows, then per window: does its hash exist, its depth + 1 pages
    assert commands == {"zrevrangebyscore": 1, "exists": WINDOWS, "zrevrange": WINDOWS}
    assert elements <= WINDOWS + WINDOWS + WINDOWS * (depth + 1)  # of 3 000 000 stored
    assert size <= 400 + 50 * limit  # a page is about 40 bytes of JSON


def test_a_bounded_top_keeps_its_documented_guarantee(big: Big) -> None:
    body, _, _, _ = fetch(big, "limit=10")
    slack = body["max_undercount"]
    listed = {p["page_url"]: p["events"] for p in body["pages"]}
    assert all(n <= big.truth[url] <= n + slack for url, n in listed.items())
    last = body["pages"][-1]["events"]
    assert all(n <= last + slack for url, n in big.truth.items() if url not in listed)
    assert list(listed) == [url for url, _ in big.truth.most_common(10)]  # exact here


def test_fewer_windows_read_less(big: Big) -> None:
    body, _, commands, elements = fetch(big, "limit=10&windows=5")
    assert body["windows"] == 5 and commands["zrevrange"] == 5
    assert elements <= 5 + 5 + 5 * (read_model.page_depth(10) + 1)
