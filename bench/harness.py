"""Benchmark harness: run named benchmarks, write JSON and a Markdown table.

Figures are reported as ratios against a baseline measured in the same process, because
the machines are shared and noisy: absolute numbers drift, ratios much less.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

RESULTS_DIR = Path(__file__).parent / "results"


@dataclass(frozen=True)
class Measurement:
    """One measured variant: how much work, in how long."""

    name: str
    items: int
    seconds: float

    @property
    def per_second(self) -> float:
        """Throughput."""
        return self.items / self.seconds if self.seconds > 0 else float("inf")


@dataclass
class BenchResult:
    """A benchmark's variants, the first of which is its baseline."""

    benchmark: str
    unit: str
    measurements: list[Measurement] = field(default_factory=list)
    notes: str = ""
    peak_tree_rss_mb: float | None = None
    latency: dict[str, dict[str, float]] = field(default_factory=dict)
    """Latency distributions (``n``, ``p50_s``, ``p99_s``, ``mean_s``), the first the baseline."""
    latency_baseline: bool = True
    """False when no distribution is a baseline (no ratios are reported then)."""

    def latency_ratios(self) -> dict[str, dict[str, float]]:
        """Each distribution's p50 and p99 divided by the baseline's."""
        if not self.latency or not self.latency_baseline:
            return {}
        base = next(iter(self.latency.values()))
        return {
            name: {
                q: round(d[q] / base[q], 2) for q in ("p50_s", "p99_s") if d.get(q) and base.get(q)
            }
            for name, d in self.latency.items()
        }

    def ratios(self) -> dict[str, float]:
        """Each variant's throughput divided by the baseline's."""
        if not self.measurements:
            return {}
        base = self.measurements[0].per_second
        return {m.name: m.per_second / base for m in self.measurements}


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def latency_stats(values: list[float]) -> dict[str, float]:
    """A latency distribution as ``BenchResult.latency`` holds it (seconds)."""
    if not values:
        return {"n": 0}
    return {"n": len(values), "p50_s": round(percentile(values, 50), 3),
            "p99_s": round(percentile(values, 99), 3),
            "mean_s": round(statistics.fmean(values), 3)}  # fmt: skip


def timed(name: str, items: int, fn: Callable[[], object]) -> Measurement:
    """Run ``fn`` once and measure its wall time."""
    start = time.perf_counter()
    fn()
    return Measurement(name, items, time.perf_counter() - start)


def best_of(runs: int, name: str, items: int, fn: Callable[[], object]) -> Measurement:
    """The fastest of ``runs`` timed runs (least disturbed by other load)."""
    return min((timed(name, items, fn) for _ in range(runs)), key=lambda m: m.seconds)


class TreeRss:
    """Samples the resident memory of this process and all its descendants (the JVM too).

    ``ru_maxrss`` misses children that are still running, such as PyFlink's JVM and Python
    workers, so the whole tree is read from ``/proc`` every ``interval_s``.
    """

    def __init__(self, interval_s: float = 0.5) -> None:
        self.interval_s = interval_s
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.peak_mb = max(self.peak_mb, tree_rss_mb(os.getpid()))


def tree_rss_mb(pid: int) -> float:
    """Current resident memory of ``pid`` and its descendants, in MiB."""
    from localplatform import procs  # the one /proc process-tree walker

    total_kb = 0
    for p in [pid, *procs.descendants(pid, procs.parent_map())]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
        except OSError:
            continue
    return total_kb / 1024


def peak_rss_mb() -> float:
    """Peak resident memory of this process and its waited-for children, in MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def to_markdown(results: list[BenchResult]) -> str:
    """A Markdown table of every variant with its ratio to the baseline."""
    lines = [
        "| benchmark | variant | items | seconds | per second | vs baseline |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in results:
        ratios = r.ratios()
        for m in r.measurements:
            lines.append(
                f"| {r.benchmark} | {m.name} | {m.items} | {m.seconds:.3f} | "
                f"{m.per_second:,.0f} {r.unit} | {ratios[m.name]:.2f} |"
            )
    for r in results:
        if r.notes and not r.latency:
            lines += ["", f"{r.benchmark}: {r.notes}"]
    for r in results:
        if not r.latency:
            continue
        latency_ratios = r.latency_ratios()
        lines += [
            "",
            f"| {r.benchmark} latency | n | p50 s | p99 s | p50 vs baseline | p99 vs baseline |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for name, d in r.latency.items():
            q = latency_ratios.get(name, {})
            cells = [
                d.get("p50_s", "-"),
                d.get("p99_s", "-"),
                q.get("p50_s", "-"),
                q.get("p99_s", "-"),
            ]
            lines.append(f"| {name} | {int(d.get('n', 0))} | " + " | ".join(map(str, cells)) + " |")
        if r.peak_tree_rss_mb is not None:
            lines += ["", f"Peak memory: {r.peak_tree_rss_mb:,.0f} MiB. {r.notes}"]
    return "\n".join(lines) + "\n"


def write(results: list[BenchResult], stem: str) -> tuple[Path, Path]:
    """Write ``bench/results/<stem>.json`` and ``.md``; their paths."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    payload = {
        "machine": {
            "python": platform.python_version(),
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
        },
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "results": [
            {**asdict(r), "ratios": r.ratios(), "latency_ratios": r.latency_ratios(),
             "per_second": {m.name: m.per_second for m in r.measurements}}
            for r in results
        ],
    }  # fmt: skip
    json_path = RESULTS_DIR / f"{stem}.json"
    md_path = RESULTS_DIR / f"{stem}.md"
    json_path.write_text(json.dumps(payload, indent=2) + "\n")
    md_path.write_text(to_markdown(results))
    return json_path, md_path
