"""Augury's local platform: LocalStack community on the host (or in Docker) and a Redis server.

``python -m localplatform up|down|status|logs|install`` (``make up``/``down``/``status``); the
package is installed with the project (``make venv``), so it imports from anywhere in the venv.
"""
