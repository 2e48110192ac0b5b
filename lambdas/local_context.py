"""Lambda's context object, for running a handler locally exactly as Lambda would call it."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

from augury.endpoints import DEFAULT_REGION, LOCALSTACK_ACCOUNT_ID


@dataclass
class LocalContext:
    """The parts of Lambda's context object that the handlers and Powertools read."""

    function_name: str
    timeout_s: float = 900.0
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic)

    @property
    def log_group_name(self) -> str:
        """The log group Lambda would write to."""
        return f"/aws/lambda/{self.function_name}"

    @property
    def invoked_function_arn(self) -> str:
        """An ARN of the shape Lambda passes."""
        return (
            f"arn:aws:lambda:{DEFAULT_REGION}:{LOCALSTACK_ACCOUNT_ID}:function:{self.function_name}"
        )

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the (simulated) timeout."""
        return max(0, int((self.timeout_s - (time.monotonic() - self._started)) * 1000))
