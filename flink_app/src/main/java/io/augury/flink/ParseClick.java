package io.augury.flink;

import java.time.Instant;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.functions.ScalarFunction;
import org.apache.flink.types.Row;

/**
 * Parses and validates one raw click record in a single pass: the hot path of the job.
 *
 * <p>The contract is {@link ClickContract}, applied to the record's raw bytes (the source reads
 * records as BYTES), with the rules generated from {@code augury/events.py}: the same verdict
 * and reason as the Python validator for the same bytes. Output: {@code reason} (NULL when
 * valid), {@code event_time_ms}, the field values in the rules' order, and {@code text}, the
 * record as text for the dead letter (U+FFFD for bytes that are not UTF-8).
 */
public final class ParseClick extends ScalarFunction {
    static final String RESULT =
            "ROW<reason STRING, event_time_ms BIGINT, `values` ARRAY<STRING>, text STRING>";

    /** Validity as of the record's arrival (the streaming source's arrival time). */
    @DataTypeHint(RESULT)
    public Row eval(byte[] record, @DataTypeHint("TIMESTAMP_LTZ(3)") Instant arrival, String rulesJson) {
        return eval(record, arrival == null ? null : arrival.toEpochMilli(), rulesJson);
    }

    @DataTypeHint(RESULT)
    public Row eval(byte[] record, Long nowMs, String rulesJson) {
        ClickContract.Verdict v = ClickContract.of(rulesJson).check(record, nowMs);
        return Row.of(v.reason, v.reason == null ? v.eventTimeMs : null, v.values, v.text());
    }
}
