package io.augury.flink;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.time.DateTimeException;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The click event contract on one record's raw bytes, in plain Java (no Flink).
 *
 * <p>The rules and limits are not written here: they arrive as JSON generated from
 * {@code augury/events.py} (the one definition of the contract), and {@link #check} applies
 * them in the contract's order, giving the reason Python's {@code validate} gives for the same
 * bytes. {@link ParseClick} and {@link ClickTime} are its Flink faces; {@link ContractCheck} runs
 * it over records on stdin for the tests.
 */
public final class ClickContract {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final ConcurrentHashMap<String, ClickContract> BY_RULES = new ConcurrentHashMap<>();
    /**
     * Strict JSON (RFC 8259, as Python's decoder): Jackson's defaults, with its own limits lifted
     * so that only the contract's limits, checked in {@link #parse}, decide; field names are not
     * interned (random keys would fill the symbol table and could fail on hash collisions).
     */
    private static final JsonFactory JSON = JsonFactory.builder()
            .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES)
            .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxNestingDepth(Integer.MAX_VALUE)
                    .maxNumberLength(Integer.MAX_VALUE)
                    .maxStringLength(Integer.MAX_VALUE)
                    .maxNameLength(Integer.MAX_VALUE)
                    .maxDocumentLength(0) // unlimited
                    .build())
            .build();
    private static final Set<String> NO_KEYS = Collections.emptySet(); // an array's
    private static final byte ABSENT = 0;
    private static final byte NULL = 1;
    private static final byte STRING = 2;
    private static final byte OTHER = 3;

    /** The outcome: {@code reason} (null when valid), event time, and the fields' values. */
    public static final class Verdict {
        public final String reason;
        /** Event time in epoch milliseconds (valid records only; 0 otherwise). */
        public final long eventTimeMs;
        /** The contract's string fields in rule order, as far as validation got. */
        public final String[] values;
        private final byte[] record;
        private final char[] chars;
        private final int length;

        Verdict(String reason, long eventTimeMs, String[] values, byte[] record, char[] chars, int length) {
            this.reason = reason;
            this.eventTimeMs = eventTimeMs;
            this.values = values;
            this.record = record;
            this.chars = chars;
            this.length = length;
        }

        /**
         * The record as text, as the dead letter carries it: bytes that are not UTF-8 become
         * U+FFFD, one per maximal ill-formed subsequence (Python's {@code errors="replace"}).
         */
        public String text() {
            if (chars != null) {
                return new String(chars, 0, length);
            }
            if (record == null) {
                return null;
            }
            char[] out = new char[record.length];
            return new String(out, 0, decodeUtf8(record, out, false));
        }
    }

    private final List<Field> fields = new ArrayList<>();
    private final Map<String, Integer> fieldIndex = new HashMap<>();
    private final String timestampField;
    /** The index in {@link #fields} of the collector's arrival stamp (the rules' arrival_field). */
    private final int arrivalIndex;
    private final long maxFutureMs;
    private final long minEventTimeMs;
    private final long maxEventTimeMs;
    private final int maxRecordBytes;
    private final int maxDepth;
    private final int maxNumberChars;
    private final String recordTooLarge;
    private final String invalidUtf8;
    private final String malformedJson;
    private final String loneSurrogate;
    private final String duplicateKey;
    private final String notObject;
    private final String futureTimestamp;

    private ClickContract(JsonNode doc) {
        for (JsonNode f : doc.get("fields")) {
            fieldIndex.put(f.get("name").textValue(), fields.size());
            fields.add(new Field(f));
        }
        timestampField = doc.get("timestamp_field").textValue();
        String arrivalField = doc.get("arrival_field").textValue();
        Integer arrival = fieldIndex.get(arrivalField);
        if (arrival == null) {
            throw new IllegalArgumentException("arrival_field is not one of the fields: " + arrivalField);
        }
        arrivalIndex = arrival;
        maxFutureMs = doc.get("max_future_ms").longValue();
        minEventTimeMs = doc.get("min_event_time_ms").longValue();
        maxEventTimeMs = doc.get("max_event_time_ms").longValue();
        maxRecordBytes = doc.get("max_record_bytes").intValue();
        maxDepth = doc.get("max_depth").intValue();
        maxNumberChars = doc.get("max_number_chars").intValue();
        recordTooLarge = doc.get("record_too_large").textValue();
        invalidUtf8 = doc.get("invalid_utf8").textValue();
        malformedJson = doc.get("malformed_json").textValue();
        loneSurrogate = doc.get("lone_surrogate").textValue();
        duplicateKey = doc.get("duplicate_key").textValue();
        notObject = doc.get("not_object").textValue();
        futureTimestamp = doc.get("future_timestamp").textValue();
    }

    /** The contract for a rules JSON (as {@code flink_app/contract.py} writes it), cached. */
    public static ClickContract of(String rulesJson) {
        return BY_RULES.computeIfAbsent(rulesJson, json -> {
            try {
                return new ClickContract(MAPPER.readTree(json));
            } catch (IOException | RuntimeException e) {
                throw new IllegalArgumentException("bad rules JSON for the click contract: " + e, e);
            }
        });
    }

    /** What this thread judged last: the functions of one record run one after the other. */
    private static final class Last {
        String rulesJson;
        ClickContract contract;
        byte[] record;
        Long nowMs;
        Verdict verdict;
    }

    private static final ThreadLocal<Last> LAST = ThreadLocal.withInitial(Last::new);

    /**
     * The verdict on {@code record} as of {@code nowMs} under {@code rulesJson}: the streaming job
     * asks twice for each record (its event time for the watermark, then its fields), so the
     * thread's last verdict is kept and given again for the same bytes and time; the rules are
     * looked up once per thread, not once per record.
     */
    public static Verdict judge(String rulesJson, byte[] record, Long nowMs) {
        Last last = LAST.get();
        if (last.rulesJson != rulesJson && !rulesJson.equals(last.rulesJson)) {
            last.contract = of(rulesJson);
            last.rulesJson = rulesJson;
            last.record = null;
        }
        if (last.record != null && java.util.Objects.equals(last.nowMs, nowMs)
                && java.util.Arrays.equals(last.record, record)) {
            return last.verdict;
        }
        Verdict v = last.contract.check(record, nowMs);
        last.record = record == null ? null : record.clone();
        last.nowMs = nowMs;
        last.verdict = v;
        return v;
    }

    /** The number of string fields a {@link Verdict} carries. */
    public int fieldCount() {
        return fields.size();
    }

    /**
     * Validate one record's bytes as of {@code nowMs} (its arrival; null: no future rule), or as
     * of the record's own arrival stamp (the rules' {@code arrival_field}) when that is valid and
     * earlier (with a null {@code nowMs}, as of the stamp when there is one).
     */
    public Verdict check(byte[] record, Long nowMs) {
        String[] values = new String[fields.size()];
        if (record == null) {
            return new Verdict(malformedJson, 0, values, null, null, 0);
        }
        int size = record.length;
        while (size > 0 && (record[size - 1] == '\n' || record[size - 1] == '\r')) {
            size--; // the line ending does not count: the same verdict framed or not
        }
        if (size > maxRecordBytes) {
            return new Verdict(recordTooLarge, 0, values, record, null, 0);
        }
        char[] chars = new char[record.length];
        int length = decodeUtf8(record, chars, true);
        if (length < 0) {
            return new Verdict(invalidUtf8, 0, values, record, null, 0);
        }
        for (int i = 0; i < size; i++) {
            if (record[i] == '\n' || record[i] == '\r') {
                // one record, one line: the raw archive is read line by line
                return new Verdict(malformedJson, 0, values, record, chars, length);
            }
        }
        String[] texts = new String[fields.size()];
        byte[] kinds = new byte[fields.size()];
        String reason = parse(chars, length, texts, kinds);
        if (reason != null) {
            return new Verdict(reason, 0, values, record, chars, length);
        }
        for (int i = 0; i < fields.size(); i++) {
            Field f = fields.get(i);
            if (f.required && (kinds[i] == ABSENT || kinds[i] == NULL
                    || (kinds[i] == STRING && texts[i].isEmpty()))) {
                return new Verdict(f.missingReason, 0, values, record, chars, length);
            }
        }
        long eventTime = 0;
        Long judgedAt = nowMs;
        for (int i = 0; i < fields.size(); i++) {
            Field f = fields.get(i);
            if (kinds[i] == ABSENT || kinds[i] == NULL) {
                continue; // optional and absent (required ones were checked above)
            }
            if (kinds[i] != STRING || !f.accepts(texts[i])) {
                return new Verdict(f.invalidReason, 0, values, record, chars, length);
            }
            values[i] = texts[i];
            if (f.name.equals(timestampField)) {
                Long ms = epochMillis(texts[i]);
                if (ms == null) {
                    return new Verdict(f.invalidReason, 0, values, record, chars, length);
                }
                eventTime = ms;
            } else if (i == arrivalIndex) {
                long stamp = Long.parseLong(texts[i]); // its rule: 1-15 ASCII digits
                if (judgedAt == null || stamp < judgedAt) {
                    judgedAt = stamp; // the collector received it then
                }
            }
        }
        if (judgedAt != null && eventTime - judgedAt > maxFutureMs) {
            return new Verdict(futureTimestamp, 0, values, record, chars, length);
        }
        if (judgedAt != null && eventTime > judgedAt) {
            eventTime = judgedAt; // the clock-skew rule: no event is later than its arrival
        }
        return new Verdict(null, eventTime, values, record, chars, length);
    }

    /**
     * Parse the JSON; null when the contract accepts it as a JSON object, else the reason.
     * Fills {@code texts}/{@code kinds} with the root object's contract fields.
     */
    private String parse(char[] chars, int length, String[] texts, byte[] kinds) {
        if (length > 0 && chars[0] == '\uFEFF') {
            return malformedJson; // a byte order mark is not JSON (Python's decoder agrees)
        }
        boolean lone = false;
        boolean duplicate = false;
        boolean rootObject;
        try (JsonParser p = JSON.createParser(chars, 0, length)) {
            JsonToken t = p.nextToken();
            if (t == null) {
                return malformedJson;
            }
            rootObject = t == JsonToken.START_OBJECT;
            ArrayDeque<Set<String>> keys = new ArrayDeque<>();
            int depth = 0;
            int field = -1; // the root object's contract field whose value comes next
            while (true) {
                byte kind = OTHER;
                switch (t) {
                    case START_OBJECT:
                    case START_ARRAY:
                        if (++depth > maxDepth) {
                            return malformedJson;
                        }
                        keys.push(t == JsonToken.START_OBJECT ? new HashSet<>() : NO_KEYS);
                        break;
                    case END_OBJECT:
                    case END_ARRAY:
                        depth--;
                        keys.pop();
                        break;
                    case FIELD_NAME:
                        String name = p.currentName();
                        lone |= hasLoneSurrogate(name);
                        duplicate |= !keys.peek().add(name);
                        if (depth == 1 && rootObject) {
                            Integer i = fieldIndex.get(name);
                            field = i == null ? -1 : i;
                        }
                        t = p.nextToken();
                        continue; // its value is the next token
                    case VALUE_STRING:
                        kind = STRING;
                        lone |= hasLoneSurrogate(p.getTextCharacters(), p.getTextOffset(), p.getTextLength());
                        break;
                    case VALUE_NUMBER_INT:
                    case VALUE_NUMBER_FLOAT:
                        if (p.getTextLength() > maxNumberChars) {
                            return malformedJson;
                        }
                        break;
                    case VALUE_NULL:
                        kind = NULL;
                        break;
                    case VALUE_TRUE:
                    case VALUE_FALSE:
                        break;
                    default:
                        return malformedJson;
                }
                if (field >= 0) {
                    kinds[field] = kind;
                    texts[field] = kind == STRING ? p.getText() : null;
                    field = -1;
                }
                if (depth == 0) {
                    break;
                }
                t = p.nextToken();
                if (t == null) {
                    return malformedJson;
                }
            }
            if (p.nextToken() != null) {
                return malformedJson; // more after the value
            }
        } catch (IOException e) {
            return malformedJson;
        }
        if (lone) {
            return loneSurrogate;
        }
        if (duplicate) {
            return duplicateKey;
        }
        return rootObject ? null : notObject;
    }

    private static final Pattern TIMESTAMP = Pattern.compile(
            "([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
                    + "(?:\\.([0-9]{1,9}))?(Z|[+-][0-9]{2}:[0-9]{2})");

    /**
     * UTC epoch milliseconds of an ISO-8601 instant (fraction truncated), or null: not the
     * pattern, no such local date or time (years 0001-9999), an offset beyond 23:59, or an
     * instant outside the contract's range.
     */
    Long epochMillis(String text) {
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
        long epochMs = seconds * 1000 + Integer.parseInt(ms) - offsetMinutes * 60_000L;
        return epochMs < minEventTimeMs || epochMs > maxEventTimeMs ? null : epochMs;
    }

    /**
     * Decode UTF-8 into {@code out} (at least {@code in.length} long); the number of chars.
     * Well-formed means the Unicode standard's table 3-7 (no overlong forms, no surrogates, none
     * above U+10FFFF). Ill-formed input: -1 when {@code strict}, else U+FFFD for each maximal
     * ill-formed subsequence, as Python's {@code errors="replace"} (the JDK's decoder differs
     * after ED A0..BF).
     */
    static int decodeUtf8(byte[] in, char[] out, boolean strict) {
        int n = 0;
        int i = 0;
        while (i < in.length) {
            int b0 = in[i] & 0xFF;
            if (b0 < 0x80) {
                out[n++] = (char) b0;
                i++;
                continue;
            }
            int need;
            int cp;
            int lo = 0x80;
            int hi = 0xBF;
            if (b0 >= 0xC2 && b0 <= 0xDF) {
                need = 1;
                cp = b0 & 0x1F;
            } else if (b0 >= 0xE0 && b0 <= 0xEF) {
                need = 2;
                cp = b0 & 0x0F;
                if (b0 == 0xE0) {
                    lo = 0xA0;
                } else if (b0 == 0xED) {
                    hi = 0x9F;
                }
            } else if (b0 >= 0xF0 && b0 <= 0xF4) {
                need = 3;
                cp = b0 & 0x07;
                if (b0 == 0xF0) {
                    lo = 0x90;
                } else if (b0 == 0xF4) {
                    hi = 0x8F;
                }
            } else {
                if (strict) {
                    return -1;
                }
                out[n++] = '\uFFFD';
                i++;
                continue;
            }
            int j = i + 1;
            boolean ok = true;
            for (int k = 0; k < need; k++, j++) {
                int b = j < in.length ? in[j] & 0xFF : -1;
                if (b < lo || b > hi) {
                    ok = false;
                    break;
                }
                cp = (cp << 6) | (b & 0x3F);
                lo = 0x80;
                hi = 0xBF;
            }
            if (!ok) {
                if (strict) {
                    return -1;
                }
                out[n++] = '\uFFFD';
                i = j;
                continue;
            }
            if (cp >= 0x10000) {
                out[n++] = Character.highSurrogate(cp);
                out[n++] = Character.lowSurrogate(cp);
            } else {
                out[n++] = (char) cp;
            }
            i = j;
        }
        return n;
    }

    static boolean hasLoneSurrogate(String s) {
        return hasLoneSurrogate(s.toCharArray(), 0, s.length());
    }

    /** Whether the chars hold a UTF-16 surrogate that is not half of a high-low pair. */
    static boolean hasLoneSurrogate(char[] chars, int offset, int length) {
        int end = offset + length;
        for (int i = offset; i < end; i++) {
            char c = chars[i];
            if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < end && Character.isLowSurrogate(chars[i + 1])) {
                    i++;
                } else {
                    return true;
                }
            }
        }
        return false;
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
}
