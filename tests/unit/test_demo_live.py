"""The demo's terminal view renders the Redis contract's windows, sessions and totals."""

from __future__ import annotations

from rich.console import Console

from augury.read_model import PageCount, Totals, parse_session, parse_window
from augury.settings import PIPELINE_DEFAULTS, PipelineSettings
from demo.live import Snapshot, render

START = 1_795_464_000_000
WINDOW = {"events": "42", "users": "7", "sessions": "3", "bot_events": "11", "final": "1",
          "cc:US": "30", "cc:BE": "12", "updated_ms": str(START + 62_500)}  # fmt: skip
PAGES = [PageCount("/home", 20), PageCount("/cart", 5)]
SESSION = {"user_id": "user-1", "device_id": "phone-1", "start_ms": str(START),
           "duration_ms": "61000", "events": "4", "first_event": "page_view",
           "last_event": "purchase", "countrycode": "US"}  # fmt: skip
TOTALS = Totals(accepted=42, invalid=2, late=1, bot_events=11, duplicates=3)


def _text(snap: Snapshot) -> str:
    console = Console(record=True, width=200)
    console.print(render(snap, "header"))
    return console.export_text()


def test_windows_sessions_totals_and_freshness_are_shown() -> None:
    window = parse_window(START, WINDOW, window_ms=60_000)
    snap = Snapshot(START + 65_000, PIPELINE_DEFAULTS, [window], {START: PAGES},
                    [parse_session("s", SESSION)], TOTALS)  # fmt: skip
    text = _text(snap)
    expected = ["final", "42", "/home 20", "US 30, BE 12", "user-1", "61s", "purchase"]
    expected += ["late 1", "duplicates 3", "2.5s ago"]
    for part in expected:
        assert part in text, part


def test_an_empty_store_says_so() -> None:
    snap = Snapshot(taken_ms=0, settings=PIPELINE_DEFAULTS)
    assert snap.freshness_s is None
    assert "not yet" in _text(snap)


def test_thirty_second_windows_are_named_and_labelled_to_the_second() -> None:
    thirty = PipelineSettings.from_env({"AUGURY_WINDOW_SECONDS": "30"})
    window = parse_window(START + 30_000, WINDOW, window_ms=thirty.window_ms)
    text = _text(Snapshot(START + 65_000, thirty, [window], {}, [], TOTALS))
    assert "30-second windows" in text and "20:00:30" in text
    assert "One-minute windows" in _text(Snapshot(0, PIPELINE_DEFAULTS))


def test_the_shop_visitors_sessions_have_their_own_table() -> None:
    """Clicks from the demo shop: their sessions are shown even when generator traffic buries
    them under newer ones; before one closes, the table says when it will."""
    shopper = parse_session("s2", {**SESSION, "user_id": "anon-web-42", "device_id": "web-42"})
    snap = Snapshot(START, PIPELINE_DEFAULTS, shop_users=1, shop_sessions=[shopper])
    text = _text(snap)
    assert "Your sessions" in text and "anon-web-42" in text and "web-42" in text
    waiting = _text(Snapshot(START, PIPELINE_DEFAULTS, shop_users=2))
    assert "2 visitor(s) clicking; a session shows 60 s after its last click" in waiting
    assert "Your sessions" not in _text(Snapshot(START, PIPELINE_DEFAULTS))
