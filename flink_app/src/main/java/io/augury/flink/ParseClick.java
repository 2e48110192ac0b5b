package io.augury.flink;

import java.time.Instant;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.functions.TableFunction;
import org.apache.flink.types.Row;

/**
 * Parses and validates one raw click record in a single pass: the hot path of the job.
 *
 * <p>The contract is {@link ClickContract}, applied to the record's raw bytes (the source reads
 * records as BYTES), with the rules generated from {@code augury/events.py}: the same verdict
 * and reason as the Python validator for the same bytes (judged as of the record's arrival, or as
 * of the collector's arrival stamp in the record when that is earlier). Output: {@code reason}
 * (NULL when valid), {@code event_time_ms}, the field values in the rules' order, and
 * {@code text}, the record as text for the dead letter (U+FFFD for bytes that are not UTF-8).
 *
 * <p>A table function (one row out per record, {@code LATERAL TABLE(parse_click(...))}), so the
 * record is parsed once however many of its fields the job reads: the planner copies a scalar
 * function's call into each expression that reads a field of its result. It also says it is not
 * deterministic, which it is, only so that the planner keeps one call for every branch that reads
 * the result (the dead letter, the valid events) instead of one per branch.
 */
@FunctionHint(output = @DataTypeHint(
        "ROW<reason STRING, event_time_ms BIGINT, `values` ARRAY<STRING>, text STRING>"))
public final class ParseClick extends TableFunction<Row> {

    @Override
    public boolean isDeterministic() {
        return false;
    }

    /** Validity as of the record's arrival (the streaming source's arrival time). */
    public void eval(byte[] record, @DataTypeHint("TIMESTAMP_LTZ(3)") Instant arrival, String rulesJson) {
        eval(record, arrival == null ? null : arrival.toEpochMilli(), rulesJson);
    }

    /** Validity as of {@code nowMs} (a replay's start). */
    public void eval(byte[] record, Long nowMs, String rulesJson) {
        ClickContract.Verdict v = ClickContract.judge(rulesJson, record, nowMs);
        collect(Row.of(v.reason, v.reason == null ? v.eventTimeMs : null, v.values, v.text()));
    }
}
