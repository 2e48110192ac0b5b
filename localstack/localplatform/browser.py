"""The headless browser the dashboard's tests drive: Debian's Chromium (Playwright attaches).

Playwright's own browser download cannot run offline; its Python package drives any Chromium
given its path. ``AUGURY_CHROMIUM`` names one; otherwise ``chromium`` on the PATH, installed
from Debian's packages when missing.
"""

from __future__ import annotations

import os
import shutil

from augury import env as env_names
from localplatform import apt

APT_PACKAGE = "chromium"
MISSING_MESSAGE = (
    "No Chromium found and it could not be installed here. Install it (Debian/Ubuntu: "
    "sudo apt-get install chromium) or set AUGURY_CHROMIUM to a Chromium or Chrome binary."
)
# Without these, Chromium reaches out to Google at start (refused on closed networks) and
# needs a sandbox that containers running as root do not give.
LAUNCH_ARGS = (
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)  # fmt: skip


def find() -> str | None:
    """The Chromium binary to use, or None."""
    configured = os.environ.get(env_names.CHROMIUM)
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def install() -> str:
    """Chromium's path, installing Debian's package when none is present."""
    found = find()
    if found:
        return found
    if os.environ.get(env_names.CHROMIUM):
        raise FileNotFoundError(
            f"{env_names.CHROMIUM}={os.environ[env_names.CHROMIUM]} is not executable"
        )
    apt.install([APT_PACKAGE], MISSING_MESSAGE)
    found = find()
    if found is None:
        raise FileNotFoundError(MISSING_MESSAGE)
    return found
