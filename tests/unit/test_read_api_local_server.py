"""The local server's translation of HTTP requests into function URL events (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from augury.settings import SettingsError
from lambdas.read_api.config import ReadApiConfig
from lambdas.read_api.local_server import encoded_path, function_url_event, static_file


def test_a_request_becomes_a_payload_2_event() -> None:
    event = function_url_event("GET", "/windows?from=1&to=2&to=3", {"Host": "h", "X-A": "b"},
                               b"", "127.0.0.1")  # fmt: skip
    assert event["version"] == "2.0" and event["rawPath"] == "/windows"
    assert event["rawQueryString"] == "from=1&to=2&to=3"
    assert event["queryStringParameters"] == {"from": "1", "to": "2,3"}  # as Lambda joins them
    assert event["headers"] == {"host": "h", "x-a": "b"}
    assert event["requestContext"]["http"]["method"] == "GET"
    assert event["body"] is None and event["isBase64Encoded"] is False


@pytest.mark.parametrize(("sent", "raw_path"), [
    ("/users/a%2Fb/sessions", "/users/a%2Fb/sessions"),  # escapes are kept as sent
    ("/users/a%20b/sessions", "/users/a%20b/sessions"),
    ("/users/100%25/sessions", "/users/100%25/sessions"),
    ("/users/a|b/sessions", "/users/a%7Cb/sessions"),  # a character a URL may not hold
    ("/users/\xc3\xbc/sessions", "/users/%C3%BC/sessions"),  # raw UTF-8 bytes, read as Latin-1
    ("/users/ü/sessions", "/users/%FC/sessions"),  # one byte 0xFC, as http.server reads it
    ("/users/名/sessions", "/users/%E5%90%8D/sessions"),  # not from http.server: UTF-8 text
    ("/users/a'b:c@d/sessions", "/users/a'b:c@d/sessions"),
])  # fmt: skip
def test_the_path_is_passed_percent_encoded_like_a_function_url(sent: str, raw_path: str) -> None:
    assert encoded_path(sent) == raw_path
    event = function_url_event("GET", sent + "?limit=1", {}, b"", "127.0.0.1")
    assert event["rawPath"] == event["requestContext"]["http"]["path"] == raw_path
    assert event["rawQueryString"] == "limit=1"


def test_static_files_stay_inside_the_dashboard(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("x")
    assert static_file("/dashboard/", tmp_path) == (tmp_path / "index.html").resolve()
    assert static_file("/dashboard/../secret", tmp_path) is None
    assert static_file("/dashboard/missing.js", tmp_path) is None


def test_bad_settings_are_named() -> None:
    with pytest.raises(SettingsError, match="READ_API_DEFAULT_MINUTES='0'"):
        ReadApiConfig.from_env({"READ_API_DEFAULT_MINUTES": "0"})
    with pytest.raises(SettingsError, match="AUGURY_REDIS_URL"):
        ReadApiConfig.from_env({"AUGURY_REDIS_URL": "http://x"})
    assert ReadApiConfig.from_env({}).default_minutes == 60
