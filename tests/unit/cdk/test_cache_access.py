"""The cache users' access strings (``augury.cache_access``) as the CDK app and docs give them."""

from __future__ import annotations

import pytest

from augury.cache_access import job_access, key_pattern, reader_access
from augury.redis_keys import DEFAULT_PREFIX
from cdk.packaging import ROOT


def test_both_users_see_only_the_prefix_and_start_from_nothing() -> None:
    for access in (job_access("prod:"), reader_access("prod:")):
        rules = access.split()
        assert rules[:3] == ["on", "~prod:*", "-@all"]
        assert [r for r in rules if r.startswith(("~", "%", "&", "allkeys", "allchannels"))] == [
            "~prod:*"
        ]
        assert {"-scan", "-randomkey", "-dbsize", "-@dangerous"} <= set(rules)
    assert "+@write" not in reader_access("prod:") and "+eval" not in reader_access("prod:")


@pytest.mark.parametrize("prefix", ["a*", "a?", "a[b]", "a\\", "a b", ""])
def test_a_prefix_a_key_pattern_would_misread_is_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="key pattern"):
        key_pattern(prefix)


def test_the_cdk_doc_shows_the_strings_the_stack_gives() -> None:
    doc = (ROOT / "docs" / "cdk.md").read_text()
    for access in (job_access(DEFAULT_PREFIX), reader_access(DEFAULT_PREFIX)):
        in_table = access.replace("|", "\\|")  # a Markdown table cell escapes its pipes
        assert f"`{in_table}`" in doc
