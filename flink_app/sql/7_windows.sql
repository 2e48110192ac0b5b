-- Stage 7, windows: tumbling windows of $window_ms on event time (UTC, epoch-aligned), with
-- events, distinct users, sessions started, bot events, and per-event-type, per-country and
-- per-page counts. A window's start is `ws`, computed once in the validate stage.

-- view window_core (replay): every window once, final.
SELECT ws, SUM(events) AS events, SUM(users) AS users, SUM(sessions) AS sessions,
  SUM(bot_events) AS bot_events
FROM (
    SELECT ws, COUNT(*) AS events, COUNT(DISTINCT user_id) AS users, 0 AS sessions,
      0 AS bot_events
    FROM human GROUP BY ws
  UNION ALL
    SELECT start_ws, 0, 0, COUNT(*), 0 FROM sessions GROUP BY start_ws
  UNION ALL
    SELECT ws, 0, 0, 0, COUNT(*) FROM tagged WHERE is_bot GROUP BY ws
) GROUP BY ws;

-- view window_core (stream): CUMULATE windows: the counts so far every $early_fire of event
-- time (final = FALSE), then the whole window's (final = TRUE). Sessions are counted as they
-- close, by window_sessions below.
SELECT MIN(ws) AS ws, COUNT(*) FILTER (WHERE NOT is_bot) AS events,
  COUNT(DISTINCT user_id) FILTER (WHERE NOT is_bot) AS users,
  COUNT(*) FILTER (WHERE is_bot) AS bot_events,
  TIMESTAMPDIFF(SECOND, window_start, window_end) * 1000 = $window_ms AS `final`
FROM TABLE(CUMULATE(TABLE tagged, DESCRIPTOR(event_time), $early_fire, $window))
GROUP BY window_start, window_end;

-- insert sink_write_windows (replay): each window's hash, final.
INSERT INTO sink_write_windows
SELECT write_windows(ws, events, users, sessions, bot_events, TRUE) FROM window_core;

-- insert sink_write_windows (stream): each early and final result; `sessions` is left to
-- window_sessions (NULL).
INSERT INTO sink_write_windows
SELECT write_windows(ws, events, users, CAST(NULL AS BIGINT), bot_events, `final`)
FROM window_core;

-- view window_dims (replay): per-event-type and per-country fields, and page counts.
SELECT ws, CONCAT($event_field_prefix, client_event) AS field_name, COUNT(*) AS n,
    'hash' AS kind
  FROM human GROUP BY ws, client_event
UNION ALL
  SELECT ws, CONCAT($country_field_prefix, countrycode), COUNT(*), 'hash'
  FROM human GROUP BY ws, countrycode
UNION ALL
  SELECT ws, page_url, COUNT(*), 'pages'
  FROM human WHERE page_url IS NOT NULL GROUP BY ws, page_url;

-- view window_dims (stream): the same over CUMULATE windows, early then final.
SELECT MIN(ws) AS ws, CONCAT($event_field_prefix, client_event) AS field_name, COUNT(*) AS n,
    'hash' AS kind
  FROM TABLE(CUMULATE(TABLE human, DESCRIPTOR(event_time), $early_fire, $window))
  GROUP BY window_start, window_end, client_event
UNION ALL
  SELECT MIN(ws), CONCAT($country_field_prefix, countrycode), COUNT(*), 'hash'
  FROM TABLE(CUMULATE(TABLE human, DESCRIPTOR(event_time), $early_fire, $window))
  GROUP BY window_start, window_end, countrycode
UNION ALL
  SELECT MIN(ws), page_url, COUNT(*), 'pages'
  FROM TABLE(CUMULATE(TABLE human, DESCRIPTOR(event_time), $early_fire, $window))
  WHERE page_url IS NOT NULL
  GROUP BY window_start, window_end, page_url;

-- insert sink_write_window_dims: window fields and page counts.
INSERT INTO sink_write_window_dims
SELECT write_window_dims(ws, field_name, n, kind) FROM window_dims;

-- view window_sessions (stream): sessions started in each window, counted as they close. A
-- session may close long after its window, after any quiet period: the count's state lives
-- as long as the window's results do in Redis (the hint), not for the dedupe horizon.
SELECT /*+ STATE_TTL('sessions' = $result_ttl) */
  start_ws AS ws, 'sessions' AS field_name, COUNT(*) AS n, 'hash' AS kind
FROM sessions GROUP BY start_ws;

-- insert sink_write_window_dims (stream): each window's `sessions` field.
INSERT INTO sink_write_window_dims
SELECT write_window_dims(ws, field_name, n, kind) FROM window_sessions;
