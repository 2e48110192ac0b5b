from __future__ import annotations

from pathlib import Path

import pytest

from augury.settings import SettingsError
from localplatform.config import REPO_ROOT, PlatformConfig


def test_defaults() -> None:
    cfg = PlatformConfig.from_env({})
    assert (cfg.localstack_host, cfg.localstack_port) == ("127.0.0.1", 4566)
    assert (cfg.redis_host, cfg.redis_port) == ("127.0.0.1", 6379)
    assert cfg.tools_dir == REPO_ROOT / ".local"
    assert cfg.state_dir == REPO_ROOT / ".local" / "state"
    assert cfg.mode == "auto"
    # Installs are shared; per-instance files are not.
    assert cfg.localstack_venv.parent == cfg.tools_dir
    assert cfg.localstack_dir.parent == cfg.state_dir


def test_ports_follow_the_endpoint_settings(tmp_path: Path) -> None:
    cfg = PlatformConfig.from_env(
        {
            "AUGURY_LOCALSTACK_URL": "http://127.0.0.1:4999",
            "AUGURY_REDIS_URL": "redis://127.0.0.1:6400/2",
            "AUGURY_STATE_DIR": str(tmp_path),
        }
    )
    assert cfg.localstack_port == 4999 and cfg.redis_port == 6400
    assert cfg.localstack_url == "http://127.0.0.1:4999"
    assert cfg.state_dir == tmp_path


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"AUGURY_PLATFORM": "podman"}, "AUGURY_PLATFORM"),
        ({"AUGURY_HEALTH_TIMEOUT": "soon"}, "AUGURY_HEALTH_TIMEOUT"),
        ({"AUGURY_HEALTH_TIMEOUT": "0"}, "AUGURY_HEALTH_TIMEOUT"),
        ({"AUGURY_REDIS_URL": "unix:///tmp/r.sock"}, "AUGURY_REDIS_URL"),
    ],
)
def test_bad_settings_name_themselves(env: dict[str, str], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        PlatformConfig.from_env(env)


def test_platform_config_error_is_a_value_error() -> None:
    assert issubclass(SettingsError, ValueError)
