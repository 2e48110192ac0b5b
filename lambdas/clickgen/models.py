"""Typed models of the events that invoke the generator (Powertools parser, pydantic)."""

from __future__ import annotations

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, ConfigDict, Field


class Overrides(BaseModel):
    """Per-invocation overrides of the generator's settings (all optional)."""

    model_config = ConfigDict(extra="forbid")

    rate: float | None = Field(default=None, gt=0)
    duration_s: int | None = Field(default=None, ge=1)
    seed: int | None = None
    users: int | None = Field(default=None, ge=1)
    bot_fraction: float | None = Field(default=None, ge=0, lt=1)
    malformed_fraction: float | None = Field(default=None, ge=0, lt=1)
    duplicate_fraction: float | None = Field(default=None, ge=0, lt=1)
    late_fraction: float | None = Field(default=None, ge=0, lt=1)
    late_max_minutes: float | None = Field(default=None, gt=0)
    pace: bool | None = None


class ScheduledEvent(EventBridgeModel):
    """An EventBridge scheduled event; ``detail`` may carry :class:`Overrides`.

    A schedule sends ``"detail": {}``; a manual or test invocation can send overrides there.
    The event's ``time`` is the start of the window of traffic this invocation produces.
    """

    detail: Overrides = Field(default_factory=Overrides)
