"""``cdklocal deploy`` of the CDK app's local mode to the running LocalStack, then destroy.

The tests run in file order: deploy (module fixture), check, and finally destroy.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from augury import collector as c
from augury.events import ARRIVAL_FIELD
from augury.resources import DEFAULT_STREAM_NAME, LOCAL_RAW_BUCKET, LOCAL_SCHEDULE_QUEUE
from localplatform import cdk_local
from localplatform.config import PlatformConfig
from tests.contract_corpus import GOOD
from tests.unit.test_collector import _mutations

RAW_BUCKET = LOCAL_RAW_BUCKET
STACKS = {
    "Augury-local-Ingest", "Augury-local-Collector", "Augury-local-RawStorage",
    "Augury-local-Observability",
}  # fmt: skip


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


def _post(url: str, body: bytes, content_type: str = "application/json") -> tuple[int, Any]:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": content_type}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def _collector_url(cfg: PlatformConfig) -> str:
    apis = cfg.endpoints.client("apigateway").get_rest_apis()["items"]
    api = next(a for a in apis if a["name"] == f"augury-local{c.API_NAME_SUFFIX}")
    assert cfg.endpoints.localstack_url is not None
    return c.localstack_api_url(cfg.endpoints.localstack_url, api["id"])


def _records_after(cfg: PlatformConfig, iterators: dict[str, str], want: int) -> list[Any]:
    kinesis = cfg.endpoints.client("kinesis")
    found: list[Any] = []
    deadline = time.monotonic() + 60
    while len(found) < want and time.monotonic() < deadline:
        for shard, it in list(iterators.items()):
            r = kinesis.get_records(ShardIterator=it)
            found += r["Records"]
            iterators[shard] = r["NextShardIterator"]
        time.sleep(0.5)
    return found


def test_localstack_runs_the_collector_api_and_its_mapping_templates(
    deployed: PlatformConfig,
) -> None:
    """The deployed API Gateway (models, VTL, Kinesis integration) in LocalStack community."""
    url = _collector_url(deployed)
    kinesis = deployed.endpoints.client("kinesis")
    shards = kinesis.list_shards(StreamName=DEFAULT_STREAM_NAME)["Shards"]
    iterators = {
        s["ShardId"]: kinesis.get_shard_iterator(
            StreamName=DEFAULT_STREAM_NAME, ShardId=s["ShardId"], ShardIteratorType="LATEST"
        )["ShardIterator"]
        for s in shards
    }
    marker = uuid.uuid4().hex
    single = {**GOOD, "event_id": f"{marker}-0", "user_id": "d'arc", "props": {"n": 1, "é": "ü"}}
    # Ids a JSON template must escape (escapeJavaScript alone writes \' for a single quote).
    ids = ("o'brien", 'say "hi" \\ back', "é/ü</script>")
    batch = [{**GOOD, "event_id": f"{marker}-{n}", "user_id": uid} for n, uid in enumerate(ids, 1)]
    before = time.time_ns() // 1_000_000
    status, answer = _post(url + c.EVENTS_PATH, json.dumps(single).encode())
    assert status == 200 and answer["failed"] == 0 and answer["results"][0]["sequence_number"]
    status, answer = _post(url + c.BATCH_PATH, json.dumps({"events": batch}).encode(), "text/plain")
    after = time.time_ns() // 1_000_000
    assert status == 200 and answer["failed"] == 0
    assert [sorted(r) for r in answer["results"]] == [["sequence_number", "shard_id"]] * 3
    records = [r for r in _records_after(deployed, iterators, 4) if marker.encode() in r["Data"]]
    assert len(records) == 4
    for r in records:
        data: bytes = r["Data"]
        head = data[: data.index(b",")]
        stamp = int(json.loads(head + b"}")[ARRIVAL_FIELD])
        assert head == f'{{"{ARRIVAL_FIELD}":"{stamp}"'.encode()  # the stamp, byte for byte
        assert before <= stamp <= after
        doc = json.loads(data)
        sent = next(e for e in [single, *batch] if e["event_id"] == doc["event_id"])
        # The rest is the event as LocalStack's $input.json serializes it: the same JSON.
        assert doc == {ARRIVAL_FIELD: str(stamp), **sent}
        assert r["PartitionKey"] == sent["user_id"]


def test_localstack_refuses_what_the_local_collector_refuses(deployed: PlatformConfig) -> None:
    """Both apply the same model: each refused body is refused by both (400)."""
    url = _collector_url(deployed)
    refused = 0
    for name, doc in _mutations():
        status, _ = _post(url + c.EVENTS_PATH, json.dumps(doc).encode())
        assert status == 400, name
        refused += 1
    for body in (b"[1]", b"{", json.dumps({**GOOD, ARRIVAL_FIELD: "1"}).encode()):
        assert _post(url + c.EVENTS_PATH, body)[0] == 400, body
    batch: dict[str, Any]
    for batch in ({"events": []}, {"events": [GOOD, {**GOOD, "countrycode": "be"}]}):
        assert _post(url + c.BATCH_PATH, json.dumps(batch).encode())[0] == 400, batch
    assert refused > 20


def test_destroy_removes_every_stack(deployed: PlatformConfig) -> None:
    destroyed = cdk_local.destroy(deployed)
    assert set(destroyed) == STACKS
    assert _stacks(deployed) == {}
