"""Observability: one CloudWatch dashboard for the whole pipeline, and the alarms that page."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kinesisanalytics_flink_alpha as flink
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from constructs import Construct

from augury.cloudwatch import JOB_DIMENSION
from augury.resources import GENERATOR_METRICS, JOB_METRICS, METRICS_NAMESPACE
from augury.settings import MINUTE_MS
from cdk.config import StageConfig

PERIOD = Duration.minutes(1)


@dataclass(frozen=True)
class CacheMetrics:
    """Where the cache's metrics live: dimension name and value, and the memory metric."""

    dimension: str
    value: str
    memory_metric: str
    memory_threshold: float


@dataclass(frozen=True)
class ObservabilityProps:
    """What the dashboard watches; the AWS-only parts are None in local mode."""

    config: StageConfig
    stream: kinesis.IStream
    delivery: firehose.IDeliveryStream
    generator: lambda_.IFunction | None = None
    application: flink.IApplication | None = None
    cache: CacheMetrics | None = None
    collector: apigw.RestApi | None = None


class ObservabilityStack(Stack):
    """Dashboard ``<prefix>-pipeline`` and alarms notifying an encrypted SNS topic."""

    dashboard: cw.Dashboard
    topic: sns.Topic
    alarms: list[cw.Alarm]
    alarm_prefix: str
    """Every alarm's name starts with it (``augury-<env>-``): the alarm topic key's condition."""

    def __init__(
        self, scope: Construct, construct_id: str, props: ObservabilityProps, **kwargs: object
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        cfg = props.config
        self.alarm_prefix = f"{cfg.prefix}-"
        key = kms.Key(
            self,
            "AlarmTopicKey",
            description=f"{cfg.prefix}: encrypts the alarm topic",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.DESTROY,
        )
        topic_name = f"{cfg.prefix}-alarms"
        # CloudWatch may use the key for this stage's alarms publishing to this topic only.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, "*" is this key
                conditions={
                    "StringEquals": {
                        "aws:SourceAccount": self.account,
                        "kms:EncryptionContext:aws:sns:topicArn": self.format_arn(
                            service="sns", resource=topic_name
                        ),
                    },
                    "ArnLike": {
                        "aws:SourceArn": self.format_arn(
                            service="cloudwatch",
                            resource="alarm",
                            resource_name=f"{self.alarm_prefix}*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    },
                },
            )
        )
        self.topic = sns.Topic(
            self, "Alarms", topic_name=topic_name, master_key=key, enforce_ssl=True
        )
        if cfg.alarm_email:
            self.topic.add_subscription(subs.EmailSubscription(cfg.alarm_email))
        self.alarms = []
        self.dashboard = cw.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"{cfg.prefix}-pipeline",
            default_interval=Duration.hours(3),
        )
        self._ingest(props)
        if props.collector is not None:
            self._collector(props.collector)
        self._storage(props)
        self._processing(props)

    def _alarm(self, name: str, metric: cw.IMetric, threshold: float, what: str) -> cw.Alarm:
        alarm = cw.Alarm(
            self,
            name,
            alarm_name=f"{self.alarm_prefix}{name}",
            alarm_description=what,
            metric=metric,
            threshold=threshold,
            evaluation_periods=5,
            datapoints_to_alarm=3,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(cw_actions.SnsAction(self.topic))
        self.alarms.append(alarm)
        return alarm

    def _ingest(self, props: ObservabilityProps) -> None:
        stream = props.stream
        iterator_age = stream.metric_get_records_iterator_age_milliseconds(
            statistic="Maximum", period=PERIOD
        )
        self._alarm(
            "IteratorAge",
            iterator_age,
            MINUTE_MS,
            "Consumers of the click stream are more than a minute behind",
        )
        self.dashboard.add_widgets(
            cw.TextWidget(markdown="## Ingest: Kinesis and the generator", width=24, height=1),
            cw.GraphWidget(
                title="Kinesis incoming records",
                left=[stream.metric_incoming_records(statistic="Sum", period=PERIOD)],
                right=[stream.metric_incoming_bytes(statistic="Sum", period=PERIOD)],
                width=6,
            ),
            cw.GraphWidget(title="Kinesis iterator age (ms)", left=[iterator_age], width=6),
            cw.GraphWidget(
                title="Kinesis throttles",
                left=[
                    stream.metric_write_provisioned_throughput_exceeded(
                        statistic="Sum", period=PERIOD
                    ),
                    stream.metric_read_provisioned_throughput_exceeded(
                        statistic="Sum", period=PERIOD
                    ),
                ],
                width=6,
            ),
            cw.GraphWidget(
                title="Generator (EMF)",
                left=[_augury(name, "service", "clickgen") for name in GENERATOR_METRICS],
                width=6,
            ),
        )
        if props.generator is not None:
            fn = props.generator
            errors = fn.metric_errors(statistic="Sum", period=PERIOD)
            self._alarm("GeneratorErrors", errors, 0, "The mock-click generator is failing")
            self.dashboard.add_widgets(
                cw.GraphWidget(
                    title="Generator Lambda",
                    left=[fn.metric_invocations(statistic="Sum", period=PERIOD), errors],
                    right=[fn.metric_duration(statistic="p99", period=PERIOD)],
                    width=12,
                )
            )

    def _collector(self, api: apigw.RestApi) -> None:
        server_errors = api.metric_server_error(statistic="Sum", period=PERIOD)
        self._alarm(
            "CollectorServerErrors",
            server_errors,
            0,
            "The HTTP collector answers 5XX: Kinesis refuses its calls (throttling, an outage); "
            "clients resend, but check the stream's capacity",
        )
        self.dashboard.add_widgets(
            cw.TextWidget(markdown="## Collector: API Gateway into Kinesis", width=24, height=1),
            cw.GraphWidget(
                title="Collector requests, 4XX, 5XX",
                left=[
                    api.metric_count(statistic="Sum", period=PERIOD),
                    api.metric_client_error(statistic="Sum", period=PERIOD),
                    server_errors,
                ],
                width=12,
            ),
            cw.GraphWidget(
                title="Collector latency (ms)",
                left=[
                    api.metric_latency(statistic="p50", period=PERIOD),
                    api.metric_latency(statistic="p99", period=PERIOD),
                    api.metric_integration_latency(statistic="p99", period=PERIOD),
                ],
                width=12,
            ),
        )

    def _storage(self, props: ObservabilityProps) -> None:
        freshness = props.delivery.metric(
            "DeliveryToS3.DataFreshness", statistic="Maximum", period=PERIOD
        )
        self._alarm(
            "FirehoseFreshness",
            freshness,
            max(900, 3 * props.config.firehose_buffer_seconds),
            "Raw events wait too long before they reach S3",
        )
        self.dashboard.add_widgets(
            cw.TextWidget(markdown="## Raw storage: Firehose to S3", width=24, height=1),
            cw.GraphWidget(title="Firehose data freshness (s)", left=[freshness], width=12),
            cw.GraphWidget(
                title="Firehose delivery to S3",
                left=[
                    props.delivery.metric("DeliveryToS3.Records", statistic="Sum", period=PERIOD),
                    props.delivery.metric(
                        "DeliveryToS3.Success", statistic="Average", period=PERIOD
                    ),
                ],
                width=12,
            ),
        )

    def _processing(self, props: ObservabilityProps) -> None:
        job_metrics = [_augury(name, *JOB_DIMENSION) for name in JOB_METRICS[:5]]
        job_metrics.append(_augury(JOB_METRICS[5], *JOB_DIMENSION, statistic="Maximum"))
        widgets: list[cw.IWidget] = [
            cw.TextWidget(markdown="## Processing: Flink and the cache", width=24, height=1),
            cw.GraphWidget(
                title="Job: accepted, invalid, duplicates, bots, late",
                left=job_metrics[:5],
                width=8,
            ),
            cw.GraphWidget(title="Job: newest result age (ms)", left=job_metrics[5:], width=8),
        ]
        if props.application is not None:
            app = props.application
            downtime = app.metric_downtime(statistic="Maximum", period=PERIOD)
            failed = app.metric_number_of_failed_checkpoints(statistic="Maximum", period=PERIOD)
            self._alarm("FlinkDowntime", downtime, 0, "The Flink application is down")
            self._alarm("FlinkCheckpointFailures", failed, 0, "Flink checkpoints are failing")
            widgets += [
                cw.GraphWidget(
                    title="Flink records in/out per second",
                    left=[
                        app.metric_num_records_in_per_second(period=PERIOD),
                        app.metric_num_records_out_per_second(period=PERIOD),
                    ],
                    width=8,
                ),
                cw.GraphWidget(
                    title="Flink checkpoints",
                    left=[app.metric_last_checkpoint_duration(period=PERIOD)],
                    right=[failed, downtime],
                    width=12,
                ),
            ]
        if props.cache is not None:
            cache = props.cache
            memory = cw.Metric(
                namespace="AWS/ElastiCache",
                metric_name=cache.memory_metric,
                dimensions_map={cache.dimension: cache.value},
                statistic="Maximum",
                period=PERIOD,
            )
            cpu = cw.Metric(
                namespace="AWS/ElastiCache",
                metric_name="EngineCPUUtilization",
                dimensions_map={cache.dimension: cache.value},
                statistic="Maximum",
                period=PERIOD,
            )
            self._alarm("CacheMemory", memory, cache.memory_threshold, "The cache is filling up")
            widgets.append(
                cw.GraphWidget(title="Cache CPU and memory", left=[cpu], right=[memory], width=12)
            )
        self.dashboard.add_widgets(*widgets)


def _augury(name: str, dimension: str, value: str, statistic: str = "Sum") -> cw.Metric:
    return cw.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={dimension: value},
        statistic=statistic,
        period=PERIOD,
    )
