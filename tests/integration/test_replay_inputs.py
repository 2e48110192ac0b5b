"""Replay inputs from LocalStack S3 are downloaded with their names (so .gz stays .gz)."""

from __future__ import annotations

import gzip
import uuid
from pathlib import Path

import pytest

from augury.endpoints import Endpoints
from flink_app import inputs


def test_s3_prefix_is_downloaded_keeping_compression(endpoints: Endpoints, tmp_path: Path) -> None:
    s3 = endpoints.client("s3")
    bucket = f"it-raw-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    body = b'{"event_id":"1"}\n{"event_id":"2"}\n'
    s3.put_object(Bucket=bucket, Key="raw/year=2026/a.gz", Body=gzip.compress(body))
    s3.put_object(Bucket=bucket, Key="raw/year=2026/b-no-suffix", Body=body)
    s3.put_object(Bucket=bucket, Key="other/c.ndjson", Body=body)

    local = inputs.local_input(f"s3://{bucket}/raw/", tmp_path / "dl", endpoints)
    files = sorted(p.name for p in local.iterdir())
    assert files == ["raw__year=2026__a.gz", "raw__year=2026__b-no-suffix.ndjson"]
    assert gzip.decompress((local / files[0]).read_bytes()) == body

    with pytest.raises(FileNotFoundError, match="no objects"):
        inputs.local_input(f"s3://{bucket}/nothing/", tmp_path / "none", endpoints)


def test_a_missing_local_input_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="--input"):
        inputs.local_input(str(tmp_path / "absent"), tmp_path)
