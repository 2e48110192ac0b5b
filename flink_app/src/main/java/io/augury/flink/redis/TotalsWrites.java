package io.augury.flink.redis;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The pipeline's totals: what became of every record read, and since when the counting job's
 * state began. Rows are the totals' changelog; a batch is written once, as the newest value of
 * each counter (the largest: each only grows within a run), in one round trip. A streaming writer
 * raises the counts of the same {@code since} and replaces those of another (a job started
 * without state); a replay's writer sets its own.
 */
final class TotalsWrites implements Writes {
    private final RedisLayout layout;
    private final boolean streaming;
    private final String script;
    private long[] newest;
    private String since;

    TotalsWrites(RedisLayout layout, boolean streaming) {
        this.layout = layout;
        this.streaming = streaming;
        this.script = Scripts.totals(layout.since());
    }

    /** One row: the counters in the layout's {@code total_fields} order, and {@code since}. */
    void add(long[] counts, String rowSince) {
        if (counts.length != layout.totalFields().size()) {
            throw new IllegalArgumentException("totals need " + layout.totalFields());
        }
        if (newest == null) {
            newest = counts.clone();
        } else {
            for (int i = 0; i < counts.length; i++) {
                newest[i] = Math.max(newest[i], counts[i]);
            }
        }
        since = rowSince;
    }

    @Override
    public int size() {
        return newest == null ? 0 : 1;
    }

    @Override
    public void flush(RetryingRedis redis, long nowMs) throws IOException, InterruptedException {
        if (newest == null) {
            return;
        }
        String key = layout.totals();
        List<String> fields = layout.totalFields();
        redis.pipeline(pipe -> {
            if (streaming) {
                List<String> args = new ArrayList<>();
                args.add(since);
                for (int i = 0; i < fields.size(); i++) {
                    args.add(fields.get(i));
                    args.add(Long.toString(newest[i]));
                }
                pipe.eval(script, List.of(key), args);
            } else {
                Map<String, String> set = new LinkedHashMap<>();
                for (int i = 0; i < fields.size(); i++) {
                    set.put(fields.get(i), Long.toString(newest[i]));
                }
                set.put(layout.since(), since);
                pipe.del(key);
                pipe.hset(key, set);
            }
        });
        newest = null;
        since = null;
    }
}
