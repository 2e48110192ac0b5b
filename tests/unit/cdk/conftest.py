"""One synthesis per mode per session: the AWS mode (serverless and replication-group cache)
and the local mode, each through the cdk-nag gate, as ``cdk synth`` runs them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from aws_cdk import Stack
from aws_cdk.assertions import Template

from cdk.app import create_app

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_DEPRECATED", "quiet")

Templates = dict[str, Template]


def _synth(tmp: Path, context: dict[str, str], env: dict[str, str] | None = None) -> Templates:
    saved = dict(os.environ)
    os.environ.update(env or {})
    try:
        app = create_app(context, outdir=str(tmp))
        app.synth()  # raises when cdk-nag reports an unacknowledged finding
    finally:
        os.environ.clear()
        os.environ.update(saved)
    stacks = [c for c in app.node.children if isinstance(c, Stack)]
    return {s.stack_name.rsplit("-", 1)[1]: Template.from_stack(s) for s in stacks}


@pytest.fixture(scope="session")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Templates:
    """Templates of the AWS mode at the defaults (serverless cache), keyed by concern."""
    return _synth(tmp_path_factory.mktemp("cdk-aws"), {})


@pytest.fixture(scope="session")
def aws_replication_group(tmp_path_factory: pytest.TempPathFactory) -> Templates:
    """Replication-group cache, provisioned shards, and a concrete account and region (as
    ``cdk synth`` with credentials has them; cdk-nag findings then name them literally)."""
    return _synth(
        tmp_path_factory.mktemp("cdk-rg"),
        {
            "cache_mode": "replication-group",
            "shards": "4",
            "env_name": "prod",
            "window_seconds": "30",
            "redis_key_prefix": "prod:",
        },
        env={"CDK_DEFAULT_ACCOUNT": "123456789012", "CDK_DEFAULT_REGION": "eu-west-1"},
    )


@pytest.fixture(scope="session")
def local(tmp_path_factory: pytest.TempPathFactory) -> Templates:
    """Templates of the local mode (``-c local=true``)."""
    return _synth(tmp_path_factory.mktemp("cdk-local"), {"local": "true"})
