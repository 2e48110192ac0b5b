package io.augury.flink.redis;

import java.io.Serializable;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;

/**
 * Where the sink writes: a {@code redis://} or {@code rediss://} (TLS) URL, as the job's
 * {@code sink.redis.url} setting gives it ({@code redis://[user:password@]host[:port][/db]}).
 */
public final class RedisEndpoint implements Serializable {
    private static final long serialVersionUID = 1L;

    final String host;
    final int port;
    final int database;
    final boolean tls;
    final String user;
    final String password;
    final int timeoutMs;

    private RedisEndpoint(String host, int port, int database, boolean tls, String user,
                          String password, int timeoutMs) {
        this.host = host;
        this.port = port;
        this.database = database;
        this.tls = tls;
        this.user = user;
        this.password = password;
        this.timeoutMs = timeoutMs;
    }

    /** The endpoint of {@code url}; a URL it cannot use raises IllegalArgumentException. */
    public static RedisEndpoint parse(String url, int timeoutMs) {
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a Redis URL: " + e.getMessage(), e);
        }
        String scheme = uri.getScheme();
        if (!"redis".equals(scheme) && !"rediss".equals(scheme)) {
            throw new IllegalArgumentException("a Redis URL must start with redis:// or rediss://");
        }
        if (uri.getHost() == null) {
            throw new IllegalArgumentException("a Redis URL needs a host");
        }
        String user = null;
        String password = null;
        if (uri.getRawUserInfo() != null) {
            String[] parts = uri.getRawUserInfo().split(":", 2);
            user = parts[0].isEmpty() ? null : decode(parts[0]);
            password = parts.length > 1 ? decode(parts[1]) : null;
        }
        int database = 0;
        String path = uri.getPath();
        if (path != null && path.length() > 1) {
            try {
                database = Integer.parseInt(path.substring(1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("a Redis URL's path is its database number");
            }
        }
        int port = uri.getPort() < 0 ? 6379 : uri.getPort();
        return new RedisEndpoint(uri.getHost(), port, database, "rediss".equals(scheme), user, password,
                timeoutMs);
    }

    private static String decode(String part) {
        return URLDecoder.decode(part.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    /** A new connection (it connects on first use). */
    Jedis connect() {
        DefaultJedisClientConfig.Builder config = DefaultJedisClientConfig.builder()
                .connectionTimeoutMillis(timeoutMs)
                .socketTimeoutMillis(timeoutMs)
                .database(database)
                .ssl(tls)
                .clientName("augury-flink-sink");
        if (password != null) {
            config.user(user).password(password);
        }
        return new Jedis(new HostAndPort(host, port), config.build());
    }

    @Override
    public String toString() {
        return (tls ? "rediss://" : "redis://") + host + ":" + port + "/" + database;
    }
}
