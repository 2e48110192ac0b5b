"""The mock-click generator: realistic click traffic into Kinesis, on an EventBridge schedule.

- ``config``: the generator's settings (environment, then the invocation's overrides).
- ``traffic``: the pure traffic model (users, devices, funnels, sessions, injected faults).
- ``kinesis_writer``: PutRecords batching and retry of failed records only.
- ``handler``: the Lambda handler (Powertools logger, metrics, parser, tracer).
- ``local_runner``: invokes the handler from the real EventBridge schedule in LocalStack
  (bridging the wait for its first event when asked).
- ``__main__``: ``python -m lambdas.clickgen --help``.
"""
