package io.augury.flink.redis;

import java.util.ArrayList;
import java.util.List;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.LogicalTypeRoot;
import org.apache.flink.table.types.logical.RowType;

/**
 * A sink table's rows into the writes of its kind, column by column, by name. A table without a
 * column its kind needs fails when the job is planned, naming the column.
 */
final class RowAdders {
    private RowAdders() {}

    /** Copies a row's columns into the waiting writes of its kind. */
    interface RowAdder extends java.io.Serializable {
        void add(RowData row, Writes writes);
    }

    /** The adder for a table of {@code kindOfTable} with columns {@code rowType}. */
    static RowAdder of(Kind kindOfTable, RowType rowType, RedisLayout layout) {
        Columns c = new Columns(rowType, kindOfTable.option);
        switch (kindOfTable) {
            case WINDOWS: {
                int ws = c.need("ws", LogicalTypeRoot.BIGINT);
                int fin = c.need("final", LogicalTypeRoot.BOOLEAN);
                int kind = c.need("kind", LogicalTypeRoot.VARCHAR);
                int field = c.need("field", LogicalTypeRoot.VARCHAR);
                int n = c.need("n", LogicalTypeRoot.BIGINT);
                int users = c.need("users", LogicalTypeRoot.BIGINT);
                int bots = c.need("bot_events", LogicalTypeRoot.BIGINT);
                return (row, writes) -> {
                    WindowWrites w = (WindowWrites) writes;
                    String k = row.getString(kind).toString();
                    if (WindowWrites.CORE.equals(k)) {
                        w.core(row.getLong(ws), row.getBoolean(fin), row.getLong(n), row.getLong(users),
                                row.getLong(bots));
                    } else {
                        w.count(row.getLong(ws), row.getBoolean(fin), k, row.getString(field).toString(),
                                row.getLong(n));
                    }
                };
            }
            case SESSIONS: {
                int user = c.need("user_id", LogicalTypeRoot.VARCHAR);
                int device = c.need("device_id", LogicalTypeRoot.VARCHAR);
                int start = c.need("start_ms", LogicalTypeRoot.BIGINT);
                int end = c.need("end_ms", LogicalTypeRoot.BIGINT);
                int events = c.need("events", LogicalTypeRoot.BIGINT);
                int first = c.need("first_event", LogicalTypeRoot.VARCHAR);
                int last = c.need("last_event", LogicalTypeRoot.VARCHAR);
                int country = c.need("countrycode", LogicalTypeRoot.VARCHAR);
                return (row, writes) -> ((SessionWrites) writes).add(row.getString(user).toString(),
                        row.getString(device).toString(), row.getLong(start), row.getLong(end),
                        row.getLong(events), row.getString(first).toString(), row.getString(last).toString(),
                        row.getString(country).toString());
            }
            default: {
                List<Integer> counters = new ArrayList<>();
                for (String name : layout.totalFields()) {
                    counters.add(c.need(name, LogicalTypeRoot.BIGINT));
                }
                int since = c.need(layout.since(), LogicalTypeRoot.VARCHAR);
                int[] at = counters.stream().mapToInt(Integer::intValue).toArray();
                return (row, writes) -> {
                    long[] counts = new long[at.length];
                    for (int i = 0; i < at.length; i++) {
                        counts[i] = row.isNullAt(at[i]) ? 0 : row.getLong(at[i]);
                    }
                    ((TotalsWrites) writes).add(counts, row.getString(since).toString());
                };
            }
        }
    }

    /** A table's columns by name. */
    private static final class Columns {
        private final RowType type;
        private final String kind;

        Columns(RowType type, String kind) {
            this.type = type;
            this.kind = kind;
        }

        int need(String name, LogicalTypeRoot root) {
            int i = type.getFieldNames().indexOf(name);
            if (i < 0) {
                throw new ValidationException("a Redis sink table that writes " + kind + " needs a column "
                        + name + " " + root + "; it has " + type.getFieldNames());
            }
            LogicalType t = type.getTypeAt(i);
            if (t.getTypeRoot() != root) {
                throw new ValidationException("column " + name + " of a Redis sink table that writes "
                        + kind + " must be " + root + ", not " + t);
            }
            return i;
        }
    }
}
