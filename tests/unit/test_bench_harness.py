from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import harness


def test_ratios_are_against_the_first_variant() -> None:
    r = harness.BenchResult("x", "rows/s")
    r.measurements += [harness.Measurement("base", 100, 2.0), harness.Measurement("fast", 100, 0.5)]
    assert r.ratios() == {"base": 1.0, "fast": 4.0}
    table = harness.to_markdown([r])
    assert "| x | fast | 100 | 0.500 | 200 rows/s | 4.00 |" in table


def test_write_emits_json_and_markdown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(harness, "RESULTS_DIR", tmp_path)
    r = harness.BenchResult("y", "ops/s", [harness.Measurement("only", 10, 1.0)])
    json_path, md_path = harness.write([r], "y")
    data = json.loads(json_path.read_text())
    assert data["results"][0]["ratios"] == {"only": 1.0}
    assert data["peak_rss_mb"] > 0
    assert md_path.read_text().startswith("| benchmark |")


def test_best_of_keeps_the_fastest_run(monkeypatch: pytest.MonkeyPatch) -> None:
    runs = iter([0.3, 0.1, 0.2])
    monkeypatch.setattr(
        harness, "timed", lambda name, items, fn: harness.Measurement(name, items, next(runs))
    )
    assert harness.best_of(3, "w", 1, lambda: None).seconds == 0.1


def test_tree_rss_counts_this_process() -> None:
    import os

    assert harness.tree_rss_mb(os.getpid()) > 1
    with harness.TreeRss(interval_s=0.01) as rss:
        import time

        time.sleep(0.05)
    assert rss.peak_mb > 1


def test_the_soak_slope_is_the_least_squares_fit() -> None:
    from bench.redis_soak import slope

    assert slope([(0, 100), (1, 110), (2, 120)]) == 10
    assert slope([(0, 5), (10, 5)]) == 0
    assert slope([(3, 7)]) == 0
