"""The PyFlink sessionizer: raw click events to validated sessions and one-minute aggregates.

- ``settings``: property groups (Managed Flink's application properties, env, flags).
- ``sql``: the SQL of the job, generated from the event contract (hot path in the JVM).
- ``udfs``: the Redis sink, vectorized Python functions at the edge.
- ``redis_writer``: idempotent, pipelined writes under ``augury.redis_keys``.
- ``job``: assembles environment, sources, views and sinks.
- ``reference``: a plain-Python reference of the semantics, for tests.
- ``__main__``: ``python -m flink_app --help``.
"""
