"""The local collector (``python -m collector``'s server) against LocalStack's Kinesis.

It applies the request models and the record mapping of ``augury.collector``: every refused
body gets the contract's reason, every accepted event is one record with the documented bytes.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from augury import collector as c
from augury import events
from collector.server import BackgroundCollector, CollectorConfig, CollectorServer, make_server
from localplatform.config import PlatformConfig
from tests.contract_corpus import GOOD
from tests.flink.runs import kinesis_stream
from tests.unit.test_collector import _mutations

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stream(platform_up: PlatformConfig) -> Iterator[str]:
    yield from kinesis_stream(platform_up.endpoints, "collector")


def _serve(config: CollectorConfig) -> CollectorServer:
    server = make_server("127.0.0.1", 0, config)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def server(platform_up: PlatformConfig, stream: str) -> Iterator[CollectorServer]:
    s = _serve(CollectorConfig(stream, platform_up.endpoints, ("http://shop.test",)))
    yield s
    s.shutdown()
    s.server_close()


def _post(url: str, body: bytes, content_type: str = "application/json",
          headers: dict[str, str] | None = None) -> tuple[int, Any, Any]:  # fmt: skip
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": content_type, **(headers or {})}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, json.loads(r.read()), r.headers
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null"), e.headers


class _Reader:
    """Reads a one-shard stream from where it stood when created."""

    def __init__(self, cfg: PlatformConfig, stream: str) -> None:
        self.kinesis = cfg.endpoints.client("kinesis")
        shard = self.kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
        self.it = self.kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard, ShardIteratorType="LATEST"
        )["ShardIterator"]

    def read(self, want: int) -> list[Any]:
        found: list[Any] = []
        deadline = time.monotonic() + 60
        while len(found) < want and time.monotonic() < deadline:
            r = self.kinesis.get_records(ShardIterator=self.it)
            found += r["Records"]
            self.it = r["NextShardIterator"]
            if len(found) < want:
                time.sleep(0.2)
        return found


def test_each_kind_of_invalid_body_is_refused_with_the_contracts_reason(
    server: CollectorServer,
) -> None:
    url = server.url + c.EVENTS_PATH
    for name, doc in _mutations():
        body = json.dumps(doc).encode()
        expected = events.validate(body, time.time_ns() // 1_000_000)
        assert isinstance(expected, events.Invalid), name
        status, answer, _ = _post(url, body)
        assert status == 400, name
        assert answer["reason"] == expected.reason, name
        assert answer["field"] == expected.reason.split(":", 1)[1], name
    for body, reason in (
        (b"{", "malformed_json"), (b"[1]", "not_object"), (b"", "malformed_json"),
        (b"\xff", "invalid_utf8"), (b'{"event_id":"\\ud83d"}', "lone_surrogate"),
        (json.dumps(GOOD)[:-1].encode() + b',"user_id":"u2"}', "duplicate_key"),
    ):  # fmt: skip
        status, answer, _ = _post(url, body)
        assert (status, answer["reason"]) == (400, reason), body
    huge = {**GOOD, "props": {"blob": "x" * events.MAX_RECORD_BYTES}}
    status, answer, _ = _post(url, json.dumps(huge).encode())
    assert (status, answer["reason"]) == (400, events.RECORD_TOO_LARGE)
    status, answer, _ = _post(
        server.url + c.BATCH_PATH, json.dumps({"events": [GOOD, huge]}).encode()
    )
    assert (status, answer["reason"], answer["at"]) == (400, events.RECORD_TOO_LARGE, "events[1]")
    for stamp in events.STAMPED_FIELDS:
        status, answer, _ = _post(url, json.dumps({**GOOD, stamp: "BE"}).encode())
        assert (status, answer["reason"]) == (400, events.invalid(stamp))


def test_one_event_becomes_one_record_with_the_documented_bytes(
    platform_up: PlatformConfig, stream: str, server: CollectorServer
) -> None:
    reader = _Reader(platform_up, stream)
    event = {**GOOD, "event_id": "single-1", "props": {"sku": "westvleteren-12", "qty": 2}}
    before = time.time_ns() // 1_000_000
    status, answer, _ = _post(server.url + c.EVENTS_PATH, json.dumps(event, indent=2).encode())
    after = time.time_ns() // 1_000_000
    assert status == 200 and answer["failed"] == 0
    (record,) = reader.read(1)
    stamp = int(json.loads(record["Data"])[events.ARRIVAL_FIELD])
    assert before <= stamp <= after
    assert record["Data"] == c.record(c.event_json(event), stamp)
    assert record["PartitionKey"] == event["user_id"]
    assert answer["results"] == [
        {"sequence_number": record["SequenceNumber"], "shard_id": answer["results"][0]["shard_id"]}
    ]


def test_a_batch_is_answered_per_event_in_order(
    platform_up: PlatformConfig, stream: str, server: CollectorServer
) -> None:
    """A batch whose events pass the model is stored whole, one answer per event; an event
    only the contract's parser can refuse (a date that does not exist) is stored too, and the
    job's verdict on its record is the dead letter's reason."""
    reader = _Reader(platform_up, stream)
    batch = [{**GOOD, "event_id": f"b-{n}", "user_id": f"user-{n}"} for n in range(3)]
    batch.append({**GOOD, "event_id": "b-3", "client_timestamp": "2026-02-30T10:00:00Z"})
    status, answer, _ = _post(
        server.url + c.BATCH_PATH,
        json.dumps({"events": batch}).encode(),
        "text/plain;charset=UTF-8",
    )
    assert status == 200 and answer["failed"] == 0
    records = reader.read(4)
    assert [r["SequenceNumber"] for r in records] == [
        r["sequence_number"] for r in answer["results"]
    ]
    assert [json.loads(r["Data"])["event_id"] for r in records] == [e["event_id"] for e in batch]
    assert [r["PartitionKey"] for r in records] == [e["user_id"] for e in batch]
    verdicts = [events.validate(r["Data"], time.time_ns() // 1_000_000) for r in records]
    assert all(isinstance(v, events.ClickEvent) for v in verdicts[:3])
    assert verdicts[3] == events.Invalid(
        events.invalid("client_timestamp"), records[3]["Data"].decode()
    )


def test_a_batch_with_a_refused_event_names_it_and_stores_nothing(
    platform_up: PlatformConfig, stream: str, server: CollectorServer
) -> None:
    reader = _Reader(platform_up, stream)
    batch = [GOOD, GOOD, {**GOOD, "countrycode": "be"}]
    status, answer, _ = _post(server.url + c.BATCH_PATH, json.dumps({"events": batch}).encode())
    assert status == 400
    assert answer["at"] == "events[2]" and answer["reason"] == "invalid_field:countrycode"
    bad: Any
    for bad in ({"events": []}, {"events": [GOOD] * 501}, {"events": GOOD}, [GOOD]):
        assert _post(server.url + c.BATCH_PATH, json.dumps(bad).encode())[0] == 400
    after = {**GOOD, "event_id": "after-the-refused"}
    assert _post(server.url + c.EVENTS_PATH, json.dumps(after).encode())[0] == 200
    records = reader.read(1)
    assert [json.loads(r["Data"])["event_id"] for r in records] == [after["event_id"]]


def test_cors_for_the_configured_origins_only(server: CollectorServer) -> None:
    body = json.dumps(GOOD).encode()
    _, _, headers = _post(server.url + c.EVENTS_PATH, body, headers={"Origin": "http://shop.test"})
    assert headers["Access-Control-Allow-Origin"] == "http://shop.test"
    _, _, headers = _post(server.url + c.EVENTS_PATH, body, headers={"Origin": "http://evil.test"})
    assert "Access-Control-Allow-Origin" not in headers
    conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
    conn.request("OPTIONS", c.BATCH_PATH, headers={"Origin": "http://shop.test",
                 "Access-Control-Request-Method": "POST"})  # fmt: skip
    preflight = conn.getresponse()
    assert preflight.status == 204
    assert preflight.getheader("Access-Control-Allow-Origin") == "http://shop.test"
    assert "POST" in (preflight.getheader("Access-Control-Allow-Methods") or "")


def test_other_content_types_sizes_and_paths(server: CollectorServer) -> None:
    body = json.dumps(GOOD).encode()
    assert _post(server.url + c.EVENTS_PATH, body, "application/x-www-form-urlencoded")[0] == 415
    too_big = b" " * (c.MAX_BODY_BYTES + 1)
    assert _post(server.url + c.BATCH_PATH, too_big)[0] == 413
    assert _post(server.url + "/nope", body)[0] == 404


def test_bad_content_lengths_get_an_answer(server: CollectorServer) -> None:
    for headers, status in (({"Content-Length": "x"}, 400), ({"Content-Length": "-5"}, 400),
                            ({"Transfer-Encoding": "chunked"}, 411)):  # fmt: skip
        conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
        conn.putrequest("POST", c.EVENTS_PATH)
        conn.putheader("Content-Type", "application/json")
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.endheaders()
        assert conn.getresponse().status == status, headers
        conn.close()


def test_a_stopped_collector_stores_nothing_more_even_on_an_open_connection(
    platform_up: PlatformConfig, stream: str
) -> None:
    """The demo reads the count when it stops the collector: it must be final."""
    collector = BackgroundCollector(CollectorConfig(stream, platform_up.endpoints))
    conn = http.client.HTTPConnection("127.0.0.1", collector.server.server_address[1], timeout=10)
    body = json.dumps(GOOD).encode()
    conn.request("POST", c.EVENTS_PATH, body, {"Content-Type": "application/json"})
    first = conn.getresponse()
    first.read()
    assert first.status == 200 and first.getheader("Connection") != "close"  # kept alive
    assert collector.stop() == 1
    conn.request("POST", c.EVENTS_PATH, body, {"Content-Type": "application/json"})
    assert conn.getresponse().status == 503
    assert collector.server.accepted == 1


def test_kinesis_refusing_the_call_is_a_503_to_resend(platform_up: PlatformConfig) -> None:
    s = _serve(CollectorConfig("no-such-stream", platform_up.endpoints))
    try:
        status, answer, _ = _post(s.url + c.EVENTS_PATH, json.dumps(GOOD).encode())
        assert (status, answer) == (503, {"message": c.UNAVAILABLE_MESSAGE})
    finally:
        s.shutdown()
        s.server_close()
