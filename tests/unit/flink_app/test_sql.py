from __future__ import annotations

import json
import time
from pathlib import Path

from augury import events as contract
from flink_app import settings, sql


def test_rules_json_carries_every_field_in_contract_order() -> None:
    rules = json.loads(sql.contract_rules_json())
    assert [f["name"] for f in rules["fields"]] == [f.name for f in contract.FIELDS]
    assert rules["max_future_ms"] == contract.MAX_FUTURE_MS
    ts = next(f for f in rules["fields"] if f["name"] == "client_timestamp")
    assert ts["pattern"] == contract.TIMESTAMP_PATTERN
    assert ts["invalid_reason"] == "invalid_field:client_timestamp"


def test_validated_select_projects_every_field() -> None:
    text = sql.validated_select("raw_events", "123")
    for i, f in enumerate(contract.FIELDS, start=1):
        assert f"p.`values`[{i}] AS {f.name}" in text
    assert "parse_click(line, CAST(123 AS BIGINT)" in text


def test_batch_views_use_the_settings() -> None:
    s = settings.load(env={}, flags={"sessions.gap.seconds": "90", "windows.bot.threshold": "25"})
    views = dict(sql.batch_views(s, 0))
    assert "> 90000" in views["numbered"]
    assert "> 25 AS is_bot" in views["tagged"]
    assert next(iter(views)) == "parsed" and "totals" in views


def test_kinesis_source_for_localstack_and_for_aws() -> None:
    local = settings.load(env={}, flags={"source.aws.endpoint": "http://127.0.0.1:4566",
                                         "source.start.position": "TRIM_HORIZON"})  # fmt: skip
    ddl = sql.kinesis_source_ddl(local)
    assert "'connector' = 'kinesis'" in ddl and "'stream' = 'augury-clicks'" in ddl
    assert "'aws.endpoint' = 'http://127.0.0.1:4566'" in ddl
    assert "'scan.stream.initpos' = 'TRIM_HORIZON'" in ddl
    aws = settings.load(env={}, flags={"source.start.position": "AT_TIMESTAMP",
                                       "source.start.timestamp": "1795400000"})  # fmt: skip
    ddl = sql.kinesis_source_ddl(aws)
    assert "aws.endpoint" not in ddl and "credentials" not in ddl
    assert "'scan.stream.initpos-timestamp' = '1795400000'" in ddl


def test_intervals_are_exact_to_the_millisecond() -> None:
    from flink_app.sql import _seconds

    assert _seconds(60_001) == "INTERVAL '0 00:01:00.001' DAY TO SECOND(3)"
    assert _seconds(5_000) == "INTERVAL '0 00:00:05.000' DAY TO SECOND(3)"
    assert _seconds(90_061_500) == "INTERVAL '1 01:01:01.500' DAY TO SECOND(3)"


def test_stream_lateness_uses_window_and_session_ends_and_the_delay() -> None:
    from flink_app.settings import JobSettings, merge_sources
    from flink_app.sql import stream_views

    s = JobSettings.from_groups(
        merge_sources([{"windows": {"watermark.delay.seconds": "7"}}], {}, {})
    )
    views = dict(stream_views(s))
    assert "event_time_ms + 60000 + 1) - 1 <= max_seen_ms - 7000" in views["classified"]
    assert "0 00:01:00.001" in views["session_events"]  # gap + 1 ms: 60 s apart stays one
    assert "CUMULATE" in views["window_core"] and "0 00:00:05.000" in views["window_core"]


def test_latest_checkpoint_is_the_newest_completed_one(tmp_path: Path) -> None:
    import os

    from flink_app.job import latest_checkpoint

    assert latest_checkpoint(tmp_path) is None
    for n, age in ((1, 30), (2, 20), (3, 10)):
        chk = tmp_path / "job" / f"chk-{n}"
        chk.mkdir(parents=True)
        if n < 3:
            (chk / "_metadata").write_text("x")
            os.utime(chk, (time.time() - age, time.time() - age))
    assert latest_checkpoint(tmp_path) == tmp_path / "job" / "chk-2"  # chk-3 never completed
