"""Resolving a deployed dashboard body locally (LocalStack does not create dashboards)."""

from __future__ import annotations

import pytest

from localplatform.cdk_local import resolve


def test_resolves_refs_joins_and_imports() -> None:
    body = {
        "Fn::Join": [
            "",
            ['{"region":"', {"Ref": "AWS::Region"}, '","stream":"', {"Fn::ImportValue": "X"}, '"}'],
        ]
    }
    assert resolve(body, {"AWS::Region": "us-east-1"}, {"X": "augury-clicks"}) == (
        '{"region":"us-east-1","stream":"augury-clicks"}'
    )


def test_unknown_intrinsics_fail_loudly() -> None:
    with pytest.raises(ValueError, match="Fn::Sub"):
        resolve({"Fn::Sub": "x"}, {}, {})
