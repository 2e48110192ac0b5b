package io.augury.flink.redis;

/** What a Redis sink table writes (its {@code 'write'} option), and how those rows wait. */
enum Kind {
    /** Window results (early and final), their dimensions and session counts. */
    WINDOWS("windows"),
    /** Closed sessions. */
    SESSIONS("sessions"),
    /** The pipeline totals. */
    TOTALS("totals");

    final String option;

    Kind(String option) {
        this.option = option;
    }

    static Kind of(String option) {
        for (Kind k : values()) {
            if (k.option.equals(option)) {
                return k;
            }
        }
        throw new IllegalArgumentException("option 'write' must be windows, sessions or totals, not '" + option + "'");
    }

    Writes writes(RedisLayout layout, long ttlSeconds, boolean streaming, boolean trim, long windowMs) {
        switch (this) {
            case WINDOWS:
                return new WindowWrites(layout, ttlSeconds, streaming, trim);
            case SESSIONS:
                return new SessionWrites(layout, ttlSeconds, trim, windowMs);
            default:
                return new TotalsWrites(layout, streaming);
        }
    }

}
