"""Reading the raw archive Firehose writes to S3 (``raw/``; GZIP in AWS, plain in LocalStack)."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

RAW_PREFIX = "raw/"


@dataclass(frozen=True)
class RawObject:
    """One archived object, decompressed: NDJSON, one record per line."""

    key: str
    last_modified_ms: int
    body: bytes

    @property
    def records(self) -> int:
        """Records in the object (each ends with a newline)."""
        return self.body.count(b"\n")


def objects(s3: Any, bucket: str, prefix: str = RAW_PREFIX,
            since_ms: int = 0) -> Iterator[RawObject]:  # fmt: skip
    """The objects under ``prefix`` written at or after ``since_ms``.

    S3's LastModified has whole seconds (LocalStack truncates), so ``since_ms`` is floored to
    the second: an object written in the same second is kept.
    """
    since_ms = since_ms // 1000 * 1000
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            modified_ms = int(obj["LastModified"].timestamp() * 1000)
            if obj["Key"].endswith("/") or modified_ms < since_ms:
                continue
            body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
            if body[:2] == b"\x1f\x8b":
                body = gzip.decompress(body)
            yield RawObject(obj["Key"], modified_ms, body)
