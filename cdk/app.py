"""The CDK app: ``cdk synth`` / ``cdk deploy`` (AWS) and ``-c local=true`` (LocalStack).

Stacks, split by concern: ``<Prefix>-Ingest``, ``-Collector``, ``-RawStorage``,
``-Processing`` and ``-ReadApi`` (AWS only) and ``-Observability``. The stage configuration
comes from context (see ``cdk/config.py``).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from typing import Any

from aws_cdk import App, Environment, Stack, Tags

from augury import env as env_names
from augury.cache_access import READER_USER
from augury.settings import SettingsError
from cdk.config import StageConfig
from cdk.nag import add_security_gate
from cdk.packaging import ROOT
from cdk.stacks.collector import CollectorProps, CollectorStack
from cdk.stacks.ingest import IngestProps, IngestStack
from cdk.stacks.observability import ObservabilityProps, ObservabilityStack
from cdk.stacks.processing import ProcessingProps, ProcessingStack
from cdk.stacks.raw_storage import RawStorageProps, RawStorageStack
from cdk.stacks.read_api import ReadApiProps, ReadApiStack


def stack_prefix(cfg: StageConfig) -> str:
    """CloudFormation stack-name prefix, e.g. ``Augury-dev`` or ``Augury-local``."""
    return "Augury-local" if cfg.local else f"Augury-{cfg.env_name}"


def build(app: App, cfg: StageConfig) -> list[Stack]:
    """Add the pipeline's stacks for ``cfg`` to ``app``; returns them in deploy order."""
    env = Environment(
        account=os.environ.get(env_names.CDK_DEFAULT_ACCOUNT),
        region=os.environ.get(env_names.CDK_DEFAULT_REGION),
    )
    name = stack_prefix(cfg)
    ingest = IngestStack(app, f"{name}-Ingest", IngestProps(cfg), env=env)
    storage = RawStorageStack(
        app, f"{name}-RawStorage", RawStorageProps(cfg, ingest.stream), env=env
    )
    collector = CollectorStack(
        app, f"{name}-Collector", CollectorProps(cfg, ingest.stream), env=env
    )
    stacks: list[Stack] = [ingest, collector, storage]
    processing = None
    if not cfg.local:
        processing = ProcessingStack(
            app, f"{name}-Processing", ProcessingProps(cfg, ingest.stream), env=env
        )
        processing.add_dependency(storage)
        stacks.append(processing)
        read_api = ReadApiStack(
            app,
            f"{name}-ReadApi",
            ReadApiProps(
                cfg,
                processing.vpc,
                processing.reader_security_group,
                processing.cache_url(READER_USER),
                processing.reader_secret,
            ),
            env=env,
        )
        stacks.append(read_api)
    observability = ObservabilityStack(
        app,
        f"{name}-Observability",
        ObservabilityProps(
            cfg,
            ingest.stream,
            storage.delivery,
            generator=ingest.generator,
            application=processing.application if processing else None,
            cache=processing.cache_metrics if processing else None,
            collector=collector.api,
        ),
        env=env,
    )
    stacks.append(observability)
    for stack in stacks:
        Tags.of(stack).add("project", "augury")
        Tags.of(stack).add("stage", "local" if cfg.local else cfg.env_name)
    return stacks


def cli_context() -> dict[str, Any]:
    """``cdk.json``'s context (settings and feature flags), as the CDK CLI gives it to the app."""
    return dict(json.loads((ROOT / "cdk.json").read_text())["context"])


def create_app(context: Mapping[str, Any] | None = None, outdir: str | None = None) -> App:
    """The app with the stage's stacks and the cdk-nag gate (``context`` overrides cdk.json)."""
    app = App(context=dict(context or {}), outdir=outdir)
    StageConfig.reject_unknown(app.node.get_all_context())
    cfg = StageConfig.from_context(app.node.try_get_context)
    build(app, cfg)
    add_security_gate(app)
    return app


def main() -> int:
    """Entry point of ``cdk.json``'s ``app`` command."""
    try:
        app = create_app()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
