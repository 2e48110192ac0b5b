package io.augury.flink.traffic;

import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.List;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.functions.source.RichSourceFunction;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.TimestampData;

/**
 * Emits the pool's records at {@code rate} per second (0: as fast as the job takes them), each as
 * if sent when it was due at that rate (its arrival time: a job that falls behind reads them late,
 * as from a stream), and, every {@code probeIntervalMs}, a probe: a valid event of a user of its
 * own whose page is {@code /probe/<its send time in ms>}, so a reader of Redis can tell how long
 * each took to show up, backlog included. Stops after {@code count} records
 * (0: never). With a {@code progressPath}, appends a line "epoch-ms records-sent" to it every second.
 */
final class TrafficSourceFunction extends RichSourceFunction<RowData> {
    private static final long serialVersionUID = 1L;

    private final String poolPath;
    private final double rate;
    private final long probeIntervalMs;
    private final long count;
    private final boolean withArrival;
    private final String progressPath;
    private transient TrafficPool pool;
    private volatile boolean running = true;

    TrafficSourceFunction(String poolPath, double rate, long probeIntervalMs, long count, boolean withArrival,
                          String progressPath) {
        this.progressPath = progressPath;
        this.poolPath = poolPath;
        this.rate = rate;
        this.probeIntervalMs = probeIntervalMs;
        this.count = count;
        this.withArrival = withArrival;
    }

    @Override
    public void open(Configuration parameters) throws Exception {
        pool = TrafficPool.load(Paths.get(poolPath));
    }

    @Override
    public void run(SourceContext<RowData> ctx) throws Exception {
        List<TrafficPool.Template> records = pool.records;
        long started = System.currentTimeMillis();
        long nextProbe = probeIntervalMs > 0 ? started + probeIntervalMs : Long.MAX_VALUE;
        long probes = 0;
        long sent = 0;
        int at = 0;
        long pass = 0;
        long nextProgress = started;
        java.io.Writer progress = progressPath.isEmpty() ? null
                : java.nio.file.Files.newBufferedWriter(Paths.get(progressPath), StandardCharsets.US_ASCII);
        while (running && (count == 0 || sent < count)) {
            long now = System.currentTimeMillis();
            if (progress != null && now >= nextProgress) {
                progress.write(now + " " + sent + "\n");
                progress.flush();
                nextProgress += 1000;
            }
            long due = rate > 0 ? (long) ((now - started) * rate / 1000.0) : sent + 1_000;
            if (sent >= due && now < nextProbe) {
                Thread.sleep(1);
                continue;
            }
            synchronized (ctx.getCheckpointLock()) {
                long batchEnd = Math.min(due, count == 0 ? Long.MAX_VALUE : count);
                while (sent < batchEnd && running) {
                    // each record as sent when it was due (as a producer that kept its pace
                    // would have put it into a stream), however far behind the job reads; the
                    // probes due by then go first, in order: a backlog shows in their latency
                    long sentMs = rate > 0 ? started + (long) (sent * 1000.0 / rate) : now;
                    for (; nextProbe <= sentMs; nextProbe += probeIntervalMs) {
                        ctx.collect(row(probe(probes++, nextProbe), nextProbe));
                    }
                    ctx.collect(row(records.get(at).render(sentMs, pass), sentMs));
                    sent++;
                    if (++at == records.size()) {
                        at = 0;
                        pass++;
                    }
                }
                for (; nextProbe <= now && running; nextProbe += probeIntervalMs) {
                    ctx.collect(row(probe(probes++, nextProbe), nextProbe));
                }
            }
        }
        if (progress != null) {
            progress.write(System.currentTimeMillis() + " " + sent + "\n");
            progress.close();
        }
    }

    private RowData row(byte[] line, long arrivalMs) {
        return withArrival ? GenericRowData.of(line, TimestampData.fromEpochMillis(arrivalMs))
                : GenericRowData.of((Object) line);
    }

    static byte[] probe(long n, long nowMs) {
        String ts = TrafficPool.FORMAT.format(java.time.Instant.ofEpochMilli(nowMs));
        return ("{\"event_id\":\"probe-" + nowMs + "-" + n + "\",\"user_id\":\"probe-" + n
                + "\",\"device_id\":\"probe\",\"client_event\":\"page_view\",\"client_timestamp\":\"" + ts
                + "\",\"countrycode\":\"BE\",\"page_url\":\"/probe/" + nowMs + "\"}\n")
                .getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void cancel() {
        running = false;
    }
}
