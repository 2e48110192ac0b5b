"""The Redis sink: vectorized (pandas) Python functions at the very end of the job.

Each call receives a batch of result rows (Arrow batches) and writes them in one Redis
pipeline, so a batch is written before the operator acknowledges it and a checkpoint never
completes with a write outstanding. Python appears only here, at the edge: all event-level
work happens in Flink SQL, in the JVM.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import redis
from pyflink.table import DataTypes
from pyflink.table.udf import FunctionContext, ScalarFunction, udf

from augury.redis_keys import TOTAL_FIELDS, Keys
from flink_app.redis_writer import RedisWriter, newest_totals


class _RedisSink(ScalarFunction):  # type: ignore[misc]
    def __init__(self, redis_url: str, key_prefix: str, ttl_s: int, monotonic: bool) -> None:
        self.redis_url = redis_url
        self.key_prefix = key_prefix
        self.ttl_s = ttl_s
        self.monotonic = monotonic
        self.writer: RedisWriter | None = None

    def open(self, function_context: FunctionContext) -> None:
        self.writer = RedisWriter(redis.Redis.from_url(self.redis_url), Keys(self.key_prefix),
                                  self.ttl_s, monotonic=self.monotonic)  # fmt: skip

    def close(self) -> None:
        if self.writer is not None:
            self.writer.client.close()

    def is_deterministic(self) -> bool:  # a side effect: never constant-folded or reused
        return False

    def _w(self) -> RedisWriter:
        assert self.writer is not None, "open() was not called"
        return self.writer


def _col(s: Any, n: int) -> list[Any]:
    """A column as a list; a constant argument (literal or folded) arrives as a scalar."""
    return s.tolist() if isinstance(s, pd.Series) else [s] * n


def _ints(s: Any, n: int) -> list[int]:
    return [int(x) for x in _col(s, n)]


class WindowSink(_RedisSink):
    """write_windows(ws, events, users, sessions, bot_events, final) -> rows written.

    ``sessions`` NULL (streaming): left to the session branch (see ``RedisWriter.windows``).
    """

    def eval(
        self,
        ws: pd.Series,
        events: pd.Series,
        users: pd.Series,
        sessions: pd.Series,
        bot_events: pd.Series,
        final: pd.Series,
    ) -> pd.Series:
        n = len(ws)
        rows = zip(
            _ints(ws, n),
            _ints(events, n),
            _ints(users, n),
            [None if pd.isna(x) else int(x) for x in _col(sessions, n)],
            _ints(bot_events, n),
            [bool(x) for x in _col(final, n)],
            strict=True,
        )
        self._w().windows(rows)
        return pd.Series([1] * len(ws))


class WindowDimSink(_RedisSink):
    """write_window_dims(ws, member, n, kind) -> rows written."""

    def eval(self, ws: pd.Series, member: pd.Series, n: pd.Series, kind: pd.Series) -> pd.Series:
        rows = len(ws)
        self._w().window_dims(
            zip(_ints(ws, rows), _col(member, rows), _ints(n, rows), _col(kind, rows), strict=True)
        )
        return pd.Series([1] * len(ws))


class SessionSink(_RedisSink):
    """write_sessions(user, device, start, end, events, first, last, country) -> rows."""

    def eval(
        self,
        user: pd.Series,
        device: pd.Series,
        start: pd.Series,
        end: pd.Series,
        events: pd.Series,
        first: pd.Series,
        last: pd.Series,
        country: pd.Series,
    ) -> pd.Series:
        n = len(user)
        self._w().sessions(
            zip(
                _col(user, n),
                _col(device, n),
                _ints(start, n),
                _ints(end, n),
                _ints(events, n),
                _col(first, n),
                _col(last, n),
                _col(country, n),
                strict=True,
            )
        )
        return pd.Series([1] * len(user))


class TotalsSink(_RedisSink):
    """write_totals(<augury.redis_keys.TOTAL_FIELDS, in order>, since) -> rows written.

    A batch of the totals' changelog (updates and their retractions alike: a function cannot
    tell them apart) is written once, as the newest value of each counter; ``since`` is when
    the counting job's state began.
    """

    def eval(self, *columns: pd.Series) -> pd.Series:
        n = len(columns[0])
        *counts, since = columns
        newest = newest_totals(zip(*(_ints(c, n) for c in counts), strict=True))
        if newest:
            self._w().totals(newest, str(_col(since, n)[-1]))
        return pd.Series([1] * n)


SINKS: dict[str, tuple[type[_RedisSink], int]] = {
    "write_windows": (WindowSink, 6),
    "write_window_dims": (WindowDimSink, 4),
    "write_sessions": (SessionSink, 8),
    "write_totals": (TotalsSink, len(TOTAL_FIELDS) + 1),
}


def register(t_env: Any, redis_url: str, key_prefix: str, ttl_s: int, monotonic: bool) -> None:
    """Register every Redis sink function in ``t_env`` (``monotonic``: a streaming job's)."""
    for name, (cls, _arity) in SINKS.items():
        fn = udf(cls(redis_url, key_prefix, ttl_s, monotonic), result_type=DataTypes.BIGINT(),
                 func_type="pandas")  # fmt: skip
        t_env.create_temporary_function(name, fn)
