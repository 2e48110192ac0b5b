"""The job's Redis sink (Java, ``io.augury.flink.redis``) driven from Python, one batch at a time.

The Flink job writes Redis through its own connector (``augury-redis``); this runs the very same
writer outside Flink (``RedisWriterCli``, one JVM per :class:`SinkWriter`), so that tests,
benchmarks and fixtures write exactly what the job writes, without a second definition of the
write rules. Rows are in the columns of the sink tables (``flink_app/sql/9_sinks.sql``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from augury.redis_keys import TOTAL_FIELDS, Keys, layout_json
from augury.resources import FLINK_JAR
from augury.settings import PIPELINE_DEFAULTS

CLI: Final = "io.augury.flink.redis.RedisWriterCli"

WindowRow = tuple[int, bool, str, str, int, int | None, int | None]
"""(ws, final, kind, field, n, users, bot_events), as the ``redis_windows`` table."""
SessionRow = tuple[str, str, int, int, int, str, str, str]
"""(user_id, device_id, start_ms, end_ms, events, first_event, last_event, countrycode)."""


def core(ws: int, final: bool, events: int, users: int, bot_events: int) -> WindowRow:
    """A window's core counts (early or final)."""
    return (ws, final, "core", "", events, users, bot_events)


def count(ws: int, final: bool, kind: str, field: str, n: int) -> WindowRow:
    """One count of a window: a ``hash`` field's (``evt:``, ``cc:``) or a ``pages`` member's."""
    return (ws, final, kind, field, n, None, None)


def classpath() -> str:
    """The job's jar, with PyFlink's (for SLF4J, which Flink provides to the job)."""
    import pyflink

    if not FLINK_JAR.exists():
        raise FileNotFoundError(f"{FLINK_JAR} is missing: build it with `make flink-jar`")
    return f"{FLINK_JAR}:{Path(pyflink.__file__).parent / 'lib'}/*"


def command(url: str, keys: Keys, ttl_s: int, streaming: bool,
            **options: object) -> list[str]:  # fmt: skip
    """The writer's command line (``RedisWriterCli``); ``options`` become ``--name-with-dashes``."""
    java = shutil.which("java")
    if java is None:
        raise FileNotFoundError("java is not on PATH")
    args: dict[str, object] = {"url": url, "layout": layout_json(keys.prefix), "ttl-seconds": ttl_s,
                               "mode": "stream" if streaming else "replay"}  # fmt: skip
    args.update((k.replace("_", "-"), v) for k, v in options.items())
    return [
        java,
        "-cp",
        classpath(),
        CLI,
        *(x for k, v in args.items() for x in (f"--{k}", str(v))),
    ]


class SinkError(RuntimeError):
    """The writer failed a batch (Redis unreachable past the give-up time, or a rejected write)."""


class SinkWriter:
    """One writer (a JVM) with the sink's rules: ``streaming`` (a job's) or a replay's.

    ``clock_ms`` gives the time of each batch's write (``updated_ms``/``final_ms``; default: the
    JVM's clock); ``trim`` off keeps every sorted-set member (a benchmark's baseline);
    ``window_ms``: the windows the sessions' writer counts sessions in; ``restored_from_ms``:
    write as a writer restored from a checkpoint whose writer snapshot was taken then, having
    begun the finals of the windows ``restored_finals`` in the interval before it.
    """

    def __init__(self, url: str, keys: Keys, ttl_s: int, streaming: bool = False,
                 clock_ms: Callable[[], int] | None = None, give_up_ms: int = 300_000,
                 backoff_ms: int = 50, trim: bool = True,
                 window_ms: int = PIPELINE_DEFAULTS.window_ms,
                 restored_from_ms: int | None = None,
                 restored_finals: Sequence[int] = ()) -> None:  # fmt: skip
        options: dict[str, object] = {
            "give_up_ms": give_up_ms, "backoff_ms": backoff_ms, "trim": str(trim).lower(),
            "window_ms": window_ms,
        }  # fmt: skip
        if restored_from_ms is not None:
            options["restored_from_ms"] = restored_from_ms
            if restored_finals:
                options["restored_finals"] = ",".join(map(str, restored_finals))
        self.clock_ms = clock_ms
        cmd = command(url, keys, ttl_s, streaming, **options)
        # the JVM's complaints, kept for the error (closed in close())
        self.stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.stderr, text=True, encoding="utf-8")  # fmt: skip
        self.last_retries = 0

    def _batch(self, write: str, rows: Sequence[Sequence[Any]]) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        batch: dict[str, Any] = {"write": write, "rows": [list(r) for r in rows]}
        if self.clock_ms is not None:
            batch["now_ms"] = self.clock_ms()
        self.proc.stdin.write(json.dumps(batch) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            code = self.proc.wait()
            self.stderr.seek(0)
            said = self.stderr.read()[-2000:].strip()
            raise SinkError(f"the writer exited ({code})" + (f": {said}" if said else ""))
        answer = json.loads(line)
        if "error" in answer:
            raise SinkError(answer["error"])
        self.last_retries = int(answer["retries"])

    def windows(self, rows: Iterable[WindowRow]) -> None:
        """One batch of window rows (see :func:`core` and :func:`count`)."""
        self._batch("windows", list(rows))

    def sessions(self, rows: Iterable[SessionRow]) -> None:
        """One batch of closed sessions."""
        self._batch("sessions", list(rows))

    def totals(self, counts: Mapping[str, int], since: str = "") -> None:
        """The totals, one per ``TOTAL_FIELDS``, and when the counting job's state began."""
        missing = set(TOTAL_FIELDS) - set(counts)
        if missing:
            raise ValueError(f"totals without {sorted(missing)}")
        self._batch("totals", [[*(int(counts[f]) for f in TOTAL_FIELDS), since]])

    def close(self) -> None:
        """Stop the JVM."""
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)
        self.stderr.close()

    def __enter__(self) -> SinkWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
