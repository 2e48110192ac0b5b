"""Small helpers the stacks share."""

from __future__ import annotations

from typing import Any, Final

from aws_cdk import BundlingOptions, DockerImage, Duration, RemovalPolicy
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

    ``options`` are further ``lambda_.Function`` properties (environment, VPC, tracing, ...).
    The acknowledgments every such function shares are added here.
    """
    log_group = logs.LogGroup(
        scope,
        f"{construct_id}Logs",
        retention=log_retention(cfg.log_retention_days),
        removal_policy=RemovalPolicy.DESTROY,
    )
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
        **options,
    )
    acknowledge(
        fn,
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
        "AWSLambdaBasicExecutionRole]",
        "The AWS-managed basic execution role only allows writing the function's own logs.",
    )
    acknowledge(
        fn,
        "AwsSolutions-L1",
        "Pinned to Python 3.13: the bundle's compiled wheels (pydantic-core) are built for "
        "it; move with LAMBDA_PYTHON in cdk/packaging.py.",
    )
    return fn
