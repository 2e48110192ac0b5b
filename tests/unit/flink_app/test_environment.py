"""The local JVM's options: a heap cap for streaming, set only while PyFlink starts its JVM."""

from __future__ import annotations

import os

import pytest

from augury import env as env_names
from flink_app.environment import local_jvm_args, local_jvm_options


def test_a_streaming_job_gets_a_capped_heap_and_a_replay_the_default() -> None:
    assert "-Xmx" in local_jvm_args(batch=False)
    assert "-Xmx" not in local_jvm_args(batch=True)
    assert "-XX:+UseParallelGC" in local_jvm_args(batch=True)


def test_the_options_hold_only_while_the_jvm_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(env_names.JVM_ARGS, raising=False)
    with local_jvm_options(batch=False):
        assert os.environ[env_names.JVM_ARGS] == local_jvm_args(batch=False)
    assert env_names.JVM_ARGS not in os.environ  # a job process started later picks its own


def test_the_users_options_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(env_names.JVM_ARGS, "-Xmx3g")
    with local_jvm_options(batch=False):
        assert os.environ[env_names.JVM_ARGS] == "-Xmx3g"
    assert os.environ[env_names.JVM_ARGS] == "-Xmx3g"
