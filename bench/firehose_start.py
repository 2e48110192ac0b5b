"""How long LocalStack's Firehose takes to deliver its first object, by source.

Baseline: a DirectPut delivery stream (no Kinesis reader, no DynamoDB). Measured: a delivery
stream reading a Kinesis stream, whose Kinesis Client Library keeps its leases in LocalStack's
DynamoDB (moto, ``localstack/dynamodb-provider``). Each round creates the delivery stream under
the same name, puts a record every half second until the first object is in S3, and deletes
it: from the second round on, the KCL finds its old lease table, as after a redeploy.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from augury.endpoints import LOCALSTACK_ACCOUNT_ID, Endpoints
from bench.harness import BenchResult, latency_stats

ROUNDS = 3
DEADLINE_S = 300.0
ROLE = f"arn:aws:iam::{LOCALSTACK_ACCOUNT_ID}:role/bench-firehose"


def _first_object_s(clients: dict[str, Any], bucket: str, name: str, source: dict[str, Any],
                    put: Any) -> float:  # fmt: skip
    """Seconds from CreateDeliveryStream to the first object under the round's prefix."""
    firehose, s3 = clients["firehose"], clients["s3"]
    started = time.monotonic()
    firehose.create_delivery_stream(
        DeliveryStreamName=name,
        **source,
        ExtendedS3DestinationConfiguration={
            "BucketARN": f"arn:aws:s3:::{bucket}", "RoleARN": ROLE, "Prefix": f"{name}/",
        },
    )  # fmt: skip
    try:
        while time.monotonic() - started < DEADLINE_S:
            put(name)
            if s3.list_objects_v2(Bucket=bucket, Prefix=f"{name}/").get("KeyCount", 0):
                return time.monotonic() - started
            time.sleep(0.5)
        raise TimeoutError(f"{name}: no object within {DEADLINE_S:.0f} s")
    finally:
        firehose.delete_delivery_stream(DeliveryStreamName=name)
        while name in firehose.list_delivery_streams()["DeliveryStreamNames"]:
            time.sleep(0.5)


def run() -> BenchResult:
    """Time to the first S3 object for each source, ``ROUNDS`` rounds each."""
    endpoints = Endpoints.local()
    clients = {s: endpoints.client(s) for s in ("firehose", "s3", "kinesis")}
    tag = uuid.uuid4().hex[:8]
    bucket, stream = f"bench-fh-{tag}", f"bench-fh-{tag}"
    clients["s3"].create_bucket(Bucket=bucket)
    kinesis = clients["kinesis"]
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 1})
    arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"][
        "StreamARN"
    ]
    line = json.dumps({"bench": "firehose_start"}).encode() + b"\n"
    direct = {"DeliveryStreamType": "DirectPut"}
    sourced = {
        "DeliveryStreamType": "KinesisStreamAsSource",
        "KinesisStreamSourceConfiguration": {"KinesisStreamARN": arn, "RoleARN": ROLE},
    }

    def put_direct(name: str) -> None:
        clients["firehose"].put_record(DeliveryStreamName=name, Record={"Data": line})

    def put_kinesis(name: str) -> None:
        kinesis.put_record(StreamName=stream, Data=line, PartitionKey="bench")

    try:
        seconds = {
            "DirectPut (baseline)": [
                _first_object_s(clients, bucket, f"bench-direct-{tag}", direct, put_direct)
                for _ in range(ROUNDS)
            ],
            "Kinesis source (KCL leases in moto's DynamoDB)": [
                _first_object_s(clients, bucket, f"bench-kinesis-{tag}", sourced, put_kinesis)
                for _ in range(ROUNDS)
            ],
        }
    finally:
        kinesis.delete_stream(StreamName=stream, EnforceConsumerDeletion=True)
    result = BenchResult("firehose_start", "seconds to the first S3 object")
    result.latency = {name: latency_stats(values) for name, values in seconds.items()}
    result.notes = (
        f"{ROUNDS} rounds per source on one LocalStack; each round re-creates the delivery "
        "stream under its name (the redeploy case: the KCL finds its earlier lease table)"
    )
    return result
