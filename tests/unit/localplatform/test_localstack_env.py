from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from localplatform import docker_compose, localstack_host, offline_packages
from localplatform.config import LOCALSTACK_SERVICES, PlatformConfig


def _cfg(tmp_path: Path) -> PlatformConfig:
    return PlatformConfig.from_env(
        {
            "AUGURY_STATE_DIR": str(tmp_path / "state"),
            "AUGURY_TOOLS_DIR": str(tmp_path / "tools"),
            "AUGURY_LOCALSTACK_URL": "http://127.0.0.1:4570",
        }
    )


def test_runtime_env_has_the_settings_host_mode_needs(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    env = localstack_host.runtime_env(
        cfg, {"PATH": "/usr/bin", "AWS_ENDPOINT_URL": "http://x", "HOME": "/root"}
    )
    assert env["OVERRIDE_IN_DOCKER"] == "0"  # never rewrite the host's DNS configuration
    assert env["DNS_ADDRESS"] == "0"
    assert env["GATEWAY_LISTEN"] == env["LOCALSTACK_HOST"] == "127.0.0.1:4570"
    assert env["FILESYSTEM_ROOT"].startswith(str(tmp_path / "state"))
    assert env["API_ENDPOINT"].startswith("http://127.0.0.1:")
    assert set(env["SERVICES"].split(",")) == set(LOCALSTACK_SERVICES)
    assert env["PATH"].split(":")[0] == str(cfg.localstack_venv / "bin")
    assert "AWS_ENDPOINT_URL" not in env
    assert env["HOME"] == "/root"


def test_services_cover_the_pipeline() -> None:
    for service in ("s3", "kinesis", "firehose", "events", "sqs", "cloudformation",
                    "cloudwatch", "logs", "iam", "sts", "ssm", "lambda", "dynamodb"):  # fmt: skip
        assert service in LOCALSTACK_SERVICES


def test_prepare_state_links_the_shared_packages(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    cfg.localstack_packages.mkdir(parents=True)
    localstack_host.prepare_state(cfg)
    lib = offline_packages.lib_dir(localstack_host.filesystem_root(cfg))
    assert lib.is_symlink() and lib.resolve() == cfg.localstack_packages.resolve()
    localstack_host.prepare_state(cfg)  # idempotent
    assert lib.resolve() == cfg.localstack_packages.resolve()


def test_link_java_points_both_versions_at_the_jdk(tmp_path: Path) -> None:
    jdk = tmp_path / "jdk"
    (jdk / "bin").mkdir(parents=True)
    (jdk / "bin" / "java").touch()
    lib = tmp_path / "lib"
    (lib / "java" / "11").mkdir(parents=True)  # an empty dir left by a failed download
    offline_packages.link_java(lib, jdk)
    for version in ("11", "21"):
        assert (lib / "java" / version / "bin" / "java").exists()
        assert (lib / "java" / version).resolve() == jdk.resolve()


def test_java_home_from_follows_links(tmp_path: Path) -> None:
    real = tmp_path / "jvm" / "jdk-17" / "bin"
    real.mkdir(parents=True)
    (real / "java").touch()
    (tmp_path / "java").symlink_to(real / "java")
    assert (
        offline_packages.java_home_from(str(tmp_path / "java"))
        == (tmp_path / "jvm" / "jdk-17").resolve()
    )


def test_dynamodb_comes_from_the_moto_provider_plugin(tmp_path: Path) -> None:
    env = localstack_host.runtime_env(_cfg(tmp_path), {"PATH": "/usr/bin"})
    assert env["PROVIDER_OVERRIDE_DYNAMODB"] == localstack_host.DYNAMODB_PROVIDER_NAME
    project = tomllib.loads((localstack_host.DYNAMODB_PROVIDER / "pyproject.toml").read_text())
    entry_points = project["project"]["entry-points"]["localstack.aws.provider"]
    assert f"dynamodb:{localstack_host.DYNAMODB_PROVIDER_NAME}" in entry_points
    compose = docker_compose.COMPOSE_FILE.read_text()  # the Docker path selects it too
    assert f"PROVIDER_OVERRIDE_DYNAMODB: {localstack_host.DYNAMODB_PROVIDER_NAME}\n" in compose


def test_an_earlier_dynamodb_local_install_is_removed(tmp_path: Path) -> None:
    jar = tmp_path / "dynamodb-local" / "2" / "DynamoDBLocal.jar"
    jar.parent.mkdir(parents=True)
    jar.write_bytes(b"PK")
    (tmp_path / "java").mkdir()
    offline_packages.remove_dynamodb_local(tmp_path)
    offline_packages.remove_dynamodb_local(tmp_path)  # idempotent
    assert sorted(p.name for p in tmp_path.iterdir()) == ["java"]


def test_install_stops_a_running_localstack_whose_install_it_replaces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = _cfg(tmp_path)
    cfg.localstack_venv.mkdir(parents=True)
    (cfg.localstack_venv / ".augury-lock").write_text(localstack_host._lock_digest())
    stopped: list[PlatformConfig] = []
    monkeypatch.setattr(localstack_host, "running_pid", lambda c: 4242)

    def stop(c: PlatformConfig) -> bool:
        stopped.append(c)
        return True

    monkeypatch.setattr(localstack_host, "stop", stop)
    monkeypatch.setattr(offline_packages, "ensure", lambda *a: None)
    localstack_host.install(cfg)  # up to date: the running instance is left alone
    assert stopped == []
    (cfg.localstack_packages / "dynamodb-local" / "2").mkdir(parents=True)
    localstack_host.install(cfg)  # an earlier DynamoDB Local is about to be deleted
    assert stopped == [cfg]
