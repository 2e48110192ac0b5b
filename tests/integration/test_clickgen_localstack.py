"""The generator's handler against the real LocalStack: what it says it sent is in the stream."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from augury import events as contract
from augury.endpoints import Endpoints
from lambdas.clickgen import handler, local_runner, traffic
from lambdas.clickgen.config import GeneratorConfig
from lambdas.local_context import LocalContext


@pytest.fixture
def stream(endpoints: Endpoints, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    name = f"it-clicks-{uuid.uuid4().hex[:8]}"
    kinesis = endpoints.client("kinesis")
    kinesis.create_stream(StreamName=name, ShardCount=2)
    kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 1})
    monkeypatch.setenv("AUGURY_LOCALSTACK_URL", str(endpoints.localstack_url))
    monkeypatch.setenv("AUGURY_STREAM_NAME", name)
    handler.kinesis_client.cache_clear()
    yield name
    handler.kinesis_client.cache_clear()
    kinesis.delete_stream(StreamName=name, EnforceConsumerDeletion=True)


def _read_stream(endpoints: Endpoints, name: str) -> list[bytes]:
    kinesis = endpoints.client("kinesis")
    out: list[bytes] = []
    for shard in kinesis.list_shards(StreamName=name)["Shards"]:
        it = kinesis.get_shard_iterator(
            StreamName=name, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while it:
            got = kinesis.get_records(ShardIterator=it, Limit=10_000)
            out += [r["Data"] for r in got["Records"]]
            if not got["Records"]:
                break
            it = got["NextShardIterator"]
    return out


def test_handler_output_is_exactly_in_the_stream(endpoints: Endpoints, stream: str) -> None:
    detail = {"rate": 150, "duration_s": 20, "pace": False, "seed": 5}
    event = local_runner.scheduled_event("2026-11-23T17:30:00Z", detail)
    summary = handler.lambda_handler(event, LocalContext("clickgen-test"))

    received = _read_stream(endpoints, stream)
    assert summary["failed"] == 0
    assert summary["sent"] == summary["records"] == len(received)
    cfg = GeneratorConfig.from_sources(overrides=detail)
    start = 1_795_455_000_000
    expected = traffic.generate(cfg, start, start + 20_000)
    assert Counter(received) == Counter(r.data for r in expected.records)
    assert summary["injected"]["duplicate"] == expected.counts()[traffic.DUPLICATE] > 0


def test_local_runner_invokes_the_handler_from_the_real_schedule(
    endpoints: Endpoints, stream: str
) -> None:
    suffix = uuid.uuid4().hex[:8]
    queue_url = local_runner.ensure_schedule(
        endpoints, rule_name=f"it-clickgen-{suffix}", queue_name=f"it-clickgen-{suffix}"
    )
    results: list[dict[str, Any]] = []
    made = local_runner.run(
        endpoints, queue_url, handler.lambda_handler,
        overrides={"rate": 50, "duration_s": 3, "pace": False},
        max_invocations=1, on_result=results.append,
    )  # fmt: skip
    assert made == 1 and len(results) == 1
    (summary,) = results
    assert summary["sent"] == summary["records"] == len(_read_stream(endpoints, stream)) > 0
    # The window starts at the schedule's own time (whole seconds), moments ago.
    start = contract.parse_timestamp_ms(summary["window_start"])
    assert start is not None and start % 1000 == 0
    assert 0 <= time.time() * 1000 - start < 5 * 60_000
    events = endpoints.client("events")
    events.remove_targets(Rule=f"it-clickgen-{suffix}", Ids=["clickgen-runner"])
    events.delete_rule(Name=f"it-clickgen-{suffix}")


def test_the_runner_bridges_until_the_first_tick_without_a_second_twice(
    endpoints: Endpoints, stream: str
) -> None:
    suffix = uuid.uuid4().hex[:8]
    rule, queue = f"it-bridge-{suffix}", f"it-bridge-{suffix}"
    queue_url = local_runner.ensure_schedule(endpoints, schedule="rate(10 minutes)",
                                             rule_name=rule, queue_name=queue)  # fmt: skip
    sqs = endpoints.client("sqs")
    started: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []

    def done(result: dict[str, Any]) -> None:
        results.append(result)
        if len(results) == 2:  # a tick arrives, older than the traffic already bridged
            tick = local_runner.scheduled_event(started[0]["scheduled_time"], {})
            sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(tick))

    made = local_runner.run(
        endpoints, queue_url, handler.lambda_handler,
        overrides={"rate": 40, "pace": False, "duplicate_fraction": 0, "malformed_fraction": 0},
        max_invocations=3, on_result=done, on_start=started.append, bridge_s=2, period_s=10,
    )  # fmt: skip
    events = endpoints.client("events")
    events.remove_targets(Rule=rule, Ids=["clickgen-runner"])
    events.delete_rule(Name=rule)

    assert made == 3 and [r["trigger"] for r in results] == ["bridge", "bridge", "schedule"]
    windows = [(r["window_start"], r["window_end"]) for r in results]
    assert windows[0][1] == windows[1][0] and windows[1][1] == windows[2][0]  # contiguous
    first, end = (
        contract.parse_timestamp_ms(windows[0][0]),
        contract.parse_timestamp_ms(windows[2][1]),
    )
    assert first is not None and end == first + 10_000  # where the tick's own window ends
    ids = [json.loads(r)["event_id"] for r in _read_stream(endpoints, stream)]
    assert len(ids) == sum(r["sent"] for r in results) > 0
    assert len(set(ids)) == len(ids)  # no second of traffic was produced twice
