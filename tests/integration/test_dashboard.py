"""The dashboard page in a real headless Chromium: its charts show what Redis holds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from augury import read_model
from localplatform import browser
from tests.integration.conftest import Api


@pytest.fixture(scope="module")
def page(api: Api) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=browser.install(), headless=True,
                                      args=list(browser.LAUNCH_ARGS))  # fmt: skip
        page = chromium.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(api.url + "/")  # redirects to /dashboard/
        page.wait_for_function("Number(document.body.dataset.rendered || 0) >= 1", timeout=20_000)
        yield page
        assert errors == [], errors
        chromium.close()


def marks(page: Any, selector: str, *attrs: str) -> list[tuple[str, ...]]:
    return [tuple(m.get_attribute(a) or "" for a in attrs) for m in page.locator(selector).all()]


def test_the_page_loads_and_says_what_it_shows(page: Any, api: Api) -> None:
    assert page.url.endswith("/dashboard/")
    assert "3 windows, 4 sessions" in page.locator("#status").inner_text()


def test_per_minute_chart_shows_each_window_s_events_users_sessions(page: Any, api: Api) -> None:
    lo, hi = (
        int(page.evaluate("document.body.dataset.from")),
        int(page.evaluate("document.body.dataset.to")),
    )
    windows = read_model.windows(api.conn, api.data.keys, lo, hi, 1000, window_ms=60_000)
    expected = {(s, str(w.start_ms), str(getattr(w, s)), str(int(w.final)))
                for w in windows for s in ("events", "users", "sessions")}  # fmt: skip
    got = set(marks(page, "#per-window circle.point", "data-series", "data-window", "data-value",
                    "data-final"))  # fmt: skip
    assert got == expected and len(got) == 9


def test_top_pages_chart_is_the_range_s_top_pages(page: Any, api: Api) -> None:
    lo, hi = (
        int(page.evaluate("document.body.dataset.from")),
        int(page.evaluate("document.body.dataset.to")),
    )
    starts = read_model.window_starts(api.conn, api.data.keys, lo, hi, 1000)
    expected = [
        (p.page_url, str(p.events))
        for p in read_model.top_pages(api.conn, api.data.keys, starts, 10)
    ]
    assert marks(page, "#top-pages rect.bar", "data-label", "data-value") == expected
    assert expected[0] == ("/home", "25")


def test_countries_chart_sums_the_windows(page: Any, api: Api) -> None:
    bars = marks(page, "#countries rect.bar", "data-label", "data-value")
    assert bars == [("US", "38"), ("DE", "25"), ("BE", "10")]  # the old window's FR is out of range


def test_session_duration_histogram_counts_redis_sessions(page: Any, api: Api) -> None:
    lo, hi = (
        int(page.evaluate("document.body.dataset.from")),
        int(page.evaluate("document.body.dataset.to")),
    )
    sessions = read_model.sessions(api.conn, api.data.keys, lo, hi, 1000)
    for lo_ms, hi_ms, value in marks(page, "#session-durations rect.bar", "data-min-ms",
                                     "data-max-ms", "data-value"):  # fmt: skip
        top = int(hi_ms) if hi_ms else 2**62
        assert int(value) == sum(1 for s in sessions if int(lo_ms) <= s.duration_ms < top)
    values = [int(v) for (v,) in marks(page, "#session-durations rect.bar", "data-value")]
    assert sum(values) == 4 and values[0] == 1  # one 5-second session


def test_totals_tiles_show_redis_totals(page: Any, api: Api) -> None:
    totals = read_model.totals(api.conn, api.data.keys)
    for name in ("accepted", "invalid", "duplicates", "bot_events", "late"):
        shown = page.locator(f'.tile[data-total="{name}"] b').inner_text()
        assert shown == str(getattr(totals, name)), name


def test_charts_follow_new_results(page: Any, api: Api) -> None:
    from flink_app.redis_sink import SinkWriter, core

    rendered = int(page.evaluate("document.body.dataset.rendered"))
    b = api.data.base
    url = "redis://{host}:{port}/{db}".format(**api.conn.connection_pool.connection_kwargs)
    with SinkWriter(url, api.data.keys, 600, streaming=True) as writer:
        writer.windows([core(b + 120_000, True, 99, 3, 0)])  # the open window becomes final
    page.wait_for_function(f"Number(document.body.dataset.rendered) > {rendered}", timeout=15_000)
    sel = f'#per-window circle.point[data-series="events"][data-window="{b + 120_000}"]'
    assert page.locator(sel).get_attribute("data-value") == "99"
    assert page.locator(sel).get_attribute("data-final") == "1"


def test_a_users_sessions_with_user_in_the_address(page: Any, api: Api) -> None:
    """``?user=ID`` (where the demo shop links its visitor) lists that user's sessions."""
    sessions = read_model.sessions(api.conn, api.data.keys, 0, 2**62, 1000)
    user = sessions[0].user_id
    expected = read_model.user_sessions(api.conn, api.data.keys, user)
    assert expected
    page.goto(f"{api.url}/dashboard/?user={quote(user, safe='')}")
    page.wait_for_function(
        "document.querySelectorAll('#user-sessions tr[data-session]').length > 0"
    )
    assert page.locator("#user-name").inner_text() == user
    rows = page.locator("#user-sessions tr[data-session]")
    assert [r.get_attribute("data-session") for r in rows.all()] == [s.session_id for s in expected]
    first = rows.first.locator("td").all_inner_texts()
    assert first[2:6] == [str(expected[0].events), expected[0].first_event,
                          expected[0].last_event, expected[0].device_id]  # fmt: skip
    page.goto(f"{api.url}/dashboard/?user=nobody-at-all")
    page.wait_for_function(
        "document.getElementById('user-sessions').innerText.includes('no closed')"
    )
    page.goto(api.url + "/dashboard/")
    assert page.locator("#user").is_hidden()
