"""Serve the read API locally: HTTP requests become function URL events for the real handler.

Lambda function URLs send payload format 2.0; this server builds exactly that event from each
request, calls ``handler.lambda_handler`` and writes its response back, so the local API and
the deployed one run the same code. As a function URL does, it passes the path still
percent-encoded (raw non-ASCII bytes and characters a URL may not hold escaped as UTF-8); the
handler decodes path parameters after routing. It also serves the dashboard page (``dashboard/``) at
``/dashboard/`` (``/`` redirects there); the page calls the API on the same origin.
"""

from __future__ import annotations

import base64
import mimetypes
import sys
import threading
import time
import uuid
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from lambdas.local_context import LocalContext

DASHBOARD_DIR = Path(__file__).resolve().parents[2] / "dashboard"
DASHBOARD_PREFIX = "/dashboard/"
FUNCTION_NAME = "augury-read-api-local"

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]

PATH_SAFE = "/%!$&'()*+,;=:@"
"""Characters a path keeps as sent (besides letters, digits and ``-._~``); others are escaped."""


def encoded_path(path: str) -> str:
    """The percent-encoded path a function URL would pass for a path read by ``http.server``.

    ``http.server`` decodes the request line as ISO-8859-1, so each character is one byte sent:
    raw bytes outside ASCII (UTF-8 ids sent unencoded) and characters a URL may not hold are
    escaped, existing escapes kept. (A path given with characters beyond ISO-8859-1 is taken as
    UTF-8 text.)
    """
    try:
        raw = path.encode("latin-1")
    except UnicodeEncodeError:
        raw = path.encode("utf-8")
    return quote(raw, safe=PATH_SAFE)


def function_url_event(method: str, target: str, headers: dict[str, str], body: bytes,
                       client_ip: str) -> dict[str, Any]:  # fmt: skip
    """The function URL (payload 2.0) event Lambda would pass for this request.

    ``target`` is the request target as ``http.server`` gives it (see ``encoded_path``).
    """
    parts = urlsplit(target)
    path = encoded_path(parts.path)
    query: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value  # as Lambda joins them
    now = time.time()
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": parts.query,
        "headers": {k.lower(): v for k, v in headers.items()},
        "queryStringParameters": query or None,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "local",
            "domainName": headers.get("Host", "localhost"),
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": client_ip,
                "userAgent": headers.get("User-Agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": base64.b64encode(body).decode() if body else None,
        "isBase64Encoded": bool(body),
    }


def static_file(path: str, root: Path = DASHBOARD_DIR) -> Path | None:
    """The dashboard file for a URL path under ``/dashboard/`` (None when absent or outside)."""
    relative = path[len(DASHBOARD_PREFIX) :] or "index.html"
    candidate = (root / relative).resolve()
    if root.resolve() not in candidate.parents or not candidate.is_file():
        return None
    return candidate


def make_server(host: str, port: int, handler: Handler, quiet: bool = False) -> ThreadingHTTPServer:
    """An HTTP server (not yet serving) for the API and the dashboard."""

    class RequestHandler(BaseHTTPRequestHandler):
        server_version = "augury-read-api"

        def log_message(self, format: str, *args: Any) -> None:
            if not quiet:
                sys.stderr.write(f"[read-api] {self.address_string()} {format % args}\n")

        def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _dashboard(self, path: str) -> None:
            if path in ("/", DASHBOARD_PREFIX.rstrip("/")):
                self._send(HTTPStatus.FOUND, {"Location": DASHBOARD_PREFIX}, b"")
                return
            found = static_file(path)
            if found is None:
                self._send(HTTPStatus.NOT_FOUND, {"Content-Type": "text/plain"}, b"not found")
                return
            kind = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
            self._send(HTTPStatus.OK, {"Content-Type": kind, "Cache-Control": "no-store"},
                       found.read_bytes())  # fmt: skip

        def _invoke(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            event = function_url_event(self.command, self.path, dict(self.headers.items()),
                                       body, self.client_address[0])  # fmt: skip
            result = handler(event, LocalContext(FUNCTION_NAME, timeout_s=30))
            payload = result.get("body") or ""
            data = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode()
            headers = dict(result.get("headers") or {})
            for cookie in result.get("cookies") or []:
                headers["Set-Cookie"] = cookie
            self._send(int(result.get("statusCode", 200)), headers, data)

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if path == "/" or path.startswith(DASHBOARD_PREFIX.rstrip("/")):
                self._dashboard(path)
            else:
                self._invoke()

        do_HEAD = do_GET

        def do_POST(self) -> None:
            self._invoke()

    server = ThreadingHTTPServer((host, port), RequestHandler)
    server.daemon_threads = True
    return server


class BackgroundServer:
    """The server on a daemon thread (tests, the demo); ``url`` is its base address."""

    def __init__(self, handler: Handler, host: str = "127.0.0.1", port: int = 0) -> None:
        self.server = make_server(host, port, handler, quiet=True)
        self.url = f"http://{host}:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()
