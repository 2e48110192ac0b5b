"""The replay's computation in DuckDB: a second baseline for ``bench/flink_replay.py``.

What a user would reach for to backfill: the same file, the same stages as SQL (validate,
dedupe, bots, sessions, one-minute windows with users, event types, countries and pages), run
by an embedded engine on the machine's cores, with the results left in tables (no Redis). The
validation is the contract's field rules (``augury.events.FIELDS``) and its future limit, not
all of it (no JSON limits, types or duplicate keys): the Flink job's contract is stricter.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from augury import events as contract
from augury.settings import PipelineSettings

SETTINGS = PipelineSettings.from_env()
COLUMNS = ("event_id", "user_id", "device_id", "client_event", "countrycode", "page_url")


def field_rules() -> str:
    """The contract's field rules (``augury.events.FIELDS``) on the parsed columns, as SQL."""
    conditions = []
    for rule in contract.FIELDS:
        if rule.name not in COLUMNS:
            continue
        parts = [f"length({rule.name}) >= {rule.min_len}"]
        if rule.max_len is not None:
            parts.append(f"length({rule.name}) <= {rule.max_len}")
        if rule.pattern is not None:
            parts.append(f"regexp_full_match({rule.name}, '{rule.pattern}')")
        if rule.starts_with is not None:
            parts.append(f"starts_with({rule.name}, '{rule.starts_with}')")
        both = " AND ".join(parts)
        conditions.append(f"({both})" if rule.required else f"({rule.name} IS NULL OR ({both}))")
    return " AND ".join(conditions)


STAGES = """
CREATE TEMP TABLE raw AS
  SELECT line FROM read_csv('{path}', columns={{'line': 'VARCHAR'}}, delim='\\x01',
    quote='', escape='', header=false, auto_detect=false, strict_mode=false);

CREATE TEMP TABLE parsed AS
  SELECT j->>'event_id' AS event_id, j->>'user_id' AS user_id, j->>'device_id' AS device_id,
    j->>'client_event' AS client_event, j->>'countrycode' AS countrycode,
    j->>'page_url' AS page_url,
    epoch_ms(TRY_CAST(j->>'client_timestamp' AS TIMESTAMPTZ)) AS t
  FROM (SELECT CASE WHEN json_valid(line) THEN line::JSON END AS j FROM raw)
  WHERE j IS NOT NULL AND json_type(j) = 'OBJECT';

CREATE TEMP TABLE valid AS
  SELECT * FROM parsed
  WHERE {field_rules} AND t IS NOT NULL AND t <= {now_ms} + {max_future_ms};

CREATE TEMP TABLE deduped AS
  SELECT * EXCLUDE (rn) FROM (
    SELECT *, row_number() OVER (PARTITION BY event_id ORDER BY t, user_id, device_id,
      client_event, countrycode, page_url NULLS FIRST) AS rn FROM valid)
  WHERE rn = 1;

CREATE TEMP TABLE tagged AS
  SELECT *, count(*) OVER (PARTITION BY user_id, t // 1000) > {bot_threshold} AS is_bot,
    t - t % {window_ms} AS ws
  FROM deduped;

CREATE TEMP TABLE sessions AS
  SELECT user_id, device_id, min(t) AS start_ms, max(t) AS end_ms, count(*) AS events,
    arg_min(client_event, t) AS first_event, arg_max(client_event, t) AS last_event,
    arg_min(countrycode, t) AS countrycode
  FROM (SELECT *, sum(new) OVER (PARTITION BY user_id, device_id ORDER BY t) AS session_no
        FROM (SELECT *, CASE WHEN t - lag(t) OVER (PARTITION BY user_id, device_id ORDER BY t)
                             <= {gap_ms} THEN 0 ELSE 1 END AS new
              FROM tagged WHERE NOT is_bot))
  GROUP BY user_id, device_id, session_no;

CREATE TEMP TABLE windows AS
  SELECT ws, count(*) FILTER (WHERE NOT is_bot) AS events,
    count(DISTINCT user_id) FILTER (WHERE NOT is_bot) AS users,
    count(*) FILTER (WHERE is_bot) AS bot_events
  FROM tagged GROUP BY ws;

CREATE TEMP TABLE window_fields AS
  SELECT ws, 'evt:' || client_event AS field, count(*) AS n
    FROM tagged WHERE NOT is_bot GROUP BY ALL
  UNION ALL SELECT ws, 'cc:' || countrycode, count(*) FROM tagged WHERE NOT is_bot GROUP BY ALL
  UNION ALL SELECT ws, page_url, count(*) FROM tagged
    WHERE NOT is_bot AND page_url IS NOT NULL GROUP BY ALL;
"""


def replay(path: Path, threads: int | None = None) -> dict[str, Any]:
    """Run the stages over ``path``; the seconds taken and each table's row count."""
    import duckdb

    started = time.perf_counter()
    con = duckdb.connect(config={"threads": threads or os.cpu_count() or 1})
    con.execute("SET enable_progress_bar = false")
    con.execute(STAGES.format(path=str(path).replace("'", "''"), now_ms=int(time.time() * 1000),
                              field_rules=field_rules(), max_future_ms=contract.MAX_FUTURE_MS,
                              bot_threshold=SETTINGS.bot_threshold, window_ms=SETTINGS.window_ms,
                              gap_ms=SETTINGS.session_gap_ms))  # fmt: skip
    tables = ("raw", "valid", "deduped", "sessions", "windows", "window_fields")
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
              for t in tables}  # fmt: skip
    con.close()
    return {"seconds": time.perf_counter() - started, "rows": counts}
