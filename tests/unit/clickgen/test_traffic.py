"""The traffic model: deterministic, continuous across invocations, valid but for faults."""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter, defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from augury import events as contract
from lambdas.clickgen import traffic
from lambdas.clickgen.config import GeneratorConfig

T0 = 1_795_500_000_000  # a whole minute
CFG = GeneratorConfig(rate=100, pace=False)


@pytest.fixture(scope="module")
def ten_minutes() -> traffic.Window:
    cfg = CFG.replace(bot_fraction=0.05, malformed_fraction=0.03, duplicate_fraction=0.04,
                      late_fraction=0.06)  # fmt: skip
    return traffic.generate(cfg, T0, T0 + 10 * 60_000)


def test_same_seed_same_records_other_seed_other_records() -> None:
    a = traffic.generate(CFG, T0, T0 + 20_000)
    b = traffic.generate(CFG, T0, T0 + 20_000)
    c = traffic.generate(CFG.replace(seed=7), T0, T0 + 20_000)
    assert [r.data for r in a.records] == [r.data for r in b.records]
    assert {r.data for r in a.records}.isdisjoint({r.data for r in c.records})


@settings(max_examples=5, deadline=None)
@given(st.integers(1, 89_999))
def test_split_invocations_produce_exactly_the_whole(cut_ms: int) -> None:
    whole = traffic.generate(CFG, T0, T0 + 90_000)
    first = traffic.generate(CFG, T0, T0 + cut_ms)
    second = traffic.generate(CFG, T0 + cut_ms, T0 + 90_000)
    assert sorted(r.data for r in first.records + second.records) == sorted(
        r.data for r in whole.records
    )


def test_records_are_sorted_within_the_window(ten_minutes: traffic.Window) -> None:
    times = [r.emit_ms for r in ten_minutes.records]
    assert times == sorted(times)
    assert times[0] >= T0 and times[-1] < T0 + 10 * 60_000


def test_everything_is_valid_except_malformed_which_get_their_reason(
    ten_minutes: traffic.Window,
) -> None:
    for r in ten_minutes.records:
        result = contract.validate(r.data, r.emit_ms)
        if r.kind == traffic.MALFORMED:
            assert isinstance(result, contract.Invalid) and result.reason == r.reason
        else:
            assert isinstance(result, contract.ClickEvent), (r.kind, r.data)
            assert r.partition_key == result.user_id


def test_every_malformed_reason_kind_is_injected(ten_minutes: traffic.Window) -> None:
    kinds = {reason.split(":")[0] for reason in ten_minutes.malformed_reasons()}
    assert kinds == {"malformed_json", "not_object", "missing_field", "invalid_field",
                     "future_timestamp"}  # fmt: skip


def _within(observed: int, n: int, p: float, sigmas: float = 5.0) -> bool:
    sd = math.sqrt(n * p * (1 - p))
    return abs(observed - n * p) <= sigmas * sd + 1


def test_injected_fractions_match_their_settings(ten_minutes: traffic.Window) -> None:
    counts = ten_minutes.counts()
    originals = sum(counts.values()) - counts[traffic.DUPLICATE]
    well_formed = originals - counts[traffic.MALFORMED]
    assert _within(counts[traffic.MALFORMED], originals - counts[traffic.BOT], 0.03)
    assert _within(counts[traffic.DUPLICATE], well_formed, 0.04)
    humans = [r for r in ten_minutes.records if r.kind in (traffic.EVENT, traffic.LATE)]
    assert _within(counts[traffic.LATE], len(humans), 0.06)
    # Bots come in bursts of 11-30 events: allow for that clumping (bursts are the trials).
    bots = counts[traffic.BOT]
    bursts = bots / 20.5
    expected_bursts = 0.05 * 100 * 600 / 20.5
    assert abs(bursts - expected_bursts) <= 5 * math.sqrt(expected_bursts)
    # The overall rate is the setting's, within noise.
    assert _within(originals, 100 * 600, 0.5, sigmas=12) or abs(originals - 60_000) < 6_000


def test_duplicates_are_exact_resends_of_a_sent_record(ten_minutes: traffic.Window) -> None:
    sent = Counter(r.data for r in ten_minutes.records if r.kind != traffic.DUPLICATE)
    for r in ten_minutes.records:
        if r.kind == traffic.DUPLICATE:
            assert sent[r.data] == 1


def test_bots_send_more_than_ten_events_in_one_second(ten_minutes: traffic.Window) -> None:
    per_second: Counter[tuple[str, int]] = Counter()
    for r in ten_minutes.records:
        if r.kind == traffic.BOT:
            per_second[(r.partition_key, r.emit_ms // 1000)] += 1
    assert per_second and min(per_second.values()) > 10
    humans: Counter[tuple[str, int]] = Counter()
    for r in ten_minutes.records:
        if r.kind == traffic.EVENT:
            humans[(r.partition_key, r.emit_ms // 1000)] += 1
    assert max(humans.values()) <= 10


def test_late_events_lag_by_at_most_the_setting(ten_minutes: traffic.Window) -> None:
    lags = []
    for r in ten_minutes.records:
        if r.kind == traffic.LATE:
            ts = contract.parse_timestamp_ms(json.loads(r.data)["client_timestamp"])
            assert ts is not None
            lags.append(r.emit_ms - ts)
    assert lags and min(lags) > 0 and max(lags) <= 3 * 60_000


def test_sessions_emerge_and_some_span_several_minutes(ten_minutes: traffic.Window) -> None:
    by_key: dict[tuple[str, str], list[int]] = defaultdict(list)
    for r in ten_minutes.records:
        if r.kind in (traffic.EVENT, traffic.LATE):
            doc = json.loads(r.data)
            by_key[(doc["user_id"], doc["device_id"])].append(
                contract.parse_timestamp_ms(doc["client_timestamp"]) or 0
            )
    spans, sessions = [], 0
    for times in by_key.values():
        times.sort()
        start = times[0]
        for prev, cur in itertools.pairwise(times):
            if cur - prev > 60_000:
                spans.append(prev - start)
                sessions += 1
                start = cur
        spans.append(times[-1] - start)
        sessions += 1
    assert sessions > 1000
    assert max(spans) > 3 * 60_000  # some cross several one-minute invocations
    assert any(len(devices) > 1 for devices in _devices_per_user(ten_minutes).values())


def _devices_per_user(window: traffic.Window) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for r in window.records:
        if r.kind == traffic.EVENT:
            doc = json.loads(r.data)
            found[doc["user_id"]].add(doc["device_id"])
    return found


def test_funnel_reaches_purchase_and_uses_unicode_and_missing_urls(
    ten_minutes: traffic.Window,
) -> None:
    docs = [json.loads(r.data) for r in ten_minutes.records if r.kind == traffic.EVENT]
    events = Counter(d["client_event"] for d in docs)
    funnel = [events[e] for e in ("product_view", "add_to_cart", "begin_checkout", "purchase")]
    assert funnel == sorted(funnel, reverse=True) and funnel[-1] > 0
    assert events["page_view"] > events["purchase"]
    assert events["add_belgian_beer"] > 0
    assert any("page_url" not in d for d in docs)
    assert any(not d["page_url"].isascii() for d in docs if "page_url" in d)


def test_the_population_is_deterministic() -> None:
    assert traffic.user(42, 7) == traffic.user(42, 7)
    u = traffic.user(42, 7)
    assert u.user_id == "user-0000007" and len(u.countrycode) == 2 and 1 <= len(u.devices) <= 3
