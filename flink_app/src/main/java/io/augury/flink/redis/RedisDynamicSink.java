package io.augury.flink.redis;

import org.apache.flink.table.connector.ChangelogMode;
import org.apache.flink.table.connector.sink.DynamicTableSink;
import org.apache.flink.table.connector.sink.SinkV2Provider;
import org.apache.flink.types.RowKind;

/**
 * The planner's view of a Redis sink table. It takes inserts and updates; it needs no
 * retractions (every count only grows, so the newest value is the largest), so the planner sends
 * none when the table has a primary key. Windows and totals are written by one writer (their
 * rules compare a window's early and final results, and the totals' rows), sessions by as many
 * as the job's parallelism.
 */
final class RedisDynamicSink implements DynamicTableSink {
    private final RedisSinkConfig config;
    private final RowAdders.RowAdder adder;
    private final String table;

    RedisDynamicSink(RedisSinkConfig config, RowAdders.RowAdder adder, String table) {
        this.config = config;
        this.adder = adder;
        this.table = table;
    }

    @Override
    public ChangelogMode getChangelogMode(ChangelogMode requestedMode) {
        return ChangelogMode.newBuilder()
                .addContainedKind(RowKind.INSERT)
                .addContainedKind(RowKind.UPDATE_AFTER)
                .build();
    }

    @Override
    public SinkRuntimeProvider getSinkRuntimeProvider(Context context) {
        Integer parallelism = config.kind == Kind.SESSIONS ? null : 1;
        return SinkV2Provider.of(new RedisSink(config, adder), parallelism);
    }

    @Override
    public DynamicTableSink copy() {
        return new RedisDynamicSink(config, adder, table);
    }

    @Override
    public String asSummaryString() {
        return "Redis (" + config.kind.option + ", " + (config.streaming ? "stream" : "replay") + ") "
                + config.endpoint;
    }
}
