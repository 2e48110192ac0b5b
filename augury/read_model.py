"""Reading the Redis contract (``augury.redis_keys``) into typed results.

The one reader of what the Flink job writes: the read API, the demo's terminal view, the
notebook and the tests use it. ``parse_*`` functions are pure (hash fields in, dataclass out);
the others take a ``redis.Redis`` opened with ``decode_responses=True`` and pipeline their reads.
Windows are as long as the pipeline settings say (``augury.settings``, ``window_ms``): Redis
holds their starts only.

Every read is bounded: lists take a limit, and a window contributes at most its
``page_depth(limit)`` biggest pages to a top-pages answer. A sorted-set member whose hash has
expired (``augury:sessions``, ``augury:user:{id}:sessions``, ``augury:windows``) is skipped, never
returned as an empty object: a list examines at most two batches (``limit`` members, then as many
more as were skipped), so a range crowded with expired members may come back shorter.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from augury.redis_keys import COUNTRY_FIELD_PREFIX, EVENT_FIELD_PREFIX, TOTAL_FIELDS, Keys

MAX_ITEMS = 1_000
"""The most items one API request may ask for (windows, sessions, windows merged)."""
MAX_PAGES = 100
"""The most pages one top-pages answer holds (a bigger ``limit`` is cut to it)."""
TOP_WINDOWS = 120
"""How many of the newest windows in range a top-pages answer merges by default."""
MIN_PAGE_DEPTH = 50
"""The fewest of its biggest pages a window contributes to a top-pages answer."""
FILL_ROUNDS = 2
"""Batches a list reads at most: ``limit`` members, then as many more as had expired."""

T = TypeVar("T")


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
class TopPages:
    """A top-pages answer and how far it can be from the exact one.

    Each merged window contributes its ``per_window`` biggest pages; their counts are summed per
    page. A listed count is at most ``max_undercount`` below the page's true sum over the merged
    windows, and an unlisted page's true sum is at most the last listed count plus
    ``max_undercount``; 0 means every merged window was read whole: the answer is exact.
    """

    pages: list[PageCount]
    windows: int
    """How many windows were merged (those listed whose hash had not expired)."""
    per_window: int
    max_undercount: int


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


def page_limit(limit: int) -> int:
    """``limit`` within 1..``MAX_PAGES``."""
    return min(max(1, limit), MAX_PAGES)


def page_depth(limit: int) -> int:
    """How many of its biggest pages each window contributes to a top ``limit`` (50..100)."""
    return max(page_limit(limit), MIN_PAGE_DEPTH)


def merge_top(ranked: Sequence[Sequence[tuple[str, float]]], limit: int) -> TopPages:
    """Merge windows' pages, each read biggest first, ``page_depth(limit) + 1`` at most.

    Each window's first ``page_depth(limit)`` pages are summed. When a window returned one more,
    that one's count is the biggest it leaves out: no page can have missed more there, and the
    sum of these over the windows is the answer's ``max_undercount``.
    """
    depth = page_depth(limit)
    undercount = sum(int(pages[depth][1]) for pages in ranked if len(pages) > depth)
    pages = top((pair for window in ranked for pair in window[:depth]), page_limit(limit))
    return TopPages(pages, len(ranked), depth, undercount)


def _clamp(limit: int) -> int:
    return max(1, limit)


def first_live(
    list_ids: Callable[[int, int], Sequence[str]],
    load: Callable[[Sequence[str]], Sequence[T | None]],
    limit: int,
) -> list[T]:
    """The first ``limit`` members that ``load`` finds (None: its hash has expired).

    ``list_ids(offset, count)`` lists members in order. At most ``FILL_ROUNDS`` batches are
    read: ``limit`` members, then as many more as were skipped (so at most 2 x ``limit``).
    """
    found: list[T] = []
    offset, want = 0, _clamp(limit)
    for _ in range(FILL_ROUNDS):
        ids = list_ids(offset, want)
        found += [item for item in load(ids) if item is not None]
        offset += len(ids)
        if len(ids) < want:
            break
        want = _clamp(limit) - len(found)
        if want <= 0:
            break
    return found


def _pipelined(conn: Any, ids: Sequence[str], queue: Callable[[Any, str], None]) -> list[Any]:
    """The replies to ``queue(pipe, id)`` for each id, in one round trip."""
    if not ids:
        return []
    pipe = conn.pipeline(transaction=False)
    for member in ids:
        queue(pipe, member)
    return list(pipe.execute())


def _window_ids(conn: Any, keys: Keys, from_ms: int, to_ms: int) -> Callable[[int, int], list[str]]:
    def list_ids(offset: int, count: int) -> list[str]:
        return list(conn.zrevrangebyscore(keys.windows, to_ms, from_ms, start=offset, num=count))

    return list_ids


def window_starts(conn: Any, keys: Keys, from_ms: int, to_ms: int, limit: int) -> list[int]:
    """Starts of the windows starting in [from_ms, to_ms], newest first (listed, live or not)."""
    return [int(m) for m in _window_ids(conn, keys, from_ms, to_ms)(0, _clamp(limit))]


def windows(conn: Any, keys: Keys, from_ms: int, to_ms: int, limit: int = 60, *,
            window_ms: int) -> list[Window]:  # fmt: skip
    """The windows starting in [from_ms, to_ms], newest first (at most ``limit``; live ones)."""

    def load(ids: Sequence[str]) -> list[Window | None]:
        found = _pipelined(conn, ids, lambda pipe, m: pipe.hgetall(keys.window(int(m))))
        return [parse_window(int(m), f, window_ms=window_ms) if f else None
                for m, f in zip(ids, found, strict=True)]  # fmt: skip

    return first_live(_window_ids(conn, keys, from_ms, to_ms), load, limit)


def newest_windows(conn: Any, keys: Keys, count: int, *, window_ms: int) -> list[Window]:
    """The ``count`` newest windows, newest first."""
    return windows(conn, keys, 0, 2**62, count, window_ms=window_ms)


def newest_update_ms(conn: Any, keys: Keys) -> int | None:
    """When the newest live window was last written (epoch ms), or None before any result."""

    def load(ids: Sequence[str]) -> list[int | None]:
        found = _pipelined(conn, ids, lambda pipe, m: pipe.hget(keys.window(int(m)), "updated_ms"))
        return [int(u) if u else None for u in found]

    newest = first_live(_window_ids(conn, keys, 0, 2**62), load, 1)
    return newest[0] if newest else None


def window(conn: Any, keys: Keys, start_ms: int, *, window_ms: int) -> Window | None:
    """One window, or None when Redis holds none starting at ``start_ms``."""
    fields = conn.hgetall(keys.window(start_ms))
    return parse_window(start_ms, fields, window_ms=window_ms) if fields else None


def _ranked_pages(conn: Any, keys: Keys, starts: Sequence[str], depth: int) -> list[Any]:
    """Per listed window: its ``depth + 1`` biggest pages, or None when its hash has expired."""

    def queue(pipe: Any, member: str) -> None:
        pipe.exists(keys.window(int(member)))
        pipe.zrevrange(keys.window_pages(int(member)), 0, depth, withscores=True)

    replies = _pipelined(conn, starts, queue)  # two replies per window
    pairs = zip(replies[::2], replies[1::2], strict=True)
    return [pages if live else None for live, pages in pairs]


def page_ranking(conn: Any, keys: Keys, starts: Iterable[int], limit: int = 5) -> TopPages:
    """The top pages over the windows starting at ``starts`` (summed, bounded per window)."""
    ranked = _ranked_pages(conn, keys, [str(s) for s in starts], page_depth(limit))
    return merge_top([pages for pages in ranked if pages is not None], limit)


def top_pages(conn: Any, keys: Keys, starts: Iterable[int], limit: int = 5) -> list[PageCount]:
    """The top pages over the windows starting at ``starts`` (``page_ranking``'s pages)."""
    return page_ranking(conn, keys, starts, limit).pages


def page_ranking_in_range(conn: Any, keys: Keys, from_ms: int, to_ms: int, limit: int = 10,
                          max_windows: int = TOP_WINDOWS) -> TopPages:  # fmt: skip
    """The top pages over the ``max_windows`` newest live windows starting in [from_ms, to_ms]."""
    depth = page_depth(limit)
    ranked = first_live(_window_ids(conn, keys, from_ms, to_ms),
                        lambda ids: _ranked_pages(conn, keys, ids, depth), max_windows)  # fmt: skip
    return merge_top(ranked, limit)


def _session_loader(conn: Any, keys: Keys) -> Callable[[Sequence[str]], list[Session | None]]:
    def load(ids: Sequence[str]) -> list[Session | None]:
        found = _pipelined(conn, ids, lambda pipe, sid: pipe.hgetall(keys.session(sid)))
        return [parse_session(s, f) if f else None for s, f in zip(ids, found, strict=True)]

    return load


def sessions(conn: Any, keys: Keys, from_ms: int, to_ms: int, limit: int = 100) -> list[Session]:
    """Sessions starting in [from_ms, to_ms], newest first (at most ``limit``; live ones)."""

    def list_ids(offset: int, count: int) -> list[str]:
        return list(conn.zrevrangebyscore(keys.sessions, to_ms, from_ms, start=offset, num=count))

    return first_live(list_ids, _session_loader(conn, keys), limit)


def user_sessions(conn: Any, keys: Keys, user_id: str, limit: int = 100) -> list[Session]:
    """One user's sessions, newest first (at most ``limit``; live ones)."""

    def list_ids(offset: int, count: int) -> list[str]:
        return list(conn.zrevrange(keys.user_sessions(user_id), offset, offset + count - 1))

    return first_live(list_ids, _session_loader(conn, keys), limit)


def totals(conn: Any, keys: Keys) -> Totals:
    """The pipeline totals."""
    return parse_totals(conn.hgetall(keys.totals))
