package io.augury.flink.redis;

import java.io.IOException;
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
 * <p>The writer's state ({@link WriterState}) is the time of its snapshot and the windows whose
 * final it began since the previous one: a writer restored from a checkpoint tells its {@link
 * Writes} ({@link Writes#restoredFrom}), since what was written after it is computed again.
 */
final class RedisSink implements Sink<RowData>, SupportsWriterState<RowData, WriterState> {
    private static final long serialVersionUID = 1L;

    private final RedisSinkConfig config;
    private final RowAdders.RowAdder adder;

    RedisSink(RedisSinkConfig config, RowAdders.RowAdder adder) {
        this.config = config;
        this.adder = adder;
    }

    @Override
    @SuppressWarnings("deprecation") // Flink 1.20's abstract method; WriterInitContext extends it
    public StatefulSinkWriter<RowData, WriterState> createWriter(InitContext context) {
        return writer(context.getProcessingTimeService(), context.metricGroup());
    }

    @Override
    public StatefulSinkWriter<RowData, WriterState> restoreWriter(WriterInitContext context,
                                                                  Collection<WriterState> states) {
        Writer writer = writer(context.getProcessingTimeService(), context.metricGroup());
        for (WriterState state : states) { // more than one after a change of parallelism
            writer.writes.restoredFrom(state.snapshotMs, state.recentFinals);
        }
        return writer;
    }

    @Override
    public SimpleVersionedSerializer<WriterState> getWriterStateSerializer() {
        return new WriterState.Serializer();
    }

    private Writer writer(ProcessingTimeService timers, SinkWriterMetricGroup metrics) {
        Writer writer = new Writer(config, adder, timers);
        writer.written = metrics.counter("redisRowsWritten");
        writer.flushes = metrics.counter("redisFlushes");
        writer.retries = metrics.counter("redisRetries");
        return writer;
    }

    /** The writer of one subtask. */
    static final class Writer implements StatefulSinkWriter<RowData, WriterState> {
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
        public List<WriterState> snapshotState(long checkpointId) {
            // after flush(): every write before this moment belongs to this checkpoint
            return List.of(new WriterState(System.currentTimeMillis(), writes.takeRecentFinals()));
        }

        @Override
        public void close() {
            redis.close();
        }
    }
}
