package io.augury.flink.redis;

import java.io.IOException;
import org.apache.flink.api.common.operators.ProcessingTimeService;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.metrics.Counter;
import org.apache.flink.table.data.RowData;
import org.apache.flink.types.RowKind;

/**
 * A Sink V2 that writes result rows to Redis: rows wait in the writer (an updating result keeps
 * only its newest value per key), and are written pipelined every {@code flush.interval} of
 * processing time, when {@code flush.max-rows} are waiting, before every checkpoint completes
 * ({@link SinkWriter#flush}: a restore never loses a write), and at the end of the input.
 */
final class RedisSink implements Sink<RowData> {
    private static final long serialVersionUID = 1L;

    private final RedisSinkConfig config;
    private final RowAdders.RowAdder adder;

    RedisSink(RedisSinkConfig config, RowAdders.RowAdder adder) {
        this.config = config;
        this.adder = adder;
    }

    @Override
    @SuppressWarnings("deprecation") // Flink 1.20's abstract method; WriterInitContext extends it
    public SinkWriter<RowData> createWriter(InitContext context) {
        Writer writer = new Writer(config, adder, context.getProcessingTimeService());
        writer.written = context.metricGroup().counter("redisRowsWritten");
        writer.flushes = context.metricGroup().counter("redisFlushes");
        writer.retries = context.metricGroup().counter("redisRetries");
        return writer;
    }

    /** The writer of one subtask. */
    static final class Writer implements SinkWriter<RowData> {
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
        public void close() {
            redis.close();
        }
    }
}
