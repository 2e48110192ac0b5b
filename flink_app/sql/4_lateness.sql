-- Stage 4, lateness: an event whose window or session is already closed is late: dead letter.
-- Streaming decides it from checkpointed state, not from the watermark's timing: max_seen_ms is
-- the largest event time seen so far, and an event is late when its window, or its session,
-- would already be closed by a watermark at max_seen_ms - the watermark delay. Flink's own
-- watermark does not run ahead of that bound (for the exceptions see docs/flink.md), so no
-- window drops an event silently, and a job restored from a checkpoint classifies exactly as
-- an uninterrupted run. After a quiet period
-- longer than the state TTL, max_seen_ms starts again from the next event; the watermark, which
-- is not state, then still holds the bound: an event is also late when the watermark has
-- passed the end of its window or session (where it would be dropped silently otherwise).

-- view seen (stream): the largest event time seen so far, and the current watermark.
SELECT *, MAX(event_time_ms) OVER (
  ORDER BY pt ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS max_seen_ms,
  CURRENT_WATERMARK(event_time) AS wm
FROM deduped;

-- view classified (stream): late when the earlier of its window's end and its session's end
-- (gap + 1 ms after it) is at or before max_seen_ms - the watermark delay, or the watermark wm.
SELECT *, closes_ms <= max_seen_ms - $watermark_delay_ms
  OR COALESCE(TO_TIMESTAMP_LTZ(closes_ms, 3) <= wm, FALSE) AS is_late
FROM (SELECT *, LEAST(ws + $window_ms, event_time_ms + $session_gap_ms + 1) - 1 AS closes_ms
      FROM seen);

-- view late (stream): the late events, as dead letters.
SELECT 'late' AS reason, line AS `raw` FROM classified WHERE is_late;

-- insert dead_letter (stream): each late event, with reason `late`.
INSERT INTO dead_letter SELECT reason, `raw` FROM late;

-- view on_time (replay): every event: nothing is late in a bounded replay (every window
-- fires at the end, and no watermark runs ahead of an event). From here on an event is the
-- fields the later stages read (not its raw text, which only the dead letter needs).
SELECT user_id, device_id, client_event, countrycode, page_url, event_time_ms, ws, second_ms
FROM deduped;

-- view on_time (stream): the events that are not late, with event time and processing time.
SELECT user_id, device_id, client_event, countrycode, page_url, event_time_ms, ws, second_ms,
  event_time, pt
FROM classified WHERE NOT is_late;
