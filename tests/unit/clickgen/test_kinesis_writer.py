"""Batching at the service limits (moto), and partial failures and throttling (Stubber)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from augury.retry import backoff_s
from lambdas.clickgen import kinesis_writer as kw

STREAM = "unit-clicks"


@pytest.fixture
def kinesis() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("kinesis", region_name="us-east-1")
        client.create_stream(StreamName=STREAM, ShardCount=1)
        yield client


def _read_all(client: Any) -> list[bytes]:
    shard = client.list_shards(StreamName=STREAM)["Shards"][0]["ShardId"]
    it = client.get_shard_iterator(
        StreamName=STREAM, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    out: list[bytes] = []
    while True:
        got = client.get_records(ShardIterator=it, Limit=10_000)
        out += [r["Data"] for r in got["Records"]]
        if not got["Records"]:
            return out
        it = got["NextShardIterator"]


def _records(n: int, size: int = 100) -> list[kw.Record]:
    return [kw.Record(f"{i:08d}".encode().ljust(size, b"x"), f"user-{i % 7}") for i in range(n)]


def test_batches_split_at_500_records() -> None:
    sizes = [len(b) for b in kw.batches(_records(1201))]
    assert sizes == [500, 500, 201]


def test_batches_split_at_5_mib() -> None:
    records = _records(12, size=1_000_000)  # 12 MB: at most 5 of these per batch
    out = list(kw.batches(records))
    assert [len(b) for b in out] == [5, 5, 2]
    assert all(sum(r.size for r in b) <= kw.MAX_BATCH_BYTES for b in out)
    assert [r for b in out for r in b] == records  # order kept, nothing lost


def test_a_record_over_1_mib_is_refused() -> None:
    with pytest.raises(kw.RecordTooLargeError):
        list(kw.batches([kw.Record(b"x" * kw.MAX_RECORD_BYTES, "k")]))


def test_put_to_moto_sends_every_record_once(kinesis: Any) -> None:
    records = _records(1234)
    stats = kw.KinesisWriter(kinesis, STREAM).put(records)
    assert (stats.sent, stats.failed, stats.retried, stats.calls) == (1234, 0, 0, 3)
    assert sorted(_read_all(kinesis)) == sorted(r.data for r in records)


def test_put_large_records_to_moto_in_size_bounded_batches(kinesis: Any) -> None:
    records = _records(11, size=900_000)
    stats = kw.KinesisWriter(kinesis, STREAM).put(records)
    assert stats.sent == 11 and stats.calls == 3
    assert len(_read_all(kinesis)) == 11


def _response(codes: list[str | None]) -> dict[str, Any]:
    results: list[dict[str, Any]] = []
    for i, code in enumerate(codes):
        if code:
            results.append({"ErrorCode": code, "ErrorMessage": "no"})
        else:
            results.append({"SequenceNumber": str(i), "ShardId": "shardId-000000000000"})
    failed = sum(1 for c in codes if c)
    # The service omits FailedRecordCount when nothing failed (its model's minimum is 1).
    return {"Records": results, **({"FailedRecordCount": failed} if failed else {})}


def _expect(stub: Stubber, records: list[kw.Record], codes: list[str | None]) -> None:
    stub.add_response(
        "put_records",
        _response(codes),
        {"StreamName": STREAM,
         "Records": [{"Data": r.data, "PartitionKey": r.partition_key} for r in records]},
    )  # fmt: skip


def _writer(client: Any, sleeps: list[float], attempts: int = 8) -> kw.KinesisWriter:
    return kw.KinesisWriter(client, STREAM, max_attempts=attempts, sleep=sleeps.append,
                            rng=random.Random(1))  # fmt: skip


def test_only_failed_records_are_retried_until_all_are_in() -> None:
    client = boto3.client("kinesis", region_name="us-east-1")
    records = _records(5)
    t, i = kw.THROTTLED, "InternalFailure"
    sleeps: list[float] = []
    with Stubber(client) as stub:
        _expect(stub, records, [None, t, None, i, t])
        _expect(stub, [records[1], records[3], records[4]], [t, None, None])
        _expect(stub, [records[1]], [None])
        stats = _writer(client, sleeps).put(records)
        stub.assert_no_pending_responses()
    assert (stats.sent, stats.failed, stats.retried, stats.throttled) == (5, 0, 4, 3)
    assert len(sleeps) == 2 and all(0 <= s <= 5 for s in sleeps)


def test_records_that_never_succeed_are_reported_not_dropped() -> None:
    client = boto3.client("kinesis", region_name="us-east-1")
    records = _records(3)
    with Stubber(client) as stub:
        _expect(stub, records, [None, kw.THROTTLED, None])
        _expect(stub, [records[1]], [kw.THROTTLED])
        _expect(stub, [records[1]], [kw.THROTTLED])
        stats = _writer(client, [], attempts=3).put(records)
    assert (stats.sent, stats.failed) == (2, 1)
    assert stats.failed_records == [records[1]]


def test_a_throttled_call_is_retried_whole() -> None:
    client = boto3.client("kinesis", region_name="us-east-1")
    records = _records(2)
    with Stubber(client) as stub:
        stub.add_client_error("put_records", service_error_code=kw.THROTTLED, http_status_code=400)
        _expect(stub, records, [None, None])
        stats = _writer(client, []).put(records)
    assert (stats.sent, stats.failed, stats.throttled, stats.calls) == (2, 0, 2, 2)


def test_a_non_retryable_error_is_raised() -> None:
    client = boto3.client("kinesis", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error("put_records", service_error_code="ResourceNotFoundException")
        with pytest.raises(client.exceptions.ResourceNotFoundException):
            _writer(client, []).put(_records(1))


def test_backoff_grows_and_is_capped() -> None:
    rng = random.Random(0)
    ceilings = [max(backoff_s(a, 100, rng) for _ in range(200)) for a in (1, 3, 10)]
    assert ceilings[0] <= 0.1 and ceilings[1] <= 0.4 and ceilings[2] <= 5.0
    assert ceilings[0] < ceilings[1] < ceilings[2]
