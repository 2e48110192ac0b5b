package io.augury.flink.traffic;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;

/**
 * Records of the generator's traffic model ({@code lambdas/clickgen/traffic.py}), written by the
 * benchmark as frames (an 8-byte send time in epoch ms, a 4-byte length, the record's bytes), replayed
 * as if sent now: each record's {@code client_timestamp} keeps its distance to its send time (a
 * late event stays late, a future one stays ahead), and its {@code event_id} gets the pass number
 * after the first pass through the pool, so each pass is new traffic (duplicates within a pass
 * stay duplicates). Records that are not such objects (malformed ones) go out as they are.
 */
final class TrafficPool {
    private static final byte[] ID = "\"event_id\":\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] TS = "\"client_timestamp\":\"".getBytes(StandardCharsets.US_ASCII);
    static final DateTimeFormatter FORMAT =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    /** One record: its bytes, and where its id and timestamp values are (-1: kept as is). */
    static final class Template {
        final byte[] bytes;
        final int idStart;
        final int idEnd;
        final int tsStart;
        final int tsEnd;
        final long lagMs; // client_timestamp - send time

        Template(byte[] bytes, int idStart, int idEnd, int tsStart, int tsEnd, long lagMs) {
            this.bytes = bytes;
            this.idStart = idStart;
            this.idEnd = idEnd;
            this.tsStart = tsStart;
            this.tsEnd = tsEnd;
            this.lagMs = lagMs;
        }

        /** The record as sent at {@code nowMs} in pass {@code pass} (0: the pool's own ids). */
        byte[] render(long nowMs, long pass) {
            if (tsStart < 0) {
                return bytes;
            }
            byte[] ts = FORMAT.format(Instant.ofEpochMilli(nowMs + lagMs)).getBytes(StandardCharsets.US_ASCII);
            byte[] suffix = pass == 0 || idStart < 0 ? new byte[0]
                    : ("~" + pass).getBytes(StandardCharsets.US_ASCII);
            byte[] out = new byte[bytes.length + suffix.length + ts.length - (tsEnd - tsStart)];
            int o = 0;
            int i = 0;
            if (idStart >= 0 && idStart < tsStart) {
                System.arraycopy(bytes, 0, out, 0, idEnd);
                o = idEnd;
                System.arraycopy(suffix, 0, out, o, suffix.length);
                o += suffix.length;
                i = idEnd;
            }
            System.arraycopy(bytes, i, out, o, tsStart - i);
            o += tsStart - i;
            System.arraycopy(ts, 0, out, o, ts.length);
            o += ts.length;
            i = tsEnd;
            if (idStart > tsEnd) {
                System.arraycopy(bytes, i, out, o, idEnd - i);
                o += idEnd - i;
                System.arraycopy(suffix, 0, out, o, suffix.length);
                o += suffix.length;
                i = idEnd;
            }
            System.arraycopy(bytes, i, out, o, bytes.length - i);
            return out;
        }
    }

    final List<Template> records;

    private TrafficPool(List<Template> records) {
        this.records = records;
    }

    static TrafficPool load(Path path) throws IOException {
        List<Template> out = new ArrayList<>();
        try (InputStream raw = Files.newInputStream(path);
             DataInputStream in = new DataInputStream(new BufferedInputStream(raw, 1 << 16))) {
            while (true) {
                long sentMs;
                try {
                    sentMs = in.readLong();
                } catch (EOFException e) {
                    break;
                }
                byte[] bytes = new byte[in.readInt()];
                in.readFully(bytes);
                out.add(template(bytes, sentMs));
            }
        }
        if (out.isEmpty()) {
            throw new IOException("the traffic pool " + path + " is empty");
        }
        return new TrafficPool(out);
    }

    private static Template template(byte[] bytes, long sentMs) {
        int id = valueAt(bytes, ID);
        int ts = valueAt(bytes, TS);
        if (ts < 0) {
            return new Template(bytes, -1, -1, -1, -1, 0);
        }
        int tsEnd = end(bytes, ts);
        try {
            long stamp = Instant.parse(new String(bytes, ts, tsEnd - ts, StandardCharsets.US_ASCII)).toEpochMilli();
            return new Template(bytes, id, id < 0 ? -1 : end(bytes, id), ts, tsEnd, stamp - sentMs);
        } catch (DateTimeParseException | StringIndexOutOfBoundsException e) {
            return new Template(bytes, -1, -1, -1, -1, 0); // an invalid timestamp: kept as is
        }
    }

    /** Where the string value after {@code key} starts, or -1 (absent, or not a plain string). */
    private static int valueAt(byte[] bytes, byte[] key) {
        outer:
        for (int i = 0; i + key.length <= bytes.length; i++) {
            for (int j = 0; j < key.length; j++) {
                if (bytes[i + j] != key[j]) {
                    continue outer;
                }
            }
            int start = i + key.length;
            int end = end(bytes, start);
            return end < 0 ? -1 : start;
        }
        return -1;
    }

    /** The index of the closing quote of a plain string value starting at {@code start}, or -1. */
    private static int end(byte[] bytes, int start) {
        for (int i = start; i < bytes.length; i++) {
            if (bytes[i] == '\\') {
                return -1;
            }
            if (bytes[i] == '"') {
                return i;
            }
        }
        return -1;
    }
}
