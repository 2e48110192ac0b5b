"""Assembling the Flink job: environment, sources, views and sinks."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from pyflink.table import EnvironmentSettings, TableEnvironment

from augury.endpoints import Endpoints
from flink_app import sql, udfs
from flink_app.settings import MANAGED_FLINK_PROPERTIES, JobSettings, redis_url_with_auth

CONNECTOR_JAR = Path(__file__).parent / "target" / "augury-flink-connectors.jar"
PARSE_CLICK = "io.augury.flink.ParseClick"
CLICK_TIME = "io.augury.flink.ClickTime"


def redis_url(settings: JobSettings) -> str:
    """The Redis URL the sinks connect with, the AUTH password fetched when configured."""
    found = Endpoints.from_env()
    endpoints = Endpoints(found.localstack_url, found.redis_url, settings.region)
    return redis_url_with_auth(settings, endpoints.secret_string)


def use_job_jar_in_flink_lib() -> None:
    """Put the job's jar on the local Flink's class path (as a jar in Flink's ``lib/``).

    ``pipeline.jars`` alone does not reach every class loader: a function in a computed
    column whose watermark is pushed into a source (the file source) is compiled against
    Flink's own class path. PyFlink reads ``FLINK_LIB_DIR`` when it starts its JVM, so this
    must run before the first TableEnvironment of the process (PyFlink itself points
    ``FLINK_LIB_DIR`` at its own ``lib/``); ``pipeline.jars`` is kept too (duplicate service
    entries are ignored).
    """
    lib = CONNECTOR_JAR.parent / "flink-lib"
    if os.environ.get("FLINK_LIB_DIR") == str(lib) or not CONNECTOR_JAR.exists():
        return
    import pyflink

    pyflink_lib = Path(pyflink.__file__).parent / "lib"  # (FLINK_HOME keeps PyFlink from resetting)
    lib.mkdir(exist_ok=True)
    for jar in [*pyflink_lib.glob("*.jar"), CONNECTOR_JAR]:
        link = lib / jar.name
        if not link.exists():
            link.symlink_to(jar.resolve())
    home = Path(pyflink.__file__).parent
    os.environ.update({
        "FLINK_HOME": str(home), "FLINK_LIB_DIR": str(lib),
        "FLINK_OPT_DIR": str(home / "opt"), "FLINK_PLUGINS_DIR": str(home / "plugins"),
    })  # fmt: skip


def table_env(settings: JobSettings, batch: bool) -> TableEnvironment:
    """A TableEnvironment in UTC with the job's parallelism and Python workers."""
    use_job_jar_in_flink_lib()
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
    if MANAGED_FLINK_PROPERTIES.exists():
        pass  # Managed Flink adds the zip's `jarfile` (run options) to the class path itself
    elif not CONNECTOR_JAR.exists():
        raise FileNotFoundError(f"{CONNECTOR_JAR} is missing: build it with `make flink-jar`")
    else:
        conf.set("pipeline.jars", CONNECTOR_JAR.resolve().as_uri())
    t_env.create_java_temporary_function("parse_click", PARSE_CLICK)
    t_env.create_java_temporary_function("click_time", CLICK_TIME)
    return t_env


def _register_sinks(t_env: TableEnvironment, settings: JobSettings) -> None:
    """The Redis sink functions, and a blackhole table for each to insert into."""
    for name in udfs.SINKS:
        t_env.execute_sql(
            f"CREATE TEMPORARY TABLE sink_{name} (n BIGINT) WITH ('connector'='blackhole')"
        )
    udfs.register(t_env, redis_url(settings), settings.key_prefix, settings.ttl_s)


def _insert_results(stmts: Any, dims_views: tuple[str, ...]) -> None:
    """Inserts shared by replay and stream: window fields, sessions and totals."""
    for view in dims_views:
        stmts.add_insert_sql(
            "INSERT INTO sink_write_window_dims SELECT write_window_dims(ws, field_name, n, "
            f"kind) FROM {view}"
        )
    stmts.add_insert_sql(
        "INSERT INTO sink_write_sessions SELECT write_sessions(user_id, device_id, start_ms, "
        "end_ms, events, first_event, last_event, countrycode) FROM sessions"
    )
    stmts.add_insert_sql(
        "INSERT INTO sink_write_totals SELECT write_totals(accepted, invalid, duplicates, "
        "bot_events, late) FROM totals"
    )


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
    _register_sinks(t_env, settings)
    now = int(time.time() * 1000) if now_ms is None else now_ms
    for name, query in sql.batch_views(settings, now):
        t_env.create_temporary_view(name, t_env.sql_query(query))
    stmts = t_env.create_statement_set()
    stmts.add_insert_sql("INSERT INTO dead_letter SELECT reason, `raw` FROM invalid")
    stmts.add_insert_sql(
        "INSERT INTO sink_write_windows SELECT write_windows(ws, events, users, sessions, "
        "bot_events, TRUE) FROM window_core"
    )
    _insert_results(stmts, dims_views=("window_dims",))
    return stmts


def configure_stream(t_env: TableEnvironment, settings: JobSettings,
                     restore_from: str | None = None, managed: bool = False) -> None:  # fmt: skip
    """Streaming options: idleness, state TTL (the dedupe horizon) and, locally, checkpoints.

    On Managed Flink the service owns checkpointing and restores; locally checkpoints go to
    ``job.checkpoint.dir``, are retained on cancellation, and ``restore_from`` (a ``chk-N``
    directory) resumes from one.
    """
    conf = t_env.get_config()
    conf.set("table.exec.source.idle-timeout", f"{settings.idle_timeout_ms} ms")
    conf.set("table.exec.state.ttl", f"{settings.dedupe_horizon_ms} ms")
    if managed:
        return
    conf.set("execution.checkpointing.interval", f"{settings.checkpoint_interval_ms} ms")
    conf.set("execution.checkpointing.mode", "EXACTLY_ONCE")
    conf.set("execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION")
    if settings.checkpoint_dir:
        conf.set("state.checkpoints.dir", Path(settings.checkpoint_dir).resolve().as_uri())
    if restore_from:
        conf.set("execution.state-recovery.path", Path(restore_from).resolve().as_uri())


def latest_checkpoint(checkpoint_dir: str | Path) -> Path | None:
    """The newest completed checkpoint (``<job-id>/chk-N`` with ``_metadata``) under a dir."""
    done = [p.parent for p in Path(checkpoint_dir).glob("*/chk-*/_metadata")]
    return max(done, key=lambda p: p.stat().st_mtime, default=None)


def add_stream(t_env: TableEnvironment, settings: JobSettings, dead_letter: str) -> Any:
    """Define the streaming pipeline (Kinesis or files); a StatementSet ready to execute."""
    if settings.source_type == "kinesis":
        t_env.execute_sql(sql.kinesis_source_ddl(settings, streaming=True))
    else:
        t_env.execute_sql(sql.files_source_ddl(settings, settings.input_path, streaming=True))
    t_env.execute_sql(sql.dead_letter_ddl(dead_letter))
    _register_sinks(t_env, settings)
    for name, query in sql.stream_views(settings):
        t_env.create_temporary_view(name, t_env.sql_query(query))
    stmts = t_env.create_statement_set()
    stmts.add_insert_sql(
        "INSERT INTO dead_letter SELECT reason, `raw` FROM invalid "
        "UNION ALL SELECT reason, `raw` FROM late"
    )
    stmts.add_insert_sql(
        "INSERT INTO sink_write_windows SELECT write_windows(ws, events, users, "
        "CAST(NULL AS BIGINT), bot_events, `final`) FROM window_core"
    )
    _insert_results(stmts, dims_views=("window_dims", "window_sessions"))
    return stmts
