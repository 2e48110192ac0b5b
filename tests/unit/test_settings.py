"""The pipeline settings: one definition, read the same from every channel (no server)."""

from __future__ import annotations

import dataclasses

import pytest

from augury import env as env_names
from augury.read_model import Totals
from augury.redis_keys import TOTAL_FIELDS
from augury.settings import (
    PIPELINE,
    PIPELINE_DEFAULTS,
    PipelineSettings,
    SettingsError,
    cdk_context,
    environment,
    flags,
    properties,
)


def test_defaults() -> None:
    p = PIPELINE_DEFAULTS
    assert (p.window_ms, p.session_gap_ms, p.watermark_delay_ms, p.early_fire_ms) == (
        60_000, 60_000, 5_000, 100,
    )  # fmt: skip
    assert (p.bot_threshold, p.dedupe_horizon_ms, p.ttl_s, p.key_prefix) == (
        10, 600_000, 86_400, "augury:",
    )  # fmt: skip


def test_every_setting_has_a_name_in_every_channel_and_one_field() -> None:
    assert [f.name for f in dataclasses.fields(PipelineSettings)] == [s.attr for s in PIPELINE]
    for spec in PIPELINE:
        assert spec.env and spec.env.startswith("AUGURY_") and spec.context and spec.doc
        assert spec.env in vars(env_names).values()
    assert len({s.env for s in PIPELINE}) == len({s.context for s in PIPELINE}) == len(PIPELINE)


def test_later_channels_win() -> None:
    p = PipelineSettings.from_channels(
        properties({"windows": {"size.seconds": "30"}, "sessions": {"gap.seconds": "20"}}),
        environment({"AUGURY_WINDOW_SECONDS": "20"}),
        flags({"windows.size.seconds": 10}),
    )
    assert p.window_ms == 10_000 and p.session_gap_ms == 20_000


def test_the_settings_round_trip_through_each_channel() -> None:
    p = PipelineSettings.from_channels(
        cdk_context({"window_seconds": 30, "redis_key_prefix": "x:"})
    )
    assert PipelineSettings.from_channels(properties(p.property_groups())) == p
    assert PipelineSettings.from_env(p.environment()) == p


@pytest.mark.parametrize(
    ("channel", "message"),
    [
        (environment({"AUGURY_WINDOW_SECONDS": "0"}),
         "environment variable AUGURY_WINDOW_SECONDS='0' must be between 1 and 3600"),
        (cdk_context({"session_gap_seconds": "soon"}),
         "CDK context key session_gap_seconds='soon' is not an integer"),
        (cdk_context({"bot_threshold": 2.5}),
         "CDK context key bot_threshold=2.5 is not an integer"),
        (flags({"sink.redis.key.prefix": "a b"}), "flag --set sink.redis.key.prefix='a b' must"),
        (environment({"AUGURY_EARLY_FIRE_MS": "5"}),
         "environment variable AUGURY_EARLY_FIRE_MS='5' must be between 10 and 60000"),
        (environment({"AUGURY_EARLY_FIRE_SECONDS": "7"}),
         "environment variable AUGURY_EARLY_FIRE_SECONDS is retired: early results now follow "
         "every event as it arrives and are written at least every AUGURY_EARLY_FIRE_MS"),
        (flags({"windows.early.fire.seconds": "7"}),
         "flag --set windows.early.fire.seconds is retired"),
    ],
)  # fmt: skip
def test_one_error_names_the_setting_as_its_channel_spells_it(channel: object,
                                                              message: str) -> None:  # fmt: skip
    with pytest.raises(SettingsError) as caught:
        PipelineSettings.from_channels(channel)  # type: ignore[arg-type]
    assert str(caught.value).startswith(message), caught.value


def test_the_totals_type_has_exactly_the_totals_fields() -> None:
    assert tuple(f.name for f in dataclasses.fields(Totals)) == TOTAL_FIELDS


def test_any_window_size_works_with_early_results() -> None:
    p = PipelineSettings.from_env({"AUGURY_WINDOW_SECONDS": "7", "AUGURY_EARLY_FIRE_MS": "250"})
    assert (p.window_ms, p.early_fire_ms) == (7_000, 250)
