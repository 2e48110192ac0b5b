"""Assertions on the synthesized stacks: resources, key properties, scoped IAM, encryption."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from augury.cache_access import (
    DEFAULT_USER_ACCESS,
    JOB_USER,
    READER_USER,
    job_access,
    reader_access,
)
from augury.resources import DEFAULT_STREAM_NAME, LOCAL_SCHEDULE_QUEUE, LOCAL_SCHEDULE_RULE
from cdk.nag import add_security_gate
from cdk.stacks.raw_storage import ERROR_PREFIX, RAW_PREFIX
from tests.unit.cdk.conftest import Templates


def _statements(template: Template) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for policy in template.find_resources("AWS::IAM::Policy").values():
        out += policy["Properties"]["PolicyDocument"]["Statement"]
    return out


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


def _only(template: Template, kind: str) -> dict[str, Any]:
    found = template.find_resources(kind)
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return dict(next(iter(found.values()))["Properties"])


# --- Ingest -------------------------------------------------------------------------------


def test_stream_is_on_demand_kms_encrypted_with_configured_retention(aws: Templates) -> None:
    aws["Ingest"].has_resource_properties(
        "AWS::Kinesis::Stream",
        {
            "Name": "augury-dev-clicks",
            "StreamModeDetails": {"StreamMode": "ON_DEMAND"},
            "RetentionPeriodHours": 24,
            "StreamEncryption": {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"},
        },
    )


def test_shards_setting_makes_the_stream_provisioned(aws_replication_group: Templates) -> None:
    aws_replication_group["Ingest"].has_resource_properties(
        "AWS::Kinesis::Stream",
        {"ShardCount": 4, "StreamModeDetails": {"StreamMode": "PROVISIONED"}},
    )


def test_generator_lambda_runs_powertools_handler_on_schedule(aws: Templates) -> None:
    ingest = aws["Ingest"]
    fn = _only(ingest, "AWS::Lambda::Function")
    assert fn["Handler"] == "lambdas.clickgen.handler.lambda_handler"
    assert fn["Runtime"].startswith("python3.1") and fn["Architectures"] == ["arm64"]
    env = fn["Environment"]["Variables"]
    assert env["CLICKGEN_DURATION_S"] == "60" and float(env["CLICKGEN_RATE"]) == 50.0
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "Augury"
    assert fn["Timeout"] > 60 and fn["TracingConfig"] == {"Mode": "Active"}
    ingest.has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "rate(1 minute)",
            "Targets": Match.array_with(
                [Match.object_like({"Arn": {"Fn::GetAtt": [Match.any_value(), "Arn"]}})]
            ),
        },
    )
    ingest.resource_count_is("AWS::Lambda::Permission", 1)


def test_generator_may_only_write_to_its_stream(aws: Templates) -> None:
    stream_id = next(iter(aws["Ingest"].find_resources("AWS::Kinesis::Stream")))
    kinesis = [s for s in _statements(aws["Ingest"]) if any("kinesis:" in a for a in _actions(s))]
    assert kinesis, "the generator has no Kinesis grant"
    for statement in kinesis:
        assert statement["Resource"] == {"Fn::GetAtt": [stream_id, "Arn"]}
        assert set(_actions(statement)) <= {
            "kinesis:ListShards",
            "kinesis:PutRecord",
            "kinesis:PutRecords",
        }


def test_bundle_contains_the_handler_and_its_dependencies(aws: Templates) -> None:
    fn = _only(aws["Ingest"], "AWS::Lambda::Function")
    assert "S3Key" in fn["Code"]  # an asset, bundled locally (no Docker on this machine)


# --- Raw storage --------------------------------------------------------------------------


def test_raw_bucket_is_encrypted_private_tls_only_logged_and_tiered(aws: Templates) -> None:
    storage = aws["RawStorage"]
    buckets = storage.find_resources("AWS::S3::Bucket")
    raw = next(
        r["Properties"]
        for r in buckets.values()
        if "LifecycleConfiguration" in r["Properties"] and "LoggingConfiguration" in r["Properties"]
    )
    assert raw["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"
    ] == {"SSEAlgorithm": "AES256"}
    assert raw["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    rule = raw["LifecycleConfiguration"]["Rules"][0]
    assert [t["StorageClass"] for t in rule["Transitions"]] == ["STANDARD_IA", "GLACIER"]
    assert [t["TransitionInDays"] for t in rule["Transitions"]] == [30, 90]
    assert rule["ExpirationInDays"] == 365
    tls = [
        s
        for p in storage.find_resources("AWS::S3::BucketPolicy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    assert len(tls) == 2 and all(s["Effect"] == "Deny" for s in tls)  # raw + access logs


def test_firehose_reads_the_stream_and_writes_partitioned_gzip(aws: Templates) -> None:
    props = _only(aws["RawStorage"], "AWS::KinesisFirehose::DeliveryStream")
    assert props["DeliveryStreamType"] == "KinesisStreamAsSource"
    s3dest = props["ExtendedS3DestinationConfiguration"]
    assert s3dest["CompressionFormat"] == "GZIP"
    assert s3dest["Prefix"] == RAW_PREFIX and "year=!{timestamp:yyyy}/month=" in RAW_PREFIX
    assert s3dest["ErrorOutputPrefix"] == ERROR_PREFIX
    assert s3dest["BufferingHints"] == {"IntervalInSeconds": 60, "SizeInMBs": 64}


@pytest.mark.parametrize("mode", ["aws", "local"])
def test_firehose_s_role_may_never_delete_from_the_archive(mode: str, request: Any) -> None:
    storage: Template = request.getfixturevalue(mode)["RawStorage"]
    props = _only(storage, "AWS::KinesisFirehose::DeliveryStream")
    role = props["ExtendedS3DestinationConfiguration"]["RoleARN"]["Fn::GetAtt"][0]
    statements = [
        s
        for policy in storage.find_resources("AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    denied = [s for s in statements if s["Effect"] == "Deny"]
    assert [(d["Action"], d["Resource"]["Fn::Join"][1][1]) for d in denied] == [
        ("s3:DeleteObject*", "/*")
    ]
    assert any("s3:DeleteObject*" in s["Action"] for s in statements if s["Effect"] == "Allow")


@pytest.mark.parametrize("mode", ["aws", "local"])
def test_firehose_appends_a_newline_to_every_record(mode: str, request: Any) -> None:
    templates: Templates = request.getfixturevalue(mode)
    props = _only(templates["RawStorage"], "AWS::KinesisFirehose::DeliveryStream")
    s3dest = props["ExtendedS3DestinationConfiguration"]
    processing = s3dest["ProcessingConfiguration"]
    assert processing["Enabled"] is True
    assert [p["Type"] for p in processing["Processors"]] == ["AppendDelimiterToRecord"]
    assert not processing["Processors"][0].get("Parameters")  # the default delimiter, "\n"
    assert "DynamicPartitioningConfiguration" not in s3dest  # not needed for it


# --- Processing ---------------------------------------------------------------------------


def test_vpc_has_no_nat_and_the_endpoints_the_job_needs(aws: Templates) -> None:
    processing = aws["Processing"]
    processing.resource_count_is("AWS::EC2::NatGateway", 0)
    processing.resource_count_is("AWS::EC2::InternetGateway", 0)
    services = json.dumps(processing.find_resources("AWS::EC2::VPCEndpoint"))
    for service in (".s3", ".kinesis-streams", ".secretsmanager", ".monitoring"):
        assert service in services


@pytest.mark.parametrize(
    ("mode", "prefix"), [("aws", "augury:"), ("aws_replication_group", "prod:")]
)
def test_the_cache_has_a_user_per_client_each_with_its_own_password(
    mode: str, prefix: str, request: Any
) -> None:
    """Both cache modes: one user group, ``default`` off, the job's and the read API's users
    with the access strings of ``augury.cache_access`` for the stage's key prefix."""
    processing: Template = request.getfixturevalue(mode)["Processing"]
    users = {u["Properties"]["UserName"]: u["Properties"]
             for u in processing.find_resources("AWS::ElastiCache::User").values()}  # fmt: skip
    assert set(users) == {"default", JOB_USER, READER_USER}
    assert users["default"]["AccessString"] == DEFAULT_USER_ACCESS
    assert users[JOB_USER]["AccessString"] == job_access(prefix)
    assert users[READER_USER]["AccessString"] == reader_access(prefix)
    secrets = processing.find_resources("AWS::SecretsManager::Secret")
    assert len(secrets) == 2
    used = set()
    for name in (JOB_USER, READER_USER):
        auth = users[name]["AuthenticationMode"]
        assert auth["Type"] == "password" and len(auth["Passwords"]) == 1
        password = json.dumps(auth["Passwords"])
        assert "resolve:secretsmanager" in password
        used |= {secret for secret in secrets if secret in password}
    assert used == set(secrets)  # one secret each
    group = _only(processing, "AWS::ElastiCache::UserGroup")
    assert len(group["UserIds"]) == 3
    cache = {**processing.find_resources("AWS::ElastiCache::ServerlessCache"),
             **processing.find_resources("AWS::ElastiCache::ReplicationGroup")}  # fmt: skip
    assert len(cache) == 1
    props = next(iter(cache.values()))["Properties"]
    assert "AuthToken" not in props
    assert props.get("UserGroupId", props.get("UserGroupIds", [""])[0]) == group["UserGroupId"]


def test_replication_group_has_tls_rbac_and_encryption_at_rest(
    aws_replication_group: Templates,
) -> None:
    props = _only(aws_replication_group["Processing"], "AWS::ElastiCache::ReplicationGroup")
    assert props["TransitEncryptionEnabled"] is True and props["AtRestEncryptionEnabled"] is True
    assert props["Engine"] == "valkey" and props["AutomaticFailoverEnabled"] is True
    assert "AuthToken" not in props and len(props["UserGroupIds"]) == 1
    aws_replication_group["Processing"].resource_count_is("AWS::ElastiCache::ServerlessCache", 0)


def test_flink_application_runs_the_zip_with_property_groups(aws: Templates) -> None:
    props = _only(aws["Processing"], "AWS::KinesisAnalyticsV2::Application")
    assert props["RuntimeEnvironment"] == "FLINK-1_20"
    config = props["ApplicationConfiguration"]
    groups = {
        g["PropertyGroupId"]: g["PropertyMap"]
        for g in config["EnvironmentProperties"]["PropertyGroups"]
    }
    assert groups["kinesis.analytics.flink.run.options"] == {
        "python": "main.py",
        "jarfile": "lib/augury-flink-connectors.jar",
    }
    assert {"source", "sink", "windows", "sessions", "job"} <= set(groups)
    assert groups["sessions"] == {"gap.seconds": "60"}
    assert groups["sink"]["deadletter.path"]["Fn::Join"][1][-1] == "/dead-letter/"
    flink = config["FlinkApplicationConfiguration"]
    assert flink["CheckpointConfiguration"]["CheckpointingEnabled"] is True
    assert flink["CheckpointConfiguration"]["CheckpointInterval"] == 60_000
    assert flink["ParallelismConfiguration"]["Parallelism"] == 1
    assert config["ApplicationCodeConfiguration"]["CodeContentType"] == "ZIPFILE"
    assert "VpcConfigurations" in config


def test_the_job_accepts_every_property_the_stack_gives_it(aws: Templates) -> None:
    from flink_app.settings import JobSettings

    props = _only(aws["Processing"], "AWS::KinesisAnalyticsV2::Application")
    groups = {
        g["PropertyGroupId"]: {
            k: v if isinstance(v, str) else "x" for k, v in g["PropertyMap"].items()
        }
        for g in props["ApplicationConfiguration"]["EnvironmentProperties"]["PropertyGroups"]
    }
    # Tokens (ARNs, the cache URL) stand in as plain values of the right shape.
    groups["sink"]["redis.url"] = "rediss://augury@cache:6379/0"
    groups["source"]["aws.region"] = "us-east-1"
    s = JobSettings.from_groups(groups)  # the job's own validation, unknown keys included
    assert s.source_type == "kinesis" and s.start_position == "LATEST" and s.parallelism == 1


def test_the_pipeline_settings_reach_the_job_and_the_read_api(
    aws_replication_group: Templates,
) -> None:
    props = _only(aws_replication_group["Processing"], "AWS::KinesisAnalyticsV2::Application")
    groups = {
        g["PropertyGroupId"]: g["PropertyMap"]
        for g in props["ApplicationConfiguration"]["EnvironmentProperties"]["PropertyGroups"]
    }
    assert groups["windows"]["size.seconds"] == "30"
    assert groups["sink"]["redis.key.prefix"] == "prod:"
    assert "stream.arn" not in groups["source"]  # nothing reads it
    fn = _only(aws_replication_group["ReadApi"], "AWS::Lambda::Function")
    env = fn["Environment"]["Variables"]
    assert env["AUGURY_WINDOW_SECONDS"] == "30" and env["AUGURY_REDIS_KEY_PREFIX"] == "prod:"


def test_flink_grants_are_scoped_to_stream_dead_letters_and_its_secret(aws: Templates) -> None:
    """The job streams: no read of the raw archive, writes under ``dead-letter/`` only, and
    the job user's secret (not the read API's)."""
    statements = _statements(aws["Processing"])
    text = json.dumps(statements)
    assert "/raw/" not in text and "augury-dev-raw-" in text
    raw_bucket = [s for s in statements if "augury-dev-raw-" in json.dumps(s["Resource"])]
    assert raw_bucket and all(
        "/dead-letter/*" in json.dumps(s["Resource"])
        and all(a.startswith(("s3:PutObject", "s3:Abort")) for a in _actions(s))
        for s in raw_bucket
    )
    assert not [a for s in statements for a in _actions(s) if a.startswith("s3:Delete")]
    secret = [s for s in statements if "secretsmanager:GetSecretValue" in _actions(s)]
    assert [s["Resource"] for s in secret] == [{"Ref": _logical_id(aws, "CacheAuth")}]
    kinesis_reads = [s for s in statements if "kinesis:GetRecords" in _actions(s)]
    assert kinesis_reads and all(s["Resource"] != "*" for s in kinesis_reads)


@pytest.mark.parametrize("concern", ["Ingest", "ReadApi"])
def test_lambda_roles_write_their_own_log_group_only(concern: str, aws: Templates) -> None:
    """No AWS-managed policy (they grant logs:* on every log group): the role's only logs
    grant is CreateLogStream/PutLogEvents on the function's own log group."""
    template = aws[concern]
    for role in template.find_resources("AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"]
    fn = _only(template, "AWS::Lambda::Function")
    log_group = fn["LoggingConfig"]["LogGroup"]["Ref"]
    logs = [s for s in _statements(template) if any(a.startswith("logs:") for a in _actions(s))]
    assert len(logs) == 1
    assert sorted(_actions(logs[0])) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert logs[0]["Resource"] == {"Fn::GetAtt": [log_group, "Arn"]}


def _logical_id(templates: Templates, construct_id: str) -> str:
    found = [lid for t in templates.values() for lid in t.to_json()["Resources"]
             if lid.startswith(construct_id) and lid[len(construct_id):].isalnum()
             and len(lid) == len(construct_id) + 8]  # fmt: skip
    assert len(found) == 1, found
    return str(found[0])


# --- Observability ------------------------------------------------------------------------


def test_dashboard_covers_every_part_of_the_pipeline(aws: Templates) -> None:
    body = json.dumps(_only(aws["Observability"], "AWS::CloudWatch::Dashboard")["DashboardBody"])
    for metric in (
        "IncomingRecords",
        "GetRecords.IteratorAgeMilliseconds",
        "WriteProvisionedThroughputExceeded",
        "Invocations",
        "EventsSent",
        "DeliveryToS3.DataFreshness",
        "numRecordsInPerSecond",
        "lastCheckpointDuration",
        "ResultAgeMs",
        "Late",
        "EngineCPUUtilization",
        "BytesUsedForCache",
        "5XXError",
        "IntegrationLatency",
    ):
        assert metric in body, metric


def test_alarms_notify_an_encrypted_topic(aws: Templates) -> None:
    observability = aws["Observability"]
    alarms = observability.find_resources("AWS::CloudWatch::Alarm")
    names = {a["Properties"]["MetricName"] for a in alarms.values()}
    assert names == {
        "GetRecords.IteratorAgeMilliseconds",
        "Errors",
        "DeliveryToS3.DataFreshness",
        "downtime",
        "numberOfFailedCheckpoints",
        "BytesUsedForCache",
        "5XXError",
    }
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"], "alarm without an action"
    topic = _only(observability, "AWS::SNS::Topic")
    assert "KmsMasterKeyId" in topic


def test_the_alarm_topic_key_serves_this_stages_alarms_only(aws: Templates) -> None:
    """CloudWatch may use the key only for alarms of this account and stage publishing to this
    topic (confused-deputy conditions)."""
    observability = aws["Observability"]
    policy = _only(observability, "AWS::KMS::Key")["KeyPolicy"]["Statement"]
    cloudwatch = [s for s in policy if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert len(cloudwatch) == 1
    condition = cloudwatch[0]["Condition"]
    assert condition["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
    topic_arn = condition["StringEquals"]["kms:EncryptionContext:aws:sns:topicArn"]
    assert topic_arn["Fn::Join"][1][-1] == ":augury-dev-alarms"
    assert condition["ArnLike"]["aws:SourceArn"]["Fn::Join"][1][-1] == ":alarm:augury-dev-*"
    names = [a["Properties"]["AlarmName"]
             for a in observability.find_resources("AWS::CloudWatch::Alarm").values()]  # fmt: skip
    assert names and all(n.startswith("augury-dev-") for n in names)


# --- Local mode ---------------------------------------------------------------------------


def test_local_mode_has_no_lambda_vpc_cache_or_managed_flink(local: Templates) -> None:
    assert set(local) == {"Ingest", "Collector", "RawStorage", "Observability"}
    for template in local.values():
        for kind in (
            "AWS::Lambda::Function",
            "AWS::EC2::VPC",
            "AWS::ElastiCache::ServerlessCache",
            "AWS::KinesisAnalyticsV2::Application",
            "Custom::S3AutoDeleteObjects",
        ):
            template.resource_count_is(kind, 0)


def test_local_schedule_feeds_the_runner_queue(local: Templates) -> None:
    ingest = local["Ingest"]
    ingest.has_resource_properties("AWS::SQS::Queue", {"QueueName": LOCAL_SCHEDULE_QUEUE})
    ingest.has_resource_properties("AWS::Kinesis::Stream", {"Name": DEFAULT_STREAM_NAME})
    rule = _only(ingest, "AWS::Events::Rule")
    assert rule["ScheduleExpression"] == "rate(1 minute)"
    assert rule["Name"] == LOCAL_SCHEDULE_RULE  # the one rule the local runner uses
    assert "ScheduleQueue" in json.dumps(rule["Targets"])


def test_local_mode_keeps_the_same_dashboard_sections(local: Templates) -> None:
    body = json.dumps(_only(local["Observability"], "AWS::CloudWatch::Dashboard")["DashboardBody"])
    for metric in ("IncomingRecords", "EventsSent", "DeliveryToS3.DataFreshness", "Late"):
        assert metric in body


# --- ReadApi ------------------------------------------------------------------------------


def test_read_api_is_a_vpc_lambda_behind_an_iam_function_url(aws: Templates) -> None:
    read_api = aws["ReadApi"]
    assert _only(read_api, "AWS::Lambda::Url")["AuthType"] == "AWS_IAM"
    fn = _only(read_api, "AWS::Lambda::Function")
    assert fn["Handler"] == "lambdas.read_api.handler.lambda_handler"
    assert fn["Architectures"] == ["arm64"] and fn["Runtime"] == "python3.13"
    assert len(fn["VpcConfig"]["SubnetIds"]) == 2
    env = fn["Environment"]["Variables"]
    assert env["AUGURY_REDIS_URL"]["Fn::Join"][1][0] == f"rediss://{READER_USER}@"
    reader_secret = _logical_id(aws, "CacheReaderAuth")
    assert reader_secret in json.dumps(env["AUGURY_REDIS_AUTH_SECRET_ARN"])
    grants = [s for s in _statements(read_api) if "secretsmanager:GetSecretValue" in s["Action"]]
    assert len(grants) == 1 and reader_secret in json.dumps(grants[0]["Resource"])
    assert _logical_id(aws, "CacheAuth") not in json.dumps(read_api.to_json())
    assert "ReadApiUrl" in read_api.to_json()["Outputs"]


def test_the_cache_admits_the_job_and_the_read_api_only(aws: Templates) -> None:
    rules = aws["Processing"].find_resources("AWS::EC2::SecurityGroupIngress")
    sources = sorted(json.dumps(r["Properties"]["SourceSecurityGroupId"]) for r in rules.values()
                     if r["Properties"].get("FromPort") == 6379)  # fmt: skip
    assert len(sources) == 2
    assert any("CacheReaderSg" in s for s in sources) and any("JobSg" in s for s in sources)


# --- Security gate ------------------------------------------------------------------------


def test_an_unacknowledged_finding_fails_the_synth(tmp_path: Any) -> None:
    app = App(outdir=str(tmp_path))
    stack = Stack(app, "Careless")
    s3.Bucket(stack, "Open")  # no access logs, no TLS policy: AwsSolutions-S1 and S10
    add_security_gate(app)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = (tmp_path / "validation-report.json").read_text()
    assert "AwsSolutions-S1" in report and "AwsSolutions-S10" in report
