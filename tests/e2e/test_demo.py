"""``make demo HEADLESS=1``: the whole pipeline for two minutes, every event accounted for.

Runs the real demo once for the module: CDK local deploy, the generator on its EventBridge
schedule, Firehose to S3, the streaming Flink job into Redis. Then checks the balance, the
timeliness of the final results, and runs the exploration notebook against that run.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import nbformat
import pytest
import redis

from augury import env as env_names
from augury.redis_keys import Keys
from augury.settings import PipelineSettings
from localplatform import browser

ROOT = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    return env_names.for_child_process(os.environ)


# 40 events/s: bot bursts are a Poisson process (2% of traffic, bursts of 11-30 events), so at
# the default 20/s two minutes hold no burst about one run in 10; at 40/s under one in 100.
def _shop_visit(url: str) -> dict[str, str]:
    """A person in Chromium: a product, add to cart, the cart, checkout, place the order."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=browser.install(), headless=True,
                                      args=list(browser.LAUNCH_ARGS))  # fmt: skip
        page = chromium.new_page()
        page.goto(url)
        page.wait_for_function("window.augury && window.augury.ids")
        page.locator(".card a[data-nav]").first.click()
        page.locator("button[data-action=add]").click()
        page.locator("#cart-link").click()
        page.locator("button[data-action=checkout]").click()
        page.locator("button[data-action=purchase]").click()
        page.wait_for_function("document.body.dataset.route === 'thanks'")
        page.evaluate("augury.flush()")
        ids: dict[str, str] = page.evaluate("augury.ids()")
        assert page.locator("#user-id").inner_text() == ids["userId"]
        if "api=" in url:  # the footer links to the demo's dashboard, filtered to this visitor
            link = page.locator("#sessions-link").get_attribute("href") or ""
            assert link.endswith(f"/dashboard/?user={ids['userId']}"), link
            assert "api=" not in page.url  # taken out of the address: no page_url carries it
        chromium.close()
    return ids


@pytest.fixture(scope="module")
def demo(platform_up: Any) -> dict[str, Any]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "demo", "--headless", "--duration", "2", "--rate", "40",
         "--api-port", "0", "--collector-port", "0"],
        cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stderr is not None and proc.stdout is not None
    lines: list[str] = []
    shop = ""
    try:
        for line in proc.stderr:  # progress, until the demo says where its shop is
            lines.append(line)
            if match := re.search(r"the demo shop (\S+)", line):
                shop = match.group(1)
                break
        # Keep reading its progress while the browser clicks (a full pipe would stall it).
        err = threading.Thread(target=lambda: lines.extend(proc.stderr or []), daemon=True)
        err.start()
        ids = _shop_visit(shop) if shop else {}
        out = proc.stdout.read()
        proc.wait(timeout=900)
        err.join(timeout=10)
    finally:
        if proc.poll() is None:  # a failed visit: stop the demo (it stops its children)
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=120)
    stderr = "".join(lines)
    assert shop, stderr[-4000:]
    assert out, stderr[-4000:]
    summary: dict[str, Any] = json.loads(out)
    summary["returncode"] = proc.returncode
    summary["stderr"] = stderr[-4000:]
    summary["shopper"] = ids
    return summary


def test_every_event_produced_is_in_s3_and_accounted_for_in_redis(demo: dict[str, Any]) -> None:
    assert demo["balanced"] and demo["produced"] > 1000, demo["stderr"]
    assert demo["produced"] == demo["raw_records_in_s3"] == demo["accounted_in_redis"]
    totals = demo["totals"]
    assert totals["late"] > 0 and totals["bot_events"] > 0 and totals["invalid"] > 0
    assert demo["dead_letter"]["lines"] == totals["invalid"] + totals["late"]
    assert demo["final_windows"] >= 1 and demo["sessions"] > 0


def test_a_shop_visit_is_counted_and_its_session_is_in_redis(
    demo: dict[str, Any], platform_up: Any
) -> None:
    """What a person clicked in the demo shop went through the collector into the results."""
    # page views (home, product, cart, checkout, thanks), product_view, add_to_cart, checkout,
    # purchase: at least 9 events stored by the collector, within the balanced totals.
    assert demo["collected_over_http"] >= 9 and demo["balanced"], demo["stderr"]
    conn = redis.Redis.from_url(platform_up.endpoints.redis_url, decode_responses=True)
    keys = Keys(PipelineSettings.from_env().key_prefix)
    shopper = demo["shopper"]
    sessions = [conn.hgetall(keys.session(str(s))) for s in
                conn.zrange(keys.user_sessions(shopper["userId"]), 0, -1)]  # fmt: skip
    assert [s["device_id"] for s in sessions] == [shopper["deviceId"]]
    assert int(sessions[0]["events"]) >= 9 and sessions[0]["first_event"] == "page_view"


def test_every_closed_window_is_final_within_end_plus_delay_plus_10s(demo: dict[str, Any]) -> None:
    finals = demo["finals"]
    assert finals["closed_windows"] >= 2 and finals["slack_s"] == 10
    assert finals["on_time"], finals["late"]
    assert demo["returncode"] == 0, demo["stderr"]


def test_the_notebook_runs_top_to_bottom_against_the_run(demo: dict[str, Any],
                                                         tmp_path: Path) -> None:  # fmt: skip
    out = tmp_path / "explore.ipynb"
    env = _env() | {"AUGURY_NOTEBOOK_EXPECT_BALANCED": "true"}
    done = subprocess.run(
        [sys.executable, "-m", "notebooks", "--output", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    executed = nbformat.read(out, as_version=4)  # type: ignore[no-untyped-call]
    outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o["output_type"] == "error"]
    pngs = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(pngs) >= 4  # sessions per minute, durations, funnel, countries
    text = "".join(o.get("text", "") for o in outputs)
    read = demo["accounted_in_redis"] + demo["probes"]  # the closing marker is in flight
    assert f"read and classified by the job: {read}" in text
    assert "every difference is explained" in text
