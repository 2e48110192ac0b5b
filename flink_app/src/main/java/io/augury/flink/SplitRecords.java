package io.augury.flink;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.functions.TableFunction;

/**
 * The records in one line of the raw archive: zero, one, or several.
 *
 * <p>Firehose concatenates records as they are. A producer that ends each record with a newline
 * (our generator) gives one record per line; one that does not (the AWS CLI, the SDKs, the
 * Kinesis Agent) gives {@code {...}{...}} on one line; Firehose's {@code AppendDelimiterToRecord}
 * after a record that had its own newline gives blank lines. So:
 *
 * <ul>
 *   <li>a blank line (empty, or JSON whitespace only: space, tab, CR, LF) gives no record;
 *   <li>a line that is two or more JSON objects back to back, with only JSON whitespace between
 *       them, gives each object's text (braces and quotes inside strings, and escapes, are
 *       respected; the objects' contents are not validated here);
 *   <li>any other line (one object, or anything that is not a clean sequence of objects) is
 *       passed through unchanged, so the contract judges it with its usual reason.
 * </ul>
 *
 * <p>{@code augury/raw_archive.py}'s {@code split_records} is the same rule in Python.
 */
@FunctionHint(output = @DataTypeHint("BYTES"))
public final class SplitRecords extends TableFunction<byte[]> {

    /** Each record of one line's raw bytes (JSON's structural characters are ASCII, so the
     * bytes of a UTF-8 character, or of a record that is not UTF-8 at all, never look like
     * one: the record is passed on exactly as it was archived, for the contract to judge). */
    public void eval(byte[] line) {
        if (line == null) {
            collect(null);
            return;
        }
        for (byte[] record : split(line)) {
            collect(record);
        }
    }

    /** The records of {@code line} (see the class comment). */
    public static List<byte[]> split(byte[] line) {
        List<int[]> spans = new ArrayList<>();
        int n = line.length;
        int i = 0;
        while (true) {
            while (i < n && isWhitespace(line[i])) {
                i++;
            }
            if (i == n) {
                break;
            }
            if (line[i] != '{') {
                return List.of(line); // not a sequence of objects
            }
            int end = objectEnd(line, i);
            if (end < 0) {
                return List.of(line); // an object that never closes
            }
            spans.add(new int[] {i, end});
            i = end;
        }
        if (spans.size() <= 1) {
            return spans.isEmpty() ? List.of() : List.of(line);
        }
        List<byte[]> records = new ArrayList<>(spans.size());
        for (int[] span : spans) {
            records.add(Arrays.copyOfRange(line, span[0], span[1]));
        }
        return records;
    }

    /** The index just past the object opening at {@code start}, or -1 if it never closes. */
    private static int objectEnd(byte[] line, int start) {
        int depth = 0;
        boolean inString = false;
        for (int i = start; i < line.length; i++) {
            byte c = line[i];
            if (inString) {
                if (c == '\\') {
                    i++; // the escaped character's first byte (the others are not ASCII)
                } else if (c == '"') {
                    inString = false;
                }
            } else if (c == '"') {
                inString = true;
            } else if (c == '{') {
                depth++;
            } else if (c == '}' && --depth == 0) {
                return i + 1;
            }
        }
        return -1;
    }

    private static boolean isWhitespace(byte c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
    }
}
