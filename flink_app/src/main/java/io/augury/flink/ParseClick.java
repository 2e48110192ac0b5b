package io.augury.flink;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.functions.ScalarFunction;
import org.apache.flink.types.Row;

/**
 * Parses and validates one raw click event in a single pass: the hot path of the job.
 *
 * <p>The rules are not written here: they arrive as JSON generated from {@code augury/events.py}
 * (the one definition of the contract), and this class applies them in the contract's order,
 * giving the same single reason the Python validator gives. Output: {@code reason} (NULL when
 * valid), {@code event_time_ms}, and the field values in the rules' order.
 */
public final class ParseClick extends ScalarFunction {
    private static final ObjectMapper MAPPER =
            new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final ConcurrentHashMap<String, Rules> RULES = new ConcurrentHashMap<>();

    /** Validity as of the record's arrival (the streaming source's arrival time). */
    @DataTypeHint("ROW<reason STRING, event_time_ms BIGINT, `values` ARRAY<STRING>>")
    public Row eval(
            String line, @DataTypeHint("TIMESTAMP_LTZ(3)") Instant arrival, String rulesJson) {
        return eval(line, arrival == null ? null : arrival.toEpochMilli(), rulesJson);
    }

    @DataTypeHint("ROW<reason STRING, event_time_ms BIGINT, `values` ARRAY<STRING>>")
    public Row eval(String line, Long nowMs, String rulesJson) {
        Rules rules = RULES.computeIfAbsent(rulesJson, Rules::parse);
        String[] values = new String[rules.fields.size()];
        JsonNode doc;
        try {
            doc = line == null || line.isEmpty() ? null : MAPPER.readTree(line);
        } catch (Exception e) {
            doc = null;
        }
        if (doc == null || doc.isMissingNode()) {
            return Row.of(rules.malformedJson, null, values);
        }
        if (!doc.isObject()) {
            return Row.of(rules.notObject, null, values);
        }
        for (Field f : rules.fields) {
            if (f.required) {
                JsonNode v = doc.get(f.name);
                if (v == null || v.isNull() || (v.isTextual() && v.textValue().isEmpty())) {
                    return Row.of(f.missingReason, null, values);
                }
            }
        }
        long eventTime = 0;
        for (int i = 0; i < rules.fields.size(); i++) {
            Field f = rules.fields.get(i);
            JsonNode v = doc.get(f.name);
            if (v == null || v.isNull()) {
                continue; // optional and absent (required ones were checked above)
            }
            if (!v.isTextual() || !f.accepts(v.textValue())) {
                return Row.of(f.invalidReason, null, values);
            }
            values[i] = v.textValue();
            if (f.name.equals(rules.timestampField)) {
                Long ms = epochMillis(v.textValue());
                if (ms == null) {
                    return Row.of(f.invalidReason, null, values);
                }
                eventTime = ms;
            }
        }
        if (nowMs != null && eventTime - nowMs > rules.maxFutureMs) {
            return Row.of(rules.futureTimestamp, null, values);
        }
        return Row.of(null, eventTime, values);
    }

    private static final Pattern TIMESTAMP = Pattern.compile(
            "([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
                    + "(?:\\.([0-9]{1,9}))?(Z|[+-][0-9]{2}:[0-9]{2})");

    /** UTC epoch milliseconds of an ISO-8601 instant (fraction truncated), or null. */
    static Long epochMillis(String text) {
        Matcher m = TIMESTAMP.matcher(text);
        if (!m.matches()) {
            return null;
        }
        int year = Integer.parseInt(m.group(1));
        if (year < 1) {
            return null; // as Python's datetime
        }
        LocalDateTime local;
        try {
            local = LocalDateTime.of(year, Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)),
                    Integer.parseInt(m.group(4)), Integer.parseInt(m.group(5)), Integer.parseInt(m.group(6)));
        } catch (DateTimeException e) {
            return null;
        }
        int offsetMinutes = 0;
        String zone = m.group(8);
        if (!zone.equals("Z")) {
            int hh = Integer.parseInt(zone.substring(1, 3));
            int mm = Integer.parseInt(zone.substring(4, 6));
            if (hh > 23 || mm > 59) {
                return null;
            }
            offsetMinutes = (hh * 60 + mm) * (zone.charAt(0) == '-' ? -1 : 1);
        }
        String fraction = m.group(7) == null ? "0" : m.group(7);
        String ms = (fraction + "00").substring(0, 3);
        long seconds = local.toEpochSecond(ZoneOffset.UTC);
        return seconds * 1000 + Integer.parseInt(ms) - offsetMinutes * 60_000L;
    }

    static final class Field {
        final String name;
        final boolean required;
        final int minLen;
        final Integer maxLen;
        final Pattern pattern;
        final String startsWith;
        final String missingReason;
        final String invalidReason;

        Field(JsonNode f) {
            name = f.get("name").textValue();
            required = f.get("required").booleanValue();
            minLen = f.get("min_len").intValue();
            maxLen = f.get("max_len").isNull() ? null : f.get("max_len").intValue();
            pattern = f.get("pattern").isNull() ? null : Pattern.compile(f.get("pattern").textValue());
            startsWith = f.get("starts_with").isNull() ? null : f.get("starts_with").textValue();
            missingReason = f.get("missing_reason").textValue();
            invalidReason = f.get("invalid_reason").textValue();
        }

        boolean accepts(String value) {
            int len = value.codePointCount(0, value.length()); // Python's len()
            if (len < minLen || (maxLen != null && len > maxLen)) {
                return false;
            }
            if (startsWith != null && !value.startsWith(startsWith)) {
                return false;
            }
            return pattern == null || pattern.matcher(value).matches();
        }
    }

    static final class Rules {
        List<Field> fields = new ArrayList<>();
        String timestampField;
        long maxFutureMs;
        String malformedJson;
        String notObject;
        String futureTimestamp;

        static Rules parse(String json) {
            try {
                JsonNode doc = MAPPER.readTree(json);
                Rules r = new Rules();
                for (JsonNode f : doc.get("fields")) {
                    r.fields.add(new Field(f));
                }
                r.timestampField = doc.get("timestamp_field").textValue();
                r.maxFutureMs = doc.get("max_future_ms").longValue();
                r.malformedJson = doc.get("malformed_json").textValue();
                r.notObject = doc.get("not_object").textValue();
                r.futureTimestamp = doc.get("future_timestamp").textValue();
                return r;
            } catch (Exception e) {
                throw new IllegalArgumentException("bad rules JSON for ParseClick: " + e, e);
            }
        }
    }
}
