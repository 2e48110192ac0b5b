"""Installing Debian packages the platform needs (as root, or with password-less sudo)."""

from __future__ import annotations

import os
import shutil
import subprocess

from localplatform.console import step


def privilege_prefix() -> list[str] | None:
    """``[]`` as root, ``[sudo, -n]`` with password-less sudo, None when apt-get cannot run."""
    if shutil.which("apt-get") is None:
        return None
    if os.geteuid() == 0:
        return []
    sudo = shutil.which("sudo")
    if sudo and subprocess.run([sudo, "-n", "true"], capture_output=True).returncode == 0:
        return [sudo, "-n"]
    return None


def install(packages: list[str], missing_message: str) -> None:
    """``apt-get install`` the packages; FileNotFoundError(missing_message + apt's words)."""
    prefix = privilege_prefix()
    if prefix is None:
        raise FileNotFoundError(missing_message)
    step(f"installing Debian's {' '.join(packages)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*prefix, "apt-get", "update", "-qq"], capture_output=True, env=env)
    result = subprocess.run(
        [*prefix, "apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise FileNotFoundError(f"{missing_message}\napt-get said:\n{result.stderr[-2000:]}")
