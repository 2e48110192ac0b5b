"""Long-running jobs started on top of the platform (the demo's Flink job and generator).

They are not platform components, but ``make down`` must not leave them behind: a demo killed
with SIGKILL, or a crash, orphans them with a gigabyte of JVM. Each job runs in its own
process group (``start_new_session``) and records that group's id in ``<state>/jobs/NAME.pid``;
``stop_all`` stops every recorded group, whatever became of the process that started it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

from localplatform import procs


def pid_file(jobs_dir: Path, name: str) -> Path:
    """Where the job ``name`` records its process group."""
    return jobs_dir / f"{name}.pid"


def record(jobs_dir: Path, name: str, pgid: int) -> Path:
    """Record that the job ``name`` runs as process group ``pgid``."""
    jobs_dir.mkdir(parents=True, exist_ok=True)
    path = pid_file(jobs_dir, name)
    path.write_text(f"{pgid}\n")
    return path


def group_alive(pgid: int) -> bool:
    """True while any process of the group ``pgid`` runs (zombies excluded)."""
    return any(procs.is_alive(pid) for pid in group_members(pgid))


def group_members(pgid: int, proc_root: Path = Path("/proc")) -> list[int]:
    """The PIDs of the process group ``pgid`` (read from ``/proc``)."""
    members = []
    for entry in proc_root.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def stop_group(pgid: int, timeout_s: float = 20.0) -> bool:
    """Stop the process group ``pgid``; True when something of it was running.

    SIGTERM to the group and to every descendant of its leader (a child may start a session
    of its own), then SIGKILL to what is left after ``timeout_s``.
    """
    tree = set(group_members(pgid))
    if procs.is_alive(pgid):
        tree.update(procs.descendants(pgid, procs.parent_map()))
    tree = {p for p in tree if procs.is_alive(p)}
    if not tree:
        return False
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGTERM)
    for pid in tree:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and any(procs.is_alive(p) for p in tree):
        time.sleep(0.2)
    for pid in tree:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
    for pid in tree:  # our own children (the demo's), so they leave no zombie
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)
    return True


def forget(jobs_dir: Path, name: str) -> None:
    """Remove the record of a job that has stopped."""
    pid_file(jobs_dir, name).unlink(missing_ok=True)


def running(jobs_dir: Path) -> dict[str, int]:
    """Recorded jobs whose process group still runs: name -> pgid."""
    found = {}
    for path in sorted(jobs_dir.glob("*.pid")):
        pgid = procs.read_pid(path)
        if pgid is not None and group_alive(pgid):
            found[path.stem] = pgid
    return found


def stop_all(jobs_dir: Path) -> list[str]:
    """Stop every recorded job and remove the records; the names of those that ran."""
    stopped = []
    for path in sorted(jobs_dir.glob("*.pid")):
        pgid = procs.read_pid(path)
        if pgid is not None and stop_group(pgid):
            stopped.append(path.stem)
        path.unlink(missing_ok=True)
    return stopped
