"""Ingest: the click stream (Kinesis, KMS-encrypted) and the scheduled mock-click generator."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from augury import env as env_names
from augury.resources import (
    DEFAULT_STREAM_NAME,
    LOCAL_SCHEDULE_QUEUE,
    LOCAL_SCHEDULE_RULE,
    METRICS_NAMESPACE,
)
from cdk.config import StageConfig
from cdk.nag import acknowledge
from cdk.stacks.common import python_function


@dataclass(frozen=True)
class IngestProps:
    """What the ingest stack needs: the stage configuration."""

    config: StageConfig


class IngestStack(Stack):
    """Kinesis Data Stream (KMS, aws/kinesis key) and the generator on an EventBridge schedule.

    In local mode the schedule targets an SQS queue that the local runner drains and turns
    into handler invocations (LocalStack community cannot run Lambda functions without Docker).
    """

    stream: kinesis.Stream
    generator: lambda_.Function | None
    schedule: events.Rule

    def __init__(
        self, scope: Construct, construct_id: str, props: IngestProps, **kwargs: object
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        cfg = props.config
        removal = RemovalPolicy.DESTROY if cfg.local else RemovalPolicy.RETAIN

        on_demand = cfg.shards == 0
        self.stream = kinesis.Stream(
            self,
            "Clicks",
            stream_name=DEFAULT_STREAM_NAME if cfg.local else f"{cfg.prefix}-clicks",
            stream_mode=kinesis.StreamMode.ON_DEMAND
            if on_demand
            else kinesis.StreamMode.PROVISIONED,
            shard_count=None if on_demand else cfg.shards,
            retention_period=Duration.hours(cfg.retention_hours),
            # KMS with the AWS-managed aws/kinesis key: encrypted at rest, no per-key cost.
            encryption=kinesis.StreamEncryption.MANAGED,
            removal_policy=removal,
        )
        schedule = events.Schedule.rate(Duration.minutes(cfg.schedule_minutes))
        self.schedule = events.Rule(
            self,
            "GeneratorSchedule",
            rule_name=LOCAL_SCHEDULE_RULE if cfg.local else f"{cfg.prefix}-clickgen-schedule",
            description="Invokes the mock-click generator once per period",
            schedule=schedule,
        )
        if cfg.local:
            self.generator = None
            self._local_schedule_target(cfg)
        else:
            self.generator = self._generator(cfg)
            self.schedule.add_target(targets.LambdaFunction(self.generator, retry_attempts=2))

    def _generator(self, cfg: StageConfig) -> lambda_.Function:
        period_s = cfg.schedule_minutes * 60
        fn = python_function(
            self,
            "Generator",
            cfg,
            description="Augury mock-click generator (EventBridge schedule -> Kinesis)",
            handler="lambdas.clickgen.handler.lambda_handler",
            # The generator paces its events over the period; allow a minute of slack.
            timeout=Duration.seconds(min(900, period_s + 60)),
            reserved_concurrent_executions=2,
            tracing=lambda_.Tracing.ACTIVE,
            environment={
                env_names.STREAM_NAME: self.stream.stream_name,
                env_names.clickgen("rate"): f"{cfg.generator_rate:.6g}",
                env_names.clickgen("duration_s"): str(period_s),
                env_names.POWERTOOLS_SERVICE_NAME: "clickgen",
                env_names.POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
            },
        )
        self.stream.grant_write(fn)
        assert fn.role is not None  # python_function gives each function its own role
        acknowledge(
            fn.role,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray PutTraceSegments/PutTelemetryRecords take no resource ARN (AWS-defined).",
        )
        return fn

    def _local_schedule_target(self, cfg: StageConfig) -> None:
        queue = sqs.Queue(
            self,
            "ScheduleQueue",
            queue_name=LOCAL_SCHEDULE_QUEUE,
            retention_period=Duration.hours(1),
            enforce_ssl=True,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.schedule.add_target(targets.SqsQueue(queue))
        acknowledge(
            queue,
            "AwsSolutions-SQS3",
            "Local mode only: the queue carries schedule ticks to the local runner, which "
            "retries failed invocations itself; a dead-letter queue would add nothing.",
        )
        self.schedule_queue = queue
