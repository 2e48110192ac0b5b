"""The Lambda handler end to end against moto: parsing, overrides, summary, EMF metrics."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parser import ValidationError
from moto import mock_aws

from lambdas.clickgen import handler, local_runner
from lambdas.local_context import LocalContext

STREAM = "unit-handler"


@pytest.fixture
def kinesis(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.delenv("AUGURY_LOCALSTACK_URL", raising=False)
    monkeypatch.setenv("AUGURY_STREAM_NAME", STREAM)
    handler.kinesis_client.cache_clear()
    with mock_aws():
        client = boto3.client("kinesis", region_name="us-east-1")
        client.create_stream(StreamName=STREAM, ShardCount=1)
        yield client
    handler.kinesis_client.cache_clear()


def _count(client: Any) -> int:
    shard = client.list_shards(StreamName=STREAM)["Shards"][0]["ShardId"]
    it = client.get_shard_iterator(
        StreamName=STREAM, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return len(client.get_records(ShardIterator=it, Limit=10_000)["Records"])


def test_scheduled_event_with_overrides_produces_its_window(
    kinesis: Any, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    event = local_runner.scheduled_event(
        "2026-11-23T17:30:00Z", {"rate": 40, "duration_s": 5, "pace": False, "seed": 9}
    )
    result = handler.lambda_handler(event, LocalContext("clickgen-test"))
    assert result["window_start"] == "2026-11-23T17:30:00.000Z"
    assert result["window_end"] == "2026-11-23T17:30:05.000Z"
    assert result["sent"] == result["records"] == _count(kinesis) > 0
    assert result["failed"] == 0
    assert set(result["injected"]) == {"bot", "malformed", "duplicate", "late"}

    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    emf = [x for x in lines if "_aws" in x]
    names = {m["Name"] for x in emf for d in x["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert {"EventsSent", "FailedRecords", "ThrottledRecords", "InjectedFaults"} <= names
    sent = next(x for x in emf if "EventsSent" in x)
    assert sent["EventsSent"] == [float(result["sent"])]
    assert {x["kind"] for x in emf if "InjectedFaults" in x} == set(result["injected"])
    (summary_log,) = [r for r in caplog.records if r.getMessage() == "clickgen invocation summary"]
    assert summary_log.__dict__["summary"]["sent"] == result["sent"]


def test_the_same_scheduled_time_gives_the_same_events(kinesis: Any) -> None:
    event = local_runner.scheduled_event("2026-11-23T17:31:00Z",
                                         {"duration_s": 3, "pace": False})  # fmt: skip
    first = handler.lambda_handler(event, LocalContext("clickgen-test"))
    second = handler.lambda_handler(event, LocalContext("clickgen-test"))
    assert first["records"] == second["records"]
    assert first["by_kind"] == second["by_kind"]


@pytest.mark.parametrize(
    "detail", [{"rate": -1}, {"speed": 3}, {"bot_fraction": 2}, {"duration_s": "long"}]
)
def test_bad_overrides_are_rejected_naming_the_field(kinesis: Any, detail: dict[str, Any]) -> None:
    event = local_runner.scheduled_event("2026-11-23T17:30:00Z", detail)
    with pytest.raises(ValidationError, match=next(iter(detail))):
        handler.lambda_handler(event, LocalContext("clickgen-test"))


def test_undelivered_records_fail_the_invocation(
    kinesis: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUGURY_STREAM_NAME", "no-such-stream")
    event = local_runner.scheduled_event("2026-11-23T17:30:00Z",
                                         {"duration_s": 1, "pace": False})  # fmt: skip
    with pytest.raises(Exception, match=r"no-such-stream|ResourceNotFound"):
        handler.lambda_handler(event, LocalContext("clickgen-test"))
