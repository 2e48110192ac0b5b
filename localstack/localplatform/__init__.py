"""Augury's local platform: LocalStack community on the host (or in Docker) and a Redis server.

``python -m localplatform up|down|status|logs|install`` (run with ``PYTHONPATH=.:localstack``;
the Makefile's ``make up``/``down``/``status`` do that).
"""
