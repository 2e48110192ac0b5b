"""Collector: the HTTP way in for real clients, API Gateway straight into Kinesis (no Lambda).

``POST /events`` -> PutRecord and ``POST /events/batch`` -> PutRecords, through API Gateway's
Kinesis service integration. Request models, mapping templates and answers come from
``augury.collector`` (the local collector is built from the same definitions). The stage is
throttled from the stage configuration; access logs and a WAF rate rule are options there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from aws_cdk import CfnOutput, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from augury import collector as c
from cdk.config import StageConfig
from cdk.nag import acknowledge
from cdk.stacks.common import log_retention

_ALLOW_ORIGIN: Final = "method.response.header.Access-Control-Allow-Origin"


@dataclass(frozen=True)
class CollectorProps:
    """What the collector needs: the stage configuration and the stream it writes to."""

    config: StageConfig
    stream: kinesis.IStream


def cors_vtl(origins: tuple[str, ...]) -> str:
    """VTL that answers the request's ``Origin`` when it is one of several allowed ones.

    With ``*`` or one origin the header is a static response parameter instead.
    """
    if len(origins) < 2 or "*" in origins:
        return ""
    test = " || ".join(f'$origin == "{o}"' for o in origins)
    return (
        '#set($origin = $input.params().header.get("Origin"))\n'
        f"#if({test})#set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)"
        "#end\n"
    )


class CollectorStack(Stack):
    """The collector's REST API, its Kinesis role, models, stage, logs and web ACL."""

    api: apigw.RestApi
    role: iam.Role

    def __init__(
        self, scope: Construct, construct_id: str, props: CollectorProps, **kwargs: object
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        cfg = props.config
        origins = cfg.origins
        edge = cfg.collector_endpoint_type == "EDGE"
        access_log = None
        if cfg.collector_access_logs and not cfg.local:
            access_log = logs.LogGroup(
                self,
                "AccessLog",
                retention=log_retention(cfg.log_retention_days),
                removal_policy=RemovalPolicy.DESTROY,
            )
        self.api = apigw.RestApi(
            self,
            "Api",
            rest_api_name=f"{cfg.prefix}{c.API_NAME_SUFFIX}",
            description="Augury click collector: POST /events, POST /events/batch -> Kinesis",
            endpoint_types=[apigw.EndpointType.EDGE if edge else apigw.EndpointType.REGIONAL],
            # API Gateway's logging role is one per account and region, shared by every API:
            # kept when this stack goes (the CDK's default, RETAIN).
            cloud_watch_role=not cfg.local,
            deploy_options=apigw.StageOptions(
                stage_name=c.STAGE,
                throttling_rate_limit=cfg.collector_rate_limit,
                throttling_burst_limit=cfg.collector_burst_limit,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                metrics_enabled=True,
                tracing_enabled=not cfg.local,
                access_log_destination=apigw.LogGroupLogDestination(access_log)
                if access_log
                else None,
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                )
                if access_log
                else None,
            ),
            default_cors_preflight_options=apigw.CorsOptions(
                allow_origins=list(origins) if "*" not in origins else apigw.Cors.ALL_ORIGINS,
                allow_methods=["POST", "OPTIONS"],
                allow_headers=["Content-Type"],
            ),
        )
        self.role = iam.Role(
            self,
            "KinesisRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            description="The collector's integration: PutRecord(s) on the click stream only",
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["kinesis:PutRecord", "kinesis:PutRecords"],
                resources=[props.stream.stream_arn],
            )
        )
        validator = self.api.add_request_validator(
            "BodyValidator",
            request_validator_name="body-and-parameters",
            validate_request_body=True,
            validate_request_parameters=True,  # none are required; cdk-nag asks for both
        )
        event_model = self._model("EventModel", c.MODEL_NAME, c.event_model())
        batch_model = self._model("BatchModel", c.BATCH_MODEL_NAME, c.batch_model())
        stream_name = props.stream.stream_name
        events = self.api.root.add_resource(c.EVENTS_PATH.strip("/"))
        batch = events.add_resource(c.BATCH_PATH.rsplit("/", 1)[1])
        self._post(
            events, "PutRecord", c.single_request_template(stream_name, edge),
            c.SINGLE_RESPONSE_TEMPLATE, event_model, validator, origins,
        )  # fmt: skip
        self._post(
            batch, "PutRecords", c.batch_request_template(stream_name, edge),
            c.BATCH_RESPONSE_TEMPLATE, batch_model, validator, origins,
        )  # fmt: skip
        # API Gateway's own answers (a refused body, throttling, WAF, errors) must be readable
        # by the page too, or a browser sees a network error instead of a 400 or a 429. With
        # several origins the request's Origin is echoed (no credentials are ever allowed).
        allow_origin = (
            f"'{origins[0]}'"
            if len(origins) == 1 or "*" in origins
            else "method.request.header.Origin"
        )
        cors = {"Access-Control-Allow-Origin": allow_origin}
        self.api.add_gateway_response(
            "BadBody",
            type=apigw.ResponseType.BAD_REQUEST_BODY,
            status_code="400",
            templates={"application/json": c.BAD_REQUEST_TEMPLATE},
            response_headers=cors,
        )
        for name, kind in (("Default4xx", apigw.ResponseType.DEFAULT_4_XX),
                           ("Default5xx", apigw.ResponseType.DEFAULT_5_XX)):  # fmt: skip
            self.api.add_gateway_response(name, type=kind, response_headers=cors)
        if cfg.collector_waf_rate_limit and not cfg.local:
            self._web_acl(cfg)
        self._acknowledge(cfg)
        CfnOutput(self, "CollectorUrl", value=self.api.url, description="POST events here")

    def _model(self, construct_id: str, name: str, schema: dict[str, object]) -> apigw.IModel:
        model = apigw.CfnModel(
            self,
            construct_id,
            rest_api_id=self.api.rest_api_id,
            content_type="application/json",
            name=name,
            schema=schema,
            description=f"{name}, generated from the event contract (augury/collector.py)",
        )
        ref = apigw.Model.from_model_name(self, f"{construct_id}Ref", model.ref)
        self._models = [*getattr(self, "_models", []), model]
        return ref

    def _post(
        self,
        resource: apigw.Resource,
        action: str,
        request_template: str,
        response_template: str,
        model: apigw.IModel,
        validator: apigw.IRequestValidator,
        origins: tuple[str, ...],
    ) -> None:
        static = "*" in origins or len(origins) == 1
        params = {_ALLOW_ORIGIN: f"'{origins[0]}'"} if static else {}
        integration = apigw.AwsIntegration(
            service="kinesis",
            action=action,
            integration_http_method="POST",
            options=apigw.IntegrationOptions(
                credentials_role=self.role,
                passthrough_behavior=apigw.PassthroughBehavior.NEVER,
                # Kinesis's JSON protocol: the service refuses a call without it.
                request_parameters={
                    "integration.request.header.Content-Type": "'application/x-amz-json-1.1'"
                },
                request_templates={t: request_template for t in c.CONTENT_TYPES},
                integration_responses=[
                    apigw.IntegrationResponse(
                        status_code="200",
                        response_templates={
                            "application/json": cors_vtl(origins) + response_template
                        },
                        response_parameters=params,
                    ),
                    apigw.IntegrationResponse(
                        selection_pattern=r"[45]\d{2}",
                        status_code="503",
                        response_templates={
                            "application/json": cors_vtl(origins) + c.UNAVAILABLE_TEMPLATE
                        },
                        response_parameters=params,
                    ),
                ],
            ),
        )
        method = resource.add_method(
            "POST",
            integration,
            request_validator=validator,
            request_models={t: model for t in c.CONTENT_TYPES},
            method_responses=[
                apigw.MethodResponse(
                    status_code=code, response_parameters={_ALLOW_ORIGIN: True} if static else {}
                )
                for code in ("200", "503")
            ],
        )
        for m in self._models:
            method.node.add_dependency(m)

    def _web_acl(self, cfg: StageConfig) -> None:
        rule = "PerSourceIpRate"
        acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=f"{cfg.prefix}-collector",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True,
                metric_name=f"{cfg.prefix}-collector",
                sampled_requests_enabled=True,
            ),
            rules=[
                wafv2.CfnWebACL.RuleProperty(
                    name=rule,
                    priority=0,
                    action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                            limit=cfg.collector_waf_rate_limit, aggregate_key_type="IP"
                        )
                    ),
                    visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
                        cloud_watch_metrics_enabled=True,
                        metric_name=f"{cfg.prefix}-collector-{rule}",
                        sampled_requests_enabled=True,
                    ),
                )
            ],
        )
        wafv2.CfnWebACLAssociation(
            self,
            "WebAclAssociation",
            resource_arn=self.api.deployment_stage.stage_arn,
            web_acl_arn=acl.attr_arn,
        )

    def _acknowledge(self, cfg: StageConfig) -> None:
        public = (
            "The collector is a public endpoint for anonymous browser clicks, like any web "
            "analytics collector: no caller can sign requests. Abuse is bounded by the request "
            "model, the stage's throttling and (as configured) the WAF rate rule; the "
            "integration role can only PutRecord(s) on the click stream."
        )
        for method in self.api.methods:
            acknowledge(method, "AwsSolutions-APIG4", public)
            acknowledge(method, "AwsSolutions-COG4", public)
        stage = self.api.deployment_stage
        if cfg.local:
            acknowledge(
                stage,
                "AwsSolutions-APIG1",
                "Local mode only: LocalStack community keeps no API Gateway access logs.",
            )
        elif not cfg.collector_access_logs:
            acknowledge(
                stage,
                "AwsSolutions-APIG1",
                "Access logs are off by the stage configuration (collector_access_logs=false).",
            )
        if cfg.local or not cfg.collector_waf_rate_limit:
            acknowledge(
                stage,
                "AwsSolutions-APIG3",
                "Local mode only: LocalStack community has no WAF."
                if cfg.local
                else "No web ACL by the stage configuration (collector_waf_rate_limit=0); the "
                "stage's throttling still applies.",
            )
        if not cfg.local:
            cw_role = self.api.node.try_find_child("CloudWatchRole")
            if cw_role is not None:
                acknowledge(
                    cw_role,
                    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                    "AmazonAPIGatewayPushToCloudWatchLogs]",
                    "API Gateway's account-level logging role: AWS's managed policy is what "
                    "the service documents for it (logs on the account's API log groups).",
                )
