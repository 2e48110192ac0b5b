"""cfn-lint over every template ``cdk synth`` writes, in both modes: no error, and no warning
but the known ones below (each made by aws-cdk-lib, not by the stacks' own properties)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Final

import pytest
from aws_cdk import Token
from cfnlint.api import ManualArgs, lint, lint_file
from cfnlint.rules import Match

from tests.unit.cdk.conftest import SYNTHS, Synth

KNOWN_WARNINGS: Final = {
    "W3005": "a Lambda function or the Flink application DependsOn its role, which it also "
    "references (aws-cdk-lib adds the dependency so that the role's policy exists first)",
    "W7001": "the Firehose L2's CIDR-block mapping, unused without a VPC destination",
    "W3010": "literal availability zones: a synth with a concrete account and region writes "
    "the looked-up (here: dummy) zones into the VPC's subnets",
}
"""Warnings that may remain, with what causes them."""


def findings(synth: Synth) -> dict[str, list[Match]]:
    """cfn-lint's matches per template of ``synth``, in the synth's region."""
    out = {}
    for stack in synth.stacks:
        region = "us-east-1" if Token.is_unresolved(stack.region) else stack.region
        template = synth.outdir / stack.template_file
        out[template.name] = lint_file(Path(template), config=ManualArgs(regions=[region]))
    return out


def _severity(match: Match) -> str:
    return str(match.rule.severity).lower()


@pytest.mark.parametrize("name", SYNTHS)
def test_every_template_passes_cfn_lint(name: str, request: pytest.FixtureRequest) -> None:
    synth: Synth = request.getfixturevalue(name)
    found = findings(synth)
    assert len(found) == len(synth.templates)
    errors = [f"{t}: {m}" for t, ms in found.items() for m in ms if _severity(m) == "error"]
    assert not errors, "\n".join(errors)
    unknown = [f"{t}: {m}" for t, ms in found.items() for m in ms
               if _severity(m) == "warning" and m.rule.id not in KNOWN_WARNINGS]  # fmt: skip
    assert not unknown, "\n".join(unknown)


def test_cfn_lint_reports_an_error_in_a_template() -> None:
    """The check above can fail: a property CloudFormation does not know is an error."""
    template = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue",
                                        "Properties": {"QueueNam": "typo"}}}}  # fmt: skip
    found = lint(json.dumps(template), config=ManualArgs(regions=["us-east-1"]))
    assert [m.rule.id for m in found if _severity(m) == "error"] == ["E3002"]
