"""Render a CloudWatch dashboard's widgets to a PNG from GetMetricData (works on LocalStack).

CloudWatch's own GetMetricWidgetImage is not in LocalStack community; this reads the
dashboard body (GetDashboard), queries every metric widget's metrics with GetMetricData and
draws the same grid with matplotlib: the dashboard can be looked at without AWS.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

GRID_COLUMNS = 24


@dataclass(frozen=True)
class Series:
    """One metric of a widget: its query and its label."""

    query: dict[str, Any]
    label: str
    right: bool


def widget_series(widget: dict[str, Any], index: int) -> list[Series]:
    """GetMetricData queries of a metric widget (``[namespace, name, dim, value, ..., {opts}]``)."""
    out = []
    for n, spec in enumerate(widget.get("properties", {}).get("metrics", [])):
        opts = spec[-1] if spec and isinstance(spec[-1], dict) else {}
        parts = [p for p in spec if not isinstance(p, dict)]
        namespace, name, dims = parts[0], parts[1], parts[2:]
        dimensions = [{"Name": dims[i], "Value": dims[i + 1]} for i in range(0, len(dims) - 1, 2)]
        query = {
            "Id": f"w{index}m{n}",
            "MetricStat": {
                "Metric": {"Namespace": namespace, "MetricName": name, "Dimensions": dimensions},
                "Period": int(opts.get("period", 60)),
                "Stat": opts.get("stat", "Average"),
            },
            "ReturnData": True,
        }
        label = opts.get("label") or f"{name} ({opts.get('stat', 'Average')})"
        out.append(Series(query, label, opts.get("yAxis") == "right"))
    return out


def fetch(cloudwatch: Any, series: list[Series], start: datetime, end: datetime) -> dict[str, Any]:
    """GetMetricData results by query id (timestamps and values, oldest first)."""
    results: dict[str, Any] = {}
    queries = [s.query for s in series]
    for i in range(0, len(queries), 500):
        kwargs: dict[str, Any] = {"MetricDataQueries": queries[i : i + 500], "StartTime": start,
                                  "EndTime": end, "ScanBy": "TimestampAscending"}  # fmt: skip
        while True:
            page = cloudwatch.get_metric_data(**kwargs)
            for r in page["MetricDataResults"]:
                got = results.setdefault(r["Id"], {"Timestamps": [], "Values": []})
                got["Timestamps"] += r["Timestamps"]
                got["Values"] += r["Values"]
            if not page.get("NextToken"):
                break
            kwargs["NextToken"] = page["NextToken"]
    return results


def render(cloudwatch: Any, dashboard: str, out: Path, minutes: int = 60) -> dict[str, int]:
    """Draw ``dashboard`` over the last ``minutes`` into ``out``; data points per widget title."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    body = json.loads(cloudwatch.get_dashboard(DashboardName=dashboard)["DashboardBody"])
    widgets = body.get("widgets", [])
    end = datetime.now(UTC)
    start = end - timedelta(minutes=minutes)
    per_widget = {i: widget_series(w, i) for i, w in enumerate(widgets) if w["type"] == "metric"}
    # Query a minute past now: a point stored in the current second is not cut off by an
    # end time truncated to whole seconds (LocalStack does), and the open bucket is drawn.
    queried_to = end + timedelta(minutes=1)
    data = fetch(cloudwatch, [s for ss in per_widget.values() for s in ss], start, queried_to)
    rows = max((w.get("y", 0) + w.get("height", 6) for w in widgets), default=6)
    fig = plt.figure(figsize=(20, rows * 0.55))
    grid = fig.add_gridspec(rows, GRID_COLUMNS, hspace=1.2, wspace=1.5)
    points: dict[str, int] = {}
    for i, w in enumerate(widgets):
        x, y, width, height = w.get("x", 0), w.get("y", 0), w.get("width", 6), w.get("height", 6)
        ax = fig.add_subplot(grid[y : y + height, x : x + width])
        props = w.get("properties", {})
        if w["type"] == "text":
            ax.axis("off")
            ax.text(0, 0.5, props.get("markdown", "").lstrip("# "), fontsize=13,
                    fontweight="bold", va="center")  # fmt: skip
            continue
        title = props.get("title", f"widget {i}")
        ax.set_title(title, fontsize=9)
        right_ax = None
        total = 0
        for s in per_widget.get(i, []):
            got = data.get(s.query["Id"], {"Timestamps": [], "Values": []})
            total += len(got["Values"])
            target = ax
            if s.right and got["Values"]:
                right_ax = right_ax or ax.twinx()
                target = right_ax
            target.plot(got["Timestamps"], got["Values"], marker=".", label=s.label)
        points[title] = total
        if total == 0:
            ax.text(0.5, 0.5, "no data here", ha="center", va="center", transform=ax.transAxes,
                    color="grey")  # fmt: skip
        else:
            ax.legend(fontsize=6, loc="upper left")
        ax.set_xlim(mdates.date2num(start), mdates.date2num(end))  # type: ignore[no-untyped-call]
        ax.tick_params(labelsize=6)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))  # type: ignore[no-untyped-call]
    fig.suptitle(f"{dashboard}: last {minutes} min, rendered {time.strftime('%Y-%m-%d %H:%M')} "
                 "UTC from GetMetricData", fontsize=12)  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90, bbox_inches="tight")
    plt.close(fig)
    return points
