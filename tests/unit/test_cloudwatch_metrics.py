"""EMF extraction and the job's per-interval counts (pure)."""

from __future__ import annotations

import io
import json

from augury.cloudwatch import EmfForwarder, emf_metric_data, job_metric_data
from augury.read_model import Totals
from localplatform.dashboard_png import widget_series

EMF = {
    "_aws": {"Timestamp": 1_795_464_000_000, "CloudWatchMetrics": [{
        "Namespace": "Augury", "Dimensions": [["service"]],
        "Metrics": [{"Name": "EventsSent", "Unit": "Count"}, {"Name": "Missing", "Unit": "Count"}],
    }]},
    "service": "clickgen", "EventsSent": [600.0, 5.0], "function_name": "x",
}  # fmt: skip


def test_an_emf_document_becomes_metric_data() -> None:
    ((namespace, datum),) = emf_metric_data(EMF)
    assert namespace == "Augury" and datum["MetricName"] == "EventsSent"
    assert datum["Dimensions"] == [{"Name": "service", "Value": "clickgen"}]
    assert datum["Values"] == [600.0, 5.0] and datum["Unit"] == "Count"
    assert datum["Timestamp"].timestamp() == 1_795_464_000
    assert emf_metric_data({"message": "a log line"}) == []


class FakeCloudWatch:
    def __init__(self) -> None:
        self.calls: list[dict[str, object]] = []

    def put_metric_data(self, **kwargs: object) -> None:
        self.calls.append(kwargs)


def test_the_forwarder_passes_text_through_and_sends_emf_lines() -> None:
    out, cw = io.StringIO(), FakeCloudWatch()
    fwd = EmfForwarder(out, cw)
    line = json.dumps(EMF)
    fwd.write('{"level": "INFO"}\n' + line[:10])  # a line split across writes
    fwd.write(line[10:] + "\n")
    assert out.getvalue() == '{"level": "INFO"}\n' + line + "\n"
    assert len(cw.calls) == 1 and cw.calls[0]["Namespace"] == "Augury" and fwd.forwarded == 1


def test_job_counts_are_differences_of_totals_and_never_negative() -> None:
    data = job_metric_data(Totals(10, 1, 0, 5, 0), Totals(25, 1, 2, 4, 1), 1_000, 4_000)
    values = {d["MetricName"]: d["Value"] for _, d in data}
    assert values == {"Accepted": 15, "Invalid": 0, "Duplicates": 2, "BotEvents": 0, "Late": 1,
                      "ResultAgeMs": 3_000}  # fmt: skip
    assert all(d["Dimensions"] == [{"Name": "job", "Value": "sessionizer"}] for _, d in data)
    assert "ResultAgeMs" not in {d["MetricName"] for _, d in job_metric_data(Totals(), Totals(),
                                                                             None, 0)}  # fmt: skip


def test_dashboard_metric_arrays_become_queries() -> None:
    widget = {"type": "metric", "properties": {"metrics": [
        ["AWS/Kinesis", "IncomingBytes", "StreamName", "s", {"stat": "Sum", "period": 60,
                                                            "yAxis": "right"}],
        ["Augury", "Late", "job", "sessionizer"],
    ]}}  # fmt: skip
    first, second = widget_series(widget, 3)
    assert first.right and first.query["Id"] == "w3m0"
    assert first.query["MetricStat"]["Metric"]["Dimensions"] == [
        {"Name": "StreamName", "Value": "s"}
    ]
    assert first.query["MetricStat"]["Stat"] == "Sum"
    assert second.query["MetricStat"]["Stat"] == "Average" and not second.right
