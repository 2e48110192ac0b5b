"""The job's SQL, generated from the event contract and the settings (pure: strings only).

Validation runs in the JVM (``ParseClick``, built by ``make flink-jar``) with the rules of
``augury.events`` passed as JSON, so it applies exactly the Python contract's rules, in the same
order, with the same reasons.
"""

from __future__ import annotations

import json

from augury import events as contract
from flink_app.settings import JobSettings


def _lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def contract_rules_json() -> str:
    """The contract's rules as JSON for the JVM's ParseClick function (one definition)."""
    return json.dumps(
        {
            "fields": [
                {
                    "name": f.name,
                    "required": f.required,
                    "min_len": f.min_len,
                    "max_len": f.max_len,
                    "pattern": f.pattern,
                    "starts_with": f.starts_with,
                    "missing_reason": contract.missing(f.name),
                    "invalid_reason": contract.invalid(f.name),
                }
                for f in contract.FIELDS
            ],
            "timestamp_field": contract.TIMESTAMP_FIELD,
            "max_future_ms": contract.MAX_FUTURE_MS,
            "malformed_json": contract.MALFORMED_JSON,
            "not_object": contract.NOT_OBJECT,
            "future_timestamp": contract.FUTURE_TIMESTAMP,
        },
        separators=(",", ":"),
    )


NOW_MS_SQL = "CAST(UNIX_TIMESTAMP() AS BIGINT) * 1000"
"""Processing time in epoch ms, per record in streaming (for the ``future_timestamp`` rule)."""


def validated_select(source_table: str, now_ms_sql: str, carry: tuple[str, ...] = ()) -> str:
    """SELECT from a table of raw ``line``s: ``reason`` (NULL when valid), fields, event time.

    One JVM call per event (``parse_click``, the job's Java function) parses the JSON once and
    applies the contract's rules, passed to it as JSON generated from ``augury.events``.
    ``now_ms_sql`` is processing time in epoch ms, for the ``future_timestamp`` check;
    ``carry`` names source columns passed through (the streaming source's time attributes).
    """
    fields = ",\n  ".join(f"p.`values`[{i + 1}] AS {f.name}" for i, f in enumerate(contract.FIELDS))
    extra = "".join(f", {c}" for c in carry)
    return f"""SELECT line, p.reason AS reason,
  {fields},
  p.event_time_ms AS event_time_ms{extra}
FROM (
  SELECT line{extra},
    parse_click(line, CAST({now_ms_sql} AS BIGINT), {_lit(contract_rules_json())}) AS p
  FROM {source_table}
)"""


def batch_views(s: JobSettings, now_ms: int) -> list[tuple[str, str]]:
    """(view name, query) of the bounded replay pipeline, in dependency order."""
    gap, win, bots = s.session_gap_ms, s.window_ms, s.bot_threshold
    return [
        ("parsed", validated_select("raw_events", str(now_ms))),
        ("invalid", "SELECT reason, line AS `raw` FROM parsed WHERE reason IS NOT NULL"),
        ("valid", "SELECT * FROM parsed WHERE reason IS NULL"),
        # Deduplicate on event_id: keep the first (by event time, then raw text).
        (
            "deduped",
            """SELECT * FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY event_time_ms, line) AS rn
  FROM valid) WHERE rn = 1""",
        ),
        # Bots: more than `bots` events of one user in one event-time second.
        (
            "per_second",
            """SELECT user_id, event_time_ms - MOD(event_time_ms, 1000) AS second_ms,
  COUNT(*) AS n FROM deduped GROUP BY user_id, event_time_ms - MOD(event_time_ms, 1000)""",
        ),
        (
            "tagged",
            f"""SELECT ev.*, bk.n > {bots} AS is_bot FROM deduped AS ev
  JOIN per_second AS bk ON ev.user_id = bk.user_id
   AND ev.event_time_ms - MOD(ev.event_time_ms, 1000) = bk.second_ms""",
        ),
        ("human", "SELECT * FROM tagged WHERE NOT is_bot"),
        # Sessions: a new one when the gap to the previous event of the key exceeds `gap`.
        (
            "ordered",
            """SELECT user_id, device_id, client_event, countrycode, event_time_ms,
  LAG(event_time_ms) OVER (PARTITION BY user_id, device_id ORDER BY event_time_ms) AS prev_ms
  FROM human""",
        ),
        (
            "numbered",
            f"""SELECT *, SUM(CASE WHEN prev_ms IS NULL OR event_time_ms - prev_ms > {gap}
  THEN 1 ELSE 0 END) OVER (PARTITION BY user_id, device_id ORDER BY event_time_ms
  ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS session_no FROM ordered""",
        ),
        ("sessions", session_aggregate("numbered", "user_id, device_id, session_no")),
        # One-minute tumbling windows (UTC epoch-aligned).
        (
            "window_core",
            f"""SELECT ws, SUM(events) AS events, SUM(users) AS users,
  SUM(sessions) AS sessions, SUM(bot_events) AS bot_events FROM (
    SELECT event_time_ms - MOD(event_time_ms, {win}) AS ws, COUNT(*) AS events,
      COUNT(DISTINCT user_id) AS users, 0 AS sessions, 0 AS bot_events
    FROM human GROUP BY event_time_ms - MOD(event_time_ms, {win})
  UNION ALL
    SELECT start_ms - MOD(start_ms, {win}), 0, 0, COUNT(*), 0
    FROM sessions GROUP BY start_ms - MOD(start_ms, {win})
  UNION ALL
    SELECT event_time_ms - MOD(event_time_ms, {win}), 0, 0, 0, COUNT(*)
    FROM tagged WHERE is_bot GROUP BY event_time_ms - MOD(event_time_ms, {win})
  ) GROUP BY ws""",
        ),
        (
            "window_dims",
            f"""SELECT event_time_ms - MOD(event_time_ms, {win}) AS ws,
    CONCAT('evt:', client_event) AS field_name, COUNT(*) AS n, 'hash' AS kind
  FROM human GROUP BY event_time_ms - MOD(event_time_ms, {win}), client_event
UNION ALL
  SELECT event_time_ms - MOD(event_time_ms, {win}), CONCAT('cc:', countrycode), COUNT(*), 'hash'
  FROM human GROUP BY event_time_ms - MOD(event_time_ms, {win}), countrycode
UNION ALL
  SELECT event_time_ms - MOD(event_time_ms, {win}), page_url, COUNT(*), 'pages'
  FROM human WHERE page_url IS NOT NULL
  GROUP BY event_time_ms - MOD(event_time_ms, {win}), page_url""",
        ),
        (
            "totals",
            totals_select(late="CAST(0 AS BIGINT)")
            + """ FROM (
  SELECT 'accepted' AS k FROM human UNION ALL SELECT 'invalid' FROM invalid
  UNION ALL SELECT 'valid' FROM valid UNION ALL SELECT 'deduped' FROM deduped
  UNION ALL SELECT 'bot' FROM tagged WHERE is_bot
)""",
        ),
    ]


def _count(tag: str) -> str:
    return f"SUM(CASE WHEN k = '{tag}' THEN 1 ELSE 0 END)"


def totals_select(late: str, hint: str = "") -> str:
    """SELECT list of the totals over a relation of tags ``k``; the caller adds FROM.

    Tags: accepted, invalid, valid, deduped, bot (and late in streaming).
    """
    return f"""SELECT {hint}
  {_count("accepted")} AS accepted, {_count("invalid")} AS invalid,
  {_count("valid")} - {_count("deduped")} AS duplicates,
  {_count("bot")} AS bot_events, {late} AS late"""


def session_aggregate(source: str, group_by: str) -> str:
    """Session rows from events grouped by ``group_by``.

    first_event/last_event/countrycode come from the earliest/latest event; events at the same
    millisecond are ordered by the value itself (MIN/MAX over a zero-padded time prefix).
    """
    key = "LPAD(CAST(event_time_ms AS STRING), 20, '0')"
    return f"""SELECT user_id, device_id, MIN(event_time_ms) AS start_ms,
  MAX(event_time_ms) AS end_ms, COUNT(*) AS events,
  SUBSTR(MIN(CONCAT({key}, client_event)), 21) AS first_event,
  SUBSTR(MAX(CONCAT({key}, client_event)), 21) AS last_event,
  SUBSTR(MIN(CONCAT({key}, countrycode)), 21) AS countrycode
FROM {source} GROUP BY {group_by}"""


def _with(options: dict[str, str]) -> str:
    """A WITH clause's option list."""
    return ", ".join(f"{_lit(k)} = {_lit(v)}" for k, v in options.items())


def _seconds(ms: int) -> str:
    """A SQL day-time interval literal of ``ms`` milliseconds."""
    seconds, millis = divmod(ms, 1000)
    minutes, sec = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    days, hour = divmod(hours, 24)
    return f"INTERVAL '{days} {hour:02d}:{minute:02d}:{sec:02d}.{millis:03d}' DAY TO SECOND(3)"


def time_columns(s: JobSettings) -> str:
    """Computed columns and watermark of the streaming source (after the raw ``line``).

    ``event_time`` is the contract's ``client_timestamp`` of a valid event (0 for an invalid
    one, which never advances the watermark); the watermark trails the largest event time by
    ``windows.watermark.delay.seconds``. ``pt`` is processing time (deduplication order).
    """
    rules = _lit(contract_rules_json())
    return f""",
  event_time AS TO_TIMESTAMP_LTZ(click_time(line, {NOW_MS_SQL}, {rules}), 3),
  pt AS PROCTIME(),
  WATERMARK FOR event_time AS event_time - {_seconds(s.watermark_delay_ms)}"""


def files_source_ddl(s: JobSettings, path: str, table: str = "raw_events",
                     streaming: bool = False) -> str:  # fmt: skip
    """CREATE TABLE over raw NDJSON files.

    In streaming the table has the event-time columns and, when
    ``source.files.monitor.seconds`` > 0, watches the path for new files.
    """
    cols = time_columns(s) if streaming else ""
    options = {"connector": "filesystem", "path": path, "format": "raw"}
    if streaming and s.files_monitor_ms:
        options["source.monitor-interval"] = f"{s.files_monitor_ms} ms"
    return f"CREATE TEMPORARY TABLE {table} (\n  line STRING{cols}\n) WITH ({_with(options)})"


def dead_letter_ddl(path: str, table: str = "dead_letter") -> str:
    """CREATE TABLE of the dead-letter output: JSON lines ``{"reason": ..., "raw": ...}``."""
    options = {"connector": "filesystem", "path": path, "format": "json",
               "sink.rolling-policy.rollover-interval": "1 min",
               "sink.rolling-policy.check-interval": "10 s"}  # fmt: skip
    return f"CREATE TEMPORARY TABLE {table} (reason STRING, `raw` STRING) WITH ({_with(options)})"


def stream_views(s: JobSettings) -> list[tuple[str, str]]:
    """(view name, query) of the streaming pipeline over ``raw_events`` (with time columns).

    Lateness is decided from state, not from the watermark's timing: ``max_seen_ms`` is the
    largest event time seen so far (checkpointed), and an event is late when its window, or
    its session, would already be closed by a watermark at ``max_seen_ms - delay``. The real
    watermark never runs ahead of that, so no window drops an event silently, and a restore
    from a checkpoint classifies exactly as an uninterrupted run.
    """
    gap, win, bots, delay = s.session_gap_ms, s.window_ms, s.bot_threshold, s.watermark_delay_ms
    step = min(s.early_fire_ms, win)
    human = "NOT is_bot"
    cumulate = (f"TABLE(CUMULATE(TABLE {{src}}, DESCRIPTOR(event_time), {_seconds(step)}, "
                f"{_seconds(win)}))")  # fmt: skip
    ws = f"MIN(event_time_ms - MOD(event_time_ms, {win}))"
    final = f"TIMESTAMPDIFF(SECOND, window_start, window_end) * 1000 = {win}"
    recent = "raw_events"
    if s.source_type == "kinesis" and s.skip_arrived_before_ms:
        recent = f"""(SELECT * FROM raw_events
  WHERE arrival_time >= TO_TIMESTAMP_LTZ({s.skip_arrived_before_ms}, 3))"""
    return [
        ("parsed", validated_select(recent, NOW_MS_SQL, carry=("event_time", "pt"))),
        ("invalid", "SELECT reason, line AS `raw` FROM parsed WHERE reason IS NOT NULL"),
        ("valid", "SELECT * FROM parsed WHERE reason IS NULL"),
        # Deduplicate on event_id: the first to arrive is kept (state TTL = the horizon).
        (
            "deduped",
            """SELECT * FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY pt) AS rn FROM valid
) WHERE rn = 1""",
        ),
        (
            "seen",
            """SELECT *, MAX(event_time_ms) OVER (
  ORDER BY pt ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS max_seen_ms FROM deduped""",
        ),
        (
            "classified",
            f"""SELECT *, LEAST(event_time_ms - MOD(event_time_ms, {win}) + {win},
  event_time_ms + {gap} + 1) - 1 <= max_seen_ms - {delay} AS is_late FROM seen""",
        ),
        ("late", "SELECT 'late' AS reason, line AS `raw` FROM classified WHERE is_late"),
        ("on_time", "SELECT * FROM classified WHERE NOT is_late"),
        # Bots: more than `bots` events of one user in one event-time second.
        (
            "per_second",
            """SELECT user_id, MIN(event_time_ms - MOD(event_time_ms, 1000)) AS second_ms,
  window_time AS second_time, COUNT(*) AS n
FROM TABLE(TUMBLE(TABLE on_time, DESCRIPTOR(event_time), INTERVAL '1' SECOND))
GROUP BY user_id, window_start, window_end, window_time""",
        ),
        (
            "tagged",
            f"""SELECT ev.*, COALESCE(bk.n, 0) > {bots} AS is_bot
FROM on_time AS ev LEFT JOIN per_second AS bk
  ON ev.user_id = bk.user_id
 AND bk.second_ms = ev.event_time_ms - MOD(ev.event_time_ms, 1000)
 AND bk.second_time BETWEEN ev.event_time AND ev.event_time + INTERVAL '1' SECOND""",
        ),
        ("human", f"SELECT * FROM tagged WHERE {human}"),
        # Sessions: SESSION windows per (user, device); gap + 1 ms keeps events exactly `gap`
        # apart in one session (the window is half-open).
        (
            "session_events",
            f"""SELECT * FROM TABLE(SESSION(TABLE human PARTITION BY (user_id, device_id),
  DESCRIPTOR(event_time), {_seconds(gap + 1)}))""",
        ),
        (
            "sessions",
            session_aggregate("session_events", "user_id, device_id, window_start, window_end"),
        ),
        (
            "window_sessions",
            f"""SELECT start_ms - MOD(start_ms, {win}) AS ws, 'sessions' AS field_name,
  COUNT(*) AS n, 'hash' AS kind FROM sessions GROUP BY start_ms - MOD(start_ms, {win})""",
        ),
        # One-minute windows, re-emitted every `step` of event time until final.
        (
            "window_core",
            f"""SELECT {ws} AS ws, COUNT(*) FILTER (WHERE {human}) AS events,
  COUNT(DISTINCT user_id) FILTER (WHERE {human}) AS users,
  COUNT(*) FILTER (WHERE is_bot) AS bot_events, {final} AS `final`
FROM {cumulate.format(src="tagged")} GROUP BY window_start, window_end""",
        ),
        (
            "window_dims",
            f"""SELECT {ws} AS ws, CONCAT('evt:', client_event) AS field_name, COUNT(*) AS n,
    'hash' AS kind
  FROM {cumulate.format(src="human")} GROUP BY window_start, window_end, client_event
UNION ALL
  SELECT {ws}, CONCAT('cc:', countrycode), COUNT(*), 'hash'
  FROM {cumulate.format(src="human")} GROUP BY window_start, window_end, countrycode
UNION ALL
  SELECT {ws}, page_url, COUNT(*), 'pages'
  FROM {cumulate.format(src="human")} WHERE page_url IS NOT NULL
  GROUP BY window_start, window_end, page_url""",
        ),
        (
            "tags",
            """SELECT 'invalid' AS k FROM invalid UNION ALL SELECT 'valid' FROM valid
  UNION ALL SELECT 'deduped' FROM deduped UNION ALL SELECT 'late' FROM late
  UNION ALL SELECT CASE WHEN is_bot THEN 'bot' ELSE 'accepted' END FROM tagged""",
        ),
        (
            "totals",
            # The hint keeps the totals' state beyond the dedupe horizon (table.exec.state.ttl).
            totals_select(late=_count("late"), hint="/*+ STATE_TTL('tags' = '36500d') */")
            + " FROM tags",
        ),
    ]


def kinesis_source_ddl(s: JobSettings, table: str = "raw_events", streaming: bool = False) -> str:
    """CREATE TABLE for the Kinesis source: one raw ``line`` per record.

    In streaming, the table also has the event-time columns of ``time_columns``.

    Locally ``source.aws.endpoint`` points at LocalStack and dummy credentials are used; on
    AWS the connector's default credential chain applies (the application's role).
    """
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
            "aws.credentials.basic.accesskeyid": "test",
            "aws.credentials.basic.secretkey": "test",
        })  # fmt: skip
    rendered = ",\n  ".join(f"{_lit(k)} = {_lit(v)}" for k, v in options.items())
    cols = ""
    if streaming:
        # Kinesis's ApproximateArrivalTimestamp, for source.skip.arrived.before.ms.
        cols = ",\n  arrival_time TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL"
        cols += time_columns(s)
    return f"CREATE TEMPORARY TABLE {table} (\n  line STRING{cols}\n) WITH (\n  {rendered}\n)"
