"""PutRecords with the service's limits, retrying only the records that failed.

Kinesis accepts at most 500 records and 5 MiB (data plus partition keys) per PutRecords call,
and answers per record: a failed record carries an ``ErrorCode``
(``ProvisionedThroughputExceededException`` when throttled, ``InternalFailure`` otherwise).
Only those records are sent again, with exponential backoff and full jitter, so no record is
lost and none is sent twice by this writer.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from augury.retry import backoff_s

MAX_RECORDS: Final = 500
MAX_BATCH_BYTES: Final = 5 * 1024 * 1024
MAX_RECORD_BYTES: Final = 1024 * 1024
THROTTLED: Final = "ProvisionedThroughputExceededException"
RETRYABLE_CALL_ERRORS: Final = (
    "ProvisionedThroughputExceededException", "ThrottlingException", "LimitExceededException",
    "InternalFailure", "ServiceUnavailable", "KMSThrottlingException",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Record:
    """One record to put: its bytes and partition key."""

    data: bytes
    partition_key: str

    @property
    def size(self) -> int:
        """Bytes it counts against the 5 MiB and 1 MiB limits."""
        return len(self.data) + len(self.partition_key.encode("utf-8"))


@dataclass
class PutStats:
    """What happened to the records: sent once each, or failed after every attempt."""

    sent: int = 0
    failed: int = 0
    retried: int = 0
    throttled: int = 0
    calls: int = 0
    failed_records: list[Record] = field(default_factory=list)

    def add(self, other: PutStats) -> None:
        """Accumulate another batch's stats."""
        self.sent += other.sent
        self.failed += other.failed
        self.retried += other.retried
        self.throttled += other.throttled
        self.calls += other.calls
        self.failed_records.extend(other.failed_records)


class RecordTooLargeError(ValueError):
    """A single record exceeds Kinesis's 1 MiB limit."""


def batches(records: Iterable[Record]) -> Iterator[list[Record]]:
    """Split records, in order, into batches within the 500-record and 5 MiB limits."""
    batch: list[Record] = []
    size = 0
    for record in records:
        if record.size > MAX_RECORD_BYTES:
            raise RecordTooLargeError(
                f"record of {record.size} bytes exceeds Kinesis's {MAX_RECORD_BYTES} limit"
            )
        if batch and (len(batch) == MAX_RECORDS or size + record.size > MAX_BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(record)
        size += record.size
    if batch:
        yield batch


@dataclass
class KinesisWriter:
    """Puts records to one stream; ``client`` is a boto3 Kinesis client."""

    client: Any
    stream_name: str
    max_attempts: int = 8
    backoff_base_ms: int = 50
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def put(self, records: Sequence[Record]) -> PutStats:
        """Put all records, batch by batch; failed ones are in ``failed_records``."""
        total = PutStats()
        for batch in batches(records):
            total.add(self._put_batch(batch))
        return total

    def _put_batch(self, batch: list[Record]) -> PutStats:
        stats = PutStats()
        pending = batch
        for attempt in range(1, self.max_attempts + 1):
            if attempt > 1:
                stats.retried += len(pending)
                self.sleep(backoff_s(attempt - 1, self.backoff_base_ms, self.rng))
            stats.calls += 1
            try:
                response = self.client.put_records(
                    StreamName=self.stream_name,
                    Records=[{"Data": r.data, "PartitionKey": r.partition_key} for r in pending],
                )
            except Exception as exc:  # botocore ClientError, connection errors
                code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
                if code and code not in RETRYABLE_CALL_ERRORS:
                    raise
                if code in (THROTTLED, "ThrottlingException"):
                    stats.throttled += len(pending)
                continue
            failed: list[Record] = []
            for record, result in zip(pending, response["Records"], strict=True):
                code = result.get("ErrorCode")
                if code:
                    failed.append(record)
                    stats.throttled += code == THROTTLED
            stats.sent += len(pending) - len(failed)
            pending = failed
            if not pending:
                return stats
        stats.failed = len(pending)
        stats.failed_records = list(pending)
        return stats
