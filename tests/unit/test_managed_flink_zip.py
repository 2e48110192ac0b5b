"""The Managed Flink zip, unpacked as the service unpacks it: main.py runs the zip's own job."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from augury import env as env_names
from cdk.packaging import FLINK_ZIP


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert FLINK_ZIP.exists(), "build the zip first: make flink-zip (make test does)"
    root = tmp_path_factory.mktemp("managed-flink")
    with zipfile.ZipFile(FLINK_ZIP) as zf:
        zf.extractall(root)
    return root


def test_the_zip_carries_the_job_its_stages_and_no_test_oracle() -> None:
    assert FLINK_ZIP.exists(), "build the zip first: make flink-zip (make test does)"
    names = set(zipfile.ZipFile(FLINK_ZIP).namelist())
    assert {"main.py", "flink_app/job.py", "flink_app/stages.py", "augury/settings.py"} <= names
    assert {f"flink_app/sql/{p.name}" for p in (Path("flink_app") / "sql").glob("*.sql")} <= names
    assert "flink_app/reference.py" not in names and not any("tests/" in n for n in names)
    assert "flink_app/main.py" not in names  # the entry point is at the root only


def test_main_py_imports_the_zip_s_packages_first(unpacked: Path) -> None:
    probe = ("import sys, main; sys.path[:0] = main.zip_paths('.'); "
             "import flink_app, augury, redis; print(flink_app.__file__, augury.__file__, "
             "redis.__file__)")  # fmt: skip
    env = env_names.for_child_process(os.environ)
    done = subprocess.run([sys.executable, "-c", probe], cwd=unpacked, capture_output=True,
                          text=True, timeout=60, env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    job, core, vendored = (Path(p) for p in done.stdout.split())
    assert unpacked in job.parents and unpacked in core.parents
    assert unpacked / "lib" / "python" in vendored.parents


def test_main_py_runs_the_streaming_job_s_settings_check(unpacked: Path) -> None:
    env = env_names.for_child_process(os.environ) | {env_names.WINDOW_SECONDS: "0"}
    done = subprocess.run([sys.executable, "main.py"], cwd=unpacked, capture_output=True,
                          text=True, timeout=120, env=env)  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "environment variable AUGURY_WINDOW_SECONDS='0' must be between 1 and 3600" in (
        done.stderr
    )
