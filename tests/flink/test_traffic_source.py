"""The capacity benchmark's source (``augury-traffic``) feeds the streaming job what it claims.

A small pool, written the way ``bench/stream_capacity.py`` writes the generator's: valid events
stamped an hour before "now", one duplicate and one malformed record. The job streams three
passes of it with probes, then stops (``source.traffic.count``). Each pass must be new traffic
(ids suffixed with the pass number: duplicates only within a pass), every event re-stamped as
if sent now (its windows are this hour's, not the pool's), malformed records passed through as
they are, and every probe counted once on its own page.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from augury import events as contract
from bench.stream_capacity import PROBE_PAGE, pool_frame
from flink_app import job
from tests.flink.runs import start_files, totals_of

VALID = 30
PASSES = 3


def _pool(path: Path, sent_ms: int) -> int:
    """The pool file: VALID events, a duplicate of the first, a malformed line; its size."""
    records = []
    for i in range(VALID):
        doc = {"event_id": f"e-{i:03d}", "user_id": f"u-{i}", "device_id": "d-1",
               "client_event": "page_view", "countrycode": "BE", "page_url": f"/p/{i % 4}",
               "client_timestamp": contract.format_timestamp(sent_ms + i * 10 - 200)}  # fmt: skip
        records.append((sent_ms + i * 10, contract.encode(doc)))
    records.append((sent_ms + VALID * 10, records[0][1]))  # the same event sent twice
    records.append((sent_ms + VALID * 10, b"not json\n"))
    path.write_bytes(b"".join(pool_frame(ms, data) for ms, data in records))
    return len(records)


def test_each_pass_is_new_traffic_sent_now_with_probes(platform_up: Any, tmp_path: Path) -> None:
    now_ms = int(time.time() * 1000)
    pool = tmp_path / "traffic.pool"
    size = _pool(pool, now_ms - 3_600_000)
    flags = {"source.type": "traffic", "source.traffic.rate": 200,
             "source.traffic.probe.interval.ms": 20,
             "source.traffic.count": size * PASSES}  # fmt: skip
    result, run = start_files(job.STREAM, pool, tmp_path, [], now_ms, flags=flags)
    try:
        result.wait()
        totals = {k: int(v) for k, v in totals_of(run.conn, run.keys).items()}
        starts = [int(s) for s in run.conn.zrange(run.keys.windows, 0, -1)]
        probes: dict[str, float] = {}
        for ws in starts:
            for page, n in run.conn.zrange(run.keys.window_pages(ws), 0, -1, withscores=True):
                if page.startswith(PROBE_PAGE):
                    probes[page] = probes.get(page, 0) + n
    finally:
        run.drop()
    assert probes, "a probe every 20 ms over about half a second of traffic"
    assert set(probes.values()) == {1}, "each probe on a page of its own, counted once"
    assert totals["invalid"] == PASSES  # the malformed record, passed through as it is
    assert totals["duplicates"] == PASSES  # within a pass only: each pass has ids of its own
    assert totals["late"] == totals["bot_events"] == 0  # a user's events a pass apart
    assert totals["accepted"] == VALID * PASSES + len(probes)
    assert starts and min(starts) >= now_ms - now_ms % 60_000 - 60_000, (
        "re-stamped as sent now, not an hour ago"
    )


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(pytest.main([__file__, "-q"]))
