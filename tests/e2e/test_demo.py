"""``make demo HEADLESS=1``: the whole pipeline for two minutes, every event accounted for.

Runs the real demo: CDK local deploy, the generator on its EventBridge schedule, Firehose to
S3, the streaming Flink job into Redis. It exits 0 only when the events produced, the raw
records in S3 and Redis's totals (accepted + invalid + duplicates + bots + late) are equal and
the dead letter holds every invalid and late event.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def test_headless_demo_balances(platform_up: Any) -> None:
    env = {k: v for k, v in os.environ.items() if "FLINK" not in k}
    env["PYTHONPATH"] = f"{ROOT}:{ROOT / 'localstack'}"
    done = subprocess.run(
        [sys.executable, "-m", "demo", "--headless", "--duration", "2"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    summary = json.loads(done.stdout)
    assert summary["balanced"] and summary["produced"] > 1000
    assert summary["produced"] == summary["raw_records_in_s3"] == summary["accounted_in_redis"]
    totals = summary["totals"]
    assert totals["late"] > 0 and totals["bot_events"] > 0 and totals["invalid"] > 0
    assert summary["final_windows"] >= 1 and summary["sessions"] > 0
