"""Run the handler locally, exactly as Lambda would, from a real EventBridge schedule.

LocalStack community cannot run Lambda code without Docker. Locally, an EventBridge rule
(``rate(1 minute)``) targets an SQS queue instead; this runner long-polls the queue and invokes
the handler with each scheduled event, as Lambda's asynchronous invocation would: a failed
invocation is retried (the message becomes visible again) up to twice, then dropped and logged.
The handler's EMF metric lines reach CloudWatch (LocalStack's) as Lambda's log lines would.
"""

from __future__ import annotations

import json
import sys
import threading
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from augury.cloudwatch import forward_emf
from augury.endpoints import Endpoints
from augury.resources import LOCAL_SCHEDULE_QUEUE, LOCAL_SCHEDULE_RULE
from lambdas.local_context import LocalContext

MAX_RECEIVES = 3  # the first invocation and Lambda's two asynchronous retries
FUNCTION_NAME = "augury-clickgen-local"

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def scheduled_event(
    time_iso: str, detail: Mapping[str, Any] | None = None, rule_arn: str = ""
) -> dict[str, Any]:
    """An EventBridge ``Scheduled Event`` as a schedule would deliver it."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": time_iso,
        "region": "us-east-1",
        "resources": [rule_arn] if rule_arn else [],
        "detail": dict(detail or {}),
    }


def ensure_schedule(
    endpoints: Endpoints,
    schedule: str = "rate(1 minute)",
    rule_name: str = LOCAL_SCHEDULE_RULE,
    queue_name: str = LOCAL_SCHEDULE_QUEUE,
) -> str:
    """Create (idempotently) the local rule and its SQS target; the queue URL."""
    sqs, events = endpoints.client("sqs"), endpoints.client("events")
    queue_url: str = sqs.create_queue(
        QueueName=queue_name, Attributes={"VisibilityTimeout": "900"}
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    events.put_rule(Name=rule_name, ScheduleExpression=schedule, State="ENABLED")
    events.put_targets(Rule=rule_name, Targets=[{"Id": "clickgen-runner", "Arn": queue_arn}])
    return queue_url


def with_overrides(event: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The event with ``overrides`` merged into its ``detail`` (a demo rate, say)."""
    detail = {**(event.get("detail") or {}), **overrides}
    return {**event, "detail": detail}


def run(
    endpoints: Endpoints,
    queue_url: str,
    handler: Handler,
    overrides: Mapping[str, Any] | None = None,
    max_invocations: int | None = None,
    stop: threading.Event | None = None,
    on_result: Callable[[dict[str, Any]], None] | None = None,
) -> int:
    """Invoke ``handler`` for every scheduled event in the queue; the invocations made."""
    sqs = endpoints.client("sqs")
    cloudwatch = endpoints.client("cloudwatch")
    stop = stop or threading.Event()
    invocations = 0
    while not stop.is_set() and (max_invocations is None or invocations < max_invocations):
        got = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=1,
            WaitTimeSeconds=5,
            AttributeNames=["ApproximateReceiveCount"],
        )
        for message in got.get("Messages", []):
            event = with_overrides(json.loads(message["Body"]), overrides or {})
            receives = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
            invocations += 1
            try:
                with forward_emf(cloudwatch):  # as CloudWatch does with Lambda's log lines
                    result = handler(event, LocalContext(FUNCTION_NAME))
            except Exception as exc:
                print(f"[runner] invocation failed ({receives}/{MAX_RECEIVES}): {exc}",
                      file=sys.stderr)  # fmt: skip
                if receives < MAX_RECEIVES:
                    sqs.change_message_visibility(
                        QueueUrl=queue_url,
                        ReceiptHandle=message["ReceiptHandle"],
                        VisibilityTimeout=1,
                    )
                    continue
            else:
                if on_result is not None:
                    on_result(result)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return invocations
