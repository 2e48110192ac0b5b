package io.augury.flink.redis;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * One connection to Redis that outlives Redis going away: a pipeline that fails to reach it is
 * sent again on a new connection after a full-jitter exponential backoff (as
 * {@code augury/retry.py}), until it succeeds or {@code giveUpMs} have passed; then the error
 * surfaces (so Flink restarts the job from its last checkpoint: nothing is lost either way).
 * Replies that say Redis cannot take writes for now (loading its data, a replica during a
 * failover, a busy script, out of memory until keys expire) are retried the same way: every write
 * is absolute, so sending a pipeline again is safe. A command Redis rejects otherwise (a wrong
 * type, a script error) is not retried: it is a bug, not weather.
 */
final class RetryingRedis implements AutoCloseable {
    /** Sleeps between attempts; tests give their own. */
    interface Sleeper {
        void sleep(long ms) throws InterruptedException;
    }

    private static final long CAP_MS = 5_000;
    /** Error replies of a Redis that cannot take writes for now. */
    private static final List<String> TRANSIENT = List.of(
            "LOADING", "READONLY", "BUSY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "OOM", "NOREPLICAS",
            "MISCONF");

    /** A reply that says to try again later. */
    private static final class TryAgain extends RuntimeException {
        private static final long serialVersionUID = 1L;

        TryAgain(String message) {
            super(message);
        }
    }

    private final RedisEndpoint endpoint;
    private final long giveUpMs;
    private final long backoffBaseMs;
    private final Sleeper sleeper;
    private Jedis jedis;
    private long retries;

    RetryingRedis(RedisEndpoint endpoint, long giveUpMs, long backoffBaseMs, Sleeper sleeper) {
        this.endpoint = endpoint;
        this.giveUpMs = giveUpMs;
        this.backoffBaseMs = backoffBaseMs;
        this.sleeper = sleeper;
    }

    /** Pipelines that failed to reach Redis and were sent again, so far. */
    long retries() {
        return retries;
    }

    /** The commands {@code build} adds, in one round trip; their replies, in order. */
    List<Object> pipeline(Consumer<Pipeline> build) throws IOException, InterruptedException {
        long deadline = System.currentTimeMillis() + giveUpMs;
        for (int attempt = 1; ; attempt++) {
            try {
                if (jedis == null) {
                    jedis = endpoint.connect();
                }
                Pipeline pipe = jedis.pipelined();
                build.accept(pipe);
                List<Object> replies = pipe.syncAndReturnAll();
                JedisDataException rejected = null;
                for (Object reply : replies) {
                    if (reply instanceof JedisDataException) {
                        String message = String.valueOf(((Exception) reply).getMessage());
                        if (isTransient(message)) { // any one: the whole pipeline again, later
                            throw new TryAgain(message);
                        }
                        rejected = rejected == null ? (JedisDataException) reply : rejected;
                    }
                }
                if (rejected != null) {
                    throw new IOException("Redis rejected a write: " + rejected.getMessage(), rejected);
                }
                return replies;
            } catch (JedisConnectionException | TryAgain e) {
                closeQuietly();
                if (System.currentTimeMillis() >= deadline) {
                    throw new IOException("Redis at " + endpoint + " unreachable or not taking writes for "
                            + giveUpMs + " ms (" + attempt + " attempts): " + e.getMessage(), e);
                }
                retries++;
                long ceiling = Math.min(CAP_MS, backoffBaseMs << Math.min(attempt - 1, 20));
                sleeper.sleep(ThreadLocalRandom.current().nextLong(ceiling + 1));
            }
        }
    }

    static boolean isTransient(String message) {
        for (String prefix : TRANSIENT) {
            if (message.startsWith(prefix + " ") || message.equals(prefix)) {
                return true;
            }
        }
        return false;
    }

    private void closeQuietly() {
        if (jedis != null) {
            try {
                jedis.close();
            } catch (RuntimeException ignored) {
                // the connection is broken already
            }
            jedis = null;
        }
    }

    @Override
    public void close() {
        closeQuietly();
    }
}
