from __future__ import annotations

import json
from pathlib import Path

import pytest

from flink_app import settings
from flink_app.settings import SettingsError


def _file(tmp_path: Path, groups: dict[str, dict[str, str]]) -> Path:
    path = tmp_path / "application_properties.json"
    path.write_text(
        json.dumps([{"PropertyGroupId": g, "PropertyMap": m} for g, m in groups.items()])
    )
    return path


def test_defaults() -> None:
    s = settings.load(env={})
    assert s.source_type == "kinesis" and s.start_position == "LATEST"
    assert s.window_ms == 60_000 and s.session_gap_ms == 60_000
    assert s.watermark_delay_ms == 5_000 and s.early_fire_ms == 5_000
    assert s.dedupe_horizon_ms == 600_000 and s.bot_threshold == 10
    assert s.key_prefix == "augury:" and s.ttl_s == 86_400


def test_file_then_env_then_flags(tmp_path: Path) -> None:
    path = _file(tmp_path, {"sessions": {"gap.seconds": "30"}, "windows": {"bot.threshold": "5"}})
    s = settings.load(
        path,
        env={
            "AUGURY_FLINK_SESSIONS_GAP_SECONDS": "45",
            "AUGURY_FLINK_SINK_REDIS_TTL_SECONDS": "600",
        },
        flags={"windows.bot.threshold": 7},
    )
    assert s.session_gap_ms == 45_000  # env over file
    assert s.bot_threshold == 7  # flag over file
    assert s.ttl_s == 600


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        ({"source.type": "kafka"}, "source.type"),
        ({"source.start.position": "EARLIEST"}, "source.start.position"),
        ({"source.start.position": "AT_TIMESTAMP"}, "source.start.timestamp"),
        ({"source.type": "files"}, "source.input.path"),
        ({"sessions.gap.seconds": "soon"}, "sessions.gap.seconds"),
        ({"windows.size.seconds": "0"}, "windows.size.seconds"),
        ({"sink.redis.url": "http://x"}, "sink.redis.url"),
        ({"sink.colour": "red"}, "sink.colour"),
    ],
)
def test_bad_settings_name_themselves(flags: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named.replace(".", r"\.")):
        settings.load(env={}, flags=flags)


def test_a_bad_properties_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text("{not json")
    with pytest.raises(SettingsError, match=r"p\.json"):
        settings.load(path, env={})


def test_redis_password_comes_from_the_secret_when_configured() -> None:
    from flink_app.settings import JobSettings, merge_sources, redis_url_with_auth

    groups = merge_sources(
        [
            {
                "sink": {
                    "redis.url": "rediss://augury@cache.example:6379/0",
                    "redis.auth.secret.arn": "arn:aws:secretsmanager:eu-west-1:1:secret:x",
                }
            }
        ],
        {},
        {},
    )
    settings = JobSettings.from_groups(groups)
    fetched: list[str] = []

    def fetch(arn: str) -> str:
        fetched.append(arn)
        return "p@ss/word"

    url = redis_url_with_auth(settings, fetch)
    assert url == "rediss://augury:p%40ss%2Fword@cache.example:6379/0"
    assert fetched == ["arn:aws:secretsmanager:eu-west-1:1:secret:x"]
    plain = JobSettings.from_groups(merge_sources([], {}, {}))
    assert redis_url_with_auth(plain, fetch) == plain.redis_url and len(fetched) == 1
