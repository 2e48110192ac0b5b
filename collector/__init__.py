"""The local HTTP collector: what API Gateway's Kinesis integration is in AWS, on a laptop.

Built from the same definitions (``augury.collector``): the same request models, the same
record mapping, the same answers. ``python -m collector`` serves it.
"""
