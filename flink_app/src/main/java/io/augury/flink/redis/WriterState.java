package io.augury.flink.redis;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * A Redis writer's checkpointed state: when its snapshot was taken (epoch ms, on the clock that
 * stamps its writes), and the windows whose first final result it began writing since its
 * previous snapshot (a window's final can straddle a checkpoint when the window aggregate runs in
 * parallel: its parts reach the writer on both sides of the barrier).
 */
final class WriterState {
    final long snapshotMs;
    final long[] recentFinals;

    WriterState(long snapshotMs, long[] recentFinals) {
        this.snapshotMs = snapshotMs;
        this.recentFinals = recentFinals;
    }

    /** Version 1: the snapshot time, the number of windows, each window's start. */
    static final class Serializer implements SimpleVersionedSerializer<WriterState> {
        @Override
        public int getVersion() {
            return 1;
        }

        @Override
        public byte[] serialize(WriterState state) {
            ByteBuffer out = ByteBuffer.allocate(Long.BYTES + Integer.BYTES + Long.BYTES * state.recentFinals.length);
            out.putLong(state.snapshotMs).putInt(state.recentFinals.length);
            for (long ws : state.recentFinals) {
                out.putLong(ws);
            }
            return out.array();
        }

        @Override
        public WriterState deserialize(int version, byte[] serialized) throws IOException {
            ByteBuffer in = ByteBuffer.wrap(serialized);
            if (version != 1 || serialized.length < Long.BYTES + Integer.BYTES) {
                throw new IOException("unknown Redis writer state (version " + version + ")");
            }
            long snapshotMs = in.getLong();
            int n = in.getInt();
            if (n < 0 || in.remaining() != (long) n * Long.BYTES) {
                throw new IOException("a corrupt Redis writer state (" + n + " windows)");
            }
            long[] finals = new long[n];
            for (int i = 0; i < n; i++) {
                finals[i] = in.getLong();
            }
            return new WriterState(snapshotMs, finals);
        }
    }
}
