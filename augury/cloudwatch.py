"""Pipeline metrics into CloudWatch: EMF documents (the generator) and the job's counters.

In AWS, CloudWatch extracts the metrics of Embedded Metric Format log lines by itself. Locally
the handler runs outside Lambda, so ``EmfForwarder`` does that extraction: it passes stdout
through and sends every EMF document it sees to CloudWatch (LocalStack's) with PutMetricData.
``JobMetricsPublisher`` turns the job's totals in Redis into per-interval counts.
"""

from __future__ import annotations

import io
import json
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

from augury import read_model
from augury.read_model import Totals
from augury.redis_keys import TOTAL_FIELDS, Keys
from augury.resources import JOB_METRICS, METRICS_NAMESPACE

JOB_DIMENSION = ("job", "sessionizer")
"""The dimension of the job's metrics (the dashboard's widgets name it)."""
_TOTAL_OF_METRIC = dict(zip(JOB_METRICS[:-1], TOTAL_FIELDS, strict=True))
"""Each counter metric and the total it counts (``JOB_METRICS`` lists them in that order)."""

Datum = dict[str, Any]


def emf_metric_data(doc: dict[str, Any]) -> list[tuple[str, Datum]]:
    """(namespace, PutMetricData datum) pairs of one EMF document (empty when it is not one)."""
    meta = doc.get("_aws")
    if not isinstance(meta, dict):
        return []
    stamp = datetime.fromtimestamp(int(meta.get("Timestamp", time.time() * 1000)) / 1000, UTC)
    out: list[tuple[str, Datum]] = []
    for directive in meta.get("CloudWatchMetrics", []):
        namespace = directive["Namespace"]
        for dimension_set in directive.get("Dimensions", [[]]):
            dims = [{"Name": d, "Value": str(doc[d])} for d in dimension_set if d in doc]
            for metric in directive.get("Metrics", []):
                value = doc.get(metric["Name"])
                if value is None:
                    continue
                datum: Datum = {"MetricName": metric["Name"], "Dimensions": dims,
                                "Timestamp": stamp, "Unit": metric.get("Unit", "None")}  # fmt: skip
                if isinstance(value, list):
                    datum["Values"] = [float(v) for v in value]
                else:
                    datum["Value"] = float(value)
                out.append((namespace, datum))
    return out


def put(cloudwatch: Any, data: list[tuple[str, Datum]]) -> None:
    """PutMetricData, grouped by namespace, in batches of 20."""
    by_namespace: dict[str, list[Datum]] = {}
    for namespace, datum in data:
        by_namespace.setdefault(namespace, []).append(datum)
    for namespace, items in by_namespace.items():
        for i in range(0, len(items), 20):
            cloudwatch.put_metric_data(Namespace=namespace, MetricData=items[i : i + 20])


class EmfForwarder(io.TextIOBase):
    """A text stream that passes writes through and forwards EMF lines to CloudWatch."""

    def __init__(self, target: TextIO, cloudwatch: Any) -> None:
        self.target = target
        self.cloudwatch = cloudwatch
        self.buffer_text = ""
        self.forwarded = 0
        self.lock = threading.Lock()

    def write(self, text: str) -> int:
        """Write through; publish each complete line that is an EMF document."""
        self.target.write(text)
        with self.lock:
            self.buffer_text += text
            *lines, self.buffer_text = self.buffer_text.split("\n")
        for line in lines:
            if '"_aws"' not in line:
                continue
            try:
                data = emf_metric_data(json.loads(line))
                put(self.cloudwatch, data)
                self.forwarded += len(data)
            except Exception as exc:  # a metric must never fail the handler
                print(f"[emf] not forwarded: {exc}", file=sys.stderr)
        return len(text)

    def flush(self) -> None:
        """Flush the target."""
        self.target.flush()


@contextmanager
def forward_emf(cloudwatch: Any) -> Iterator[EmfForwarder]:
    """Within the block, EMF lines printed to stdout also reach ``cloudwatch``."""
    forwarder = EmfForwarder(sys.stdout, cloudwatch)
    saved, sys.stdout = sys.stdout, forwarder
    try:
        yield forwarder
    finally:
        sys.stdout = saved


def job_metric_data(before: Totals, now: Totals, newest_update_ms: int | None, now_ms: int,
                    job: str = JOB_DIMENSION[1]) -> list[tuple[str, Datum]]:  # fmt: skip
    """The job's metrics for one interval: counts since ``before``, and the result age.

    ``ResultAgeMs`` is how long ago the newest result was written to Redis.
    """
    stamp = datetime.fromtimestamp(now_ms / 1000, UTC)
    dims = [{"Name": JOB_DIMENSION[0], "Value": job}]
    data: list[tuple[str, Datum]] = []
    for metric, total in _TOTAL_OF_METRIC.items():
        count = max(0, getattr(now, total) - getattr(before, total))
        data.append((METRICS_NAMESPACE, {"MetricName": metric, "Dimensions": dims,
                                         "Timestamp": stamp, "Value": float(count),
                                         "Unit": "Count"}))  # fmt: skip
    if newest_update_ms is not None:
        age = float(max(0, now_ms - newest_update_ms))
        data.append((METRICS_NAMESPACE, {"MetricName": JOB_METRICS[-1], "Dimensions": dims,
                                         "Timestamp": stamp, "Value": age,
                                         "Unit": "Milliseconds"}))  # fmt: skip
    return data


@dataclass
class JobMetricsPublisher:
    """Publishes the job's counters from Redis's totals; the first read is the baseline.

    Totals are absolute since the job's state began (a restored job's included), so counting
    from a baseline read at start never counts an event twice.
    """

    cloudwatch: Any
    conn: Any
    keys: Keys
    job: str = JOB_DIMENSION[1]
    baseline: Totals = field(init=False)

    def __post_init__(self) -> None:
        self.baseline = read_model.totals(self.conn, self.keys)

    def publish(self) -> list[tuple[str, Datum]]:
        """Read the totals, publish the counts since the last call; the data sent."""
        now = read_model.totals(self.conn, self.keys)
        newest = read_model.newest_update_ms(self.conn, self.keys)
        data = job_metric_data(self.baseline, now, newest, int(time.time() * 1000), self.job)
        put(self.cloudwatch, data)
        self.baseline = now
        return data
