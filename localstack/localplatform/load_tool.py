"""The HTTP load tool ``make load`` and the ``collector`` benchmark drive: Debian's ``hey``.

``hey`` paces its requests (``-q``: requests per second per worker, ``-c`` workers, ``-z`` a
duration), which Apache Bench (``ab``) cannot; Debian packages it (bookworm: 0.1.4). Found on
the PATH, installed from Debian's packages when missing, as the platform does for Chromium.
"""

from __future__ import annotations

import shutil

from localplatform import apt

APT_PACKAGE = "hey"
BINARY = "hey"
MISSING_MESSAGE = (
    "No `hey` found and it could not be installed here. Install it (Debian/Ubuntu: "
    "sudo apt-get install hey; elsewhere: go install github.com/rakyll/hey@latest) and put it "
    "on the PATH."
)


def find() -> str | None:
    """The ``hey`` binary on the PATH, or None."""
    return shutil.which(BINARY)


def install() -> str:
    """``hey``'s path, installing Debian's package when it is not on the PATH (idempotent)."""
    found = find()
    if found:
        return found
    apt.install([APT_PACKAGE], MISSING_MESSAGE)
    found = find()
    if found is None:
        raise FileNotFoundError(MISSING_MESSAGE)
    return found
