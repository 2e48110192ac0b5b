"""Raw storage: Firehose delivers the click stream, as is, to a time-partitioned S3 archive."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from aws_cdk import Duration, RemovalPolicy, Size, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_s3 as s3
from constructs import Construct

from augury.resources import LOCAL_RAW_BUCKET
from cdk.config import StageConfig
from cdk.nag import (
    S3_DELETE_ACTIONS,
    S3_PUT_ACTIONS,
    S3_PUT_OBJECT_ACTIONS,
    S3_READ_ACTIONS,
    acknowledge,
    acknowledge_all,
    arn_finding,
    s3_action_findings,
)

RAW_PREFIX: Final = (
    "raw/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
)
"""Hive-style partitions, UTC, by arrival time at Firehose."""
ERROR_PREFIX: Final = (
    "errors/!{firehose:error-output-type}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/"
    "day=!{timestamp:dd}/hour=!{timestamp:HH}/"
)
DEAD_LETTER_PREFIX: Final = "dead-letter/"
"""Where the Flink job writes invalid and late events, with their reason."""


def raw_bucket_name(cfg: StageConfig, account: str) -> str:
    """The raw bucket's name: ``augury-<env>-raw-<account>`` (``augury-raw-local`` locally)."""
    return LOCAL_RAW_BUCKET if cfg.local else f"{cfg.prefix}-raw-{account}"


@dataclass(frozen=True)
class RawStorageProps:
    """The stage configuration and the stream to archive."""

    config: StageConfig
    stream: kinesis.IStream


class RawStorageStack(Stack):
    """The raw bucket (encrypted, private, TLS-only, logged, tiered) and its Firehose."""

    bucket: s3.Bucket
    access_logs: s3.Bucket
    delivery: firehose.DeliveryStream
    delivery_role: iam.Role

    def __init__(
        self, scope: Construct, construct_id: str, props: RawStorageProps, **kwargs: object
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        cfg = props.config
        removal = RemovalPolicy.DESTROY if cfg.local else RemovalPolicy.RETAIN
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(cfg.raw_glacier_days))],
            removal_policy=removal,
        )
        acknowledge(
            self.access_logs,
            "AwsSolutions-S1",
            "This is the access-log bucket itself; logging it into itself would loop.",
        )
        self.bucket = s3.Bucket(
            self,
            "Raw",
            bucket_name=raw_bucket_name(cfg, self.account),
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=False,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="raw/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="tiering",
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                            transition_after=Duration.days(cfg.raw_ia_days),
                        ),
                        s3.Transition(
                            storage_class=s3.StorageClass.GLACIER,
                            transition_after=Duration.days(cfg.raw_glacier_days),
                        ),
                    ],
                    expiration=Duration.days(cfg.raw_expire_days),
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                )
            ],
            removal_policy=removal,
        )
        # Firehose's S3 role: the L2 grants it read/write on the bucket (no narrower grant);
        # an explicit Deny takes delete back, so the archive cannot lose objects through it.
        self.delivery_role = iam.Role(
            self,
            "RawDeliveryRole",
            assumed_by=iam.ServicePrincipal("firehose.amazonaws.com"),
            description=f"{cfg.prefix}: Firehose writes the raw archive (never deletes)",
        )
        self.delivery_role.add_to_policy(
            iam.PolicyStatement(
                effect=iam.Effect.DENY,
                actions=[f"s3:{a}" for a in S3_DELETE_ACTIONS],
                resources=[self.bucket.arn_for_objects("*")],
            )
        )
        self.delivery = firehose.DeliveryStream(
            self,
            "RawDelivery",
            delivery_stream_name=f"{cfg.prefix}-raw",
            source=firehose.KinesisStreamSource(props.stream),
            destination=firehose.S3Bucket(
                self.bucket,
                role=self.delivery_role,
                # Firehose concatenates records as they are: a producer that sends plain JSON
                # (the AWS CLI, the SDKs, the Kinesis Agent) would leave `{...}{...}` on one
                # line. Appending "\n" to every record keeps each on a line of its own; a
                # record that had its own newline (our generator) leaves a blank line after it,
                # which the replay skips. No dynamic partitioning needed.
                processors=[firehose.AppendDelimiterToRecordProcessor()],
                compression=firehose.Compression.GZIP,
                data_output_prefix=RAW_PREFIX,
                error_output_prefix=ERROR_PREFIX,
                buffering_interval=Duration.seconds(cfg.firehose_buffer_seconds),
                buffering_size=Size.mebibytes(cfg.firehose_buffer_mib),
            ),
        )
        if Token.is_unresolved(self.region):  # else the L2 looks its CIDR blocks up itself
            acknowledge(
                self,
                "CloudFormation-Validate::W7001",
                "The Firehose L2 adds its CIDR-block mapping when the region is not known at "
                "synth; it is unused without a VPC destination.",
            )
        acknowledge(
            self.delivery,
            "AwsSolutions-KDF1",
            "A delivery stream with a Kinesis source cannot use Firehose SSE; the source stream "
            "is KMS-encrypted and the bucket encrypts at rest.",
        )
        acknowledge_all(
            self.delivery_role,
            [
                arn_finding(self, self.bucket.bucket_arn),
                *s3_action_findings(S3_READ_ACTIONS + S3_DELETE_ACTIONS + S3_PUT_ACTIONS),
            ],
            "Firehose's role, granted by the L2 with Bucket.grant_read_write on this one bucket "
            "and its objects (generated, time-partitioned keys): S3's GetObject*, GetBucket*, "
            f"List*, DeleteObject* and Abort* groups, and {', '.join(S3_PUT_OBJECT_ACTIONS)}. "
            "The L2 takes no narrower grant; the role's explicit Deny of DeleteObject* on the "
            "bucket's objects makes the delete grant void.",
        )
