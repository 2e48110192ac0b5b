package io.augury.flink;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The contract as a command, for tests: {@link ClickContract} over many records in one JVM.
 *
 * <p>{@code java -cp augury-flink-connectors.jar io.augury.flink.ContractCheck NOW_MS}. Input
 * on stdin: length-prefixed frames (a 4-byte big-endian length, then that many bytes); the
 * first frame is the rules JSON ({@code flink_app/contract.py}), each further frame one record.
 * Output on stdout: one JSON object per record, in order: {@code reason} (null when valid),
 * {@code event_time_ms} (null when invalid), {@code values} and {@code text}, as
 * {@link ParseClick} returns them.
 */
public final class ContractCheck {
    private ContractCheck() {}

    public static void main(String[] args) throws IOException {
        long nowMs = Long.parseLong(args[0]);
        DataInputStream in = new DataInputStream(new BufferedInputStream(System.in, 1 << 16));
        byte[] rules = frame(in);
        if (rules == null) {
            throw new IllegalArgumentException("no rules JSON on stdin");
        }
        ClickContract contract = ClickContract.of(new String(rules, StandardCharsets.UTF_8));
        OutputStream out = new BufferedOutputStream(System.out, 1 << 16);
        try (JsonGenerator g = new JsonFactory().createGenerator(out, JsonEncoding.UTF8)) {
            g.setRootValueSeparator(null);
            for (byte[] record = frame(in); record != null; record = frame(in)) {
                ClickContract.Verdict v = contract.check(record, nowMs);
                g.writeStartObject();
                g.writeStringField("reason", v.reason);
                if (v.reason == null) {
                    g.writeNumberField("event_time_ms", v.eventTimeMs);
                } else {
                    g.writeNullField("event_time_ms");
                }
                g.writeArrayFieldStart("values");
                for (String value : v.values) {
                    g.writeString(value);
                }
                g.writeEndArray();
                g.writeStringField("text", v.text());
                g.writeEndObject();
                g.writeRaw('\n');
            }
        }
    }

    private static byte[] frame(DataInputStream in) throws IOException {
        int length;
        try {
            length = in.readInt();
        } catch (EOFException e) {
            return null;
        }
        byte[] data = new byte[length];
        in.readFully(data);
        return data;
    }
}
