"""A sorted-set member whose hash has expired is skipped, never an empty object (real Redis).

Hashes are expired for real (``PEXPIRE`` 1 ms) under the module's own key prefix; the sorted
sets still list them, as they do in production until the writer trims them.
"""

from __future__ import annotations

import time

import pytest

from augury import read_model
from augury.redis_keys import session_id
from tests.integration.conftest import Api
from tests.integration.test_read_api import get


def expire(api: Api, *keys: str) -> None:
    """Expire ``keys`` now and wait until Redis no longer has them."""
    for key in keys:
        assert api.conn.pexpire(key, 1)
    deadline = time.monotonic() + 5
    while api.conn.exists(*keys) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert api.conn.exists(*keys) == 0


@pytest.fixture(scope="module")
def expired(api: Api) -> Api:
    """The newest window's hash and u1's newest session's hash, expired (sets untouched)."""
    b, k = api.data.base, api.data.keys
    newest_session = session_id("u1", "phone", b + 100_000)
    expire(api, k.window(b + 120_000), k.session(newest_session))
    assert api.conn.zscore(k.windows, str(b + 120_000)) is not None
    assert api.conn.zscore(k.sessions, newest_session) is not None
    assert api.conn.zscore(k.user_sessions("u1"), newest_session) is not None
    return api


def test_windows_skip_an_expired_one_and_fill_the_limit(expired: Api) -> None:
    b = expired.data.base
    _, body = get(expired, "/windows")
    assert [w["start_ms"] for w in body["windows"]] == [b + 60_000, b]
    _, body = get(expired, "/windows?limit=1")  # the expired one listed first is replaced
    assert [w["start_ms"] for w in body["windows"]] == [b + 60_000]
    status, _ = get(expired, f"/windows/{b + 120_000}")
    assert status == 404


def test_health_reports_the_newest_live_window(expired: Api) -> None:
    _, body = get(expired, "/health")
    assert body["newest_window_ms"] == expired.data.base + 60_000
    assert read_model.newest_update_ms(expired.conn, expired.data.keys) is not None


def test_top_pages_leave_out_an_expired_window(expired: Api) -> None:
    _, body = get(expired, "/pages/top")  # the expired window's /cart 8 is not counted
    assert body["windows"] == 2 and body["max_undercount"] == 0
    assert body["pages"] == [
        {"page_url": "/home", "events": 25}, {"page_url": "/checkout", "events": 20},
        {"page_url": "/cart", "events": 12}, {"page_url": "/p/ü", "events": 8},
    ]  # fmt: skip


def test_sessions_skip_an_expired_one_and_fill_the_limit(expired: Api) -> None:
    b = expired.data.base
    for path in ("/users/u1/sessions", "/users/u1/sessions?limit=1"):
        _, body = get(expired, path)
        assert [s["start_ms"] for s in body["sessions"]] == [b + 1_000], path
    _, body = get(expired, "/sessions")
    assert sorted(s["user_id"] for s in body["sessions"]) == ["u1", "u2", "u3"]
    assert all(s["start_ms"] > 0 and s["user_id"] for s in body["sessions"])


def test_the_read_model_itself_never_returns_an_expired_member(expired: Api) -> None:
    c, k, b = expired.conn, expired.data.keys, expired.data.base
    assert [s.start_ms for s in read_model.user_sessions(c, k, "u1", 1)] == [b + 1_000]
    assert [w.start_ms for w in read_model.newest_windows(c, k, 1, window_ms=60_000)] == [
        b + 60_000
    ]
    assert read_model.page_ranking(c, k, [b + 120_000], 5).windows == 0
