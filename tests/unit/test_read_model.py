"""Parsing the Redis contract's hashes (pure: no server)."""

from __future__ import annotations

from augury.read_model import Totals, parse_session, parse_totals, parse_window, top


def test_a_window_hash_with_dimensions() -> None:
    fields = {"events": "5", "users": "2", "final": "1", "updated_ms": "9", "final_ms": "8",
              "cc:US": "2", "cc:BE": "3", "evt:page_view": "5"}  # fmt: skip
    w = parse_window(60_000, fields, window_ms=60_000)
    assert (w.end_ms, w.events, w.users, w.sessions, w.bot_events) == (120_000, 5, 2, 0, 0)
    assert w.final and w.final_ms == 8 and w.updated_ms == 9
    assert list(w.countries.items()) == [("BE", 3), ("US", 2)]  # biggest first
    assert w.event_types == {"page_view": 5}


def test_an_open_window_has_no_final_time() -> None:
    w = parse_window(0, {"events": "1", "final": "0", "updated_ms": "5"}, window_ms=60_000)
    assert not w.final and w.final_ms is None


def test_a_window_ends_where_the_pipeline_settings_say() -> None:
    assert parse_window(90_000, {"events": "1"}, window_ms=30_000).end_ms == 120_000


def test_totals_default_to_zero_and_sum_to_records_read() -> None:
    t = parse_totals({"accepted": "7", "late": "2"})
    assert t == Totals(accepted=7, late=2) and t.read == 9


def test_a_session_hash() -> None:
    s = parse_session("u|d|1", {"user_id": "u", "device_id": "d", "start_ms": "1",
                                "end_ms": "61", "duration_ms": "60", "events": "3"})  # fmt: skip
    assert (s.session_id, s.duration_ms, s.events, s.first_event) == ("u|d|1", 60, 3, "")


def test_top_sums_members_across_windows_and_breaks_ties_by_name() -> None:
    ranked = top([("/b", 2.0), ("/a", 1.0), ("/a", 1.0), ("/c", 5.0)], 2)
    assert [(p.page_url, p.events) for p in ranked] == [("/c", 5), ("/a", 2)]
