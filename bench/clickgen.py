"""Records per second one generator invocation produces.

Variants: generation alone (the baseline, no I/O), into an in-process moto, and into
LocalStack's Kinesis (kinesis-mock), all in the same process on the same 30 s window.
"""

from __future__ import annotations

import uuid
from typing import Any

import boto3
from moto import mock_aws

from augury.endpoints import Endpoints
from bench.harness import BenchResult, Measurement, timed
from lambdas.clickgen import traffic
from lambdas.clickgen.config import GeneratorConfig
from lambdas.clickgen.kinesis_writer import KinesisWriter
from lambdas.clickgen.producer import produce

CFG = GeneratorConfig(rate=500, duration_s=30, pace=False)
START_MS = 1_795_500_000_000


def _into(client: Any, label: str) -> Measurement:
    name = f"bench-{uuid.uuid4().hex[:8]}"
    client.create_stream(StreamName=name, ShardCount=4)
    client.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 1})
    writer = KinesisWriter(client, name)
    summary = produce(CFG.replace(stream_name=name), START_MS, writer)
    assert summary.put.failed == 0, summary.as_dict()
    client.delete_stream(StreamName=name, EnforceConsumerDeletion=True)
    return Measurement(label, summary.put.sent, summary.elapsed_s)


def run() -> BenchResult:
    """Measure the three variants on the same 30 s window at 500 events/s."""
    records = len(traffic.generate(CFG, START_MS, START_MS + CFG.duration_s * 1000).records)
    result = BenchResult("clickgen", "records/s", notes=f"{CFG.rate:g}/s x {CFG.duration_s}s")
    result.measurements.append(
        timed("generate only (baseline)", records,
              lambda: traffic.generate(CFG, START_MS, START_MS + CFG.duration_s * 1000))
    )  # fmt: skip
    with mock_aws():
        result.measurements.append(_into(boto3.client("kinesis", region_name="us-east-1"),
                                         "into moto (in-process)"))  # fmt: skip
    result.measurements.append(_into(Endpoints.local().client("kinesis"), "into LocalStack"))
    return result
