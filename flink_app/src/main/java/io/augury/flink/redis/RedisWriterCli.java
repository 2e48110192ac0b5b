package io.augury.flink.redis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;

/**
 * The sink's writer as a command, for tests and benchmarks: the same {@link Writes} the Flink
 * sink uses, fed batches of rows as JSON lines on stdin.
 *
 * <pre>
 * java -cp augury-flink-connectors.jar io.augury.flink.redis.RedisWriterCli \
 *     --url redis://127.0.0.1:6379/0 --layout JSON --ttl-seconds 86400 --mode stream|replay \
 *     [--trim true|false] [--give-up-ms N] [--backoff-ms N] [--window-ms 60000]
 *     [--restored-from-ms N [--restored-finals WS,WS,...]]
 * </pre>
 *
 * {@code --restored-from-ms}: write as a writer restored from a checkpoint whose writer snapshot
 * was taken at that time, having begun the finals of {@code --restored-finals} in the interval
 * before it ({@link Writes#restoredFrom}).
 *
 * Each input line is one batch, written as the sink writes a flush:
 * {@code {"write": "windows"|"sessions"|"totals", "rows": [[...], ...], "now_ms": N}} ({@code now_ms},
 * the time of the write, is optional), with rows in the columns
 * of the sink table of that kind ({@code windows}: ws, final, kind, field, n, users, bot_events; {@code sessions}: user_id, device_id, start_ms, end_ms, events, first_event,
 * last_event, countrycode; {@code totals}: each counter, then since). Each batch's answer is a line
 * {@code {"ok": true, "retries": N}} or {@code {"error": "..."}}. With {@code --bench KIND ROWS},
 * it writes ROWS generated rows of that kind in batches of {@code --batch} (5000) instead and
 * prints {@code {"rows": N, "seconds": S}}.
 */
public final class RedisWriterCli {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private RedisWriterCli() {}

    public static void main(String[] argv) throws Exception {
        Map<String, String> args = new HashMap<>();
        for (int i = 0; i + 1 < argv.length; i += 2) {
            args.put(argv[i].replaceFirst("^--", ""), argv[i + 1]);
        }
        RedisLayout layout = RedisLayout.fromJson(args.get("layout"));
        boolean streaming = "stream".equals(args.getOrDefault("mode", "replay"));
        long ttl = Long.parseLong(args.getOrDefault("ttl-seconds", "86400"));
        boolean trim = Boolean.parseBoolean(args.getOrDefault("trim", "true"));
        long windowMs = Long.parseLong(args.getOrDefault("window-ms", "60000"));
        RedisEndpoint endpoint = RedisEndpoint.parse(args.get("url"), 5_000);
        RetryingRedis redis = new RetryingRedis(endpoint, Long.parseLong(args.getOrDefault("give-up-ms", "300000")),
                Long.parseLong(args.getOrDefault("backoff-ms", "50")), Thread::sleep);
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        if (args.containsKey("bench")) {
            Kind kind = Kind.of(args.get("bench"));
            out.println(bench(kind, kind.writes(layout, ttl, streaming, trim, windowMs), redis,
                    Integer.parseInt(args.get("rows")), Integer.parseInt(args.getOrDefault("batch", "5000"))));
            redis.close();
            return;
        }
        Map<Kind, Writes> writers = new EnumMap<>(Kind.class);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            ObjectNode answer = MAPPER.createObjectNode();
            try {
                JsonNode batch = MAPPER.readTree(line);
                Kind kind = Kind.of(batch.get("write").asText());
                Writes writes = writers.computeIfAbsent(kind, k -> {
                    Writes w = k.writes(layout, ttl, streaming, trim, windowMs);
                    if (args.containsKey("restored-from-ms")) {
                        String finals = args.getOrDefault("restored-finals", "");
                        w.restoredFrom(Long.parseLong(args.get("restored-from-ms")), finals.isEmpty()
                                ? new long[0]
                                : java.util.Arrays.stream(finals.split(",")).mapToLong(Long::parseLong).toArray());
                    }
                    return w;
                });
                for (JsonNode row : batch.get("rows")) {
                    add(kind, writes, row);
                }
                long before = redis.retries();
                JsonNode now = batch.get("now_ms");
                writes.flush(redis, now == null ? System.currentTimeMillis() : now.asLong());
                answer.put("ok", true).put("retries", redis.retries() - before);
            } catch (IOException | RuntimeException e) {
                answer.put("error", e.getMessage());
            }
            out.println(MAPPER.writeValueAsString(answer));
        }
        redis.close();
    }

    private static void add(Kind kind, Writes writes, JsonNode r) {
        switch (kind) {
            case WINDOWS: {
                String k = r.get(2).asText();
                if (WindowWrites.CORE.equals(k)) {
                    ((WindowWrites) writes).core(r.get(0).asLong(), r.get(1).asBoolean(), r.get(4).asLong(),
                            r.get(5).asLong(), r.get(6).asLong());
                } else {
                    ((WindowWrites) writes).count(r.get(0).asLong(), r.get(1).asBoolean(), k, r.get(3).asText(),
                            r.get(4).asLong());
                }
                break;
            }
            case SESSIONS:
                ((SessionWrites) writes).add(r.get(0).asText(), r.get(1).asText(), r.get(2).asLong(),
                        r.get(3).asLong(), r.get(4).asLong(), r.get(5).asText(), r.get(6).asText(), r.get(7).asText());
                break;
            default: {
                long[] counts = new long[r.size() - 1];
                for (int i = 0; i < counts.length; i++) {
                    counts[i] = r.get(i).asLong();
                }
                ((TotalsWrites) writes).add(counts, r.get(r.size() - 1).asText());
            }
        }
    }

    private static String bench(Kind kind, Writes writes, RetryingRedis redis, int rows, int batch)
            throws IOException, InterruptedException {
        long started = System.nanoTime();
        long base = 1_700_000_000_000L;
        for (int i = 0; i < rows; i++) {
            switch (kind) {
                case WINDOWS:
                    ((WindowWrites) writes).count(base + (i / 1000) * 60_000L, true, WindowWrites.HASH,
                            "evt:e" + (i % 1000), i);
                    break;
                case SESSIONS:
                    ((SessionWrites) writes).add("bench-user-" + (i % 50_000), "d", base + i, base + i + 5_000, 3,
                            "page_view", "click", "BE");
                    break;
                default:
                    ((TotalsWrites) writes).add(new long[] {i, 0, 0, 0, 0}, "bench");
            }
            if ((i + 1) % batch == 0) {
                writes.flush(redis, System.currentTimeMillis());
            }
        }
        writes.flush(redis, System.currentTimeMillis());
        double seconds = (System.nanoTime() - started) / 1e9;
        return "{\"rows\": " + rows + ", \"seconds\": " + seconds + "}";
    }
}
