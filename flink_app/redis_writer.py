"""Writing the job's results to Redis under the key layout of ``augury.redis_keys``.

Every write is absolute (HSET, ZADD), so writing the same result twice changes nothing; the
totals only ever grow (a value lower than the stored one is an older one, and is not written).
Every sorted set is trimmed in the same pipeline: members scored more than the retention
before the newest score written are removed, so memory stays flat at a constant rate. Writes are
pipelined per batch; when Redis is unreachable the batch is retried with backoff, never dropped
(after ``give_up_s`` the error is raised so that Flink restarts from its checkpoint).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final

import redis

from augury.redis_keys import TOTAL_FIELDS, Keys, session_id
from augury.retry import backoff_s

# Each field of KEYS[1] is set to ARGV's value unless the stored one is larger: a counter
# never goes backwards, whatever the order in which a changelog's rows reach Redis.
RAISE_TO_LUA: Final = """
for i = 1, #ARGV, 2 do
  local stored = redis.call('HGET', KEYS[1], ARGV[i])
  if (not stored) or tonumber(ARGV[i + 1]) > tonumber(stored) then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
return 0
"""


def newest_totals(rows: Iterable[Sequence[int]]) -> dict[str, int]:
    """The newest value of each counter in a batch of totals rows: the largest.

    Every counter only grows within a run, so a smaller value is an older one (or a changelog's
    retraction of one); ``rows`` are in ``TOTAL_FIELDS`` order.
    """
    newest = [max(column) for column in zip(*rows, strict=True)]
    if not newest:
        return {}
    return dict(zip(TOTAL_FIELDS, newest, strict=True))


def trim_horizon(scores: Iterable[int], ttl_s: int) -> int | None:
    """The score below which a sorted set's members are gone: the newest written - retention.

    Relative to the data, not to the clock, so results of a replay of old data stay listed for
    the retention period after it, as their hashes' TTLs keep them readable.
    """
    newest = max(scores, default=None)
    return None if newest is None else newest - ttl_s * 1000


class RedisWriter:
    """Pipelined, idempotent writes of windows, sessions and totals."""

    def __init__(
        self,
        client: redis.Redis,
        keys: Keys,
        ttl_s: int,
        give_up_s: float = 300.0,
        backoff_base_ms: int = 50,
        clock_ms: Callable[[], int] = lambda: int(time.time() * 1000),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.keys = keys
        self.ttl_s = ttl_s
        self.give_up_s = give_up_s
        self.backoff_base_ms = backoff_base_ms
        self.rng = random.Random()
        self.clock_ms = clock_ms
        self.sleep = sleep
        self.raise_to = client.register_script(RAISE_TO_LUA)

    def _trim(self, pipe: Any, key: str, scores: Iterable[int]) -> None:
        horizon = trim_horizon(scores, self.ttl_s)
        if horizon is not None:
            pipe.zremrangebyscore(key, "-inf", f"({horizon}")

    def _execute(self, build: Callable[[Any], None]) -> None:
        deadline = time.monotonic() + self.give_up_s
        attempt = 0
        while True:
            try:
                pipe = self.client.pipeline(transaction=False)
                build(pipe)
                pipe.execute()
                return
            except (redis.ConnectionError, redis.TimeoutError):
                attempt += 1
                if time.monotonic() > deadline:
                    raise
                self.sleep(backoff_s(attempt, self.backoff_base_ms, self.rng))

    def windows(self, rows: Iterable[tuple[int, int, int, int | None, int, bool]]) -> int:
        """(window_start_ms, events, users, sessions, bot_events, final) rows.

        ``sessions`` None (streaming, early or final results): the session branch writes it as
        sessions close, so it is only set to 0 when absent (HSETNX) and never hidden.
        """
        rows = list(rows)
        now = self.clock_ms()

        def build(pipe: Any) -> None:
            for ws, events, users, sessions, bot_events, final in rows:
                key = self.keys.window(ws)
                fields = {"events": events, "users": users, "bot_events": bot_events,
                          "final": int(final), "updated_ms": now}  # fmt: skip
                if final:  # when the window first became final (freshness checks)
                    pipe.hsetnx(key, "final_ms", now)
                if sessions is None:
                    pipe.hsetnx(key, "sessions", 0)
                else:
                    fields["sessions"] = sessions
                pipe.hset(key, mapping=fields)
                pipe.expire(key, self.ttl_s)
                pipe.zadd(self.keys.windows, {str(ws): ws})
            if rows:
                self._trim(pipe, self.keys.windows, (row[0] for row in rows))
                pipe.expire(self.keys.windows, self.ttl_s)

        self._execute(build)
        return len(rows)

    def window_dims(self, rows: Iterable[tuple[int, str, int, str]]) -> int:
        """(window_start_ms, member, count, kind) rows; kind 'hash' (evt:/cc:) or 'pages'."""
        rows = list(rows)

        def build(pipe: Any) -> None:
            for ws, member, count, kind in rows:
                if kind == "pages":
                    key = self.keys.window_pages(ws)
                    pipe.zadd(key, {member: count})
                else:
                    key = self.keys.window(ws)
                    pipe.hset(key, member, count)
                pipe.expire(key, self.ttl_s)

        self._execute(build)
        return len(rows)

    def sessions(self, rows: Iterable[tuple[str, str, int, int, int, str, str, str]]) -> int:
        """(user_id, device_id, start_ms, end_ms, events, first, last, countrycode) rows."""
        rows = list(rows)

        def build(pipe: Any) -> None:
            starts_by_user: dict[str, list[int]] = {}
            for user, device, start, end, events, first, last, country in rows:
                sid = session_id(user, device, start)
                key = self.keys.session(sid)
                pipe.hset(key, mapping={
                    "user_id": user, "device_id": device, "start_ms": start, "end_ms": end,
                    "duration_ms": end - start, "events": events, "first_event": first,
                    "last_event": last, "countrycode": country,
                })  # fmt: skip
                pipe.expire(key, self.ttl_s)
                pipe.zadd(self.keys.sessions, {sid: start})
                user_key = self.keys.user_sessions(user)
                pipe.zadd(user_key, {sid: start})
                pipe.expire(user_key, self.ttl_s)
                starts_by_user.setdefault(user, []).append(start)
            for user, starts in starts_by_user.items():
                self._trim(pipe, self.keys.user_sessions(user), starts)
            if rows:
                self._trim(pipe, self.keys.sessions, (row[2] for row in rows))
                pipe.expire(self.keys.sessions, self.ttl_s)

        self._execute(build)
        return len(rows)

    def totals(self, counts: Mapping[str, int]) -> None:
        """Pipeline totals, one per ``TOTAL_FIELDS`` (the one key that never expires).

        One round trip; a counter is only raised, never lowered (see ``RAISE_TO_LUA``).
        """
        missing = set(TOTAL_FIELDS) - set(counts)
        if missing:
            raise ValueError(f"totals without {sorted(missing)}")
        args = [x for field in TOTAL_FIELDS for x in (field, int(counts[field]))]
        self._execute(lambda pipe: self.raise_to(keys=[self.keys.totals], args=args, client=pipe))
