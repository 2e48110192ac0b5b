"""One setting, every reader: 30-second windows in Redis, in the read API and on the dashboard.

``AUGURY_WINDOW_SECONDS=30`` is the only change. The job (a replay on the mini-cluster) writes
30-second windows; the read API, reading the same setting, reports their ``end_ms`` 30 s after
their start; the dashboard, in a real Chromium, labels and places them as 30-second windows.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from augury.endpoints import Endpoints
from augury.settings import PipelineSettings
from flink_app import job
from lambdas.clickgen.config import GeneratorConfig
from localplatform import browser
from tests import reference
from tests.flink.runs import JobRun, assert_same_image, run_files, traffic_lines, write_lines

WINDOW_S = 30


@dataclass
class Served:
    run: JobRun
    url: str


@pytest.fixture(scope="module")
def served(platform_up: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    env = {"AUGURY_WINDOW_SECONDS": str(WINDOW_S), "AUGURY_REDIS_URL": Endpoints.local().redis_url,
           "AUGURY_REDIS_KEY_PREFIX": f"augury:w30:{uuid.uuid4().hex[:8]}:"}  # fmt: skip
    now_ms = int(time.time() * 1000)
    start = now_ms - now_ms % 60_000 - 10 * 60_000  # within the dashboard's last hour
    lines = traffic_lines(GeneratorConfig(rate=20, seed=30), start, start + 150_000)
    root = tmp_path_factory.mktemp("w30")
    write_lines(root / "in" / "clicks.ndjson", lines)
    run = run_files(job.REPLAY, root / "in", root, lines, now_ms, env=env)
    assert run.settings.pipeline.window_ms == WINDOW_S * 1000  # from the environment only
    with pytest.MonkeyPatch.context() as mp:  # the read API reads the same environment
        for name, value in env.items():
            mp.setenv(name, value)
        from lambdas.read_api import handler
        from lambdas.read_api.local_server import BackgroundServer

        handler.config.cache_clear()
        handler.connection.cache_clear()
        server = BackgroundServer(handler.lambda_handler)
        yield Served(run, server.url)
        server.stop()
        handler.config.cache_clear()
        handler.connection.cache_clear()
    run.drop()


def test_redis_holds_30_second_windows_as_the_reference_says(served: Served) -> None:
    run = served.run
    starts = [int(m) for m in run.conn.zrange(run.keys.windows, 0, -1)]
    assert starts and all(s % (WINDOW_S * 1000) == 0 for s in starts)
    assert any(s % 60_000 for s in starts)  # half-minute starts: not one-minute windows
    thirty = PipelineSettings.from_env({"AUGURY_WINDOW_SECONDS": str(WINDOW_S)})
    expected = reference.replay(run.lines, run.now_ms, run.keys, thirty)
    assert_same_image(run.image(), expected.image)


def test_the_read_api_reports_30_second_windows(served: Served) -> None:
    import json
    import urllib.request

    with urllib.request.urlopen(served.url + "/windows?limit=1000", timeout=10) as resp:
        body = json.loads(resp.read())
    assert body["window_ms"] == WINDOW_S * 1000 and len(body["windows"]) >= 5
    assert all(w["end_ms"] - w["start_ms"] == WINDOW_S * 1000 for w in body["windows"])
    one = body["windows"][0]
    with urllib.request.urlopen(f"{served.url}/windows/{one['start_ms']}", timeout=10) as resp:
        assert json.loads(resp.read())["end_ms"] == one["start_ms"] + WINDOW_S * 1000


def test_the_dashboard_draws_30_second_windows(served: Served, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=browser.install(), headless=True,
                                      args=list(browser.LAUNCH_ARGS))  # fmt: skip
        page = chromium.new_page(viewport={"width": 1280, "height": 900})
        page.goto(served.url + "/dashboard/")
        page.wait_for_function("Number(document.body.dataset.rendered || 0) >= 1", timeout=20_000)
        assert page.evaluate("document.body.dataset.windowMs") == str(WINDOW_S * 1000)
        assert "30-second windows" in page.locator("header").inner_text()
        points = page.locator('#per-window circle.point[data-series="events"]').all()
        assert len(points) >= 5
        for point in points:
            start, end = (int(point.get_attribute(a) or 0) for a in ("data-window", "data-end"))
            assert end - start == WINDOW_S * 1000
        labels = [t.text_content() or "" for t in page.locator("#per-window text.axis").all()]
        assert any(label.count(":") == 2 for label in labels), labels  # HH:MM:SS
        chromium.close()
