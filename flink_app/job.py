"""The job, top to bottom, in nine stages of plain SQL.

source → validate → dedupe → lateness → bots → sessions → windows → totals → sinks.

Each stage is one plain SQL file in ``flink_app/sql/`` (``stages.py`` reads them); its views are
created in this order, and its INSERTs run together as one statement set once the sinks exist.
The streaming job (``python -m flink_app run``) and the bounded replay (``... replay``) run the
same stages. Where their semantics differ (event time and watermarks, lateness, early
results) the stage file holds both variants side by side, marked ``(stream)`` and ``(replay)``.
"""

from __future__ import annotations

import time
from typing import Any

from pyflink.table import TableEnvironment

from augury.endpoints import LOCALSTACK_CREDENTIALS
from augury.redis_keys import COUNTRY_FIELD_PREFIX, EVENT_FIELD_PREFIX, TOTAL_FIELDS, layout_json
from augury.settings import MINUTE_MS
from flink_app import contract, stages
from flink_app.environment import (
    configure_stream,
    latest_checkpoint,
    redis_url,
    table_env,
)
from flink_app.settings import JobSettings
from flink_app.stages import REPLAY, STREAM, Interval, Options, Param, Sql

__all__ = ["REPLAY", "STREAM", "build", "configure_stream", "latest_checkpoint", "table_env"]


def build(t_env: TableEnvironment, settings: JobSettings, mode: str, dead_letter: str,
          input_path: str | None = None, now_ms: int | None = None) -> Any:  # fmt: skip
    """Define the whole job in ``t_env``; a StatementSet ready to execute.

    ``mode`` is ``stream`` (unbounded, from Kinesis or watched files) or ``replay`` (bounded,
    from ``input_path``, as of ``now_ms`` for the contract's future-timestamp rule).
    """
    p = parameters(settings, mode, dead_letter, input_path, now_ms)
    inserts: list[str] = []
    inserts += apply(t_env, "source", mode, p)  # raw lines; stream: event time, watermark
    inserts += apply(t_env, "validate", mode, p)  # the contract, in the JVM; dead letter
    inserts += apply(t_env, "dedupe", mode, p)  # one event per event_id
    inserts += apply(t_env, "lateness", mode, p)  # stream: late events to the dead letter
    inserts += apply(t_env, "bots", mode, p)  # more than N events of a user in a second
    inserts += apply(t_env, "sessions", mode, p)  # per user and device, split by the gap
    inserts += apply(t_env, "windows", mode, p)  # tumbling windows; stream: early, then final
    inserts += apply(t_env, "totals", mode, p)  # what became of every record read
    inserts += apply(t_env, "sinks", mode, p)  # Redis and the dead letter
    statement_set = t_env.create_statement_set()
    for insert in inserts:
        statement_set.add_insert_sql(insert)
    return statement_set


def apply(t_env: TableEnvironment, stage: str, mode: str, params: dict[str, Param]) -> list[str]:
    """Create the stage's tables and views for ``mode``; its INSERTs, rendered, to run later."""
    inserts = []
    for statement in stages.load(stage).for_mode(mode):
        sql = stages.render(statement.sql, params)
        if statement.kind == "table":
            t_env.execute_sql(sql)
        elif statement.kind == "view":
            t_env.create_temporary_view(statement.name, t_env.sql_query(sql))
        else:
            inserts.append(sql)
    return inserts


def parameters(s: JobSettings, mode: str, dead_letter: str, input_path: str | None = None,
               now_ms: int | None = None) -> dict[str, Param]:  # fmt: skip
    """Every stage's ``$name`` parameters, from the settings and the contract."""
    p = s.pipeline
    streaming = mode == STREAM
    if mode not in (REPLAY, STREAM):
        raise ValueError(f"mode {mode!r} is not {REPLAY} or {STREAM}")
    kinesis = streaming and s.source_type == "kinesis"
    files = not streaming or s.source_type == "files"
    return {
        "source_options": source_options(s, streaming, input_path),
        "arrival_metadata": "file.modification-time" if files else "timestamp",
        "skip_arrived_before_ms": s.skip_arrived_before_ms if kinesis else 0,
        # A replay judges the contract's future_timestamp rule as of its start; streaming, as of
        # each record's arrival (the source's arrival_time).
        "now_ms": int(time.time() * 1000) if now_ms is None else now_ms,
        "contract_rules": contract.rules_json(),
        "contract_fields": contract.field_columns(),
        "window_ms": p.window_ms,
        "window": Interval(p.window_ms),
        "watermark_delay": Interval(p.watermark_delay_ms),
        "watermark_delay_ms": p.watermark_delay_ms,
        "session_gap_ms": p.session_gap_ms,
        # SESSION windows are half-open: gap + 1 ms keeps events exactly the gap apart together.
        "session_window_gap": Interval(p.session_gap_ms + 1),
        "bot_threshold": p.bot_threshold,
        # how long a window's early counts are kept after their last change: the window, its
        # delay and a minute (a state TTL hint: not the dedupe horizon, which can be shorter)
        "early_state_ttl": f"{p.window_ms + p.watermark_delay_ms + MINUTE_MS} ms",
        "event_field_prefix": EVENT_FIELD_PREFIX,
        "country_field_prefix": COUNTRY_FIELD_PREFIX,
        "total_fields": Sql(", ".join(TOTAL_FIELDS)),
        "total_columns": Sql(", ".join(f"{name} BIGINT" for name in TOTAL_FIELDS)),
        "dead_letter_options": dead_letter_options(dead_letter),
        "redis_options": redis_options(s, mode),
    }


def source_options(s: JobSettings, streaming: bool, input_path: str | None = None) -> Options:
    """The source table's connector options: Kinesis, raw files, or the generator's traffic.

    Raw files are NDJSON, plain or .gz; the traffic is the generator's replayed at a set rate
    (``augury-traffic``, the capacity benchmark's).

    Locally ``source.aws.endpoint`` points at LocalStack and its dummy credentials are used; on
    AWS the connector's default credential chain applies (the application's role).
    """
    if not streaming or s.source_type == "files":
        options = {"connector": "filesystem", "path": input_path or s.input_path, "format": "raw"}
        if streaming and s.files_monitor_ms:
            options["source.monitor-interval"] = f"{s.files_monitor_ms} ms"
        return Options(options)
    if s.source_type == "traffic":
        return Options({
            "connector": "augury-traffic", "pool": input_path or s.input_path, "format": "raw",
            "rate": str(s.traffic_rate), "probe.interval": f"{s.traffic_probe_ms} ms",
            "count": str(s.traffic_count), "progress.path": s.traffic_progress_path,
        })  # fmt: skip
    options = {
        "connector": "kinesis",
        "stream": s.stream_name,
        "aws.region": s.region,
        "scan.stream.initpos": s.start_position,
        "format": "raw",
    }
    if s.start_position == "AT_TIMESTAMP":
        # Epoch seconds (a non-negative number; a format option would be a date pattern).
        options["scan.stream.initpos-timestamp"] = s.start_timestamp
    if s.aws_endpoint:
        options.update({
            "aws.endpoint": s.aws_endpoint,
            "aws.credentials.provider": "BASIC",
            "aws.credentials.basic.accesskeyid": LOCALSTACK_CREDENTIALS["aws_access_key_id"],
            "aws.credentials.basic.secretkey": LOCALSTACK_CREDENTIALS["aws_secret_access_key"],
        })  # fmt: skip
    return Options(options)


def redis_options(s: JobSettings, mode: str) -> Options:
    """The Redis sink tables' options (``augury-redis``, the job's Java connector).

    The URL carries the AUTH password when ``sink.redis.auth.secret.arn`` is set; the key layout
    is ``augury.redis_keys``'s, so the sink names no key on its own.
    """
    return Options({
        "connector": "augury-redis",
        "url": redis_url(s),
        "mode": mode,
        "layout": layout_json(s.pipeline.key_prefix),
        "ttl": f"{s.pipeline.ttl_s} s",
        "flush.interval": f"{s.pipeline.early_fire_ms} ms",
    })  # fmt: skip


def dead_letter_options(path: str) -> Options:
    """The dead letter's options: JSON lines ``{"reason": ..., "raw": ...}`` in files."""
    return Options({"connector": "filesystem", "path": path, "format": "json",
                    "sink.rolling-policy.rollover-interval": "1 min",
                    "sink.rolling-policy.check-interval": "10 s"})  # fmt: skip
