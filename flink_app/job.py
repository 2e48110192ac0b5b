"""Assembling the Flink job: environment, sources, views and sinks."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from pyflink.table import EnvironmentSettings, TableEnvironment

from augury.endpoints import Endpoints
from flink_app import sql, udfs
from flink_app.settings import JobSettings, redis_url_with_auth

CONNECTOR_JAR = Path(__file__).parent / "target" / "augury-flink-connectors.jar"
PARSE_CLICK = "io.augury.flink.ParseClick"


def redis_url(settings: JobSettings) -> str:
    """The Redis URL the sinks connect with, the AUTH password fetched when configured."""

    def fetch(arn: str) -> str:
        client = Endpoints.from_env().client("secretsmanager", region_name=settings.region)
        return str(client.get_secret_value(SecretId=arn)["SecretString"])

    return redis_url_with_auth(settings, fetch)


def table_env(settings: JobSettings, batch: bool) -> TableEnvironment:
    """A TableEnvironment in UTC with the job's parallelism and Python workers."""
    env_settings = (
        EnvironmentSettings.in_batch_mode() if batch else EnvironmentSettings.in_streaming_mode()
    )
    t_env = TableEnvironment.create(env_settings)
    conf = t_env.get_config()
    conf.set("table.local-time-zone", "UTC")
    conf.set("parallelism.default", str(settings.parallelism))
    conf.set("python.executable", sys.executable)
    conf.set("python.client.executable", sys.executable)
    conf.set("python.fn-execution.arrow.batch.size", "5000")
    conf.set("pipeline.name", "augury-replay" if batch else "augury-stream")
    if not CONNECTOR_JAR.exists():
        raise FileNotFoundError(f"{CONNECTOR_JAR} is missing: build it with `make flink-jar`")
    conf.set("pipeline.jars", CONNECTOR_JAR.resolve().as_uri())
    t_env.create_java_temporary_function("parse_click", PARSE_CLICK)
    return t_env


def add_replay(t_env: TableEnvironment, settings: JobSettings, input_path: str,
               dead_letter: str, now_ms: int | None = None) -> Any:  # fmt: skip
    """Define the bounded replay pipeline; a StatementSet ready to execute."""
    t_env.execute_sql(
        "CREATE TEMPORARY TABLE raw_events (line STRING) WITH ("
        f"'connector'='filesystem', 'path'='{input_path}', 'format'='raw')"
    )
    t_env.execute_sql(
        "CREATE TEMPORARY TABLE dead_letter (reason STRING, `raw` STRING) WITH ("
        f"'connector'='filesystem', 'path'='{dead_letter}', 'format'='json')"
    )
    for name in udfs.SINKS:
        t_env.execute_sql(
            f"CREATE TEMPORARY TABLE sink_{name} (n BIGINT) WITH ('connector'='blackhole')"
        )
    udfs.register(t_env, redis_url(settings), settings.key_prefix, settings.ttl_s)
    now = int(time.time() * 1000) if now_ms is None else now_ms
    for name, query in sql.batch_views(settings, now):
        t_env.create_temporary_view(name, t_env.sql_query(query))
    stmts = t_env.create_statement_set()
    stmts.add_insert_sql("INSERT INTO dead_letter SELECT reason, `raw` FROM invalid")
    stmts.add_insert_sql(
        "INSERT INTO sink_write_windows SELECT write_windows(ws, events, users, sessions, "
        "bot_events, TRUE) FROM window_core"
    )
    stmts.add_insert_sql(
        "INSERT INTO sink_write_window_dims SELECT write_window_dims(ws, field_name, n, kind) "
        "FROM window_dims"
    )
    stmts.add_insert_sql(
        "INSERT INTO sink_write_sessions SELECT write_sessions(user_id, device_id, start_ms, "
        "end_ms, events, first_event, last_event, countrycode) FROM sessions"
    )
    stmts.add_insert_sql(
        "INSERT INTO sink_write_totals SELECT write_totals(accepted, invalid, duplicates, "
        "bot_events, late) FROM totals"
    )
    return stmts
