-- Stage 9, sinks: where the stages' INSERTs write. Redis is written by the job's own connector
-- (`augury-redis`, Java: pipelined batches, written every windows.early.fire.ms of processing
-- time and before every checkpoint completes, retried while Redis is away;
-- flink_app/src/main/java/io/augury/flink/redis);
-- the dead letter is JSON lines {"reason": ..., "raw": ...} in files.

-- table dead_letter: invalid and late lines, with their reason.
CREATE TEMPORARY TABLE dead_letter (reason STRING, `raw` STRING) WITH ($dead_letter_options);

-- table redis_windows: window results, early (`final` FALSE) or final: a window's `core` (n
-- events, users, bot_events), or the count n of one of its `hash` fields (evt:..., cc:...) or
-- `pages` members.
CREATE TEMPORARY TABLE redis_windows (
  ws BIGINT NOT NULL, `final` BOOLEAN NOT NULL, kind STRING NOT NULL, field STRING NOT NULL,
  n BIGINT, users BIGINT, bot_events BIGINT,
  PRIMARY KEY (ws, `final`, kind, field) NOT ENFORCED
) WITH ($redis_options, 'write' = 'windows');

-- table redis_sessions: closed sessions (their writer also counts the sessions started in each
-- window, from the sessions index, into the window's `sessions`).
CREATE TEMPORARY TABLE redis_sessions (
  user_id STRING, device_id STRING, start_ms BIGINT, end_ms BIGINT, events BIGINT,
  first_event STRING, last_event STRING, countrycode STRING
) WITH ($redis_options, 'write' = 'sessions', 'window' = '$window_ms ms');

-- table redis_totals: the totals, and since when the counting job's state began.
CREATE TEMPORARY TABLE redis_totals (
  $total_columns, since STRING NOT NULL, PRIMARY KEY (since) NOT ENFORCED
) WITH ($redis_options, 'write' = 'totals');
