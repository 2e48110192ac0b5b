"""Key names and session ids built from user input are unambiguous."""

from __future__ import annotations

import itertools

from augury.redis_keys import Keys, session_id

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
