"""The Managed Flink application as the service would load it, minus the service.

The property groups come from the synthesized AWS-mode template (the
``AWS::KinesisAnalyticsV2::Application`` resource's ``EnvironmentProperties``), are written in
the service's file format (``/etc/flink/application_properties.json``: a JSON list of
``{"PropertyGroupId", "PropertyMap"}``), and only what points at AWS is swapped for the local
platform (``LOCALIZED``). A CloudFormation token (``Ref``, ``Fn::GetAtt``, ``Fn::Join``,
``Fn::ImportValue``) this module does not know how to localize, a literal that looks like an
endpoint, or a property the job does not read, fails the localization: the local run then
cannot silently differ from what the stack gives the application.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from augury import env as env_names
from flink_app import settings

APPLICATION: Final = "AWS::KinesisAnalyticsV2::Application"
RUN_OPTIONS: Final = "kinesis.analytics.flink.run.options"
"""The service's own group: the zip's ``python`` entry point and ``jarfile`` (kept as they are)."""

PropertyGroups = list[dict[str, Any]]
"""The service's format: ``[{"PropertyGroupId": str, "PropertyMap": {str: value}}]``."""


class NotLocalizable(AssertionError):
    """The template gives the application a property this module cannot run locally."""


@dataclass(frozen=True)
class Local:
    """Where the local run reads and writes, in place of the stack's AWS resources."""

    stream: str
    region: str
    localstack_url: str
    redis_url: str
    dead_letter: Path
    checkpoints: Path


LOCALIZED: Final[dict[str, Callable[[Local], str | None]]] = {
    # {"Fn::ImportValue": the ingest stack's stream}: a fresh LocalStack stream.
    "source.stream.name": lambda local: local.stream,
    # {"Ref": "AWS::Region"} (a literal when synthesized with CDK_DEFAULT_REGION).
    "source.aws.region": lambda local: local.region,
    # LATEST: on AWS the application reads what arrives after it starts. The local stream is
    # fresh and holds only the test's records; TRIM_HORIZON reads exactly those whenever the
    # job's consumer starts, where LATEST would make the result depend on timing.
    "source.start.position": lambda local: "TRIM_HORIZON",
    # rediss://augury@{"Fn::GetAtt": Cache.Endpoint.Address}:6379/0: the local Redis.
    "sink.redis.url": lambda local: local.redis_url,
    # {"Ref": the cache's AUTH secret}: dropped. The job fetches it through the endpoint of
    # AUGURY_LOCALSTACK_URL, which the service's environment does not have (the properties'
    # source.aws.endpoint is the Kinesis source's), and the local Redis has no AUTH.
    "sink.redis.auth.secret.arn": lambda local: None,
    # s3://augury-<env>-raw-{"Ref": "AWS::AccountId"}/dead-letter/: a local directory.
    "sink.deadletter.path": lambda local: str(local.dead_letter),
}
"""Every property the stack sets that points at AWS, and its local value (None: dropped)."""

ADDED: Final[dict[str, Callable[[Local], str]]] = {
    # Absent on AWS (the default endpoint): LocalStack's Kinesis.
    "source.aws.endpoint": lambda local: local.localstack_url,
    # Absent on AWS (the service owns checkpoints): a local directory.
    "job.checkpoint.dir": lambda local: str(local.checkpoints),
}
"""Properties the service does without and a local run needs."""

_ENDPOINT_LIKE: Final = re.compile(r"://|arn:|amazonaws|\{\{resolve:")


@dataclass(frozen=True)
class Synthesized:
    """What the AWS-mode assembly gives the Managed Flink application."""

    property_groups: PropertyGroups
    code: Path
    """The assembly's copy of the application's code (the asset CDK uploads for the service)."""


def synthesize(outdir: Path, context: Mapping[str, str] | None = None) -> Synthesized:
    """The CDK app's AWS mode as ``cdk synth`` builds it: ``cdk.json``'s context, then
    ``context``; its Managed Flink application's property groups and code asset."""
    for name, value in env_names.JSII_QUIET.items():
        os.environ.setdefault(name, value)
    from cdk.app import cli_context, create_app  # jsii starts here: only synthesizing tests pay

    assembly = create_app({**cli_context(), **(context or {})}, outdir=str(outdir)).synth()
    found = [
        resource["Properties"]
        for stack in assembly.stacks
        for resource in stack.template.get("Resources", {}).values()
        if resource["Type"] == APPLICATION
    ]
    assert len(found) == 1, f"expected one {APPLICATION}, found {len(found)}"
    config = found[0]["ApplicationConfiguration"]
    location = config["ApplicationCodeConfiguration"]["CodeContent"]["S3ContentLocation"]
    return Synthesized(
        config["EnvironmentProperties"]["PropertyGroups"], outdir / f"asset.{location['FileKey']}"
    )


def localize(groups: PropertyGroups, local: Local) -> PropertyGroups:
    """``groups`` with ``LOCALIZED`` replaced (or dropped) and ``ADDED`` added.

    Raises ``NotLocalizable`` for a token or an endpoint-like literal outside ``LOCALIZED``,
    a property the job does not read, or a ``LOCALIZED`` property the stack no longer sets.
    """
    out: dict[str, dict[str, str]] = {}
    seen: set[str] = set()
    for group in groups:
        gid, props = group["PropertyGroupId"], group["PropertyMap"]
        for key, value in props.items():
            prop = f"{gid}.{key}"
            if prop in LOCALIZED:
                seen.add(prop)
                local_value = LOCALIZED[prop](local)
                if local_value is not None:
                    out.setdefault(gid, {})[key] = local_value
                continue
            if not isinstance(value, str):
                raise NotLocalizable(f"{prop} = {json.dumps(value)}: a CloudFormation token "
                                     "this test does not know how to localize")  # fmt: skip
            if gid != RUN_OPTIONS and prop not in settings.KNOWN:
                raise NotLocalizable(f"{prop}: not a property the job reads")
            if _ENDPOINT_LIKE.search(value):
                raise NotLocalizable(f"{prop} = {value!r} looks like an AWS endpoint or resource "
                                     "this test does not know how to localize")  # fmt: skip
            out.setdefault(gid, {})[key] = value
    missing = sorted(set(LOCALIZED) - seen)
    if missing:
        raise NotLocalizable(f"the stack no longer sets {', '.join(missing)}: update LOCALIZED")
    for prop, value_of in ADDED.items():
        gid, _, key = prop.partition(".")
        if key in out.get(gid, {}):
            raise NotLocalizable(f"{prop} is set by the stack now: move it to LOCALIZED")
        out.setdefault(gid, {})[key] = value_of(local)
    return [{"PropertyGroupId": g, "PropertyMap": m} for g, m in out.items()]


def write_properties(path: Path, groups: PropertyGroups) -> Path:
    """``groups`` as the service writes its ``application_properties.json``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(groups, indent=2) + "\n", encoding="utf-8")
    return path


_NOT_THE_SERVICES: Final = ("AUGURY_", env_names.CLICKGEN_PREFIX, "AWS_", "PYTHON", "PYFLINK")


def service_environment(environ: Mapping[str, str], properties: Path) -> dict[str, str]:
    """The environment of ``main.py`` as the service would start it, plus the override.

    The machine's own variables (PATH, HOME, JAVA_HOME, the locale) without a parent
    PyFlink's (``augury.env.for_child_process``), and without what the service would not have:
    Augury's settings (``AUGURY_*``: they would win over the property groups), the generator's,
    AWS endpoints and credentials, Python paths (the zip's packages must be the ones imported)
    and ``JVM_ARGS``. Then ``AUGURY_MANAGED_FLINK_PROPERTIES`` names the properties file, and
    ``AWS_EC2_METADATA_DISABLED`` keeps botocore from probing for an instance role (the job's
    CloudWatch counters are published only outside the service, and fail quietly here).
    """
    base = env_names.for_child_process(environ)
    kept = {
        k: v
        for k, v in base.items()
        if not k.startswith(_NOT_THE_SERVICES) and k != env_names.JVM_ARGS
    }
    return kept | {
        env_names.MANAGED_FLINK_PROPERTIES: str(properties),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
