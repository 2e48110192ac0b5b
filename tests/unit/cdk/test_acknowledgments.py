"""Every acknowledged finding is true of the synthesized templates.

An acknowledgment (``cdk.nag.acknowledge``) silences a finding on a construct and everything
under it. Each one is checked here against the resources of that scope, in every synth: an
acknowledged managed policy is attached, an acknowledged wildcard action or resource is in a
policy statement, its reason names every action granted on an acknowledged resource, and the
other rules' resources are really as the reason says. An acknowledgment that matches nothing
fails, so a stale one cannot hide a later grant.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aws_cdk import CfnResource, Stack
from constructs import IConstruct

from tests.unit.cdk.conftest import SYNTHS, Synth

ACKNOWLEDGED = "aws:cdk:acknowledged-rules"
"""The construct metadata that ``Validations.of(scope).acknowledge`` leaves on the scope."""
NAG = "Annotation::AwsSolutions-"
VALIDATE = "CloudFormation-Validate::"
VALIDATOR = "CloudFormation Validate"
"""aws-cdk-lib's own template validation, a plugin of the same report as cdk-nag's."""
CDK_OWN = {"W3010", "F3002", "F3003", "W3045"}
"""CloudFormation validation rules that aws-cdk-lib acknowledges itself (on VPCs, flow logs,
access-log buckets); every other one is this project's and must have fired."""
FINDING = re.compile(r"(?P<rule>[A-Z0-9]+)(\[(?P<kind>Policy|Action|Resource)::(?P<value>.+)\])?")

Resource = dict[str, Any]


@dataclass(frozen=True)
class Acknowledgment:
    """One acknowledged finding, where it was made, and the resources it covers."""

    synth: str
    path: str
    rule: str
    kind: str | None
    value: str | None
    reason: str
    resources: dict[str, Resource]
    """The CloudFormation resources of the acknowledged scope, by logical id."""

    def __str__(self) -> str:
        finding = f"{self.rule}[{self.kind}::{self.value}]" if self.kind else self.rule
        return f"{self.synth}: {finding} at {self.path}"


def _resources(scope: IConstruct, synth: Synth) -> dict[str, Resource]:
    stack = Stack.of(scope)
    template = synth.templates[stack.stack_name.rsplit("-", 1)[1]].to_json()["Resources"]
    out: dict[str, Resource] = {}
    for node in scope.node.find_all():
        if isinstance(node, CfnResource):
            logical_id = stack.resolve(node.logical_id)
            out[logical_id] = template[logical_id]
    return out


def acknowledgments(name: str, synth: Synth, prefix: str) -> Iterator[Acknowledgment]:
    """The acknowledgments of ``synth`` whose id starts with ``prefix``."""
    for node in synth.app.node.find_all():
        for entry in node.node.metadata:
            if entry.type != ACKNOWLEDGED:
                continue
            for key, reason in dict(entry.data).items():
                if not key.startswith(prefix):
                    continue
                found = FINDING.fullmatch(key.removeprefix(prefix))
                assert found, f"{key} at {node.node.path}: not a finding id"
                yield Acknowledgment(name, node.node.path, found["rule"], found["kind"],
                                     found["value"], str(reason),
                                     _resources(node, synth))  # fmt: skip


def flat(value: Any) -> str:
    """A template value as cdk-nag prints it in a finding (``<Logical.Arn>``, ``<AWS::Region>``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        (fn, arg), = value.items()  # fmt: skip
        if fn == "Ref":
            return f"<{arg}>"
        if fn == "Fn::GetAtt":
            return f"<{arg[0]}.{arg[1]}>"
        if fn == "Fn::Join":
            return str(arg[0]).join(flat(part) for part in arg[1])
        if fn == "Fn::Sub" and isinstance(arg, str):
            return re.sub(r"\$\{([^}]+)\}", r"<\1>", arg)
        if fn == "Fn::ImportValue":
            return f"<ImportValue:{flat(arg)}>"
    return json.dumps(value)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(resources: dict[str, Resource]) -> list[dict[str, Any]]:
    """Every Allow statement of the IAM policies among ``resources`` (inline ones included)."""
    documents = []
    for resource in resources.values():
        props = resource.get("Properties", {})
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            documents.append(props["PolicyDocument"])
        if resource["Type"] == "AWS::IAM::Role":
            documents += [p["PolicyDocument"] for p in props.get("Policies", [])]
    return [s for d in documents for s in d["Statement"] if s["Effect"] == "Allow"]


def names(action: str, reason: str) -> bool:
    """Whether ``reason`` names ``action`` (``s3:List*`` or ``List*``, as a whole word)."""
    short = action.split(":", 1)[1]
    return any(re.search(rf"(?<![\w*]){re.escape(a)}(?![\w*])", reason) for a in (action, short))


def check_iam(ack: Acknowledgment) -> None:
    """IAM4: the managed policy is attached. IAM5: the wildcard action or resource is granted,
    and the reason names every action granted with it."""
    assert ack.kind and ack.value, f"{ack}: {ack.rule} is acknowledged without its finding"
    if ack.rule == "IAM4":
        assert ack.kind == "Policy"
        attached = [flat(arn) for r in ack.resources.values() if r["Type"] == "AWS::IAM::Role"
                    for arn in r["Properties"].get("ManagedPolicyArns", [])]  # fmt: skip
        assert ack.value in attached, f"{ack}: no role in scope has it; attached: {attached}"
        return
    assert "*" in ack.value, f"{ack}: IAM5 is about wildcards; this one has none"
    granted = statements(ack.resources)
    if ack.kind == "Action":
        matching = [s for s in granted if ack.value in _listed(s["Action"])]
        assert matching, f"{ack}: no statement in scope grants it"
        assert names(ack.value, ack.reason), f"{ack}: the reason does not name it"
    else:
        matching = [s for s in granted if ack.value in map(flat, _listed(s["Resource"]))]
        assert matching, f"{ack}: no statement in scope is on this resource"
        actions = {a for s in matching for a in _listed(s["Action"])}
        unnamed = sorted(a for a in actions if not names(a, ack.reason))
        assert not unnamed, f"{ack}: granted on it but not named in the reason: {unnamed}"


def _of(resources: dict[str, Resource], kind: str) -> list[dict[str, Any]]:
    return [r.get("Properties", {}) for r in resources.values() if r["Type"] == kind]


RULES: dict[str, Callable[[dict[str, Resource]], bool]] = {
    # A Lambda on a pinned runtime (not the latest one).
    "L1": lambda rs: any(p["Runtime"] == "python3.13" for p in _of(rs, "AWS::Lambda::Function")),
    # A bucket without access logging.
    "S1": lambda rs: any("LoggingConfiguration" not in p for p in _of(rs, "AWS::S3::Bucket")),
    # A Kinesis-sourced delivery stream (no Firehose SSE possible) whose source is encrypted.
    "KDF1": lambda rs: any(
        p["DeliveryStreamType"] == "KinesisStreamAsSource"
        and "DeliveryStreamEncryptionConfigurationInput" not in p
        for p in _of(rs, "AWS::KinesisFirehose::DeliveryStream")
    ),
    # A secret without rotation.
    "SMG4": lambda rs: bool(_of(rs, "AWS::SecretsManager::Secret"))
    and not _of(rs, "AWS::SecretsManager::RotationSchedule"),
    # A security group admitting a CIDR that is a token (the VPC's own), not 0.0.0.0/0.
    "EC23": lambda rs: any(
        all(isinstance(rule.get("CidrIp"), dict) for rule in p.get("SecurityGroupIngress", []))
        and p.get("SecurityGroupIngress")
        for p in _of(rs, "AWS::EC2::SecurityGroup")
    ),
    # A replication group on the default port.
    "AEC5": lambda rs: any(
        p.get("Port") == 6379 for p in _of(rs, "AWS::ElastiCache::ReplicationGroup")
    ),
    # A replication group with RBAC user groups instead of an AUTH token, TLS on.
    "AEC6": lambda rs: any(
        "AuthToken" not in p and p.get("UserGroupIds") and p["TransitEncryptionEnabled"] is True
        for p in _of(rs, "AWS::ElastiCache::ReplicationGroup")
    ),
    # A queue without a dead-letter queue.
    "SQS3": lambda rs: any("RedrivePolicy" not in p for p in _of(rs, "AWS::SQS::Queue")),
    # A public method: no authorizer (the collector's POST and CORS preflight).
    "APIG4": lambda rs: any(
        p["AuthorizationType"] == "NONE" for p in _of(rs, "AWS::ApiGateway::Method")
    ),
    "COG4": lambda rs: any(
        p["AuthorizationType"] == "NONE" for p in _of(rs, "AWS::ApiGateway::Method")
    ),
    # A stage without an access log.
    "APIG1": lambda rs: any("AccessLogSetting" not in p for p in _of(rs, "AWS::ApiGateway::Stage")),
    # A stage (its web ACL association would be a resource of its own, outside the scope).
    "APIG3": lambda rs: bool(_of(rs, "AWS::ApiGateway::Stage")),
}  # fmt: skip
"""For each other acknowledged rule: what its reason claims of the scope's resources."""


def _all(request: pytest.FixtureRequest, prefix: str) -> list[Acknowledgment]:
    return [ack for name in SYNTHS
            for ack in acknowledgments(name, request.getfixturevalue(name), prefix)]  # fmt: skip


def test_every_acknowledged_finding_is_true_of_the_template(request: pytest.FixtureRequest) -> None:
    acks = _all(request, NAG)
    assert {a.rule for a in acks} >= {"IAM5", "L1", "S1", "KDF1", "SMG4", "EC23", "AEC6"}
    failures = []
    for ack in acks:
        try:
            if ack.rule in ("IAM4", "IAM5"):
                check_iam(ack)
            else:
                assert ack.rule in RULES, f"{ack}: add a check of this rule to RULES"
                assert ack.kind is None, f"{ack}: a finding of {ack.rule} is not checked"
                assert RULES[ack.rule](ack.resources), f"{ack}: nothing in scope is so"
        except AssertionError as exc:
            failures.append(str(exc).split("\n")[0])
    assert not failures, "\n".join(failures)


def test_no_s3_delete_is_acknowledged_where_none_is_granted(request: pytest.FixtureRequest) -> None:
    """The Flink role has no delete grant and no acknowledgment of one (a future grant fails the
    synth); only Firehose's role, which the L2 gives DeleteObject* (voided by a Deny), has it."""
    deletes = [a for a in _all(request, NAG) if a.kind == "Action" and "Delete" in str(a.value)]
    assert deletes and all(a.path.endswith("RawStorage/RawDeliveryRole") for a in deletes)


def test_every_own_validation_acknowledgment_fired(request: pytest.FixtureRequest) -> None:
    """CloudFormation validation acknowledgments of this project (not aws-cdk-lib's own): each
    one silenced a finding of that synth, at that scope."""
    checked = 0
    for name in SYNTHS:
        synth: Synth = request.getfixturevalue(name)
        report = json.loads((synth.outdir / "validation-report.json").read_text())
        fired = {(v["acknowledgedId"], v["acknowledgedAt"])
                 for plugin in report["pluginReports"] if plugin["pluginName"] == VALIDATOR
                 for v in plugin.get("suppressedViolations", [])}  # fmt: skip
        for ack in acknowledgments(name, synth, VALIDATE):
            if ack.rule not in CDK_OWN:
                assert (f"{VALIDATE}{ack.rule}", ack.path) in fired, f"{ack}: never fired"
                checked += 1
    assert checked  # the default synth has one (Firehose's mapping)


def test_the_check_fails_on_an_acknowledgment_that_matches_nothing(aws_synth: Synth) -> None:
    """The checks above can fail: a delete or a resource nobody is granted is caught."""
    flink = next(a for a in acknowledgments("aws_synth", aws_synth, NAG)
                 if a.path.endswith("Processing/Sessionizer") and a.kind == "Action")  # fmt: skip
    for kind, value in (("Action", "s3:DeleteObject*"), ("Resource", "arn:*:s3:::other/*")):
        stale = Acknowledgment(**{**flink.__dict__, "kind": kind, "value": value})
        with pytest.raises(AssertionError, match="no statement in scope"):
            check_iam(stale)
    lying = Acknowledgment(**{**flink.__dict__, "reason": "reads its code"})
    with pytest.raises(AssertionError, match="does not name it"):
        check_iam(lying)
