"""Who may do what in the cache: its users and their ACL access strings, one definition.

The CDK app gives these strings to its ElastiCache users (``cdk/stacks/processing.py``); the
integration tests create the same users on the local Redis (``ACL SETUSER``) and prove that
the job's writer and the read API work as them, and that anything else is refused
(``tests/integration/test_cache_acl.py``). Both users see only the keys under the pipeline's
key prefix (``augury.settings``: ``key_prefix``), the default user is off.

Rules are read left to right: ``-@all`` first, then what is granted, then what is taken back.
"""

from __future__ import annotations

import re
from typing import Final

from augury.settings import KEY_PREFIX_PATTERN

JOB_USER: Final = "augury"
"""The Flink job's user: it writes the results."""
READER_USER: Final = "augury-reader"
"""The read API's user: it only reads them."""
DEFAULT_USER_ACCESS: Final = "off -@all"
"""The ``default`` user (the one a client without a user name gets): disabled, no command."""

SEES_OTHER_KEYS: Final = ("-scan", "-randomkey", "-dbsize")
"""Keyless reads that would show keys outside the prefix (their names, one of them, their
count): key patterns do not restrict them, so they are taken back."""
READER_RULES: Final = ("-@all", "+@read", "-@dangerous", *SEES_OTHER_KEYS)
"""Read commands only (``-@dangerous`` takes back KEYS and SORT_RO). The read API's client
(redis-py) authenticates with AUTH or HELLO, which every user may send, and is told not to
send CLIENT SETINFO (``lambdas/read_api/handler.py``)."""
JOB_RULES: Final = (
    "-@all", "+@read", "+@write", "-@scripting", "-@dangerous", *SEES_OTHER_KEYS,
    "-move", "-copy", "+eval", "+client|setname",
)  # fmt: skip
"""What the job's writer (``io.augury.flink.redis``, Jedis) sends: reads (HMGET, ZCOUNT),
writes (HSET, ZADD, EXPIRE, DEL, ...), EVAL of its own Lua (each script touches the one key
it declares) and CLIENT SETNAME. MOVE and COPY (which could carry a key into another
database) are taken back; ``-@scripting`` takes back SCRIPT and FUNCTION management
(FUNCTION LOAD/FLUSH are ``@write`` too), ``-@dangerous`` FLUSHALL, FLUSHDB, SWAPDB, KEYS,
SORT, RESTORE and MIGRATE."""

_PREFIX = re.compile(KEY_PREFIX_PATTERN)


def key_pattern(prefix: str) -> str:
    """The ACL key pattern of every key under ``prefix`` (``~augury:*``).

    The prefix setting's characters (letters, digits, ``: _ . - { }``) are none of a glob's
    special ones, so the pattern matches exactly the keys that start with it.
    """
    if not _PREFIX.fullmatch(prefix):
        raise ValueError(f"key prefix {prefix!r} has characters a key pattern would misread")
    return f"~{prefix}*"


def _access(prefix: str, rules: tuple[str, ...]) -> str:
    return " ".join(("on", key_pattern(prefix), *rules))


def reader_access(prefix: str) -> str:
    """The read API's access string: read commands on the keys under ``prefix`` only."""
    return _access(prefix, READER_RULES)


def job_access(prefix: str) -> str:
    """The job's access string: its writer's commands on the keys under ``prefix`` only."""
    return _access(prefix, JOB_RULES)
