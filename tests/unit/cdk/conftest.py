"""One synthesis per mode per session: the AWS mode (serverless and replication-group cache)
and the local mode, each through the cdk-nag gate, as ``cdk synth`` runs them (``cdk.json``'s
context, feature flags included, then the test's)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Template

from augury import env as env_names
from cdk.app import cli_context, create_app

for _name, _value in env_names.JSII_QUIET.items():
    os.environ.setdefault(_name, _value)

Templates = dict[str, Template]


@dataclass(frozen=True)
class Synth:
    """One synthesized app: its construct tree, its cloud assembly folder and its templates."""

    app: App
    outdir: Path
    templates: Templates
    """Keyed by concern (``Ingest``, ``RawStorage``, ...)."""

    @property
    def stacks(self) -> list[Stack]:
        """The app's stacks."""
        return [c for c in self.app.node.children if isinstance(c, Stack)]


def _synth(tmp: Path, context: dict[str, str], env: dict[str, str] | None = None) -> Synth:
    saved = dict(os.environ)
    os.environ.update(env or {})
    try:
        app = create_app({**cli_context(), **context}, outdir=str(tmp))
        app.synth()  # raises when cdk-nag reports an unacknowledged finding
    finally:
        os.environ.clear()
        os.environ.update(saved)
    stacks = [c for c in app.node.children if isinstance(c, Stack)]
    templates = {s.stack_name.rsplit("-", 1)[1]: Template.from_stack(s) for s in stacks}
    return Synth(app, tmp, templates)


@pytest.fixture(scope="session")
def aws_synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """The AWS mode at the defaults (serverless cache)."""
    return _synth(tmp_path_factory.mktemp("cdk-aws"), {})


@pytest.fixture(scope="session")
def aws_replication_group_synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """Replication-group cache, provisioned shards, and a concrete account and region (as
    ``cdk synth`` with credentials has them; cdk-nag findings then name them literally); an
    edge-optimized collector for two origins, without access logs or web ACL."""
    return _synth(
        tmp_path_factory.mktemp("cdk-rg"),
        {
            "cache_mode": "replication-group",
            "shards": "4",
            "env_name": "prod",
            "window_seconds": "30",
            "redis_key_prefix": "prod:",
            "collector_endpoint_type": "EDGE",
            "collector_origins": "https://shop.example.com,https://www.example.com",
            "collector_waf_rate_limit": "0",
            "collector_access_logs": "false",
        },
        env={"CDK_DEFAULT_ACCOUNT": "123456789012", "CDK_DEFAULT_REGION": "eu-west-1"},
    )


@pytest.fixture(scope="session")
def local_synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """The local mode (``-c local=true``)."""
    return _synth(tmp_path_factory.mktemp("cdk-local"), {"local": "true"})


@pytest.fixture(scope="session")
def aws(aws_synth: Synth) -> Templates:
    """Templates of the AWS mode at the defaults (serverless cache), keyed by concern."""
    return aws_synth.templates


@pytest.fixture(scope="session")
def aws_replication_group(aws_replication_group_synth: Synth) -> Templates:
    """Templates of the replication-group synth, keyed by concern."""
    return aws_replication_group_synth.templates


@pytest.fixture(scope="session")
def local(local_synth: Synth) -> Templates:
    """Templates of the local mode, keyed by concern."""
    return local_synth.templates


SYNTHS = ("aws_synth", "aws_replication_group_synth", "local_synth")
"""Every synth fixture: tests over all of them are parametrized with these names."""
