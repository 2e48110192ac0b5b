"""Processing: the PyFlink sessionizer on Managed Flink, writing to ElastiCache for Valkey.

Only in the AWS mode: locally the job runs on a Flink mini-cluster and writes to a local Redis.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kinesisanalytics_flink_alpha as flink
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from augury.cache_access import (
    DEFAULT_USER_ACCESS,
    JOB_USER,
    READER_USER,
    job_access,
    reader_access,
)
from augury.resources import FLINK_JAR_NAME
from cdk.config import StageConfig
from cdk.nag import (
    S3_PUT_ACTIONS,
    S3_PUT_OBJECT_ACTIONS,
    S3_READ_ACTIONS,
    acknowledge,
    acknowledge_all,
    pseudo,
    s3_action_findings,
)
from cdk.packaging import FLINK_ZIP, ROOT, PackagingError
from cdk.stacks.common import log_retention
from cdk.stacks.observability import CacheMetrics
from cdk.stacks.raw_storage import DEAD_LETTER_PREFIX, raw_bucket_name

CACHE_PORT = 6379
SERVERLESS_BYTES_ALARM = 5 * 2**30
"""Alarm above this many bytes in the serverless cache (24 h of results: about 1 GiB)."""


@dataclass(frozen=True)
class ProcessingProps:
    """The stage configuration and the click stream (the raw bucket is found by its name)."""

    config: StageConfig
    stream: kinesis.IStream


class ProcessingStack(Stack):
    """VPC without NAT, Valkey with TLS and its users, and the Managed Flink application."""

    vpc: ec2.Vpc
    cache_secret: secretsmanager.Secret
    """The job user's password."""
    cache_host: str
    cache_resource: elasticache.CfnServerlessCache | elasticache.CfnReplicationGroup
    application: flink.Application
    raw_bucket: s3.IBucket
    job_security_group: ec2.SecurityGroup
    cache_metrics: CacheMetrics
    reader_secret: secretsmanager.Secret
    """The read API user's password."""
    reader_security_group: ec2.SecurityGroup

    def __init__(
        self, scope: Construct, construct_id: str, props: ProcessingProps, **kwargs: object
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        cfg = props.config
        # By name, not by cross-stack reference: the grants then name the bucket exactly.
        self.raw_bucket = s3.Bucket.from_bucket_name(
            self, "RawBucket", raw_bucket_name(cfg, self.account)
        )
        self._network(cfg)
        self._cache(cfg)
        self._application(cfg, props)

    def _network(self, cfg: StageConfig) -> None:
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24
                )
            ],
            flow_logs={"rejected": ec2.FlowLogOptions(traffic_type=ec2.FlowLogTrafficType.REJECT)},
        )
        self.vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3)
        for name, service in (
            ("Kinesis", ec2.InterfaceVpcEndpointAwsService.KINESIS_STREAMS),
            ("SecretsManager", ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER),
            ("CloudWatch", ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING),
        ):
            endpoint = self.vpc.add_interface_endpoint(
                name, service=service, private_dns_enabled=True
            )
            acknowledge(
                endpoint,
                "AwsSolutions-EC23",
                "The endpoint's security group admits HTTPS from the VPC's own CIDR only (a "
                "token cdk-nag cannot read), never from 0.0.0.0/0.",
            )
        self.job_security_group = ec2.SecurityGroup(
            self, "JobSg", vpc=self.vpc, description="Flink job ENIs", allow_all_outbound=True
        )

    def _secret(self, construct_id: str, what: str) -> secretsmanager.Secret:
        """A generated password for one cache user (64 letters and digits)."""
        secret = secretsmanager.Secret(
            self,
            construct_id,
            description=what,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                exclude_punctuation=True, password_length=64
            ),
        )
        acknowledge(
            secret,
            "AwsSolutions-SMG4",
            "ElastiCache cannot rotate a user's password from Secrets Manager without a custom "
            "rotation Lambda; rotate by redeploying with a new secret.",
        )
        return secret

    def _users(self, cfg: StageConfig) -> elasticache.CfnUserGroup:
        """The cache's users, one code path for both cache modes.

        ``default`` is off; the job's user and the read API's (``augury.cache_access``) each
        have their own password secret.
        """
        prefix = cfg.pipeline.key_prefix
        self.cache_secret = self._secret("CacheAuth", f"{cfg.prefix}: the job's cache password")
        self.reader_secret = self._secret(
            "CacheReaderAuth", f"{cfg.prefix}: the read API's cache password"
        )
        users = [
            elasticache.CfnUser(
                self,
                "CacheDefaultUser",
                engine="valkey",
                user_id=f"{cfg.prefix}-default",
                user_name="default",
                access_string=DEFAULT_USER_ACCESS,
                authentication_mode={"Type": "no-password-required"},
            )
        ]
        for construct_id, user_id, name, access, secret in (
            ("CacheAppUser", JOB_USER, JOB_USER, job_access(prefix), self.cache_secret),
            ("CacheReaderUser", "reader", READER_USER, reader_access(prefix), self.reader_secret),
        ):
            password = secret.secret_value.unsafe_unwrap()  # a {{resolve:...}} reference
            users.append(
                elasticache.CfnUser(
                    self,
                    construct_id,
                    engine="valkey",
                    user_id=f"{cfg.prefix}-{user_id}",
                    user_name=name,
                    access_string=access,
                    authentication_mode={"Type": "password", "Passwords": [password]},
                )
            )
        group = elasticache.CfnUserGroup(
            self,
            "CacheUsers",
            engine="valkey",
            user_group_id=f"{cfg.prefix}-users",
            user_ids=[u.user_id for u in users],
        )
        for user in users:
            group.add_dependency(user)
        return group

    def _cache(self, cfg: StageConfig) -> None:
        sg = ec2.SecurityGroup(
            self,
            "CacheSg",
            vpc=self.vpc,
            description="Valkey: only the job and the read API",
            allow_all_outbound=False,
        )
        sg.add_ingress_rule(self.job_security_group, ec2.Port.tcp(CACHE_PORT), "Flink job")
        self.reader_security_group = ec2.SecurityGroup(
            self,
            "CacheReaderSg",
            vpc=self.vpc,
            description="Cache readers (the read API)",
            allow_all_outbound=True,
        )
        sg.add_ingress_rule(self.reader_security_group, ec2.Port.tcp(CACHE_PORT), "read API")
        subnets = self.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED).subnet_ids
        group = self._users(cfg)
        if cfg.cache_mode == "serverless":
            cache = elasticache.CfnServerlessCache(
                self,
                "Cache",
                engine="valkey",
                major_engine_version="8",
                serverless_cache_name=f"{cfg.prefix}-cache",
                security_group_ids=[sg.security_group_id],
                subnet_ids=subnets,
                user_group_id=group.user_group_id,
                snapshot_retention_limit=1,
            )
            cache.add_dependency(group)
            self.cache_host = cache.attr_endpoint_address
            self.cache_resource = cache
            self.cache_metrics = CacheMetrics(
                "clusterId", f"{cfg.prefix}-cache", "BytesUsedForCache", SERVERLESS_BYTES_ALARM
            )
        else:
            subnet_group = elasticache.CfnSubnetGroup(
                self,
                "CacheSubnets",
                description=f"{cfg.prefix}: isolated subnets",
                subnet_ids=subnets,
            )
            cache_rg = elasticache.CfnReplicationGroup(
                self,
                "Cache",
                replication_group_id=f"{cfg.prefix}-cache",
                replication_group_description=f"{cfg.prefix}: Augury results",
                engine="valkey",
                engine_version="8.0",
                cache_node_type=cfg.cache_node_type,
                num_node_groups=1,
                replicas_per_node_group=1,
                automatic_failover_enabled=True,
                multi_az_enabled=True,
                transit_encryption_enabled=True,  # RBAC needs TLS
                at_rest_encryption_enabled=True,
                user_group_ids=[group.user_group_id],
                cache_subnet_group_name=subnet_group.ref,
                security_group_ids=[sg.security_group_id],
                port=CACHE_PORT,
                snapshot_retention_limit=1,
            )
            cache_rg.add_dependency(group)
            acknowledge(
                cache_rg,
                "AwsSolutions-AEC6",
                "Clients authenticate as RBAC users (UserGroupIds: each user its own password "
                "and access string), which replaces the single AUTH token this rule looks for; "
                "ElastiCache takes one or the other.",
            )
            acknowledge(
                cache_rg,
                "AwsSolutions-AEC5",
                "The cache listens on the default port; it is reachable only from the job's "
                "and the read API's security groups inside an isolated VPC, so a custom port "
                "adds nothing.",
            )
            self.cache_host = cache_rg.attr_primary_end_point_address
            self.cache_resource = cache_rg
            self.cache_metrics = CacheMetrics(
                "CacheClusterId", f"{cfg.prefix}-cache-001", "DatabaseMemoryUsagePercentage", 80
            )

    def cache_url(self, user: str) -> str:
        """The cache's URL for ``user``, TLS, without the password.

        The password is in the user's secret: ``cache_secret`` for the job, ``reader_secret``
        for the read API.
        """
        return f"rediss://{user}@{self.cache_host}:{CACHE_PORT}/0"

    def property_groups(
        self, cfg: StageConfig, props: ProcessingProps
    ) -> dict[str, dict[str, str]]:
        """The job's property groups: where it reads and writes, and the pipeline settings.

        The pipeline settings were validated when the stage configuration was read
        (``augury.settings``, the same code the job runs).
        """
        groups = cfg.pipeline.property_groups()
        groups.setdefault("source", {}).update({
            "type": "kinesis",
            "stream.name": props.stream.stream_name,
            "aws.region": self.region,
            "start.position": "LATEST",
        })  # fmt: skip
        groups.setdefault("sink", {}).update({
            "redis.url": self.cache_url(JOB_USER),
            "redis.auth.secret.arn": self.cache_secret.secret_arn,
            "deadletter.path": f"s3://{self.raw_bucket.bucket_name}/{DEAD_LETTER_PREFIX}",
        })  # fmt: skip
        groups["job"] = {
            "parallelism": str(cfg.flink_parallelism),
            "checkpoint.interval.seconds": str(cfg.checkpoint_interval_seconds),
        }
        return groups

    def _application(self, cfg: StageConfig, props: ProcessingProps) -> None:
        if not FLINK_ZIP.exists():
            raise PackagingError(
                f"{FLINK_ZIP.relative_to(ROOT)} is missing: run `make flink-zip` before synth"
            )
        log_group = logs.LogGroup(
            self,
            "JobLogs",
            retention=log_retention(cfg.log_retention_days),
            removal_policy=RemovalPolicy.DESTROY,
        )
        run_options = {"python": "main.py", "jarfile": f"lib/{FLINK_JAR_NAME}"}
        self.application = flink.Application(
            self,
            "Sessionizer",
            application_name=f"{cfg.prefix}-sessionizer",
            code=flink.ApplicationCode.from_asset(str(FLINK_ZIP)),
            runtime=flink.Runtime.FLINK_1_20,
            property_groups={
                "kinesis.analytics.flink.run.options": run_options,
                **self.property_groups(cfg, props),
            },
            checkpointing_enabled=True,
            checkpoint_interval=Duration.seconds(cfg.checkpoint_interval_seconds),
            min_pause_between_checkpoints=Duration.seconds(5),
            parallelism=cfg.flink_parallelism,
            parallelism_per_kpu=cfg.flink_parallelism_per_kpu,
            auto_scaling_enabled=cfg.flink_autoscaling,
            snapshots_enabled=True,
            log_group=log_group,
            log_level=flink.LogLevel.INFO,
            metrics_level=flink.MetricsLevel.TASK,
            vpc=self.vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            security_groups=[self.job_security_group],
            removal_policy=RemovalPolicy.DESTROY,
        )
        # The job only streams from Kinesis: it never reads the raw archive on AWS (replay
        # runs locally, `make replay`), so its bucket grant is the dead-letter prefix only.
        props.stream.grant_read(self.application)
        self.raw_bucket.grant_put(self.application, f"{DEAD_LETTER_PREFIX}*")
        self.cache_secret.grant_read(self.application)
        account, region = pseudo(self)
        bucket = f"arn:<AWS::Partition>:s3:::{cfg.prefix}-raw-{account}"
        acknowledge_all(
            self.application,
            [
                "AwsSolutions-IAM5[Resource::*]",
                f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:{region}:{account}"
                ":log-group:*]",
            ],
            "Added by the Managed Flink L2. On *: cloudwatch:PutMetricData (metrics take no "
            "resource) and the EC2 actions of VPC access, DescribeVpcs, DescribeSubnets, "
            "DescribeSecurityGroups, DescribeDhcpOptions, DescribeNetworkInterfaces (Describe "
            "actions take no resource), CreateNetworkInterface, "
            "CreateNetworkInterfacePermission and DeleteNetworkInterface (the interfaces do "
            "not exist before the service creates them). On every log group of the account "
            "and region: logs:DescribeLogGroups (the service looks up its own).",
        )
        acknowledge_all(
            self.application,
            [
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::"
                f"cdk-hnb659fds-assets-{account}-{region}/*]",
                *s3_action_findings(S3_READ_ACTIONS),
            ],
            "Added by the Managed Flink L2: read (S3's GetObject*, GetBucket*, List* groups) of "
            "the CDK asset bucket, where the application's code object is (key chosen by CDK).",
        )
        acknowledge_all(
            self.application,
            [
                f"AwsSolutions-IAM5[Resource::{bucket}/{DEAD_LETTER_PREFIX}*]",
                *s3_action_findings(S3_PUT_ACTIONS),
            ],
            "The job writes dead-letter objects under generated keys of the raw bucket's "
            f"{DEAD_LETTER_PREFIX} prefix (Bucket.grant_put): {', '.join(S3_PUT_OBJECT_ACTIONS)} "
            "and S3's Abort* group (multipart uploads).",
        )
