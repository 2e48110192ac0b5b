"""Freshness arithmetic of the benchmark (pure)."""

from __future__ import annotations

from bench.freshness import Produced, visibility
from bench.harness import BenchResult, percentile, to_markdown


def test_an_event_is_visible_early_once_its_window_counts_it_and_final_with_the_window() -> None:
    produced = Produced(by_window={0: [1_000, 1_000, 2_000]})
    # polls: (time, events, final)
    seen = {0: [(1_500, 0, False), (3_000, 2, False), (9_000, 3, False), (66_000, 3, True)]}
    early, final, closing = visibility(produced, seen)
    assert early == [2.0, 2.0, 7.0]  # 1st and 2nd seen at 3.0 s, 3rd at 9.0 s
    assert final == [65.0, 65.0, 64.0]
    assert closing == [(66_000 - 60_000 - 5_000) / 1000]  # the window's end + the delay: 1 s


def test_events_never_shown_are_left_out() -> None:
    early, final, closing = visibility(Produced(by_window={0: [1_000]}), {0: [(2_000, 0, False)]})
    assert early == [] and final == [] and closing == []


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50 and percentile(values, 99) == 99
    assert percentile([3.0], 99) == 3.0


def test_latency_table_reports_ratios_to_the_baseline() -> None:
    r = BenchResult("freshness", "events/s")
    r.latency = {"baseline": {"n": 5, "p50_s": 0.5, "p99_s": 1.0},
                 "early": {"n": 5, "p50_s": 5.0, "p99_s": 9.0}}  # fmt: skip
    assert r.latency_ratios()["early"] == {"p50_s": 10.0, "p99_s": 9.0}
    assert "| early | 5 | 5.0 | 9.0 | 10.0 | 9.0 |" in to_markdown([r])
