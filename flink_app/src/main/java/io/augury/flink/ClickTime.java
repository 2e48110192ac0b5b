package io.augury.flink;

import java.time.Instant;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.functions.ScalarFunction;

/**
 * The event time of a valid click in epoch milliseconds, or 0 for an invalid one.
 *
 * <p>The streaming source declares its rowtime and watermark with this (a computed column
 * cannot read another computed column, so the source cannot reuse {@link ParseClick}'s row).
 * Invalid events get time 0: they never advance the watermark and go to the dead letter.
 * The streaming job judges validity as of the record's arrival (the {@code Instant} form), so a
 * record that was too far in the future when it arrived stays invalid when it is read again (a
 * record the HTTP collector stamped is judged as of its stamp when that is earlier).
 * Records are raw bytes, judged by {@link ClickContract} exactly as {@link ParseClick} judges them.
 */
public final class ClickTime extends ScalarFunction {
    public long eval(byte[] record, Long nowMs, String rulesJson) {
        ClickContract.Verdict v = ClickContract.judge(rulesJson, record, nowMs);
        return v.reason == null ? v.eventTimeMs : 0L;
    }

    public long eval(byte[] record, @DataTypeHint("TIMESTAMP_LTZ(3)") Instant arrival, String rulesJson) {
        return eval(record, arrival == null ? null : arrival.toEpochMilli(), rulesJson);
    }
}
