"""What the collector decides before Kinesis: parse a body, check it against its model.

Pure logic (no I/O). A refused body gets the field it failed on and the contract's reason for
it (``missing_field:<name>``, ``invalid_field:<name>``, ``malformed_json``, ``not_object``,
``lone_surrogate``, ``duplicate_key``, ``invalid_utf8``, ``record_too_large``), so a developer
sees what the job's dead letter would have said.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from jsonschema import Draft4Validator
from jsonschema.exceptions import ValidationError

from augury.collector import BATCH_FIELD, batch_model, event_model, parse_event_json
from augury.events import (
    FIELDS,
    INVALID_UTF8,
    MALFORMED_JSON,
    MAX_RECORD_BYTES,
    NOT_OBJECT,
    RECORD_TOO_LARGE,
    REQUIRED,
    invalid,
    json_verdict,
    missing,
)

INVALID_BATCH: Final = "invalid_batch"
"""A batch body that is not ``{"events": [...]}`` with 1..``MAX_BATCH_EVENTS`` events."""
_EVENT: Final = Draft4Validator(event_model())
_BATCH: Final = Draft4Validator(batch_model())
_ORDER: Final = {rule.name: i for i, rule in enumerate(FIELDS)}
_REQUIRED: Final = frozenset(r.name for r in REQUIRED)


@dataclass(frozen=True)
class Refusal:
    """Why a body was refused: the contract's reason, the field (if one) and where it is."""

    reason: str
    field: str | None = None
    where: str = ""

    def answer(self) -> dict[str, Any]:
        """The 400 answer's body."""
        where = f"{self.where}: " if self.where else ""
        body: dict[str, Any] = {"message": f"{where}{self.reason}", "reason": self.reason}
        if self.field is not None:
            body["field"] = self.field
        if self.where:
            body["at"] = self.where
        return body


def parse(body: bytes) -> Any | Refusal:
    """The body's JSON value (numbers as written), or why the contract refuses it.

    The reasons are the contract's: ``invalid_utf8``, ``malformed_json``, ``lone_surrogate``,
    ``duplicate_key`` (the job would dead-letter the record for the same reason).
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return Refusal(INVALID_UTF8)
    reason = json_verdict(text)
    if reason is not None:
        return Refusal(reason)
    return parse_event_json(text)


def oversized(records: list[bytes], batch: bool) -> Refusal | None:
    """A refusal when a stamped record is over Kinesis's record limit (``record_too_large``)."""
    for i, data in enumerate(records):
        if len(data) > MAX_RECORD_BYTES:
            return Refusal(RECORD_TOO_LARGE, where=f"{BATCH_FIELD}[{i}]" if batch else "")
    return None


def _event_refusal(doc: Any, errors: list[ValidationError], where: str) -> Refusal:
    """The contract's reason for the first failing check, in the contract's order."""
    if not isinstance(doc, dict):
        return Refusal(NOT_OBJECT, where=where)
    for rule in REQUIRED:
        if doc.get(rule.name) in (None, ""):
            return Refusal(missing(rule.name), rule.name, where)
    fields = []
    for e in errors:
        name = str(e.path[0]) if e.path else None
        if name is not None:
            fields.append(name)
    fields.sort(key=lambda n: _ORDER.get(n, len(_ORDER)))
    name = fields[0] if fields else None
    return Refusal(invalid(name) if name else MALFORMED_JSON, name, where)


def check_event(doc: Any) -> Refusal | None:
    """None when ``doc`` passes the event model, else why not."""
    errors = list(_EVENT.iter_errors(doc))
    return _event_refusal(doc, errors, "") if errors else None


def check_batch(doc: Any) -> Refusal | None:
    """None when ``doc`` passes the batch model, else why not (the first bad event named)."""
    errors = list(_BATCH.iter_errors(doc))
    if not errors:
        return None
    if not isinstance(doc, dict):
        return Refusal(NOT_OBJECT)
    events = doc.get(BATCH_FIELD)
    if not isinstance(events, list) or _envelope(errors):
        return Refusal(INVALID_BATCH, BATCH_FIELD)
    first = min(int(e.path[1]) for e in errors if len(e.path) >= 2)
    event = events[first]
    where = f"{BATCH_FIELD}[{first}]"
    return _event_refusal(event, list(_EVENT.iter_errors(event)), where)


def _envelope(errors: list[ValidationError]) -> bool:
    """Whether some error is about the envelope rather than one event."""
    return any(len(e.path) < 2 for e in errors)


def events_of(doc: Mapping[str, Any]) -> list[Any]:
    """The events of a batch that passed ``check_batch``."""
    return list(doc[BATCH_FIELD])
