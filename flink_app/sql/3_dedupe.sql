-- Stage 3, dedupe: one event per event_id; the others are duplicates, counted in the totals.

-- view ranked (replay): over the whole input, each event numbered within its event_id, the
-- earliest by event time first, then by the fields the pipeline reads (duplicates equal in all
-- of them are interchangeable; their raw text is not carried through the sort).
SELECT event_id, user_id, device_id, client_event, countrycode, page_url, event_time_ms, ws,
  second_ms, ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY event_time_ms, user_id,
  device_id, client_event, countrycode, page_url NULLS FIRST) AS arrival_no
FROM valid;

-- view ranked (stream): each event numbered within its event_id in order of arrival (an
-- insert-only OVER aggregate: a number, once emitted, never changes). Its state lives for the
-- dedupe horizon after its last use (table.exec.state.ttl, in processing time).
SELECT *, COUNT(*) OVER (PARTITION BY event_id ORDER BY pt
  ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS arrival_no
FROM valid;

-- view deduped: the first of each event_id.
SELECT * FROM ranked WHERE arrival_no = 1;

-- view duplicates: the others.
SELECT * FROM ranked WHERE arrival_no > 1;
