package io.augury.flink.redis;

import java.time.Duration;
import java.util.Set;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.connector.sink.DynamicTableSink;
import org.apache.flink.table.factories.DynamicTableSinkFactory;
import org.apache.flink.table.factories.FactoryUtil;
import org.apache.flink.table.types.logical.RowType;

/**
 * {@code 'connector' = 'augury-redis'}: a table whose rows are the job's results, written to Redis
 * under the key layout of {@code augury/redis_keys.py}.
 *
 * <pre>
 * CREATE TABLE redis_totals (accepted BIGINT, ..., since STRING, PRIMARY KEY (since) NOT ENFORCED)
 * WITH ('connector' = 'augury-redis', 'write' = 'totals', 'mode' = 'stream',
 *       'url' = 'redis://127.0.0.1:6379/0', 'layout' = '{...}', 'ttl' = '86400 s')
 * </pre>
 */
public final class RedisSinkFactory implements DynamicTableSinkFactory {
    public static final String IDENTIFIER = "augury-redis";

    static final ConfigOption<String> URL = ConfigOptions.key("url").stringType().noDefaultValue()
            .withDescription("redis:// or rediss:// URL, with the password when the server needs one");
    static final ConfigOption<String> WRITE = ConfigOptions.key("write").stringType().noDefaultValue()
            .withDescription("windows, sessions or totals");
    static final ConfigOption<String> MODE = ConfigOptions.key("mode").stringType().noDefaultValue()
            .withDescription("stream (counts are raised, never lowered; early then final) or replay (set)");
    static final ConfigOption<String> LAYOUT = ConfigOptions.key("layout").stringType().noDefaultValue()
            .withDescription("the key layout as JSON (augury.redis_keys.layout_json)");
    static final ConfigOption<Duration> TTL = ConfigOptions.key("ttl").durationType().noDefaultValue()
            .withDescription("retention of every key but the totals, refreshed at each write");
    static final ConfigOption<Duration> FLUSH_INTERVAL = ConfigOptions.key("flush.interval")
            .durationType().defaultValue(Duration.ofMillis(100))
            .withDescription("write what waits at least this often (0: only at checkpoints and when full)");
    static final ConfigOption<Integer> FLUSH_MAX_ROWS = ConfigOptions.key("flush.max-rows").intType()
            .defaultValue(5_000).withDescription("write when this many keys wait");
    static final ConfigOption<Duration> GIVE_UP = ConfigOptions.key("retry.give-up").durationType()
            .defaultValue(Duration.ofMinutes(5))
            .withDescription("how long a write waits for an unreachable Redis before the job fails");
    static final ConfigOption<Duration> BACKOFF = ConfigOptions.key("retry.backoff").durationType()
            .defaultValue(Duration.ofMillis(50)).withDescription("first backoff between attempts");
    static final ConfigOption<Duration> TIMEOUT = ConfigOptions.key("timeout").durationType()
            .defaultValue(Duration.ofSeconds(5)).withDescription("connect and socket timeout");
    static final ConfigOption<Duration> WINDOW = ConfigOptions.key("window").durationType()
            .defaultValue(Duration.ofMinutes(1))
            .withDescription("the windows' size (sessions: the window each one's start falls in)");
    static final ConfigOption<Boolean> TRIM = ConfigOptions.key("trim").booleanType().defaultValue(true)
            .withDescription("trim sorted sets to the retention as they are written");

    @Override
    public String factoryIdentifier() {
        return IDENTIFIER;
    }

    @Override
    public Set<ConfigOption<?>> requiredOptions() {
        return Set.of(URL, WRITE, MODE, LAYOUT, TTL);
    }

    @Override
    public Set<ConfigOption<?>> optionalOptions() {
        return Set.of(FLUSH_INTERVAL, FLUSH_MAX_ROWS, GIVE_UP, BACKOFF, TIMEOUT, TRIM, WINDOW);
    }

    @Override
    public DynamicTableSink createDynamicTableSink(Context context) {
        FactoryUtil.TableFactoryHelper helper = FactoryUtil.createTableFactoryHelper(this, context);
        helper.validate();
        ReadableConfig o = helper.getOptions();
        String mode = o.get(MODE);
        if (!"stream".equals(mode) && !"replay".equals(mode)) {
            throw new ValidationException("option 'mode' must be stream or replay, not '" + mode + "'");
        }
        Kind kind;
        try {
            kind = Kind.of(o.get(WRITE));
        } catch (IllegalArgumentException e) {
            throw new ValidationException(e.getMessage(), e);
        }
        RedisLayout layout;
        RedisEndpoint endpoint;
        try {
            layout = RedisLayout.fromJson(o.get(LAYOUT));
            endpoint = RedisEndpoint.parse(o.get(URL), (int) o.get(TIMEOUT).toMillis());
        } catch (IllegalArgumentException e) {
            throw new ValidationException("Redis sink table " + context.getObjectIdentifier() + ": "
                    + e.getMessage(), e);
        }
        long ttl = o.get(TTL).getSeconds();
        if (ttl < 1) {
            throw new ValidationException("option 'ttl' must be at least 1 s");
        }
        RedisSinkConfig config = new RedisSinkConfig(endpoint, o.get(LAYOUT), kind, "stream".equals(mode), ttl,
                o.get(FLUSH_INTERVAL).toMillis(), o.get(FLUSH_MAX_ROWS), o.get(GIVE_UP).toMillis(),
                o.get(BACKOFF).toMillis(), o.get(TRIM), o.get(WINDOW).toMillis());
        RowType rowType = (RowType) context.getPhysicalRowDataType().getLogicalType();
        return new RedisDynamicSink(config, RowAdders.of(kind, rowType, layout), context.getObjectIdentifier().getObjectName());
    }
}
