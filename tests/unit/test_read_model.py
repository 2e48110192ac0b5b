"""Parsing the Redis contract's hashes, merging pages, skipping expired members (pure)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from augury.read_model import (
    MAX_PAGES,
    MIN_PAGE_DEPTH,
    Totals,
    first_live,
    merge_top,
    page_depth,
    page_limit,
    parse_session,
    parse_totals,
    parse_window,
    top,
)


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


def test_a_single_window_s_top_is_exact_and_its_depth_bounded() -> None:
    depth = page_depth(3)
    assert depth == MIN_PAGE_DEPTH  # a window contributes at least this many
    window = [(f"/p{i:03}", float(500 - i)) for i in range(depth + 1)]  # read: depth + 1
    ranking = merge_top([window], 3)
    assert [(p.page_url, p.events) for p in ranking.pages] == [("/p000", 500), ("/p001", 499),
                                                               ("/p002", 498)]  # fmt: skip
    assert (ranking.windows, ranking.per_window) == (1, depth)
    assert ranking.max_undercount == 500 - depth  # the biggest count left out


def test_limits_and_depths_are_capped() -> None:
    assert page_limit(0) == 1 and page_limit(10**6) == MAX_PAGES
    assert page_depth(MAX_PAGES + 1) == MAX_PAGES == page_depth(MAX_PAGES)
    assert page_depth(70) == 70


def test_windows_read_whole_merge_exactly() -> None:
    ranking = merge_top([[("/a", 3.0), ("/b", 1.0)], [("/b", 4.0)]], 10)
    assert [(p.page_url, p.events) for p in ranking.pages] == [("/b", 5), ("/a", 3)]
    assert ranking.max_undercount == 0 and ranking.windows == 2


def test_a_merged_top_keeps_its_documented_bound() -> None:
    """Counts are lower bounds within max_undercount; unlisted pages cannot beat the last one."""
    depth = page_depth(1)
    # Two windows where "/x" is just outside each window's top `depth`, so it is missed.
    w1 = [(f"/a{i:03}", 10.0) for i in range(depth)] + [("/x", 9.0)]
    w2 = [(f"/b{i:03}", 10.0) for i in range(depth)] + [("/x", 9.0)]
    truth = Counter[str]({"/x": 18} | {p: 10 for p, _ in w1[:depth] + w2[:depth]})
    ranking = merge_top([w1, w2], 1)
    assert ranking.max_undercount == 18
    (first,) = ranking.pages
    assert first.events <= truth[first.page_url] <= first.events + ranking.max_undercount
    listed = {p.page_url for p in ranking.pages}
    assert all(n <= first.events + ranking.max_undercount
               for page, n in truth.items() if page not in listed)  # fmt: skip


def _listing(members: list[str]) -> tuple[list[tuple[int, int]], Any]:
    calls: list[tuple[int, int]] = []

    def list_ids(offset: int, count: int) -> list[str]:
        calls.append((offset, count))
        return members[offset : offset + count]

    return calls, list_ids


def test_expired_members_are_skipped_and_replaced_from_one_more_batch() -> None:
    calls, list_ids = _listing(["a", "gone1", "b", "c", "gone2", "d"])
    found = first_live(list_ids, lambda ids: [None if i.startswith("gone") else i for i in ids], 3)
    assert found == ["a", "b", "c"] and calls == [(0, 3), (3, 1)]


def test_a_list_reads_at_most_two_batches() -> None:
    calls, list_ids = _listing([f"gone{i}" for i in range(100)] + ["a"])
    assert first_live(list_ids, lambda ids: [None] * len(ids), 10) == []
    assert calls == [(0, 10), (10, 10)]  # at most 2 x limit members examined


def test_a_short_list_is_read_once() -> None:
    calls, list_ids = _listing(["a", "b"])
    assert first_live(list_ids, list, 5) == ["a", "b"] and calls == [(0, 5)]
