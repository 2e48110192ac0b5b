package io.augury.flink.redis;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Closed sessions: each one's hash, and its place in the sessions index and in its user's, by
 * start time. Every write is absolute, so writing a session twice (a restore) changes nothing.
 *
 * <p>It also keeps each window's {@code sessions} (the sessions that started in it) from the
 * index itself: after a batch, the windows its sessions started in get the index's count of
 * sessions starting within them (one more round trip). No Flink state holds that count, so no
 * quiet period, however long, can reset it. It is raised, never lowered (the index only grows;
 * writers in parallel may count in either order), so it counts every session in the index: a
 * replay into a prefix that holds other sessions counts them too.
 */
final class SessionWrites implements Writes {
    private final RedisLayout layout;
    private final long ttlSeconds;
    private final boolean trim;
    private final long windowMs;
    private final Map<String, Map<String, String>> hashes = new LinkedHashMap<>();
    private final Map<String, String> users = new HashMap<>();
    private final Map<String, Long> starts = new HashMap<>();

    SessionWrites(RedisLayout layout, long ttlSeconds, boolean trim, long windowMs) {
        this.windowMs = windowMs;
        this.layout = layout;
        this.ttlSeconds = ttlSeconds;
        this.trim = trim;
    }

    /** One session of a user's device, from its first to its last event. */
    void add(String userId, String deviceId, long startMs, long endMs, long events, String firstEvent,
             String lastEvent, String countrycode) {
        String sid = layout.sessionId(userId, deviceId, startMs);
        Map<String, String> h = new LinkedHashMap<>();
        h.put("user_id", userId);
        h.put("device_id", deviceId);
        h.put("start_ms", Long.toString(startMs));
        h.put("end_ms", Long.toString(endMs));
        h.put("duration_ms", Long.toString(endMs - startMs));
        h.put("events", Long.toString(events));
        h.put("first_event", firstEvent);
        h.put("last_event", lastEvent);
        h.put("countrycode", countrycode);
        hashes.put(sid, h);
        users.put(sid, userId);
        starts.put(sid, startMs);
    }

    @Override
    public int size() {
        return hashes.size();
    }

    @Override
    public void flush(RetryingRedis redis, long nowMs) throws IOException, InterruptedException {
        if (hashes.isEmpty()) {
            return;
        }
        redis.pipeline(pipe -> {
            Map<String, List<Long>> byUser = new LinkedHashMap<>();
            String index = layout.sessions();
            for (Map.Entry<String, Map<String, String>> e : hashes.entrySet()) {
                String sid = e.getKey();
                String key = layout.session(sid);
                long start = starts.get(sid);
                String userKey = layout.userSessions(users.get(sid));
                pipe.hset(key, e.getValue());
                pipe.expire(key, ttlSeconds);
                pipe.zadd(index, start, sid);
                pipe.zadd(userKey, start, sid);
                pipe.expire(userKey, ttlSeconds);
                byUser.computeIfAbsent(userKey, k -> new ArrayList<>()).add(start);
            }
            if (trim) {
                byUser.forEach((userKey, scores) -> Trim.below(pipe, userKey, scores, ttlSeconds));
                Trim.below(pipe, index, starts.values(), ttlSeconds);
            }
            pipe.expire(index, ttlSeconds);
        });
        countPerWindow(redis);
        hashes.clear();
        users.clear();
        starts.clear();
    }

    /** Each touched window's {@code sessions}: the index's sessions that start within it. */
    private void countPerWindow(RetryingRedis redis) throws IOException, InterruptedException {
        List<Long> windows = new ArrayList<>(new java.util.TreeSet<Long>(
                starts.values().stream().map(s -> s - Math.floorMod(s, windowMs)).collect(
                        java.util.stream.Collectors.toSet())));
        String index = layout.sessions();
        List<Object> counts = redis.pipeline(pipe -> {
            for (long ws : windows) {
                pipe.zcount(index, Long.toString(ws), "(" + (ws + windowMs));
            }
        });
        redis.pipeline(pipe -> {
            for (int i = 0; i < windows.size(); i++) {
                String key = layout.window(windows.get(i));
                // raised, replay too: the index only grows, and parallel writers' counts may
                // reach Redis out of order
                pipe.eval(Scripts.RAISE, List.of(key), List.of("sessions", counts.get(i).toString()));
                pipe.expire(key, ttlSeconds);
            }
        });
    }
}
