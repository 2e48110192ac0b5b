-- Stage 2, validate: one JVM call per line (ParseClick, a table function) parses the JSON once and applies the
-- event contract's rules and limits (augury/events.py, passed in as $contract_rules) to the
-- record's bytes, in the contract's order, with its reasons. Invalid lines go to the dead letter
-- with the rule they break. From here on `line` is the record's text (p.text): bytes that are
-- not UTF-8 become U+FFFD, one per maximal ill-formed subsequence, as in Python.

-- view parsed (replay): every line, its fields, and reason (NULL when valid), as of the
-- replay's start (the raw archive carries no source arrival time), or of the HTTP collector's
-- arrival_ms stamp in the record when that is earlier (ParseClick applies it in both modes).
SELECT p.`text` AS line, p.reason AS reason, $contract_fields, p.event_time_ms AS event_time_ms
FROM arrived, LATERAL TABLE(parse_click(line, CAST($now_ms AS BIGINT), $contract_rules)) AS p;

-- view parsed (stream): the same as of each line's arrival, keeping the source's event time
-- and processing time.
SELECT p.`text` AS line, p.reason AS reason, $contract_fields, p.event_time_ms AS event_time_ms,
  event_time, pt
FROM arrived, LATERAL TABLE(parse_click(line, arrival_time, $contract_rules)) AS p;

-- view invalid: lines that break the contract.
SELECT reason, line AS `raw` FROM parsed WHERE reason IS NOT NULL;

-- insert dead_letter: each invalid line, with its reason.
INSERT INTO dead_letter SELECT reason, `raw` FROM invalid;

-- view valid: events that keep the contract, with the start of their window and second.
SELECT *, event_time_ms - MOD(event_time_ms, $window_ms) AS ws,
  event_time_ms - MOD(event_time_ms, 1000) AS second_ms
FROM parsed WHERE reason IS NULL;
