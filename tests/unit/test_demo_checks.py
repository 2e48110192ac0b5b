"""The demo's final-result timing check (pure)."""

from __future__ import annotations

from augury.read_model import Window, parse_window
from demo.checks import final_timings


def _w(start: int, final_ms: int | None) -> Window:
    fields = {"events": "1", "final": "1" if final_ms else "0", "updated_ms": "1"}
    if final_ms:
        fields["final_ms"] = str(final_ms)
    return parse_window(start, fields, window_ms=60_000)


def test_windows_closed_by_traffic_by_the_marker_and_never() -> None:
    windows = [_w(0, 66_000), _w(60_000, 140_000), _w(120_000, 200_000), _w(180_000, None)]
    # traffic until 130 s; the marker sent at 190 s with event time 205 s
    timings = final_timings(windows, 5_000, 130_000, 190_000, 205_000)
    assert [(t.start_ms, t.closable_ms, t.lag_ms) for t in timings] == [
        (0, 65_000, 1_000),  # closed by traffic, final 1 s later
        (60_000, 125_000, 15_000),  # closed by traffic, final 15 s later: too late
        (120_000, 190_000, 10_000),  # closed by the marker, exactly at the slack
    ]
    assert [t.on_time for t in timings] == [True, False, True]


def test_a_closed_window_that_never_became_final_is_not_on_time() -> None:
    (timing,) = final_timings([_w(0, None)], 5_000, 100_000, 0, 0)
    assert timing.lag_ms is None and not timing.on_time


def test_the_closing_marker_closes_the_current_window() -> None:
    from demo.__main__ import marker_time

    assert marker_time(125_000, 60_000, 5_000) == 180_000 + 5_000 + 2_000
    assert marker_time(120_000, 60_000, 5_000) == 187_000  # at a boundary: that new window
