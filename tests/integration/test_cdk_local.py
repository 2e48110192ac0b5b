"""``cdklocal deploy`` of the CDK app's local mode to the running LocalStack, then destroy.

The tests run in file order: deploy (module fixture), check, and finally destroy.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from augury.resources import DEFAULT_STREAM_NAME, LOCAL_RAW_BUCKET, LOCAL_SCHEDULE_QUEUE
from localplatform import cdk_local
from localplatform.config import PlatformConfig

RAW_BUCKET = LOCAL_RAW_BUCKET
STACKS = {"Augury-local-Ingest", "Augury-local-RawStorage", "Augury-local-Observability"}


@pytest.fixture(scope="module")
def deployed(platform_up: PlatformConfig) -> Iterator[PlatformConfig]:
    """The local-mode stacks, deployed once for this module (and destroyed by the last test)."""
    cdk_local.deploy(platform_up)
    yield platform_up


def _stacks(cfg: PlatformConfig) -> dict[str, str]:
    summaries = cfg.endpoints.client("cloudformation").list_stacks()["StackSummaries"]
    return {
        s["StackName"]: s["StackStatus"]
        for s in summaries
        if s["StackName"] in STACKS and s["StackStatus"] != "DELETE_COMPLETE"
    }


def test_every_stack_reaches_create_complete(deployed: PlatformConfig) -> None:
    statuses = _stacks(deployed)
    assert set(statuses) == STACKS
    assert set(statuses.values()) <= {"CREATE_COMPLETE", "UPDATE_COMPLETE"}, statuses


def test_records_put_to_kinesis_land_in_the_raw_bucket(deployed: PlatformConfig) -> None:
    kinesis = deployed.endpoints.client("kinesis")
    s3 = deployed.endpoints.client("s3")
    marker = uuid.uuid4().hex
    lines = [json.dumps({"marker": marker, "n": n}) + "\n" for n in range(5)]
    kinesis.put_records(
        StreamName=DEFAULT_STREAM_NAME,
        Records=[{"Data": line.encode(), "PartitionKey": str(n)} for n, line in enumerate(lines)],
    )
    found: list[str] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(found) < 5:
        found = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=RAW_BUCKET, Prefix="raw/"):
            for obj in page.get("Contents", []):
                body = s3.get_object(Bucket=RAW_BUCKET, Key=obj["Key"])["Body"].read()
                found += [ln for ln in body.decode().splitlines() if marker in ln]
        time.sleep(2)
    assert sorted(found) == sorted(line.strip() for line in lines)


def test_schedule_rule_targets_the_runner_queue(deployed: PlatformConfig) -> None:
    events = deployed.endpoints.client("events")
    sqs = deployed.endpoints.client("sqs")
    rules = [r for r in events.list_rules()["Rules"] if r["Name"].startswith("augury-local")]
    assert [r["ScheduleExpression"] for r in rules] == ["rate(1 minute)"]
    targets = events.list_targets_by_rule(Rule=rules[0]["Name"])["Targets"]
    queue_url = sqs.get_queue_url(QueueName=LOCAL_SCHEDULE_QUEUE)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    assert [t["Arn"] for t in targets] == [queue_arn["Attributes"]["QueueArn"]]


def test_dashboard_exists_with_its_widgets(deployed: PlatformConfig) -> None:
    cloudwatch = deployed.endpoints.client("cloudwatch")
    body: dict[str, Any] = json.loads(
        cloudwatch.get_dashboard(DashboardName="augury-local-pipeline")["DashboardBody"]
    )
    titles = {w["properties"].get("title") for w in body["widgets"]}
    assert {"Kinesis incoming records", "Firehose data freshness (s)"} <= titles
    assert DEFAULT_STREAM_NAME in json.dumps(body)  # references resolved to real names


def test_destroy_removes_every_stack(deployed: PlatformConfig) -> None:
    destroyed = cdk_local.destroy(deployed)
    assert set(destroyed) == STACKS
    assert _stacks(deployed) == {}
