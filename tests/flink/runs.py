"""The job run over files on the mini-cluster, and what it left: Redis image, dead letter."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from augury import env as env_names
from augury.endpoints import Endpoints
from augury.redis_keys import Keys
from flink_app import job, settings
from flink_app.settings import JobSettings
from lambdas.clickgen import traffic
from lambdas.clickgen.config import GeneratorConfig
from tests import reference


def kinesis_stream(endpoints: Endpoints, prefix: str) -> Iterator[str]:
    """A fresh one-shard stream on LocalStack named ``<prefix>-<uid>``, deleted afterwards."""
    kinesis = endpoints.client("kinesis")
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(StreamName=name, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 1})
    yield name
    kinesis.delete_stream(StreamName=name, EnforceConsumerDeletion=True)


def image(conn: Any, prefix: str) -> dict[str, Any]:
    """Every key under ``prefix``: hashes (without write times) and sorted sets with scores."""
    out: dict[str, Any] = {}
    for key in conn.scan_iter(f"{prefix}*", count=1000):
        if conn.type(key) == "hash":
            h = conn.hgetall(key)
            h.pop("updated_ms", None)  # the time of the write
            h.pop("final_ms", None)  # the time of the first final write
            h.pop("since", None)  # the totals: when the job's state began
            out[key] = h
        else:
            out[key] = dict(conn.zrange(key, 0, -1, withscores=True))
    return out


def wait_for(what: str, ready: Callable[[], bool], timeout_s: float = 180) -> None:
    """Poll ``ready`` every 0.2 s until it holds; AssertionError naming ``what`` on timeout."""
    deadline = time.monotonic() + timeout_s
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def totals_of(conn: Any, keys: Keys) -> dict[str, str]:
    """The totals hash's counts (without ``since``, when the job's state began)."""
    got = conn.hgetall(keys.totals)
    got.pop("since", None)
    return dict(got)


def assert_same_image(got: dict[str, Any], expected: reference.RedisImage) -> None:
    """The same keys, and each key's value equal (reported by key)."""
    assert sorted(got) == sorted(expected)
    for key, value in expected.items():
        assert got[key] == value, key


def traffic_lines(cfg: GeneratorConfig, start_ms: int, end_ms: int) -> list[str]:
    """The generator's records for ``[start_ms, end_ms)`` as lines (without their newline)."""
    return [r.data.decode().rstrip("\n") for r in traffic.generate(cfg, start_ms, end_ms).records]


def write_lines(path: Path, lines: list[str]) -> Path:
    """``lines`` as an NDJSON file (its directory created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass
class JobRun:
    """One finished run of the job over ``lines``, and where its results are."""

    settings: JobSettings
    keys: Keys
    lines: list[str]
    now_ms: int
    dead_letter: Path
    conn: Any  # redis.Redis with decode_responses=True

    def image(self, relative: bool = False) -> dict[str, Any]:
        """The run's Redis keys (with ``relative``, named without the run's prefix)."""
        got = image(self.conn, self.keys.prefix)
        return {k.removeprefix(self.keys.prefix): v for k, v in got.items()} if relative else got

    def dead_letters(self) -> Counter[tuple[str, str]]:
        """(reason, raw) of every committed dead-letter line."""
        got: Counter[tuple[str, str]] = Counter()
        for part in self.dead_letter.rglob("*"):
            if part.is_file() and not part.name.startswith("."):
                for line in part.read_text(encoding="utf-8").splitlines():
                    doc = json.loads(line)
                    got[(doc["reason"], doc["raw"])] += 1
        return got

    def drop(self) -> None:
        """Delete the run's keys."""
        for key in self.conn.scan_iter(f"{self.keys.prefix}*", count=1000):
            self.conn.delete(key)


def start_files(mode: str, input_dir: Path, work_dir: Path, lines: list[str], now_ms: int,
                flags: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None,
                table_config: Mapping[str, str] | None = None) -> tuple[Any, JobRun]:  # fmt: skip
    """Start the job (``replay`` or ``stream``) over ``input_dir``; its TableResult and run.

    Results go under a fresh key prefix unless ``flags`` or ``env`` name one; ``env`` (default:
    none) is the environment the settings are read from; ``table_config`` overrides Flink
    options after the job's own (a test's short state TTL, say).
    """
    values = {"source.type": "files", "source.input.path": str(input_dir),
              "sink.redis.url": Endpoints.local().redis_url,
              "job.checkpoint.interval.seconds": 2,
              "job.checkpoint.dir": str(work_dir / f"chk-{mode}"), **(flags or {})}  # fmt: skip
    env = {} if env is None else env
    if "sink.redis.key.prefix" not in values and env_names.REDIS_KEY_PREFIX not in env:
        values["sink.redis.key.prefix"] = f"augury:test:{mode}:{uuid.uuid4().hex[:8]}:"
    s = settings.load(env=env, flag_values=values)
    t_env = job.table_env(s, batch=mode == job.REPLAY)
    if mode == job.STREAM:
        job.configure_stream(t_env, s)
    for key, value in (table_config or {}).items():
        t_env.get_config().set(key, value)
    dead_letter = work_dir / f"dead-{mode}"
    result = job.build(t_env, s, mode, str(dead_letter), input_path=str(input_dir),
                       now_ms=now_ms).execute()  # fmt: skip
    conn = redis.Redis.from_url(s.redis_url, decode_responses=True)
    return result, JobRun(s, Keys(s.pipeline.key_prefix), lines, now_ms, dead_letter, conn)


def run_files(mode: str, input_dir: Path, work_dir: Path, lines: list[str], now_ms: int,
              flags: Mapping[str, Any] | None = None,
              env: Mapping[str, str] | None = None) -> JobRun:  # fmt: skip
    """Run the job (``replay`` or bounded ``stream``) over ``input_dir`` until its input ends."""
    result, run = start_files(mode, input_dir, work_dir, lines, now_ms, flags, env)
    result.wait()
    return run
