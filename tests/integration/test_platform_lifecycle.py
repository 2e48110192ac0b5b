"""`make up && make status && make down`, twice, on a second platform instance of its own.

The instance uses its own ports and state directory, so it never disturbs the session's
platform (or one a developer brought up with `make up`).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from augury.endpoints import Endpoints
from localplatform import procs
from localplatform.config import REPO_ROOT

LS_PORT, REDIS_PORT = 4576, 6390


def _instance_env(state: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        AUGURY_STATE_DIR=str(state),
        AUGURY_LOCALSTACK_URL=f"http://127.0.0.1:{LS_PORT}",
        AUGURY_REDIS_URL=f"redis://127.0.0.1:{REDIS_PORT}/0",
        AUGURY_PLATFORM="host",
    )
    return env


def _make(target: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", target],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def _processes_of(state: Path) -> list[int]:
    """PIDs whose environment points into this instance's state directory."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if f"AUGURY_STATE_DIR={state}".encode() in environ and procs.is_alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def test_up_status_down_twice(tmp_path: Path) -> None:
    state = tmp_path / "state"
    env = _instance_env(state)
    assert not procs.port_open("127.0.0.1", LS_PORT), f"port {LS_PORT} is taken"
    try:
        _cycle_twice(state, env)
    finally:
        _make("down", env)


def _cycle_twice(state: Path, env: dict[str, str]) -> None:
    for _ in range(2):
        up = _make("up", env)
        assert up.returncode == 0, up.stderr
        # Idempotent: a second `up` starts nothing new.
        again = _make("up", env)
        assert again.returncode == 0, again.stderr
        assert "starting" not in again.stderr

        # Wake a child process (kinesis-mock) so that `down` has a tree to stop.
        kinesis = Endpoints.from_env(env).client("kinesis")
        kinesis.create_stream(StreamName="lifecycle", ShardCount=1)
        ls_pid = procs.read_pid(state / "localstack" / "localstack.pid")
        assert ls_pid is not None
        tree = [ls_pid, *procs.descendants(ls_pid, procs.parent_map())]
        assert len(tree) >= 2  # LocalStack and kinesis-mock at least

        status = subprocess.run(
            [str(REPO_ROOT / ".venv/bin/python"), "-m", "localplatform", "status", "--json",
             "--check"],
            cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert status.returncode == 0, status.stdout + status.stderr
        components = {c["name"]: c for c in json.loads(status.stdout)}
        assert components["localstack"]["healthy"] and components["redis"]["healthy"]
        assert {c["managed_by"] for c in components.values()} == {"host"}
        assert _make("status", env).returncode == 0

        down = _make("down", env)
        assert down.returncode == 0, down.stderr
        assert "localstack" in down.stdout and "redis" in down.stdout
        assert _processes_of(state) == []
        assert [p for p in tree if procs.is_alive(p)] == []
        assert not procs.port_open("127.0.0.1", LS_PORT)
        assert not procs.port_open("127.0.0.1", REDIS_PORT)

    status = _make("status", env)
    assert "DOWN" in status.stdout
