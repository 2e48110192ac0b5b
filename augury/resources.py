"""Names shared by the CDK stacks, the Lambda, the Flink job and the local tooling."""

from __future__ import annotations

from pathlib import Path
from typing import Final

DEFAULT_STREAM_NAME: Final = "augury-clicks"
"""The Kinesis stream of raw click events (overridden by ``AUGURY_STREAM_NAME``)."""

METRICS_NAMESPACE: Final = "Augury"
"""CloudWatch namespace of the pipeline's own metrics (the generator's EMF, the job's counters)."""

LOCAL_RAW_BUCKET: Final = "augury-raw-local"
"""Locally, the raw archive's bucket (in AWS: ``augury-<env>-raw-<account>``)."""

LOCAL_SCHEDULE_QUEUE: Final = "augury-clickgen-schedule"
"""Locally, the EventBridge schedule delivers to this SQS queue; the local runner reads it."""

LOCAL_SCHEDULE_RULE: Final = "augury-local-clickgen-schedule"
"""Locally, the EventBridge rule of the generator's schedule (the CDK local mode deploys it; the
local runner creates it only when no deploy did)."""

JOB_METRICS: Final = ("Accepted", "Invalid", "Duplicates", "BotEvents", "Late", "ResultAgeMs")
"""What the Flink job publishes to ``METRICS_NAMESPACE`` (dimension ``job``): one counter per
``augury.redis_keys.TOTAL_FIELDS`` total, in that order, then the age of the newest result."""

GENERATOR_METRICS: Final = ("EventsSent", "FailedRecords", "ThrottledRecords")
"""The generator's EMF metrics in ``METRICS_NAMESPACE`` (dimension ``service=clickgen``)."""

FLINK_JAR_NAME: Final = "augury-flink-connectors.jar"
_CODE_ROOT: Final = Path(__file__).resolve().parents[1]
_ZIP_JAR: Final = _CODE_ROOT / "lib" / FLINK_JAR_NAME
FLINK_JAR: Final = (
    _ZIP_JAR if _ZIP_JAR.exists() else _CODE_ROOT / "flink_app" / "target" / FLINK_JAR_NAME
)
"""The job's jar (ParseClick, the Kinesis connector): in a checkout as ``make flink-jar`` builds
it; in the unpacked Managed Flink zip, the zip's own ``lib/<FLINK_JAR_NAME>`` (the run options'
``jarfile``, which the service puts on the class path itself)."""
