"""Satisfy, without the internet, the runtime downloads LocalStack attempts.

LocalStack installs some tools lazily from GitHub or CloudFront, which are out of reach
offline. Each is provided here from a package registry or the local JDK instead:

- Java 11 and 21 (Firehose's Kinesis reader, the Kinesis Client Library): links to the local
  JDK (17+).
- kinesis-mock: LocalStack installs it itself from npm; it is pre-installed here so the first
  Kinesis call does not wait for it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from augury import env as env_names
from localplatform.console import step

JAVA_VERSIONS = ("11", "21")


def lib_dir(filesystem_root: Path) -> Path:
    """LocalStack's package directory under its FILESYSTEM_ROOT."""
    return filesystem_root / "var" / "lib" / "localstack" / "lib"


def lpm_env(packages: Path, env: dict[str, str]) -> dict[str, str]:
    """An environment in which LocalStack's package manager installs into ``packages``."""
    root = packages.parent / "localstack-lpm-root"
    lib = lib_dir(root)
    lib.parent.mkdir(parents=True, exist_ok=True)
    if not lib.is_symlink():
        lib.symlink_to(packages, target_is_directory=True)
    return {**env, "FILESYSTEM_ROOT": str(root)}


def java_home_from(java_bin: str) -> Path:
    """The JDK home that a ``java`` executable (possibly a chain of links) belongs to."""
    return Path(os.path.realpath(java_bin)).parent.parent


def find_jdk() -> Path:
    """The local JDK's home: JAVA_HOME, else the ``java`` on PATH."""
    home_env = os.environ.get(env_names.JAVA_HOME)
    if home_env and (Path(home_env) / "bin" / "java").exists():
        home = Path(home_env)
    else:
        java = shutil.which("java")
        if java is None:
            raise FileNotFoundError(
                "LocalStack's Firehose needs a JDK 17+ and none was found: install one "
                "(Debian: apt-get install openjdk-17-jdk-headless) or set JAVA_HOME"
            )
        home = java_home_from(java)
    return home


def link_java(lib: Path, jdk_home: Path) -> None:
    """Make LocalStack's Java 11 and 21 installs point at the local JDK."""
    for version in JAVA_VERSIONS:
        target = lib / "java" / version
        if (target / "bin" / "java").exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.is_dir():
            shutil.rmtree(target)
        target.symlink_to(jdk_home, target_is_directory=True)
        step(f"java {version}: linked to {jdk_home}")


def has_dynamodb_local(lib: Path) -> bool:
    """Whether an earlier platform's DynamoDB Local is still in ``lib``."""
    return (lib / "dynamodb-local").exists()


def remove_dynamodb_local(lib: Path) -> None:
    """Delete a DynamoDB Local that earlier versions of the platform installed.

    DynamoDB Local is under Amazon's own licence, not an open-source one; the platform serves
    DynamoDB from moto instead (``localstack/dynamodb-provider``).
    """
    old = lib / "dynamodb-local"
    if old.is_symlink() or old.is_file():
        old.unlink()
    elif old.exists():
        step(f"DynamoDB Local: removing {old} (DynamoDB is served by moto now)")
        shutil.rmtree(old)


def preinstall_kinesis_mock(packages: Path, python: Path, env: dict[str, str]) -> None:
    """Let LocalStack install kinesis-mock (from npm) now rather than on the first call."""
    marker = packages / "kinesis-local"
    if marker.exists() and any(marker.iterdir()):
        return
    step("kinesis-mock: installing from npm")
    subprocess.run(
        # var_libs: where the running LocalStack looks (lpm's default is its static dir).
        [str(python), "-m", "localstack.cli.lpm", "install", "--target", "var_libs",
         "kinesis-mock"],
        check=True,
        env=lpm_env(packages, env),
        stdout=subprocess.DEVNULL,
    )  # fmt: skip


def ensure(packages: Path, python: Path, env: dict[str, str]) -> None:
    """Provide, in ``packages``, every runtime package LocalStack would otherwise download."""
    lib = packages
    lib.mkdir(parents=True, exist_ok=True)
    jdk = find_jdk()
    link_java(lib, jdk)
    remove_dynamodb_local(lib)
    preinstall_kinesis_mock(packages, python, env)
