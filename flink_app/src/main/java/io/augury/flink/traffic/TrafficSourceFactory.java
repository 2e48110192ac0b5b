package io.augury.flink.traffic;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.connector.ChangelogMode;
import org.apache.flink.table.connector.source.DynamicTableSource;
import org.apache.flink.table.connector.source.ScanTableSource;
import org.apache.flink.table.connector.source.SourceFunctionProvider;
import org.apache.flink.table.connector.source.abilities.SupportsReadingMetadata;
import org.apache.flink.table.factories.DynamicTableSourceFactory;
import org.apache.flink.table.factories.FactoryUtil;
import org.apache.flink.table.types.DataType;

/**
 * {@code 'connector' = 'augury-traffic'}: the generator's traffic, paced, for the streaming
 * capacity benchmark ({@code bench/stream_capacity.py}): a source that is never the bottleneck and
 * needs no emulator. One column, {@code line BYTES} (each record as sent), and the metadata
 * {@code timestamp}, its arrival time, as the Kinesis connector gives them.
 */
public final class TrafficSourceFactory implements DynamicTableSourceFactory {
    static final ConfigOption<String> POOL = ConfigOptions.key("pool").stringType().noDefaultValue()
            .withDescription("the records to replay: frames written by bench/stream_capacity.py");
    static final ConfigOption<Double> RATE = ConfigOptions.key("rate").doubleType().defaultValue(0.0)
            .withDescription("records per second (0: as fast as the job takes them)");
    static final ConfigOption<Duration> PROBE_INTERVAL = ConfigOptions.key("probe.interval").durationType()
            .defaultValue(Duration.ZERO).withDescription("how often to send a probe (0: never)");
    static final ConfigOption<String> PROGRESS = ConfigOptions.key("progress.path").stringType()
            .defaultValue("").withDescription("a file to append \"epoch-ms records-sent\" to every second");
    static final ConfigOption<Long> COUNT = ConfigOptions.key("count").longType().defaultValue(0L)
            .withDescription("stop after this many records (0: never)");

    @Override
    public String factoryIdentifier() {
        return "augury-traffic";
    }

    @Override
    public Set<ConfigOption<?>> requiredOptions() {
        return Set.of(POOL);
    }

    @Override
    public Set<ConfigOption<?>> optionalOptions() {
        return Set.of(RATE, PROBE_INTERVAL, COUNT, PROGRESS, FactoryUtil.FORMAT);
    }

    @Override
    public DynamicTableSource createDynamicTableSource(Context context) {
        FactoryUtil.TableFactoryHelper helper = FactoryUtil.createTableFactoryHelper(this, context);
        helper.validate();
        ReadableConfig o = helper.getOptions();
        return new Source(o.get(POOL), o.get(RATE), o.get(PROBE_INTERVAL).toMillis(), o.get(COUNT), false,
                o.get(PROGRESS));
    }

    /** The table source: rows of {@code line}, with the arrival time when it is read. */
    static final class Source implements ScanTableSource, SupportsReadingMetadata {
        private final String pool;
        private final double rate;
        private final long probeMs;
        private final long count;
        private boolean withArrival;
        private final String progress;

        Source(String pool, double rate, long probeMs, long count, boolean withArrival, String progress) {
            this.progress = progress;
            this.pool = pool;
            this.rate = rate;
            this.probeMs = probeMs;
            this.count = count;
            this.withArrival = withArrival;
        }

        @Override
        public ChangelogMode getChangelogMode() {
            return ChangelogMode.insertOnly();
        }

        @Override
        @SuppressWarnings("deprecation") // a SourceFunction, as the Kinesis connector's table source
        public ScanRuntimeProvider getScanRuntimeProvider(ScanContext context) {
            return SourceFunctionProvider.of(
                    new TrafficSourceFunction(pool, rate, probeMs, count, withArrival, progress), count > 0);
        }

        @Override
        public Map<String, DataType> listReadableMetadata() {
            Map<String, DataType> m = new LinkedHashMap<>();
            m.put("timestamp", DataTypes.TIMESTAMP_LTZ(3).notNull());
            return m;
        }

        @Override
        public void applyReadableMetadata(List<String> metadataKeys, DataType producedDataType) {
            withArrival = metadataKeys.contains("timestamp");
        }

        @Override
        public DynamicTableSource copy() {
            return new Source(pool, rate, probeMs, count, withArrival, progress);
        }

        @Override
        public String asSummaryString() {
            return "augury-traffic";
        }
    }
}
