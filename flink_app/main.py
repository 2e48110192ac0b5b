"""Managed Service for Apache Flink's entry point: the application's ``python`` run option.

``cdk.packaging`` puts this file at the root of the application zip, beside ``flink_app/``,
``augury/`` and ``lib/`` (the job's jar and its vendored Python dependencies), and the service
runs it as ``main.py``. It makes the zip's packages importable, then runs the streaming job
with the application's property groups (``/etc/flink/application_properties.json``).

Outside the service (the unpacked zip on a local Flink mini-cluster, with
``AUGURY_MANAGED_FLINK_PROPERTIES`` naming a properties file of the service's format) it also
gives the job the zip's jar, which the service would have put on the class path itself.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def zip_paths(root: str) -> list[str]:
    """What goes first on ``sys.path`` when this file runs from the zip's ``root``."""
    return [root, os.path.join(root, "lib", "python")]


def use_zip_jar(root: str) -> Path | None:
    """Outside the service: link the zip's jar to where the job looks for it; the link made.

    Managed Flink puts the run options' ``jarfile`` (``lib/<FLINK_JAR_NAME>``) on the class path.
    A local run takes the jar from ``augury.resources.FLINK_JAR``, which in the unpacked zip is
    ``flink_app/target/<FLINK_JAR_NAME>`` (where ``make flink-jar`` puts it in a checkout): a
    link there to the zip's own jar gives the local mini-cluster the same class path. Nothing
    is done when that jar exists, or when ``augury`` is not the zip's (never in a checkout).
    """
    from augury.resources import FLINK_JAR, FLINK_JAR_NAME

    jar = Path(root, "lib", FLINK_JAR_NAME).resolve()
    if FLINK_JAR.exists() or not jar.exists() or jar.parents[1] not in FLINK_JAR.parents:
        return None
    FLINK_JAR.parent.mkdir(parents=True, exist_ok=True)
    FLINK_JAR.symlink_to(jar)
    return FLINK_JAR


def main() -> int:
    """Run ``python -m flink_app run`` from the unpacked zip."""
    root = os.path.dirname(os.path.abspath(__file__))
    sys.path[:0] = zip_paths(root)
    from flink_app.settings import MANAGED_FLINK_PROPERTIES

    if not MANAGED_FLINK_PROPERTIES.exists():  # the service provides the class path itself
        use_zip_jar(root)
    from flink_app.__main__ import main as run_job

    return run_job(["run"])


if __name__ == "__main__":
    sys.exit(main())
