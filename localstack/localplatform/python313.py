"""Finding the Python 3.13 interpreter that LocalStack community (localstack-core 2026.3) needs."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path

from augury import env as env_names

REQUIRED = "3.13"


def candidates(
    explicit: str | None,
    which: Callable[[str], str | None] = shutil.which,
    pyenv_root: str | None = None,
    globber: Callable[[str], Iterable[str]] = glob.glob,
) -> list[str]:
    """Interpreters to try, best first: the explicit setting, PATH, then pyenv's versions."""
    found: list[str] = []
    if explicit:
        found.append(explicit)
    on_path = which(f"python{REQUIRED}")
    if on_path:
        found.append(on_path)
    root = pyenv_root or os.environ.get(env_names.PYENV_ROOT) or str(Path.home() / ".pyenv")
    found.extend(sorted(globber(f"{root}/versions/{REQUIRED}*/bin/python{REQUIRED}"), reverse=True))
    return found


def is_python313(path: str) -> bool:
    """True when ``path`` runs and is Python 3.13 (pyenv shims may exist but not run)."""
    if not os.access(path, os.X_OK):
        return False
    try:
        out = subprocess.run(
            [path, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, timeout=20,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and out.stdout.strip() == REQUIRED


def find(explicit: str | None) -> str:
    """The explicit setting (which must work), else the first working Python 3.13 found."""
    if explicit:
        if is_python313(explicit):
            return explicit
        raise FileNotFoundError(
            f"{env_names.LOCALSTACK_PYTHON}={explicit!r} is not an executable Python {REQUIRED}"
        )
    for path in candidates(None):
        if is_python313(path):
            return path
    raise FileNotFoundError(
        f"LocalStack community needs Python {REQUIRED}, and none was found on PATH or in pyenv. "
        f"Install one (e.g. `pyenv install {REQUIRED}`, `uv python install {REQUIRED}`, or your "
        f"distribution's python{REQUIRED}), or point {env_names.LOCALSTACK_PYTHON} at it."
    )
