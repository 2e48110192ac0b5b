"""Jobs recorded on the platform are stopped by ``down``, whoever started them."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from localplatform import jobs, platform
from localplatform.config import PlatformConfig


def _group_with_a_grandchild() -> subprocess.Popen[bytes]:
    """A process group whose leader has a child that starts a session of its own."""
    script = (
        "import subprocess, time; "
        "subprocess.Popen(['sleep', '300'], start_new_session=True); time.sleep(300)"
    )
    return subprocess.Popen([sys.executable, "-c", script], start_new_session=True)


def _wait_for_child(pid: int) -> None:
    from localplatform import procs

    deadline = time.monotonic() + 10
    while not procs.descendants(pid, procs.parent_map()):
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_stop_all_stops_each_recorded_group_and_its_descendants(tmp_path: Path) -> None:
    from localplatform import procs

    proc = _group_with_a_grandchild()
    _wait_for_child(proc.pid)
    grandchild = procs.descendants(proc.pid, procs.parent_map())[0]
    jobs.record(tmp_path, "flink", proc.pid)
    assert jobs.running(tmp_path) == {"flink": proc.pid}

    assert jobs.stop_all(tmp_path) == ["flink"]
    proc.wait(timeout=10)
    assert not jobs.group_alive(proc.pid) and not procs.is_alive(grandchild)
    assert jobs.running(tmp_path) == {} and not list(tmp_path.glob("*.pid"))


def test_a_record_of_a_finished_job_is_dropped_quietly(tmp_path: Path) -> None:
    done = subprocess.Popen(["true"], start_new_session=True)
    done.wait()
    jobs.record(tmp_path, "generator", done.pid)
    assert jobs.stop_all(tmp_path) == []
    assert not jobs.pid_file(tmp_path, "generator").exists()


def test_platform_down_stops_the_jobs_first(tmp_path: Path) -> None:
    # A state directory of its own: no LocalStack or Redis of this instance is running.
    cfg = PlatformConfig.from_env({"AUGURY_STATE_DIR": str(tmp_path), "AUGURY_PLATFORM": "host"})
    proc = _group_with_a_grandchild()
    jobs.record(cfg.jobs_dir, "generator", proc.pid)
    assert platform.down(cfg) == ["job generator"]
    proc.wait(timeout=10)
    assert not jobs.group_alive(proc.pid)


def test_a_record_whose_pid_now_belongs_to_another_process_is_dropped_without_a_signal(
    tmp_path: Path,
) -> None:
    bystander = subprocess.Popen(["sleep", "300"], start_new_session=True)
    try:
        started = jobs.start_time(bystander.pid)
        assert started is not None
        # As if a job with this PID had died and the PID had been given to `sleep` since.
        jobs.pid_file(tmp_path, "flink").write_text(f"{bystander.pid} {started - 1}\n")
        assert jobs.running(tmp_path) == {}
        assert jobs.stop_all(tmp_path) == []
        time.sleep(0.5)
        assert bystander.poll() is None  # untouched
        assert not jobs.pid_file(tmp_path, "flink").exists()
    finally:
        bystander.kill()
        bystander.wait()
