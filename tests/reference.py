"""A plain-Python reference of the job's semantics, replay and streaming (the executable spec).

It reads raw NDJSON lines and produces exactly what a replay must leave in Redis, as a dict of
key -> value (hash fields as strings, sorted sets as {member: score}). Tests compare the Flink
job's Redis contents with it key by key; it is deliberately simple, not fast. It lives with the
tests, not in the job's package: it is the specification the job is checked against.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from augury import events as contract
from augury import raw_archive
from augury.redis_keys import (
    COUNTRY_FIELD_PREFIX,
    EVENT_FIELD_PREFIX,
    TOTAL_FIELDS,
    Keys,
    session_id,
)
from augury.settings import PIPELINE_DEFAULTS, PipelineSettings

RedisImage = dict[str, dict[str, Any]]
"""Hash key -> {field: str value}; sorted-set key -> {member: float score}."""


@dataclass(frozen=True)
class Result:
    """The reference's Redis image and its dead-letter (reason, raw) list."""

    image: RedisImage
    dead_letter: list[tuple[str, str]]


def replay(lines: Iterable[str], now_ms: int, keys: Keys | None = None,
           settings: PipelineSettings = PIPELINE_DEFAULTS) -> Result:  # fmt: skip
    """Validate, deduplicate, filter bots, sessionize and aggregate ``lines``.

    Each record is judged as of ``now_ms`` (the replay's start), or of its collector stamp
    (``arrival_ms``) when that is earlier: ``augury.events.validate``'s rule. Of the events
    with one ``event_id``, the earliest is kept, then the least by the fields the job reads
    (``_dedupe_order``).

    ``lines`` are the archive's lines: each holds the records ``raw_archive.split_records``
    finds in it (none for a blank line, several for ``{...}{...}``), as the replay reads them.
    """
    keys = keys or Keys(settings.key_prefix)
    dead: list[tuple[str, str]] = []
    valid: list[tuple[contract.ClickEvent, str]] = []
    for line in raw_archive.records(lines):
        result = contract.validate(line, now_ms)
        if isinstance(result, contract.Invalid):
            dead.append((result.reason, line))
        else:
            valid.append((result, line))
    first: dict[str, contract.ClickEvent] = {}
    for ev, _ in valid:
        kept = first.get(ev.event_id)
        if kept is None or _dedupe_order(ev) < _dedupe_order(kept):
            first[ev.event_id] = ev
    deduped = list(first.values())
    return _aggregate(deduped, dead, len(valid) - len(deduped), 0, keys, settings)


def _dedupe_order(ev: contract.ClickEvent) -> tuple[Any, ...]:
    """A replay keeps the earliest duplicate, then the least by the fields the job reads."""
    page = (0, "") if ev.page_url is None else (1, ev.page_url)  # NULLS FIRST
    return (ev.event_time_ms, ev.user_id, ev.device_id, ev.client_event, ev.countrycode, page)


def stream(lines: Iterable[str], now_ms: int, keys: Keys | None = None,
           settings: PipelineSettings = PIPELINE_DEFAULTS,
           arrivals: Sequence[int] | None = None) -> Result:  # fmt: skip
    """The streaming job's semantics over ``lines`` in arrival order, run to the end.

    Each line is judged as of its arrival (``arrivals``, one per line; default: ``now_ms`` for
    every line), or of its collector stamp (``arrival_ms``) when that is earlier, so its event
    time is never later than either. Invalid events go to the
    dead letter; the first event to arrive with an id is kept; an event is late when its window
    (or its session) would be closed by a watermark at the largest event time seen so far minus
    the watermark delay. Every window ends final.
    """
    keys = keys or Keys(settings.key_prefix)
    window_ms, gap_ms = settings.window_ms, settings.session_gap_ms
    dead: list[tuple[str, str]] = []
    seen: set[str] = set()
    on_time: list[contract.ClickEvent] = []
    duplicates = late = 0
    max_seen: int | None = None
    lines = list(lines)
    for line, arrived_ms in zip(lines, arrivals or [now_ms] * len(lines), strict=True):
        result = contract.validate(line, arrived_ms)
        if isinstance(result, contract.Invalid):
            dead.append((result.reason, line))
            continue
        if result.event_id in seen:
            duplicates += 1
            continue
        seen.add(result.event_id)
        t = result.event_time_ms
        max_seen = t if max_seen is None else max(max_seen, t)
        closes = min(t - t % window_ms + window_ms, t + gap_ms + 1) - 1
        if closes <= max_seen - settings.watermark_delay_ms:
            late += 1
            dead.append(("late", line))
            continue
        on_time.append(result)
    return _aggregate(on_time, dead, duplicates, late, keys, settings)


def _aggregate(deduped: list[contract.ClickEvent], dead: list[tuple[str, str]], duplicates: int,
               late: int, keys: Keys, settings: PipelineSettings) -> Result:  # fmt: skip
    """Bots, sessions, windows and totals of the kept events (shared by replay and stream)."""
    window_ms, gap_ms, bot_threshold = (settings.window_ms, settings.session_gap_ms,
                                        settings.bot_threshold)  # fmt: skip
    per_second = Counter((e.user_id, e.event_time_ms - e.event_time_ms % 1000) for e in deduped)
    is_bot = {e.event_id: per_second[(e.user_id, e.event_time_ms - e.event_time_ms % 1000)]
              > bot_threshold for e in deduped}  # fmt: skip
    human = [e for e in deduped if not is_bot[e.event_id]]
    bots = [e for e in deduped if is_bot[e.event_id]]

    image: RedisImage = {}

    def window(ms: int) -> dict[str, str]:
        ws = ms - ms % window_ms
        key = keys.window(ws)
        if key not in image:
            image[key] = {"events": "0", "users": "0", "sessions": "0", "bot_events": "0",
                          "final": "1"}  # fmt: skip
            zset = image.setdefault(keys.windows, {})
            zset[str(ws)] = float(ws)
        return image[key]

    users: dict[int, set[str]] = defaultdict(set)
    for e in human:
        h = window(e.event_time_ms)
        h["events"] = str(int(h["events"]) + 1)
        for field in (EVENT_FIELD_PREFIX + e.client_event, COUNTRY_FIELD_PREFIX + e.countrycode):
            h[field] = str(int(h.get(field, "0")) + 1)
        ws = e.event_time_ms - e.event_time_ms % window_ms
        users[ws].add(e.user_id)
        if e.page_url is not None:
            pages = image.setdefault(keys.window_pages(ws), {})
            pages[e.page_url] = pages.get(e.page_url, 0) + 1
    for ws, who in users.items():
        image[keys.window(ws)]["users"] = str(len(who))
    for e in bots:
        h = window(e.event_time_ms)
        h["bot_events"] = str(int(h["bot_events"]) + 1)

    by_key: dict[tuple[str, str], list[contract.ClickEvent]] = defaultdict(list)
    for e in human:
        by_key[(e.user_id, e.device_id)].append(e)
    for (user, device), evs in by_key.items():
        evs.sort(key=lambda e: e.event_time_ms)
        sessions: list[list[contract.ClickEvent]] = [[evs[0]]]
        for prev, cur in pairwise(evs):
            if cur.event_time_ms - prev.event_time_ms > gap_ms:
                sessions.append([])
            sessions[-1].append(cur)
        for s in sessions:
            start, end = s[0].event_time_ms, s[-1].event_time_ms
            sid = session_id(user, device, start)
            image[keys.session(sid)] = {
                "user_id": user, "device_id": device, "start_ms": str(start),
                "end_ms": str(end), "duration_ms": str(end - start), "events": str(len(s)),
                "first_event": min((e.event_time_ms, e.client_event) for e in s)[1],
                "last_event": max((e.event_time_ms, e.client_event) for e in s)[1],
                "countrycode": min((e.event_time_ms, e.countrycode) for e in s)[1],
            }  # fmt: skip
            image.setdefault(keys.sessions, {})[sid] = float(start)
            user_key = keys.user_sessions(user)
            image.setdefault(user_key, {})[sid] = float(start)
            h = window(start)
            h["sessions"] = str(int(h["sessions"]) + 1)
    counts = {"accepted": len(human), "invalid": len(dead) - late, "duplicates": duplicates,
              "bot_events": len(bots), "late": late}  # fmt: skip
    image[keys.totals] = {field: str(counts[field]) for field in TOTAL_FIELDS}
    return Result(image, dead)
