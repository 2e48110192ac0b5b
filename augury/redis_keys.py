"""The Redis key layout: the product's read API (documented in docs/redis.md).

Every write is idempotent (absolute values with HSET/ZADD, never increments), so a replay or a
restore from a checkpoint can never double count. Every key but the totals expires after the
retention period.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Final

DEFAULT_PREFIX: Final = "augury:"
"""The key prefix when none is configured (the pipeline setting ``sink.redis.key.prefix``)."""

# Fields of a window hash (plus evt:{client_event} and cc:{countrycode} counts).
WINDOW_FIELDS: Final = (
    "events", "users", "sessions", "bot_events", "final", "updated_ms", "final_ms",
)  # fmt: skip
EVENT_FIELD_PREFIX: Final = "evt:"
COUNTRY_FIELD_PREFIX: Final = "cc:"
# Fields of a session hash.
SESSION_FIELDS: Final = (
    "user_id", "device_id", "start_ms", "end_ms", "duration_ms", "events",
    "first_event", "last_event", "countrycode",
)  # fmt: skip
# Fields of the totals hash.
TOTAL_FIELDS: Final = ("accepted", "invalid", "duplicates", "bot_events", "late")
TOTALS_SINCE: Final = "since"
"""The totals hash's other field: when the counting job's state began."""


SESSION_ID_SEPARATOR: Final = "|"
SESSION_ID_ESCAPES: Final = {"%": "%25", SESSION_ID_SEPARATOR: "%7C"}
_ESCAPES: Final = str.maketrans(SESSION_ID_ESCAPES)

KEY_TEMPLATES: Final = {
    "window": "win:{window_start_ms}",
    "window_pages": "win:{window_start_ms}:pages",
    "windows": "windows",
    "session": "session:{session_id}",
    "sessions": "sessions",
    "user_sessions": "user:{user_id}:sessions",
    "totals": "totals",
}
"""Every key's name after the prefix; ``{name}`` is filled in (``Keys`` here, ``RedisLayout`` in
the job's JVM sink, which receives them as :func:`layout_json`)."""


def session_id(user_id: str, device_id: str, start_ms: int) -> str:
    """A session's id: ``{user_id}|{device_id}|{start_ms}``, each id part escaped.

    ``%`` becomes ``%25`` and ``|`` becomes ``%7C`` in the ids, so the separator never occurs
    inside a part: two different (user, device, start) triples never share an id. An id with
    neither character is written as is.
    """
    sep = SESSION_ID_SEPARATOR
    return f"{user_id.translate(_ESCAPES)}{sep}{device_id.translate(_ESCAPES)}{sep}{start_ms}"


@dataclass(frozen=True)
class Keys:
    """Key names under one prefix (``augury:`` by default)."""

    prefix: str = DEFAULT_PREFIX

    def _key(self, name: str, **parts: object) -> str:
        return self.prefix + KEY_TEMPLATES[name].format(**parts)

    def window(self, window_start_ms: int) -> str:
        """Hash of one window's metrics."""
        return self._key("window", window_start_ms=window_start_ms)

    def window_pages(self, window_start_ms: int) -> str:
        """Sorted set of page_url -> count in one window."""
        return self._key("window_pages", window_start_ms=window_start_ms)

    @property
    def windows(self) -> str:
        """Sorted set of every window start (member and score)."""
        return self._key("windows")

    def session(self, sid: str) -> str:
        """Hash of one session's fields."""
        return self._key("session", session_id=sid)

    @property
    def sessions(self) -> str:
        """Sorted set of session_id -> start_ms."""
        return self._key("sessions")

    def user_sessions(self, user_id: str) -> str:
        """Sorted set of one user's session_id -> start_ms."""
        return self._key("user_sessions", user_id=user_id)

    @property
    def totals(self) -> str:
        """Hash of pipeline-wide counters (never expires)."""
        return self._key("totals")


def layout_json(prefix: str = DEFAULT_PREFIX) -> str:
    """The key layout as the job's Redis sink (Java) takes it: one definition, this module's.

    The prefix, every key template, the session id rule and the hashes' field names.
    """
    return json.dumps(
        {
            "prefix": prefix,
            "keys": KEY_TEMPLATES,
            "session_id": {"separator": SESSION_ID_SEPARATOR, "escapes": SESSION_ID_ESCAPES},
            "window_fields": WINDOW_FIELDS,
            "session_fields": SESSION_FIELDS,
            "total_fields": TOTAL_FIELDS,
            "totals_since": TOTALS_SINCE,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )
