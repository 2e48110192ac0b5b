"""ReadApi: the read API Lambda in the cache's VPC, behind a function URL with IAM auth.

Only in the AWS mode: locally ``python -m lambdas.read_api`` serves the same handler.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from augury import env as env_names
from cdk.config import StageConfig
from cdk.stacks.common import python_function


@dataclass(frozen=True)
class ReadApiProps:
    """Where the cache is and how to reach it as the read API's user (from Processing)."""

    config: StageConfig
    vpc: ec2.IVpc
    security_group: ec2.ISecurityGroup
    """A security group the cache admits."""
    cache_url: str
    """The cache's URL with the read API's user name (``augury.cache_access.READER_USER``)."""
    cache_secret: secretsmanager.ISecret
    """That user's password."""


class ReadApiStack(Stack):
    """The read API: Lambda (arm64, Python 3.13) + function URL (``AWS_IAM``).

    Callers need ``lambda:InvokeFunctionUrl`` on the function and sign with SigV4; the output
    ``ReadApiUrl`` is the base URL (``/openapi.json`` documents the routes).
    """

    function: lambda_.Function
    url: lambda_.FunctionUrl

    def __init__(
        self, scope: Construct, construct_id: str, props: ReadApiProps, **kwargs: object
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        cfg = props.config
        self.function = python_function(
            self,
            "ReadApi",
            cfg,
            description="Augury read API (function URL, IAM auth) over the Valkey results",
            handler="lambdas.read_api.handler.lambda_handler",
            timeout=Duration.seconds(10),
            vpc=props.vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            security_groups=[props.security_group],
            environment={
                env_names.REDIS_URL: props.cache_url,
                env_names.REDIS_AUTH_SECRET_ARN: props.cache_secret.secret_arn,
                env_names.POWERTOOLS_SERVICE_NAME: "read-api",
                # What the job wrote: the key prefix and the window size, among others.
                **cfg.pipeline.environment(),
            },
        )
        props.cache_secret.grant_read(self.function)
        self.url = self.function.add_function_url(auth_type=lambda_.FunctionUrlAuthType.AWS_IAM)
        CfnOutput(self, "ReadApiUrl", value=self.url.url, description="Read API base URL (SigV4)")
