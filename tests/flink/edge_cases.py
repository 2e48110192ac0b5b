"""Raw input full of edge cases for the job's correctness tests."""

from __future__ import annotations

import json
from typing import Any

from augury import events as contract

MINUTE = 60_000


def _event(
    n: int,
    user: str,
    device: str,
    ts_ms: int,
    event: str = "page_view",
    country: str = "BE",
    page: str | None = "/",
    zone: str = "Z",
) -> dict[str, Any]:
    stamp = contract.format_timestamp(ts_ms)
    if zone != "Z":  # the same instant written with another offset
        from datetime import UTC, datetime, timedelta, timezone

        sign = 1 if zone[0] == "+" else -1
        offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])) * sign
        local = datetime.fromtimestamp(ts_ms / 1000, tz=UTC).astimezone(timezone(offset))
        stamp = local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts_ms % 1000:03d}{zone}"
    doc: dict[str, Any] = {
        "event_id": f"edge-{n:05d}", "user_id": user, "device_id": device,
        "client_event": event, "client_timestamp": stamp, "countrycode": country,
    }  # fmt: skip
    if page is not None:
        doc["page_url"] = page
    return doc


def lines(now_ms: int) -> list[str]:
    """NDJSON lines (without newlines) exercising every rule of the job."""
    base = now_ms - now_ms % MINUTE - 120 * MINUTE
    docs: list[dict[str, Any]] = []
    n = iter(range(100_000))

    def add(*args: Any, **kw: Any) -> dict[str, Any]:
        doc = _event(next(n), *args, **kw)
        docs.append(doc)
        return doc

    # Gaps of exactly 60 000 ms (same session) and 60 001 ms (a new one).
    add("gap", "phone-1", base + 1_000)
    add("gap", "phone-1", base + 61_000, event="search", page="/search?q=x")
    add("gap", "phone-1", base + 122_001, event="purchase")
    # A session crossing window edges; the same user on a second device is another session.
    add("edge", "tablet-1", base + 50_000)
    add("edge", "tablet-1", base + 70_000, event="product_view", page="/p/1")
    add("edge", "tablet-1", base + 125_000, event="add_to_cart", page="/cart")
    add("edge", "laptop-2", base + 71_000, country="FR")
    # Bursts: exactly 10 in one second (human), 11 in one second (bot).
    for i in range(10):
        add("ten", "phone-10", base + 5_000 + i * 90, page=f"/p/{i}")
    for i in range(11):
        add("eleven", "phone-11", base + 7_000 + i * 80)
    # 11 events of one user across two seconds are not a bot.
    for i in range(11):
        add("split", "phone-12", base + 9_500 + i * 80)
    # Zone offsets for the same instants; unicode URLs; missing page_url; same-ms ties.
    add("zones", "desktop-1", base + 200_000, zone="+02:00", page="/c/bières-belges")
    add("zones", "desktop-1", base + 210_000, zone="-05:30", page="/p/日本/1")
    add("zones", "desktop-1", base + 210_000, event="add_belgian_beer", page=None)
    add("zones", "desktop-1", base + 215_000, event="app_open", page=None, zone="+00:00")
    add("tie", "phone-t", base + 300_000, event="zzz_last")
    add("tie", "phone-t", base + 300_000, event="aaa_first", country="AT")

    out = [contract.encode(d).decode().rstrip("\n") for d in docs]
    # Duplicates: an exact resend, and a same-id event at a later time (the earlier is kept).
    out.append(out[0])
    later = dict(docs[3], client_timestamp=contract.format_timestamp(base + 55_000))
    out.append(json.dumps(later, ensure_ascii=False))
    # Every invalid kind.
    good = docs[-1]
    out += [
        '{"event_id": "broken"',
        "[1, 2, 3]",
        '"just a string"',
        json.dumps({k: v for k, v in good.items() if k != "user_id"} | {"event_id": "m1"}),
        json.dumps(good | {"event_id": "m2", "device_id": None}),
        json.dumps(good | {"event_id": "m3", "countrycode": ""}),
        json.dumps(good | {"event_id": "i1", "countrycode": "be"}),
        json.dumps(good | {"event_id": "i2", "client_event": "Add To Cart"}),
        json.dumps(good | {"event_id": "i3", "client_timestamp": "2026-02-30T10:00:00Z"}),
        json.dumps(good | {"event_id": "i4", "client_timestamp": "2026-11-23T10:00:00"}),
        json.dumps(good | {"event_id": "i5", "page_url": "no-slash"}),
        json.dumps(good | {"event_id": "i6", "device_id": 42}),
        json.dumps(good | {"event_id": "i7", "user_id": "u" * 129}),
        json.dumps(good | {"event_id": "i8", "client_timestamp": "2026-11-23T10:00:00+24:00"}),
        json.dumps(good | {"event_id": "f1",
                           "client_timestamp": contract.format_timestamp(now_ms + 6 * MINUTE)}),
    ]  # fmt: skip
    return out


def stream_lines(now_ms: int) -> list[str]:
    """The edge cases in the order a stream would deliver them, plus events that come late.

    Valid events arrive in event-time order (duplicates right after their original), invalid
    ones after them; then three events arrive minutes behind the newest one: late.
    """
    timed: list[tuple[int, int, str]] = []
    invalid: list[str] = []
    for i, line in enumerate(lines(now_ms)):
        result = contract.validate(line, now_ms)
        if isinstance(result, contract.Invalid):
            invalid.append(line)
        else:
            timed.append((result.event_time_ms, i, line))
    ordered = [line for _, _, line in sorted(timed)] + invalid
    base = now_ms - now_ms % MINUTE - 120 * MINUTE
    late = [
        _event(90_000 + k, "late", "phone-late", base + 10_000 + k * 1_000, page="/late")
        for k in range(3)
    ]
    return ordered + [contract.encode(d).decode().rstrip("\n") for d in late]
