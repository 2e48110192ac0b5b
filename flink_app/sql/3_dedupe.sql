-- Stage 3, dedupe: one event per event_id; the others are counted as duplicates (totals).

-- view deduped (replay): over the whole input, the earliest by event time (then raw text).
SELECT * FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY event_time_ms, line) AS rn
  FROM valid
) WHERE rn = 1;

-- view deduped (stream): the first to arrive (an insert-only operator). Its state lives for
-- the dedupe horizon after its last use (table.exec.state.ttl, in processing time).
SELECT * FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY pt) AS rn FROM valid
) WHERE rn = 1;
