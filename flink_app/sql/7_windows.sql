-- Stage 7, windows: tumbling windows of $window_ms on event time (UTC, epoch-aligned), with
-- events, distinct users, bot events, and per-event-type, per-country and per-page counts (the
-- sessions started in each window are counted by the sessions' writer, from the sessions
-- index). A window's start is `ws`, computed once in the validate stage. Streaming writes each
-- window's counts so far as events arrive (early, speculative), then its final counts when the
-- watermark passes its end; a replay writes each window once, final.

-- view early_fields (stream): each event as it arrives, once per window result it counts in:
-- the window's `core` (events, users, bot events) and, while it counts as human so far (stage
-- 5's `provisional`), its event type and country (hash fields) and its page (a page count).
SELECT ev.ws, ev.user_id, ev.maybe_bot, f.kind, f.field
FROM provisional AS ev CROSS JOIN UNNEST(ARRAY[
  ROW('core', ''),
  ROW('hash', CONCAT($event_field_prefix, client_event)),
  ROW('hash', CONCAT($country_field_prefix, countrycode)),
  ROW('pages', page_url)]) AS f(kind, field)
WHERE f.field IS NOT NULL AND (f.kind = 'core' OR NOT ev.maybe_bot);

-- view window_early (stream): each window result so far, updated with every event (no waiting
-- for the watermark; the sink writes the newest every flush interval). Its state is kept for the
-- window and its delay after its last change, however short the dedupe horizon.
SELECT /*+ STATE_TTL('early_fields' = $early_state_ttl) */ ws, kind, field, COUNT(*) FILTER (WHERE NOT maybe_bot) AS n,
  COUNT(DISTINCT user_id) FILTER (WHERE kind = 'core' AND NOT maybe_bot) AS users,
  COUNT(*) FILTER (WHERE maybe_bot) AS bot_events
FROM early_fields GROUP BY ws, kind, field;

-- view final_fields: every event once per window result it counts in, with its final bot
-- verdict (bots too: a field seen early only in events that turn out to be bots gets a final
-- count of 0, which removes it).
SELECT ev.*, f.kind, f.field
FROM tagged AS ev CROSS JOIN UNNEST(ARRAY[
  ROW('core', ''),
  ROW('hash', CONCAT($event_field_prefix, client_event)),
  ROW('hash', CONCAT($country_field_prefix, countrycode)),
  ROW('pages', page_url)]) AS f(kind, field)
WHERE f.field IS NOT NULL;

-- view window_final (replay): every window result once, final: each window's core (events,
-- distinct users, bot events: from the users' seconds, fewer than the events), then the counts
-- of its fields.
SELECT second_ms - MOD(second_ms, $window_ms) AS ws, 'core' AS kind, '' AS field,
  COALESCE(SUM(n) FILTER (WHERE n <= $bot_threshold), 0) AS n,
  COUNT(DISTINCT user_id) FILTER (WHERE n <= $bot_threshold) AS users,
  COALESCE(SUM(n) FILTER (WHERE n > $bot_threshold), 0) AS bot_events
FROM per_second GROUP BY second_ms - MOD(second_ms, $window_ms)
UNION ALL
SELECT ws, kind, field, COUNT(*) FILTER (WHERE NOT is_bot), CAST(NULL AS BIGINT),
  CAST(NULL AS BIGINT)
FROM final_fields WHERE kind <> 'core' GROUP BY ws, kind, field;

-- view window_final (stream): each window result, once the watermark passes the window's end.
SELECT MIN(ws) AS ws, kind, field, COUNT(*) FILTER (WHERE NOT is_bot) AS n,
  COUNT(DISTINCT user_id) FILTER (WHERE kind = 'core' AND NOT is_bot) AS users,
  COUNT(*) FILTER (WHERE is_bot) AS bot_events
FROM TABLE(TUMBLE(TABLE final_fields, DESCRIPTOR(event_time), $window))
GROUP BY window_start, window_end, kind, field;

-- insert redis_windows (replay): every window result, final.
INSERT INTO redis_windows SELECT ws, TRUE, kind, field, n, users, bot_events FROM window_final;

-- insert redis_windows (stream): early results as they change, then final results, through one
-- writer: it keeps early results from going backwards or touching a final window, and lets the
-- first final result overwrite them (docs/redis.md).
INSERT INTO redis_windows
  SELECT ws, FALSE, kind, field, n, users, bot_events FROM window_early
UNION ALL
  SELECT ws, TRUE, kind, field, n, users, bot_events FROM window_final;
