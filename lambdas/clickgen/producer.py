"""One invocation's work: generate a window of traffic and put it, paced in real time."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from augury import events as contract
from lambdas.clickgen import traffic
from lambdas.clickgen.config import GeneratorConfig
from lambdas.clickgen.kinesis_writer import KinesisWriter, PutStats, Record


class RecordsNotDeliveredError(RuntimeError):
    """Some records still failed after every attempt (the invocation must be retried)."""


@dataclass
class Summary:
    """What one invocation produced and what happened to it."""

    stream: str
    window_start: str
    window_end: str
    records: int
    put: PutStats
    injected: dict[str, int]
    malformed_by_reason: dict[str, int]
    elapsed_s: float = 0.0
    by_kind: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The JSON summary the handler returns and logs."""
        return {
            "stream": self.stream,
            "window_start": self.window_start,
            "window_end": self.window_end,
            "records": self.records,
            "sent": self.put.sent,
            "failed": self.put.failed,
            "retried": self.put.retried,
            "throttled": self.put.throttled,
            "put_calls": self.put.calls,
            "injected": self.injected,
            "malformed_by_reason": self.malformed_by_reason,
            "by_kind": self.by_kind,
            "elapsed_s": round(self.elapsed_s, 3),
        }


def produce(
    cfg: GeneratorConfig,
    start_ms: int,
    writer: KinesisWriter,
    clock_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[int, int], None] | None = None,
) -> Summary:
    """Produce ``cfg.duration_s`` seconds of traffic from ``start_ms`` into the stream.

    With ``cfg.pace`` each second's records are put when that second is over on ``clock_ms``, as
    a site sends a click after it happens (none is stamped after its arrival, so none is moved
    to it: the contract's clock-skew rule); a window already in the past is caught up at once.
    Otherwise all are put immediately.
    """
    began = time.monotonic()
    end_ms = start_ms + cfg.duration_s * 1000
    window = traffic.generate(cfg, start_ms, end_ms)
    stats = PutStats()
    done = 0
    for second, group in groupby(window.records, key=lambda r: r.emit_ms // 1000):
        if cfg.pace:
            wait_ms = (second + 1) * 1000 - clock_ms()
            if wait_ms > 0:
                sleep(wait_ms / 1000)
        batch = [Record(r.data, r.partition_key) for r in group]
        stats.add(writer.put(batch))
        done += len(batch)
        if progress is not None:
            progress(done, len(window.records))
    counts = window.counts()
    summary = Summary(
        stream=writer.stream_name,
        window_start=contract.format_timestamp(start_ms),
        window_end=contract.format_timestamp(end_ms),
        records=len(window.records),
        put=stats,
        injected={
            kind: counts.get(kind, 0)
            for kind in (traffic.BOT, traffic.MALFORMED, traffic.DUPLICATE, traffic.LATE)
        },
        malformed_by_reason=dict(sorted(window.malformed_reasons().items())),
        by_kind=dict(sorted(counts.items())),
    )
    summary.elapsed_s = time.monotonic() - began
    return summary
