"""The streaming command line's settings: which channel wins, and the local defaults."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from flink_app import __main__ as cli


def _args(*argv: str) -> argparse.Namespace:
    return cli._parser().parse_args(["run", *argv])


@pytest.fixture(autouse=True)
def _no_job_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AUGURY_FLINK_JOB_CHECKPOINT_DIR", "AUGURY_FLINK_SINK_DEADLETTER_PATH",
                 "AUGURY_MANAGED_FLINK_PROPERTIES"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


def _properties(tmp_path: Path, groups: dict[str, dict[str, str]]) -> Path:
    path = tmp_path / "application_properties.json"
    doc = [{"PropertyGroupId": g, "PropertyMap": m} for g, m in groups.items()]
    path.write_text(json.dumps(doc))
    return path


def test_a_properties_file_s_locations_are_not_overridden_by_local_defaults(
    tmp_path: Path,
) -> None:
    props = _properties(tmp_path, {
        "job": {"checkpoint.dir": "/data/chk"}, "sink": {"deadletter.path": "/data/dead"},
    })  # fmt: skip
    s = cli.run_settings(_args("--properties", str(props)), managed=False)
    assert (s.checkpoint_dir, s.dead_letter_path) == ("/data/chk", "/data/dead")


def test_flags_win_and_local_defaults_fill_the_rest(tmp_path: Path) -> None:
    props = _properties(tmp_path, {"job": {"checkpoint.dir": "/data/chk"}})
    s = cli.run_settings(
        _args("--properties", str(props), "--checkpoint-dir", "/flag/chk"), managed=False
    )
    assert (s.checkpoint_dir, s.dead_letter_path) == ("/flag/chk", cli.LOCAL_DEAD_LETTER)
    s = cli.run_settings(_args(), managed=False)
    assert (s.checkpoint_dir, s.dead_letter_path) == (cli.LOCAL_CHECKPOINTS, cli.LOCAL_DEAD_LETTER)


def test_on_the_service_no_local_default_is_added() -> None:
    s = cli.run_settings(_args(), managed=True)
    assert (s.checkpoint_dir, s.dead_letter_path) == ("", "")
