"""The PyFlink sessionizer: raw click events to validated sessions and windowed aggregates.

- ``job``: the job, top to bottom: nine SQL stages (``sql/N_stage.sql``) in pipeline order.
- ``stages``: reads the stage files; ``render`` is the one place values become SQL.
- ``settings``: the job's settings (the pipeline's from ``augury.settings``, plus its own).
- ``environment``: the TableEnvironment, the job's jar on the class path, checkpoints.
- ``contract``: the event contract as the JVM's ParseClick/ClickTime take it.
- ``redis_sink``: the job's Redis sink (Java, ``src/main/java/io/augury/flink/redis``, the
  ``augury-redis`` connector) driven from Python, for tests, benchmarks and fixtures.
- ``inputs``: a replay's input (a path, or an S3 prefix downloaded).
- ``main``: Managed Flink's entry point (the zip's ``main.py``).
- ``__main__``: ``python -m flink_app --help``.
"""
