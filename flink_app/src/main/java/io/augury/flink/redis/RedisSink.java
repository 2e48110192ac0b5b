package io.augury.flink.redis;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.List;
import org.apache.flink.api.common.operators.ProcessingTimeService;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.StatefulSinkWriter;
import org.apache.flink.api.connector.sink2.SupportsWriterState;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.groups.SinkWriterMetricGroup;
import org.apache.flink.table.data.RowData;
import org.apache.flink.types.RowKind;

/**
 * A Sink V2 that writes result rows to Redis: rows wait in the writer (an updating result keeps
 * only its newest value per key), and are written pipelined every {@code flush.interval} of
 * processing time, when {@code flush.max-rows} are waiting, before every checkpoint completes
 * ({@link SinkWriter#flush}: a restore never loses a write), and at the end of the input.
 *
 * <p>The writer's state is the time of its snapshot: a writer restored from a checkpoint tells its
 * {@link Writes} when that was ({@link Writes#restoredFrom}), since what was written after it is
 * computed again.
 */
final class RedisSink implements Sink<RowData>, SupportsWriterState<RowData, Long> {
    private static final long serialVersionUID = 1L;

    private final RedisSinkConfig config;
    private final RowAdders.RowAdder adder;

    RedisSink(RedisSinkConfig config, RowAdders.RowAdder adder) {
        this.config = config;
        this.adder = adder;
    }

    @Override
    @SuppressWarnings("deprecation") // Flink 1.20's abstract method; WriterInitContext extends it
    public StatefulSinkWriter<RowData, Long> createWriter(InitContext context) {
        return writer(context.getProcessingTimeService(), context.metricGroup());
    }

    @Override
    public StatefulSinkWriter<RowData, Long> restoreWriter(WriterInitContext context, Collection<Long> snapshots) {
        Writer writer = writer(context.getProcessingTimeService(), context.metricGroup());
        // more than one (after a change of parallelism): the latest, the one that lets least be overwritten
        snapshots.stream().mapToLong(Long::longValue).max().ifPresent(writer.writes::restoredFrom);
        return writer;
    }

    @Override
    public SimpleVersionedSerializer<Long> getWriterStateSerializer() {
        return new SnapshotTimeSerializer();
    }

    private Writer writer(ProcessingTimeService timers, SinkWriterMetricGroup metrics) {
        Writer writer = new Writer(config, adder, timers);
        writer.written = metrics.counter("redisRowsWritten");
        writer.flushes = metrics.counter("redisFlushes");
        writer.retries = metrics.counter("redisRetries");
        return writer;
    }

    /** The writer's state: the time of its snapshot, in epoch ms. */
    static final class SnapshotTimeSerializer implements SimpleVersionedSerializer<Long> {
        @Override
        public int getVersion() {
            return 1;
        }

        @Override
        public byte[] serialize(Long snapshotMs) {
            return ByteBuffer.allocate(Long.BYTES).putLong(snapshotMs).array();
        }

        @Override
        public Long deserialize(int version, byte[] serialized) throws IOException {
            if (version != 1 || serialized.length != Long.BYTES) {
                throw new IOException("unknown Redis writer state (version " + version + ")");
            }
            return ByteBuffer.wrap(serialized).getLong();
        }
    }

    /** The writer of one subtask. */
    static final class Writer implements StatefulSinkWriter<RowData, Long> {
        private final RedisSinkConfig config;
        private final RowAdders.RowAdder adder;
        private final Writes writes;
        private final RetryingRedis redis;
        private final ProcessingTimeService timers;
        private Counter written;
        private Counter flushes;
        private Counter retries;
        private long waitingRows;
        private long retriesSeen;

        Writer(RedisSinkConfig config, RowAdders.RowAdder adder, ProcessingTimeService timers) {
            this.config = config;
            this.adder = adder;
            this.writes = config.kind.writes(config.layout(), config.ttlSeconds, config.streaming, config.trim,
                    config.windowMs);
            this.redis = config.connect();
            this.timers = timers;
            if (timers != null && config.flushIntervalMs > 0) {
                schedule();
            }
        }

        private void schedule() {
            timers.registerTimer(timers.getCurrentProcessingTime() + config.flushIntervalMs, time -> {
                if (waitingRows > 0) {
                    flushNow();
                }
                schedule();
            });
        }

        @Override
        public void write(RowData row, Context context) throws IOException, InterruptedException {
            RowKind kind = row.getRowKind();
            if (kind == RowKind.UPDATE_BEFORE || kind == RowKind.DELETE) {
                return; // every count only grows: a retraction's value is never the newest
            }
            adder.add(row, writes);
            waitingRows++;
            if (writes.size() >= config.flushMaxRows) {
                flushNow();
            }
        }

        @Override
        public void flush(boolean endOfInput) throws IOException, InterruptedException {
            flushNow();
        }

        void flushNow() throws IOException, InterruptedException {
            if (waitingRows == 0) {
                return;
            }
            writes.flush(redis, System.currentTimeMillis());
            if (written != null) {
                written.inc(waitingRows);
                flushes.inc();
                retries.inc(redis.retries() - retriesSeen);
                retriesSeen = redis.retries();
            }
            waitingRows = 0;
        }

        @Override
        public List<Long> snapshotState(long checkpointId) {
            // after flush(): every write before this moment belongs to this checkpoint
            return List.of(System.currentTimeMillis());
        }

        @Override
        public void close() {
            redis.close();
        }
    }
}
