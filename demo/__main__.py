"""The pipeline end to end, locally: generator -> Kinesis -> Firehose -> S3 -> Flink -> Redis.

Every part is the real one: the generator Lambda's handler, LocalStack's Kinesis and Firehose
delivering to S3, and the Flink job replaying the raw archive into Redis on a local
mini-cluster. (Streaming straight from Kinesis, the live views and the CDK-deployed local stack
are later steps of the product; see the README's status.)
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from augury.endpoints import LOCALSTACK_ACCOUNT_ID, Endpoints
from augury.redis_keys import Keys
from augury.resources import DEFAULT_STREAM_NAME

BUCKET = "augury-raw-local"
DELIVERY = "augury-raw-local"
ROLE = f"arn:aws:iam::{LOCALSTACK_ACCOUNT_ID}:role/augury-firehose-local"


def step(message: str) -> None:
    """Progress output."""
    print(f"[demo] {message}", file=sys.stderr, flush=True)


def ensure_ingest(endpoints: Endpoints, stream: str) -> None:
    """The stream, the raw bucket and a Firehose from the stream to the bucket (idempotent)."""
    kinesis, s3, firehose = (endpoints.client(n) for n in ("kinesis", "s3", "firehose"))
    try:
        kinesis.describe_stream_summary(StreamName=stream)
    except kinesis.exceptions.ResourceNotFoundException:
        step(f"creating Kinesis stream {stream}")
        kinesis.create_stream(StreamName=stream, ShardCount=2)
        kinesis.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 1})
    arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"][
        "StreamARN"
    ]
    s3.create_bucket(Bucket=BUCKET)
    names = firehose.list_delivery_streams()["DeliveryStreamNames"]
    if DELIVERY not in names:
        step(f"creating Firehose {DELIVERY}: {stream} -> s3://{BUCKET}/raw/ (about 25 s)")
        firehose.create_delivery_stream(
            DeliveryStreamName=DELIVERY,
            DeliveryStreamType="KinesisStreamAsSource",
            KinesisStreamSourceConfiguration={"KinesisStreamARN": arn, "RoleARN": ROLE},
            ExtendedS3DestinationConfiguration={
                "BucketARN": f"arn:aws:s3:::{BUCKET}", "RoleARN": ROLE, "Prefix": "raw/",
                "ErrorOutputPrefix": "errors/", "CompressionFormat": "GZIP",
                "BufferingHints": {"IntervalInSeconds": 60, "SizeInMBs": 5},
            },
        )  # fmt: skip
    for _ in range(120):
        status = firehose.describe_delivery_stream(DeliveryStreamName=DELIVERY)[
            "DeliveryStreamDescription"
        ]["DeliveryStreamStatus"]
        if status == "ACTIVE":
            return
        time.sleep(1)
    raise RuntimeError(f"Firehose {DELIVERY} is {status}, not ACTIVE")


def raw_records(endpoints: Endpoints, prefix: str) -> int:
    """Records (lines) in the raw archive under ``prefix``."""
    s3 = endpoints.client("s3")
    count = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read()
            if body[:2] == b"\x1f\x8b":  # GZIP on AWS; LocalStack writes plain text
                body = gzip.decompress(body)
            count += body.count(b"\n")
    return count


def main(argv: list[str] | None = None) -> int:
    """Run the demo; print a JSON summary."""
    p = argparse.ArgumentParser(prog="python -m demo", description=__doc__)
    p.add_argument("--rate", type=float, default=100, help="events per second (default 100)")
    p.add_argument("--duration", type=int, default=120, help="seconds of traffic (default 120)")
    args = p.parse_args(argv)

    from localplatform import platform
    from localplatform.config import PlatformConfig

    cfg = PlatformConfig.from_env()
    step("bringing the platform up (LocalStack, Redis)")
    platform.up(cfg)
    endpoints = cfg.endpoints
    os.environ["AUGURY_LOCALSTACK_URL"] = cfg.localstack_url
    stream = os.environ.get("AUGURY_STREAM_NAME", DEFAULT_STREAM_NAME)
    ensure_ingest(endpoints, stream)
    before = raw_records(endpoints, "raw/")

    from lambdas.clickgen import handler, local_runner

    start = int(time.time()) - args.duration  # a window that has just passed
    when = datetime.fromtimestamp(start, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    step(f"generating {args.duration}s of traffic at {args.rate:g}/s (the generator's handler)")
    summary = handler.lambda_handler(
        local_runner.scheduled_event(
            when, {"rate": args.rate, "duration_s": args.duration, "pace": False}
        ),
        local_runner.LocalContext(),
    )
    step(f"sent {summary['sent']} records; waiting for Firehose to archive them in S3")
    deadline = time.monotonic() + 120
    archived = 0
    while time.monotonic() < deadline:
        archived = raw_records(endpoints, "raw/") - before
        if archived >= summary["sent"]:
            break
        time.sleep(3)
    step(f"{archived} raw records archived; replaying s3://{BUCKET}/raw/ with Flink")

    from flink_app.__main__ import main as flink_main

    dead = Path(".local/dead-letter/demo")
    code = flink_main(["replay", "--input", f"s3://{BUCKET}/raw/", "--redis-url",
                       endpoints.redis_url, "--dead-letter", str(dead)])  # fmt: skip
    if code:
        return code
    import redis

    conn = redis.Redis.from_url(endpoints.redis_url, decode_responses=True)
    keys = Keys()
    totals = {k: int(v) for k, v in conn.hgetall(keys.totals).items()}
    newest = conn.zrevrange(keys.windows, 0, 2)
    in_s3 = raw_records(endpoints, "raw/")
    result: dict[str, Any] = {
        "produced": summary["sent"],
        "raw_records_in_s3": in_s3,
        # Every archived record is accounted for exactly once.
        "balanced": in_s3
        == sum(
            totals.get(k, 0) for k in ("accepted", "invalid", "duplicates", "bot_events", "late")
        ),
        "windows": conn.zcard(keys.windows),
        "sessions": conn.zcard(keys.sessions),
        "totals": totals,
        "newest_windows": {str(w): conn.hgetall(keys.window(int(str(w)))) for w in newest},
        "dead_letter": str(dead),
    }
    print(json.dumps(result, indent=2))
    step("done; the platform stays up for inspection (make status, make down)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
