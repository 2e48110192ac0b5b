-- Stage 8, totals: pipeline-wide counts of every record read, by what became of it. Their sum
-- is every record the job read: accepted + invalid + duplicates + bot_events + late.

-- view tags (replay): one tag per record, for what became of it.
SELECT 'invalid' AS k FROM invalid UNION ALL SELECT 'duplicate' FROM duplicates
UNION ALL SELECT CASE WHEN is_bot THEN 'bot' ELSE 'accepted' END FROM tagged;

-- view tags (stream): the same, and late events.
SELECT 'invalid' AS k FROM invalid UNION ALL SELECT 'duplicate' FROM duplicates
UNION ALL SELECT 'late' FROM late
UNION ALL SELECT CASE WHEN is_bot THEN 'bot' ELSE 'accepted' END FROM tagged;

-- view totals: the counts (the hint keeps their state beyond the dedupe horizon), and since
-- when: the time of the first record the state counted, kept in the checkpoints, so a restored
-- job counts on and a job started without state starts new totals. Each count is of one tag,
-- so each only grows: the newest value of a counter is its largest, and the streaming sink
-- never writes a smaller one (a retraction, or an older update that reaches Redis late).
SELECT /*+ STATE_TTL('tags' = '36500d') */
  SUM(CASE WHEN k = 'accepted' THEN 1 ELSE 0 END) AS accepted,
  SUM(CASE WHEN k = 'invalid' THEN 1 ELSE 0 END) AS invalid,
  SUM(CASE WHEN k = 'duplicate' THEN 1 ELSE 0 END) AS duplicates,
  SUM(CASE WHEN k = 'bot' THEN 1 ELSE 0 END) AS bot_events,
  SUM(CASE WHEN k = 'late' THEN 1 ELSE 0 END) AS late,
  CAST(MIN(CURRENT_TIMESTAMP) AS STRING) AS since
FROM tags;

-- insert redis_totals: the totals hash (each batch's newest values; streaming: never lowered).
INSERT INTO redis_totals SELECT $total_fields, since FROM totals;
