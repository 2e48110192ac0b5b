"""Metrics reach LocalStack's CloudWatch (EMF lines, the job's counters) and render to a PNG."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis
from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from augury.cloudwatch import JobMetricsPublisher, forward_emf
from augury.endpoints import Endpoints
from augury.redis_keys import Keys
from augury.resources import METRICS_NAMESPACE
from flink_app.redis_sink import SinkWriter
from localplatform import dashboard_png


def _sum(cw: Any, namespace: str, name: str, dims: dict[str, str]) -> float:
    deadline = time.monotonic() + 20
    while True:
        got = cw.get_metric_statistics(
            Namespace=namespace, MetricName=name, Statistics=["Sum"], Period=60,
            Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()],
            StartTime=datetime.now(UTC) - timedelta(minutes=10),
            EndTime=datetime.now(UTC) + timedelta(minutes=1),
        )  # fmt: skip
        total = float(sum(p["Sum"] for p in got["Datapoints"]))
        if total or time.monotonic() > deadline:
            return total
        time.sleep(1)


def test_powertools_emf_lines_reach_cloudwatch(endpoints: Endpoints) -> None:
    cw = endpoints.client("cloudwatch")
    service = f"test-{uuid.uuid4().hex[:8]}"
    metrics = Metrics(namespace=METRICS_NAMESPACE, service=service)
    metrics.add_metric(name="EventsSent", unit=MetricUnit.Count, value=42)
    with forward_emf(cw) as forwarder:
        metrics.flush_metrics()
    assert forwarder.forwarded == 1
    assert _sum(cw, METRICS_NAMESPACE, "EventsSent", {"service": service}) == 42


def test_job_counters_are_published_as_interval_counts(endpoints: Endpoints) -> None:
    cw = endpoints.client("cloudwatch")
    keys = Keys(f"augury:test:{uuid.uuid4().hex[:8]}:")
    writer = SinkWriter(endpoints.redis_url, keys, ttl_s=120)
    conn = redis.Redis.from_url(endpoints.redis_url, decode_responses=True)
    writer.totals(
        {"accepted": 5, "invalid": 1, "duplicates": 0, "bot_events": 0, "late": 0}
    )  # before the job (re)started: the baseline
    job = f"test-{uuid.uuid4().hex[:8]}"
    publisher = JobMetricsPublisher(cw, conn, keys, job=job)
    writer.totals({"accepted": 12, "invalid": 3, "duplicates": 1, "bot_events": 0, "late": 0})
    publisher.publish()
    writer.totals({"accepted": 20, "invalid": 3, "duplicates": 1, "bot_events": 2, "late": 0})
    publisher.publish()
    dims = {"job": job}
    assert _sum(cw, METRICS_NAMESPACE, "Accepted", dims) == 15  # 7 + 8, not the 20 total
    assert _sum(cw, METRICS_NAMESPACE, "Invalid", dims) == 2
    assert _sum(cw, METRICS_NAMESPACE, "BotEvents", dims) == 2
    writer.close()
    conn.delete(*conn.scan_iter(f"{keys.prefix}*"))


def test_a_dashboard_renders_to_png_from_get_metric_data(endpoints: Endpoints,
                                                         tmp_path: Path) -> None:  # fmt: skip
    cw = endpoints.client("cloudwatch")
    job = f"test-{uuid.uuid4().hex[:8]}"
    datum = {"MetricName": "Late", "Dimensions": [{"Name": "job", "Value": job}], "Value": 3.0}
    cw.put_metric_data(Namespace=METRICS_NAMESPACE, MetricData=[datum])
    name = f"augury-test-{job}"
    cw.put_dashboard(DashboardName=name, DashboardBody=json.dumps({"widgets": [
        {"type": "text", "x": 0, "y": 0, "width": 24, "height": 1,
         "properties": {"markdown": "## T"}},
        {"type": "metric", "x": 0, "y": 1, "width": 12, "height": 6, "properties": {
            "title": "late", "metrics": [["Augury", "Late", "job", job, {"stat": "Sum"}]]}},
        {"type": "metric", "x": 12, "y": 1, "width": 12, "height": 6, "properties": {
            "title": "nothing", "metrics": [["Augury", "Late", "job", "no-such-job"]]}},
    ]}))  # fmt: skip
    try:
        out = tmp_path / "dash.png"
        points = dashboard_png.render(cw, name, out, minutes=15)
        assert points["late"] >= 1 and points["nothing"] == 0
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        cw.delete_dashboards(DashboardNames=[name])
