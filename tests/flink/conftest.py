"""Flink tests share one job per module: start-up costs several seconds.

They run on a real local Flink mini-cluster (pyflink from the flink dependency group, which
`make test` installs) and need the job's jar (`make flink-jar`, also run by `make test`).
"""
