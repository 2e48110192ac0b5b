"""The job's stages: plain SQL files in ``flink_app/sql/``, and the one function that fills them in.

A stage file (``N_name.sql``) opens with comment lines saying what the stage does, followed by
its statements. Each statement starts with a header comment::

    -- view NAME: what it holds            (a temporary view: a SELECT)
    -- view NAME (stream): ...             (only in the streaming job)
    -- view NAME (replay): ...             (only in the bounded replay)
    -- table NAME: ...                     (a CREATE TEMPORARY TABLE)
    -- insert TARGET: ...                  (an INSERT, run by the job's statement set)

further ``--`` lines continue the header; the SQL follows, up to the next header. Where
streaming and replay differ, both variants of a statement sit next to each other.

Statements use ``$name`` parameters; :func:`render` fills them from typed values, quoting text
as SQL string literals, so no value is ever pasted into SQL unquoted unless it is a
:class:`Sql` fragment the job itself built.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

SQL_DIR: Final = Path(__file__).parent / "sql"
REPLAY: Final = "replay"
STREAM: Final = "stream"
MODES: Final = (REPLAY, STREAM)
_HEADER = re.compile(rf"-- (table|view|insert) (\w+)(?: \(({REPLAY}|{STREAM})\))?: (.*)")


class Sql(str):
    """A SQL fragment the job built itself (an expression, a column list), pasted as is."""

    __slots__ = ()


@dataclass(frozen=True)
class Interval:
    """A day-time interval parameter, exact to the millisecond."""

    ms: int


@dataclass(frozen=True)
class Options:
    """A WITH clause's options (connector settings), each key and value quoted."""

    values: Mapping[str, str]


Param = int | str | bool | Sql | Interval | Options


def literal(value: Param) -> str:
    """``value`` as SQL: text quoted (``'`` doubled), numbers and booleans as literals."""
    if isinstance(value, Sql):
        return str(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, Interval):
        seconds, millis = divmod(value.ms, 1000)
        minutes, sec = divmod(seconds, 60)
        hours, minute = divmod(minutes, 60)
        days, hour = divmod(hours, 24)
        return f"INTERVAL '{days} {hour:02d}:{minute:02d}:{sec:02d}.{millis:03d}' DAY TO SECOND(3)"
    if isinstance(value, Options):
        return ", ".join(f"{literal(k)} = {literal(v)}" for k, v in value.values.items())
    raise TypeError(f"no SQL form for {value!r}")


def render(template: str, params: Mapping[str, Param]) -> str:
    """``template`` with every ``$name`` replaced by ``literal(params[name])``.

    A parameter the template uses but ``params`` lacks raises KeyError naming it.
    """
    return string.Template(template).substitute({k: literal(v) for k, v in params.items()})


@dataclass(frozen=True)
class Statement:
    """One statement of a stage."""

    kind: str
    """``table``, ``view`` or ``insert``."""
    name: str
    """The view's or table's name; an insert's target table."""
    mode: str | None
    """``stream`` or ``replay`` when only one of them runs it, else None."""
    doc: str
    sql: str
    """The template (``$name`` parameters), without the trailing semicolon."""

    def runs_in(self, mode: str) -> bool:
        """Whether the ``mode`` job runs this statement."""
        return self.mode is None or self.mode == mode


@dataclass(frozen=True)
class Stage:
    """A stage file: what it does, and its statements in order."""

    name: str
    path: Path
    doc: str
    statements: tuple[Statement, ...]

    def for_mode(self, mode: str) -> list[Statement]:
        """The statements the ``mode`` job runs, in order."""
        if mode not in MODES:
            raise ValueError(f"mode {mode!r} is not one of {MODES}")
        return [s for s in self.statements if s.runs_in(mode)]


def parse(text: str, name: str = "", path: Path = Path()) -> Stage:
    """A stage from the text of its file."""
    doc: list[str] = []
    statements: list[Statement] = []
    header: tuple[str, str, str | None, list[str]] | None = None
    body: list[str] = []

    def close() -> None:
        if header is not None:
            kind, target, mode, lines = header
            sql = "\n".join(body).strip().removesuffix(";").strip()
            if not sql:
                raise ValueError(f"{path}: {kind} {target} has no SQL")
            statements.append(Statement(kind, target, mode, " ".join(lines), sql))

    for line in text.splitlines():
        match = _HEADER.fullmatch(line.rstrip())
        if match:
            close()
            kind, target, mode, first = match.groups()
            header, body = (kind, target, mode, [first]), []
        elif header is None:
            if line.startswith("--"):
                doc.append(line[2:].strip())
        elif line.startswith("--") and not body:
            header[3].append(line[2:].strip())
        else:
            body.append(line)
    close()
    return Stage(name, path, " ".join(d for d in doc if d), tuple(statements))


@cache
def load(name: str) -> Stage:
    """The stage ``name`` (``flink_app/sql/N_name.sql``)."""
    found = sorted(SQL_DIR.glob(f"*_{name}.sql"))
    if len(found) != 1:
        raise FileNotFoundError(f"no single stage file for {name!r} in {SQL_DIR}")
    return parse(found[0].read_text(encoding="utf-8"), name, found[0])


def names() -> list[str]:
    """Every stage, in pipeline order (the files' number prefixes)."""
    files = sorted(SQL_DIR.glob("*_*.sql"), key=lambda p: int(p.name.split("_", 1)[0]))
    return [p.stem.split("_", 1)[1] for p in files]
