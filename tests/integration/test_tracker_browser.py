"""The browser tracker (``tracker/augury.js``) in a real headless Chromium, real collector.

The test pages and the tracker are served by one small HTTP server, and the events go to the
real local collector (``collector.server.BackgroundCollector``) on another origin (another
port), which writes them to a fresh LocalStack Kinesis stream: the tracker's requests cross
origins as they do in production (a CORS preflight for its JSON posts, none for its text/plain
beacons; the collector allows the page's origin only), and what a test checks as stored is what
it reads back from the stream (from ``TRIM_HORIZON``). The collector's handler is subclassed to
record each request it gets (method, origin, content type, events, its answer's status) and
then handles it unchanged: a beacon's answer is seen nowhere else. For ``503`` answers the
collector is pointed at a stream that does not exist yet (it looks the stream up per call),
which the test creates when the collector is to store again. For a ``400`` it is sent an event
its model refuses. Only per-event ``error_code`` answers (a partial PutRecords failure), which
LocalStack cannot be made to give on demand, come from a capture server that answers as the
collector does (one test).

Nothing in the browser is mocked, except where a test says so (init scripts, evaluate): the Do
Not Track and Global Privacy Control switches, ``crypto.randomUUID`` taken away, storage
denied, a tab switch (Playwright keeps every page visible: microsoft/playwright#2286, so the
test overrides ``document.visibilityState`` and dispatches ``visibilitychange``), and queues
edited in ``localStorage``.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import pytest

from augury.endpoints import Endpoints
from augury.events import ARRIVAL_FIELD, ClickEvent, encode, validate
from collector.server import BackgroundCollector, CollectorConfig, _Handler
from localplatform import browser
from tests.flink.runs import kinesis_stream

TRACKER_DIR = Path(__file__).resolve().parents[2] / "tracker"
STAMPED = ("arrival_ms", "arrival_country")  # the collector's own members: never from a client
UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
LIVENESS_S = 30.0  # a bound on waiting for a condition, never a duration asserted
BACKOFF_S = 60.0 + LIVENESS_S  # the tracker's back-off reaches 60 s after many failures
BEACON_RESEND_MS = 5 * 60_000  # tracker/augury.js: a beacon older than this is not resent
T = TypeVar("T")


def wait_until(condition: Callable[[], T], what: str, timeout: float = LIVENESS_S) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        time.sleep(0.05)


# --- what the collector was sent ----------------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    content_type: str
    origin: str | None
    status: int = 0  # the answer's, once given
    events: list[dict[str, Any]] = field(default_factory=list)
    stored: list[str] = field(default_factory=list)  # the capture server's: ids answered stored


class Sent:
    """The requests a collector got, in arrival order."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[Request] = []

    def add(self, req: Request) -> None:
        with self.lock:
            self.requests.append(req)

    def posts(self) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.method == "POST"]

    def events(self) -> list[dict[str, Any]]:
        """Every event sent, in arrival order, resends included."""
        return [e for r in self.posts() for e in r.events]


def _events_of(body: bytes, path: str) -> list[dict[str, Any]]:
    try:
        doc = json.loads(body)
    except ValueError:
        return []
    if path != "/events/batch":
        return [doc] if isinstance(doc, dict) else []
    events = doc.get("events") if isinstance(doc, dict) else None
    return [e for e in events if isinstance(e, dict)] if isinstance(events, list) else []


def recording(sent: Sent) -> type[_Handler]:
    """The real collector's handler, recording each request in ``sent`` before handling it."""

    class Recording(_Handler):
        request_seen: Request | None = None

        def do_OPTIONS(self) -> None:
            self.request_seen = Request("OPTIONS", self.path, "", self.headers.get("Origin"))
            sent.add(self.request_seen)
            super().do_OPTIONS()

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            path = self.path.split("?", 1)[0]
            kind, origin = self.headers.get("Content-Type") or "", self.headers.get("Origin")
            self.request_seen = Request("POST", path, kind, origin, events=_events_of(body, path))
            sent.add(self.request_seen)
            wire, self.rfile = self.rfile, io.BytesIO(body)  # the handler reads the body again
            try:
                super().do_POST()
            finally:
                self.rfile = wire  # the connection's next request (keep-alive)

        def send_response(self, code: int, message: str | None = None) -> None:
            if self.request_seen is not None:
                self.request_seen.status = code
            super().send_response(code, message)

    return Recording


# --- what reached Kinesis -----------------------------------------------------------------------


class Stream:
    """A one-shard stream, read from ``TRIM_HORIZON``: what the collector stored, in order."""

    def __init__(self, endpoints: Endpoints, name: str) -> None:
        self.kinesis = endpoints.client("kinesis")
        self.name = name
        self.iterator: str | None = None
        self.data: list[bytes] = []

    def create(self) -> None:
        self.kinesis.create_stream(StreamName=self.name, ShardCount=1)
        self.kinesis.get_waiter("stream_exists").wait(
            StreamName=self.name, WaiterConfig={"Delay": 1}
        )

    def delete(self) -> None:
        with contextlib.suppress(self.kinesis.exceptions.ResourceNotFoundException):
            self.kinesis.delete_stream(StreamName=self.name, EnforceConsumerDeletion=True)

    def records(self) -> list[bytes]:
        """Every record so far (none while the stream does not exist)."""
        if self.iterator is None:
            try:
                (shard,) = self.kinesis.list_shards(StreamName=self.name)["Shards"]
            except self.kinesis.exceptions.ResourceNotFoundException:
                return []
            self.iterator = self.kinesis.get_shard_iterator(
                StreamName=self.name, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
        while True:
            r = self.kinesis.get_records(ShardIterator=self.iterator, Limit=10_000)
            self.iterator = r["NextShardIterator"]
            self.data += [x["Data"] for x in r["Records"]]
            if not r["Records"]:
                return list(self.data)

    def events(self) -> list[dict[str, Any]]:
        """The events stored, in arrival order (an id twice if stored twice), without the
        collector's ``arrival_ms`` stamp."""
        out = []
        for data in self.records():
            doc = json.loads(data)
            doc.pop(ARRIVAL_FIELD)
            out.append(doc)
        return out


# --- the page server (another origin) -----------------------------------------------------------

# The snippet of docs/tracker.md: a stub that queues calls made before augury.js has run.
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>tracker test</title>
<script>
  window.auguryConfig = {config};
  window.augury = window.augury || [];
  for (const m of ["track", "identify"])
    augury[m] = augury[m] || ((...a) => augury.push([m, ...a]));
  {early}
</script>
<script src="/augury.js" data-endpoint="{endpoint}" defer></script>
</head><body><a id="away" href="/plain">away</a></body></html>"""
EARLY = "augury.track('Early Bird', {n: 1}); augury.identify('user-early');"


class _PageHandler(BaseHTTPRequestHandler):
    server: PageServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        kind = "text/html; charset=utf-8"
        if path == "/augury.js":
            body, kind = (TRACKER_DIR / "augury.js").read_bytes(), "text/javascript"
        elif path.startswith("/shop/"):  # every route below /shop/ is the shop's one page
            body = (TRACKER_DIR / "shop" / "index.html").read_bytes()
        elif path.startswith("/t/"):
            config = json.dumps(self.server.config)
            early = EARLY if path.startswith("/t/early") else ""
            body = PAGE.format(config=config, endpoint=self.server.endpoint, early=early).encode()
        elif path == "/plain":
            body = b"<!doctype html><title>no tracker</title><p>elsewhere</p>"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class PageServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        self.endpoint = ""  # the collector's URL: each test has its own collector
        self.config: dict[str, Any] = {}
        super().__init__(("127.0.0.1", 0), _PageHandler)


def _url(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}"


@pytest.fixture(scope="module")
def pages() -> Iterator[PageServer]:
    server = PageServer()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


# --- a site: the pages, the real collector and its stream ---------------------------------------


@dataclass
class Servers:
    sent: Sent
    stream: Stream
    collector_url: str
    page_server: PageServer
    page_url: str

    def configure(self, **config: Any) -> None:
        """``window.auguryConfig`` of the test pages served from now on."""
        self.page_server.config = {"flushIntervalMs": 200, **config}

    def stored(self) -> list[dict[str, Any]]:
        """Every record the stream holds, in order: a resent event twice if stored twice."""
        return self.stream.events()

    def counted(self) -> list[dict[str, Any]]:
        """The events stored, each ``event_id`` once (its first record): what the job counts.
        A page left or reloaded while the answer to a fetch is on its way beacons the events
        again, so any test may see such a duplicate."""
        first: dict[str, dict[str, Any]] = {}
        for e in self.stored():
            first.setdefault(e["event_id"], e)
        return list(first.values())  # in the order of their first records

    def stored_named(self, name: str) -> list[dict[str, Any]]:
        """The events of that name counted (each ``event_id`` once)."""
        return [e for e in self.counted() if e["client_event"] == name]

    def create_stream(self) -> None:
        """Create the stream the collector writes to (``srv_down``): it stores from now on."""
        self.stream.create()


@contextlib.contextmanager
def _site(pages: PageServer, endpoints: Endpoints, stream: Stream) -> Iterator[Servers]:
    """The real collector writing to ``stream`` (existing or not) for the test pages; after
    the test, every record stored is a valid click event the collector stamped."""
    page_url = _url(pages)
    sent = Sent()
    collector = BackgroundCollector(CollectorConfig(stream.name, endpoints, (page_url,)))
    collector.server.RequestHandlerClass = recording(sent)  # before any request: none sent yet
    pages.endpoint = collector.url
    site = Servers(sent, stream, collector.url, pages, page_url)
    site.configure()
    try:
        yield site
        now_ms = int(time.time() * 1000)
        for data in stream.records():
            assert ARRIVAL_FIELD in json.loads(data), data  # the collector's stamp
            assert isinstance(validate(data, now_ms), ClickEvent), (validate(data, now_ms), data)
            assert UUID4.fullmatch(json.loads(data)["event_id"]), data
        for e in sent.events():
            assert not set(STAMPED) & set(e), e
        origins = {r.origin for r in sent.requests}
        assert origins <= {page_url}, origins  # preflights, beacons and fetches alike
    finally:
        collector.stop()


@pytest.fixture
def srv(endpoints: Endpoints, pages: PageServer) -> Iterator[Servers]:
    """The real collector on a fresh stream."""
    with (
        contextlib.contextmanager(kinesis_stream)(endpoints, "tracker") as name,
        _site(pages, endpoints, Stream(endpoints, name)) as site,
    ):
        yield site


@pytest.fixture
def srv_down(endpoints: Endpoints, pages: PageServer) -> Iterator[Servers]:
    """The real collector on a stream that does not exist yet: it answers ``503`` until the
    test calls ``create_stream()``."""
    stream = Stream(endpoints, f"tracker-down-{uuid.uuid4().hex[:8]}")
    try:
        with _site(pages, endpoints, stream) as site:
            yield site
    finally:
        stream.delete()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=browser.install(), headless=True,
                               args=list(browser.LAUNCH_ARGS))  # fmt: skip
        yield b
        b.close()


@pytest.fixture
def open_page(chromium: Any) -> Iterator[Callable[..., Any]]:
    """A new page in a new browser context (fresh storage); the page's errors fail the test."""
    contexts: list[Any] = []
    errors: list[str] = []

    def open_(init_script: str | None = None, **context_options: Any) -> Any:
        context = chromium.new_context(**context_options)
        if init_script:
            context.add_init_script(init_script)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    yield open_
    for c in contexts:
        c.close()
    assert errors == [], errors


def page_views(srv: Servers) -> list[str]:
    return [e["page_url"] for e in srv.stored_named("page_view")]


def first_stored(srv: Servers, name: str) -> dict[str, Any]:
    return wait_until(lambda: srv.stored_named(name), f"a stored {name!r} event")[0]


def ids(events: list[dict[str, Any]]) -> list[str]:
    return [e["event_id"] for e in events]


# The queues the tracker keeps in localStorage: [{t, q: [event], b: {event_id: beaconed ms}}].
QUEUES = """() => Object.keys(localStorage).filter(k => k.startsWith('augury:q:'))
    .map(k => JSON.parse(localStorage.getItem(k)))"""
# A tab switch, as the browser reports it; Playwright keeps its pages visible.
HIDE = """() => {
    Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'hidden'});
    Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});
    document.dispatchEvent(new Event('visibilitychange'));
}"""
SHOW = """() => {
    delete document.visibilityState;  // the overrides go: the browser's own values, visible
    delete document.hidden;
    document.dispatchEvent(new Event('visibilitychange'));
}"""


# --- the tests ----------------------------------------------------------------------------------


def test_page_views_on_load_and_on_spa_navigation_once_each(srv: Servers, open_page: Any) -> None:
    page = open_page(locale="nl-BE")
    page.goto(srv.page_url + "/t/home?x=1")
    wait_until(lambda: page_views(srv) == ["/t/home?x=1"], "the load's page view")
    page.evaluate("history.pushState({}, '', '/t/beers/orval?tab=2')")
    wait_until(lambda: len(page_views(srv)) == 2, "the pushState page view")
    page.evaluate("""() => {
        history.replaceState({}, '', location.href);   // the same URL: no page view
        history.pushState({}, '', '#reviews');         // the same path and query: none
    }""")
    back = (
        "() => new Promise(r => { addEventListener('popstate', r, {once: true}); history.back(); })"
    )
    page.evaluate(back)  # to /t/beers/orval?tab=2 (same path, no page view)
    page.evaluate(back)  # to /t/home?x=1: a page view
    page.evaluate("augury.track('marker')")  # queued after any page view those made
    first_stored(srv, "marker")
    assert page_views(srv) == ["/t/home?x=1", "/t/beers/orval?tab=2", "/t/home?x=1"]
    views = srv.stored_named("page_view")
    assert len(set(ids(views))) == 3
    assert {(e["device_id"], e["session_id"], e["countrycode"]) for e in views} == {
        (views[0]["device_id"], views[0]["session_id"], "BE")
    }
    assert views[0]["device_id"].startswith("web-") and UUID4.fullmatch(views[0]["device_id"][4:])
    assert views[0]["user_id"] == "anon-" + views[0]["device_id"]
    assert UUID4.fullmatch(views[0]["session_id"])
    # Cross-origin JSON posts: preflighted (CORS) from the page's origin, which the collector
    # allows (it allows no other: the posts went through, so the preflights were answered).
    preflights = [r for r in srv.sent.requests if r.method == "OPTIONS"]
    assert preflights and all(r.origin == srv.page_url for r in preflights)
    assert all(r.content_type == "application/json" for r in srv.sent.posts())
    assert all(r.path == "/events/batch" for r in srv.sent.posts())


def test_track_sends_a_custom_event_with_its_props_and_a_contract_name(
    srv: Servers, open_page: Any
) -> None:
    srv.configure(country="de")
    page = open_page(locale="fr-FR")
    page.goto(srv.page_url + "/t/beers/duvel")
    page.evaluate("augury.track('Add To Cart!', {sku: 'duvel', qty: 2, price_eur: 2.4})")
    e = first_stored(srv, "add_to_cart_")
    assert e["props"] == {"sku": "duvel", "qty": 2, "price_eur": 2.4}
    assert e["page_url"] == "/t/beers/duvel"
    assert e["countrycode"] == "DE"  # the configured country wins over the language's region
    page.evaluate("augury.track('x'.repeat(100) + '-Über')")
    long_name = first_stored(srv, "x" * 64)
    assert "props" not in long_name
    pv = first_stored(srv, "page_view")
    assert pv["session_id"] == e["session_id"] and pv["device_id"] == e["device_id"]


def test_the_device_id_persists_across_reloads_and_identify_sets_the_user_id(
    srv: Servers, open_page: Any
) -> None:
    page = open_page()
    page.goto(srv.page_url + "/t/a")
    first = first_stored(srv, "page_view")
    device = first["device_id"]
    assert first["user_id"] == f"anon-{device}"
    page.reload()
    wait_until(lambda: len(page_views(srv)) == 2, "the reload's page view")
    second = srv.stored_named("page_view")[1]
    assert (second["device_id"], second["session_id"]) == (device, first["session_id"])
    assert second["event_id"] != first["event_id"]
    page.evaluate("augury.identify('user-0042'); augury.track('signed_in')")
    assert first_stored(srv, "signed_in")["user_id"] == "user-0042"
    page.reload()  # identify is remembered
    wait_until(lambda: len(page_views(srv)) == 3, "the second reload's page view")
    assert srv.stored_named("page_view")[2]["user_id"] == "user-0042"
    page.evaluate("augury.identify(null); augury.track('signed_out')")
    assert first_stored(srv, "signed_out")["user_id"] == f"anon-{device}"
    other = open_page()  # another browser profile: another device
    other.goto(srv.page_url + "/t/a")
    wait_until(lambda: len(page_views(srv)) == 4, "the other device's page view")
    assert srv.stored_named("page_view")[3]["device_id"] != device


def test_after_503s_the_same_event_ids_are_resent(srv_down: Servers, open_page: Any) -> None:
    srv = srv_down
    page = open_page()
    page.goto(srv.page_url + "/t/retry")
    page.evaluate("augury.track('one'); augury.track('two')")

    def refused() -> list[Request]:
        return [r for r in srv.sent.posts() if r.status == 503]

    wait_until(lambda: len(refused()) >= 2, "two 503s (the stream does not exist)")
    srv.create_stream()
    names = {"page_view", "one", "two"}
    wait_until(lambda: names <= {e["client_event"] for e in srv.stored()},
               "the events stored once the stream exists", BACKOFF_S)  # fmt: skip
    first, second = refused()[:2]
    assert set(ids(first.events)) <= set(ids(second.events))  # resent, with the same ids
    sent_ids = set(ids(srv.sent.events()))
    assert len(sent_ids) == 3  # the three events, under no other id
    assert set(ids(srv.stored())) == sent_ids  # each reached the stream (perhaps twice)
    assert all(r.content_type == "application/json" for r in srv.sent.posts())  # no beacon


def test_events_the_collector_answered_with_an_error_code_are_resent_with_their_event_id(
    fake: Fake, open_page: Any
) -> None:
    page = open_page()
    page.goto(fake.page_url + "/t/partial")
    first_stored_fake(fake, "page_view")
    fake.capture.plan[:] = ["partial"]  # every second event of the next batch is not stored
    page.evaluate("for (const n of ['e0', 'e1', 'e2', 'e3']) augury.track(n); augury.flush()")
    names = ["e0", "e1", "e2", "e3"]
    wait_until(lambda: all(fake.capture.stored_named(n) for n in names), "all four stored")
    partial = next(r for r in fake.capture.posts() if len(r.events) == 4)
    assert [e["client_event"] for e in partial.events] == names
    assert [e["client_event"] for e in partial.events if e["event_id"] in partial.stored] == [
        "e0",
        "e2",
    ]
    later = [r for r in fake.capture.posts()
             if r is not partial and r.events[0]["client_event"] != "page_view"]  # fmt: skip
    resent = [e for r in later for e in r.events]
    by_name = {e["client_event"]: e for e in partial.events}
    assert ids(resent) == [by_name["e1"]["event_id"], by_name["e3"]["event_id"]]
    assert resent == [by_name["e1"], by_name["e3"]]  # the very same events, timestamps included


def test_an_event_the_collector_refuses_is_dropped_and_does_not_block_the_queue(
    srv: Servers, open_page: Any
) -> None:
    srv.configure(flushIntervalMs=3_600_000, batchSize=500)  # sent by augury.flush() only
    page = open_page()
    warnings: list[str] = []

    def on_console(message: Any) -> None:
        if message.type == "warning":
            warnings.append(message.text)

    page.on("console", on_console)
    page.goto(srv.page_url + "/t/poison")
    # The tracker makes no event the collector's model refuses; a queue another page left in
    # localStorage can hold one (written by an older tracker, or edited): a one-letter
    # countrycode. The page adopts that queue at its flush and sends it with its own events.
    page.evaluate("""() => {
        const e = {event_id: crypto.randomUUID(), user_id: 'user-1', device_id: 'web-1',
                   client_event: 'poison', client_timestamp: new Date().toISOString(),
                   countrycode: 'B', page_url: '/t/poison'};
        localStorage.setItem('augury:q:' + crypto.randomUUID(), JSON.stringify({t: 0, q: [e]}));
        augury.track('a'); augury.track('b');
        return augury.flush();
    }""")
    wait_until(lambda: srv.stored_named("a") and srv.stored_named("b"),
               "the good events beside the refused one")  # fmt: skip
    page.evaluate("augury.track('c')")
    page.evaluate("augury.flush()")
    first_stored(srv, "c")
    assert srv.stored_named("poison") == []
    assert [e["client_event"] for e in srv.stored()] == ["page_view", "a", "b", "c"]
    poison_sends = [r for r in srv.sent.posts()
                    if any(e["client_event"] == "poison" for e in r.events)]  # fmt: skip
    # The batch (the adopted queue first), then the event alone: both refused by the model.
    assert [(len(r.events), r.status) for r in poison_sends] == [(4, 400), (1, 400)]
    warning = wait_until(lambda: [w for w in warnings if "dropped" in w], "a console warning")
    assert "invalid_field:countrycode" in warning[0]  # the collector's reason


def test_page_hide_beacons_the_queue_and_keeps_it_until_a_fetch_is_answered(
    srv: Servers, open_page: Any
) -> None:
    srv.configure(flushIntervalMs=3_600_000, batchSize=500)  # nothing sent but beacons, flush()
    page = open_page()
    page.goto(srv.page_url + "/t/leaving")
    page.evaluate("augury.track('bye', {reason: 'test'})")
    page.click("#away")  # navigating away: visibilitychange to hidden and pagehide, really
    page.wait_for_url("**/plain")
    wait_until(lambda: srv.stored_named("bye"), "the beacon")
    (beacon,) = srv.sent.posts()  # one beacon: the second event finds nothing left to beacon
    assert beacon.content_type == "text/plain"  # exactly: what API Gateway maps
    assert beacon.path == "/events/batch"
    assert [e["client_event"] for e in beacon.events] == ["page_view", "bye"]
    assert [e["client_event"] for e in srv.stored()] == ["page_view", "bye"]
    # A beacon's answer is never seen: the events stay in localStorage, marked as beaconed,
    # under the key of a page that was left (t: 0).
    (left,) = page.evaluate(QUEUES)
    assert left["t"] == 0 and ids(left["q"]) == ids(beacon.events)
    assert set(left["b"]) == set(ids(beacon.events))
    # The next page of the site adopts them and resends them by fetch, with their ids; once
    # the collector has answered for them they leave the queue.
    page.goto(srv.page_url + "/t/back")
    page.evaluate("augury.flush()")
    wait_until(lambda: [e["client_event"] for e in srv.stored()].count("bye") == 2,
               "bye resent by the next page")  # fmt: skip
    resend = srv.sent.posts()[1]
    assert resend.content_type == "application/json"
    assert set(ids(beacon.events)) <= set(ids(resend.events))
    wait_until(lambda: page.evaluate(QUEUES) == [], "the queue emptied")
    assert sorted(ids(srv.stored())) == sorted(ids(beacon.events) * 2 + ids(resend.events[2:]))
    # Closing the page beacons too.
    closing = open_page()
    closing.goto(srv.page_url + "/t/closing")
    closing.evaluate("augury.track('closed')")
    closing.close(run_before_unload=True)
    wait_until(lambda: srv.stored_named("closed"), "the beacon of a closed page")
    (closed,) = [r for r in srv.sent.posts() if "closed" in {e["client_event"] for e in r.events}]
    assert closed.content_type == "text/plain"


def test_a_tab_switch_keeps_the_events_until_the_collector_stores_them(
    srv_down: Servers, open_page: Any
) -> None:
    srv = srv_down  # answers 503 until the stream exists: the beacon is lost
    srv.configure(flushIntervalMs=3_600_000, batchSize=500)  # sent by the beacon, then on show
    page = open_page()
    page.goto(srv.page_url + "/t/switch")
    page.evaluate("augury.track('a'); augury.track('b')")
    (queue,) = page.evaluate(QUEUES)
    queued = ids(queue["q"])
    assert len(queued) == 3 and queue["b"] == {}
    page.evaluate(HIDE)
    wait_until(lambda: [r.status for r in srv.sent.posts()] == [503], "the beacon, refused")
    (beacon,) = srv.sent.posts()
    assert beacon.content_type == "text/plain" and ids(beacon.events) == queued
    (queue,) = page.evaluate(QUEUES)  # kept, marked, and not free for other pages (t: now)
    assert ids(queue["q"]) == queued and set(queue["b"]) == set(queued) and queue["t"] > 0
    srv.create_stream()
    page.evaluate(SHOW)  # visible again: sent by fetch, whose answer the tracker reads
    wait_until(lambda: set(queued) <= set(ids(srv.stored())), "every event stored")
    assert all(r.content_type == "application/json" for r in srv.sent.posts()[1:])
    wait_until(lambda: page.evaluate(QUEUES) == [], "the queue emptied")
    assert sorted(ids(srv.stored())) == sorted(queued)  # once each: the beacon was lost


def test_an_event_beaconed_longer_ago_than_beacon_resend_ms_is_not_resent(
    srv_down: Servers, open_page: Any
) -> None:
    srv = srv_down  # answers 503 until the stream exists: the page's beacon is lost
    srv.configure(flushIntervalMs=3_600_000, batchSize=500)
    page = open_page()
    page.goto(srv.page_url + "/t/long-ago")
    page.evaluate("augury.track('old'); augury.track('recent')")
    page.click("#away")  # left: beaconed (answered 503), kept in localStorage, marked
    page.wait_for_url("**/plain")
    wait_until(lambda: [r.status for r in srv.sent.posts()] == [503], "the beacon, refused")
    (left,) = page.evaluate(QUEUES)
    by_name = {e["client_event"]: e["event_id"] for e in left["q"]}
    assert set(left["b"]) == set(by_name.values())
    # Time passes: 'old' was beaconed just over BEACON_RESEND_MS ago, 'recent' just under;
    # the page view no beacon took (as when sendBeacon refuses), an hour ago.
    page.evaluate(
        """([limit, old, recent, view]) => {
        const key = Object.keys(localStorage).find(k => k.startsWith('augury:q:'));
        const v = JSON.parse(localStorage.getItem(key));
        v.b[old] = Date.now() - limit - 60000;
        v.b[recent] = Date.now() - limit + 60000;
        delete v.b[view];
        v.q.find(e => e.event_id === view).client_timestamp =
            new Date(Date.now() - 3600000).toISOString();
        localStorage.setItem(key, JSON.stringify(v));
    }""",
        [BEACON_RESEND_MS, by_name["old"], by_name["recent"], by_name["page_view"]],
    )
    srv.create_stream()
    page.goto(srv.page_url + "/t/later")  # adopts the queue
    page.evaluate("augury.flush()")
    wait_until(lambda: len(srv.stored()) == 3, "the page views and 'recent'")
    wait_until(lambda: page.evaluate(QUEUES) == [], "the queue emptied")
    stored = srv.stored()
    assert [e["client_event"] for e in stored] == ["page_view", "recent", "page_view"]
    assert {by_name["page_view"], by_name["recent"]} <= set(ids(stored))
    fetched = [r for r in srv.sent.posts() if r.content_type == "application/json"]
    assert by_name["old"] not in ids([e for r in fetched for e in r.events])  # dropped, unsent


def test_events_a_beacon_could_not_take_survive_a_reload(srv: Servers, open_page: Any) -> None:
    # 24 events of about 8 KB: more than one beacon's 60 KB. Chromium refuses a beacon while
    # others hold 64 KB in flight, so only the first goes; the rest stay in localStorage.
    srv.configure(flushIntervalMs=3_600_000, batchSize=500)
    page = open_page()
    page.goto(srv.page_url + "/t/big")
    queued = page.evaluate("""() => {
        for (let i = 0; i < 24; i++) augury.track('big', {i, pad: 'x'.repeat(8000)});
        return JSON.parse(localStorage.getItem(Object.keys(localStorage)
            .find(k => k.startsWith('augury:q:')))).q.map(e => e.event_id);
    }""")
    assert len(queued) == 25
    page.reload()
    wait_until(lambda: srv.sent.posts(), "the beacon")
    beacons = [r for r in srv.sent.posts() if r.content_type == "text/plain"]
    beaconed = set(ids([e for r in beacons for e in r.events]))
    assert 0 < len(beaconed) < 25
    page.evaluate("augury.flush()")  # this page adopts what the last one left
    wait_until(lambda: set(queued) <= set(ids(srv.stored())), "all 25 events")
    bigs = srv.stored_named("big")
    assert sorted({e["props"]["i"] for e in bigs}) == list(range(24))
    assert len(set(ids(bigs))) == 24  # the beaconed ones perhaps twice, under the same id
    later = [r for r in srv.sent.posts() if r.content_type == "application/json"]
    assert set(queued) <= set(ids([e for r in later for e in r.events]))  # all resent by fetch
    views = srv.stored_named("page_view")
    assert len(set(ids(views))) == 2


@pytest.mark.parametrize("switch", [
    "Object.defineProperty(Navigator.prototype, 'doNotTrack', {get: () => '1'})",
    "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})",
], ids=["dnt", "gpc"])  # fmt: skip
def test_do_not_track_sends_nothing(srv: Servers, open_page: Any, switch: str) -> None:
    page = open_page(init_script=switch)
    page.goto(srv.page_url + "/t/private")
    page.evaluate("augury.track('secret'); augury.identify('user-1')")
    page.evaluate("augury.flush()")
    stored = page.evaluate("Object.keys(localStorage).concat(Object.keys(sessionStorage))")
    assert stored == []
    page.click("#away")  # page hide: no beacon either
    page.wait_for_url("**/plain")
    # A page without the switch, loaded after: its events arrive, and only its events.
    control = open_page()
    control.goto(srv.page_url + "/t/public")
    control.evaluate("augury.track('public'); augury.flush()")
    first_stored(srv, "public")
    assert {e["page_url"] for e in srv.sent.events()} == {"/t/public"}
    assert {e["page_url"] for e in srv.stored()} == {"/t/public"}
    # Told not to respect it, the tracker sends.
    srv.configure(respectDoNotTrack=False)
    page.goto(srv.page_url + "/t/ignored")
    wait_until(lambda: "/t/ignored" in page_views(srv), "the page view of a tracker told so")


def test_event_ids_are_uuid_v4_without_crypto_random_uuid(srv: Servers, open_page: Any) -> None:
    page = open_page(init_script="delete Crypto.prototype.randomUUID")
    page.goto(srv.page_url + "/t/old-browser")
    assert page.evaluate("typeof crypto.randomUUID") == "undefined"
    page.evaluate("for (let i = 0; i < 5; i++) augury.track('n')")
    wait_until(lambda: len(srv.stored_named("n")) == 5, "five events")
    stored = ids(srv.stored())
    assert len(set(stored)) == 6 and all(UUID4.fullmatch(i) for i in stored)


def test_the_demo_shop_sends_its_funnel(srv: Servers, open_page: Any) -> None:
    page = open_page(locale="nl-BE")
    page.goto(f"{srv.page_url}/shop/?endpoint={srv.collector_url}")
    assert page.evaluate("location.pathname + location.search") == "/shop/"  # no endpoint in it
    wait_until(lambda: page_views(srv) == ["/shop/"], "the shop's page view")
    page.click('.card[data-sku="orval"] a')
    view = first_stored(srv, "product_view")
    assert view["props"] == {"sku": "orval", "price_eur": 3.2}
    assert view["page_url"] == "/shop/p/orval"
    page.click('button[data-action="add"]')
    page.click('button[data-action="add"]')
    wait_until(lambda: len(srv.stored_named("add_to_cart")) == 2, "two add_to_cart")
    add = srv.stored_named("add_to_cart")[1]
    assert add["props"] == {"sku": "orval", "qty": 1, "price_eur": 3.2, "cart_items": 2}
    page.click("#cart-link")
    page.click('button[data-action="checkout"]')
    assert first_stored(srv, "checkout")["props"] == {"items": 2, "total_eur": 6.4}
    page.click("#login")
    page.click('button[data-action="purchase"]')
    purchase = first_stored(srv, "purchase")
    assert purchase["props"]["total_eur"] == 6.4 and purchase["props"]["skus"] == ["orval"]
    assert purchase["user_id"].startswith("shopper-")
    assert purchase["countrycode"] == "BE"
    page.reload()  # a route below /shop/ reloads as the same page, its endpoint remembered
    wait_until(lambda: page_views(srv)[-1:] == ["/shop/thanks"] and len(page_views(srv)) == 6,
               "the reload's page view")  # fmt: skip
    assert page_views(srv) == ["/shop/", "/shop/p/orval", "/shop/cart", "/shop/checkout",
                               "/shop/thanks", "/shop/thanks"]  # fmt: skip

    def duvel() -> list[dict[str, Any]]:
        return [e for e in srv.counted() if e["page_url"] == "/shop/p/duvel"]

    page.goto(srv.page_url + "/shop/p/duvel")  # loaded directly: tracked before augury.js ran
    wait_until(lambda: len(duvel()) == 2, "the direct product page's two events")
    assert [e["client_event"] for e in duvel()] == ["page_view", "product_view"]


def test_without_storage_the_tracker_keeps_its_state_in_memory(
    srv: Servers, open_page: Any
) -> None:
    page = open_page(init_script="""for (const name of ['localStorage', 'sessionStorage']) {
        const denied = () => { throw new DOMException('denied', 'SecurityError'); };
        Object.defineProperty(window, name, {get: denied});
    }""")  # fmt: skip
    page.goto(srv.page_url + "/t/sandboxed")
    probe = "() => { try { return !localStorage; } catch (e) { return 'denied'; } }"
    assert page.evaluate(probe) == "denied"
    page.evaluate("augury.identify('🍺'.repeat(200)); augury.track('still_counted')")
    e = first_stored(srv, "still_counted")
    assert e["user_id"] == "🍺" * 128  # cut to 128 code points, never half a pair
    page.reload()  # nothing persisted: a new device id
    wait_until(lambda: len(page_views(srv)) == 2, "the reload's page view")
    first, second = srv.stored_named("page_view")
    assert first["device_id"] != second["device_id"]


def test_calls_made_before_the_tracker_ran_are_replayed_after_the_page_view(
    srv: Servers, open_page: Any
) -> None:
    page = open_page()
    page.goto(srv.page_url + "/t/early")
    early = first_stored(srv, "early_bird")
    assert early["props"] == {"n": 1}
    view = first_stored(srv, "page_view")
    assert view["user_id"] == early["user_id"] == "user-early"  # identify replayed first
    names = [e["client_event"] for e in srv.stored()]
    assert names == ["page_view", "early_bird"]


# --- the capture server: per-event error_code answers -------------------------------------------
# The real collector gives an ``error_code`` for an event when PutRecords fails for that record
# only (a shard over its throughput). LocalStack cannot be made to do that on demand (its error
# injection is a setting of the whole service, at its start), so this one case is answered by a
# server that answers as the collector does: 200, one result per event, every second event of
# the planned batch with ``error_code`` instead of ``sequence_number``.


class Capture(Sent):
    """What the fake collector was sent, and how it is to answer the next requests."""

    def __init__(self) -> None:
        super().__init__()
        self.plan: list[str] = []  # answers for the next POSTs: "partial" (else all stored)

    def stored(self) -> list[dict[str, Any]]:
        """The events answered as stored, in arrival order (an id twice if stored twice)."""
        out = []
        for r in self.posts():
            answered = set(r.stored)
            out += [e for e in r.events if e["event_id"] in answered]
        return out

    def stored_named(self, name: str) -> list[dict[str, Any]]:
        return [e for e in self.stored() if e["client_event"] == name]

    def answer(self, req: Request) -> dict[str, Any]:
        with self.lock:
            self.requests.append(req)
            plan = self.plan.pop(0) if self.plan else "ok"
            results: list[dict[str, str]] = []
            for i, e in enumerate(req.events):
                if plan == "partial" and i % 2 == 1:
                    results.append({"error_code": "ProvisionedThroughputExceededException",
                                    "error_message": "Rate exceeded for shard"})  # fmt: skip
                else:
                    results.append({"sequence_number": str(len(self.requests) * 1000 + i),
                                    "shard_id": "shardId-000000000000"})  # fmt: skip
                    req.stored.append(e["event_id"])
            req.status = 200
            failed = sum(1 for r in results if "error_code" in r)
            return {"failed": failed, "results": results}


class _CaptureHandler(BaseHTTPRequestHandler):
    server: CaptureServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _cors(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")

    def do_OPTIONS(self) -> None:
        self.server.capture.add(Request("OPTIONS", self.path, "", self.headers.get("Origin")))
        self.send_response(204)
        self._cors()
        self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "Content-Type")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        req = Request("POST", self.path, self.headers.get("Content-Type") or "",
                      self.headers.get("Origin"), events=_events_of(body, self.path))  # fmt: skip
        answer = json.dumps(self.server.capture.answer(req)).encode()
        self.send_response(200)
        self._cors()
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(answer)


class CaptureServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        self.capture = Capture()
        super().__init__(("127.0.0.1", 0), _CaptureHandler)


@dataclass
class Fake:
    capture: Capture
    page_url: str


@pytest.fixture
def fake(pages: PageServer) -> Iterator[Fake]:
    """The capture server for the test pages; after the test, every event sent was valid."""
    server = CaptureServer()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    pages.endpoint = _url(server)
    pages.config = {"flushIntervalMs": 200}
    try:
        yield Fake(server.capture, _url(pages))
        now_ms = int(time.time() * 1000)
        for e in server.capture.events():
            assert not set(STAMPED) & set(e), e
            assert isinstance(validate(encode(e), now_ms), ClickEvent), e
            assert UUID4.fullmatch(e["event_id"]), e
        assert {r.origin for r in server.capture.requests} <= {_url(pages)}
    finally:
        server.shutdown()
        server.server_close()


def first_stored_fake(fake: Fake, name: str) -> dict[str, Any]:
    return wait_until(lambda: fake.capture.stored_named(name), f"a stored {name!r} event")[0]
