"""The collector stack: API Gateway straight into Kinesis, built from ``augury.collector``."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Template

from augury import collector as c
from augury.events import STAMPED_FIELDS
from tests.unit.cdk.conftest import Templates


def _methods(t: Template) -> dict[str, dict[str, Any]]:
    """The POST methods keyed by their Kinesis action."""
    out = {}
    for m in t.find_resources("AWS::ApiGateway::Method").values():
        p = m["Properties"]
        if p["HttpMethod"] == "POST":
            uri = json.dumps(p["Integration"]["Uri"])
            action = "PutRecords" if "action/PutRecords" in uri else "PutRecord"
            out[action] = p
    return out


def _policy_statements(t: Template) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for policy in t.find_resources("AWS::IAM::Policy").values():
        out += policy["Properties"]["PolicyDocument"]["Statement"]
    return out


def test_two_post_methods_call_kinesis_directly_with_no_lambda(aws: Templates) -> None:
    t = aws["Collector"]
    t.resource_count_is("AWS::Lambda::Function", 0)
    methods = _methods(t)
    assert set(methods) == {"PutRecord", "PutRecords"}
    for action, p in methods.items():
        integration = p["Integration"]
        assert integration["Type"] == "AWS"
        assert integration["IntegrationHttpMethod"] == "POST"
        assert f":kinesis:action/{action}" in json.dumps(integration["Uri"])
        assert integration["PassthroughBehavior"] == "NEVER"
        assert integration["RequestParameters"] == {
            "integration.request.header.Content-Type": "'application/x-amz-json-1.1'"
        }
        assert set(integration["RequestTemplates"]) == set(c.CONTENT_TYPES)
        codes = {r["StatusCode"]: r.get("SelectionPattern") for r in
                 integration["IntegrationResponses"]}  # fmt: skip
        assert codes == {"200": None, "503": r"[45]\d{2}"}


def test_the_mapping_templates_are_the_defined_ones_for_the_stream(aws: Templates) -> None:
    t = aws["Collector"]
    methods = _methods(t)
    single = json.dumps(methods["PutRecord"]["Integration"]["RequestTemplates"]["application/json"])
    batch = json.dumps(methods["PutRecords"]["Integration"]["RequestTemplates"]["text/plain"])
    # The stream's name is imported from the ingest stack; the rest is the definition's text.
    for rendered, template in (
        (single, c.single_request_template),
        (batch, c.batch_request_template),
    ):
        head, tail = template("STREAM").split("STREAM")
        assert json.dumps(head)[1:-1] in rendered and json.dumps(tail)[1:-1] in rendered
    responses = methods["PutRecords"]["Integration"]["IntegrationResponses"]
    ok = next(r for r in responses if r["StatusCode"] == "200")
    assert ok["ResponseTemplates"]["application/json"] == c.BATCH_RESPONSE_TEMPLATE


def test_models_are_generated_from_the_contract_and_validate_bodies(aws: Templates) -> None:
    t = aws["Collector"]
    models = {m["Properties"]["Name"]: m["Properties"] for m in
              t.find_resources("AWS::ApiGateway::Model").values()}  # fmt: skip
    assert models[c.MODEL_NAME]["Schema"] == c.event_model()
    assert models[c.BATCH_MODEL_NAME]["Schema"] == c.batch_model()
    schema = models[c.MODEL_NAME]["Schema"]
    assert all(schema["properties"][name]["not"] == {} for name in STAMPED_FIELDS)
    validator = next(iter(t.find_resources("AWS::ApiGateway::RequestValidator").values()))
    assert validator["Properties"]["ValidateRequestBody"] is True
    for p in _methods(t).values():
        assert p["RequestValidatorId"]["Ref"].startswith("ApiBodyValidator")
        assert set(p["RequestModels"]) == set(c.CONTENT_TYPES)


def test_the_stage_is_throttled_logged_and_behind_a_rate_rule(aws: Templates) -> None:
    t = aws["Collector"]
    stage = next(iter(t.find_resources("AWS::ApiGateway::Stage").values()))["Properties"]
    settings = stage["MethodSettings"][0]
    assert (settings["ThrottlingRateLimit"], settings["ThrottlingBurstLimit"]) == (1000, 2000)
    assert "DestinationArn" in stage["AccessLogSetting"]
    acl = next(iter(t.find_resources("AWS::WAFv2::WebACL").values()))["Properties"]
    rule = acl["Rules"][0]["Statement"]["RateBasedStatement"]
    assert rule == {"Limit": 3000, "AggregateKeyType": "IP"}
    t.resource_count_is("AWS::WAFv2::WebACLAssociation", 1)
    api = next(iter(t.find_resources("AWS::ApiGateway::RestApi").values()))["Properties"]
    assert api["EndpointConfiguration"]["Types"] == ["REGIONAL"]


def test_options_edge_two_origins_no_logs_no_acl(aws_replication_group: Templates) -> None:
    t = aws_replication_group["Collector"]
    t.resource_count_is("AWS::WAFv2::WebACL", 0)
    stage = next(iter(t.find_resources("AWS::ApiGateway::Stage").values()))["Properties"]
    assert "AccessLogSetting" not in stage
    api = next(iter(t.find_resources("AWS::ApiGateway::RestApi").values()))["Properties"]
    assert api["EndpointConfiguration"]["Types"] == ["EDGE"]
    methods = _methods(t)
    # Edge-optimized: CloudFront's country header is trusted and stamped.
    templates = methods["PutRecords"]["Integration"]["RequestTemplates"]
    assert c.COUNTRY_HEADER in json.dumps(templates["application/json"])
    # Two origins: the answer echoes the request's Origin when it is one of them.
    ok = next(r for r in methods["PutRecord"]["Integration"]["IntegrationResponses"]
              if r["StatusCode"] == "200")  # fmt: skip
    template = ok["ResponseTemplates"]["application/json"]
    assert '"https://shop.example.com"' in template and '"https://www.example.com"' in template
    assert "responseOverride.header.Access-Control-Allow-Origin" in template


def test_the_role_may_only_put_records_on_the_one_stream(aws: Templates) -> None:
    t = aws["Collector"]
    statements = _policy_statements(t)
    kinesis = [s for s in statements if any("kinesis:" in a for a in
               ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))]  # fmt: skip
    assert len(kinesis) == 1
    assert sorted(kinesis[0]["Action"]) == ["kinesis:PutRecord", "kinesis:PutRecords"]
    assert kinesis[0]["Effect"] == "Allow"
    resource = json.dumps(kinesis[0]["Resource"])
    assert "Fn::ImportValue" in resource and "Clicks" in resource and "*" not in resource
    role = next(r for k, r in t.find_resources("AWS::IAM::Role").items() if "Kinesis" in k)
    principal = role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
    assert principal == {"Service": "apigateway.amazonaws.com"}
    assert "ManagedPolicyArns" not in role["Properties"]


def test_local_mode_deploys_the_same_api_without_the_aws_only_parts(local: Templates) -> None:
    t = local["Collector"]
    assert set(_methods(t)) == {"PutRecord", "PutRecords"}
    t.resource_count_is("AWS::WAFv2::WebACL", 0)
    t.resource_count_is("AWS::ApiGateway::Account", 0)
    t.resource_count_is("AWS::ApiGateway::Model", 2)


def _gateway_responses(t: Template) -> dict[str, dict[str, Any]]:
    found = t.find_resources("AWS::ApiGateway::GatewayResponse").values()
    return {r["Properties"]["ResponseType"]: r["Properties"] for r in found}


def test_gateway_responses_are_readable_cross_origin(aws: Templates) -> None:
    responses = _gateway_responses(aws["Collector"])
    assert set(responses) == {"BAD_REQUEST_BODY", "DEFAULT_4XX", "DEFAULT_5XX"}
    bad = responses["BAD_REQUEST_BODY"]
    assert bad["StatusCode"] == "400"
    assert bad["ResponseTemplates"]["application/json"] == c.BAD_REQUEST_TEMPLATE
    for r in responses.values():
        assert r["ResponseParameters"] == {
            "gatewayresponse.header.Access-Control-Allow-Origin": "'*'"
        }


def test_with_several_origins_gateway_responses_echo_the_origin(
    aws_replication_group: Templates,
) -> None:
    for r in _gateway_responses(aws_replication_group["Collector"]).values():
        assert r["ResponseParameters"] == {
            "gatewayresponse.header.Access-Control-Allow-Origin": "method.request.header.Origin"
        }


def test_the_accounts_logging_role_outlives_the_stack(aws: Templates) -> None:
    """API Gateway's CloudWatch role is one per account and region, shared by every API."""
    roles = aws["Collector"].find_resources("AWS::IAM::Role")
    cw = next(r for k, r in roles.items() if "CloudWatchRole" in k)
    assert cw["DeletionPolicy"] == "Retain"
