package io.augury.flink.redis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The Redis key layout, as {@code augury/redis_keys.py} defines it (the one definition).
 *
 * <p>It arrives as JSON ({@code redis_keys.layout_json}): the prefix, each key's template with
 * {@code {name}} parts, the session id rule and the hashes' field names. Nothing here names a key
 * on its own.
 */
public final class RedisLayout implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final String prefix;
    private final Map<String, String> templates;
    private final String separator;
    private final Map<Character, String> escapes;
    private final List<String> totalFields;
    private final String since;

    private RedisLayout(String prefix, Map<String, String> templates, String separator,
                        Map<Character, String> escapes, List<String> totalFields, String since) {
        this.prefix = prefix;
        this.templates = templates;
        this.separator = separator;
        this.escapes = escapes;
        this.totalFields = totalFields;
        this.since = since;
    }

    /** The layout from its JSON; a missing part raises IllegalArgumentException naming it. */
    public static RedisLayout fromJson(String json) {
        JsonNode doc;
        try {
            doc = MAPPER.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException("the Redis layout is not JSON", e);
        }
        Map<String, String> templates = new HashMap<>();
        required(doc, "keys").fields().forEachRemaining(e -> templates.put(e.getKey(), e.getValue().asText()));
        for (String name : new String[] {"window", "window_pages", "windows", "session", "sessions",
                "user_sessions", "totals"}) {
            if (!templates.containsKey(name)) {
                throw new IllegalArgumentException("the Redis layout has no key template '" + name + "'");
            }
        }
        JsonNode sid = required(doc, "session_id");
        Map<Character, String> escapes = new HashMap<>();
        required(sid, "escapes").fields().forEachRemaining(
                e -> escapes.put(e.getKey().charAt(0), e.getValue().asText()));
        List<String> totals = new ArrayList<>();
        required(doc, "total_fields").forEach(f -> totals.add(f.asText()));
        expectFields(doc, "window_fields", WINDOW_FIELDS);
        expectFields(doc, "session_fields", SESSION_FIELDS);
        return new RedisLayout(required(doc, "prefix").asText(), templates,
                required(sid, "separator").asText(), escapes, totals,
                required(doc, "totals_since").asText());
    }

    /** The window hash's fields, as the sink writes them. */
    static final List<String> WINDOW_FIELDS = List.of(
            "events", "users", "sessions", "bot_events", "final", "updated_ms", "final_ms");
    /** The session hash's fields, as the sink writes them. */
    static final List<String> SESSION_FIELDS = List.of("user_id", "device_id", "start_ms", "end_ms",
            "duration_ms", "events", "first_event", "last_event", "countrycode");

    private static void expectFields(JsonNode doc, String name, List<String> expected) {
        List<String> got = new ArrayList<>();
        required(doc, name).forEach(f -> got.add(f.asText()));
        if (!got.equals(expected)) {
            throw new IllegalArgumentException("the Redis layout's " + name + " are " + got
                    + ", but this sink writes " + expected + ": rebuild the job's jar");
        }
    }

    private static JsonNode required(JsonNode node, String name) {
        JsonNode value = node.get(name);
        if (value == null || value.isNull()) {
            throw new IllegalArgumentException("the Redis layout has no '" + name + "'");
        }
        return value;
    }

    public String prefix() {
        return prefix;
    }

    /** The totals hash's counters, in order. */
    public List<String> totalFields() {
        return totalFields;
    }

    /** The totals hash's field that says when the counting job's state began. */
    public String since() {
        return since;
    }

    private String key(String name, String part, String value) {
        String template = templates.get(name);
        return prefix + (part == null ? template : template.replace("{" + part + "}", value));
    }

    public String window(long windowStartMs) {
        return key("window", "window_start_ms", Long.toString(windowStartMs));
    }

    public String windowPages(long windowStartMs) {
        return key("window_pages", "window_start_ms", Long.toString(windowStartMs));
    }

    public String windows() {
        return key("windows", null, null);
    }

    public String session(String sessionId) {
        return key("session", "session_id", sessionId);
    }

    public String sessions() {
        return key("sessions", null, null);
    }

    public String userSessions(String userId) {
        return key("user_sessions", "user_id", userId);
    }

    public String totals() {
        return key("totals", null, null);
    }

    /** {@code {user}|{device}|{start}} with the separator and the escape character escaped in ids. */
    public String sessionId(String userId, String deviceId, long startMs) {
        return escape(userId) + separator + escape(deviceId) + separator + startMs;
    }

    private String escape(String id) {
        StringBuilder out = null;
        for (int i = 0; i < id.length(); i++) {
            String replacement = escapes.get(id.charAt(i));
            if (replacement != null && out == null) {
                out = new StringBuilder(id.length() + 8).append(id, 0, i);
            }
            if (out != null) {
                if (replacement != null) {
                    out.append(replacement);
                } else {
                    out.append(id.charAt(i));
                }
            }
        }
        return out == null ? id : out.toString();
    }
}
