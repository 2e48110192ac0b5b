"""The demo's terminal view: what the Redis contract holds, refreshed every second (rich)."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from augury import read_model
from augury.read_model import PageCount, Session, Totals, Window
from augury.redis_keys import Keys
from augury.settings import MINUTE_MS, PipelineSettings

WINDOW_ROW = re.compile(r"\d\d:\d\d\S*\s+\S\s+(early|final)\s+\S\s+[1-9]")
"""A row of the windows table, with events, as it reads on the screen (tests, screenshots)."""
RECENT_WINDOWS = 5
RECENT_SESSIONS = 8
SHOP_SESSIONS = 5


@dataclass
class Snapshot:
    """Everything the view shows, read from Redis at one moment."""

    taken_ms: int
    settings: PipelineSettings
    windows: list[Window] = field(default_factory=list)
    top_pages: dict[int, list[PageCount]] = field(default_factory=dict)
    sessions: list[Session] = field(default_factory=list)
    totals: Totals = field(default_factory=Totals)
    shop_users: int = 0
    """Users whose clicks came through the HTTP collector (the demo shop)."""
    shop_sessions: list[Session] = field(default_factory=list)
    """Their closed sessions, newest first."""

    @property
    def freshness_s(self) -> float | None:
        """Seconds since the newest result was written (None before the first)."""
        stamps = [w.updated_ms for w in self.windows if w.updated_ms]
        return (self.taken_ms - max(stamps)) / 1000 if stamps else None


def snapshot(conn: Any, settings: PipelineSettings, now_ms: int | None = None,
             shop_users: Sequence[str] = ()) -> Snapshot:  # fmt: skip
    """Read the newest windows with their top pages, the newest sessions and the totals.

    Also the sessions of ``shop_users``: who clicked in the demo shop.
    """
    keys = Keys(settings.key_prefix)
    windows = read_model.newest_windows(conn, keys, RECENT_WINDOWS, window_ms=settings.window_ms)
    shop = [s for u in shop_users for s in read_model.user_sessions(conn, keys, u, SHOP_SESSIONS)]
    shop.sort(key=lambda s: s.start_ms, reverse=True)
    return Snapshot(
        shop_users=len(shop_users),
        shop_sessions=shop[:SHOP_SESSIONS],
        taken_ms=now_ms or int(time.time() * 1000),
        settings=settings,
        windows=windows,
        top_pages={w.start_ms: read_model.top_pages(conn, keys, [w.start_ms], 5) for w in windows},
        sessions=read_model.sessions(conn, keys, 0, 2**62, RECENT_SESSIONS),
        totals=read_model.totals(conn, keys),
    )


def _clock(ms: int, seconds: bool = False) -> str:
    return time.strftime("%H:%M:%S" if seconds else "%H:%M", time.gmtime(ms / 1000))


def window_title(settings: PipelineSettings) -> str:
    """``One-minute windows``, ``30-second windows``, ..."""
    s = settings.window_s
    size = {60: "One-minute", 3600: "One-hour"}.get(s) or (
        f"{s // 60}-minute" if s % 60 == 0 else f"{s}-second"
    )
    return f"{size} windows (UTC; newest first)"


def _countries(w: Window, n: int = 3) -> str:
    return ", ".join(f"{c} {v}" for c, v in list(w.countries.items())[:n])


def render(snap: Snapshot, header: str = "") -> Group:
    """The view: windows, recent sessions, fault counts and freshness."""
    p = snap.settings
    windows = Table(title=window_title(p), expand=True)
    if not snap.windows:
        windows.caption = (f"no results yet: early results follow each event within about "
                           f"{p.early_fire_ms} ms of its arrival; a window is final "
                           f"{p.watermark_delay_ms // 1000} s after its end")  # fmt: skip
    with_seconds = p.window_ms % MINUTE_MS != 0
    for col in ("window", "state", "events", "users", "sessions", "bots", "top pages",
                "countries"):  # fmt: skip
        windows.add_column(col, justify="right" if col in ("events", "users") else "left")
    for w in snap.windows:
        pages = ", ".join(f"{pc.page_url} {pc.events}" for pc in snap.top_pages.get(w.start_ms, []))
        windows.add_row(_clock(w.start_ms, with_seconds), "final" if w.final else "early",
                        str(w.events), str(w.users), str(w.sessions), str(w.bot_events), pages,
                        _countries(w))  # fmt: skip
    sessions = Table(title="Recent sessions", expand=True)
    for col in ("user", "device", "start", "duration", "events", "first", "last", "country"):
        sessions.add_column(col)
    for s in snap.sessions:
        sessions.add_row(s.user_id, s.device_id, _clock(s.start_ms), f"{s.duration_ms / 1000:.0f}s",
                         str(s.events), s.first_event, s.last_event, s.countrycode)  # fmt: skip
    parts: list[Any] = [Text(header, style="bold")] if header else []
    parts += [windows, sessions]
    if snap.shop_users:
        shop = Table(title="Your sessions (clicks from the demo shop, through the HTTP collector)",
                     expand=True)  # fmt: skip
        for col in ("user", "device", "start", "duration", "events", "first", "last"):
            shop.add_column(col)
        for s in snap.shop_sessions:
            shop.add_row(s.user_id, s.device_id, _clock(s.start_ms), f"{s.duration_ms / 1000:.0f}s",
                         str(s.events), s.first_event, s.last_event)  # fmt: skip
        if not snap.shop_sessions:
            shop.caption = (f"{snap.shop_users} visitor(s) clicking; a session shows "
                            f"{p.session_gap_ms // 1000} s after its last click")  # fmt: skip
        parts.append(shop)
    t = snap.totals
    fresh = snap.freshness_s
    line = Text(
        f"accepted {t.accepted}  invalid (dead letter) {t.invalid}  late {t.late}  "
        f"bots {t.bot_events}  duplicates {t.duplicates}  |  newest result "
        + (f"{fresh:.1f}s ago" if fresh is not None else "not yet")
    )
    return Group(*parts, line)
