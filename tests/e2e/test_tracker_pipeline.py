"""The browser tracker in real Chromium -> the local collector -> Kinesis -> the streaming job.

A page on its own origin loads ``/augury.js`` from the collector (CORS), sends page views and a
custom event; the records land in a fresh LocalStack stream stamped with their arrival; a real
``python -m flink_app run`` sessionizes them into Redis. Then the same batch is resent: it
counts once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import redis

from augury import collector as c
from augury import env as env_names
from augury import events
from augury.redis_keys import Keys
from collector.server import BackgroundCollector, CollectorConfig
from localplatform import browser
from localplatform.config import PlatformConfig
from tests.flink.runs import kinesis_stream, totals_of

ROOT = Path(__file__).resolve().parents[2]
GAP_S = 3
PAGE = """<!doctype html><html><head><title>tracker test</title></head><body>
<p>a page on its own origin</p>
<script src="{collector}/augury.js" data-endpoint="{collector}" data-country="BE"
        data-flush-interval-ms="200" data-respect-do-not-track="false"></script>
</body></html>"""


@pytest.fixture(scope="module")
def stream(platform_up: PlatformConfig) -> Iterator[str]:
    yield from kinesis_stream(platform_up.endpoints, "tracker")


@pytest.fixture(scope="module")
def collector(platform_up: PlatformConfig, stream: str) -> Iterator[BackgroundCollector]:
    served = BackgroundCollector(CollectorConfig(stream, platform_up.endpoints))
    yield served
    served.stop()


@pytest.fixture(scope="module")
def site(collector: BackgroundCollector) -> Iterator[str]:
    """A web page on another origin than the collector's, carrying the tracker."""
    body = PAGE.format(collector=collector.url).encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://localhost:{server.server_address[1]}"  # another origin: localhost vs 127.0.0.1
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def job(platform_up: PlatformConfig, stream: str, tmp_path_factory: pytest.TempPathFactory,
        ) -> Iterator[tuple[Keys, Path]]:  # fmt: skip
    """The streaming job on the stream, with a short session gap and its own key prefix."""
    root = tmp_path_factory.mktemp("tracker-job")
    keys = Keys(f"trk{uuid.uuid4().hex[:6]}:")
    env = {
        **env_names.for_child_process(os.environ),
        env_names.SESSION_GAP_SECONDS: str(GAP_S),
        env_names.WATERMARK_DELAY_SECONDS: "1",
        env_names.REDIS_KEY_PREFIX: keys.prefix,
    }
    cmd = [
        sys.executable, "-m", "flink_app", "run", "--stream", stream,
        "--start-position", "TRIM_HORIZON", "--redis-url", platform_up.endpoints.redis_url,
        "--dead-letter", str(root / "dead"), "--checkpoint-dir", str(root / "chk"),
        "--set", "job.checkpoint.interval.seconds=2",
        "--set", f"source.aws.endpoint={platform_up.endpoints.localstack_url}",
    ]  # fmt: skip
    log = root / "job.log"
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip
    yield keys, log
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def _records(platform_up: PlatformConfig, stream: str, want: int) -> list[Any]:
    kinesis = platform_up.endpoints.client("kinesis")
    shard = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    it = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard,
                                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]  # fmt: skip
    found: list[Any] = []
    deadline = time.monotonic() + 120
    while len(found) < want and time.monotonic() < deadline:
        r = kinesis.get_records(ShardIterator=it)
        found += r["Records"]
        it = r["NextShardIterator"]
        time.sleep(0.3)
    return found


def _wait(what: str, ok: Callable[[], bool], log: Path, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ok():
            return
        time.sleep(1)
    pytest.fail(f"timed out waiting for {what}; job log:\n{log.read_text()[-3000:]}")


def _post_batch(url: str, batch: list[dict[str, Any]]) -> dict[str, Any]:
    import urllib.request

    request = urllib.request.Request(
        url + c.BATCH_PATH, data=json.dumps({"events": batch}).encode(),
        headers={"Content-Type": "application/json"}, method="POST",
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as r:
        answer: dict[str, Any] = json.loads(r.read())
    return answer


def test_a_browser_session_reaches_redis_and_a_resend_counts_once(
    platform_up: PlatformConfig, stream: str, collector: BackgroundCollector, site: str,
    job: tuple[Keys, Path],
) -> None:  # fmt: skip
    from playwright.sync_api import sync_playwright

    keys, log = job
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=browser.install(), headless=True,
                                      args=list(browser.LAUNCH_ARGS))  # fmt: skip
        page = chromium.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(site + "/shop/")
        page.wait_for_function("window.augury && window.augury.version")
        page.evaluate("history.pushState({}, '', '/shop/p/westvleteren-12?ref=home')")
        page.evaluate("augury.track('add_to_cart', {sku: 'westvleteren-12', qty: 2})")
        # The tracker sends on its own (every 200 ms here): the page stays open until it has.
        records = _records(platform_up, stream, 3)
        chromium.close()
    assert errors == []

    # In Kinesis: three records, stamped with their arrival, keyed by the user id.
    docs = [json.loads(r["Data"]) for r in records]
    assert [(d["client_event"], d.get("page_url")) for d in docs] == [
        ("page_view", "/shop/"),
        ("page_view", "/shop/p/westvleteren-12?ref=home"),
        ("add_to_cart", "/shop/p/westvleteren-12?ref=home"),
    ]
    assert docs[2]["props"] == {"sku": "westvleteren-12", "qty": 2}
    device, user = docs[0]["device_id"], docs[0]["user_id"]
    assert all((d["device_id"], d["user_id"]) == (device, user) for d in docs)
    assert [r["PartitionKey"] for r in records] == [user] * 3
    for r in records:
        verdict = events.validate(
            r["Data"], int(r["ApproximateArrivalTimestamp"].timestamp() * 1000)
        )
        assert isinstance(verdict, events.ClickEvent) and verdict.arrival_ms is not None
        assert verdict.countrycode == "BE"

    # The same batch again, as a tracker's retry would send it: stored, then dropped as duplicates.
    resend = [{k: v for k, v in d.items() if k not in events.STAMPED_FIELDS} for d in docs]
    assert _post_batch(collector.url, resend)["failed"] == 0

    # Another visitor a session gap later moves event time on: the browser's session closes.
    time.sleep(GAP_S + 2)
    closer = {**resend[0], "event_id": str(uuid.uuid4()), "user_id": "closer",
              "device_id": "closer", "client_timestamp": events.format_timestamp(
                  time.time_ns() // 1_000_000)}  # fmt: skip
    assert _post_batch(collector.url, [closer])["failed"] == 0

    conn = redis.Redis.from_url(platform_up.endpoints.redis_url, decode_responses=True)
    _wait("the browser's session in Redis", lambda: conn.zcard(keys.user_sessions(user)) > 0, log)
    (sid,) = conn.zrange(keys.user_sessions(user), 0, -1)
    session = conn.hgetall(keys.session(str(sid)))
    assert session["device_id"] == device
    assert (session["events"], session["first_event"], session["last_event"]) == (
        "3", "page_view", "add_to_cart",
    )  # fmt: skip
    _wait(
        "the resend counted as duplicates",
        lambda: totals_of(conn, keys).get("duplicates") == "3",
        log,
    )
    assert totals_of(conn, keys)["accepted"] in ("3", "4")  # 4 once the closer is classified
