"""A command in a real pseudo-terminal, its screen emulated the way a person sees it.

The child gets the pty as its controlling terminal (so Ctrl-C is a real SIGINT from the line
discipline, and closing the terminal is a real hang-up) and a fixed window size. Everything it
writes goes through a VT100 emulator (pyte), so ``text()`` is the screen, after every cursor
movement and redraw, not the byte stream. The demo's tests and ``make screenshots`` use it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pyte

from localplatform.config import REPO_ROOT

CTRL_C = b"\x03"


class Terminal:
    """``argv`` running in a ``cols`` x ``rows`` pseudo-terminal, read into an emulated screen."""

    def __init__(self, argv: Sequence[str], *, cols: int = 200, rows: int = 60,
                 env: Mapping[str, str] | None = None, cwd: Path = REPO_ROOT) -> None:  # fmt: skip
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.lock = threading.Lock()
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        environment = {**(env if env is not None else os.environ), "TERM": "xterm-256color",
                       "COLUMNS": str(cols), "LINES": str(rows)}  # fmt: skip
        environment.pop("NO_COLOR", None)
        environment.pop("CI", None)  # rich renders plainly under CI; a terminal is a terminal

        def controlling_tty() -> None:  # in the child, after setsid (start_new_session)
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(
            list(argv), cwd=cwd, env=environment, stdin=slave, stdout=slave, stderr=slave,
            start_new_session=True, preexec_fn=controlling_tty, close_fds=True,
        )  # fmt: skip
        os.close(slave)
        self.master: int | None = master
        self.closing = threading.Event()
        self.reader = threading.Thread(target=self._read, args=(master,), daemon=True)
        self.reader.start()

    @property
    def pid(self) -> int:
        """The child's PID (the session leader of the terminal)."""
        return self.proc.pid

    def _read(self, master: int) -> None:
        # Never blocked in read() for long: closing the master while a read is pending would
        # keep the terminal open (and the hang-up from happening) until the read returns.
        while not self.closing.is_set():
            if not select.select([master], [], [], 0.2)[0]:
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child side is closed
                return
            if not data:
                return
            with self.lock:
                self.stream.feed(data)

    def text(self) -> str:
        """The screen as it shows now, one line per row (trailing spaces removed)."""
        with self.lock:
            return "\n".join(line.rstrip() for line in self.screen.display)

    def wait_for(self, predicate: Callable[[str], bool], timeout_s: float,
                 what: str = "the screen to change") -> str:  # fmt: skip
        """The screen once ``predicate(screen)`` holds; TimeoutError (with the screen) if not."""
        deadline = time.monotonic() + timeout_s
        while True:
            screen = self.text()
            if predicate(screen):
                return screen
            if self.proc.poll() is not None:
                raise RuntimeError(f"exited ({self.proc.returncode}) waiting for {what}:\n{screen}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {what} in {timeout_s:.0f} s; the screen:\n{screen}")
            time.sleep(0.5)

    def press_ctrl_c(self) -> None:
        """Type Ctrl-C: the terminal sends SIGINT to its foreground process group."""
        assert self.master is not None, "the terminal is closed"
        os.write(self.master, CTRL_C)

    def hang_up(self) -> None:
        """Close the terminal (a closed window): the kernel sends SIGHUP to its session."""
        master, self.master = self.master, None
        if master is not None:
            self.closing.set()
            self.reader.join(timeout=5)
            os.close(master)

    def wait(self, timeout_s: float) -> int:
        """The child's exit code (TimeoutExpired if it is still running)."""
        code = self.proc.wait(timeout=timeout_s)
        self.reader.join(timeout=5)
        return code

    def close(self) -> None:
        """Hang up and make sure the child is gone."""
        self.hang_up()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=30)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
