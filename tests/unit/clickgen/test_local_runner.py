"""The local runner's bridge before the first scheduled event, and the demo's reading of it."""

from __future__ import annotations

import json

from demo.__main__ import schedule_line
from demo.runners import read_progress
from lambdas.clickgen.local_runner import period_of, scheduled_event, trimmed_to


def test_the_first_scheduled_window_starts_where_the_bridge_ended() -> None:
    tick = scheduled_event("2026-11-29T14:43:42Z", {"rate": 20})
    moved = trimmed_to(tick, covered_until_ms=1_795_963_424_000, period_s=60)  # 14:43:44
    assert moved["time"] == "2026-11-29T14:43:44Z"
    assert moved["detail"] == {"rate": 20, "duration_s": 58}  # ends where it would have: 14:44:42
    assert trimmed_to(tick, covered_until_ms=1_795_963_420_000, period_s=60) is tick  # no overlap


def _line(event: str, trigger: str, time: str, sent: int = 0, end: str | None = None) -> str:
    record = {"event": event, "trigger": trigger, "scheduled_time": time, "sent": sent}
    return json.dumps(record | ({"window_end": end} if end else {}))


def test_progress_says_when_the_finished_traffic_ends_in_event_time() -> None:
    lines = [
        _line("done", "bridge", "2026-11-29T14:43:07Z", 98, end="2026-11-29T14:43:42.000Z"),
        _line("done", "schedule", "2026-11-29T14:43:42Z", 2000, end="2026-11-29T14:44:42.000Z"),
        _line("start", "schedule", "2026-11-29T14:44:42Z"),
    ]
    assert read_progress(lines).traffic_end_ms == 1_795_963_482_000


def test_progress_counts_what_finished_and_when_the_schedule_last_fired() -> None:
    lines = [
        _line("start", "bridge", "2026-11-29T14:43:07Z"),
        _line("done", "bridge", "2026-11-29T14:43:07Z", 98),
        _line("start", "schedule", "2026-11-29T14:43:42Z"),
    ]
    p = read_progress(lines)
    assert (p.produced, p.invocations, p.scheduled) == (98, 1, 1)
    assert p.traffic_end_ms is None  # no finished invocation said where its traffic ended
    assert p.last_scheduled_ms == 1_795_963_422_000
    assert p.next_due_ms(1_795_963_422_000 + 10_000, 60_000) == 1_795_963_482_000
    assert p.next_due_ms(1_795_963_422_000 + 70_000, 60_000) == 1_795_963_542_000  # one missed


def test_the_view_says_what_the_generator_waits_for_then_when_the_next_run_is_due() -> None:
    waiting = schedule_line(read_progress([]), 0, 60)
    assert "waiting for the first scheduled run" in waiting and "5 s of traffic" in waiting
    p = read_progress([_line("start", "schedule", "2026-11-29T14:43:42Z")])
    assert schedule_line(p, 1_795_963_422_000 + 15_000, 60) == (
        "1 scheduled run so far; the next is due in 45 s"
    )


def test_the_schedule_period_comes_from_the_rule_s_rate() -> None:
    assert period_of("rate(1 minute)") == 60 and period_of("rate(5 minutes)") == 300
    assert period_of("rate(2 hours)") == 7200 and period_of("cron(0 12 * * ? *)") is None
