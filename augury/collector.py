"""The HTTP collector, defined once: its paths, request models, record mapping and templates.

Browsers and servers send clicks over HTTP; the collector puts each one into the Kinesis
stream as one record. In AWS it is an API Gateway REST API whose Kinesis service integration
calls PutRecord (``/events``) or PutRecords (``/events/batch``), with no Lambda in the path;
locally it is ``python -m collector``. Both are built from this module:

- the **request models** (JSON Schema draft 4, what API Gateway validates bodies with) are
  generated from the event contract's field rules (``augury.events.FIELDS``);
- the **record mapping** (``record``) is what the API Gateway mapping templates
  (``single_request_template``, ``batch_request_template``) write into Kinesis, and what the
  local collector writes: the collector's own members first, then the event's members::

    {"arrival_ms":"1796441811135","arrival_country":"BE","event_id":"...",...}

  ``arrival_ms`` is when the collector received the request (``$context.requestTimeEpoch``):
  the event's arrival, so a replay of the raw archive judges clock skew as the stream did
  (``docs/events.md``). ``arrival_country`` is the source IP's country where the collector
  knows it (an edge-optimized API, where CloudFront sets the header). The partition key is
  the event's user id.
- the **answers**: 200 with one result per event, in request order (``ANSWER`` shapes);
  400 for a body the model refuses; 503 when Kinesis refused the call (resend later).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final

from augury.events import (
    ARRIVAL_COUNTRY_FIELD,
    ARRIVAL_FIELD,
    FIELDS,
    REQUIRED,
    STAMPED_FIELDS,
    FieldRule,
    invalid,
    missing,
)

LOCAL_PORT: Final = 8089
"""Where ``python -m collector`` listens by default (``http://127.0.0.1:8089``)."""
STAGE: Final = "v1"
"""The API Gateway stage the collector is deployed to."""
API_NAME_SUFFIX: Final = "-collector"
"""The REST API is named ``<prefix>-collector`` (``augury-local-collector`` in LocalStack)."""
EVENTS_PATH: Final = "/events"
"""``POST``: one event object; PutRecord."""
BATCH_PATH: Final = "/events/batch"
"""``POST``: ``{"events": [...]}``, 1..``MAX_BATCH_EVENTS`` events; PutRecords."""
BATCH_FIELD: Final = "events"
MAX_BATCH_EVENTS: Final = 500
"""PutRecords' own limit on records per call."""
MAX_BODY_BYTES: Final = 5 * 1024 * 1024
"""PutRecords' limit on a call's data; API Gateway's own payload limit is larger (10 MB)."""
CONTENT_TYPES: Final = ("application/json", "text/plain")
"""Bodies are JSON either way; ``text/plain`` lets ``navigator.sendBeacon`` post with no CORS
preflight."""
COUNTRY_HEADER: Final = "CloudFront-Viewer-Country"
"""Where the source IP's country comes from: CloudFront sets it on an edge-optimized API.
Trusted only there; on a regional endpoint any client could send it."""
UNAVAILABLE_MESSAGE: Final = "the stream refused the call; resend the events later"
MODEL_NAME: Final = "ClickEvent"
BATCH_MODEL_NAME: Final = "ClickEventBatch"


_COUNTRY_RULE: Final = next(r for r in FIELDS if r.name == ARRIVAL_COUNTRY_FIELD)
"""The contract's rule for ``arrival_country``: a country that breaks it is not stamped."""


def parse_origins(text: str) -> tuple[str, ...]:
    """CORS origins from ``*`` or a comma-separated list (the stage setting, ``--origins``)."""
    return tuple(o.strip() for o in text.split(",") if o.strip())


def _property_schema(rule: FieldRule) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string" if rule.required else ["string", "null"]}
    schema["minLength"] = rule.min_len
    if rule.max_len is not None:
        schema["maxLength"] = rule.max_len
    # A schema pattern is searched for (ECMA 262); "$" would also match before a final line
    # break (Java, Python), so the end is "nothing follows" instead.
    if rule.starts_with is not None:
        schema["pattern"] = "^" + re.escape(rule.starts_with)
    elif rule.pattern is not None:
        schema["pattern"] = f"^(?:{rule.pattern})(?![\\s\\S])"
    reason = invalid(rule.name)
    schema["description"] = f"{'required' if rule.required else 'optional'}; else {reason}" + (
        f" ({missing(rule.name)} when absent)" if rule.required else ""
    )
    return schema


def event_model() -> dict[str, Any]:
    """The JSON Schema (draft 4) of one event, from the contract's field rules.

    It checks what a schema can: an object, the required fields present, each field a string
    within its length bounds and pattern; the fields the collector stamps absent. What only
    the contract's parser can judge (a date that does not exist, a timestamp too far ahead, a
    duplicate key) passes here and goes to the job's dead letter with its reason.
    """
    properties = {r.name: _property_schema(r) for r in FIELDS if r.name not in STAMPED_FIELDS}
    for name in STAMPED_FIELDS:
        properties[name] = {"not": {}, "description": "set by the collector, never by a client"}
    return {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "title": MODEL_NAME,
        "type": "object",
        "required": [r.name for r in REQUIRED],
        "properties": properties,
    }


def batch_model() -> dict[str, Any]:
    """The JSON Schema (draft 4) of a batch: ``{"events": [event, ...]}``, 1..500 events."""
    event = {k: v for k, v in event_model().items() if k not in ("$schema", "title")}
    return {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "title": BATCH_MODEL_NAME,
        "type": "object",
        "required": [BATCH_FIELD],
        "properties": {
            BATCH_FIELD: {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_BATCH_EVENTS,
                "items": event,
            }
        },
    }


def localstack_api_url(localstack_url: str, api_id: str) -> str:
    """The base URL of a REST API deployed to LocalStack (its path form, no DNS needed)."""
    return f"{localstack_url.rstrip('/')}/restapis/{api_id}/{STAGE}/_user_request_"


class RawNumber:
    """A JSON number as it was written: re-serialized as is (``1E400`` stays ``1E400``)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"RawNumber({self.text!r})"


def parse_event_json(text: str) -> Any:
    """JSON the contract accepted (``augury.events.json_verdict``), numbers kept as written."""
    return json.loads(text, parse_int=RawNumber, parse_float=RawNumber)


def event_json(value: Any) -> str:
    """An event's JSON as the mapping writes it.

    Compact, members in the order sent, strings in UTF-8 as sent, numbers as written
    (``RawNumber``).
    """
    if isinstance(value, RawNumber):
        return value.text
    if isinstance(value, Mapping):
        members = (f"{json.dumps(k, ensure_ascii=False)}:{event_json(v)}" for k, v in value.items())
        return "{" + ",".join(members) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(event_json(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def record(event_text: str, arrival_ms: int, country: str | None = None) -> bytes:
    """The Kinesis record the collector writes for one event (``event_json``'s text).

    The collector's members come first; the event's members follow as they were. A country
    that is not two capital letters is left out (``arrival_country``'s contract rule).
    """
    stamp = f'"{ARRIVAL_FIELD}":"{arrival_ms}"'
    if country is not None and _COUNTRY_RULE.accepts(country):
        stamp += f',"{ARRIVAL_COUNTRY_FIELD}":"{country}"'
    rest = event_text[event_text.index("{") + 1 :]
    return ("{" + stamp + ("" if rest.startswith("}") else ",") + rest).encode("utf-8")


def partition_key(event: Mapping[str, Any]) -> str:
    """The record's partition key: the user id, so one hot key cannot pin a shard."""
    return str(event["user_id"])


# --- API Gateway mapping templates (VTL) --------------------------------------------------------
def json_string_vtl(expression: str) -> str:
    r"""VTL for the text of a JSON string (between its quotes) holding ``expression``'s value.

    ``$util.escapeJavaScript`` escapes a single quote as ``\'``, which JSON does not allow: it is
    turned back into a plain quote (an id like ``o'brien`` would otherwise break the request).
    """
    return f'$util.escapeJavaScript({expression}).replaceAll("\\\\\'", "\'")'


# Velocity has no escape for a double quote inside a string literal: $q holds one.
_PREAMBLE: Final = """#set($q = '"')
#set($country = "")
"""


def _country_vtl(trust_country_header: bool) -> str:
    if not trust_country_header:
        return ""
    return (
        f"#set($c = $input.params('{COUNTRY_HEADER}'))\n"
        f'#if($c && $c.matches("{_COUNTRY_RULE.pattern}"))'
        f'#set($country = ",${{q}}{ARRIVAL_COUNTRY_FIELD}${{q}}:${{q}}$c${{q}}")#end\n'
    )


def _record_vtl(json_expr: str) -> str:
    """VTL setting ``$data`` to ``record``'s text for the event ``json_expr`` evaluates to."""
    return (
        f"#set($json = {json_expr})\n"
        "#set($rest = $json.substring(1))\n"
        '#if($rest.startsWith("}"))#set($sep = "")#else#set($sep = ",")#end\n'
        f'#set($data = "{{${{q}}{ARRIVAL_FIELD}${{q}}:${{q}}$context.requestTimeEpoch${{q}}'
        '$country$sep$rest")\n'
    )


def single_request_template(stream_name: str, trust_country_header: bool = False) -> str:
    """The PutRecord request for ``POST /events`` (the body already passed ``event_model``)."""
    return (
        _PREAMBLE
        + _country_vtl(trust_country_header)
        + _record_vtl("$input.json('$')")
        + "{"
        + f'"StreamName":"{stream_name}",'
        + '"PartitionKey":"'
        + json_string_vtl("$input.path('$.user_id')")
        + '",'
        + '"Data":"$util.base64Encode($data)"}'
    )


def batch_request_template(stream_name: str, trust_country_header: bool = False) -> str:
    """The PutRecords request for ``POST /events/batch`` (the body passed ``batch_model``)."""
    return (
        _PREAMBLE
        + _country_vtl(trust_country_header)
        + "{"
        + f'"StreamName":"{stream_name}","Records":['
        + f"\n#foreach($e in $input.path('$.{BATCH_FIELD}'))\n"
        + _record_vtl(f'$input.json("$.{BATCH_FIELD}[$foreach.index]")')
        + f'{{"PartitionKey":"{json_string_vtl("$e.user_id")}",'
        + '"Data":"$util.base64Encode($data)"}#if($foreach.hasNext),#end\n'
        + "#end\n]}"
    )


SINGLE_RESPONSE_TEMPLATE: Final = (
    '{"failed":0,"results":[{"sequence_number":"$input.path(\'$.SequenceNumber\')",'
    '"shard_id":"$input.path(\'$.ShardId\')"}]}'
)
"""PutRecord's answer as the collector gives it."""
BATCH_RESPONSE_TEMPLATE: Final = (
    '{"failed":$input.path(\'$.FailedRecordCount\'),"results":[\n'
    "#foreach($r in $input.path('$.Records'))\n"
    '#if($r.ErrorCode){"error_code":"$r.ErrorCode",'
    f'"error_message":"{json_string_vtl("$r.ErrorMessage")}"}}'
    '#else{"sequence_number":"$r.SequenceNumber","shard_id":"$r.ShardId"}#end'
    "#if($foreach.hasNext),#end\n#end\n]}"
)
"""PutRecords' answer: one result per event, in request order (``error_code``: resend it)."""
UNAVAILABLE_TEMPLATE: Final = json.dumps({"message": UNAVAILABLE_MESSAGE})
BAD_REQUEST_TEMPLATE: Final = (
    f'{{"message":"{json_string_vtl("$context.error.validationErrorString")}"}}'
)
"""API Gateway's answer to a body its model refuses (``validationErrorString`` is its own
wording; the local collector names the field and the contract's reason)."""


def answer_put(sequence_number: str, shard_id: str) -> dict[str, Any]:
    """The 200 answer to ``POST /events`` (``SINGLE_RESPONSE_TEMPLATE``'s shape)."""
    return {"failed": 0, "results": [{"sequence_number": sequence_number, "shard_id": shard_id}]}


def answer_put_records(response: Mapping[str, Any]) -> dict[str, Any]:
    """The 200 answer to ``POST /events/batch`` from a PutRecords response."""
    results: list[dict[str, str]] = []
    for r in response["Records"]:
        if r.get("ErrorCode"):
            results.append(
                {"error_code": r["ErrorCode"], "error_message": r.get("ErrorMessage", "")}
            )
        else:
            results.append({"sequence_number": r["SequenceNumber"], "shard_id": r["ShardId"]})
    return {"failed": int(response.get("FailedRecordCount", 0)), "results": results}
