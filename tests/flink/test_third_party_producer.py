"""Records a third-party producer sends without a newline replay like the generator's.

Real parts throughout: LocalStack's Kinesis, its Firehose (Kinesis source, configured with the
raw-storage stack's ``AppendDelimiterToRecord`` processor) into S3, the replay (``inputs``
downloads the s3:// prefix) on a Flink mini-cluster, and Redis.

The same events go through the pipeline three times, one phase after the other:

- ``newline``: as our generator sends them, each ending with ``\\n``;
- ``plain``: plain JSON, as the AWS CLI and boto3's ``put_record``/``put_records`` send it
  (LocalStack's Firehose ignores the processor, so they land as ``{...}{...}``);
- ``doubled``: each ending with ``\\n\\n``, the bytes AWS's Firehose writes for a newline record
  once the stack's processor has appended its delimiter (so the archive has blank lines).

All three replays must leave the same Redis image and totals as the reference.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from augury import raw_archive
from augury.endpoints import LOCALSTACK_ACCOUNT_ID, LOCALSTACK_CREDENTIALS, Endpoints
from flink_app import inputs, job
from lambdas.clickgen.config import GeneratorConfig
from localplatform.config import PlatformConfig
from tests import reference
from tests.flink.runs import JobRun, assert_same_image, run_files, totals_of, traffic_lines

PHASES = ("newline", "plain", "doubled")
PROCESSING = {
    "Enabled": True,
    "Processors": [{"Type": "AppendDelimiterToRecord", "Parameters": []}],
}
"""What the raw-storage stack gives its delivery stream (tests/unit/cdk checks the stack)."""
CLI_SINGLE, CLI_BATCH = 4, 25  # records the AWS CLI puts one by one, then in one put-records


def _wait(predicate: Any, timeout_s: float, what: str, interval_s: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (result := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout_s:.0f} s")
        time.sleep(interval_s)
    return result


def events(now_ms: int) -> list[str]:
    """Generated traffic (duplicates, bots, contract-invalid objects): the whole JSON objects.

    Truncated JSON and arrays are left out: a record that is not a whole object cannot be told
    apart from its neighbours on a line without delimiters (that line is dead-lettered whole),
    which is why the stack appends one. Some page URLs hold braces and quotes, for the splitter.
    """
    start = now_ms - now_ms % 60_000 - 90 * 60_000
    cfg = GeneratorConfig(rate=8, seed=29, malformed_fraction=0.05, duplicate_fraction=0.03)
    out: list[str] = []
    for line in traffic_lines(cfg, start, start + 90_000):
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if not isinstance(doc, dict):
            continue
        if len(out) % 50 == 7 and doc.get("page_url"):
            line = json.dumps(doc | {"page_url": '/search?q={"a":"}{\\"}'}, ensure_ascii=False)
        out.append(line)
    return out


@dataclass
class Firehose:
    """A Kinesis stream archived by a Firehose delivery stream into a bucket's ``raw/``."""

    endpoints: Endpoints
    stream: str
    bucket: str
    delivery: str
    put_bytes: dict[str, int] = field(default_factory=dict)
    archived_bytes: dict[str, int] = field(default_factory=dict)

    def archived(self) -> list[raw_archive.RawObject]:
        return list(raw_archive.objects(self.endpoints.client("s3"), self.bucket))

    def settle(self, phase: str, sent: int) -> None:
        """Wait until ``sent`` bytes (or more) are archived; move them to ``<phase>/``."""
        s3 = self.endpoints.client("s3")

        def delivered() -> list[raw_archive.RawObject] | None:
            objs = self.archived()
            return objs if sum(len(o.body) for o in objs) >= sent else None

        objs = _wait(delivered, 60, f"delivery of the {phase} records to S3")
        time.sleep(2)  # nothing more arrives (checked below by the byte count)
        objs = self.archived()
        for obj in objs:
            name = obj.key.replace("/", "_")
            s3.copy_object(Bucket=self.bucket, Key=f"{phase}/{name}",
                           CopySource={"Bucket": self.bucket, "Key": obj.key})  # fmt: skip
            s3.delete_object(Bucket=self.bucket, Key=obj.key)
        self.put_bytes[phase] = sent
        self.archived_bytes[phase] = sum(len(o.body) for o in objs)


@pytest.fixture(scope="module")
def firehose(endpoints: Endpoints) -> Iterator[Firehose]:
    """A fresh stream → Firehose → bucket, its Kinesis reader running (probed, then cleared)."""
    kinesis, s3, fh = (endpoints.client(s) for s in ("kinesis", "s3", "firehose"))
    suffix = uuid.uuid4().hex[:8]
    f = Firehose(endpoints, f"it-3p-{suffix}", f"it-3p-{suffix}", f"it-3p-{suffix}")
    kinesis.create_stream(StreamName=f.stream, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=f.stream, WaiterConfig={"Delay": 1})
    arn = kinesis.describe_stream_summary(StreamName=f.stream)["StreamDescriptionSummary"][
        "StreamARN"
    ]
    s3.create_bucket(Bucket=f.bucket)
    role = f"arn:aws:iam::{LOCALSTACK_ACCOUNT_ID}:role/firehose-it"
    fh.create_delivery_stream(
        DeliveryStreamName=f.delivery,
        DeliveryStreamType="KinesisStreamAsSource",
        KinesisStreamSourceConfiguration={"KinesisStreamARN": arn, "RoleARN": role},
        ExtendedS3DestinationConfiguration={
            "BucketARN": f"arn:aws:s3:::{f.bucket}", "RoleARN": role, "Prefix": "raw/",
            "BufferingHints": {"IntervalInSeconds": 60, "SizeInMBs": 1},
            "ProcessingConfiguration": PROCESSING,
        },
    )  # fmt: skip

    def active() -> bool:
        described = fh.describe_delivery_stream(DeliveryStreamName=f.delivery)
        return bool(described["DeliveryStreamDescription"]["DeliveryStreamStatus"] == "ACTIVE")

    _wait(active, 120, "the delivery stream ACTIVE")
    # The reader starts at LATEST a few seconds after ACTIVE: probe until one record arrives.
    deadline = time.monotonic() + 120
    while not f.archived():
        assert time.monotonic() < deadline, "Firehose archived no probe record in 120 s"
        kinesis.put_record(StreamName=f.stream, Data=b'{"probe":1}\n', PartitionKey="probe")
        time.sleep(3)
    time.sleep(4)
    for obj in f.archived():
        s3.delete_object(Bucket=f.bucket, Key=obj.key)
    yield f
    fh.delete_delivery_stream(DeliveryStreamName=f.delivery)
    kinesis.delete_stream(StreamName=f.stream, EnforceConsumerDeletion=True)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=f.bucket):
        for obj in page.get("Contents", []):
            s3.delete_object(Bucket=f.bucket, Key=obj["Key"])
    s3.delete_bucket(Bucket=f.bucket)


def put_records(kinesis: Any, stream: str, datas: list[bytes]) -> None:
    """boto3's ``put_records``, 500 at a time; every record must be accepted."""
    for i in range(0, len(datas), 500):
        batch = [{"Data": d, "PartitionKey": str(i + k)} for k, d in enumerate(datas[i : i + 500])]
        assert kinesis.put_records(StreamName=stream, Records=batch)["FailedRecordCount"] == 0


def aws_cli(platform: PlatformConfig) -> Path | None:
    """The AWS CLI installed with LocalStack (``awscli`` is one of its dependencies), if any."""
    path = platform.localstack_venv / "bin" / "aws"
    return path if path.exists() else None


def cli_put(cli: Path, f: Firehose, lines: list[str], work: Path) -> None:
    """The AWS CLI (v1) puts ``lines`` as they are: a few with put-record, the rest in one
    put-records (its blobs are text on the command line and in the JSON input)."""
    env = os.environ | {
        "AWS_ACCESS_KEY_ID": LOCALSTACK_CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": LOCALSTACK_CREDENTIALS["aws_secret_access_key"],
        "AWS_DEFAULT_REGION": f.endpoints.region,
    }
    base = [str(cli), "--endpoint-url", str(f.endpoints.localstack_url), "kinesis"]
    single, batch = lines[:CLI_SINGLE], lines[CLI_SINGLE:]
    for i, line in enumerate(single):
        args = ["put-record", "--stream-name", f.stream, "--partition-key", f"cli-{i}"]
        subprocess.run([*base, *args, "--data", line], env=env, check=True, capture_output=True)
    if batch:
        path = work / "cli-records.json"
        records = [{"Data": line, "PartitionKey": f"cli-b{i}"} for i, line in enumerate(batch)]
        path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
        args = ["put-records", "--stream-name", f.stream, "--records", f"file://{path}"]
        out = subprocess.run([*base, *args], env=env, check=True, capture_output=True)
        assert json.loads(out.stdout)["FailedRecordCount"] == 0


@dataclass
class Replays:
    runs: dict[str, JobRun]
    lines: dict[str, list[str]]  # each phase's archived lines, as downloaded
    events: list[str]
    firehose: Firehose
    cli_used: bool


@pytest.fixture(scope="module")
def replays(platform_up: PlatformConfig, firehose: Firehose,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replays]:  # fmt: skip
    now_ms = int(time.time() * 1000)
    evs = events(now_ms)
    work = tmp_path_factory.mktemp("third-party")
    kinesis = firehose.endpoints.client("kinesis")
    datas = [e.encode() for e in evs]

    put_records(kinesis, firehose.stream, [d + b"\n" for d in datas])
    firehose.settle("newline", sum(len(d) + 1 for d in datas))

    # Plain JSON: the AWS CLI, boto3's put_record one by one, then boto3's put_records.
    cli = aws_cli(platform_up)
    if cli is None:
        warnings.warn("no AWS CLI in LocalStack's venv: boto3 puts its records", stacklevel=1)
    n_cli = CLI_SINGLE + CLI_BATCH if cli else 0
    if cli:
        cli_put(cli, firehose, evs[:n_cli], work)
    for i, d in enumerate(datas[n_cli : n_cli + 20]):
        kinesis.put_record(StreamName=firehose.stream, Data=d, PartitionKey=f"one-{i}")
    put_records(kinesis, firehose.stream, datas[n_cli + 20 :])
    firehose.settle("plain", sum(len(d) for d in datas))

    put_records(kinesis, firehose.stream, [d + b"\n\n" for d in datas])
    firehose.settle("doubled", sum(len(d) + 2 for d in datas))

    runs, lines = {}, {}
    for phase in PHASES:
        local = inputs.local_input(f"s3://{firehose.bucket}/{phase}/", work / f"in-{phase}",
                                   firehose.endpoints)  # fmt: skip
        lines[phase] = [line for p in sorted(local.iterdir())
                        for line in p.read_text(encoding="utf-8").split("\n")]  # fmt: skip
        runs[phase] = run_files(job.REPLAY, local, work / phase, lines[phase], now_ms)
    yield Replays(runs, lines, evs, firehose, cli is not None)
    for run in runs.values():
        run.drop()


def test_localstack_archives_what_was_put_without_the_delimiter(replays: Replays) -> None:
    """Measured: LocalStack's Firehose accepts AppendDelimiterToRecord but does not apply it."""
    f = replays.firehose
    assert f.archived_bytes == f.put_bytes  # not one "\n" appended
    plain = replays.lines["plain"]
    assert sum(len(raw_archive.split_records(line)) > 1 for line in plain) >= 1  # {...}{...}
    assert sum(map(len, map(raw_archive.split_records, plain))) == len(replays.events)
    assert replays.lines["doubled"].count("") >= len(replays.events)  # blank lines


def test_every_phase_leaves_the_reference_image(replays: Replays) -> None:
    newline = replays.runs["newline"]
    expected = reference.replay(replays.lines["newline"], newline.now_ms, newline.keys)
    assert_same_image(newline.image(), expected.image)
    for phase in ("plain", "doubled"):
        assert_same_image(replays.runs[phase].image(relative=True), newline.image(relative=True))
        run = replays.runs[phase]
        mine = reference.replay(replays.lines[phase], run.now_ms, run.keys)
        assert_same_image(run.image(), mine.image)


def test_totals_count_every_record_once_and_blank_lines_never(replays: Replays) -> None:
    totals = {p: totals_of(r.conn, r.keys) for p, r in replays.runs.items()}
    assert totals["plain"] == totals["newline"] == totals["doubled"]
    counted = sum(int(totals["newline"][k]) for k in ("accepted", "invalid", "duplicates",
                                                      "bot_events"))  # fmt: skip
    assert counted == len(replays.events)
    assert int(totals["newline"]["invalid"]) > 0 and int(totals["newline"]["duplicates"]) > 0
    dead = {p: r.dead_letters() for p, r in replays.runs.items()}
    assert dead["plain"] == dead["newline"] == dead["doubled"]
    assert all(raw for _, raw in dead["plain"])  # no blank line among them


def test_the_archive_holds_exactly_what_the_third_party_clients_put(replays: Replays) -> None:
    """boto3 and the AWS CLI put the text as it is: the plain phase's records are the events."""
    if not replays.cli_used:
        warnings.warn("the AWS CLI is not installed with LocalStack here", stacklevel=1)
    records = [r for line in replays.lines["plain"] for r in raw_archive.split_records(line)]
    assert Counter(records) == Counter(replays.events)
