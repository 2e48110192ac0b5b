from __future__ import annotations

import pytest

from augury.settings import SettingsError
from lambdas.clickgen.config import GeneratorConfig


def test_defaults_then_environment_then_overrides() -> None:
    cfg = GeneratorConfig.from_sources(
        env={"CLICKGEN_RATE": "120", "CLICKGEN_PACE": "false", "AUGURY_STREAM_NAME": "s1"},
        overrides={"rate": 7, "seed": 3},
    )
    assert cfg.rate == 7.0 and cfg.seed == 3 and cfg.pace is False
    assert cfg.stream_name == "s1"
    assert cfg.duration_s == 60 and cfg.bot_fraction == 0.02


@pytest.mark.parametrize(
    ("env", "overrides", "named"),
    [
        ({"CLICKGEN_RATE": "fast"}, {}, "CLICKGEN_RATE"),
        ({"CLICKGEN_DURATION_S": "1.5"}, {}, "CLICKGEN_DURATION_S"),
        ({"CLICKGEN_PACE": "maybe"}, {}, "CLICKGEN_PACE"),
        ({}, {"rate": 0}, "rate"),
        ({}, {"bot_fraction": 1.0}, "bot_fraction"),
        ({}, {"late_fraction": -0.1}, "late_fraction"),
        ({}, {"duration_s": 10_000}, "duration_s"),
        ({}, {"users": 0}, "users"),
        ({}, {"speed": 3}, "speed"),
        ({}, {"seed": True}, "seed"),
    ],
)
def test_bad_settings_fail_naming_the_setting(
    env: dict[str, str], overrides: dict[str, object], named: str
) -> None:
    with pytest.raises(SettingsError, match=named):
        GeneratorConfig.from_sources(env=env, overrides=overrides)


def test_an_out_of_range_environment_value_is_named_as_the_variable() -> None:
    with pytest.raises(SettingsError, match=r"^environment variable CLICKGEN_RATE='0' must be"):
        GeneratorConfig.from_sources(env={"CLICKGEN_RATE": "0"})
