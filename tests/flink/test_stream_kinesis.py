"""``python -m flink_app run`` streaming from LocalStack's Kinesis, killed and restarted.

Each run is a real process (a PyFlink client with its mini-cluster) reading the stream through
the job's Kinesis connector. The data ends with one event at the present, whose watermark
closes every window and session of the data before it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from augury import env as env_names
from augury import events as contract
from augury.endpoints import Endpoints
from augury.redis_keys import Keys
from flink_app import job
from lambdas.clickgen.config import GeneratorConfig
from tests import reference
from tests.flink.runs import image, kinesis_stream, totals_of, traffic_lines

ROOT = Path(__file__).resolve().parents[2]


def _put(kinesis: Any, stream: str, lines: list[str]) -> None:
    for i in range(0, len(lines), 400):
        chunk = lines[i : i + 400]
        records = [{"Data": (line + "\n").encode(), "PartitionKey": str(n)} for n, line in
                   enumerate(chunk)]  # fmt: skip
        failed = kinesis.put_records(StreamName=stream, Records=records)["FailedRecordCount"]
        assert failed == 0


class Run:
    """One ``python -m flink_app run`` process, in its own process group."""

    def __init__(self, stream: str, db: int, root: Path, restore: bool = False) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.log = root / f"run-{time.time_ns()}.log"
        cmd = [
            sys.executable, "-m", "flink_app", "run", "--stream", stream,
            "--start-position", "TRIM_HORIZON", "--redis-url", f"redis://127.0.0.1:6379/{db}",
            "--dead-letter", str(root / "dead"), "--checkpoint-dir", str(root / "chk"),
            "--set", "job.checkpoint.interval.seconds=2",
            "--set", f"source.aws.endpoint={Endpoints.local().localstack_url}",
        ]  # fmt: skip
        if restore:
            cmd += ["--from-checkpoint", "latest"]
        # Not the test process's PyFlink gateway (PYFLINK_GATEWAY_PORT would make the child
        # reuse it): each run gets its own JVM, killed with it.
        env = env_names.for_child_process(os.environ)
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def kill(self) -> None:
        """SIGKILL the whole group: client, mini-cluster JVM and Python workers."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)


def _wait(what: str, ok: Callable[[], bool], run: Run, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ok():
            return
        if run.proc.poll() is not None:
            pytest.fail(f"the job exited ({run.proc.returncode}):\n{run.log.read_text()[-4000:]}")
        time.sleep(1)
    pytest.fail(f"timed out waiting for {what}:\n{run.log.read_text()[-4000:]}")


@pytest.fixture(scope="module")
def data() -> tuple[list[str], list[str], str, int]:
    """Two halves of generated traffic (with bots, duplicates, malformed and late events)
    90 minutes ago, and a closing event at the present."""
    now_ms = int(time.time() * 1000)
    start = now_ms - now_ms % 60_000 - 90 * 60_000
    lines = traffic_lines(GeneratorConfig(rate=20, seed=11), start, start + 240_000)
    half = len(lines) // 2
    closing = contract.encode({
        "event_id": f"closing-{uuid.uuid4().hex}", "user_id": "closer", "device_id": "d",
        "client_event": "page_view", "client_timestamp": contract.format_timestamp(now_ms),
        "countrycode": "BE", "page_url": "/",
    }).decode().rstrip("\n")  # fmt: skip
    return lines[:half], lines[half:], closing, now_ms


def _stream(endpoints: Endpoints) -> Iterator[str]:
    return kinesis_stream(endpoints, "it-run")


@pytest.fixture
def stream(endpoints: Endpoints) -> Iterator[str]:
    yield from _stream(endpoints)


def _done(conn: Any, expected: reference.Result, closing_ms: int) -> Callable[[], bool]:
    keys = Keys()
    open_ws = closing_ms - closing_ms % 60_000
    totals = expected.image[keys.totals]
    windows = [k for k in expected.image if k.startswith(keys.prefix + "win:") and
               not k.endswith(":pages")]  # fmt: skip
    sessions = sum(1 for k in expected.image if k.startswith(keys.prefix + "session:"))

    def ok() -> bool:
        if totals_of(conn, keys) != totals:
            return False
        if any(conn.hget(w, "final") != "1" for w in windows):
            return False
        # The session counts, written by the sessions' writer as sessions close (after the
        # windows' own results may have been written).
        if any(conn.hget(w, "sessions") != expected.image[w]["sessions"] for w in windows):
            return False
        # the closing event's whole early result (its rows may reach Redis in two flushes)
        fields = conn.hmget(keys.window(open_ws), "events", "evt:page_view", "cc:BE")
        if fields != ["1", "1", "1"] or conn.zscore(keys.window_pages(open_ws), "/") != 1:
            return False
        return sum(1 for _ in conn.scan_iter(keys.prefix + "session:*", count=1000)) >= sessions

    return ok


def _without_open_window(got: dict[str, Any], closing_ms: int) -> dict[str, Any]:
    """``got`` without the window of the closing event: still open, it has early results only
    (written as soon as the event is read), which the reference, of closed windows, leaves out."""
    keys, ws = Keys(), closing_ms - closing_ms % 60_000
    got = {k: v for k, v in got.items() if k not in (keys.window(ws), keys.window_pages(ws))}
    got[keys.windows] = {m: s for m, s in got.get(keys.windows, {}).items() if m != str(ws)}
    return got


@pytest.fixture(scope="module")
def redis_dbs(platform_up: Any) -> Iterator[tuple[Any, Any]]:
    """Two scratch Redis databases (the job writes the default prefix into each)."""
    conns = tuple(redis.Redis.from_url(f"redis://127.0.0.1:6379/{db}", decode_responses=True)
                  for db in (11, 12))  # fmt: skip
    for c in conns:
        c.flushdb()
    yield conns[0], conns[1]
    for c in conns:
        c.flushdb()


def test_uninterrupted_and_restarted_runs_write_the_same_redis(
    endpoints: Endpoints,
    data: tuple[list[str], list[str], str, int],
    redis_dbs: tuple[Any, Any],
    tmp_path: Path,
) -> None:
    first, second, closing, now_ms = data
    expected = reference.stream(first + second, now_ms)
    kinesis = endpoints.client("kinesis")
    once, twice = redis_dbs
    streams = _stream(endpoints), _stream(endpoints)
    whole, killed = next(streams[0]), next(streams[1])
    try:
        # Uninterrupted: everything is in the stream before the job starts.
        _put(kinesis, whole, [*first, *second, closing])
        run = Run(whole, 11, tmp_path / "whole")
        try:
            _wait("the uninterrupted run's final results", _done(once, expected, now_ms), run)
        finally:
            run.kill()

        # Interrupted: the first half, a checkpoint, SIGKILL, the rest, restore.
        _put(kinesis, killed, first)
        root = tmp_path / "killed"
        run = Run(killed, 12, root)
        try:
            _wait("results of the first half", lambda: bool(twice.hgetall("augury:totals")), run)

            def newest_checkpoint() -> int:  # Flink keeps only the newest: compare numbers
                done = (root / "chk").glob("*/chk-*/_metadata")
                return max((int(p.parent.name.removeprefix("chk-")) for p in done), default=-1)

            seen = newest_checkpoint()
            _wait("a checkpoint after them", lambda: newest_checkpoint() > seen, run)
        finally:
            run.kill()
        assert job.latest_checkpoint(root / "chk") is not None
        _put(kinesis, killed, [*second, closing])
        run = Run(killed, 12, root, restore=True)
        try:
            _wait("the restored run's final results", _done(twice, expected, now_ms), run)
        finally:
            run.kill()
        assert "restoring" in run.log.read_text()
    finally:
        for gen in streams:
            next(gen, None)

    got_once, got_twice = (image(c, "augury:") for c in redis_dbs)
    assert got_once == got_twice  # the open window's early result too
    assert _without_open_window(got_once, now_ms) == expected.image
    assert int(got_once["augury:totals"]["late"]) > 0
