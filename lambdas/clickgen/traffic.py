"""The traffic model: a deterministic function from (settings, time window) to Kinesis records.

Time is cut into one-minute slots. The sessions that start in a slot depend only on the seed
and the slot, so any invocation can recompute them: a session that spans several minutes (and
several invocations) continues exactly where the previous invocation left it, and an invocation
that runs twice (EventBridge delivers at least once) produces the same event ids, which the Flink
job deduplicates.

A session is a walk through a Markov chain of pages (home, search, category, product, cart,
checkout, purchase) with log-normal think times; now and then a user pauses for more than the
session gap and comes back, so gap-based sessions emerge from the data. Faults are drawn from the
same deterministic streams: bot bursts (more than 10 events in one second from one user),
malformed records (one contract violation each), exact duplicate resends, and late events whose
``client_timestamp`` lags their delivery by up to ``late_max_minutes``.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import json
import math
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final

from augury import events as contract
from augury.settings import MINUTE_MS
from lambdas.clickgen.config import GeneratorConfig

SLOT_MS: Final = MINUTE_MS
"""The traffic model's time slot (a minute, whatever the pipeline's window size)."""
MAX_SESSION_EVENTS: Final = 40
MAX_SESSION_MS: Final = 10 * MINUTE_MS
BOT_BURST_MIN, BOT_BURST_MAX = 11, 30
BOT_POPULATION: Final = 500

# Kinds of record, as counted in the summary.
EVENT, LATE, BOT, DUPLICATE, MALFORMED = "event", "late", "bot", "duplicate", "malformed"

COUNTRIES: Final = (
    ("US", 30), ("GB", 9), ("DE", 9), ("FR", 7), ("BE", 5), ("NL", 5), ("IN", 8), ("BR", 6),
    ("JP", 5), ("CA", 4), ("ES", 4), ("IT", 3), ("AU", 3), ("SE", 2),
)  # fmt: skip
DEVICE_KINDS: Final = ("phone", "tablet", "desktop", "laptop")
CATEGORIES: Final = ("shoes", "books", "garden", "toys", "bières-belges", "café", "électronique")
SEARCH_TERMS: Final = ("running+shoes", "trappist", "kindle", "tent", "lego", "moka+pot", "ψ")

# The funnel: page -> [(next page, weight)]; "exit" ends the session.
FUNNEL: Final[dict[str, tuple[tuple[str, float], ...]]] = {
    "home": (("search", 0.30), ("category", 0.40), ("product", 0.10), ("exit", 0.20)),
    "search": (("product", 0.55), ("search", 0.15), ("category", 0.10), ("exit", 0.20)),
    "category": (("product", 0.60), ("category", 0.10), ("home", 0.05), ("exit", 0.25)),
    "product": (
        ("cart", 0.25),
        ("product", 0.25),
        ("category", 0.15),
        ("search", 0.10),
        ("exit", 0.25),
    ),
    "cart": (("checkout", 0.55), ("product", 0.20), ("exit", 0.25)),
    "checkout": (("purchase", 0.70), ("cart", 0.10), ("exit", 0.20)),
    "purchase": (("home", 0.15), ("exit", 0.85)),
}
ENTRY_PAGES: Final = (("home", 0.55), ("search", 0.15), ("category", 0.15), ("product", 0.15))
LONG_PAUSE_P: Final = 0.04  # a pause longer than the 60 s session gap


def _derive(*parts: object) -> int:
    """A stable 64-bit seed from ``parts`` (unlike ``hash``, the same in every process)."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


@lru_cache(maxsize=64)
def _cumulative(options: tuple[tuple[str, float], ...]) -> tuple[tuple[str, ...], list[float]]:
    names = tuple(name for name, _ in options)
    total = sum(w for _, w in options)
    return names, list(itertools.accumulate(w / total for _, w in options))


_MASK64: Final = (1 << 64) - 1


def _unit_pair(seed: int) -> tuple[float, float]:
    """Two uniform floats in [0, 1) from ``seed`` (splitmix64: cheap, stable)."""
    out = []
    z = seed & _MASK64
    for _ in range(2):
        z = (z + 0x9E3779B97F4A7C15) & _MASK64
        x = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
        out.append((x ^ (x >> 31)) / 2**64)
    return out[0], out[1]


def _weighted(rng: random.Random, options: tuple[tuple[str, float], ...]) -> str:
    names, cumulative = _cumulative(options)
    return names[min(bisect.bisect_right(cumulative, rng.random()), len(names) - 1)]


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 50:  # normal approximation, plenty for traffic volumes
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _expected_session_length() -> float:
    """Expected events per session of the funnel (absorbing chain, solved by iteration)."""
    visits = {page: 0.0 for page in FUNNEL}
    for page, w in ENTRY_PAGES:
        visits[page] = w
    total, current = 0.0, dict(visits)
    for _ in range(500):
        total += sum(current.values())
        nxt = dict.fromkeys(FUNNEL, 0.0)
        for page, mass in current.items():
            for target, w in FUNNEL[page]:
                if target != "exit":
                    nxt[target] += mass * w
        current = nxt
    return min(total, MAX_SESSION_EVENTS)


MEAN_SESSION_EVENTS: Final = _expected_session_length()


_COUNTRY_WEIGHTS: Final = tuple((c, float(w)) for c, w in COUNTRIES)


@dataclass(frozen=True)
class User:
    """A simulated user: a home country and one or more devices."""

    user_id: str
    countrycode: str
    devices: tuple[str, ...]


@lru_cache(maxsize=65_536)
def user(seed: int, index: int) -> User:
    """The ``index``-th user of the population seeded by ``seed`` (deterministic)."""
    rng = random.Random(_derive(seed, "user", index))
    country = _weighted(rng, _COUNTRY_WEIGHTS)
    n_devices = 1 + (rng.random() < 0.35) + (rng.random() < 0.10)
    devices = tuple(
        f"{rng.choice(DEVICE_KINDS)}-{rng.randrange(1, 10**6)}" for _ in range(n_devices)
    )
    return User(f"user-{index:07d}", country, devices)


@dataclass(frozen=True, slots=True)
class Emission:
    """One Kinesis record: when it is sent, its partition key, its bytes and its kind."""

    emit_ms: int
    partition_key: str
    data: bytes
    kind: str
    reason: str | None = None  # the contract reason a malformed record must get


@dataclass
class Window:
    """The records of one window, sorted by send time, and what was injected."""

    start_ms: int
    end_ms: int
    records: list[Emission] = field(default_factory=list)

    def counts(self) -> Counter[str]:
        """Records per kind."""
        return Counter(r.kind for r in self.records)

    def malformed_reasons(self) -> Counter[str]:
        """Malformed records per expected contract reason."""
        return Counter(r.reason for r in self.records if r.kind == MALFORMED and r.reason)


def _page(rng: random.Random, page: str) -> tuple[str, str | None]:
    """The ``client_event`` and ``page_url`` of a visit to ``page``."""
    if page == "home":
        return ("app_open", None) if rng.random() < 0.08 else ("page_view", "/")
    if page == "search":
        return "search", f"/search?q={rng.choice(SEARCH_TERMS)}"
    if page == "category":
        return "page_view", f"/c/{rng.choice(CATEGORIES)}"
    if page == "product":
        category = rng.choice(CATEGORIES)
        return "product_view", f"/p/{category}/{rng.randrange(1, 400)}"
    if page == "cart":
        beer = rng.random() < 0.1
        return ("add_belgian_beer" if beer else "add_to_cart"), "/cart"
    if page == "checkout":
        return "begin_checkout", "/checkout"
    return "purchase", "/checkout/complete"


def _doc(event_id: str, u: str, device: str, event: str, ts_ms: int, country: str,
         page_url: str | None, session_id: str | None) -> dict[str, Any]:  # fmt: skip
    doc: dict[str, Any] = {
        "event_id": event_id,
        "user_id": u,
        "device_id": device,
        "client_event": event,
        "client_timestamp": contract.format_timestamp(ts_ms),
        "countrycode": country,
    }
    if page_url is not None:
        doc["page_url"] = page_url
    if session_id is not None:
        doc["session_id"] = session_id
    return doc


def _uuid(bits: int) -> str:
    return str(uuid.UUID(int=bits, version=4))


def _corrupt(rng: random.Random, doc: dict[str, Any]) -> tuple[bytes, str]:
    """A malformed version of ``doc`` and the one reason the contract must give it."""
    kind = rng.randrange(5)
    if kind == 0:
        full = contract.encode(doc)
        return full[: max(1, len(full) // 2)] + b"\n", contract.MALFORMED_JSON
    if kind == 1:
        return contract.encode(list(doc.values())), contract.NOT_OBJECT  # type: ignore[arg-type]
    if kind == 2:
        name = rng.choice([f.name for f in contract.REQUIRED])
        bad = dict(doc)
        if rng.random() < 0.5:
            del bad[name]
        else:
            bad[name] = None if rng.random() < 0.5 else ""
        return contract.encode(bad), contract.missing(name)
    if kind == 3:
        bad_values: dict[str, Any] = {
            "event_id": "e" * 65,
            "device_id": 12345,
            "client_event": "Add To Cart",
            "client_timestamp": "2026-13-45T25:61:00Z",
            "countrycode": "usa",
            "page_url": "checkout",
        }
        name = rng.choice(sorted(bad_values))
        return contract.encode({**doc, name: bad_values[name]}), contract.invalid(name)
    ts = contract.parse_timestamp_ms(doc["client_timestamp"]) or 0
    future = ts + rng.randrange(10, 60) * MINUTE_MS
    return (
        contract.encode({**doc, "client_timestamp": contract.format_timestamp(future)}),
        contract.FUTURE_TIMESTAMP,
    )


@dataclass(frozen=True, slots=True)
class _Faults:
    malformed: bool
    duplicate_at_ms: int | None
    fault_seed: int


class _Emitter:
    """Turns originals into records, applying the malformed/duplicate faults.

    Every random decision is drawn whether or not the record falls in the window, so that
    the streams (and so the events) are the same in every invocation; the costly part,
    building the JSON, is done only for records inside the window.
    """

    def __init__(self, cfg: GeneratorConfig, window: Window) -> None:
        self.cfg = cfg
        self.window = window

    def decide(self, rng: random.Random, emit_ms: int) -> _Faults | None:
        """Draw this record's faults; None when it is sent outside the window."""
        u_malformed, u_dup, dup_delay = rng.random(), rng.random(), rng.randrange(100, 5000)
        fault_seed = rng.getrandbits(64)
        if not self.window.start_ms <= emit_ms < self.window.end_ms:
            return None
        dup_at = None
        if u_dup < self.cfg.duplicate_fraction:
            dup_at = min(emit_ms + dup_delay, self.window.end_ms - 1)
        return _Faults(u_malformed < self.cfg.malformed_fraction, dup_at, fault_seed)

    def emit(self, faults: _Faults, emit_ms: int, doc: dict[str, Any], kind: str) -> None:
        """Append the record (malformed, or as is plus a possible resend)."""
        key = doc["user_id"]
        # Bots are exempt from corruption: a burst must stay a burst of valid events.
        if faults.malformed and kind != BOT:
            data, reason = _corrupt(random.Random(faults.fault_seed), doc)
            self.window.records.append(Emission(emit_ms, key, data, MALFORMED, reason))
            return
        data = contract.encode(doc)
        self.window.records.append(Emission(emit_ms, key, data, kind))
        if faults.duplicate_at_ms is not None:
            self.window.records.append(Emission(faults.duplicate_at_ms, key, data, DUPLICATE))


@dataclass(frozen=True, slots=True)
class _Session:
    """A session's skeleton: who, and the (time, page) of each step of its walk."""

    seed: int
    user: User
    device: str
    session_id: str
    steps: tuple[tuple[int, str], ...]


@lru_cache(maxsize=64)
def _slot_sessions(seed: int, users: int, human_rate: float, slot: int) -> tuple[_Session, ...]:
    """The sessions that start in ``slot``: walked once, cached for later invocations."""
    rng = random.Random(_derive(seed, "slot", slot))
    sessions = []
    for _ in range(_poisson(rng, human_rate * SLOT_MS / 1000 / MEAN_SESSION_EVENTS)):
        session_seed = rng.getrandbits(64)
        srng = random.Random(session_seed)
        u = user(seed, min(users - 1, int(users * srng.random() ** 2)))
        device = srng.choice(u.devices)
        session_id = _uuid(srng.getrandbits(128))
        ts = slot * SLOT_MS + int(srng.random() * SLOT_MS)
        start, page = ts, _weighted(srng, ENTRY_PAGES)
        steps = []
        for _n in range(MAX_SESSION_EVENTS):
            steps.append((ts, page))
            page = _weighted(srng, FUNNEL[page])
            if page == "exit":
                break
            if srng.random() < LONG_PAUSE_P:
                ts += srng.randrange(61_000, 300_000)
            else:
                ts += min(50_000, int(srng.lognormvariate(math.log(8_000), 0.8)))
            if ts - start > MAX_SESSION_MS:
                break
        sessions.append(_Session(session_seed, u, device, session_id, tuple(steps)))
    return tuple(sessions)


def _human_sessions(cfg: GeneratorConfig, slot: int, emitter: _Emitter) -> None:
    """Emit, from the sessions that start in ``slot``, the records sent in the window.

    The walk (pages and think times) is the session's; everything else about an event (its
    id, page details, lateness, faults) comes from a stream of its own, drawn only for events
    that could be sent in the window.
    """
    late_max_ms = int(cfg.late_max_minutes * MINUTE_MS)
    earliest_ts = emitter.window.start_ms - late_max_ms
    human_rate = cfg.rate * (1 - cfg.bot_fraction)
    for session in _slot_sessions(cfg.seed, cfg.users, human_rate, slot):
        u = session.user
        for n, (ts, page) in enumerate(session.steps):
            if ts >= emitter.window.end_ms:
                break
            if ts < earliest_ts:
                continue
            event_seed = session.seed * MAX_SESSION_EVENTS + n
            # Lateness first, from a cheap hash: most events near the window are not sent in it.
            u_late, u_lag = _unit_pair(event_seed)
            late = u_late < cfg.late_fraction
            emit_ms = ts + 1 + int(u_lag * late_max_ms) if late else ts
            if not emitter.window.start_ms <= emit_ms < emitter.window.end_ms:
                continue
            erng = random.Random(event_seed)
            event, url = _page(erng, page)
            id_bits = erng.getrandbits(128)
            faults = emitter.decide(erng, emit_ms)
            if faults is not None:
                doc = _doc(_uuid(id_bits), u.user_id, session.device, event, ts, u.countrycode,
                           url, session.session_id)  # fmt: skip
                emitter.emit(faults, emit_ms, doc, LATE if late else EVENT)


def _bot_bursts(cfg: GeneratorConfig, second: int, emitter: _Emitter) -> None:
    rng = random.Random(_derive(cfg.seed, "bot", second))
    mean_burst = (BOT_BURST_MIN + BOT_BURST_MAX) / 2
    for _ in range(_poisson(rng, cfg.rate * cfg.bot_fraction / mean_burst)):
        bot = f"bot-{rng.randrange(BOT_POPULATION):04d}"
        device = f"headless-{rng.randrange(1, 1000)}"
        country = rng.choice(COUNTRIES)[0]
        for _n in range(rng.randint(BOT_BURST_MIN, BOT_BURST_MAX)):
            ts = second * 1000 + rng.randrange(1000)
            url = f"/p/{rng.choice(CATEGORIES)}/{rng.randrange(1, 400)}"
            id_bits = rng.getrandbits(128)
            faults = emitter.decide(rng, ts)
            if faults is not None:
                doc = _doc(_uuid(id_bits), bot, device, "page_view", ts, country, url, None)
                emitter.emit(faults, ts, doc, BOT)


def generate(cfg: GeneratorConfig, start_ms: int, end_ms: int) -> Window:
    """Every record to send in ``[start_ms, end_ms)``, sorted by send time (deterministic)."""
    window = Window(start_ms, end_ms)
    emitter = _Emitter(cfg, window)
    lookback_ms = MAX_SESSION_MS + int(cfg.late_max_minutes * MINUTE_MS) + 5_000
    first_slot = (start_ms - lookback_ms) // SLOT_MS
    for slot in range(first_slot, (end_ms - 1) // SLOT_MS + 1):
        _human_sessions(cfg, slot, emitter)
    for second in range(start_ms // 1000, (end_ms - 1) // 1000 + 1):
        _bot_bursts(cfg, second, emitter)
    window.records.sort(key=lambda r: r.emit_ms)
    return window


def decode(record: Emission) -> Any:
    """The JSON value of a record (for tests and tools); raises on malformed JSON."""
    return json.loads(record.data)
