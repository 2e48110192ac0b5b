"""The local collector's HTTP server: models checked, records mapped, Kinesis written.

``POST /events`` calls PutRecord, ``POST /events/batch`` PutRecords, with the records
``augury.collector.record`` defines (the mapping templates' documented output). It also serves
the browser tracker (``GET /augury.js``) and the demo shop (``GET /shop/``), so a page on this
origin needs no CORS; other origins get CORS as ``--origins`` allows.
"""

from __future__ import annotations

import json
import mimetypes
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from augury.collector import (
    BATCH_PATH,
    CONTENT_TYPES,
    EVENTS_PATH,
    MAX_BODY_BYTES,
    UNAVAILABLE_MESSAGE,
    answer_put,
    answer_put_records,
    event_json,
    partition_key,
    record,
)
from augury.endpoints import Endpoints
from collector.edge import Refusal, check_batch, check_event, events_of, oversized, parse

TRACKER_DIR: Final = Path(__file__).resolve().parents[1] / "tracker"
STATIC: Final = {"/augury.js": TRACKER_DIR / "augury.js"}
SHOP_PATH: Final = "/shop/"
RECENT_USERS: Final = 20


@dataclass(frozen=True)
class CollectorConfig:
    """What the local collector writes to and whom it answers."""

    stream_name: str
    endpoints: Endpoints
    origins: Sequence[str] = ("*",)
    """Origins allowed by CORS; ``*`` allows any."""
    log_requests: bool = False


class _Handler(BaseHTTPRequestHandler):
    server: CollectorServer
    protocol_version = "HTTP/1.1"
    # Headers and body are two writes: without TCP_NODELAY the body waits for the client's
    # delayed ACK (about 40 ms per keep-alive request, measured by the collector benchmark).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.config.log_requests:
            sys.stderr.write(f"[collector] {self.address_string()} {format % args}\n")

    # --- answers --------------------------------------------------------------------------------
    def _cors(self) -> None:
        origin = self.headers.get("Origin")
        allowed = self.server.config.origins
        if origin is None:
            return
        if "*" in allowed:
            self.send_header("Access-Control-Allow-Origin", "*")
        elif origin in allowed:
            self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Vary", "Origin")

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self._cors()
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, doc: Any) -> None:
        self._send(status, json.dumps(doc, ensure_ascii=False).encode("utf-8"))

    def _refuse(self, refusal: Refusal) -> None:
        self._json(HTTPStatus.BAD_REQUEST, refusal.answer())

    # --- routes ---------------------------------------------------------------------------------
    def do_OPTIONS(self) -> None:
        self.send_response(HTTPStatus.NO_CONTENT)
        self._cors()
        self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "Content-Type")
        self.send_header("Access-Control-Max-Age", "600")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/health":
            self._json(HTTPStatus.OK, {"stream": self.server.config.stream_name})
            return
        file = STATIC.get(path)
        if file is None and path.startswith(SHOP_PATH):
            name = path[len(SHOP_PATH) :] or "index.html"
            candidate = (TRACKER_DIR / "shop" / name).resolve()
            shop = (TRACKER_DIR / "shop").resolve()
            # Any path below /shop/ that is not a file is the shop's single page (SPA routes).
            file = candidate if candidate.is_file() and shop in candidate.parents else None
            file = file or shop / "index.html"
        if file is None or not file.is_file():
            self._json(HTTPStatus.NOT_FOUND, {"message": f"no such path: {path}"})
            return
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        self._send(HTTPStatus.OK, file.read_bytes(), f"{kind}; charset=utf-8")

    def do_POST(self) -> None:
        arrival_ms = time.time_ns() // 1_000_000  # $context.requestTimeEpoch
        if not self.server.admit():
            self.close_connection = True
            self._json(HTTPStatus.SERVICE_UNAVAILABLE, {"message": "the collector is stopping"})
            return
        try:
            self._post(arrival_ms)
        except Exception as exc:  # a bug must still answer (and be seen), never drop the socket
            self.close_connection = True
            sys.stderr.write(f"[collector] error: {exc!r}\n")
            self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"message": "collector error"})
        finally:
            self.server.leave()

    def _post(self, arrival_ms: int) -> None:
        path = self.path.split("?", 1)[0]
        if path not in (EVENTS_PATH, BATCH_PATH):
            self._json(HTTPStatus.NOT_FOUND, {"message": f"no such path: {path}"})
            return
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.close_connection = True
            self._json(HTTPStatus.LENGTH_REQUIRED, {"message": "send a Content-Length"})
            return
        raw_length = (self.headers.get("Content-Length") or "0").strip()
        if not raw_length.isdigit():
            self.close_connection = True
            self._json(HTTPStatus.BAD_REQUEST, {"message": "bad Content-Length"})
            return
        length = int(raw_length)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            if length <= 2 * MAX_BODY_BYTES:  # read it, so the client sees the answer
                left = length
                while left > 0 and (chunk := self.rfile.read(min(65536, left))):
                    left -= len(chunk)
            self._json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                       {"message": f"body over {MAX_BODY_BYTES} bytes"})  # fmt: skip
            return
        body = self.rfile.read(length)
        kind = (self.headers.get("Content-Type") or "application/json").split(";")[0].strip()
        if kind.lower() not in CONTENT_TYPES:
            allowed = ", ".join(CONTENT_TYPES)
            self._json(HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                       {"message": f"Content-Type must be one of {allowed}"})  # fmt: skip
            return
        doc = parse(body)
        if isinstance(doc, Refusal):
            self._refuse(doc)
            return
        if path == EVENTS_PATH:
            self._put_one(doc, arrival_ms)
        else:
            self._put_batch(doc, arrival_ms)

    def _put_one(self, doc: Any, arrival_ms: int) -> None:
        refusal = check_event(doc)
        if refusal is not None:
            self._refuse(refusal)
            return
        data = record(event_json(doc), arrival_ms)
        refusal = oversized([data], batch=False)
        if refusal is not None:
            self._refuse(refusal)
            return
        try:
            r = self.server.kinesis().put_record(
                StreamName=self.server.config.stream_name,
                PartitionKey=partition_key(doc),
                Data=data,
            )
        except (ClientError, BotoCoreError):
            self._json(HTTPStatus.SERVICE_UNAVAILABLE, {"message": UNAVAILABLE_MESSAGE})
            return
        self.server.count(1, [partition_key(doc)])
        self._json(HTTPStatus.OK, answer_put(r["SequenceNumber"], r["ShardId"]))

    def _put_batch(self, doc: Any, arrival_ms: int) -> None:
        refusal = check_batch(doc)
        if refusal is not None:
            self._refuse(refusal)
            return
        events = events_of(doc)
        datas = [record(event_json(e), arrival_ms) for e in events]
        refusal = oversized(datas, batch=True)
        if refusal is not None:
            self._refuse(refusal)
            return
        pairs = zip(events, datas, strict=True)
        records = [{"PartitionKey": partition_key(e), "Data": d} for e, d in pairs]
        try:
            r = self.server.kinesis().put_records(
                StreamName=self.server.config.stream_name, Records=records
            )
        except (ClientError, BotoCoreError):
            self._json(HTTPStatus.SERVICE_UNAVAILABLE, {"message": UNAVAILABLE_MESSAGE})
            return
        answer = answer_put_records(r)
        results = zip(events, answer["results"], strict=True)
        stored = [partition_key(e) for e, res in results if "sequence_number" in res]
        self.server.count(len(stored), stored)
        self._json(HTTPStatus.OK, answer)


class CollectorServer(ThreadingHTTPServer):
    """A threading HTTP server with one Kinesis client per thread."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], config: CollectorConfig) -> None:
        self.config = config
        self._local = threading.local()
        self._lock = threading.Condition()
        self._in_flight = 0
        self._closing = False
        self.accepted = 0
        """Events stored in Kinesis so far (the demo adds them to what it must account for)."""
        self._users: dict[str, None] = {}
        super().__init__(address, _Handler)

    def count(self, stored: int, users: Sequence[str] = ()) -> None:
        """Add ``stored`` events to ``accepted``; remember their users (the newest few)."""
        with self._lock:
            self.accepted += stored
            for user in users:
                self._users.pop(user, None)
                self._users[user] = None
            while len(self._users) > RECENT_USERS:
                del self._users[next(iter(self._users))]

    def recent_users(self) -> list[str]:
        """The users of the newest stored events (at most ``RECENT_USERS``): the demo's view."""
        with self._lock:
            return list(self._users)

    def admit(self) -> bool:
        """Start serving a POST; False once ``close`` began (it then stores nothing)."""
        with self._lock:
            if self._closing:
                return False
            self._in_flight += 1
            return True

    def leave(self) -> None:
        """A POST admitted by ``admit`` has been answered."""
        with self._lock:
            self._in_flight -= 1
            self._lock.notify_all()

    def close(self, timeout_s: float = 30) -> int:
        """Refuse new POSTs (also on open keep-alive connections), wait for those in flight.

        Returns ``accepted``, final from then on.
        """
        with self._lock:
            self._closing = True
            self._lock.wait_for(lambda: self._in_flight == 0, timeout=timeout_s)
            return self.accepted

    def kinesis(self) -> Any:
        """The Kinesis client of the calling thread (boto3 clients are per thread here)."""
        client = getattr(self._local, "kinesis", None)
        if client is None:
            client = self._local.kinesis = self.config.endpoints.client("kinesis")
        return client

    @property
    def url(self) -> str:
        """The base URL clients post to."""
        host, port = self.server_address[:2]
        return f"http://{host if isinstance(host, str) else host.decode()}:{port}"


def make_server(host: str, port: int, config: CollectorConfig) -> CollectorServer:
    """A collector bound to ``host:port`` (port 0: any free port), not yet serving."""
    return CollectorServer((host, port), config)


class BackgroundCollector:
    """The collector serving on a daemon thread (the demo, tests); ``url`` is its address."""

    def __init__(self, config: CollectorConfig, host: str = "127.0.0.1", port: int = 0) -> None:
        self.server = make_server(host, port, config)
        self.url = self.server.url
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> int:
        """Stop storing and serving, close the socket; returns the events stored, final."""
        accepted = self.server.close()
        if self.thread.is_alive():
            self.server.shutdown()
            self.server.server_close()
            self.thread.join()
        return accepted
