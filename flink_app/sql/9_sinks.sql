-- Stage 9, sinks: where the stages' INSERTs write. Redis is written by Python functions at the
-- very end of the job (flink_app/udfs.py: pipelined, idempotent batches), each feeding a
-- blackhole table; the dead letter is JSON lines {"reason": ..., "raw": ...} in files.

-- table dead_letter: invalid and late lines, with their reason.
CREATE TEMPORARY TABLE dead_letter (reason STRING, `raw` STRING) WITH ($dead_letter_options);

-- table sink_write_windows: windows' hashes (write_windows).
CREATE TEMPORARY TABLE sink_write_windows (n BIGINT) WITH ('connector' = 'blackhole');

-- table sink_write_window_dims: window fields and page counts (write_window_dims).
CREATE TEMPORARY TABLE sink_write_window_dims (n BIGINT) WITH ('connector' = 'blackhole');

-- table sink_write_sessions: sessions (write_sessions).
CREATE TEMPORARY TABLE sink_write_sessions (n BIGINT) WITH ('connector' = 'blackhole');

-- table sink_write_totals: the totals (write_totals).
CREATE TEMPORARY TABLE sink_write_totals (n BIGINT) WITH ('connector' = 'blackhole');
