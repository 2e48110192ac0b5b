"""The job's stages as SQL files: parsed, filled in safely, complete for both modes (no server)."""

from __future__ import annotations

import inspect
import json
import os
import re
import time
from pathlib import Path

import pytest

from augury import events as contract
from augury.redis_keys import TOTAL_FIELDS
from flink_app import contract as job_contract
from flink_app import job, settings, stages
from flink_app.stages import Interval, Options, Sql, literal, render


def _rendered(s: settings.JobSettings, mode: str) -> dict[str, str]:
    """Every statement of every stage for ``mode``, rendered, by ``kind name``."""
    params = job.parameters(s, mode, "/tmp/dead", "/tmp/in", 123)
    out: dict[str, str] = {}
    for stage in stages.names():
        for st in stages.load(stage).for_mode(mode):
            out[f"{st.kind} {st.name}"] = out.get(f"{st.kind} {st.name}", "") + render(
                st.sql, params
            )
    return out


def test_the_stage_files_are_the_stages_job_build_applies_in_order() -> None:
    source = inspect.getsource(job.build)
    applied = re.findall(r'apply\(t_env, "(\w+)", mode, p\)', source)
    assert applied == stages.names()
    for name in stages.names():
        stage = stages.load(name)
        assert stage.doc.startswith(f"Stage {stages.names().index(name) + 1}, {name}:"), stage.doc
        assert stage.statements and all(st.doc for st in stage.statements)


@pytest.mark.parametrize("mode", [job.REPLAY, job.STREAM])
def test_every_parameter_of_every_statement_is_filled(mode: str) -> None:
    s = settings.load(env={})
    for sql in _rendered(s, mode).values():
        assert "$" not in sql


def test_streaming_and_replay_define_the_same_views_and_sinks() -> None:
    def views(mode: str) -> set[str]:
        return {st.name for n in stages.names() for st in stages.load(n).for_mode(mode)
                if st.kind != "insert"}  # fmt: skip

    stream_only = {"seen", "classified", "late", "provisional", "early_fields", "window_early"}
    replay_only = {"bot_seconds"}
    assert views(job.STREAM) - stream_only == views(job.REPLAY) - replay_only


def test_variants_sit_side_by_side_in_one_stage() -> None:
    for name in stages.names():
        stage = stages.load(name)
        by_name: dict[str, list[int]] = {}
        for i, st in enumerate(stage.statements):
            if st.mode and st.kind != "insert":
                by_name.setdefault(st.name, []).append(i)
        for view, at in by_name.items():
            if len(at) == 2:
                assert at[1] == at[0] + 1, (name, view)


def test_literals_are_quoted_and_parameters_named() -> None:
    assert literal("it's") == "'it''s'"
    assert literal(Sql("a + 1")) == "a + 1" and literal(7) == "7" and literal(True) == "TRUE"
    assert literal(Options({"k": "v'x"})) == "'k' = 'v''x'"
    assert render("SELECT $a, $b", {"a": "x'); DROP TABLE t; --", "b": 2}) == (
        "SELECT 'x''); DROP TABLE t; --', 2"
    )
    with pytest.raises(KeyError, match="missing"):
        render("SELECT $missing", {})


def test_intervals_are_exact_to_the_millisecond() -> None:
    assert literal(Interval(60_001)) == "INTERVAL '0 00:01:00.001' DAY TO SECOND(3)"
    assert literal(Interval(5_000)) == "INTERVAL '0 00:00:05.000' DAY TO SECOND(3)"
    assert literal(Interval(90_061_500)) == "INTERVAL '1 01:01:01.500' DAY TO SECOND(3)"


def test_rules_json_carries_every_field_in_contract_order() -> None:
    rules = json.loads(job_contract.rules_json())
    assert [f["name"] for f in rules["fields"]] == [f.name for f in contract.FIELDS]
    assert rules["max_future_ms"] == contract.MAX_FUTURE_MS
    ts = next(f for f in rules["fields"] if f["name"] == "client_timestamp")
    assert ts["pattern"] == contract.TIMESTAMP_PATTERN
    assert ts["invalid_reason"] == "invalid_field:client_timestamp"
    for i, f in enumerate(contract.FIELDS, start=1):
        read = f.name in job_contract.PIPELINE_FIELDS
        assert (f"p.`values`[{i}] AS {f.name}" in job_contract.field_columns()) == read


def test_the_settings_reach_the_sql() -> None:
    s = settings.load(env={}, flag_values={"sessions.gap.seconds": "90",
                                           "windows.bot.threshold": "25",
                                           "windows.watermark.delay.seconds": "7",
                                           "windows.size.seconds": "30",
                                           "windows.early.fire.ms": "250"})  # fmt: skip
    replay, stream = _rendered(s, job.REPLAY), _rendered(s, job.STREAM)
    assert "event_time_ms - prev_ms > 90000" in replay["view session_events"]
    assert "n > 25" in replay["view bot_seconds"] and "> 25 AS is_bot" in stream["view tagged"]
    assert "MOD(event_time_ms, 30000) AS ws" in replay["view valid"]
    classified = stream["view classified"]
    assert "LEAST(ws + 30000, event_time_ms + 90000 + 1) - 1 AS closes_ms" in classified
    assert "closes_ms <= max_seen_ms - 7000" in classified
    assert "> 25 AS maybe_bot" in stream["view provisional"]
    assert "0 00:01:30.001" in stream["view session_events"]  # gap + 1 ms: 90 s apart stays one
    final = stream["view window_final"]
    assert "TUMBLE(TABLE final_fields" in final and "0 00:00:30.000" in final
    assert "event_time - INTERVAL '0 00:00:07.000'" in stream["table raw_lines"]
    assert f"SELECT {', '.join(TOTAL_FIELDS)}, since FROM totals" in replay["insert redis_totals"]
    assert "CONCAT('evt:', client_event)" in stream["view early_fields"]
    assert "CONCAT('evt:', client_event)" in replay["view final_fields"]
    sinks = stream["table redis_windows"] + stream["table redis_sessions"]
    assert "'flush.interval' = '250 ms'" in sinks and "'window' = '30000 ms'" in sinks
    assert "'mode' = 'stream'" in sinks and "'mode' = 'replay'" in replay["table redis_totals"]


def test_kinesis_source_for_localstack_and_for_aws() -> None:
    local = settings.load(env={}, flag_values={
        "source.aws.endpoint": "http://127.0.0.1:4566", "source.start.position": "TRIM_HORIZON",
    })  # fmt: skip
    ddl = _rendered(local, job.STREAM)["table raw_lines"]
    assert "'connector' = 'kinesis'" in ddl and "'stream' = 'augury-clicks'" in ddl
    assert "'aws.endpoint' = 'http://127.0.0.1:4566'" in ddl
    assert "'scan.stream.initpos' = 'TRIM_HORIZON'" in ddl
    assert "METADATA FROM 'timestamp'" in ddl
    aws = settings.load(env={}, flag_values={"source.start.position": "AT_TIMESTAMP",
                                             "source.start.timestamp": "1795400000"})  # fmt: skip
    ddl = _rendered(aws, job.STREAM)["table raw_lines"]
    assert "aws.endpoint" not in ddl and "credentials" not in ddl
    assert "'scan.stream.initpos-timestamp' = '1795400000'" in ddl
    files = settings.load(env={}, flag_values={"source.type": "files", "source.input.path": "/d",
                                               "source.files.monitor.seconds": "10"})  # fmt: skip
    ddl = _rendered(files, job.STREAM)["table raw_lines"]
    assert "'connector' = 'filesystem'" in ddl and "'source.monitor-interval' = '10000 ms'" in ddl
    assert "METADATA FROM 'file.modification-time'" in ddl


def test_a_replay_reads_its_input_as_of_its_now() -> None:
    s = settings.load(env={})
    replay = _rendered(s, job.REPLAY)
    assert "'path' = '/tmp/in'" in replay["table raw_lines"]
    assert "parse_click(line, CAST(123 AS BIGINT)" in replay["view parsed"]
    stream = _rendered(s, job.STREAM)
    assert "parse_click(line, arrival_time," in stream["view parsed"]  # as of arrival
    assert "click_time(line, arrival_time," in stream["table raw_lines"]


def test_a_statement_without_sql_is_an_error() -> None:
    with pytest.raises(ValueError, match="view v has no SQL"):
        stages.parse("-- Stage 0, x: y\n\n-- view v: nothing\n\n-- view w: w\nSELECT 1")


def test_latest_checkpoint_is_the_newest_completed_one(tmp_path: Path) -> None:
    assert job.latest_checkpoint(tmp_path) is None
    for n, age in ((1, 30), (2, 20), (3, 10)):
        chk = tmp_path / "job" / f"chk-{n}"
        chk.mkdir(parents=True)
        if n < 3:
            (chk / "_metadata").write_text("x")
            os.utime(chk, (time.time() - age, time.time() - age))
    assert job.latest_checkpoint(tmp_path) == tmp_path / "job" / "chk-2"  # chk-3 never completed
