package io.augury.flink.redis;

import java.io.Serializable;

/** A Redis sink table's settings, from its WITH options (see {@link RedisSinkFactory}). */
final class RedisSinkConfig implements Serializable {
    private static final long serialVersionUID = 1L;

    final RedisEndpoint endpoint;
    final String layoutJson;
    final Kind kind;
    final boolean streaming;
    final long ttlSeconds;
    final long flushIntervalMs;
    final int flushMaxRows;
    final long giveUpMs;
    final long backoffBaseMs;
    final boolean trim;
    final long windowMs;

    RedisSinkConfig(RedisEndpoint endpoint, String layoutJson, Kind kind, boolean streaming, long ttlSeconds,
                    long flushIntervalMs, int flushMaxRows, long giveUpMs, long backoffBaseMs, boolean trim,
                    long windowMs) {
        this.windowMs = windowMs;
        this.endpoint = endpoint;
        this.layoutJson = layoutJson;
        this.kind = kind;
        this.streaming = streaming;
        this.ttlSeconds = ttlSeconds;
        this.flushIntervalMs = flushIntervalMs;
        this.flushMaxRows = flushMaxRows;
        this.giveUpMs = giveUpMs;
        this.backoffBaseMs = backoffBaseMs;
        this.trim = trim;
    }

    RedisLayout layout() {
        return RedisLayout.fromJson(layoutJson);
    }

    RetryingRedis connect() {
        return new RetryingRedis(endpoint, giveUpMs, backoffBaseMs, Thread::sleep);
    }
}
