"""The load driver's pure parts: hey's summary read, bodies the collector accepts, pacing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from augury.collector import BATCH_PATH, EVENTS_PATH, MAX_BATCH_EVENTS
from bench import load
from collector.edge import check_batch, check_event

# hey 0.1.4's summary of 62 requests: no 99th percentile (it prints "0% in 0.0000 secs").
FEW = """
Summary:
  Total:\t3.0375 secs
  Slowest:\t0.1419 secs
  Fastest:\t0.0608 secs
  Average:\t0.0806 secs
  Requests/sec:\t20.4113
  \n  Total data:\t8866 bytes
  Size/request:\t143 bytes

Response time histogram:
  0.061 [1]\t|■■
  0.069 [11]\t|■■■■■■■■■■■■■■■■■■■■■■■
  0.142 [2]\t|■■■■


Latency distribution:
  10% in 0.0658 secs
  25% in 0.0720 secs
  50% in 0.0799 secs
  75% in 0.0867 secs
  90% in 0.0967 secs
  95% in 0.0992 secs
  0% in 0.0000 secs

Details (average, fastest, slowest):
  DNS+dialup:\t0.0000 secs, 0.0608 secs, 0.1419 secs
  DNS-lookup:\t0.0000 secs, 0.0000 secs, 0.0000 secs
  req write:\t0.0001 secs, 0.0000 secs, 0.0022 secs
  resp wait:\t0.0393 secs, 0.0193 secs, 0.0983 secs
  resp read:\t0.0412 secs, 0.0002 secs, 0.0476 secs

Status code distribution:
  [200]\t62 responses



"""

MIXED = """
Summary:
  Total:\t10.0312 secs
  Slowest:\t0.5120 secs
  Fastest:\t0.0101 secs
  Average:\t0.0456 secs
  Requests/sec:\t19.9378
  \n
Latency distribution:
  10% in 0.0150 secs
  25% in 0.0200 secs
  50% in 0.0300 secs
  75% in 0.0400 secs
  90% in 0.0600 secs
  95% in 0.0800 secs
  99% in 0.3000 secs

Status code distribution:
  [200]\t190 responses
  [503]\t5 responses

Error distribution:
  [3]\tPost "http://127.0.0.1:1/events": context deadline exceeded (Client.Timeout exceeded)
  [2]\tPost "http://127.0.0.1:1/events": EOF
"""

REFUSED = """
Summary:
  Total:\t0.0041 secs
  Slowest:\t0.0000 secs
  Fastest:\t0.0000 secs
  Average:\t NaN secs
  Requests/sec:\t972.1331


Response time histogram:


Latency distribution:

Details (average, fastest, slowest):
  DNS+dialup:\t NaN secs, 0.0000 secs, 0.0000 secs
  resp read:\t NaN secs, 0.0000 secs, 0.0000 secs

Status code distribution:

Error distribution:
  [4]\tPost "http://127.0.0.1:18090/events": dial tcp 127.0.0.1:18090: connect: connection refused
"""


def test_a_summary_without_a_99th_percentile() -> None:
    r = load.parse_hey(FEW)
    assert r.total_s == pytest.approx(3.0375)
    assert r.statuses == {200: 62} and r.errors == {}
    assert (r.requests, r.ok, r.not_ok) == (62, 62, 0)
    assert r.percentiles[50] == pytest.approx(0.0799)
    assert 99 not in r.percentiles and 0 not in r.percentiles
    assert r.slowest_s == pytest.approx(0.1419) and r.average_s == pytest.approx(0.0806)
    assert r.requests_per_s == pytest.approx(20.4113)


def test_statuses_and_transport_errors_are_not_ok() -> None:
    r = load.parse_hey(MIXED)
    assert r.statuses == {200: 190, 503: 5}
    assert sum(r.errors.values()) == 5 and any("EOF" in e for e in r.errors)
    assert (r.requests, r.ok, r.not_ok) == (200, 190, 10)
    assert r.percentiles[99] == pytest.approx(0.3)


def test_nothing_answered() -> None:
    r = load.parse_hey(REFUSED)
    assert r.statuses == {} and r.average_s is None and r.percentiles == {}
    assert (r.requests, r.ok, r.not_ok) == (4, 0, 4)


def test_what_is_not_a_summary_is_refused() -> None:
    with pytest.raises(ValueError, match="not hey's summary"):
        load.parse_hey("flag provided but not defined: -x\nUsage: hey [options...] <url>\n")


def test_a_single_event_body_passes_the_event_model() -> None:
    doc = json.loads(load.body("abc123", 1))
    assert check_event(doc) is None
    assert doc["device_id"] == "load-abc123"
    assert load.path_for(1) == EVENTS_PATH


@pytest.mark.parametrize("n", [2, 20, MAX_BATCH_EVENTS])
def test_a_batch_body_passes_the_batch_model(n: int) -> None:
    doc = json.loads(load.body("abc123", n))
    assert check_batch(doc) is None
    events = doc["events"]
    assert len(events) == n and len({e["event_id"] for e in events}) == n
    assert all(check_event(e) is None for e in events)
    assert load.path_for(n) == BATCH_PATH


@pytest.mark.parametrize("n", [0, MAX_BATCH_EVENTS + 1])
def test_batch_sizes_beyond_the_collectors_are_refused(n: int) -> None:
    with pytest.raises(ValueError):
        load.body("abc123", n)


def test_the_timestamp_has_milliseconds_and_a_z() -> None:
    now = datetime(2026, 12, 5, 3, 0, 0, 7_000, tzinfo=UTC)
    assert load.event("t", 0, now)["client_timestamp"] == "2026-12-05T03:00:00.007Z"


def test_every_event_carries_the_runs_tag() -> None:
    text = load.body("f00d", 20)
    assert text.count(b"load-f00d") == 20  # each device_id
    assert json.loads(text)["events"][0]["page_url"].startswith("/load/f00d/")


def test_workers_and_command() -> None:
    assert load.workers_for(0.5) == 1
    assert load.workers_for(20 * load.PER_WORKER_RATE) == 20
    assert load.workers_for(1e6) == load.MAX_WORKERS
    cmd = load.hey_command("hey", "http://h/events", 20, 5, 8, Path("/b.json"))
    assert cmd[cmd.index("-q") + 1] == "2.5" and cmd[cmd.index("-z") + 1] == "5s"
    assert cmd[cmd.index("-D") + 1] == "/b.json" and cmd[-1] == "http://h/events"
    assert "-q" not in load.hey_command("hey", "http://h/events", None, 5, 8, Path("/b"))


def _report(**kw: object) -> load.LoadReport:
    base: dict[str, object] = dict(rate=20.0, duration_s=10.0, batch=2, workers=5, requests=200,
                                   ok=200, not_ok=0, accepted=400, found=400, elapsed_s=10.0,
                                   p50_s=0.01, p99_s=0.02, mean_s=0.01)  # fmt: skip
    return load.LoadReport(**{**base, **kw})  # type: ignore[arg-type]


def test_sustained_needs_the_rate_no_error_and_no_loss() -> None:
    assert _report().sustained()
    assert _report().achieved_eps == pytest.approx(40.0)
    assert not _report(ok=180, accepted=360, found=360).sustained()  # 18/s of 20
    assert not _report(not_ok=1).sustained()
    lost = _report(found=399)
    assert lost.lost == 1 and not lost.sustained()
    extra = _report(found=402)
    assert (extra.lost, extra.extra) == (0, 2)
    assert "lost                0 (extra 2)" in extra.summary()


def test_the_schedule_counts_each_workers_ticks() -> None:
    assert load.scheduled(None, 10, 8) == 0
    assert load.scheduled(20, 15, 20) == 300  # one a second each, ticks 1..15
    assert load.scheduled(27.35, 15, 28) == 28 * 14  # 0.977/s each: 14 ticks within 15 s
    assert load.scheduled(0.5, 10, 1) == 5


def test_reached_is_counted_against_the_schedule_not_the_wall_time() -> None:
    # 14 ticks of 28 workers in 15 s: every one answered is the whole target, though the
    # wall-time rate (392 / 15.9 s) is 9 % under 27.35 requests/s.
    r = _report(rate=27.35, duration_s=15.0, workers=28, batch=1, ok=392, requests=392,
                accepted=392, found=392, elapsed_s=15.9)  # fmt: skip
    assert r.reached == 1.0 and r.sustained()
    assert r.achieved_rps < 0.95 * 27.35


def test_the_benchmarks_search_closes_in_on_a_capacity() -> None:
    from bench import collector

    capacity = 100.0  # events/s a fake server answers; beyond it, the workers miss ticks

    def trial(rate: float | None, seconds: float) -> load.LoadReport:
        workers = load.workers_for(rate) if rate else load.UNPACED_WORKERS
        sent = load.scheduled(rate, seconds, workers) if rate else int(capacity * seconds)
        ok = int(sent * min(1.0, capacity / rate)) if rate else sent
        return _report(rate=rate, duration_s=seconds, workers=workers, batch=1, requests=ok,
                       ok=ok, accepted=ok, found=ok, elapsed_s=seconds)  # fmt: skip

    search = collector.Search("fake", trial, 1)
    assert search.probe() == capacity
    search.next_rate = capacity * collector.FIRST
    rates = []
    for _ in range(collector.STEPS + 2):
        rates.append(round(search.next_rate))
        search.step()
    first = capacity * collector.FIRST
    assert rates[0] == round(first)  # FIRST of the unpaced rate
    assert rates[1] == round(first * collector.GROW)  # sustained: a step up
    # Sustained: answered at least 95 % of the schedule, so up to capacity / 0.95.
    assert search.best is not None and first <= search.low <= capacity / load.SUSTAINED_SHARE
    assert search.high is not None and search.high > capacity / load.SUSTAINED_SHARE
    assert f"{first:,.0f} ok" in search.trail()


def test_the_load_tool_is_installed_only_when_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from localplatform import apt, load_tool

    installed: list[list[str]] = []
    on_path: list[str | None] = ["/usr/bin/hey"]
    monkeypatch.setattr(shutil, "which", lambda name: on_path[0])
    monkeypatch.setattr(apt, "install", lambda packages, message: installed.append(packages))
    assert load_tool.install() == "/usr/bin/hey" and installed == []

    def install(packages: list[str], message: str) -> None:
        installed.append(packages)
        on_path[0] = "/usr/bin/hey"

    on_path[0] = None
    monkeypatch.setattr(apt, "install", install)
    assert load_tool.install() == "/usr/bin/hey" and installed == [["hey"]]

    on_path[0] = None
    monkeypatch.setattr(apt, "install", lambda packages, message: None)
    with pytest.raises(FileNotFoundError, match="apt-get install hey"):
        load_tool.install()
