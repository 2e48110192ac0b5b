-- Stage 1, source: the raw records, one line each, as the producer sent them.
-- Streaming adds the arrival time the source knows (Kinesis's ApproximateArrivalTimestamp, a
-- file's modification time), event time (the contract's client_timestamp of a line valid as of
-- its arrival, or of the collector's earlier arrival_ms stamp in the line; 0 for an invalid
-- one, so it never moves the watermark), a watermark that trails the largest event time by the
-- watermark delay, and processing time (the order of arrival).
-- Validity is judged as of arrival, not of reading: a record that was too far in the future when
-- it arrived stays invalid when it is read again (a restore, a catch-up from TRIM_HORIZON), so
-- it can never move the watermark ahead of every other event.

-- table raw_lines (replay): bounded input; in BATCH mode every window fires at the end. Lines
-- are read as BYTES, as streaming reads records: a replayed record gets the verdict it got
-- when it streamed, invalid UTF-8 included.
CREATE TEMPORARY TABLE raw_lines (
  line BYTES
) WITH ($source_options);

-- table raw_lines (stream): unbounded input with event time and a watermark. Each record is
-- read as BYTES, exactly as it arrived: the contract judges the raw bytes (invalid UTF-8,
-- a record too large), and stage 2 turns them into text.
CREATE TEMPORARY TABLE raw_lines (
  line BYTES,
  arrival_time TIMESTAMP_LTZ(3) METADATA FROM $arrival_metadata VIRTUAL,
  event_time AS TO_TIMESTAMP_LTZ(click_time(line, arrival_time, $contract_rules), 3),
  pt AS PROCTIME(),
  WATERMARK FOR event_time AS event_time - $watermark_delay
) WITH ($source_options);

-- view arrived (replay): every record of the archive, one row each (split_records, Java): a
-- line of JSON objects back to back (`{...}{...}`, from a producer that sent no newline) gives
-- one row per object; a blank line (Firehose's AppendDelimiterToRecord after a record that had
-- its own newline) gives none; any other line is kept as it is, for stage 2 to judge.
SELECT r.record AS line FROM raw_lines, LATERAL TABLE(split_records(raw_lines.line)) AS r(record);

-- view arrived (stream): the lines that arrived from source.skip.arrived.before.ms on (0: all).
SELECT * FROM raw_lines WHERE arrival_time >= TO_TIMESTAMP_LTZ($skip_arrived_before_ms, 3);
