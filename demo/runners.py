"""The pipeline's moving parts as child processes: the Flink job and the scheduled generator.

The demo and the freshness bench start them. Each runs in its own process group, logs to a
file of its run directory, and records its group in the platform's jobs directory, so that
``make down`` stops it even when the process that started it is gone (SIGKILL, a crash).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from augury import env as env_names
from augury.events import parse_timestamp_ms
from augury.resources import DEFAULT_STREAM_NAME
from localplatform import jobs
from localplatform.config import REPO_ROOT


def child_env() -> dict[str, str]:
    """The environment a child process gets (``augury.env.for_child_process``)."""
    return env_names.for_child_process(os.environ)


_STARTED: list[ChildProcess] = []


def started() -> list[ChildProcess]:
    """Every child this process started and has not stopped, newest first.

    A child is listed the moment it exists, before its constructor returns, so a signal that
    arrives in between cannot hide it from the cleanup.
    """
    return list(reversed(_STARTED))


class ChildProcess:
    """A command in its own process group, logging to a file, recorded in ``jobs_dir``."""

    def __init__(self, name: str, cmd: list[str], log_path: Path, jobs_dir: Path | None,
                 env: dict[str, str] | None = None) -> None:  # fmt: skip
        self.name = name
        self.log_path = log_path
        self.jobs_dir = jobs_dir
        with log_path.open("a") as log:
            self.proc = subprocess.Popen(
                cmd, cwd=REPO_ROOT, env=env or child_env(), stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        _STARTED.append(self)
        if jobs_dir is not None:
            jobs.record(jobs_dir, name, self.proc.pid)

    @property
    def pid(self) -> int:
        """The child's PID (also its process group's id)."""
        return self.proc.pid

    def check(self) -> None:
        """Raise when the process has exited."""
        if self.proc.poll() is not None:
            tail = self.log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{self.name} exited ({self.proc.returncode}):\n{tail}")

    def stop(self, timeout_s: float = 20.0) -> None:
        """Stop the process and everything it started; forget its record."""
        jobs.stop_group(self.proc.pid, timeout_s=timeout_s)
        self.proc.poll()
        if self.jobs_dir is not None:
            jobs.forget(self.jobs_dir, self.name)
        if self in _STARTED:
            _STARTED.remove(self)


class FlinkJob(ChildProcess):
    """``python -m flink_app run`` from LocalStack's Kinesis into Redis, with checkpoints."""

    def __init__(
        self,
        run_dir: Path,
        redis_url: str,
        localstack_url: str,
        stream: str = DEFAULT_STREAM_NAME,
        sets: tuple[str, ...] = (),
        jobs_dir: Path | None = None,
        name: str = "flink",
    ) -> None:
        self.dead_letter = run_dir / "dead-letter"
        cmd = [
            sys.executable, "-m", "flink_app", "run", "--stream", stream,
            # LocalStack's Kinesis cannot parse the connector's AT_TIMESTAMP requests (LATEST
            # uses them too): read from the start and skip what arrived before this run.
            "--start-position", "TRIM_HORIZON",
            "--set", f"source.skip.arrived.before.ms={int(time.time() * 1000)}",
            "--set", f"source.aws.endpoint={localstack_url}", "--redis-url", redis_url,
            "--dead-letter", str(self.dead_letter), "--checkpoint-dir", str(run_dir / "chk"),
            "--set", "job.checkpoint.interval.seconds=10",
            *(arg for item in sets for arg in ("--set", item)),
        ]  # fmt: skip
        env = child_env()
        env[env_names.FLINK_LOG_DIR] = str(run_dir)  # the JVM's own log next to this run's files
        super().__init__(name, cmd, run_dir / "flink.log", jobs_dir, env)

    def dead_letter_lines(self) -> int:
        """Lines in the committed dead-letter files."""
        return sum(
            len(p.read_text(encoding="utf-8").splitlines())
            for p in self.dead_letter.rglob("*")
            if p.is_file() and not p.name.startswith(".")
        )


@dataclass(frozen=True)
class GeneratorProgress:
    """What the generator has done so far, from its results file."""

    produced: int = 0
    invocations: int = 0
    """Invocations finished."""
    scheduled: int = 0
    """Invocations the schedule triggered, started (the others bridged the wait for the first)."""
    last_scheduled_ms: int | None = None
    """The ``time`` of the newest scheduled event started (None before the first)."""
    traffic_end_ms: int | None = None
    """The newest finished invocation's ``window_end``: no event is stamped at or after it."""

    def next_due_ms(self, now_ms: int, period_ms: int) -> int | None:
        """When the next scheduled event is due: the newest one plus whole periods, after now."""
        if self.last_scheduled_ms is None:
            return None
        periods = max(1, -(-(now_ms - self.last_scheduled_ms) // period_ms))
        return self.last_scheduled_ms + periods * period_ms


def read_progress(lines: list[str]) -> GeneratorProgress:
    """The progress recorded in a results file's complete lines (``--results``)."""
    produced = invocations = scheduled = 0
    last: int | None = None
    end: int | None = None
    for line in lines:
        record = json.loads(line)
        if record.get("event") == "done":
            produced += int(record["sent"])
            invocations += 1
            window_end = parse_timestamp_ms(record.get("window_end", ""))
            if window_end is not None:
                end = window_end if end is None else max(end, window_end)
        elif record.get("event") == "start" and record.get("trigger") == "schedule":
            scheduled += 1
            last = parse_timestamp_ms(record["scheduled_time"])
    return GeneratorProgress(produced, invocations, scheduled, last, end)


class Generator(ChildProcess):
    """The generator's handler on the deployed EventBridge schedule (the local runner).

    It starts producing at once (``--start-now``) and follows the schedule from its first
    event. The handler's logs (Powertools JSON, EMF) go to ``log_path``, never to the
    terminal; each invocation's summary is appended to ``results_path``.
    """

    def __init__(self, run_dir: Path, rate: float, jobs_dir: Path | None = None,
                 name: str = "generator") -> None:  # fmt: skip
        self.results_path = run_dir / "generator-results.jsonl"
        self.results_path.touch()
        cmd = [sys.executable, "-m", "lambdas.clickgen", "--schedule", "--start-now",
               "--rate", f"{rate:g}", "--results", str(self.results_path)]  # fmt: skip
        super().__init__(name, cmd, run_dir / "generator.log", jobs_dir)

    def progress(self) -> GeneratorProgress:
        """Events produced and invocations made so far (complete lines only)."""
        text = self.results_path.read_text()
        lines = text.splitlines() if text.endswith("\n") else text.splitlines()[:-1]
        return read_progress(lines)

    def stop(self, timeout_s: float = 20.0) -> None:
        """Stop at once: SIGINT interrupts the running invocation (SIGTERM would finish it)."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=5)
        super().stop(timeout_s)

    def finish(self, timeout_s: float = 120.0) -> None:
        """Take no new scheduled event; let the running one finish its minute of traffic."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=timeout_s)
        self.stop()
