"""Managed Service for Apache Flink's entry point: the application's ``python`` run option.

``cdk.packaging`` puts this file at the root of the application zip, beside ``flink_app/``,
``augury/`` and ``lib/`` (the job's jar and its vendored Python dependencies), and the service
runs it as ``main.py``. It makes the zip's packages importable, then runs the streaming job
with the application's property groups (``/etc/flink/application_properties.json``).

Outside the service (the unpacked zip on a local Flink mini-cluster, with
``AUGURY_MANAGED_FLINK_PROPERTIES`` naming a properties file of the service's format) the job
finds the zip's jar itself (``augury.resources.FLINK_JAR``).
"""

from __future__ import annotations

import os
import sys


def zip_paths(root: str) -> list[str]:
    """What goes first on ``sys.path`` when this file runs from the zip's ``root``."""
    return [root, os.path.join(root, "lib", "python")]


def main() -> int:
    """Run ``python -m flink_app run`` from the unpacked zip."""
    sys.path[:0] = zip_paths(os.path.dirname(os.path.abspath(__file__)))
    from flink_app.__main__ import main as run_job

    return run_job(["run"])


if __name__ == "__main__":
    sys.exit(main())
