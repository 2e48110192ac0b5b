"""Zeppelin-style exploration helpers: SQL over the raw archive, frames of the Redis results.

Managed Flink Studio's notes run ``%flink.bsql`` paragraphs; here ``Studio.sql`` runs the same
kind of batch SQL with PyFlink's Table API on a local mini-cluster and returns a pandas frame.
The raw archive (what Firehose wrote to S3: LocalStack's, or real S3) is downloaded first;
``raw_events`` is a view over it with the job's own parser, so ``reason`` is NULL for a valid
event and names the contract rule an invalid one breaks.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from augury import raw_archive, read_model
from augury.endpoints import Endpoints
from augury.redis_keys import Keys
from augury.settings import PipelineSettings
from flink_app import job
from flink_app.inputs import SUFFIXES
from flink_app.settings import JobSettings

ALL = 10**9


@dataclass(frozen=True)
class RawDownload:
    """The raw objects copied for one session of exploration."""

    directory: Path
    objects: int
    records: int


def download_raw(endpoints: Endpoints, bucket: str, dest: Path, since_ms: int = 0,
                 prefix: str = raw_archive.RAW_PREFIX) -> RawDownload:  # fmt: skip
    """Copy the raw objects written at or after ``since_ms`` (S3 LastModified) into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.iterdir():
        old.unlink()
    objects = records = 0
    for obj in raw_archive.objects(endpoints.client("s3"), bucket, prefix, since_ms):
        # LocalStack's Firehose keeps the `!{timestamp:...}` prefix expressions literally in
        # its keys: name the copies by number and base name only.
        base = re.sub(r"[^A-Za-z0-9._-]", "_", obj.key.rsplit("/", 1)[-1]).removesuffix(".gz")
        name = f"{objects:06d}-{base}" + ("" if base.endswith(SUFFIXES) else ".ndjson")
        (dest / name).write_bytes(obj.body)
        objects += 1
        records += obj.records
    print(f"[studio] {objects} raw objects, {records} records from s3://{bucket}/{prefix}",
          file=sys.stderr)  # fmt: skip
    return RawDownload(dest, objects, records)


class Studio:
    """A batch TableEnvironment with ``raw_lines`` (one row per record) and ``raw_events``.

    They are the job's own first two stages (source, validate) over the downloaded archive.
    """

    def __init__(self, raw_dir: Path) -> None:
        settings = JobSettings.from_groups({"job": {"parallelism": "1"}})
        self.t_env = job.table_env(settings, batch=True)
        params = job.parameters(settings, job.REPLAY, str(raw_dir / ".dead-letter"),
                                str(raw_dir), int(time.time() * 1000))  # fmt: skip
        for stage in ("source", "validate"):
            job.apply(self.t_env, stage, job.REPLAY, params)
        self.t_env.create_temporary_view("raw_events", self.t_env.from_path("parsed"))

    def sql(self, query: str) -> pd.DataFrame:
        """Run a batch SQL query (Flink SQL) and return its rows."""
        return self.t_env.sql_query(query).to_pandas()


def frame(rows: list[Any]) -> pd.DataFrame:
    """A frame of dataclass rows (``read_model`` results)."""
    return pd.DataFrame([dataclasses.asdict(r) for r in rows])


def redis_windows(conn: Any, settings: PipelineSettings) -> pd.DataFrame:
    """Every window in Redis, oldest first, with its start as a UTC ``minute`` column."""
    keys = Keys(settings.key_prefix)
    df = frame(read_model.windows(conn, keys, 0, 2**62, ALL, window_ms=settings.window_ms))
    if not df.empty:
        df = df.sort_values("start_ms").reset_index(drop=True)
        df["minute"] = pd.to_datetime(df["start_ms"], unit="ms", utc=True)
    return df


def redis_sessions(conn: Any, keys: Keys) -> pd.DataFrame:
    """Every session in Redis, newest first."""
    return frame(read_model.sessions(conn, keys, 0, 2**62, ALL))


def latest_demo_run(state_dir: Path) -> dict[str, Any] | None:
    """What the last ``make demo`` recorded (``latest.json``), or None."""
    path = state_dir / "demo" / "latest.json"
    return json.loads(path.read_text()) if path.exists() else None
