"""LocalStack on the host really serves the AWS APIs the pipeline uses."""

from __future__ import annotations

import fnmatch
import json
import os
import time
import urllib.request
import uuid
from typing import Any

from augury.endpoints import LOCALSTACK_ACCOUNT_ID, Endpoints
from localplatform import localstack_host
from localplatform.config import LOCALSTACK_SERVICES, PlatformConfig

DYNAMODB_LOCAL_FILES = ("DynamoDBLocal*.jar", "ddb-local-loader*.jar", "dynamodb-local")
"""DynamoDB Local's jar, LocalStack's agent for it, and LocalStack's package folder of it."""


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _wait(predicate: Any, timeout_s: float, what: str, interval_s: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout_s:.0f}s")
        time.sleep(interval_s)


def _create_stream(kinesis: Any, name: str) -> str:
    kinesis.create_stream(StreamName=name, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(
        StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    return str(summary["StreamARN"])


def test_localstack_is_healthy_with_every_service(platform_up: PlatformConfig) -> None:
    health = localstack_host.health(platform_up)
    assert health.ok, health.error
    assert health.version == "2026.3.0"
    assert health.failed_services(LOCALSTACK_SERVICES) == []


def test_kinesis_put_and_read_back(endpoints: Endpoints) -> None:
    kinesis = endpoints.client("kinesis")
    stream = _name("it-kinesis")
    _create_stream(kinesis, stream)
    sent = [json.dumps({"n": i, "user_id": f"u{i % 3}"}).encode() for i in range(25)]
    result = kinesis.put_records(
        StreamName=stream,
        Records=[{"Data": d, "PartitionKey": f"u{i % 3}"} for i, d in enumerate(sent)],
    )
    assert result["FailedRecordCount"] == 0

    received: list[bytes] = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records = kinesis.get_records(ShardIterator=iterator, Limit=1000)["Records"]
        received.extend(r["Data"] for r in records)
    assert sorted(received) == sorted(sent)
    kinesis.delete_stream(StreamName=stream, EnforceConsumerDeletion=True)


def test_firehose_delivers_kinesis_records_to_s3(endpoints: Endpoints) -> None:
    kinesis, s3, firehose = (endpoints.client(s) for s in ("kinesis", "s3", "firehose"))
    stream, bucket, delivery = _name("it-src"), _name("it-raw"), _name("it-fh")
    stream_arn = _create_stream(kinesis, stream)
    s3.create_bucket(Bucket=bucket)
    role = f"arn:aws:iam::{LOCALSTACK_ACCOUNT_ID}:role/firehose-it"
    firehose.create_delivery_stream(
        DeliveryStreamName=delivery,
        DeliveryStreamType="KinesisStreamAsSource",
        KinesisStreamSourceConfiguration={"KinesisStreamARN": stream_arn, "RoleARN": role},
        ExtendedS3DestinationConfiguration={
            "BucketARN": f"arn:aws:s3:::{bucket}",
            "RoleARN": role,
            "Prefix": "raw/",
            "BufferingHints": {"IntervalInSeconds": 60, "SizeInMBs": 1},
        },
    )
    _wait(
        lambda: (
            firehose.describe_delivery_stream(DeliveryStreamName=delivery)[
                "DeliveryStreamDescription"
            ]["DeliveryStreamStatus"]
            == "ACTIVE"
        ),
        120,
        "delivery stream ACTIVE",
    )
    lines = [json.dumps({"event_id": str(i)}) + "\n" for i in range(10)]
    kinesis.put_records(
        StreamName=stream,
        Records=[{"Data": line.encode(), "PartitionKey": str(i)} for i, line in enumerate(lines)],
    )

    def delivered() -> list[str]:
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
        body = "".join(s3.get_object(Bucket=bucket, Key=k)["Body"].read().decode() for k in keys)
        return sorted(body.splitlines(keepends=True)) if len(body.splitlines()) >= 10 else []

    got = _wait(delivered, 180, "Firehose delivery to S3")  # a liveness bound, not a speed one
    assert got == sorted(lines)
    # The Kinesis Client Library behind the Firehose kept its leases in LocalStack's DynamoDB.
    tables = endpoints.client("dynamodb").list_tables()["TableNames"]
    # LocalStack names it after the stream and the delivery stream (beside it: KCL 3's
    # CoordinatorState and WorkerMetricStats tables).
    assert f"{stream}-firehose-{delivery}" in tables
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert all(k.startswith("raw/") for k in keys)
    firehose.delete_delivery_stream(DeliveryStreamName=delivery)
    kinesis.delete_stream(StreamName=stream, EnforceConsumerDeletion=True)


def _dynamodb_providers(cfg: PlatformConfig) -> dict[str, bool]:
    """LocalStack's DynamoDB provider plugins and whether each is loaded."""
    with urllib.request.urlopen(f"{cfg.localstack_url}/_localstack/plugins", timeout=10) as r:
        plugins = json.loads(r.read())["localstack.aws.provider"]
    return {p["name"]: p["is_loaded"] for p in plugins if p["name"].startswith("dynamodb:")}


def test_dynamodb_is_served_by_moto_not_dynamodb_local(
    platform_up: PlatformConfig, endpoints: Endpoints
) -> None:
    dynamodb = endpoints.client("dynamodb")
    table = _name("it-ddb")
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "leaseKey", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "leaseKey", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    item = {"leaseKey": {"S": "shard-0"}, "leaseCounter": {"N": "1"}}
    dynamodb.put_item(TableName=table, Item=item, Expected={"leaseKey": {"Exists": False}})
    try:  # the KCL takes leases with conditional writes: a second claim must fail
        dynamodb.put_item(TableName=table, Item=item, Expected={"leaseKey": {"Exists": False}})
    except dynamodb.exceptions.ConditionalCheckFailedException:
        pass
    else:
        raise AssertionError("a conditional put on an existing lease succeeded")
    dynamodb.delete_table(TableName=table)
    providers = _dynamodb_providers(platform_up)
    assert providers[f"dynamodb:{localstack_host.DYNAMODB_PROVIDER_NAME}"] is True
    assert [name for name, loaded in providers.items() if loaded] == [
        f"dynamodb:{localstack_host.DYNAMODB_PROVIDER_NAME}"
    ]


def test_no_dynamodb_local_in_the_install(platform_up: PlatformConfig) -> None:
    """Amazon's DynamoDB Local is not open source: no jar of it anywhere the platform installs."""
    roots = [platform_up.tools_dir, localstack_host.filesystem_root(platform_up)]
    found = [
        os.path.join(folder, name)
        for root in roots
        for folder, dirs, files in os.walk(root)
        for name in (*dirs, *files)
        if any(fnmatch.fnmatch(name, pattern) for pattern in DYNAMODB_LOCAL_FILES)
    ]
    assert found == [], f"DynamoDB Local files in the install: {found}"


def test_eventbridge_rate_rule_fires_into_sqs(endpoints: Endpoints) -> None:
    events, sqs = endpoints.client("events"), endpoints.client("sqs")
    queue_url = sqs.create_queue(QueueName=_name("it-schedule"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    rule = _name("it-rate")
    events.put_rule(Name=rule, ScheduleExpression="rate(1 minute)", State="ENABLED")
    events.put_targets(Rule=rule, Targets=[{"Id": "queue", "Arn": queue_arn}])

    def received() -> list[dict[str, Any]]:
        got = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=5, MaxNumberOfMessages=1)
        return [json.loads(m["Body"]) for m in got.get("Messages", [])]

    (event,) = _wait(received, 90, "scheduled event in SQS", interval_s=0)
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert any(rule in r for r in event["resources"])
    events.remove_targets(Rule=rule, Ids=["queue"])
    events.delete_rule(Name=rule)
    sqs.delete_queue(QueueUrl=queue_url)
