"""The demo's end-of-run checks (pure): were the final results on time."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from augury.read_model import Window

FINAL_SLACK_MS = 10_000
"""How long after a window could close its final result may take to appear in Redis."""


@dataclass(frozen=True)
class FinalTiming:
    """One closed window: when it could close, when its final result appeared."""

    start_ms: int
    closable_ms: int
    """Window end + watermark delay, or the closing marker's send time if the marker closed it."""
    final_ms: int | None

    @property
    def lag_ms(self) -> int | None:
        """Final result time minus closable time (None when never final)."""
        return None if self.final_ms is None else self.final_ms - self.closable_ms

    @property
    def on_time(self) -> bool:
        """Final within ``FINAL_SLACK_MS`` of becoming closable."""
        return self.lag_ms is not None and self.lag_ms <= FINAL_SLACK_MS


def final_timings(windows: Iterable[Window], delay_ms: int, traffic_end_ms: int,
                  marker_sent_ms: int, marker_event_ms: int) -> list[FinalTiming]:  # fmt: skip
    """The closed windows' timings, oldest first.

    While traffic flows, event time follows the clock, so a window can close at its end plus
    the watermark delay. Windows still open when traffic stopped are closed by the closing
    marker (an event at ``marker_event_ms``, sent at ``marker_sent_ms``); windows the marker
    does not close are not closed and not checked.
    """
    out = []
    for w in sorted(windows, key=lambda w: w.start_ms):
        due = w.end_ms + delay_ms
        if due <= traffic_end_ms:
            out.append(FinalTiming(w.start_ms, due, w.final_ms))
        elif due <= marker_event_ms:
            out.append(FinalTiming(w.start_ms, max(due, marker_sent_ms), w.final_ms))
    return out
