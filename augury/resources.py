"""Names shared by the CDK stacks, the Lambda, the Flink job and the local tooling."""

from __future__ import annotations

from typing import Final

DEFAULT_STREAM_NAME: Final = "augury-clicks"
"""The Kinesis stream of raw click events (overridden by ``AUGURY_STREAM_NAME``)."""

METRICS_NAMESPACE: Final = "Augury"
"""CloudWatch namespace of the pipeline's own metrics (the generator's EMF, the job's counters)."""

LOCAL_RAW_BUCKET: Final = "augury-raw-local"
"""Locally, the raw archive's bucket (in AWS: ``augury-<env>-raw-<account>``)."""

LOCAL_SCHEDULE_QUEUE: Final = "augury-clickgen-schedule"
"""Locally, the EventBridge schedule delivers to this SQS queue; the local runner reads it."""

LOCAL_SCHEDULE_RULE: Final = "augury-clickgen-schedule"
"""The local EventBridge rule that stands in for the Lambda's schedule."""

JOB_METRICS: Final = ("Accepted", "Invalid", "Duplicates", "BotEvents", "Late", "ResultAgeMs")
"""Counters the Flink job publishes to ``METRICS_NAMESPACE`` (dimension ``job``)."""

GENERATOR_METRICS: Final = ("EventsSent", "FailedRecords", "ThrottledRecords")
"""The generator's EMF metrics in ``METRICS_NAMESPACE`` (dimension ``service=clickgen``)."""
