"""The event contract (``augury.events``) as the job's JVM functions take it.

``ParseClick`` and ``ClickTime`` (Java, ``make flink-jar``; both ``ClickContract``) apply exactly
the Python contract's rules and limits to a record's raw bytes, in the same order, with the
same reasons: the rules reach them as JSON generated here.
"""

from __future__ import annotations

import json

from augury import events as contract
from flink_app.stages import Sql

PARSE_CLICK = "io.augury.flink.ParseClick"
CLICK_TIME = "io.augury.flink.ClickTime"


def rules_json() -> str:
    """The contract's rules as JSON for the JVM's ParseClick function (one definition)."""
    return json.dumps(
        {
            "fields": [
                {
                    "name": f.name,
                    "required": f.required,
                    "min_len": f.min_len,
                    "max_len": f.max_len,
                    "pattern": f.pattern,
                    "starts_with": f.starts_with,
                    "missing_reason": contract.missing(f.name),
                    "invalid_reason": contract.invalid(f.name),
                }
                for f in contract.FIELDS
            ],
            "timestamp_field": contract.TIMESTAMP_FIELD,
            "arrival_field": contract.ARRIVAL_FIELD,
            "max_future_ms": contract.MAX_FUTURE_MS,
            "min_event_time_ms": contract.MIN_EVENT_TIME_MS,
            "max_event_time_ms": contract.MAX_EVENT_TIME_MS,
            "max_record_bytes": contract.MAX_RECORD_BYTES,
            "max_depth": contract.MAX_DEPTH,
            "max_number_chars": contract.MAX_NUMBER_CHARS,
            "record_too_large": contract.RECORD_TOO_LARGE,
            "invalid_utf8": contract.INVALID_UTF8,
            "malformed_json": contract.MALFORMED_JSON,
            "lone_surrogate": contract.LONE_SURROGATE,
            "duplicate_key": contract.DUPLICATE_KEY,
            "not_object": contract.NOT_OBJECT,
            "future_timestamp": contract.FUTURE_TIMESTAMP,
        },
        separators=(",", ":"),
    )


PIPELINE_FIELDS = ("event_id", "user_id", "device_id", "client_event", "countrycode", "page_url")
"""The contract's fields the pipeline reads (event time comes from ParseClick itself): the rows
carry these and no others, so that sorts, joins and shuffles move no more than they need."""


def field_columns(parsed: str = "p") -> Sql:
    """The fields the pipeline reads, as columns of ParseClick's result ``parsed``."""
    index = {f.name: i + 1 for i, f in enumerate(contract.FIELDS)}
    return Sql(", ".join(f"{parsed}.`values`[{index[name]}] AS {name}"
                         for name in PIPELINE_FIELDS))  # fmt: skip
