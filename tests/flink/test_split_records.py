"""The replay's source stage finds the archive's records as ``raw_archive.split_records`` does.

Lines of JSON objects back to back (a producer that sent no newline) are split into their
objects, blank lines give no record, and anything else is passed through unchanged. Checked
through the job's own source stage (``SplitRecords``, Java, in the ``arrived`` view) on a Flink
mini-cluster, and against the Python function the reference and the archive reader use.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from augury import raw_archive
from flink_app import job, settings

A = json.dumps({"s": "}{", "q": 'say "}{" now', "b": "back\\slash\\"})  # braces, quotes, escapes
B = json.dumps({"n": {"m": {"k": "{"}}, "l": [{"x": 1}, "}"]}, ensure_ascii=False)  # nesting
C = json.dumps({"p": "/p/日本", "c": "/c/bières"}, ensure_ascii=False)
EVENT = (
    '{"event_id":"e1","user_id":"u","device_id":"d","client_event":"page_view",'
    '"client_timestamp":"2026-11-23T10:00:00Z","countrycode":"BE"}'
)

CASES: list[tuple[str, list[str]]] = [
    # Objects back to back, with or without JSON whitespace between them: each object.
    (A + B, [A, B]),
    (f"{A} {B}\t{C}", [A, B, C]),
    (f"  {A}{C}  ", [A, C]),
    (EVENT + EVENT, [EVENT, EVENT]),
    ("{}{}", ["{}", "{}"]),
    ('{"a":"x\\\\"}{"b":1}', ['{"a":"x\\\\"}', '{"b":1}']),  # an escaped backslash ends the string
    (f"{A}{B}\r", [A, B]),  # a CRLF file's line
    # Blank lines: no record at all.
    ("", []),
    ("   \t  ", []),
    ("\r", []),
    # Everything else, unchanged (the contract then judges it).
    (EVENT, [EVENT]),
    (f"  {A}  ", [f"  {A}  "]),  # one object: the line as it is
    (f"{A} x {B}", [f"{A} x {B}"]),  # garbage between objects
    (f"{A},{B}", [f"{A},{B}"]),
    (f"{A}{B[:-3]}", [f"{A}{B[:-3]}"]),  # the last object never closes
    ('{"a":"}{"b":1}', ['{"a":"}{"b":1}']),  # a string that never closes
    (f"}}{A}", [f"}}{A}"]),
    (f"[1]{A}", [f"[1]{A}"]),
    (f"{A}[1]", [f"{A}[1]"]),
    ('"just a string"', ['"just a string"']),
    ("\u00a0", ["\u00a0"]),  # not JSON whitespace
    ("x", ["x"]),
]


def test_python_split_records_on_each_case() -> None:
    for line, expected in CASES:
        assert raw_archive.split_records(line) == expected, line


def test_python_records_count_of_an_archived_object() -> None:
    body = "\n".join(line for line, _ in CASES).encode() + b"\n"
    obj = raw_archive.RawObject("raw/x", 0, body)
    assert obj.records == sum(len(expected) for _, expected in CASES)


@pytest.fixture(scope="module")
def arrived(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The rows of the replay's ``arrived`` view over a file of every case, in file order."""
    path = Path(tmp_path_factory.mktemp("split")) / "lines.ndjson"
    path.write_bytes("\n".join(line for line, _ in CASES).encode() + b"\n")
    s = settings.load(env={}, flag_values={"source.type": "files", "source.input.path": str(path),
                                           "job.parallelism": 1})  # fmt: skip
    t_env = job.table_env(s, batch=True)
    job.apply(t_env, "source", job.REPLAY, job.parameters(s, job.REPLAY, dead_letter="", now_ms=0))
    with t_env.execute_sql("SELECT line FROM arrived").collect() as rows:
        return [bytes(r[0]).decode("utf-8") for r in rows]  # records are the archive's bytes


def test_the_jvm_splits_every_case_as_python_does(arrived: list[str]) -> None:
    assert arrived == [record for _, expected in CASES for record in expected]


def test_records_that_are_not_utf8_pass_through_as_their_bytes(tmp_path: Path) -> None:
    bad = b'{"user_id":"\xff"}'
    path = tmp_path / "lines.ndjson"
    path.write_bytes(bad + bad + b"\n" + b"\xc3\x28 not json\n\n")
    s = settings.load(env={}, flag_values={"source.type": "files", "source.input.path": str(path),
                                           "job.parallelism": 1})  # fmt: skip
    t_env = job.table_env(s, batch=True)
    job.apply(t_env, "source", job.REPLAY, job.parameters(s, job.REPLAY, dead_letter="", now_ms=0))
    with t_env.execute_sql("SELECT line FROM arrived").collect() as rows:
        got = [bytes(r[0]) for r in rows]
    assert got == [bad, bad, b"\xc3\x28 not json"]
