"""Resolving a replay input: a local file or directory, or an s3:// prefix (downloaded)."""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlsplit

from augury.endpoints import Endpoints

SUFFIXES = (".gz", ".json", ".ndjson", ".jsonl", ".txt")


def local_input(path_or_uri: str, scratch: Path, endpoints: Endpoints | None = None) -> Path:
    """A local path Flink can read: ``path_or_uri`` itself, or a download of an S3 prefix.

    Firehose's objects (plain or ``.gz``) keep their names; Flink's file source decompresses
    ``.gz`` by extension. Objects without a known suffix are treated as plain NDJSON.
    """
    if not path_or_uri.startswith("s3://"):
        path = Path(path_or_uri)
        if not path.exists():
            raise FileNotFoundError(f"--input {path_or_uri}: no such file or directory")
        return path
    parts = urlsplit(path_or_uri)
    bucket, prefix = parts.netloc, parts.path.lstrip("/")
    s3 = (endpoints or Endpoints.from_env()).client("s3")
    scratch.mkdir(parents=True, exist_ok=True)
    count = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            key = obj["Key"]
            if key.endswith("/"):
                continue
            name = key.replace("/", "__")
            if not name.endswith(SUFFIXES):
                name += ".ndjson"
            s3.download_file(bucket, key, str(scratch / name))
            count += 1
            if count % 100 == 0:
                print(f"[replay] downloaded {count} objects", file=sys.stderr)
    if count == 0:
        raise FileNotFoundError(f"--input {path_or_uri}: no objects under that prefix")
    print(f"[replay] downloaded {count} objects from {path_or_uri}", file=sys.stderr)
    return scratch
