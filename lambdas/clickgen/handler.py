"""The mock-click Lambda: an EventBridge schedule invokes it; it fills Kinesis with clicks.

Environment: ``AUGURY_STREAM_NAME`` and the ``CLICKGEN_*`` settings (see ``config``);
``POWERTOOLS_SERVICE_NAME`` / ``POWERTOOLS_METRICS_NAMESPACE`` for Powertools.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from augury import env as env_names
from augury.endpoints import Endpoints
from augury.resources import METRICS_NAMESPACE
from lambdas.clickgen.config import GeneratorConfig
from lambdas.clickgen.kinesis_writer import KinesisWriter
from lambdas.clickgen.models import ScheduledEvent
from lambdas.clickgen.producer import RecordsNotDeliveredError, Summary, produce

SERVICE = os.environ.get(env_names.POWERTOOLS_SERVICE_NAME, "clickgen")
NAMESPACE = os.environ.get(env_names.POWERTOOLS_METRICS_NAMESPACE, METRICS_NAMESPACE)

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = Tracer(service=SERVICE)


@lru_cache(maxsize=1)
def kinesis_client() -> Any:
    """The Kinesis client, created once per container (reused across warm invocations)."""
    return Endpoints.from_env().client("kinesis")


def record_metrics(summary: Summary) -> None:
    """EMF metrics: EventsSent, FailedRecords, ThrottledRecords, InjectedFaults by kind."""
    metrics.add_metric(name="EventsSent", unit=MetricUnit.Count, value=summary.put.sent)
    metrics.add_metric(name="FailedRecords", unit=MetricUnit.Count, value=summary.put.failed)
    metrics.add_metric(name="ThrottledRecords", unit=MetricUnit.Count, value=summary.put.throttled)
    for kind, count in summary.injected.items():
        with single_metric(
            name="InjectedFaults", unit=MetricUnit.Count, value=count, namespace=NAMESPACE
        ) as metric:
            metric.add_dimension(name="service", value=SERVICE)
            metric.add_dimension(name="kind", value=kind)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
@event_parser(model=ScheduledEvent)
def lambda_handler(event: ScheduledEvent, context: LambdaContext) -> dict[str, Any]:
    """Produce one window of traffic starting at the scheduled time; return the summary."""
    cfg = GeneratorConfig.from_sources(overrides=event.detail.model_dump(exclude_none=True))
    start_ms = int(event.time.timestamp()) * 1000
    writer = KinesisWriter(
        kinesis_client(),
        cfg.stream_name,
        max_attempts=cfg.max_attempts,
        backoff_base_ms=cfg.backoff_base_ms,
    )
    summary = produce(cfg, start_ms, writer)
    record_metrics(summary)
    result = summary.as_dict()
    logger.info("clickgen invocation summary", extra={"summary": result})
    if summary.put.failed:
        logger.error("records not delivered", extra={"failed": summary.put.failed})
        raise RecordsNotDeliveredError(
            f"{summary.put.failed} records still failed after {cfg.max_attempts} attempts"
        )
    return result
