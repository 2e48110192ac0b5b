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
from flink_app import job, sql
from flink_app.inputs import SUFFIXES
from flink_app.settings import JobSettings, merge_sources

ALL = 10**9
WATERMARK_DELAY_MS = JobSettings.from_groups(merge_sources([], {}, {})).watermark_delay_ms
"""The job's default watermark delay (the notebook's in-flight bound)."""


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
    """A batch TableEnvironment with ``raw_lines`` (one row per record) and ``raw_events``."""

    def __init__(self, raw_dir: Path) -> None:
        settings = JobSettings.from_groups(merge_sources([], {}, {"job.parallelism": "1"}))
        self.t_env = job.table_env(settings, batch=True)
        self.t_env.execute_sql(sql.files_source_ddl(settings, str(raw_dir), table="raw_lines"))
        now_ms = str(int(time.time() * 1000))
        events = self.t_env.sql_query(sql.validated_select("raw_lines", now_ms))
        self.t_env.create_temporary_view("raw_events", events)

    def sql(self, query: str) -> pd.DataFrame:
        """Run a batch SQL query (Flink SQL) and return its rows."""
        return self.t_env.sql_query(query).to_pandas()


def frame(rows: list[Any]) -> pd.DataFrame:
    """A frame of dataclass rows (``read_model`` results)."""
    return pd.DataFrame([dataclasses.asdict(r) for r in rows])


def redis_windows(conn: Any, keys: Keys) -> pd.DataFrame:
    """Every window in Redis, oldest first, with a UTC ``minute`` column."""
    df = frame(read_model.windows(conn, keys, 0, 2**62, ALL))
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
