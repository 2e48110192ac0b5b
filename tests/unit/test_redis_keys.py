"""Key names and session ids built from user input are unambiguous."""

from __future__ import annotations

import itertools

from augury.redis_keys import Keys, session_id
from flink_app.redis_writer import newest_totals, trim_horizon

PARTS = ["a", "b", "a|b", "b|c", "|", "%", "%7C", "%25", "a%7Cb", "", "é|ü", "\u0000"]


def test_session_ids_are_injective() -> None:
    triples = list(itertools.product(PARTS, PARTS, [1_000, 10_000]))
    ids = {session_id(u, d, s) for u, d, s in triples}
    assert len(ids) == len(triples)
    assert session_id("a|b", "c", 1) != session_id("a", "b|c", 1)


def test_plain_ids_are_unchanged() -> None:
    assert session_id("user-1", "phone:2", 42) == "user-1|phone:2|42"
    assert session_id("a|b", "50%", 1) == "a%7Cb|50%25|1"


def test_user_keys_are_injective() -> None:
    keys = Keys()
    assert len({keys.user_sessions(u) for u in PARTS}) == len(PARTS)


def test_the_newest_totals_of_a_batch_are_the_largest() -> None:
    rows = [(5, 1, 2, 0, 0), (4, 1, 1, 0, 0), (7, 1, 2, 0, 1), (6, 1, 2, 0, 1)]
    assert newest_totals(rows) == {"accepted": 7, "invalid": 1, "duplicates": 2,
                                   "bot_events": 0, "late": 1}  # fmt: skip
    assert newest_totals([]) == {}


def test_the_trim_horizon_follows_the_newest_score_and_spares_the_batch() -> None:
    assert trim_horizon([2_000_000, 3_000_000, 2_950_000], ttl_s=60) == 2_000_000
    assert trim_horizon([2_990_000, 3_000_000], ttl_s=60) == 2_940_000
    assert trim_horizon([], ttl_s=60) is None
