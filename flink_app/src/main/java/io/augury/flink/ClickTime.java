package io.augury.flink;

import org.apache.flink.types.Row;
import org.apache.flink.table.functions.ScalarFunction;

/**
 * The event time of a valid click in epoch milliseconds, or 0 for an invalid one.
 *
 * <p>The streaming source declares its rowtime and watermark with this (a computed column
 * cannot read another computed column, so the source cannot reuse {@link ParseClick}'s row).
 * Invalid events get time 0: they never advance the watermark and go to the dead letter.
 */
public final class ClickTime extends ScalarFunction {
    private final ParseClick parser = new ParseClick();

    public long eval(String line, Long nowMs, String rulesJson) {
        Row parsed = parser.eval(line, nowMs, rulesJson);
        Object ms = parsed.getField(1);
        return parsed.getField(0) == null && ms != null ? (Long) ms : 0L;
    }
}
