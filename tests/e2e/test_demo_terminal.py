"""``make demo`` the way a person runs it: in a terminal, watched, then Ctrl-C or a closed window.

Each test runs the real demo in a pseudo-terminal (``demo.terminal``: the pty is the demo's
controlling terminal, its screen is emulated) and reads the screen, not the byte stream.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from augury.settings import PipelineSettings
from demo.live import WINDOW_ROW, window_title
from demo.runners import child_env
from demo.terminal import Terminal
from localplatform import jobs
from localplatform.config import REPO_ROOT, PlatformConfig
from tests.e2e.test_demo import _shop_visit

VIEW = window_title(PipelineSettings.from_env()).split(" (")[0]  # "One-minute windows"
TOTALS = re.compile(r"accepted (\d+)\s+invalid \(dead letter\) (\d+)\s+late (\d+)")
FRESH = re.compile(r"newest result (\d+\.\d)s ago")
DEMO_JOBS = ("flink", "generator")


def _env() -> dict[str, str]:
    return child_env()


@pytest.fixture
def shop_port() -> int:
    """A free port for the demo's collector and shop (the test opens the shop there)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def demo(platform_up: PlatformConfig, shop_port: int) -> Iterator[Terminal]:
    # --duration caps a run whose test failed before it could stop it.
    term = Terminal([sys.executable, "-m", "demo", "--api-port", "0", "--rate", "30",
                     "--duration", "6", "--collector-port", str(shop_port)],
                    env=_env())  # fmt: skip
    yield term
    term.close()
    jobs.stop_all(platform_up.jobs_dir)  # whatever a failed test left behind


def _running_jobs(cfg: PlatformConfig, term: Terminal) -> dict[str, int]:
    """The demo's recorded jobs (process groups), once both have started."""
    term.wait_for(lambda s: "6/6 live view" in s or VIEW in s, 300, "the live view")
    deadline = time.monotonic() + 30
    while (found := jobs.running(cfg.jobs_dir)).keys() < set(DEMO_JOBS):
        assert time.monotonic() < deadline, found
        time.sleep(0.5)
    return {name: found[name] for name in DEMO_JOBS}


def _assert_gone(groups: dict[str, int], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while any(jobs.group_alive(g) for g in groups.values()):
        alive = {n: g for n, g in groups.items() if jobs.group_alive(g)}
        assert time.monotonic() < deadline, f"still running: {alive}"
        time.sleep(0.5)


def _accepted(screen: str) -> int:
    match = TOTALS.search(screen)
    return int(match.group(1)) if match else -1


def test_the_live_view_shows_windows_totals_and_freshness_and_ctrl_c_stops_everything(
    demo: Terminal, platform_up: PlatformConfig, shop_port: int
) -> None:
    groups = _running_jobs(platform_up, demo)
    first = demo.wait_for(lambda s: WINDOW_ROW.search(s) is not None
                          and _accepted(s) > 0 and FRESH.search(s) is not None,
                          120, "a window row, the totals and the freshness")  # fmt: skip
    assert VIEW in first and "Recent sessions" in first
    assert "Ctrl-C stops" in first and "events produced" in first
    assert "scheduled run" in first  # what the generator waits for, or when the next run is due
    before = _accepted(first)
    second = demo.wait_for(lambda s: _accepted(s) > before, 60, "the totals to grow")
    assert _accepted(second) > before

    # A person clicks around the demo shop: the view gets a table of their own sessions,
    # which says when the session will show, then shows it (a session gap after the clicks).
    ids = _shop_visit(f"http://127.0.0.1:{shop_port}/shop/")
    demo.wait_for(lambda s: "Your sessions" in s and "visitor(s) clicking" in s, 60,
                  "the shop's table, waiting for the session")  # fmt: skip
    # The screen is read while the view redraws: wait for the row itself, not for the caption
    # to be gone (a half-drawn frame has no caption yet).
    shown = demo.wait_for(lambda s: ids["deviceId"][:12] in s.split("Your sessions", 1)[-1],
                          240, "the shop visitor's session")  # fmt: skip
    table = shown.split("Your sessions", 1)[1]
    assert ids["deviceId"][:12] in table, shown

    demo.press_ctrl_c()
    assert demo.wait(60) == 130
    _assert_gone(groups)
    assert not any(jobs.pid_file(platform_up.jobs_dir, name).exists() for name in DEMO_JOBS)


@pytest.mark.parametrize(
    "how", ["the terminal closes", "SIGTERM"], ids=["closed-terminal", "sigterm"]
)
def test_a_closed_terminal_or_sigterm_stops_the_generator_and_the_job(
    demo: Terminal, platform_up: PlatformConfig, how: str
) -> None:
    groups = _running_jobs(platform_up, demo)
    if how == "SIGTERM":  # a service manager, `kill`, a container stopping
        os.kill(demo.pid, signal.SIGTERM)
        expected = 128 + signal.SIGTERM
    else:  # SIGHUP from the kernel; every later write to the terminal fails
        demo.hang_up()
        expected = 128 + signal.SIGHUP
    assert demo.wait(60) == expected
    _assert_gone(groups)


def test_make_down_stops_what_a_killed_demo_left_behind(
    demo: Terminal, platform_up: PlatformConfig
) -> None:
    groups = _running_jobs(platform_up, demo)
    os.kill(demo.pid, signal.SIGKILL)  # no cleanup at all
    demo.wait(30)
    time.sleep(2)
    assert all(jobs.group_alive(g) for g in groups.values()), "left behind, as a crash would"
    # `make down` with only the jobs part, so the session's platform stays up for other tests.
    done = subprocess.run([sys.executable, "-m", "localplatform", "down", "jobs"],
                          cwd=REPO_ROOT, env=_env(), capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "job flink" in done.stdout and "job generator" in done.stdout
    _assert_gone(groups, timeout_s=5)
