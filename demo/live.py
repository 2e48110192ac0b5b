"""The demo's terminal view: what the Redis contract holds, refreshed every second (rich)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from augury.redis_keys import COUNTRY_FIELD_PREFIX, Keys

RECENT_WINDOWS = 5
RECENT_SESSIONS = 8


@dataclass
class Window:
    """One window's metrics as the view shows them."""

    start_ms: int
    fields: dict[str, str]
    top_pages: list[tuple[str, float]]

    def count(self, name: str) -> int:
        """A numeric field (0 when absent)."""
        return int(self.fields.get(name, "0"))

    def countries(self, n: int = 3) -> str:
        """The ``n`` biggest countries, e.g. ``US 40, DE 12``."""
        pairs = [(k[len(COUNTRY_FIELD_PREFIX) :], int(v)) for k, v in self.fields.items()
                 if k.startswith(COUNTRY_FIELD_PREFIX)]  # fmt: skip
        pairs.sort(key=lambda p: (-p[1], p[0]))
        return ", ".join(f"{c} {v}" for c, v in pairs[:n])


@dataclass
class Snapshot:
    """Everything the view shows, read from Redis at one moment."""

    taken_ms: int
    windows: list[Window] = field(default_factory=list)
    sessions: list[dict[str, str]] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def freshness_s(self) -> float | None:
        """Seconds since the newest result was written (None before the first)."""
        stamps = [w.count("updated_ms") for w in self.windows if "updated_ms" in w.fields]
        return (self.taken_ms - max(stamps)) / 1000 if stamps else None


def snapshot(conn: Any, keys: Keys, now_ms: int | None = None) -> Snapshot:
    """Read the newest windows, the newest sessions and the totals (``decode_responses``)."""
    snap = Snapshot(taken_ms=now_ms or int(time.time() * 1000))
    for member in conn.zrevrange(keys.windows, 0, RECENT_WINDOWS - 1):
        start = int(member)
        snap.windows.append(
            Window(
                start,
                conn.hgetall(keys.window(start)),
                conn.zrevrange(keys.window_pages(start), 0, 4, withscores=True),
            )
        )
    for sid in conn.zrevrange(keys.sessions, 0, RECENT_SESSIONS - 1):
        fields = conn.hgetall(keys.session(sid))
        if fields:
            snap.sessions.append(fields)
    snap.totals = {k: int(v) for k, v in conn.hgetall(keys.totals).items()}
    return snap


def _clock(ms: int) -> str:
    return time.strftime("%H:%M", time.gmtime(ms / 1000))


def render(snap: Snapshot, header: str = "") -> Group:
    """The view: windows, recent sessions, fault counts and freshness."""
    windows = Table(title="One-minute windows (UTC; newest first)", expand=True)
    for col in ("window", "state", "events", "users", "sessions", "bots", "top pages",
                "countries"):  # fmt: skip
        windows.add_column(col, justify="right" if col in ("events", "users") else "left")
    for w in snap.windows:
        pages = ", ".join(f"{p} {int(n)}" for p, n in w.top_pages)
        state = "final" if w.fields.get("final") == "1" else "early"
        windows.add_row(_clock(w.start_ms), state, str(w.count("events")), str(w.count("users")),
                        str(w.count("sessions")), str(w.count("bot_events")), pages,
                        w.countries())  # fmt: skip
    sessions = Table(title="Recent sessions", expand=True)
    for col in ("user", "device", "start", "duration", "events", "first", "last", "country"):
        sessions.add_column(col)
    for s in snap.sessions:
        sessions.add_row(s.get("user_id", ""), s.get("device_id", ""),
                         _clock(int(s.get("start_ms", 0))),
                         f"{int(s.get('duration_ms', 0)) / 1000:.0f}s", s.get("events", ""),
                         s.get("first_event", ""), s.get("last_event", ""),
                         s.get("countrycode", ""))  # fmt: skip
    t = snap.totals
    fresh = snap.freshness_s
    line = Text(
        f"accepted {t.get('accepted', 0)}  invalid (dead letter) {t.get('invalid', 0)}  "
        f"late {t.get('late', 0)}  bots {t.get('bot_events', 0)}  "
        f"duplicates {t.get('duplicates', 0)}  |  newest result "
        + (f"{fresh:.1f}s ago" if fresh is not None else "not yet")
    )
    parts: list[Any] = [Text(header, style="bold")] if header else []
    return Group(*parts, windows, sessions, line)
