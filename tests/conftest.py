"""Shared fixtures. Integration tests get a running local platform through ``platform_up``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from augury.endpoints import Endpoints
from localplatform import platform
from localplatform.config import PlatformConfig

SERVER_DIRS = tuple(Path(__file__).parent / d for d in ("integration", "flink", "e2e"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under tests/integration, tests/flink and tests/e2e as ``integration``."""
    for item in items:
        if any(d in Path(str(item.fspath)).parents for d in SERVER_DIRS):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def platform_up() -> Iterator[PlatformConfig]:
    """The local platform, started for the session when it is not already up.

    Only what this fixture started is stopped at the end, so a platform brought up with
    ``make up`` stays up.
    """
    cfg = PlatformConfig.from_env()
    started = platform.up(cfg)
    yield cfg
    if started:
        platform.down(cfg, only=started)


@pytest.fixture(scope="session")
def endpoints(platform_up: PlatformConfig) -> Endpoints:
    """Endpoints of the running local platform."""
    return platform_up.endpoints
