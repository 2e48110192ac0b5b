"""A known dataset in real Redis, served by the read API's local server (the real handler)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis

from augury.endpoints import Endpoints
from augury.redis_keys import Keys
from flink_app.redis_sink import SinkWriter, core, count


@dataclass
class Dataset:
    keys: Keys
    base: int  # the oldest recent window's start
    old: int  # a window two hours back (outside the default range)


@dataclass
class Api:
    url: str
    data: Dataset
    conn: redis.Redis


def write_dataset(endpoints: Endpoints) -> Dataset:
    keys = Keys(f"augury:test:{uuid.uuid4().hex[:8]}:")
    now = int(time.time() * 1000)
    base = now // 60_000 * 60_000 - 5 * 60_000
    old = base - 120 * 60_000
    # A retention past the old window's age, so the trimming keeps it listed.
    with SinkWriter(endpoints.redis_url, keys, ttl_s=3 * 3600) as w:
        final = {old: True, base: True, base + 60_000: True, base + 120_000: False}
        w.windows([
            core(old, True, 3, 1, 0), core(base, True, 40, 9, 12),
            core(base + 60_000, True, 25, 7, 0),
            core(base + 120_000, False, 8, 3, 0),  # the open window: early results
            *(count(ws, final[ws], kind, field, n) for ws, field, n, kind in [
                (base, "/home", 20, "pages"), (base, "/cart", 12, "pages"),
                (base, "/p/ü", 8, "pages"), (base + 60_000, "/home", 5, "pages"),
                (base + 60_000, "/checkout", 20, "pages"), (base + 120_000, "/cart", 8, "pages"),
                (old, "/old", 3, "pages"), (base, "cc:US", 30, "hash"),
                (base, "cc:BE", 10, "hash"), (base + 60_000, "cc:DE", 25, "hash"),
                (base + 120_000, "cc:US", 8, "hash"), (base, "evt:page_view", 30, "hash"),
                (base, "evt:purchase", 10, "hash"),
            ]),
        ])  # fmt: skip
        w.sessions([
            ("u1", "phone", base + 1_000, base + 6_000, 2, "page_view", "page_view", "US"),
            ("u1", "phone", base + 100_000, base + 190_000, 6, "page_view", "purchase", "US"),
            ("u2", "web", base + 5_000, base + 50_000, 3, "app_open", "add_to_cart", "BE"),
            ("u3", "web", base + 70_000, base + 770_000, 9, "page_view", "purchase", "DE"),
            ("u4", "tab", old + 1_000, old + 2_000, 1, "page_view", "page_view", "FR"),
        ])  # fmt: skip
        w.totals({"accepted": 76, "invalid": 4, "duplicates": 2, "bot_events": 12, "late": 1})
    # Session counts as a job would leave them with more sessions than this dataset lists.
    conn = redis.Redis.from_url(endpoints.redis_url)
    for ws, n in ((old, 1), (base, 4), (base + 60_000, 3)):
        conn.hset(keys.window(ws), "sessions", n)
    return Dataset(keys, base, old)


@pytest.fixture(scope="module")
def api(endpoints: Endpoints, monkeypatch_module: pytest.MonkeyPatch) -> Iterator[Api]:
    """The read API's local server over a fresh dataset, under its own key prefix."""
    from lambdas.read_api import handler
    from lambdas.read_api.local_server import BackgroundServer

    data = write_dataset(endpoints)
    monkeypatch_module.setenv("AUGURY_REDIS_URL", endpoints.redis_url)
    monkeypatch_module.setenv("AUGURY_REDIS_KEY_PREFIX", data.keys.prefix)
    monkeypatch_module.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
    handler.config.cache_clear()
    handler.connection.cache_clear()
    server = BackgroundServer(handler.lambda_handler)
    conn = redis.Redis.from_url(endpoints.redis_url, decode_responses=True)
    yield Api(server.url, data, conn)
    server.stop()
    handler.config.cache_clear()
    handler.connection.cache_clear()
    conn.delete(*conn.scan_iter(f"{data.keys.prefix}*"))


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as mp:
        yield mp
