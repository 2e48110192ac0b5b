package io.augury.flink.redis;

/**
 * The Lua the writer sends with EVAL (one round trip; never looked up first). Each touches one
 * key, so each also runs on Redis Cluster and ElastiCache Serverless.
 */
final class Scripts {
    private Scripts() {}

    private static final String RAISE_FROM = "for i = %d, #ARGV, 2 do\n"
            + "  local stored = redis.call('HGET', KEYS[1], ARGV[i])\n"
            + "  if (not stored) or tonumber(ARGV[i + 1]) > tonumber(stored) then\n"
            + "    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])\n"
            + "  end\n"
            + "end\n"
            + "return 0\n";

    /** Each field of the hash KEYS[1] raised to its value in ARGV (field, value pairs), never lowered. */
    static final String RAISE = String.format(RAISE_FROM, 1);

    /**
     * The totals: ARGV[1] is when the counting job's state began. Counts of the same state are
     * raised, never lowered; counts of another (a job started without state) replace them.
     */
    static String totals(String sinceField) {
        String field = "'" + sinceField.replace("'", "\\'") + "'";
        return "if redis.call('HGET', KEYS[1], " + field + ") ~= ARGV[1] then\n"
                + "  redis.call('DEL', KEYS[1])\n"
                + "  redis.call('HSET', KEYS[1], " + field + ", ARGV[1])\n"
                + "end\n"
                + String.format(RAISE_FROM, 2);
    }
}
