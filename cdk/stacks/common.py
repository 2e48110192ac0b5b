"""Small helpers the stacks share."""

from __future__ import annotations

from typing import Any, Final

from aws_cdk import BundlingOptions, DockerImage, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk.config import StageConfig
from cdk.nag import acknowledge
from cdk.packaging import ROOT, LambdaBundler

_RETENTION: Final = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
}


def log_retention(days: int) -> logs.RetentionDays:
    """CloudWatch Logs retention for a number of days the stage configuration accepts."""
    return _RETENTION[days]


def lambda_code() -> lambda_.Code:
    """The Lambdas' one code asset: ``augury/``, ``lambdas/`` and the ``lambda`` group's pins.

    Bundled on the host (never in Docker) by ``LambdaBundler``; the image is only CDK's
    fallback and is never pulled.
    """
    return lambda_.Code.from_asset(
        str(ROOT),
        exclude=["*"],  # the bundler copies exactly what the functions need
        bundling=BundlingOptions(
            image=DockerImage.from_registry("public.ecr.aws/sam/build-python3.13"),
            # jsii passes the options positionally; the stub types them as kwargs.
            local=LambdaBundler(),  # type: ignore[arg-type]
        ),
        asset_hash=LambdaBundler.source_hash(),
    )


LAMBDA_VPC_ACTIONS: Final = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)
"""What Lambda needs to attach a function to a VPC (the EC2 actions of the AWS-managed
AWSLambdaVPCAccessExecutionRole, without its logs:* on every log group)."""


def python_function(
    scope: Construct,
    construct_id: str,
    cfg: StageConfig,
    *,
    description: str,
    handler: str,
    timeout: Duration,
    **options: Any,
) -> lambda_.Function:
    """A Lambda of the project's code asset (Python 3.13, arm64) with its own log group.

    Its role may write that log group only (no AWS-managed policy: AWSLambdaBasicExecutionRole
    would allow logs:CreateLogGroup/CreateLogStream/PutLogEvents on every log group), plus the
    ENI actions of ``LAMBDA_VPC_ACTIONS`` when ``options`` put it in a VPC. ``options`` are
    further ``lambda_.Function`` properties (environment, VPC, tracing, ...). The
    acknowledgments every such function shares are added here.
    """
    log_group = logs.LogGroup(
        scope,
        f"{construct_id}Logs",
        retention=log_retention(cfg.log_retention_days),
        removal_policy=RemovalPolicy.DESTROY,
    )
    role = iam.Role(
        scope,
        f"{construct_id}Role",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=f"{cfg.prefix}: {description}",
    )
    log_group.grant_write(role)  # CreateLogStream, PutLogEvents on this log group's streams
    fn = lambda_.Function(
        scope,
        construct_id,
        description=description,
        runtime=lambda_.Runtime.PYTHON_3_13,
        architecture=lambda_.Architecture.ARM_64,
        handler=handler,
        code=lambda_code(),
        memory_size=options.pop("memory_size", 256),
        timeout=timeout,
        log_group=log_group,
        role=role,
        **options,
    )
    if options.get("vpc") is not None:
        role.add_to_policy(iam.PolicyStatement(actions=list(LAMBDA_VPC_ACTIONS), resources=["*"]))
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "Lambda's VPC access: " + ", ".join(LAMBDA_VPC_ACTIONS) + " on *, as AWS documents "
            "them for a function in a VPC (EC2's Describe actions take no resource; the "
            "interfaces' ids are not known before Lambda creates them).",
        )
    acknowledge(
        fn,
        "AwsSolutions-L1",
        "Pinned to Python 3.13: the bundle's compiled wheels (pydantic-core) are built for "
        "it; move with LAMBDA_PYTHON in cdk/packaging.py.",
    )
    return fn
