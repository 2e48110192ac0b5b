from __future__ import annotations

import json

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
