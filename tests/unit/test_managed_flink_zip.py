"""The Managed Flink zip, unpacked as the service unpacks it: main.py runs the zip's own job."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from augury import env as env_names
from augury.resources import FLINK_JAR_NAME
from cdk.packaging import FLINK_ZIP
from tests.flink.managed_flink import (
    RUN_OPTIONS,
    Local,
    NotLocalizable,
    localize,
    service_environment,
    write_properties,
)


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


def _service_env(properties: Path) -> dict[str, str]:
    # what the service gives main.py (no AUGURY_* setting of this process), and the override
    return service_environment(os.environ | {env_names.WINDOW_SECONDS: "0"}, properties)


def test_main_py_reads_the_properties_file_the_override_names(
    unpacked: Path, tmp_path: Path
) -> None:
    path = tmp_path / "application_properties.json"
    write_properties(path, [
        {"PropertyGroupId": RUN_OPTIONS, "PropertyMap": {"python": "main.py"}},
        {"PropertyGroupId": "windows", "PropertyMap": {"size.seconds": "0"}},
    ])  # fmt: skip
    done = subprocess.run([sys.executable, "main.py"], cwd=unpacked, capture_output=True,
                          text=True, timeout=120, env=_service_env(path))  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert f"property (in {path}) windows.size.seconds='0' must be between 1 and 3600" in (
        done.stderr
    )


def test_main_py_fails_fast_naming_the_override_when_its_file_is_missing(
    unpacked: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere.json"
    done = subprocess.run([sys.executable, "main.py"], cwd=unpacked, capture_output=True,
                          text=True, timeout=120, env=_service_env(missing))  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert f"environment variable {env_names.MANAGED_FLINK_PROPERTIES}='{missing}'" in done.stderr


def test_the_job_s_jar_is_the_zip_s_own_in_the_unpacked_zip_and_the_build_in_a_checkout(
    unpacked: Path,
) -> None:
    import augury.resources

    probe = ("import sys, main; sys.path[:0] = main.zip_paths('.'); "
             "from augury.resources import FLINK_JAR; print(FLINK_JAR)")  # fmt: skip
    env = env_names.for_child_process(os.environ)
    done = subprocess.run([sys.executable, "-c", probe], cwd=unpacked, capture_output=True,
                          text=True, timeout=60, env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    # The run options' jarfile, which the service puts on the class path: never a jar elsewhere.
    assert Path(done.stdout.strip()) == unpacked / "lib" / FLINK_JAR_NAME
    checkout = Path(__file__).resolve().parents[2]
    assert checkout / "flink_app" / "target" / FLINK_JAR_NAME == augury.resources.FLINK_JAR


def test_the_service_environment_has_no_augury_setting_of_the_parent(tmp_path: Path) -> None:
    parent = {"PATH": "/bin", "HOME": "/root", env_names.WINDOW_SECONDS: "30",
              env_names.LOCALSTACK_URL: "http://127.0.0.1:4566", "CLICKGEN_RATE": "5",
              "AWS_ENDPOINT_URL": "http://x", "PYTHONPATH": "/repo", "FLINK_HOME": "/f",
              "PYFLINK_GATEWAY_PORT": "1", env_names.JVM_ARGS: "-Xmx1g"}  # fmt: skip
    env = service_environment(parent, tmp_path / "p.json")
    assert env.pop(env_names.MANAGED_FLINK_PROPERTIES) == str(tmp_path / "p.json")
    assert env == {"PATH": "/bin", "HOME": "/root", "AWS_EC2_METADATA_DISABLED": "true"}


LOCAL = Local(stream="s", region="eu-west-1", localstack_url="http://127.0.0.1:4566",
              redis_url="redis://127.0.0.1:6379/3", dead_letter=Path("/tmp/dead"),
              checkpoints=Path("/tmp/chk"))  # fmt: skip


def _template(overrides: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Property groups shaped as the synthesized template gives them (tokens as CFN dicts),
    with ``overrides`` (``group.key``: value, None to leave the property out)."""
    groups: dict[str, dict[str, Any]] = {
        RUN_OPTIONS: {"python": "main.py", "jarfile": "lib/j.jar"},
        "windows": {"size.seconds": "60"},
        "sink": {"redis.key.prefix": "augury:",
                 "redis.url": {"Fn::Join": ["", ["rediss://augury@",
                                                 {"Fn::GetAtt": ["Cache", "Endpoint.Address"]},
                                                 ":6379/0"]]},
                 "redis.auth.secret.arn": {"Ref": "CacheAuth"},
                 "deadletter.path": {"Fn::Join": ["", ["s3://b-", {"Ref": "AWS::AccountId"}]]}},
        "source": {"type": "kinesis", "stream.name": {"Fn::ImportValue": "Ingest:Clicks"},
                   "aws.region": {"Ref": "AWS::Region"}, "start.position": "LATEST"},
        "job": {"parallelism": "1"},
    }  # fmt: skip
    for prop, value in (overrides or {}).items():
        group, _, key = prop.partition(".")
        if value is None:
            del groups[group][key]
        else:
            groups[group][key] = value
    return [{"PropertyGroupId": g, "PropertyMap": m} for g, m in groups.items()]


def test_localize_swaps_only_the_endpoints() -> None:
    got = {g["PropertyGroupId"]: g["PropertyMap"] for g in localize(_template(), LOCAL)}
    assert got == {
        RUN_OPTIONS: {"python": "main.py", "jarfile": "lib/j.jar"},
        "windows": {"size.seconds": "60"},
        "sink": {"redis.key.prefix": "augury:", "redis.url": "redis://127.0.0.1:6379/3",
                 "deadletter.path": "/tmp/dead"},
        "source": {"type": "kinesis", "stream.name": "s", "aws.region": "eu-west-1",
                   "start.position": "TRIM_HORIZON", "aws.endpoint": "http://127.0.0.1:4566"},
        "job": {"parallelism": "1", "checkpoint.dir": "/tmp/chk"},
    }  # fmt: skip


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"sink.redis.password": {"Ref": "Pw"}}, r"sink\.redis\.password = \{\"Ref\""),
        ({"windows.size.seconds": {"Fn::GetAtt": ["X", "Y"]}}, "CloudFormation token"),
        ({"sink.replica.url": "rediss://r:6379"}, r"sink\.replica\.url: not a property"),
        ({"source.input.path": "s3://bucket/raw/"}, "looks like an AWS endpoint"),
        ({"source.stream.name": None}, r"no longer sets source\.stream\.name"),
        ({"job.checkpoint.dir": "/x"}, r"job\.checkpoint\.dir is set by the stack"),
    ],
)
def test_localize_fails_on_what_it_does_not_know(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(NotLocalizable, match=message):
        localize(_template(overrides), LOCAL)
