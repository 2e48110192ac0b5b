"""Long-running jobs started on top of the platform (the demo's Flink job and generator).

They are not platform components, but ``make down`` must not leave them behind: a demo killed
with SIGKILL, or a crash, orphans them with a gigabyte of JVM. Each job runs in its own
process group (``start_new_session``) and records that group's id in ``<state>/jobs/NAME.pid``,
with its leader's start time; ``stop_all`` stops every recorded group, whatever became of the
process that started it. A record whose PID now belongs to another process (the job died, the
PID was reused) is dropped without a signal: a process group's id cannot be reused while any
of its members lives, and a leader is recognised by its start time.
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


def start_time(pid: int, proc_root: Path = Path("/proc")) -> int | None:
    """When ``pid`` started (clock ticks after boot, ``/proc/PID/stat`` field 22), or None."""
    try:
        return int((proc_root / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def record(jobs_dir: Path, name: str, pgid: int) -> Path:
    """Record that the job ``name`` runs as process group ``pgid`` (led by process ``pgid``)."""
    jobs_dir.mkdir(parents=True, exist_ok=True)
    path = pid_file(jobs_dir, name)
    path.write_text(f"{pgid} {start_time(pgid) or 0}\n")
    return path


def read_record(path: Path) -> int | None:
    """The recorded group, when it is still the job's: its leader, if alive, is the one recorded.

    A leader that is gone leaves its group to its members, which keep the id reserved.
    """
    try:
        fields = path.read_text().split()
    except FileNotFoundError:
        return None
    if not fields or not fields[0].isdigit():
        return None
    pgid = int(fields[0])
    started = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else None
    now = start_time(pgid)
    if now is not None and started is not None and now != started:
        return None  # the PID belongs to another process now
    return pgid


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
    if pgid in tree:  # the leader is still in its group: its descendants are the job's too
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
        pgid = read_record(path)
        if pgid is not None and group_alive(pgid):
            found[path.stem] = pgid
    return found


def stop_all(jobs_dir: Path) -> list[str]:
    """Stop every recorded job and remove the records; the names of those that ran."""
    stopped = []
    for path in sorted(jobs_dir.glob("*.pid")):
        pgid = read_record(path)
        if pgid is not None and stop_group(pgid):
            stopped.append(path.stem)
        path.unlink(missing_ok=True)
    return stopped
