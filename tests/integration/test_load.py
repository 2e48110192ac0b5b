"""``make load``'s driver against a real ``python -m collector`` and LocalStack's Kinesis.

Low rates for a few seconds: what is checked is the counting (every event accepted is found in
the stream, nothing else is counted), never how fast anything went.
"""

from __future__ import annotations

import pytest

from augury.endpoints import Endpoints
from bench import load


@pytest.mark.parametrize(("rate", "batch"), [(20, 1), (5, 20)])
def test_a_short_load_loses_nothing(endpoints: Endpoints, rate: float, batch: int) -> None:
    report = load.run(rate, 5, batch=batch, quiet=True)
    assert report.requests > 0 and report.not_ok == 0, report.summary()
    assert report.accepted == report.ok * batch > 0
    assert report.found == report.accepted and report.lost == 0, report.summary()


def test_a_running_collector_counts_only_its_runs_records(endpoints: Endpoints) -> None:
    kinesis = endpoints.client("kinesis")
    with load.fresh_stream(kinesis, 2) as stream, load.local_collector(stream) as url:
        assert load.collector_stream(url) == stream
        # Records from before the run and from another producer are not the run's.
        kinesis.put_record(StreamName=stream, Data=b'{"before":1}', PartitionKey="x")
        report = load.run(10, 3, batch=4, url=url, quiet=True)
        kinesis.put_record(StreamName=stream, Data=b'{"after":1}', PartitionKey="y")
    assert report.accepted > 0 and report.not_ok == 0, report.summary()
    assert report.found == report.accepted and report.lost == 0, report.summary()
