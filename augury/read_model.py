"""Reading the Redis contract (``augury.redis_keys``) into typed results.

The one reader of what the Flink job writes: the read API, the demo's terminal view, the
notebook and the tests use it. ``parse_*`` functions are pure (hash fields in, dataclass out);
the others take a ``redis.Redis`` opened with ``decode_responses=True`` and pipeline their reads.
Windows are as long as the pipeline settings say (``augury.settings``, ``window_ms``): Redis
holds their starts only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from augury.redis_keys import COUNTRY_FIELD_PREFIX, EVENT_FIELD_PREFIX, TOTAL_FIELDS, Keys

MAX_ITEMS = 1_000
"""The most items one API request may ask for (windows, sessions, pages)."""


@dataclass(frozen=True)
class Window:
    """One window's metrics."""

    start_ms: int
    end_ms: int
    events: int
    users: int
    sessions: int
    bot_events: int
    final: bool
    updated_ms: int
    final_ms: int | None = None
    """When the final result was first written (None while the window is open)."""
    event_types: dict[str, int] = field(default_factory=dict)
    countries: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class PageCount:
    """A page and its events."""

    page_url: str
    events: int


@dataclass(frozen=True)
class Session:
    """One closed session."""

    session_id: str
    user_id: str
    device_id: str
    start_ms: int
    end_ms: int
    duration_ms: int
    events: int
    first_event: str
    last_event: str
    countrycode: str


@dataclass(frozen=True)
class Totals:
    """Pipeline-wide counts since the job's state began."""

    accepted: int = 0
    invalid: int = 0
    duplicates: int = 0
    bot_events: int = 0
    late: int = 0

    @property
    def read(self) -> int:
        """Every record the job has read (the pipeline identity's right-hand side)."""
        return sum(getattr(self, name) for name in TOTAL_FIELDS)


def _int(fields: Mapping[str, str], name: str) -> int:
    return int(fields.get(name) or 0)


def parse_window(start_ms: int, fields: Mapping[str, str], *, window_ms: int) -> Window:
    """A window from its hash's fields."""
    final_ms = fields.get("final_ms")
    return Window(
        start_ms=start_ms,
        end_ms=start_ms + window_ms,
        events=_int(fields, "events"),
        users=_int(fields, "users"),
        sessions=_int(fields, "sessions"),
        bot_events=_int(fields, "bot_events"),
        final=fields.get("final") == "1",
        updated_ms=_int(fields, "updated_ms"),
        final_ms=int(final_ms) if final_ms else None,
        event_types=_prefixed(fields, EVENT_FIELD_PREFIX),
        countries=_prefixed(fields, COUNTRY_FIELD_PREFIX),
    )


def _prefixed(fields: Mapping[str, str], prefix: str) -> dict[str, int]:
    pairs = [(k[len(prefix) :], int(v)) for k, v in fields.items() if k.startswith(prefix)]
    return dict(sorted(pairs, key=lambda p: (-p[1], p[0])))


def parse_session(session_id: str, fields: Mapping[str, str]) -> Session:
    """A session from its hash's fields."""
    return Session(
        session_id=session_id,
        user_id=fields.get("user_id", ""),
        device_id=fields.get("device_id", ""),
        start_ms=_int(fields, "start_ms"),
        end_ms=_int(fields, "end_ms"),
        duration_ms=_int(fields, "duration_ms"),
        events=_int(fields, "events"),
        first_event=fields.get("first_event", ""),
        last_event=fields.get("last_event", ""),
        countrycode=fields.get("countrycode", ""),
    )


def parse_totals(fields: Mapping[str, str]) -> Totals:
    """The totals from their hash's fields (0 for absent ones)."""
    return Totals(**{name: _int(fields, name) for name in TOTAL_FIELDS})


def top(counts: Iterable[tuple[str, float]], limit: int) -> list[PageCount]:
    """The ``limit`` biggest of summed (member, count) pairs, biggest first, then by name."""
    summed: Counter[str] = Counter()
    for member, count in counts:
        summed[member] += int(count)
    ranked = sorted(summed.items(), key=lambda p: (-p[1], p[0]))[:limit]
    return [PageCount(page, n) for page, n in ranked]


def _clamp(limit: int) -> int:
    return max(1, limit)


def window_starts(conn: Any, keys: Keys, from_ms: int, to_ms: int, limit: int) -> list[int]:
    """Starts of the windows starting in [from_ms, to_ms], newest first."""
    members = conn.zrevrangebyscore(keys.windows, to_ms, from_ms, start=0, num=_clamp(limit))
    return [int(m) for m in members]


def windows(conn: Any, keys: Keys, from_ms: int, to_ms: int, limit: int = 60, *,
            window_ms: int) -> list[Window]:  # fmt: skip
    """The windows starting in [from_ms, to_ms], newest first (at most ``limit``)."""
    starts = window_starts(conn, keys, from_ms, to_ms, limit)
    pipe = conn.pipeline(transaction=False)
    for start in starts:
        pipe.hgetall(keys.window(start))
    return [parse_window(s, f, window_ms=window_ms)
            for s, f in zip(starts, pipe.execute(), strict=True) if f]  # fmt: skip


def newest_windows(conn: Any, keys: Keys, count: int, *, window_ms: int) -> list[Window]:
    """The ``count`` newest windows, newest first."""
    return windows(conn, keys, 0, 2**62, count, window_ms=window_ms)


def newest_update_ms(conn: Any, keys: Keys) -> int | None:
    """When the newest window was last written (epoch ms), or None before the first result."""
    starts = window_starts(conn, keys, 0, 2**62, 1)
    if not starts:
        return None
    updated = conn.hget(keys.window(starts[0]), "updated_ms")
    return int(updated) if updated else None


def window(conn: Any, keys: Keys, start_ms: int, *, window_ms: int) -> Window | None:
    """One window, or None when Redis holds none starting at ``start_ms``."""
    fields = conn.hgetall(keys.window(start_ms))
    return parse_window(start_ms, fields, window_ms=window_ms) if fields else None


def top_pages(conn: Any, keys: Keys, starts: Iterable[int], limit: int = 5) -> list[PageCount]:
    """The top pages over the windows starting at ``starts`` (summed), biggest first."""
    pipe = conn.pipeline(transaction=False)
    for start in starts:
        pipe.zrange(keys.window_pages(start), 0, -1, withscores=True)
    return top((pair for pages in pipe.execute() for pair in pages), _clamp(limit))


def _sessions(conn: Any, keys: Keys, ids: list[str]) -> list[Session]:
    pipe = conn.pipeline(transaction=False)
    for sid in ids:
        pipe.hgetall(keys.session(sid))
    return [parse_session(s, f) for s, f in zip(ids, pipe.execute(), strict=True) if f]


def sessions(conn: Any, keys: Keys, from_ms: int, to_ms: int, limit: int = 100) -> list[Session]:
    """Sessions starting in [from_ms, to_ms], newest first (at most ``limit``)."""
    ids = conn.zrevrangebyscore(keys.sessions, to_ms, from_ms, start=0, num=_clamp(limit))
    return _sessions(conn, keys, list(ids))


def user_sessions(conn: Any, keys: Keys, user_id: str, limit: int = 100) -> list[Session]:
    """One user's sessions, newest first (at most ``limit``)."""
    ids = conn.zrevrange(keys.user_sessions(user_id), 0, _clamp(limit) - 1)
    return _sessions(conn, keys, list(ids))


def totals(conn: Any, keys: Keys) -> Totals:
    """The pipeline totals."""
    return parse_totals(conn.hgetall(keys.totals))
