"""The stage configuration: defaults, parsing of -c strings, and errors naming the setting."""

from __future__ import annotations

import pytest

from augury.settings import SettingsError
from cdk.app import cli_context
from cdk.config import StageConfig


def test_defaults_are_valid_and_on_demand() -> None:
    cfg = StageConfig()
    assert cfg.shards == 0 and cfg.cache_mode == "serverless" and not cfg.local
    assert cfg.prefix == "augury-dev"
    assert cfg.generator_rate == pytest.approx(50.0)


def test_cli_strings_are_parsed_to_field_types() -> None:
    cfg = StageConfig.from_mapping(
        {"local": "true", "shards": "3", "flink_autoscaling": "yes", "env_name": "qa"}
    )
    assert cfg.local is True and cfg.shards == 3 and cfg.flink_autoscaling is True
    assert cfg.prefix == "augury-local"


@pytest.mark.parametrize(
    ("context", "named"),
    [
        ({"shards": "-1"}, "shards"),
        ({"shards": "two"}, "shards"),
        ({"retention_hours": "12"}, "retention_hours"),
        ({"cache_mode": "cluster"}, "cache_mode"),
        ({"env_name": "Prod_1"}, "env_name"),
        ({"local": "maybe"}, "local"),
        ({"schedule_minutes": "15"}, "schedule_minutes"),
        ({"raw_glacier_days": "40"}, "raw_glacier_days"),
        ({"log_retention_days": "10"}, "log_retention_days"),
        ({"alarm_email": "nobody"}, "alarm_email"),
        ({"flink_parallelism": 2.5}, "flink_parallelism"),
    ],
)
def test_bad_values_name_the_setting(context: dict[str, object], named: str) -> None:
    with pytest.raises(SettingsError, match=rf"\b{named}="):
        StageConfig.from_mapping(context)


def test_unknown_settings_are_rejected() -> None:
    with pytest.raises(SettingsError, match="shard_count"):
        StageConfig.from_mapping({"shard_count": 2})


def test_cdk_json_context_is_a_valid_stage() -> None:
    context = cli_context()
    settings = {k: v for k, v in context.items() if not k.startswith("@")}
    assert set(settings) <= set(StageConfig.keys())
    StageConfig.from_mapping(settings)


def test_a_retired_or_misspelt_context_key_fails_the_synth() -> None:
    from cdk.app import create_app

    with pytest.raises(SettingsError, match=r"lateness_seconds"):
        create_app({"lateness_seconds": "30"})
    StageConfig.reject_unknown({"@aws-cdk/core:checkSecretUsage": True, "aws:cdk:x": 1,
                                "availability-zones:account=1:region=r": ["a"]})  # fmt: skip
