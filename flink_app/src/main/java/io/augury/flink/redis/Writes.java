package io.augury.flink.redis;

import java.io.IOException;

/**
 * Results of one kind waiting to be written: rows are added as they arrive (an updating result
 * keeps only its newest value per key) and written together, pipelined, in one or two round trips.
 */
interface Writes {
    /** Keys (windows, sessions, counters) waiting. */
    int size();

    /** Write everything waiting, then forget it. {@code nowMs}: the time of the write. */
    void flush(RetryingRedis redis, long nowMs) throws IOException, InterruptedException;

    /**
     * This writer's job was restored from a checkpoint whose writer snapshot was taken at
     * {@code snapshotMs} (on the clock that stamps the writes): everything written after it is
     * being computed again, and so are the finals of {@code recentFinals} (windows whose final
     * the writer began in the checkpoint's last interval). Called once per restored state.
     */
    default void restoredFrom(long snapshotMs, long[] recentFinals) {}

    /** The windows whose final this writer began since the last call (for its snapshot). */
    default long[] takeRecentFinals() {
        return new long[0];
    }
}
