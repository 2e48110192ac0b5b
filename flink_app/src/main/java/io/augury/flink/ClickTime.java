package io.augury.flink;

import java.time.Instant;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.functions.ScalarFunction;
import org.apache.flink.types.Row;

/**
 * The event time of a valid click in epoch milliseconds, or 0 for an invalid one.
 *
 * <p>The streaming source declares its rowtime and watermark with this (a computed column
 * cannot read another computed column, so the source cannot reuse {@link ParseClick}'s row).
 * Invalid events get time 0: they never advance the watermark and go to the dead letter.
 * The streaming job judges validity as of the record's arrival (the {@code Instant} form), so a
 * record that was too far in the future when it arrived stays invalid when it is read again.
 */
public final class ClickTime extends ScalarFunction {
    private final ParseClick parser = new ParseClick();

    public long eval(String line, Long nowMs, String rulesJson) {
        Row parsed = parser.eval(line, nowMs, rulesJson);
        Object ms = parsed.getField(1);
        return parsed.getField(0) == null && ms != null ? (Long) ms : 0L;
    }

    public long eval(
            String line, @DataTypeHint("TIMESTAMP_LTZ(3)") Instant arrival, String rulesJson) {
        return eval(line, arrival == null ? null : arrival.toEpochMilli(), rulesJson);
    }
}
