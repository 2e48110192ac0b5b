"""Build the deployable code of the pipeline without Docker.

- The mock-click Lambda: ``lambdas/clickgen`` and ``augury`` plus the ``lambda`` dependency group,
  pinned by ``uv.lock`` and installed for the Lambda platform (arm64, Python 3.11). CDK calls
  :class:`LambdaBundler` as its local bundler.
- The Managed Flink application: ``flink_app`` and ``augury``, the shaded jar built by Maven and
  the job's vendored Python dependencies, zipped (``python -m cdk.packaging flink-zip``).

Installed dependencies are cached under ``.local/cache/`` by the hash of their pinned list.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any, Final

import jsii
from aws_cdk import ILocalBundling

from augury import env as env_names
from augury.resources import FLINK_JAR, FLINK_JAR_NAME

ROOT: Final = Path(__file__).resolve().parents[1]
CACHE: Final = ROOT / ".local" / "cache"
FLINK_ZIP: Final = ROOT / "flink_app" / "target" / "augury-flink-app.zip"
LAMBDA_PLATFORM: Final = "aarch64-manylinux2014"
FLINK_PLATFORM: Final = "x86_64-manylinux2014"
LAMBDA_PYTHON: Final = "3.13"
"""The generator Lambda's runtime (``PYTHON_3_13`` in the ingest stack)."""
FLINK_PYTHON: Final = "3.11"
"""The Python of Managed Flink 1.20."""
# What the job imports beyond PyFlink (which Managed Flink provides): Redis and AWS SDK.
FLINK_VENDORED: Final = frozenset(
    {"redis", "boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"}
)
_SKIP: Final = shutil.ignore_patterns(
    "__pycache__", "*.pyc", ".mypy_cache", "target", "src", "*.xml"
)


class PackagingError(RuntimeError):
    """Packaging could not complete (tool missing, install failed, jar not built)."""


def _uv() -> str:
    for candidate in (os.environ.get(env_names.UV, ""), str(ROOT / ".local/uv/bin/uv")):
        if candidate and Path(candidate).exists():
            return candidate
    found = shutil.which("uv")
    if not found:
        raise PackagingError("uv not found: run `make venv` first (it installs .local/uv)")
    return found


def pinned(group: str, only: frozenset[str] | None = None) -> list[str]:
    """The ``name==version`` pins of a dependency group, from ``uv.lock``."""
    cmd = [_uv(), "export", "--frozen", "--only-group", group, "--no-hashes", "--no-header"]
    out = subprocess.run(
        [*cmd, "--no-annotate"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    pins = [line.split(";")[0].strip() for line in out.splitlines() if "==" in line]
    if only is not None:
        pins = [p for p in pins if p.split("==")[0].lower() in only]
    return sorted(pins)


def vendored(pins: list[str], platform: str, python: str) -> Path:
    """A directory with ``pins`` installed for ``platform``; built once per pin list."""
    key = hashlib.sha256("\n".join([platform, python, *pins]).encode()).hexdigest()[:16]
    target = CACHE / f"site-{key}"
    if (target / ".complete").exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    print(f"[packaging] installing {len(pins)} pinned packages for {platform}", file=sys.stderr)
    cmd = [_uv(), "pip", "install", "--quiet", "--no-deps", "--target", str(target)]
    cmd += ["--python-platform", platform, "--python-version", python]
    cmd += ["--only-binary", ":all:", *pins]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise PackagingError(f"installing {pins} failed:\n{result.stderr}")
    (target / ".complete").write_text("\n".join(pins))
    return target


def copy_sources(dest: Path, packages: list[str]) -> None:
    """Copy the repository's Python packages (without caches or build output) into ``dest``."""
    for package in packages:
        shutil.copytree(ROOT / package, dest / package, ignore=_SKIP, dirs_exist_ok=True)


def bundle_lambda(output_dir: Path) -> None:
    """Fill ``output_dir`` with the generator Lambda's code and dependencies."""
    shutil.copytree(
        vendored(pinned("lambda"), LAMBDA_PLATFORM, LAMBDA_PYTHON), output_dir, dirs_exist_ok=True
    )
    (output_dir / ".complete").unlink(missing_ok=True)
    copy_sources(output_dir, ["augury", "lambdas"])


@jsii.implements(ILocalBundling)
class LambdaBundler:
    """CDK's local bundling hook: bundles the Lambda on the host, never in Docker."""

    @staticmethod
    def source_hash() -> str:
        """Asset hash: the function's sources and its pinned dependencies (not the bundle)."""
        digest = hashlib.sha256("\n".join(pinned("lambda")).encode())
        for package in ("augury", "lambdas"):
            for path in sorted((ROOT / package).rglob("*.py")):
                digest.update(str(path.relative_to(ROOT)).encode())
                digest.update(path.read_bytes())
        return digest.hexdigest()

    def try_bundle(self, output_dir: str, options: Any) -> bool:
        """Bundle into ``output_dir``; True tells CDK not to fall back to Docker."""
        bundle_lambda(Path(output_dir))
        return True


MAIN_PY: Final = ROOT / "flink_app" / "main.py"
"""The service's entry point; the zip carries it at its root as ``main.py``."""
ZIP_PACKAGES: Final = ("augury", "flink_app")
"""The repository's packages the job imports (their ``.py`` and ``sql/*.sql`` files)."""


def build_flink_zip(out: Path = FLINK_ZIP) -> Path:
    """Zip the job: ``main.py``, ``flink_app/``, ``augury/``, ``lib/`` (jar + Python deps)."""
    if not FLINK_JAR.exists():
        raise PackagingError(f"{FLINK_JAR.relative_to(ROOT)} is missing: run `make flink-jar`")
    site = vendored(pinned("flink", FLINK_VENDORED), FLINK_PLATFORM, FLINK_PYTHON)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(MAIN_PY, "main.py")
        zf.write(FLINK_JAR, f"lib/{FLINK_JAR_NAME}")
        for package in ZIP_PACKAGES:
            files = [*(ROOT / package).glob("*.py"), *(ROOT / package).glob("sql/*.sql")]
            for path in sorted(p for p in files if p != MAIN_PY):
                zf.write(path, str(path.relative_to(ROOT)))
        for path in sorted(site.rglob("*")):
            if path.is_file() and path.name != ".complete" and "__pycache__" not in path.parts:
                zf.write(path, f"lib/python/{path.relative_to(site)}")
    tmp.replace(out)
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m cdk.packaging flink-zip|lambda DIR``."""
    parser = argparse.ArgumentParser(prog="python -m cdk.packaging", description=__doc__)
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("flink-zip", help=f"build {FLINK_ZIP.relative_to(ROOT)}")
    lam = sub.add_parser("lambda", help="bundle the generator Lambda into a directory")
    lam.add_argument("output_dir", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.what == "flink-zip":
            path = build_flink_zip()
            print(f"{path.relative_to(ROOT)} ({path.stat().st_size / 1e6:.1f} MB)")
        else:
            args.output_dir.mkdir(parents=True, exist_ok=True)
            bundle_lambda(args.output_dir)
            print(args.output_dir)
    except PackagingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
