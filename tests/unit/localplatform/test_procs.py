from __future__ import annotations

import os
import time
from pathlib import Path

from localplatform import procs


def test_descendants_walks_the_whole_tree_nearest_first() -> None:
    parents = {2: 1, 3: 1, 4: 2, 5: 4, 9: 8}
    assert procs.descendants(1, parents) == [2, 3, 4, 5]
    assert procs.descendants(8, parents) == [9]
    assert procs.descendants(5, parents) == []


def test_read_pid(tmp_path: Path) -> None:
    pid_file = tmp_path / "x.pid"
    assert procs.read_pid(pid_file) is None
    pid_file.write_text("garbage")
    assert procs.read_pid(pid_file) is None
    pid_file.write_text("1234\n")
    assert procs.read_pid(pid_file) == 1234


def test_stop_tree_also_stops_children_in_their_own_sessions(tmp_path: Path) -> None:
    # The parent starts a grandchild in a new session, as LocalStack's JVMs and kinesis-mock
    # do; killing the parent's process group alone would orphan it.
    child_pid_file = tmp_path / "child.pid"
    pid = procs.spawn(
        ["bash", "-c", f"setsid sleep 300 & echo $! > {child_pid_file}; sleep 300"],
        pid_file=tmp_path / "parent.pid",
        log_file=tmp_path / "log",
        env=dict(os.environ),
        cwd=tmp_path,
    )
    deadline = time.monotonic() + 10
    while procs.read_pid(child_pid_file) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    child = procs.read_pid(child_pid_file)
    assert child is not None and procs.is_alive(child)
    assert child in procs.descendants(pid, procs.parent_map())

    assert procs.stop_tree(pid, timeout_s=5) is True
    assert not procs.is_alive(pid)
    assert not procs.is_alive(child)
    assert procs.stop_tree(pid) is False  # already gone


def test_tail(tmp_path: Path) -> None:
    log = tmp_path / "log"
    assert procs.tail(log, 3) == ""
    log.write_text("".join(f"line {i}\n" for i in range(10)))
    assert procs.tail(log, 3) == "line 7\nline 8\nline 9"


def test_port_open_on_a_closed_port() -> None:
    assert procs.port_open("127.0.0.1", 9) is False


def test_running_and_stop_recorded(tmp_path: Path) -> None:
    pid_file = tmp_path / "sleep.pid"
    assert procs.running(pid_file) is None
    assert procs.stop_recorded(pid_file) is False
    pid = procs.spawn(["sleep", "300"], pid_file=pid_file, log_file=tmp_path / "log",
                      env=dict(os.environ), cwd=tmp_path)  # fmt: skip
    assert procs.running(pid_file) == pid
    assert procs.stop_recorded(pid_file, timeout_s=5) is True
    assert not pid_file.exists() and not procs.is_alive(pid)
