"""The cdk-nag security gate (AwsSolutions pack, v3 API) and its acknowledgments.

Every acknowledgment names the exact finding and says why it is acceptable; anything not
acknowledged fails the synth.
"""

from __future__ import annotations

from typing import Final

from aws_cdk import Acknowledgment, App, Stack, Token, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

S3_READ_ACTIONS: Final = ("GetObject*", "GetBucket*", "List*")
"""The wildcard actions ``Bucket.grant_read`` grants (each one an IAM5 finding)."""
S3_PUT_ACTIONS: Final = ("Abort*",)
"""The wildcard actions ``Bucket.grant_put`` grants (with PutObject and its variants)."""
S3_PUT_OBJECT_ACTIONS: Final = (
    "PutObject", "PutObjectLegalHold", "PutObjectRetention", "PutObjectTagging",
    "PutObjectVersionTagging",
)  # fmt: skip
"""The exact actions ``Bucket.grant_put`` grants beside ``S3_PUT_ACTIONS`` (no finding)."""
S3_DELETE_ACTIONS: Final = ("DeleteObject*",)
"""The wildcard actions ``Bucket.grant_delete`` grants; ``grant_read_write`` is all three."""


def add_security_gate(app: App) -> None:
    """Run AwsSolutions checks on every synth of ``app``."""
    Validations.of(app).add_plugins(
        AwsSolutionsChecks(app, verbose=True, write_suppressions_to_cloud_formation=True)
    )


def acknowledge(scope: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge one finding (``Rule`` or ``Rule[Finding]``) on ``scope`` with its reason."""
    Validations.of(scope).acknowledge(Acknowledgment(id=finding, reason=reason))


def acknowledge_all(scope: IConstruct, findings: list[str], reason: str) -> None:
    """Acknowledge several findings on ``scope`` that share one reason."""
    for finding in findings:
        acknowledge(scope, finding, reason)


def s3_action_findings(actions: tuple[str, ...]) -> list[str]:
    """The IAM5 findings of S3 wildcard actions, e.g. ``AwsSolutions-IAM5[Action::s3:List*]``."""
    return [f"AwsSolutions-IAM5[Action::s3:{a}]" for a in actions]


def pseudo(stack: Stack) -> tuple[str, str]:
    """Account and region as cdk-nag prints them: the value, or ``<AWS::...>`` when unknown."""
    account = "<AWS::AccountId>" if Token.is_unresolved(stack.account) else stack.account
    region = "<AWS::Region>" if Token.is_unresolved(stack.region) else stack.region
    return account, region


def arn_finding(stack: Stack, arn: str, suffix: str = "/*") -> str:
    """The IAM5 finding for ``<LogicalId.Arn><suffix>``, e.g. a bucket's object ARN."""
    resolved = stack.resolve(arn)
    logical_id = resolved["Fn::GetAtt"][0]
    return f"AwsSolutions-IAM5[Resource::<{logical_id}.Arn>{suffix}]"
