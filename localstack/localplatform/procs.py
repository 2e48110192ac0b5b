"""Background processes tracked by PID files, stopped together with every descendant."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path


def read_pid(pid_file: Path) -> int | None:
    """The PID recorded in ``pid_file``, or None when there is none or it is not a number."""
    try:
        text = pid_file.read_text().strip()
    except FileNotFoundError:
        return None
    return int(text) if text.isdigit() else None


def is_alive(pid: int) -> bool:
    """True when ``pid`` is a running process (zombies count as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError, ProcessLookupError):
        try:
            os.kill(pid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True
    return state not in ("Z", "X")


def parent_map(proc_root: Path = Path("/proc")) -> dict[int, int]:
    """Map every visible PID to its parent PID, read from ``/proc``."""
    parents: dict[int, int] = {}
    for entry in proc_root.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        parents[int(entry.name)] = int(fields[1])
    return parents


def descendants(pid: int, parents: Mapping[int, int]) -> list[int]:
    """All descendants of ``pid`` in ``parents`` (child -> parent), nearest first."""
    children: dict[int, list[int]] = {}
    for child, parent in parents.items():
        children.setdefault(parent, []).append(child)
    found: list[int] = []
    frontier = [pid]
    while frontier:
        nxt: list[int] = []
        for p in frontier:
            for c in sorted(children.get(p, [])):
                found.append(c)
                nxt.append(c)
        frontier = nxt
    return found


def spawn(
    argv: Sequence[str], *, pid_file: Path, log_file: Path, env: Mapping[str, str], cwd: Path
) -> int:
    """Start ``argv`` detached in its own session, logging to ``log_file``; record its PID."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
        )
    pid_file.write_text(f"{proc.pid}\n")
    return proc.pid


def _signal_all(pids: Sequence[int], sig: signal.Signals) -> None:
    for p in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(p, sig)


def stop_tree(pid: int, *, timeout_s: float = 20.0) -> bool:
    """Stop ``pid`` and all its descendants: SIGTERM, then SIGKILL after ``timeout_s``.

    Descendants are collected before the parent is signalled, because many children
    (LocalStack's JVMs, kinesis-mock) start their own sessions and would otherwise be
    orphaned. Returns True when something was running.
    """
    if not is_alive(pid):
        return False
    tree = [pid, *descendants(pid, parent_map())]
    _signal_all([pid], signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and is_alive(pid):
        time.sleep(0.2)
    # Give children that follow their parent a moment, then make sure.
    grace = time.monotonic() + 3
    while time.monotonic() < grace and any(is_alive(p) for p in tree):
        _signal_all([p for p in tree if is_alive(p)], signal.SIGTERM)
        time.sleep(0.3)
    _signal_all([p for p in tree if is_alive(p)], signal.SIGKILL)
    _reap(pid)
    return True


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def running(pid_file: Path) -> int | None:
    """The PID recorded in ``pid_file`` when that process still runs, else None."""
    pid = read_pid(pid_file)
    return pid if pid is not None and is_alive(pid) else None


def stop_recorded(pid_file: Path, timeout_s: float = 20.0) -> bool:
    """Stop the process tree recorded in ``pid_file`` and remove the file; True if it ran."""
    pid = read_pid(pid_file)
    stopped = pid is not None and stop_tree(pid, timeout_s=timeout_s)
    pid_file.unlink(missing_ok=True)
    return stopped


def port_open(host: str, port: int, timeout_s: float = 0.5) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def tail(path: Path, lines: int) -> str:
    """The last ``lines`` lines of a text file ('' when it does not exist)."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 256 * 1024))
            data = fh.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(data.splitlines()[-lines:])
