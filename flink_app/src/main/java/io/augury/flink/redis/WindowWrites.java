package io.augury.flink.redis;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.params.ZAddParams;

/**
 * Window results: each window's hash ({@code events}, {@code users}, {@code bot_events},
 * {@code evt:}/{@code cc:} fields, {@code sessions}, {@code final}) and its page counts.
 *
 * <p>A row is either a window's <b>early</b> result (its counts so far: speculative, since an
 * event's bot verdict is final only when its second is) or its <b>final</b> result (exact, when the
 * watermark passes the window's end). ({@code sessions} is the sessions' writer's, see
 * {@link SessionWrites}.) A streaming writer keeps these rules:
 *
 * <ul>
 *   <li>early results never go backwards (each field is raised, never lowered), and never touch
 *       a window that is final (in Redis, or finalized by this writer, or in the same batch);
 *   <li>the first final result overwrites the early ones: its counts are set as they are (a
 *       field whose final count is 0, seen early only in events that turned out to be bots, is
 *       removed), and {@code final} becomes 1 with {@code final_ms};
 *   <li>a final result for a window that was already final before this writer started only
 *       raises (a window fired again after its state expired, with less): it can never lower
 *       what the first final wrote; except for a writer restored from a checkpoint, whose
 *       job computes again the finals written after that checkpoint: a window whose {@code
 *       final_ms} is later than the checkpoint's writer snapshot, or whose final the writer began
 *       in the checkpoint's last interval (its parts can straddle the checkpoint), is overwritten
 *       again (its first final may have been written in parts, and the job stopped between
 *       them), unless the new final counts fewer events than the stored one (then it is not the
 *       same computation, and only raises);
 *   <li>{@code sessions} is raised whenever it grows, final or not.
 * </ul>
 *
 * A replay's writer sets every value as it is. Each batch costs one round trip, and one more to
 * read the {@code final} flag and {@code final_ms} of the windows it touches (streaming only).
 */
final class WindowWrites implements Writes {
    static final String CORE = "core";
    static final String HASH = "hash";
    static final String PAGES = "pages";
    private static final int REMEMBERED_FINALS = 10_000;

    /** One window's waiting results. */
    private static final class Window {
        long[] earlyCore; // events, users, bot_events
        long[] finalCore;
        final Map<String, Long> earlyHash = new HashMap<>();
        final Map<String, Long> earlyPages = new HashMap<>();
        final Map<String, Long> finalHash = new HashMap<>();
        final Map<String, Long> finalPages = new HashMap<>();

        boolean hasEarly() {
            return earlyCore != null || !earlyHash.isEmpty() || !earlyPages.isEmpty();
        }

        boolean hasFinal() {
            return finalCore != null || !finalHash.isEmpty() || !finalPages.isEmpty();
        }
    }

    private final RedisLayout layout;
    private final long ttlSeconds;
    private final boolean streaming;
    private final boolean trim;
    private final Map<Long, Window> waiting = new HashMap<>();
    /** Windows whose first final result this writer wrote (its finals may come in parts). */
    private final Set<Long> finalizedHere = new java.util.LinkedHashSet<>();
    /** Stored finals written after this time (ms) were written after the restored checkpoint. */
    private long restoredFromMs = Long.MAX_VALUE;
    /** Windows whose final the restored checkpoint's writer began in its last interval. */
    private final Set<Long> restoredFinals = new HashSet<>();
    /** Windows whose final this writer began since its last snapshot. */
    private final Set<Long> recentFinals = new java.util.LinkedHashSet<>();
    private int rows;

    WindowWrites(RedisLayout layout, long ttlSeconds, boolean streaming, boolean trim) {
        this.layout = layout;
        this.ttlSeconds = ttlSeconds;
        this.streaming = streaming;
        this.trim = trim;
    }

    @Override
    public void restoredFrom(long snapshotMs, long[] finals) {
        // several states (after a change of parallelism): the latest time lets least be overwritten
        restoredFromMs = restoredFromMs == Long.MAX_VALUE ? snapshotMs : Math.max(restoredFromMs, snapshotMs);
        for (long ws : finals) {
            restoredFinals.add(ws);
        }
    }

    @Override
    public long[] takeRecentFinals() {
        long[] out = recentFinals.stream().mapToLong(Long::longValue).toArray();
        recentFinals.clear();
        return out;
    }

    private Window window(long ws) {
        return waiting.computeIfAbsent(ws, k -> new Window());
    }

    /** A window's events, distinct users and bot events, so far or final. */
    void core(long ws, boolean isFinal, long events, long users, long botEvents) {
        Window w = window(ws);
        long[] values = {events, users, botEvents};
        if (isFinal) {
            w.finalCore = values;
        } else if (w.earlyCore == null) {
            w.earlyCore = values;
        } else {
            for (int i = 0; i < 3; i++) {
                w.earlyCore[i] = Math.max(w.earlyCore[i], values[i]);
            }
        }
        rows++;
    }

    /** One count of a window: {@code kind} {@code hash} (a field, e.g. {@code evt:click}) or {@code pages}. */
    void count(long ws, boolean isFinal, String kind, String field, long n) {
        Window w = window(ws);
        switch (kind) {
            case HASH:
                (isFinal ? w.finalHash : w.earlyHash).merge(field, n, isFinal ? (a, b) -> b : Math::max);
                break;
            case PAGES:
                (isFinal ? w.finalPages : w.earlyPages).merge(field, n, isFinal ? (a, b) -> b : Math::max);
                break;
            default:
                throw new IllegalArgumentException("unknown window result kind '" + kind + "'");
        }
        rows++;
    }

    @Override
    public int size() {
        return rows;
    }

    @Override
    public void flush(RetryingRedis redis, long nowMs) throws IOException, InterruptedException {
        if (waiting.isEmpty()) {
            return;
        }
        List<Long> starts = new ArrayList<>(new TreeSet<>(waiting.keySet()));
        Map<Long, long[]> storedFinal = streaming ? storedFinal(redis, starts) : Map.of();
        Set<Long> replace = new HashSet<>();
        for (long ws : starts) {
            Window w = waiting.get(ws);
            if (w.hasFinal() && replaces(ws, w, storedFinal.get(ws))) {
                replace.add(ws);
                remember(ws);
            }
        }
        redis.pipeline(pipe -> {
            for (long ws : starts) {
                write(pipe, ws, waiting.get(ws), storedFinal.containsKey(ws), replace.contains(ws), nowMs);
            }
            String index = layout.windows();
            for (long ws : starts) {
                pipe.zadd(index, ws, Long.toString(ws));
            }
            if (trim) {
                Trim.below(pipe, index, starts, ttlSeconds);
            }
            pipe.expire(index, ttlSeconds);
        });
        waiting.clear();
        rows = 0;
    }

    /** Whether {@code w}'s final overwrites what is stored ({@code stored}: final_ms, events; null when not final). */
    private boolean replaces(long ws, Window w, long[] stored) {
        if (stored == null || finalizedHere.contains(ws)) {
            return true; // the first final, or the rest of one this writer began
        }
        boolean recomputed = stored[0] > restoredFromMs || restoredFinals.contains(ws);
        return recomputed && (w.finalCore == null || w.finalCore[0] >= stored[1]);
    }

    private void remember(long ws) {
        if (finalizedHere.add(ws)) {
            recentFinals.add(ws);
        }
        if (finalizedHere.size() > REMEMBERED_FINALS) {
            Iterator<Long> oldest = finalizedHere.iterator();
            oldest.next();
            oldest.remove();
        }
    }

    /**
     * The windows among {@code starts} that are final in Redis, each with its {@code final_ms}
     * and {@code events} (one round trip).
     */
    @SuppressWarnings("unchecked")
    private Map<Long, long[]> storedFinal(RetryingRedis redis, List<Long> starts)
            throws IOException, InterruptedException {
        List<Object> replies = redis.pipeline(pipe -> {
            for (long ws : starts) {
                pipe.hmget(layout.window(ws), "final", "final_ms", "events");
            }
        });
        Map<Long, long[]> out = new HashMap<>();
        for (int i = 0; i < starts.size(); i++) {
            List<String> values = (List<String>) replies.get(i);
            if ("1".equals(values.get(0))) {
                out.put(starts.get(i), new long[] {parse(values.get(1), Long.MIN_VALUE), parse(values.get(2), 0)});
            }
        }
        return out;
    }

    private static long parse(String value, long absent) {
        return value == null ? absent : Long.parseLong(value);
    }

    private void write(Pipeline pipe, long ws, Window w, boolean storedFinal, boolean replace, long nowMs) {
        String key = layout.window(ws);
        String pages = layout.windowPages(ws);
        boolean pagesTouched = false;
        if (w.hasFinal()) {
            if (replace) { // the first final: exact counts replace the early ones
                Map<String, String> set = new LinkedHashMap<>();
                if (w.finalCore != null) {
                    putCore(set, w.finalCore);
                    set.put("final", "1");
                    pipe.hsetnx(key, "final_ms", Long.toString(nowMs));
                }
                List<String> gone = new ArrayList<>();
                w.finalHash.forEach((field, n) -> {
                    if (n > 0) {
                        set.put(field, Long.toString(n));
                    } else {
                        gone.add(field);
                    }
                });
                if (!set.isEmpty()) {
                    pipe.hset(key, set);
                }
                if (!gone.isEmpty()) {
                    pipe.hdel(key, gone.toArray(new String[0]));
                }
                List<String> noPages = new ArrayList<>();
                Map<String, Double> scores = new HashMap<>();
                w.finalPages.forEach((page, n) -> {
                    if (n > 0) {
                        scores.put(page, (double) n);
                    } else {
                        noPages.add(page);
                    }
                });
                if (!scores.isEmpty()) {
                    pipe.zadd(pages, scores);
                }
                if (!noPages.isEmpty()) {
                    pipe.zrem(pages, noPages.toArray(new String[0]));
                }
                pagesTouched = !w.finalPages.isEmpty();
            } else { // final before this writer: a repeat (or a re-fire) only raises
                List<String> args = new ArrayList<>();
                if (w.finalCore != null) {
                    addCore(args, w.finalCore);
                    args.add("final");
                    args.add("1");
                }
                addPositive(args, w.finalHash);
                raise(pipe, key, args);
                pagesTouched = raisePages(pipe, pages, w.finalPages);
            }
        }
        boolean earlyApplies = w.hasEarly() && !w.hasFinal() && !storedFinal && !finalizedHere.contains(ws);
        if (earlyApplies) {
            List<String> args = new ArrayList<>();
            if (w.earlyCore != null) {
                addCore(args, w.earlyCore);
            }
            args.add("final");
            args.add("0");
            addPositive(args, w.earlyHash);
            raise(pipe, key, args);
            pagesTouched |= raisePages(pipe, pages, w.earlyPages);
        }
        pipe.hsetnx(key, "sessions", "0"); // a window hash always carries it
        if (w.hasFinal() || earlyApplies) {
            pipe.hset(key, "updated_ms", Long.toString(nowMs));
        }
        pipe.expire(key, ttlSeconds);
        if (pagesTouched) {
            pipe.expire(pages, ttlSeconds);
        }
    }

    private static void putCore(Map<String, String> set, long[] core) {
        set.put("events", Long.toString(core[0]));
        set.put("users", Long.toString(core[1]));
        set.put("bot_events", Long.toString(core[2]));
    }

    private static void addCore(List<String> args, long[] core) {
        args.add("events");
        args.add(Long.toString(core[0]));
        args.add("users");
        args.add(Long.toString(core[1]));
        args.add("bot_events");
        args.add(Long.toString(core[2]));
    }

    private static void addPositive(List<String> args, Map<String, Long> counts) {
        counts.forEach((field, n) -> {
            if (n > 0) {
                args.add(field);
                args.add(Long.toString(n));
            }
        });
    }

    private void raise(Pipeline pipe, String key, List<String> args) {
        if (args.isEmpty()) {
            return;
        }
        if (streaming) {
            pipe.eval(Scripts.RAISE, List.of(key), args);
        } else {
            Map<String, String> set = new LinkedHashMap<>();
            for (int i = 0; i < args.size(); i += 2) {
                set.put(args.get(i), args.get(i + 1));
            }
            pipe.hset(key, set);
        }
    }

    private boolean raisePages(Pipeline pipe, String pages, Map<String, Long> counts) {
        Map<String, Double> scores = new HashMap<>();
        counts.forEach((page, n) -> {
            if (n > 0) {
                scores.put(page, (double) n);
            }
        });
        if (scores.isEmpty()) {
            return false;
        }
        pipe.zadd(pages, scores, streaming ? ZAddParams.zAddParams().gt() : ZAddParams.zAddParams());
        return true;
    }
}
