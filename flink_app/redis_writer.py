"""Writing the job's results to Redis under the key layout of ``augury.redis_keys``.

Every write is absolute (HSET, ZADD), so writing the same result twice changes nothing. A
streaming job's writer is *monotonic*: a window's counts, its page counts and the totals only
ever grow within a run, so a value lower than the stored one is an older one (a changelog's
retraction, an update that reaches Redis late, a window fired again after its state was lost)
and is not written. A replay's writer sets values as they are. Every sorted set is trimmed in
the same pipeline: members scored more than the retention before the newest score written are
removed, so memory stays flat at a constant rate. Writes are pipelined per batch (one round
trip: scripts are sent with EVAL, never looked up first); when Redis is unreachable the batch
is retried with backoff, never dropped (after ``give_up_s`` the error is raised so that Flink
restarts from its checkpoint).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final

import redis

from augury.redis_keys import TOTAL_FIELDS, Keys, session_id
from augury.retry import backoff_s

_RAISE_FIELDS: Final = """
for i = {first}, #ARGV, 2 do
  local stored = redis.call('HGET', KEYS[1], ARGV[i])
  if (not stored) or tonumber(ARGV[i + 1]) > tonumber(stored) then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
return 0
"""

# Each field of the hash KEYS[1] is raised to its value in ARGV (field, value pairs), never
# lowered. One key per call: fine for Redis Cluster and ElastiCache Serverless.
RAISE_LUA: Final = _RAISE_FIELDS.format(first=1)

# The totals: ARGV[1] is when the counting job's state began (``since``). Counts of the same
# state are raised, never lowered; counts of another (a job started without state) replace them.
TOTALS_LUA: Final = """
if redis.call('HGET', KEYS[1], 'since') ~= ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'since', ARGV[1])
end""" + _RAISE_FIELDS.format(first=2)


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
    the retention period after it, as their hashes' TTLs keep them readable. Never above the
    oldest score of the batch: a member is not removed by the write that adds it (a session
    longer than the retention, a batch of old data).
    """
    scores = list(scores)
    if not scores:
        return None
    return min(max(scores) - ttl_s * 1000, min(scores))


class RedisWriter:
    """Pipelined, idempotent writes of windows, sessions and totals.

    ``monotonic`` (a streaming job's writer): counts are raised, never lowered (see above).
    """

    def __init__(
        self,
        client: redis.Redis,
        keys: Keys,
        ttl_s: int,
        monotonic: bool = False,
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
        self.monotonic = monotonic

    def _set(self, pipe: Any, key: str, counts: Mapping[str, int]) -> None:
        """HSET the counts; a monotonic writer only raises them."""
        if self.monotonic:
            args = [x for field, value in counts.items() for x in (field, int(value))]
            pipe.eval(RAISE_LUA, 1, key, *args)
        else:
            pipe.hset(key, mapping=dict(counts))

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
                counts = {"events": events, "users": users, "bot_events": bot_events,
                          "final": int(final)}  # fmt: skip
                if final:  # when the window first became final (freshness checks)
                    pipe.hsetnx(key, "final_ms", now)
                if sessions is None:
                    pipe.hsetnx(key, "sessions", 0)
                else:
                    counts["sessions"] = sessions
                self._set(pipe, key, counts)
                pipe.hset(key, "updated_ms", now)
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
                    pipe.zadd(key, {member: count}, gt=self.monotonic)
                else:
                    key = self.keys.window(ws)
                    self._set(pipe, key, {member: count})
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

    def totals(self, counts: Mapping[str, int], since: str = "") -> None:
        """Pipeline totals, one per ``TOTAL_FIELDS`` (the one key that never expires).

        ``since``: when the counting job's state began (its ``since`` field). One round trip. A
        monotonic writer raises the counts of the same ``since``, never lowers them, and replaces
        the counts of another (see ``TOTALS_LUA``); a replay's writer sets them.
        """
        missing = set(TOTAL_FIELDS) - set(counts)
        if missing:
            raise ValueError(f"totals without {sorted(missing)}")
        key = self.keys.totals
        mapping: dict[str, int | str] = {field: int(counts[field]) for field in TOTAL_FIELDS}
        if self.monotonic:
            args = [since, *(x for field, value in mapping.items() for x in (field, value))]
            self._execute(lambda pipe: pipe.eval(TOTALS_LUA, 1, key, *args))
        else:
            mapping["since"] = since

            def replace(pipe: Any) -> None:
                pipe.delete(key)
                pipe.hset(key, mapping=mapping)

            self._execute(replace)
