"""Ids with ``/``, spaces, non-ASCII, ``|`` and ``%`` reach their sessions (real Redis).

The sessions are written by the job's writer; requests go through the local server (HTTP, the
path sent percent-encoded or raw) and straight to the Lambda handler with a function URL event.
"""

from __future__ import annotations

import json
import socket
import urllib.parse
from typing import Any
from urllib.parse import quote

import pytest

from augury.redis_keys import session_id
from flink_app.redis_sink import SinkWriter
from lambdas.local_context import LocalContext
from lambdas.read_api import handler
from tests.integration.conftest import Api
from tests.integration.test_read_api import get

IDS = ["a/b", "a b", "üsér-名前", "a|b", "100%", "50%2F"]
"""A slash, a space, non-ASCII, the session-id separator, a percent sign, an escape's text."""
DEVICE = "dev|1"


def _url(api: Api) -> str:
    return "redis://{host}:{port}/{db}".format(**api.conn.connection_pool.connection_kwargs)


@pytest.fixture(scope="module")
def starts(api: Api) -> dict[str, int]:
    """Each id's one session start (written under the module's own key prefix)."""
    first = api.data.base + 200_000
    found = {uid: first + i for i, uid in enumerate(IDS)}
    rows = [
        (uid, DEVICE, s, s + 5_000, 2, "page_view", "purchase", "US") for uid, s in found.items()
    ]
    with SinkWriter(_url(api), api.data.keys, ttl_s=600) as writer:
        writer.sessions(rows)
    return found


def assert_one_session(body: Any, user_id: str, start: int) -> None:
    (only,) = body["sessions"]
    assert only["user_id"] == user_id and only["device_id"] == DEVICE
    assert only["session_id"] == session_id(user_id, DEVICE, start)


@pytest.mark.parametrize("user_id", IDS)
def test_a_percent_encoded_id_over_http(api: Api, starts: dict[str, int], user_id: str) -> None:
    status, body = get(api, f"/users/{quote(user_id, safe='')}/sessions")
    assert status == 200
    assert_one_session(body, user_id, starts[user_id])


def raw_get(api: Api, target: bytes) -> tuple[int, Any]:
    """A GET with the target's bytes sent as they are (no client re-encoding)."""
    host, port = urllib.parse.urlsplit(api.url).netloc.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


@pytest.mark.parametrize("user_id", ["a|b", "üsér-名前"])
def test_an_id_sent_unencoded_over_http(api: Api, starts: dict[str, int], user_id: str) -> None:
    status, body = raw_get(api, f"/users/{user_id}/sessions".encode())
    assert status == 200
    assert_one_session(body, user_id, starts[user_id])


def test_a_slash_routes_in_a_function_url_event(api: Api, starts: dict[str, int]) -> None:
    """The deployed path: Lambda gets the path still encoded, ``%2F`` and all."""
    event = {
        "version": "2.0", "routeKey": "$default", "rawPath": "/users/a%2Fb/sessions",
        "rawQueryString": "limit=5", "queryStringParameters": {"limit": "5"},
        "headers": {"host": "x.lambda-url.us-east-1.on.aws"}, "isBase64Encoded": False,
        "requestContext": {"http": {"method": "GET", "path": "/users/a%2Fb/sessions",
                                    "protocol": "HTTP/1.1", "sourceIp": "1.2.3.4",
                                    "userAgent": "t"},
                           "requestId": "r", "routeKey": "$default", "stage": "$default",
                           "accountId": "1", "apiId": "x", "domainName": "x", "domainPrefix": "x",
                           "time": "01/Jan/2026:00:00:00 +0000", "timeEpoch": 0},
    }  # fmt: skip
    result = handler.lambda_handler(event, LocalContext("read-api-test"))  # type: ignore[arg-type]
    assert result["statusCode"] == 200
    assert_one_session(json.loads(result["body"]), "a/b", starts["a/b"])


def test_a_decoded_slash_is_another_path(api: Api, starts: dict[str, int]) -> None:
    status, _ = get(api, "/users/a/b/sessions")
    assert status == 404


def test_ids_that_once_shared_a_session_id_get_only_their_own(api: Api) -> None:
    """(``a|b``, ``c``) and (``a``, ``b|c``) in the same millisecond: two sessions, not one."""
    start = api.data.base + 300_000
    with SinkWriter(_url(api), api.data.keys, ttl_s=600) as writer:
        writer.sessions([
            ("x|y", "z", start, start + 1_000, 2, "page_view", "purchase", "BE"),
            ("x", "y|z", start, start + 9_000, 7, "page_view", "page_view", "FR"),
        ])  # fmt: skip
    for user_id, device_id, events in (("x|y", "z", 2), ("x", "y|z", 7)):
        status, body = get(api, f"/users/{quote(user_id, safe='')}/sessions")
        assert status == 200
        (only,) = body["sessions"]
        assert (only["user_id"], only["device_id"], only["events"]) == (user_id, device_id, events)
