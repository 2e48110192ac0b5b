"""Path parameters are percent-decoded after routing; every list is bounded (no server).

Events are built by the local server's ``function_url_event`` (a function URL's payload 2.0, path
still percent-encoded) and routed by the real handler; the read model is replaced by a recorder,
so no Redis is needed.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

from augury import read_model
from lambdas.local_context import LocalContext
from lambdas.read_api import handler
from lambdas.read_api.local_server import function_url_event

IDS = ["a/b", "a b", "üsér-名前", "a|b", "100%", "%2F"]
"""A slash, a space, non-ASCII, the session-id separator, a percent sign, an escape's text."""


def call(target: str) -> tuple[int, Any]:
    event = function_url_event("GET", target, {"Host": "h"}, b"", "127.0.0.1")
    result = handler.lambda_handler(event, LocalContext("read-api-test"))  # type: ignore[arg-type]
    return result["statusCode"], json.loads(result["body"])


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The user ids the handler asked the read model for."""
    asked: list[str] = []

    def user_sessions(conn: Any, keys: Any, user_id: str, limit: int = 100) -> list[Any]:
        asked.append(user_id)
        return []

    monkeypatch.setattr(read_model, "user_sessions", user_sessions)
    return asked


@pytest.mark.parametrize("user_id", IDS)
def test_an_encoded_id_routes_and_is_decoded(user_id: str, seen: list[str]) -> None:
    assert call(f"/users/{quote(user_id, safe='')}/sessions") == (200, {"sessions": []})
    assert seen == [user_id]


@pytest.mark.parametrize("user_id", ["a|b", "üsér-名前", "a'b(c)"])
def test_an_id_sent_unencoded_routes_too(user_id: str, seen: list[str]) -> None:
    raw = user_id.encode().decode("latin-1")  # the request line as http.server reads it
    assert call(f"/users/{raw}/sessions")[0] == 200 and seen == [user_id]


def test_a_decoded_slash_would_not_route(seen: list[str]) -> None:
    """Powertools' ``<user_id>`` never matches ``/``: decoding must come after routing."""
    pattern = handler.app._compile_regex("/users/<user_id>/sessions")
    assert pattern.match("/users/a/b/sessions") is None
    assert pattern.match("/users/a%2Fb/sessions") is not None
    status, _ = call("/users/a/b/sessions")
    assert status == 404 and seen == []


def test_function_url_paths_are_made_canonical() -> None:
    assert handler.canonical_path("/users/a%2fb/sessions") == "/users/a%2Fb/sessions"
    assert handler.canonical_path('/users/a b|"/x') == "/users/a%20b%7C%22/x"
    assert handler.canonical_path("/windows/%31%32") == "/windows/12"
    assert handler.canonical_path("/users/%FF/sessions") == "/users/%FF/sessions"  # bytes kept


@pytest.mark.parametrize(("target", "name"), [
    ("/pages/top?limit=0", "limit"), (f"/pages/top?limit={read_model.MAX_PAGES + 1}", "limit"),
    ("/pages/top?windows=0", "windows"),
    (f"/pages/top?windows={read_model.MAX_ITEMS + 1}", "windows"),
    (f"/windows/0/pages?limit={read_model.MAX_PAGES + 1}", "limit"),
    (f"/windows?limit={read_model.MAX_ITEMS + 1}", "limit"),
    (f"/sessions?limit={read_model.MAX_ITEMS + 1}", "limit"),
    (f"/users/u/sessions?limit={read_model.MAX_ITEMS + 1}", "limit"),
])  # fmt: skip
def test_out_of_range_limits_are_a_422_naming_the_parameter(target: str, name: str) -> None:
    status, body = call(target)
    assert status == 422 and body["detail"][0]["loc"] == ["query", name]
