from __future__ import annotations

import json
from pathlib import Path

import pytest

from augury import env as env_names
from augury.settings import SettingsError
from flink_app import settings


def _file(tmp_path: Path, groups: dict[str, dict[str, str]]) -> Path:
    path = tmp_path / "application_properties.json"
    path.write_text(
        json.dumps([{"PropertyGroupId": g, "PropertyMap": m} for g, m in groups.items()])
    )
    return path


def test_defaults() -> None:
    s = settings.load(env={})
    p = s.pipeline
    assert s.source_type == "kinesis" and s.start_position == "LATEST"
    assert p.window_ms == 60_000 and p.session_gap_ms == 60_000
    assert p.watermark_delay_ms == 5_000 and p.early_fire_ms == 100
    assert p.dedupe_horizon_ms == 600_000 and p.bot_threshold == 10
    assert p.key_prefix == "augury:" and p.ttl_s == 86_400


def test_file_then_env_then_flags(tmp_path: Path) -> None:
    path = _file(tmp_path, {"sessions": {"gap.seconds": "30"}, "windows": {"bot.threshold": "5"}})
    s = settings.load(
        path,
        env={
            "AUGURY_SESSION_GAP_SECONDS": "45",
            "AUGURY_REDIS_TTL_SECONDS": "600",
            "AUGURY_FLINK_JOB_PARALLELISM": "2",
        },
        flag_values={"windows.bot.threshold": 7},
    )
    assert s.pipeline.session_gap_ms == 45_000  # env over file
    assert s.pipeline.bot_threshold == 7  # flag over file
    assert s.pipeline.ttl_s == 600 and s.parallelism == 2


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
        settings.load(env={}, flag_values=flags)


def test_a_bad_properties_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text("{not json")
    with pytest.raises(SettingsError, match=r"p\.json"):
        settings.load(path, env={})


def test_redis_password_comes_from_the_secret_when_configured() -> None:
    from flink_app.settings import JobSettings, redis_url_with_auth

    settings = JobSettings.from_groups({
        "sink": {
            "redis.url": "rediss://augury@cache.example:6379/0",
            "redis.auth.secret.arn": "arn:aws:secretsmanager:eu-west-1:1:secret:x",
        }
    })  # fmt: skip
    fetched: list[str] = []

    def fetch(arn: str) -> str:
        fetched.append(arn)
        return "p@ss/word"

    url = redis_url_with_auth(settings, fetch)
    assert url == "rediss://augury:p%40ss%2Fword@cache.example:6379/0"
    assert fetched == ["arn:aws:secretsmanager:eu-west-1:1:secret:x"]
    plain = JobSettings.from_groups({})
    assert redis_url_with_auth(plain, fetch) == plain.redis_url and len(fetched) == 1


def test_each_channel_names_the_setting_its_own_way(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"^environment variable AUGURY_WINDOW_SECONDS='0'"):
        settings.load(env={"AUGURY_WINDOW_SECONDS": "0"})
    with pytest.raises(SettingsError, match=r"^flag --set windows\.size\.seconds='x'"):
        settings.load(env={}, flag_values={"windows.size.seconds": "x"})
    path = _file(tmp_path, {"windows": {"size.seconds": "-1"}})
    with pytest.raises(SettingsError, match=r"property \(in .*\) windows\.size\.seconds='-1'"):
        settings.load(path, env={})
    with pytest.raises(SettingsError, match=r"AUGURY_FLINK_WINDOWS_SIZE_SECONDS \(use "
                       r"AUGURY_WINDOW_SECONDS"):  # fmt: skip
        settings.load(env={"AUGURY_FLINK_WINDOWS_SIZE_SECONDS": "30"})  # the pipeline's own name
    with pytest.raises(SettingsError, match=r"AUGURY_FLINK_SINK_REDIS_URL \(use AUGURY_REDIS_URL"):
        settings.load(env={"AUGURY_FLINK_SINK_REDIS_URL": "redis://x:1/0"})


def test_managed_flink_s_run_options_group_is_not_the_job_s_business(tmp_path: Path) -> None:
    path = _file(tmp_path, {"kinesis.analytics.flink.run.options": {"python": "main.py"},
                            "windows": {"size.seconds": "30"}})  # fmt: skip
    assert settings.load(path, env={}).pipeline.window_ms == 30_000


OVERRIDE = env_names.MANAGED_FLINK_PROPERTIES


def test_the_override_is_read_as_managed_flink_s_file(tmp_path: Path) -> None:
    path = _file(tmp_path, {"kinesis.analytics.flink.run.options": {"python": "main.py"},
                            "windows": {"size.seconds": "30", "bot.threshold": "5"},
                            "source": {"stream.name": "from-the-file"}})  # fmt: skip
    s = settings.load(env={OVERRIDE: str(path), "AUGURY_BOT_THRESHOLD": "7"})
    assert s.pipeline.window_ms == 30_000 and s.stream_name == "from-the-file"
    assert s.pipeline.bot_threshold == 7  # the environment over the service's file, as on AWS
    (tmp_path / "local").mkdir()
    local = _file(tmp_path / "local", {"windows": {"size.seconds": "20"}})
    assert settings.load(local, env={OVERRIDE: str(path)}).pipeline.window_ms == 20_000
    with pytest.raises(SettingsError, match=r"property \(in .*\) windows\.size\.seconds='0'"):
        settings.load(env={OVERRIDE: str(_file(tmp_path, {"windows": {"size.seconds": "0"}}))})


def test_an_empty_override_is_unset() -> None:
    assert settings.managed_properties({OVERRIDE: " "}) is None  # no /etc/flink here
    assert settings.load(env={OVERRIDE: ""}).pipeline.window_ms == 60_000


@pytest.mark.parametrize("problem", ["missing", "directory", "not json", "not a list"])
def test_an_override_that_cannot_be_read_fails_naming_the_variable(
    tmp_path: Path, problem: str
) -> None:
    path = tmp_path / "application_properties.json"
    if problem == "directory":
        path.mkdir()
    elif problem == "not json":
        path.write_text("{not json")
    elif problem == "not a list":
        path.write_text('{"windows": {"size.seconds": "30"}}')
    with pytest.raises(SettingsError, match=rf"^environment variable {OVERRIDE}\b.*"):
        settings.load(env={OVERRIDE: str(path)})
