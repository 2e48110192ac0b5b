"""The read API over real Redis, through its local server (function URL events, real handler)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from lambdas.read_api import handler
from tests.integration.conftest import Api

ROOT = Path(__file__).resolve().parents[2]


def get(api: Api, path: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(api.url + path, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def test_windows_in_the_default_range_newest_first(api: Api) -> None:
    status, body = get(api, "/windows")
    assert status == 200
    starts = [w["start_ms"] for w in body["windows"]]
    b = api.data.base
    assert starts == [b + 120_000, b + 60_000, b]  # the two-hour-old one is out of range
    newest, _, oldest = body["windows"]
    assert newest["final"] is False and newest["final_ms"] is None and newest["events"] == 8
    assert oldest == oldest | {"events": 40, "users": 9, "sessions": 4, "bot_events": 12,
                               "final": True, "end_ms": b + 60_000}  # fmt: skip
    assert oldest["countries"] == {"US": 30, "BE": 10}
    assert oldest["event_types"] == {"page_view": 30, "purchase": 10}
    assert oldest["final_ms"] == oldest["updated_ms"]


def test_an_explicit_range_and_limit(api: Api) -> None:
    old = api.data.old
    status, body = get(api, f"/windows?from={old}&to={old}")
    assert status == 200 and [w["events"] for w in body["windows"]] == [3]
    _, body = get(api, f"/windows?from={old}&limit=2")
    assert len(body["windows"]) == 2


def test_one_window_and_a_missing_one(api: Api) -> None:
    status, body = get(api, f"/windows/{api.data.base}")
    assert status == 200 and body["start_ms"] == api.data.base and body["users"] == 9
    status, body = get(api, "/windows/60000")
    assert status == 404 and "no window starts at 60000" in body["message"]


def test_top_pages_of_a_window_and_of_a_range(api: Api) -> None:
    """Both say how they were read: windows merged, pages per window, the undercount bound."""
    b = api.data.base
    _, body = get(api, f"/windows/{b}/pages?limit=2")
    assert (body["windows"], body["per_window"], body["max_undercount"]) == (1, 50, 0)
    assert body["pages"] == [
        {"page_url": "/home", "events": 20},
        {"page_url": "/cart", "events": 12},
    ]
    _, body = get(api, "/pages/top")
    assert (body["windows"], body["max_undercount"]) == (3, 0)  # read whole: exact
    assert body["pages"] == [
        {"page_url": "/home", "events": 25}, {"page_url": "/cart", "events": 20},
        {"page_url": "/checkout", "events": 20}, {"page_url": "/p/ü", "events": 8},
    ]  # fmt: skip


def test_sessions_of_a_user_and_of_a_range(api: Api) -> None:
    b = api.data.base
    _, body = get(api, "/users/u1/sessions")
    assert [s["start_ms"] for s in body["sessions"]] == [b + 100_000, b + 1_000]
    assert body["sessions"][0] == body["sessions"][0] | {
        "session_id": f"u1|phone|{b + 100_000}", "duration_ms": 90_000, "events": 6,
        "last_event": "purchase"}  # fmt: skip
    _, body = get(api, "/users/nobody/sessions")
    assert body == {"sessions": []}
    _, body = get(api, "/sessions")
    assert sorted(s["user_id"] for s in body["sessions"]) == ["u1", "u1", "u2", "u3"]


def test_totals_and_health(api: Api) -> None:
    assert get(api, "/totals") == (200, {"accepted": 76, "invalid": 4, "duplicates": 2,
                                         "bot_events": 12, "late": 1})  # fmt: skip
    status, body = get(api, "/health")
    assert status == 200 and body["redis"] is True
    assert body["newest_window_ms"] == api.data.base + 120_000 and body["freshness_s"] >= 0


def test_bad_requests_are_named(api: Api) -> None:
    status, body = get(api, "/windows?limit=0")
    assert status == 422 and body["detail"][0]["loc"] == ["query", "limit"]
    status, body = get(api, "/windows?from=5&to=1")
    assert status == 400 and "from (5) is after to (1)" in body["message"]
    status, body = get(api, "/windows/abc")
    assert status == 422
    status, body = get(api, "/pages/top?windows=1001")
    assert status == 422 and body["detail"][0]["loc"] == ["query", "windows"]
    status, body = get(api, f"/windows/{api.data.base}/pages?limit=101")
    assert status == 422 and body["detail"][0]["loc"] == ["query", "limit"]


def test_redis_down_is_a_503_with_the_reason(api: Api, monkeypatch: Any) -> None:
    monkeypatch.setenv("AUGURY_REDIS_URL", "redis://127.0.0.1:1/0")
    handler.config.cache_clear()
    handler.connection.cache_clear()
    try:
        status, body = get(api, "/health")
        assert status == 503 and body["redis"] is False
        status, body = get(api, "/totals")
        assert status == 503 and "Redis unavailable" in body["message"]
    finally:
        monkeypatch.undo()
        handler.config.cache_clear()
        handler.connection.cache_clear()


def test_the_committed_openapi_document_is_the_code_s(api: Api) -> None:
    status, served = get(api, "/openapi.json")
    assert status == 200
    committed = json.loads((ROOT / "docs" / "openapi.json").read_text())
    assert served == committed, "run: make openapi"
    paths = set(served["paths"])
    assert paths == {"/health", "/totals", "/windows", "/windows/{start_ms}",
                     "/windows/{start_ms}/pages", "/pages/top", "/sessions",
                     "/users/{user_id}/sessions"}  # fmt: skip
