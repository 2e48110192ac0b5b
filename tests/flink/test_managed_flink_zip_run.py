"""The Managed Flink zip, run the way the service runs it, against the local platform.

The CDK app's AWS mode is synthesized; the application's code asset (which must be the zip
``make flink-zip`` built) is unpacked into an empty directory, and its ``main.py`` runs there
as a process of its own, with the environment the service would give it and, in place of
``/etc/flink/application_properties.json``, the template's property groups in the service's
file format with only the AWS endpoints swapped for local ones (``tests.flink.managed_flink``).
Known clicks go into a fresh LocalStack stream; the results must appear in Redis under the key
prefix the stack configured, equal to the reference's.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from augury import events as contract
from augury.endpoints import Endpoints
from augury.redis_keys import Keys
from augury.resources import FLINK_JAR_NAME
from cdk.packaging import FLINK_ZIP
from lambdas.clickgen import traffic
from lambdas.clickgen.config import GeneratorConfig
from tests import reference
from tests.flink.managed_flink import (
    RUN_OPTIONS,
    Local,
    Synthesized,
    localize,
    service_environment,
    synthesize,
    write_properties,
)
from tests.flink.runs import assert_same_image, image, kinesis_stream, totals_of

PREFIX = f"augury:zip-{uuid.uuid4().hex[:8]}:"
"""The key prefix the stack is synthesized with (``redis_key_prefix``): this run's keys only."""


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The AWS mode at ``cdk.json``'s context, with this run's key prefix."""
    assert FLINK_ZIP.exists(), "build the zip first: make flink-zip (make test does)"
    return synthesize(tmp_path_factory.mktemp("cdk-aws"), {"redis_key_prefix": PREFIX})


@pytest.fixture
def stream(endpoints: Endpoints) -> Iterator[str]:
    yield from kinesis_stream(endpoints, "it-zip")


@pytest.fixture
def conn(endpoints: Endpoints) -> Iterator[Any]:
    c = redis.Redis.from_url(endpoints.redis_url, decode_responses=True)
    yield c
    for key in c.scan_iter(f"{PREFIX}*", count=1000):
        c.delete(key)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _clicks() -> tuple[list[str], str, int]:
    """Two minutes of the generator's traffic (bots, duplicates, malformed and late events)
    half an hour ago, and a closing event at the present, whose watermark closes every window
    and session before it.

    The contract judges a record as of its arrival (the job: Kinesis's arrival time; the
    reference: ``now_ms``), and LocalStack's arrival times need not follow this machine's clock
    (seen: 40 s behind). So the data holds nothing whose verdict depends on the moment: it is
    half an hour old, and the generator's malformed records stamped 10-60 minutes after they
    were sent (``future_timestamp`` only when they arrive early enough) are left out.
    """
    now_ms = int(time.time() * 1000)
    start = now_ms - now_ms % 60_000 - 30 * 60_000
    sent = traffic.generate(GeneratorConfig(rate=20, seed=23), start, start + 120_000).records
    lines = [r.data.decode().rstrip("\n") for r in sent if r.reason != contract.FUTURE_TIMESTAMP]
    closing = contract.encode({
        "event_id": f"closing-{uuid.uuid4().hex}", "user_id": "closer", "device_id": "d",
        "client_event": "page_view", "client_timestamp": contract.format_timestamp(now_ms),
        "countrycode": "BE", "page_url": "/",
    })  # fmt: skip
    return lines, closing.decode().rstrip("\n"), now_ms


def _put(kinesis: Any, stream: str, lines: list[str]) -> None:
    """Each line a record, as the generator sends it (encoded, newline-terminated)."""
    for i in range(0, len(lines), 400):
        records = [{"Data": (line + "\n").encode(), "PartitionKey": str(n)}
                   for n, line in enumerate(lines[i : i + 400])]  # fmt: skip
        assert kinesis.put_records(StreamName=stream, Records=records)["FailedRecordCount"] == 0


def _open_windows(conn: Any, keys: Keys, after_ms: int) -> list[int]:
    """Windows starting after ``after_ms``: the closing event's (its event time is its arrival
    at the latest, so which one depends on LocalStack's clock)."""
    return [int(ws) for ws in conn.zrangebyscore(keys.windows, after_ms, "+inf")]


def _missing(conn: Any, keys: Keys, expected: reference.Result, after_ms: int) -> Callable[[], str]:
    """What is still missing from Redis ("" when nothing): every closed window final with its
    sessions, the totals and the sessions complete, the closing event's early result."""
    windows = [keys.window(int(ws)) for ws in expected.image[keys.windows]]
    sessions = len(expected.image[keys.sessions])

    def missing() -> str:
        totals = totals_of(conn, keys)
        if totals != expected.image[keys.totals]:
            return f"totals {totals}, expected {expected.image[keys.totals]}"
        for w in windows:
            got = conn.hmget(w, "final", "sessions")
            if got != ["1", expected.image[w]["sessions"]]:
                return f"{w} final, sessions = {got}, expected 1, {expected.image[w]['sessions']}"
        opened = _open_windows(conn, keys, after_ms)
        early = [conn.hget(keys.window(ws), "events") for ws in opened]
        if early != ["1"]:
            return f"the closing event's early result: windows {opened}, events {early}"
        found = conn.zcard(keys.sessions)
        return "" if found >= sessions else f"{found} of {sessions} sessions"

    return missing


def _closed_windows_only(got: dict[str, Any], keys: Keys, opened: list[int]) -> dict[str, Any]:
    """``got`` without the closing event's window: still open, it has early results only."""
    open_keys = {k for ws in opened for k in (keys.window(ws), keys.window_pages(ws))}
    got = {k: v for k, v in got.items() if k not in open_keys}
    members = {str(ws) for ws in opened}
    got[keys.windows] = {m: s for m, s in got.get(keys.windows, {}).items() if m not in members}
    return got


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the job's process group (client, mini-cluster JVM), SIGKILL what is left."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # a JVM that outlived its client


def test_the_zip_runs_as_the_service_runs_it_and_writes_redis(
    synthesized: Synthesized, endpoints: Endpoints, stream: str, conn: Any, tmp_path: Path
) -> None:
    # The template deploys exactly the zip `make flink-zip` built; it is what gets unpacked.
    assert synthesized.code.is_file(), synthesized.code
    assert _sha256(synthesized.code) == _sha256(FLINK_ZIP)
    app = tmp_path / "app"
    app.mkdir()
    assert not any(app.iterdir())
    with zipfile.ZipFile(synthesized.code) as zf:
        zf.extractall(app)
    run_options = next(g["PropertyMap"] for g in synthesized.property_groups
                       if g["PropertyGroupId"] == RUN_OPTIONS)  # fmt: skip
    assert (app / run_options["python"]).is_file() and (app / run_options["jarfile"]).is_file()

    local = Local(
        stream=stream, region=endpoints.region, localstack_url=str(endpoints.localstack_url),
        redis_url=endpoints.redis_url, dead_letter=tmp_path / "dead-letter",
        checkpoints=tmp_path / "checkpoints",
    )  # fmt: skip
    properties = write_properties(
        tmp_path / "etc" / "flink" / "application_properties.json",
        localize(synthesized.property_groups, local),
    )

    lines, closing, now_ms = _clicks()
    keys = Keys(PREFIX)
    expected = reference.stream(lines, now_ms, keys=keys)  # every window and session closed
    after_ms = now_ms - 10 * 60_000  # the data ended 28 minutes ago
    _put(endpoints.client("kinesis"), stream, [*lines, closing])

    log = tmp_path / "main.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, run_options["python"]], cwd=app, stdout=out,
            stderr=subprocess.STDOUT, env=service_environment(os.environ, properties),
            start_new_session=True,
        )  # fmt: skip
    try:
        missing = _missing(conn, keys, expected, after_ms)
        deadline = time.monotonic() + 300
        while left := missing():
            if proc.poll() is not None:
                pytest.fail(f"main.py exited ({proc.returncode}):\n{log.read_text()[-4000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"timed out; missing: {left}\n{log.read_text()[-4000:]}")
            time.sleep(1)
    finally:
        _stop(proc)

    # The job read the stream and wrote the prefix the properties file gave it, with the zip's
    # own jar on its class path (the local Flink's lib/ links the job's jar beside its own).
    text = log.read_text()
    assert f"[run] kinesis:{stream} -> redis {PREFIX}*" in text, text[-4000:]
    linked = app / "lib" / "flink-lib" / FLINK_JAR_NAME
    assert linked.resolve() == (app / "lib" / FLINK_JAR_NAME).resolve()
    got = _closed_windows_only(image(conn, PREFIX), keys, _open_windows(conn, keys, after_ms))
    assert_same_image(got, expected.image)
    totals = expected.image[keys.totals]  # the data took the job's every path but bots'
    assert all(int(totals[k]) > 0 for k in ("accepted", "invalid", "duplicates", "late"))
