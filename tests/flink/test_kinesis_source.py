"""The job's Kinesis source (its source stage, the shaded connector) reads LocalStack's Kinesis."""

from __future__ import annotations

import uuid
from typing import Any

from augury import events as contract
from augury.endpoints import Endpoints
from flink_app import job, settings


def test_records_put_to_localstack_are_read_by_the_flink_source(endpoints: Endpoints) -> None:
    kinesis = endpoints.client("kinesis")
    stream = f"it-flink-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(StreamName=stream, ShardCount=2)
    kinesis.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 1})
    sent = [contract.encode({"event_id": str(i), "note": "ü"}) for i in range(20)]
    records = [{"Data": d, "PartitionKey": str(i)} for i, d in enumerate(sent)]
    kinesis.put_records(StreamName=stream, Records=records)

    s = settings.load(env={}, flag_values={
        "source.stream.name": stream, "source.aws.endpoint": str(endpoints.localstack_url),
        "source.start.position": "TRIM_HORIZON",
    })  # fmt: skip
    t_env = job.table_env(s, batch=False)
    job.apply(t_env, "source", job.STREAM, job.parameters(s, job.STREAM, dead_letter=""))
    result = t_env.execute_sql("SELECT line FROM raw_lines")
    got: list[Any] = []
    with result.collect() as rows:
        for row in rows:
            got.append(row[0])
            if len(got) == len(sent):
                break
    client = result.get_job_client()
    if client is not None:
        client.cancel()
    # A Kinesis record arrives whole, its trailing newline included (as Firehose stores it).
    assert sorted(bytes(g) for g in got) == sorted(sent)  # each record, exactly as put
    kinesis.delete_stream(StreamName=stream, EnforceConsumerDeletion=True)
