-- Stage 5, bots: more than $bot_threshold events of one user in one event-time second make
-- every event of that second a bot event: counted, kept out of sessions and window metrics.

-- view per_second (replay): each user's events per second.
SELECT user_id, second_ms, COUNT(*) AS n FROM on_time GROUP BY user_id, second_ms;

-- view per_second (stream): a one-second TUMBLE window per user, final when the watermark
-- passes the second.
SELECT user_id, MIN(second_ms) AS second_ms, window_time AS second_time, COUNT(*) AS n
FROM TABLE(TUMBLE(TABLE on_time, DESCRIPTOR(event_time), INTERVAL '1' SECOND))
GROUP BY user_id, window_start, window_end, window_time;

-- view bot_seconds (replay): the seconds in which a user is a bot (few, next to every second).
SELECT user_id, second_ms FROM per_second WHERE n > $bot_threshold;

-- view tagged (replay): every event with is_bot: whether its second is a bot's (a join with the
-- few bot seconds, sent whole to the events rather than the events shuffled to them).
SELECT /*+ BROADCAST(bk) */ ev.*, bk.user_id IS NOT NULL AS is_bot
FROM on_time AS ev LEFT JOIN bot_seconds AS bk
  ON ev.user_id = bk.user_id AND ev.second_ms = bk.second_ms;

-- view tagged (stream): the same through an interval join on event time. An event that arrives
-- after the watermark passed its second (more than the delay out of order, yet not late for
-- its window) is not counted in that second's total.
SELECT ev.*, COALESCE(bk.n, 0) > $bot_threshold AS is_bot
FROM on_time AS ev LEFT JOIN per_second AS bk
  ON ev.user_id = bk.user_id AND bk.second_ms = ev.second_ms
 AND bk.second_time BETWEEN ev.event_time AND ev.event_time + INTERVAL '1' SECOND;

-- view human: the events that count.
SELECT * FROM tagged WHERE NOT is_bot;

-- view provisional (stream): every on-time event as soon as it arrives, with its verdict so far:
-- a bot once its user has more than $bot_threshold events in its second so far. The early
-- results count these (so they need not wait for the watermark); the first $bot_threshold events
-- of a bot's second count as human there until the window's final result replaces them.
SELECT *, COUNT(*) OVER (PARTITION BY user_id, second_ms ORDER BY pt
  ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) > $bot_threshold AS maybe_bot
FROM on_time;
