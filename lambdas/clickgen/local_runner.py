"""Run the handler locally, exactly as Lambda would, from a real EventBridge schedule.

LocalStack community cannot run Lambda code without Docker. Locally, an EventBridge rule
(``rate(1 minute)``) targets an SQS queue instead; this runner long-polls the queue and invokes
the handler with each scheduled event, as Lambda's asynchronous invocation would: a failed
invocation is retried (the message becomes visible again) up to twice, then dropped and logged.
The handler's EMF metric lines reach CloudWatch (LocalStack's) as Lambda's log lines would.

A schedule's first event comes up to a minute after it starts. With ``bridge_s`` the runner
does not wait for it: until the first scheduled event arrives it invokes the handler itself
with ``bridge_s`` seconds of traffic at a time, starting now, so traffic flows at once and the
schedule takes over where the bridge stops.
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from augury.cloudwatch import forward_emf
from augury.endpoints import DEFAULT_REGION, LOCALSTACK_ACCOUNT_ID, Endpoints
from augury.events import parse_timestamp_ms
from augury.resources import LOCAL_SCHEDULE_QUEUE, LOCAL_SCHEDULE_RULE
from lambdas.local_context import LocalContext

BRIDGE_S = 5
"""Seconds of traffic per bridging invocation, before the first scheduled event comes."""
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
        "account": LOCALSTACK_ACCOUNT_ID,
        "time": time_iso,
        "region": DEFAULT_REGION,
        "resources": [rule_arn] if rule_arn else [],
        "detail": dict(detail or {}),
    }


def ensure_schedule(
    endpoints: Endpoints,
    schedule: str = "rate(1 minute)",
    rule_name: str = LOCAL_SCHEDULE_RULE,
    queue_name: str = LOCAL_SCHEDULE_QUEUE,
) -> str:
    """The schedule's queue URL; the rule and queue are created only when none is deployed.

    ``make deploy-local`` (and the demo) deploy the rule and its queue from the CDK app's local
    mode under these same names, so there is only ever one rule feeding the queue.
    """
    sqs, events = endpoints.client("sqs"), endpoints.client("events")
    try:
        events.describe_rule(Name=rule_name)
        return str(sqs.get_queue_url(QueueName=queue_name)["QueueUrl"])
    except (events.exceptions.ResourceNotFoundException, sqs.exceptions.QueueDoesNotExist):
        pass
    queue_url: str = sqs.create_queue(
        QueueName=queue_name, Attributes={"VisibilityTimeout": "900"}
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    events.put_rule(Name=rule_name, ScheduleExpression=schedule, State="ENABLED")
    events.put_targets(Rule=rule_name, Targets=[{"Id": "clickgen-runner", "Arn": queue_arn}])
    return queue_url


_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_UNIT_S = {"minute": 60, "hour": 3600, "day": 86400}


def period_of(expression: str) -> int | None:
    """The period in seconds of a ``rate(N unit)`` schedule expression (None for a cron)."""
    match = _RATE.fullmatch(expression.strip())
    return int(match.group(1)) * _UNIT_S[match.group(2).rstrip("s")] if match else None


def schedule_period_s(endpoints: Endpoints, rule_name: str = LOCAL_SCHEDULE_RULE) -> int | None:
    """The deployed rule's period in seconds; None for a cron, or when there is no rule."""
    try:
        expression = endpoints.client("events").describe_rule(Name=rule_name)["ScheduleExpression"]
    except (ClientError, BotoCoreError):  # no rule yet (the runner creates one), or no LocalStack
        return None
    return period_of(str(expression))


def drop_stale_ticks(endpoints: Endpoints, queue_url: str) -> None:
    """Purge ticks that queued while no runner listened (an earlier run's, hours old maybe).

    Lambda would have run each when it came; replaying them now would produce stale traffic.
    """
    sqs = endpoints.client("sqs")
    with contextlib.suppress(sqs.exceptions.PurgeQueueInProgress):  # purged under a minute ago
        sqs.purge_queue(QueueUrl=queue_url)


def with_overrides(event: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The event with ``overrides`` merged into its ``detail`` (a demo rate, say)."""
    detail = {**(event.get("detail") or {}), **overrides}
    return {**event, "detail": detail}


def iso_second(epoch_s: float) -> str:
    """An EventBridge ``time``: UTC, whole seconds."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(epoch_s)))


TRIGGER_SCHEDULE = "schedule"
TRIGGER_BRIDGE = "bridge"
Notify = Callable[[dict[str, Any]], None]


def trimmed_to(event: dict[str, Any], covered_until_ms: int, period_s: int) -> dict[str, Any]:
    """A scheduled event whose traffic starts where the bridge's ended (no second twice).

    The first scheduled event after bridging may be older than the end of the bridged traffic;
    its window is moved to start there and shortened to end where it would have ended.
    """
    tick_ms = parse_timestamp_ms(event["time"]) or 0
    if covered_until_ms <= tick_ms:
        return event
    duration_s = int(event.get("detail", {}).get("duration_s", period_s))
    left_s = max(1, duration_s - (covered_until_ms - tick_ms) // 1000)
    trimmed = with_overrides(event, {"duration_s": left_s})
    return {**trimmed, "time": iso_second(covered_until_ms / 1000)}


def run(
    endpoints: Endpoints,
    queue_url: str,
    handler: Handler,
    overrides: Mapping[str, Any] | None = None,
    max_invocations: int | None = None,
    stop: threading.Event | None = None,
    on_result: Notify | None = None,
    bridge_s: int | None = None,
    on_start: Notify | None = None,
    period_s: int = 60,
) -> int:
    """Invoke ``handler`` for every scheduled event in the queue; the invocations made.

    ``on_start`` gets ``trigger`` (``schedule`` or ``bridge``) and ``scheduled_time`` (the
    scheduled event's own ``time``) as an invocation starts; ``on_result`` gets its summary
    plus the same two when it succeeded. With ``bridge_s``, until the first scheduled event
    comes the runner produces ``bridge_s`` seconds of traffic at a time, each bridge starting
    where the last ended; the first scheduled event then starts where the bridges ended
    (``trimmed_to``); ``period_s`` is the schedule's period (a tick's window by default).
    """
    sqs = endpoints.client("sqs")
    cloudwatch = endpoints.client("cloudwatch")
    stop = stop or threading.Event()
    invocations = 0
    # Until the first scheduled event: where the bridged traffic ends (None: not bridging).
    bridged_until_ms = int(time.time()) * 1000 if bridge_s is not None else None
    while not stop.is_set() and (max_invocations is None or invocations < max_invocations):
        got = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=1,
            WaitTimeSeconds=0 if bridged_until_ms is not None else 5,
            AttributeNames=["ApproximateReceiveCount"],
        )
        messages = got.get("Messages", [])
        if not messages and bridge_s is not None and bridged_until_ms is not None:
            detail = {**(overrides or {}), "duration_s": bridge_s}
            event = scheduled_event(iso_second(bridged_until_ms / 1000), detail)
            bridged_until_ms += bridge_s * 1000
            invocations += 1
            _notify(on_start, {}, TRIGGER_BRIDGE, event["time"])
            _notify(on_result, _invoke(handler, event, cloudwatch), TRIGGER_BRIDGE, event["time"])
            continue
        for message in messages:
            event = with_overrides(json.loads(message["Body"]), overrides or {})
            tick_time = event["time"]  # the schedule's own time, even when the window moves
            if bridged_until_ms is not None:
                event = trimmed_to(event, bridged_until_ms, period_s)
                bridged_until_ms = None  # the schedule has taken over
            receives = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
            invocations += 1
            _notify(on_start, {}, TRIGGER_SCHEDULE, tick_time)
            result = _invoke(handler, event, cloudwatch, f"{receives}/{MAX_RECEIVES}")
            if result is None and receives < MAX_RECEIVES:
                sqs.change_message_visibility(
                    QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=1
                )
                continue
            _notify(on_result, result, TRIGGER_SCHEDULE, tick_time)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return invocations


def _notify(callback: Notify | None, result: dict[str, Any] | None, trigger: str,
            scheduled_time: str) -> None:  # fmt: skip
    if callback is not None and result is not None:
        callback({**result, "trigger": trigger, "scheduled_time": scheduled_time})


def _invoke(handler: Handler, event: dict[str, Any], cloudwatch: Any,
            attempt: str = "1/1") -> dict[str, Any] | None:  # fmt: skip
    """One invocation as Lambda runs it: its result, or None when it raised (logged)."""
    try:
        with forward_emf(cloudwatch):  # as CloudWatch does with Lambda's log lines
            return handler(event, LocalContext(FUNCTION_NAME))
    except Exception as exc:
        print(f"[runner] invocation failed ({attempt}): {exc}", file=sys.stderr)
        return None
