"""How much pipelining buys when writing window results to Redis (the Flink sink's design).

Baseline: one HSET round trip per result, as a naive per-event consumer would do.
"""

from __future__ import annotations

import redis

from augury.endpoints import Endpoints
from bench.harness import BenchResult, best_of

ROWS = 20_000
PREFIX = "augury:bench:redis_writes"


def _rows() -> list[tuple[str, dict[str, int]]]:
    return [(f"{PREFIX}:{i}", {"events": i, "users": i % 97, "final": 1}) for i in range(ROWS)]


def run() -> BenchResult:
    """Measure per-command HSET against pipelined batches of 500 and 5000."""
    conn = redis.Redis.from_url(Endpoints.local().redis_url)
    rows = _rows()

    def one_by_one() -> None:
        for key, mapping in rows:
            conn.hset(key, mapping=mapping)  # type: ignore[arg-type]

    def pipelined(batch: int) -> None:
        for start in range(0, ROWS, batch):
            pipe = conn.pipeline(transaction=False)
            for key, mapping in rows[start : start + batch]:
                pipe.hset(key, mapping=mapping)  # type: ignore[arg-type]
            pipe.execute()

    result = BenchResult("redis_writes", "rows/s")
    result.measurements.append(best_of(3, "per-command (baseline)", ROWS, one_by_one))
    result.measurements.append(best_of(3, "pipeline 500", ROWS, lambda: pipelined(500)))
    result.measurements.append(best_of(3, "pipeline 5000", ROWS, lambda: pipelined(5000)))
    for start in range(0, ROWS, 5000):
        conn.delete(*[key for key, _ in rows[start : start + 5000]])
    return result
