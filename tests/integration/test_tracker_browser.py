"""The browser tracker (``tracker/augury.js``) in a real headless Chromium.

The test pages and the tracker are served by one small HTTP server, and the events go to a
capture server on another origin (another port), so the tracker's requests cross origins as
they do in production: a CORS preflight for its JSON posts, none for its text/plain beacons.
The capture server answers as the collector does and records every request; it can be told
to answer the next requests with a 503, with per-event ``error_code`` entries, or with a 400
for a batch holding a given event. Nothing in the browser is mocked, except where a test says
so (init scripts): the Do Not Track and Global Privacy Control switches, ``crypto.randomUUID``
taken away, and storage denied.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import pytest

from augury.events import ClickEvent, encode, validate
from localplatform import browser

TRACKER_DIR = Path(__file__).resolve().parents[2] / "tracker"
STAMPED = ("arrival_ms", "arrival_country")  # the collector's own members: never from a client
UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
LIVENESS_S = 30.0  # a bound on waiting for a condition, never a duration asserted
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


# --- the capture server (the collector's API) ---------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    content_type: str
    origin: str | None
    status: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)
    stored: list[str] = field(default_factory=list)  # event ids answered as stored


class Capture:
    """What the collector was sent, and how it is to answer the next requests."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[Request] = []
        self.plan: list[str] = []  # answers for the next POSTs: "503" or "partial"
        self.refuse: str | None = None  # a 400 for any batch holding an event of this name
        self.allow_origin = "*"

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.plan.clear()
            self.refuse = None

    def posts(self) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.method == "POST"]

    def events(self) -> list[dict[str, Any]]:
        """Every event sent, in arrival order, resends included."""
        return [e for r in self.posts() for e in r.events]

    def stored(self) -> list[dict[str, Any]]:
        """The events answered as stored, in arrival order (an id twice if stored twice)."""
        out = []
        for r in self.posts():
            ids = set(r.stored)
            out += [e for e in r.events if e["event_id"] in ids]
        return out

    def stored_named(self, name: str) -> list[dict[str, Any]]:
        return [e for e in self.stored() if e["client_event"] == name]

    def answer(self, req: Request) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.requests.append(req)
            if self.refuse is not None and any(
                e.get("client_event") == self.refuse for e in req.events
            ):
                req.status = 400
                return 400, {"message": f"events[?]: invalid_field:client_event ({self.refuse})"}
            plan = self.plan.pop(0) if self.plan else "ok"
            if plan == "503":
                req.status = 503
                return 503, {"message": "the stream refused the call; resend the events later"}
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
            return 200, {"failed": failed, "results": results}


class _CollectorHandler(BaseHTTPRequestHandler):
    server: CaptureServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, doc: dict[str, Any] | None) -> None:
        body = b"" if doc is None else json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Access-Control-Allow-Origin", self.server.capture.allow_origin)
        if doc is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)  # a beacon's page may be gone: nobody reads the answer

    def do_OPTIONS(self) -> None:
        req = Request("OPTIONS", self.path, "", self.headers.get("Origin"), 204)
        with self.server.capture.lock:
            self.server.capture.requests.append(req)
        self.send_response(204)
        self.send_header("Access-Control-Allow-Origin", self.server.capture.allow_origin)
        self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "Content-Type")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        doc = json.loads(body)
        events = doc["events"] if self.path == "/events/batch" else [doc]
        req = Request("POST", self.path, self.headers.get("Content-Type") or "",
                      self.headers.get("Origin"), events=events)  # fmt: skip
        status, answer = self.server.capture.answer(req)
        self._send(status, answer)


class CaptureServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        self.capture = Capture()
        super().__init__(("127.0.0.1", 0), _CollectorHandler)


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

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.config: dict[str, Any] = {}
        super().__init__(("127.0.0.1", 0), _PageHandler)


def _url(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}"


@dataclass
class Servers:
    capture: Capture
    collector_url: str
    page_server: PageServer
    page_url: str

    def configure(self, **config: Any) -> None:
        """``window.auguryConfig`` of the test pages served from now on."""
        self.page_server.config = {"flushIntervalMs": 200, **config}


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    collector = CaptureServer()
    pages = PageServer(_url(collector))
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in (collector, pages)]
    for t in threads:
        t.start()
    yield Servers(collector.capture, _url(collector), pages, _url(pages))
    for s in (collector, pages):
        s.shutdown()
        s.server_close()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=browser.install(), headless=True,
                               args=list(browser.LAUNCH_ARGS))  # fmt: skip
        yield b
        b.close()


@pytest.fixture
def srv(servers: Servers) -> Iterator[Servers]:
    """The servers, reset; after the test, every event sent was a valid click event."""
    servers.capture.reset()
    servers.configure()
    yield servers
    now_ms = int(time.time() * 1000)
    for e in servers.capture.events():
        assert not set(STAMPED) & set(e), e
        assert isinstance(validate(encode(e), now_ms), ClickEvent), (validate(encode(e), now_ms), e)
        assert UUID4.fullmatch(e["event_id"]), e
    origins = {r.origin for r in servers.capture.requests if r.method == "POST"}
    assert origins <= {servers.page_url}, origins  # beacons and fetches alike


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
    return [e["page_url"] for e in srv.capture.stored_named("page_view")]


def first_stored(srv: Servers, name: str) -> dict[str, Any]:
    return wait_until(lambda: srv.capture.stored_named(name), f"a stored {name!r} event")[0]


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
    views = srv.capture.stored_named("page_view")
    assert len({e["event_id"] for e in views}) == 3
    assert {(e["device_id"], e["session_id"], e["countrycode"]) for e in views} == {
        (views[0]["device_id"], views[0]["session_id"], "BE")
    }
    assert views[0]["device_id"].startswith("web-") and UUID4.fullmatch(views[0]["device_id"][4:])
    assert views[0]["user_id"] == "anon-" + views[0]["device_id"]
    assert UUID4.fullmatch(views[0]["session_id"])
    # Cross-origin JSON posts: preflighted (CORS) from the page's origin.
    preflights = [r for r in srv.capture.requests if r.method == "OPTIONS"]
    assert preflights and all(r.origin == srv.page_url for r in preflights)
    assert all(r.content_type == "application/json" for r in srv.capture.posts())
    assert all(r.path == "/events/batch" for r in srv.capture.posts())


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
    second = srv.capture.stored_named("page_view")[1]
    assert (second["device_id"], second["session_id"]) == (device, first["session_id"])
    assert second["event_id"] != first["event_id"]
    page.evaluate("augury.identify('user-0042'); augury.track('signed_in')")
    assert first_stored(srv, "signed_in")["user_id"] == "user-0042"
    page.reload()  # identify is remembered
    wait_until(lambda: len(page_views(srv)) == 3, "the second reload's page view")
    assert srv.capture.stored_named("page_view")[2]["user_id"] == "user-0042"
    page.evaluate("augury.identify(null); augury.track('signed_out')")
    assert first_stored(srv, "signed_out")["user_id"] == f"anon-{device}"
    other = open_page()  # another browser profile: another device
    other.goto(srv.page_url + "/t/a")
    wait_until(lambda: len(page_views(srv)) == 4, "the other device's page view")
    assert srv.capture.stored_named("page_view")[3]["device_id"] != device


def test_after_a_503_the_same_event_ids_are_resent(srv: Servers, open_page: Any) -> None:
    srv.capture.plan[:] = ["503", "503"]
    page = open_page()
    page.goto(srv.page_url + "/t/retry")
    page.evaluate("augury.track('one'); augury.track('two')")
    names = {"page_view", "one", "two"}
    wait_until(lambda: names <= {e["client_event"] for e in srv.capture.stored()},
               "the events stored after two 503s")  # fmt: skip
    refused = [r for r in srv.capture.posts() if r.status == 503]
    assert len(refused) == 2
    first_ids = {e["event_id"] for e in refused[0].events}
    assert first_ids <= {e["event_id"] for e in refused[1].events}
    stored_ids = [e["event_id"] for e in srv.capture.stored()]
    assert first_ids <= set(stored_ids)
    assert len(stored_ids) == len(set(stored_ids)) == 3  # each stored once, no new ids


def test_events_the_collector_answered_with_an_error_code_are_resent_with_their_event_id(
    srv: Servers, open_page: Any
) -> None:
    page = open_page()
    page.goto(srv.page_url + "/t/partial")
    first_stored(srv, "page_view")
    srv.capture.plan[:] = ["partial"]  # every second event of the next batch is not stored
    page.evaluate("for (const n of ['e0', 'e1', 'e2', 'e3']) augury.track(n); augury.flush()")
    names = ["e0", "e1", "e2", "e3"]
    wait_until(lambda: all(srv.capture.stored_named(n) for n in names), "all four stored")
    partial = next(r for r in srv.capture.posts() if len(r.events) == 4)
    assert [e["client_event"] for e in partial.events] == names
    assert [e["client_event"] for e in partial.events if e["event_id"] in partial.stored] == [
        "e0",
        "e2",
    ]
    later = [r for r in srv.capture.posts()
             if r is not partial and r.events[0]["client_event"] != "page_view"]  # fmt: skip
    resent = [e for r in later for e in r.events]
    by_name = {e["client_event"]: e for e in partial.events}
    assert [e["event_id"] for e in resent] == [by_name["e1"]["event_id"], by_name["e3"]["event_id"]]
    assert resent == [by_name["e1"], by_name["e3"]]  # the very same events, timestamps included


def test_an_event_the_collector_refuses_is_dropped_and_does_not_block_the_queue(
    srv: Servers, open_page: Any
) -> None:
    page = open_page()
    warnings: list[str] = []

    def on_console(message: Any) -> None:
        if message.type == "warning":
            warnings.append(message.text)

    page.on("console", on_console)
    page.goto(srv.page_url + "/t/poison")
    first_stored(srv, "page_view")
    srv.capture.refuse = "poison"
    page.evaluate("augury.track('a'); augury.track('poison'); augury.track('b'); augury.flush()")
    wait_until(lambda: srv.capture.stored_named("a") and srv.capture.stored_named("b"),
               "the good events beside the refused one")  # fmt: skip
    page.evaluate("augury.track('c')")
    first_stored(srv, "c")
    assert srv.capture.stored_named("poison") == []
    poison_sends = [r for r in srv.capture.posts()
                    if any(e["client_event"] == "poison" for e in r.events)]  # fmt: skip
    assert [len(r.events) for r in poison_sends] == [3, 1]  # the batch, then the event alone
    wait_until(lambda: any("dropped" in w for w in warnings), "a console warning")


def test_page_hide_hands_the_queue_to_send_beacon(srv: Servers, open_page: Any) -> None:
    srv.configure(flushIntervalMs=3_600_000, batchSize=500)  # nothing is sent but by the beacon
    page = open_page()
    page.goto(srv.page_url + "/t/leaving")
    page.evaluate("augury.track('bye', {reason: 'test'})")
    page.click("#away")  # navigating away: visibilitychange to hidden, pagehide
    page.wait_for_url("**/plain")
    wait_until(lambda: srv.capture.stored_named("bye"), "the beacon")
    (beacon,) = srv.capture.posts()
    assert beacon.content_type.lower() == "text/plain"  # exactly: what API Gateway maps
    assert beacon.path == "/events/batch"
    assert [e["client_event"] for e in beacon.events] == ["page_view", "bye"]
    # Closing the page hands it over too.
    closing = open_page()
    closing.goto(srv.page_url + "/t/closing")
    closing.evaluate("augury.track('closed')")
    closing.close(run_before_unload=True)
    wait_until(lambda: srv.capture.stored_named("closed"), "the beacon of a closed page")
    assert srv.capture.posts()[-1].content_type.lower() == "text/plain"


def test_events_a_beacon_could_not_take_survive_a_reload(srv: Servers, open_page: Any) -> None:
    # 24 events of about 8 KB: more than one beacon's 60 KB. Chromium refuses a beacon while
    # others hold 64 KB in flight, so only the first goes; the rest stay in localStorage.
    srv.configure(flushIntervalMs=3_600_000, batchSize=500)
    page = open_page()
    page.goto(srv.page_url + "/t/big")
    ids = page.evaluate("""() => {
        for (let i = 0; i < 24; i++) augury.track('big', {i, pad: 'x'.repeat(8000)});
        return 24;
    }""")
    assert ids == 24
    page.reload()
    wait_until(lambda: srv.capture.posts(), "the beacon")
    beaconed = {e["event_id"] for e in srv.capture.posts()[0].events}
    assert 0 < len(beaconed) < 25
    page.evaluate("augury.flush()")  # this page adopts what the last one left
    wait_until(lambda: len(srv.capture.stored_named("big")) == 24, "all 24 big events")
    bigs = srv.capture.stored_named("big")
    assert sorted(e["props"]["i"] for e in bigs) == list(range(24))  # each once
    views = srv.capture.stored_named("page_view")
    assert len(views) == 2 and len({e["event_id"] for e in views}) == 2
    later = srv.capture.posts()[1:]
    assert not beaconed & {e["event_id"] for r in later for e in r.events}  # not sent again
    assert any(r.content_type == "application/json" and r.events[0]["client_event"] == "big"
               for r in later)  # fmt: skip


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
    assert {e["page_url"] for e in srv.capture.events()} == {"/t/public"}
    # Told not to respect it, the tracker sends.
    srv.configure(respectDoNotTrack=False)
    page.goto(srv.page_url + "/t/ignored")
    wait_until(lambda: "/t/ignored" in page_views(srv), "the page view of a tracker told so")


def test_event_ids_are_uuid_v4_without_crypto_random_uuid(srv: Servers, open_page: Any) -> None:
    page = open_page(init_script="delete Crypto.prototype.randomUUID")
    page.goto(srv.page_url + "/t/old-browser")
    assert page.evaluate("typeof crypto.randomUUID") == "undefined"
    page.evaluate("for (let i = 0; i < 5; i++) augury.track('n')")
    wait_until(lambda: len(srv.capture.stored_named("n")) == 5, "five events")
    ids = [e["event_id"] for e in srv.capture.stored()]
    assert len(set(ids)) == 6 and all(UUID4.fullmatch(i) for i in ids)


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
    wait_until(lambda: len(srv.capture.stored_named("add_to_cart")) == 2, "two add_to_cart")
    add = srv.capture.stored_named("add_to_cart")[1]
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
        return [e for e in srv.capture.stored() if e["page_url"] == "/shop/p/duvel"]

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
    first, second = srv.capture.stored_named("page_view")
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
    names = [e["client_event"] for e in srv.capture.stored()]
    assert names == ["page_view", "early_bird"]
