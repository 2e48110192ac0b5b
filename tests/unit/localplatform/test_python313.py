from __future__ import annotations

import sys

import pytest

from localplatform import python313


def test_candidates_order_explicit_then_path_then_pyenv_newest_first() -> None:
    found = python313.candidates(
        "/opt/py/bin/python3.13",
        which=lambda name: "/usr/bin/python3.13" if name == "python3.13" else None,
        pyenv_root="/pe",
        globber=lambda pattern: [
            "/pe/versions/3.13.0/bin/python3.13",
            "/pe/versions/3.13.2/bin/python3.13",
        ],
    )
    assert found == [
        "/opt/py/bin/python3.13",
        "/usr/bin/python3.13",
        "/pe/versions/3.13.2/bin/python3.13",
        "/pe/versions/3.13.0/bin/python3.13",
    ]


def test_a_python_of_another_version_is_not_taken() -> None:
    assert python313.is_python313(sys.executable) is (sys.version_info[:2] == (3, 13))
    assert python313.is_python313("/nonexistent/python3.13") is False


def test_an_explicit_setting_that_does_not_work_is_named() -> None:
    with pytest.raises(FileNotFoundError, match="AUGURY_LOCALSTACK_PYTHON"):
        python313.find(sys.executable if sys.version_info[:2] != (3, 13) else "/nope")
