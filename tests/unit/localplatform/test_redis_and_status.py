from __future__ import annotations

from pathlib import Path

import pytest

from localplatform import docker_compose, platform, redis_server
from localplatform.config import PlatformConfig


def _cfg(tmp_path: Path, **extra: str) -> PlatformConfig:
    return PlatformConfig.from_env(
        {"AUGURY_TOOLS_DIR": str(tmp_path), "AUGURY_REDIS_URL": "redis://127.0.0.1:6401/0",
         **extra}
    )  # fmt: skip


def test_server_argv_binds_loopback_without_persistence(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    argv = redis_server.server_argv("/usr/bin/redis-server", cfg)
    assert argv[0] == "/usr/bin/redis-server"
    pairs = dict(zip(argv[1::2], argv[2::2], strict=True))
    assert pairs["--bind"] == "127.0.0.1"
    assert pairs["--port"] == "6401"
    assert pairs["--daemonize"] == "no"  # the platform tracks the PID itself
    assert pairs["--save"] == ""


def test_find_server_prefers_setting_then_path_then_own_link(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    assert redis_server.find_server(cfg, which=lambda n: None) is None
    cfg.bin_dir.mkdir()
    (cfg.bin_dir / "redis-server").touch()
    assert redis_server.find_server(cfg, which=lambda n: None) == str(cfg.bin_dir / "redis-server")
    valkey = redis_server.find_server(
        cfg, which=lambda n: "/usr/bin/valkey-server" if n == "valkey-server" else None
    )
    assert valkey == "/usr/bin/valkey-server"
    with pytest.raises(FileNotFoundError, match="AUGURY_REDIS_SERVER"):
        redis_server.find_server(_cfg(tmp_path, AUGURY_REDIS_SERVER="/nope/redis-server"))


def test_docker_choice(tmp_path: Path) -> None:
    assert docker_compose.use_docker(_cfg(tmp_path, AUGURY_PLATFORM="host"), engine=True) is False
    assert docker_compose.use_docker(_cfg(tmp_path), engine=True) is True
    assert docker_compose.use_docker(_cfg(tmp_path), engine=False) is False
    with pytest.raises(RuntimeError, match="AUGURY_PLATFORM=docker"):
        docker_compose.use_docker(_cfg(tmp_path, AUGURY_PLATFORM="docker"), engine=False)


def test_compose_file_pins_images_and_publishes_loopback_ports() -> None:
    text = docker_compose.COMPOSE_FILE.read_text()
    assert "localstack/localstack:latest" not in text
    assert "image: localstack/localstack:" in text
    assert '"127.0.0.1:4566:4566"' in text and '"127.0.0.1:6379:6379"' in text


def test_render_aligns_a_table() -> None:
    table = platform.render(
        [
            platform.ComponentStatus("localstack", True, "http://127.0.0.1:4566 v", "host"),
            platform.ComponentStatus("redis", False, "redis://127.0.0.1:6379 not running", "-"),
        ]
    )
    lines = table.splitlines()
    assert lines[0].split() == ["component", "state", "managed", "by", "detail"]
    assert "healthy" in lines[1] and "DOWN" in lines[2]
    assert lines[1].index("host") == lines[2].index("-")
