package io.augury.flink.redis;

import java.util.Collection;
import redis.clients.jedis.Pipeline;

/**
 * Sorted sets stay bounded: each write removes the members scored more than the retention before
 * the newest score it writes. The horizon follows the data, not the clock (a replay of old data
 * stays listed for the retention after it), and never rises above the batch's own oldest score,
 * so a write never removes what it adds.
 */
final class Trim {
    private Trim() {}

    /** The score below which members go, for a batch of {@code scores}. */
    static long horizon(Collection<Long> scores, long ttlSeconds) {
        long newest = Long.MIN_VALUE;
        long oldest = Long.MAX_VALUE;
        for (long s : scores) {
            newest = Math.max(newest, s);
            oldest = Math.min(oldest, s);
        }
        return Math.min(newest - ttlSeconds * 1000, oldest);
    }

    static void below(Pipeline pipe, String key, Collection<Long> scores, long ttlSeconds) {
        if (!scores.isEmpty()) {
            pipe.zremrangeByScore(key, "-inf", "(" + horizon(scores, ttlSeconds));
        }
    }
}
