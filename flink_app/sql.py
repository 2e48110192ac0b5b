"""The job's SQL, generated from the event contract and the settings (pure: strings only).

Validation is generated from ``augury.events.FIELDS`` so the JVM applies exactly the rules the
Python contract defines, in the same order, with the same reasons.
"""

from __future__ import annotations

from augury import events as contract
from flink_app.settings import JobSettings


def _lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _wrapped(name: str) -> str:
    # Scalars come back wrapped in an array: '["text"]' for strings, '[5]' for numbers; NULL
    # when the field is absent or null. That tells strings from other JSON types.
    return f"JSON_QUERY(line, '$.{name}' WITH UNCONDITIONAL ARRAY WRAPPER)"


def _rule_sql(rule: contract.FieldRule, value: str) -> str:
    """A boolean SQL expression: the string ``value`` satisfies ``rule``."""
    parts = [f"CHAR_LENGTH({value}) >= {rule.min_len}"]
    if rule.max_len is not None:
        parts.append(f"CHAR_LENGTH({value}) <= {rule.max_len}")
    if rule.starts_with is not None:
        parts.append(f"{value} LIKE {_lit(rule.starts_with + '%')}")
    if rule.pattern is not None:
        # Java regex find() with \z: the same as Python's fullmatch (no final-newline leeway).
        parts.append(f"REGEXP({value}, {_lit('^(?:' + rule.pattern + ')' + chr(92) + 'z')})")
    return " AND ".join(parts)


# client_timestamp -> epoch ms, in SQL (the session time zone is UTC).
_TS = "v_client_timestamp"
_TS_SECONDS = f"UNIX_TIMESTAMP(SUBSTR({_TS}, 1, 19), 'yyyy-MM-dd''T''HH:mm:ss')"
_TS_ZONE = f"REGEXP_EXTRACT({_TS}, '(Z|[+-][0-9]{{2}}:[0-9]{{2}})$', 1)"
_TS_FRACTION = f"REGEXP_EXTRACT({_TS}, '\\.([0-9]{{1,9}})', 1)"
_TS_MILLIS = f"COALESCE(CAST(RPAD(SUBSTR({_TS_FRACTION}, 1, 3), 3, '0') AS BIGINT), 0)"
_ZONE_MINUTES = (
    f"CASE WHEN {_TS_ZONE} = 'Z' THEN 0 ELSE "
    f"(CASE WHEN SUBSTR({_TS_ZONE}, 1, 1) = '-' THEN -1 ELSE 1 END) * "
    f"(CAST(SUBSTR({_TS_ZONE}, 2, 2) AS BIGINT) * 60 + CAST(SUBSTR({_TS_ZONE}, 5, 2) AS BIGINT)) "
    "END"
)
# A real calendar instant: parsing and formatting back gives the same text (no Feb 30), and
# the zone offset is at most 23:59 (as Python's datetime requires).
_TS_CALENDAR_OK = (
    f"FROM_UNIXTIME({_TS_SECONDS}, 'yyyy-MM-dd''T''HH:mm:ss') = SUBSTR({_TS}, 1, 19)"
    f" AND ({_TS_ZONE} = 'Z' OR (CAST(SUBSTR({_TS_ZONE}, 2, 2) AS INT) <= 23"
    f" AND CAST(SUBSTR({_TS_ZONE}, 5, 2) AS INT) <= 59))"
)
EVENT_TIME_MS = f"({_TS_SECONDS} * 1000 + {_TS_MILLIS} - ({_ZONE_MINUTES}) * 60000)"


def validated_select(source_table: str, now_ms_sql: str) -> str:
    """SELECT from a table of raw ``line``s: ``reason`` (NULL when valid), fields, event time.

    ``now_ms_sql`` is processing time in epoch ms (a literal in replay, a function when
    streaming), for the ``future_timestamp`` check.
    """
    wrapped = ",\n    ".join(f"{_wrapped(f.name)} AS w_{f.name}" for f in contract.FIELDS)
    values = ",\n    ".join(
        f"JSON_VALUE(line, '$.{f.name}') AS v_{f.name}" for f in contract.FIELDS
    )
    checks = [
        f"WHEN NOT (line IS JSON) THEN {_lit(contract.MALFORMED_JSON)}",
        f"WHEN NOT (line IS JSON OBJECT) THEN {_lit(contract.NOT_OBJECT)}",
    ]
    for f in contract.REQUIRED:
        checks.append(
            f"WHEN w_{f.name} IS NULL OR w_{f.name} = '[\"\"]' "
            f"THEN {_lit(contract.missing(f.name))}"
        )
    for f in contract.FIELDS:
        ok = f"w_{f.name} LIKE '[\"%' AND {_rule_sql(f, 'v_' + f.name)}"
        if f.name == "client_timestamp":
            ok += f" AND {_TS_CALENDAR_OK}"
        present = "" if f.required else f"w_{f.name} IS NOT NULL AND "
        checks.append(f"WHEN {present}NOT ({ok}) THEN {_lit(contract.invalid(f.name))}")
    checks.append(
        f"WHEN {EVENT_TIME_MS} - ({now_ms_sql}) > {contract.MAX_FUTURE_MS} "
        f"THEN {_lit(contract.FUTURE_TIMESTAMP)}"
    )
    reason = "CASE\n      " + "\n      ".join(checks) + "\n      ELSE CAST(NULL AS STRING)\n    END"
    fields = ",\n  ".join(f"v_{f.name} AS {f.name}" for f in contract.FIELDS)
    return f"""SELECT
  line,
  {reason} AS reason,
  {fields},
  {EVENT_TIME_MS} AS event_time_ms
FROM (
  SELECT
    line,
    {wrapped},
    {values}
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
            """SELECT
  SUM(CASE WHEN k = 'accepted' THEN 1 ELSE 0 END) AS accepted,
  SUM(CASE WHEN k = 'invalid' THEN 1 ELSE 0 END) AS invalid,
  SUM(CASE WHEN k = 'valid' THEN 1 ELSE 0 END) - SUM(CASE WHEN k = 'deduped' THEN 1 ELSE 0 END)
    AS duplicates,
  SUM(CASE WHEN k = 'bot' THEN 1 ELSE 0 END) AS bot_events,
  CAST(0 AS BIGINT) AS late
FROM (
  SELECT 'accepted' AS k FROM human UNION ALL SELECT 'invalid' FROM invalid
  UNION ALL SELECT 'valid' FROM valid UNION ALL SELECT 'deduped' FROM deduped
  UNION ALL SELECT 'bot' FROM tagged WHERE is_bot
)""",
        ),
    ]


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
