"""The cache users' access strings on the real Redis: what works as them, and what is refused.

The strings are ``augury.cache_access``'s, the very ones the CDK app gives its ElastiCache users.
Each test creates its user on the local Redis with ``ACL SETUSER <name> <access string>
><password>`` (the string as is; ElastiCache sets the password beside it) and deletes it after.
The job's writer (the Java sink, run outside Flink) writes as the job's user; the read API's
handler serves every route as the reader, its password fetched from a Secrets Manager secret as
on AWS; everything else either user might try is refused with NOPERM.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
import redis

from augury import read_model
from augury.cache_access import JOB_USER, READER_USER, job_access, reader_access
from augury.endpoints import Endpoints
from augury.redis_keys import Keys
from flink_app.redis_sink import SinkWriter, core, count
from tests.integration.conftest import Dataset, write_dataset

TEST_PREFIX = "augury:test:"
"""Every test key's prefix: the job's user gets it (each dataset has its own prefix under it)."""


@dataclass(frozen=True)
class User:
    """A user created on the local Redis for one test."""

    name: str
    password: str
    url: str
    """The platform's Redis URL with this user's name and password."""

    def connect(self) -> redis.Redis:
        """A client logged in as this user."""
        return redis.Redis.from_url(self.url, decode_responses=True)


def with_user(url: str, user: str, password: str | None = None) -> str:
    """``url`` with ``user`` (and ``password``) in it."""
    parts = urlsplit(url)
    login = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "")
    return urlunsplit(parts._replace(netloc=f"{login}@{parts.netloc.rsplit('@', 1)[-1]}"))


def send(conn: redis.Redis, *command: Any) -> Any:
    """One command as is (redis-py's ``execute_command`` is untyped)."""
    return conn.execute_command(*command)  # type: ignore[no-untyped-call]


@contextmanager
def acl_user(admin: redis.Redis, endpoints: Endpoints, name: str, access: str) -> Iterator[User]:
    """A user named ``name`` plus a random suffix, with exactly the rules of ``access``."""
    user = f"{name}-test-{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    send(admin, "ACL", "SETUSER", user, *access.split(), f">{password}")
    try:
        yield User(user, password, with_user(endpoints.redis_url, user, password))
    finally:
        admin.acl_deluser(user)


def refused(admin: redis.Redis, user: User) -> set[str]:
    """What the ACL log says ``user`` was refused (commands, keys), newest first."""
    entries = admin.acl_log(count=128)
    return {str(e["object"]) for e in entries if e["username"] == user.name}


@pytest.fixture(scope="module")
def admin(endpoints: Endpoints) -> redis.Redis:
    return redis.Redis.from_url(endpoints.redis_url, decode_responses=True)


@pytest.fixture(scope="module")
def dataset(endpoints: Endpoints, admin: redis.Redis) -> Iterator[Dataset]:
    """The read API tests' dataset, written by the job's writer logged in as the job's user."""
    with acl_user(admin, endpoints, JOB_USER, job_access(TEST_PREFIX)) as job:
        as_job = Endpoints(endpoints.localstack_url, job.url, endpoints.region)
        data = write_dataset(as_job)
        assert refused(admin, job) == set()  # every command the writer sent was allowed
    yield data
    admin.delete(*admin.scan_iter(f"{data.keys.prefix}*"))


def _get(base: str, path: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(base + path, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def test_the_read_api_serves_every_route_as_the_reader(
    endpoints: Endpoints, admin: redis.Redis, dataset: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As on AWS: the user is in the URL, its password in a secret the handler fetches."""
    from lambdas.read_api import handler
    from lambdas.read_api.local_server import BackgroundServer

    secrets = endpoints.client("secretsmanager")
    with acl_user(admin, endpoints, READER_USER, reader_access(dataset.keys.prefix)) as reader:
        arn = secrets.create_secret(Name=reader.name, SecretString=reader.password)["ARN"]
        assert endpoints.localstack_url
        monkeypatch.setenv("AUGURY_LOCALSTACK_URL", endpoints.localstack_url)
        monkeypatch.setenv("AUGURY_REDIS_URL", with_user(endpoints.redis_url, reader.name))
        monkeypatch.setenv("AUGURY_REDIS_AUTH_SECRET_ARN", arn)
        monkeypatch.setenv("AUGURY_REDIS_KEY_PREFIX", dataset.keys.prefix)
        monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
        handler.config.cache_clear()
        handler.connection.cache_clear()
        server = BackgroundServer(handler.lambda_handler)
        try:
            base, old = dataset.base, dataset.old
            answers = {path: _get(server.url, path) for path in (
                "/health", "/totals", "/windows", f"/windows?from={old}&to={old}",
                f"/windows/{base}", f"/windows/{base}/pages?limit=2", "/pages/top",
                f"/pages/top?from={old}", "/sessions", "/users/u1/sessions",
            )}  # fmt: skip
        finally:
            server.stop()
            handler.config.cache_clear()
            handler.connection.cache_clear()
            secrets.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
        # Nothing refused: the read API's client sends no CLIENT SETINFO (driver_info=None).
        assert refused(admin, reader) == set()
    assert {path: status for path, (status, _) in answers.items()} == dict.fromkeys(answers, 200)
    assert answers["/health"][1]["redis"] is True
    assert answers["/totals"][1]["accepted"] == 76
    assert [w["start_ms"] for w in answers["/windows"][1]["windows"]] == [
        base + 120_000, base + 60_000, base]  # fmt: skip
    assert answers[f"/windows/{base}"][1]["users"] == 9
    assert answers[f"/windows/{base}/pages?limit=2"][1]["pages"][0]["page_url"] == "/home"
    assert len(answers["/sessions"][1]["sessions"]) == 4
    assert len(answers["/users/u1/sessions"][1]["sessions"]) == 2


def test_the_reader_may_not_write_nor_see_other_keys(
    endpoints: Endpoints, admin: redis.Redis, dataset: Dataset
) -> None:
    keys = dataset.keys
    other = Keys(f"augury:test:{uuid.uuid4().hex[:8]}:")
    admin.hset(other.totals, "accepted", 1)
    try:
        with acl_user(admin, endpoints, READER_USER, reader_access(keys.prefix)) as user:
            conn = user.connect()
            assert read_model.totals(conn, keys).accepted == 76  # it reads its prefix
            attempts: list[tuple[Any, ...]] = [
                ("HSET", keys.totals, "accepted", "0"), ("DEL", keys.totals),
                ("EXPIRE", keys.totals, "1"), ("ZADD", keys.windows, "1", "x"),
                ("SET", f"{keys.prefix}new", "1"), ("EVAL", "return 1", "0"),
                ("FLUSHDB",), ("FLUSHALL",), ("KEYS", "*"), ("SCAN", "0"), ("DBSIZE",),
                ("RANDOMKEY",), ("HGETALL", other.totals), ("EXISTS", other.totals),
                ("CONFIG", "GET", "*"), ("ACL", "LIST"), ("PUBLISH", "channel", "x"),
                ("SCRIPT", "FLUSH"), ("FUNCTION", "FLUSH"),
            ]  # fmt: skip
            for command in attempts:
                with pytest.raises(redis.exceptions.NoPermissionError):
                    send(conn, *command)
            assert {"hset", "del", "flushdb", "scan", other.totals} <= refused(admin, user)
        assert admin.hget(keys.totals, "accepted") == "76"  # nothing changed
    finally:
        admin.delete(other.totals)


def test_the_job_writes_as_its_user_in_every_mode_and_nothing_else(
    endpoints: Endpoints, admin: redis.Redis
) -> None:
    """A streaming writer, one restored from a checkpoint, and a replay's, all as the job's
    user; then what the user may not do."""
    keys = Keys(f"{TEST_PREFIX}{uuid.uuid4().hex[:8]}:")
    other = Keys(f"other:{uuid.uuid4().hex[:8]}:")
    try:
        with acl_user(admin, endpoints, JOB_USER, job_access(keys.prefix)) as job:
            ws = 60_000
            clock = iter(range(1_000, 10_000, 1_000)).__next__
            with SinkWriter(job.url, keys, ttl_s=120, streaming=True, clock_ms=clock) as w:
                w.windows([core(ws, False, 3, 1, 0), count(ws, False, "pages", "/a", 2),
                           count(ws, False, "hash", "cc:US", 2)])  # fmt: skip
                w.sessions([("u1", "d", ws + 1, ws + 500, 2, "page_view", "purchase", "US")])
                w.windows([core(ws, True, 2, 1, 10)])
                w.totals({"accepted": 5, "invalid": 0, "duplicates": 0, "bot_events": 0,
                          "late": 0}, since="run-1")  # fmt: skip
            with SinkWriter(job.url, keys, ttl_s=120, streaming=True, restored_from_ms=2_500,
                            restored_finals=[ws]) as restored:  # fmt: skip
                restored.windows([core(ws, True, 5, 2, 0), count(ws, True, "pages", "/a", 3)])
            with SinkWriter(job.url, keys, ttl_s=120) as replay:
                replay.windows([core(2 * ws, True, 1, 1, 0)])
                replay.totals({"accepted": 6, "invalid": 0, "duplicates": 0, "bot_events": 0,
                               "late": 0}, since="run-2")  # fmt: skip
            assert refused(admin, job) == set()
            found = read_model.windows(job.connect(), keys, 0, 10 * ws, window_ms=ws)
            assert [(w.start_ms, w.events, w.final) for w in found] == [
                (2 * ws, 1, True), (ws, 5, True)]  # fmt: skip
            assert read_model.totals(job.connect(), keys).accepted == 6
            conn = job.connect()
            attempts: list[tuple[Any, ...]] = [
                ("HSET", other.totals, "accepted", "0"), ("GET", other.totals),
                ("FLUSHDB",), ("FLUSHALL",), ("KEYS", "*"), ("SCAN", "0"), ("DBSIZE",),
                ("SCRIPT", "FLUSH"), ("FUNCTION", "FLUSH"), ("CONFIG", "SET", "maxmemory", "1"),
                ("ACL", "LIST"), ("SWAPDB", "0", "1"), ("PUBLISH", "channel", "x"),
                ("EVAL", "return redis.call('DEL', KEYS[1])", "1", other.totals),
                ("MOVE", keys.totals, "1"), ("COPY", keys.totals, f"{keys.prefix}copy", "DB", "1"),
            ]  # fmt: skip
            for command in attempts:
                with pytest.raises(redis.exceptions.NoPermissionError):
                    send(conn, *command)
    finally:
        admin.delete(*admin.scan_iter(f"{keys.prefix}*"))
