"""The architecture's rules, read from the source: imports go one way; one definition each."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = (
    "lambdas",
    "flink_app",
    "cdk",
    "collector",
    "demo",
    "bench",
    "notebooks",
    "localplatform",
    "tests",
)


def _imports(package: str) -> set[str]:
    """Top-level modules imported anywhere in ``package``."""
    found: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return found


def test_the_shared_core_imports_no_app() -> None:
    assert _imports("augury") & set(APPS) == set()


def test_cdk_imports_no_app_module() -> None:
    assert _imports("cdk") & (set(APPS) - {"cdk"}) == set()


def test_the_reference_model_is_not_shipped_with_the_job() -> None:
    assert not (ROOT / "flink_app" / "reference.py").exists()
    assert (ROOT / "tests" / "reference.py").exists()


def test_no_window_or_gap_constant_outside_the_settings_module() -> None:
    tracked = subprocess.run(["git", "ls-files", "*.py", "*.js", "*.sql", "*.ipynb"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
    offenders = [
        f"{name}:{n}: {line.strip()}"
        for name in tracked
        if not name.startswith("tests/") and name != "augury/settings.py"
        for n, line in enumerate((ROOT / name).read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\b60_?000\b", line)
    ]
    assert offenders == []


def test_every_environment_variable_read_is_named_in_augury_env() -> None:
    tracked = subprocess.run(["git", "ls-files", "*.py", "*.ipynb"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
    read_by_name = re.compile(
        r'(?:environ\.get|getenv|env\.get)\(\s*"([A-Z][A-Z0-9_]*)"|environ\[\s*"([A-Z][A-Z0-9_]*)"'
    )
    offenders = [
        f"{name}: {''.join(match)}"
        for name in tracked
        if not name.startswith("tests/") and name != "augury/env.py"
        for match in read_by_name.findall((ROOT / name).read_text(encoding="utf-8"))
    ]
    assert offenders == []
