-- Stage 6, sessions: per (user_id, device_id), a gap of more than $session_gap_ms between two
-- events starts a new session. first_event, last_event and countrycode come from the earliest
-- and latest events; events in the same millisecond are ordered by the value itself.

-- view keyed: events with a sortable text form of their time (zero-padded), so that MIN/MAX of
-- CONCAT(time_key, value) pick the earliest/latest value, ties broken by the value.
SELECT *, LPAD(CAST(event_time_ms AS STRING), 20, '0') AS time_key FROM human;

-- view session_events (replay): each event numbered with its session (LAG over event time;
-- SESSION windows are not available in BATCH mode).
SELECT *, SUM(CASE WHEN prev_ms IS NULL OR event_time_ms - prev_ms > $session_gap_ms
  THEN 1 ELSE 0 END) OVER (PARTITION BY user_id, device_id ORDER BY event_time_ms
  ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS session_no
FROM (
  SELECT user_id, device_id, client_event, countrycode, event_time_ms, ws, time_key,
    LAG(event_time_ms) OVER (PARTITION BY user_id, device_id ORDER BY event_time_ms) AS prev_ms
  FROM keyed
);

-- view session_events (stream): SESSION windows with gap + 1 ms (the window is half-open, so
-- events exactly the gap apart stay in one session); a session is emitted when it closes.
SELECT * FROM TABLE(SESSION(TABLE keyed PARTITION BY (user_id, device_id),
  DESCRIPTOR(event_time), $session_window_gap));

-- view sessions (replay): one row per session.
SELECT user_id, device_id, MIN(event_time_ms) AS start_ms, MAX(event_time_ms) AS end_ms,
  COUNT(*) AS events, MIN(ws) AS start_ws,
  SUBSTR(MIN(CONCAT(time_key, client_event)), 21) AS first_event,
  SUBSTR(MAX(CONCAT(time_key, client_event)), 21) AS last_event,
  SUBSTR(MIN(CONCAT(time_key, countrycode)), 21) AS countrycode
FROM session_events GROUP BY user_id, device_id, session_no;

-- view sessions (stream): one row per session window.
SELECT user_id, device_id, MIN(event_time_ms) AS start_ms, MAX(event_time_ms) AS end_ms,
  COUNT(*) AS events, MIN(ws) AS start_ws,
  SUBSTR(MIN(CONCAT(time_key, client_event)), 21) AS first_event,
  SUBSTR(MAX(CONCAT(time_key, client_event)), 21) AS last_event,
  SUBSTR(MIN(CONCAT(time_key, countrycode)), 21) AS countrycode
FROM session_events GROUP BY user_id, device_id, window_start, window_end;

-- insert redis_sessions: each session's hash and its place in the sorted sets.
INSERT INTO redis_sessions SELECT user_id, device_id, start_ms, end_ms, events, first_event,
  last_event, countrycode FROM sessions;
