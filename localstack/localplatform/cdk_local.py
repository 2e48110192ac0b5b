"""The CDK app's local mode on the running LocalStack: ``cdklocal`` bootstrap, deploy, destroy.

The CDK CLI is pinned in ``localstack/cdk-cli/package-lock.json`` (aws-cdk 2.x: the 3.x CLI
cannot read this aws-cdk-lib's assemblies) and installed with ``npm ci`` into
``<tools>/cdk-cli``. The local mode has no Lambda function at all: LocalStack community cannot
install a Lambda runtime without Docker, and a single function fails the whole deploy.
"""

from __future__ import annotations

import filecmp
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Final

from augury import env as env_names
from augury.endpoints import LOCALSTACK_ACCOUNT_ID, LOCALSTACK_CREDENTIALS
from localplatform.config import LOCALSTACK_DIR, REPO_ROOT, PlatformConfig
from localplatform.console import step as _step

CLI_SPEC: Final = LOCALSTACK_DIR / "cdk-cli"
LOCAL_ACCOUNT: Final = LOCALSTACK_ACCOUNT_ID
LOCAL_CONTEXT: Final = ("-c", "local=true")
STACK_PREFIX: Final = "Augury-local-"


def cli_dir(cfg: PlatformConfig) -> Path:
    """Where the pinned CLI is installed."""
    return cfg.tools_dir / "cdk-cli"


def install_cli(cfg: PlatformConfig) -> Path:
    """Install the pinned ``cdk``/``cdklocal`` (idempotent); returns the ``cdklocal`` path."""
    dest = cli_dir(cfg)
    cdklocal = dest / "node_modules" / ".bin" / "cdklocal"
    lock = dest / "package-lock.json"
    if cdklocal.exists() and lock.exists() and filecmp.cmp(lock, CLI_SPEC / "package-lock.json"):
        return cdklocal
    npm = shutil.which("npm")
    if npm is None:
        raise FileNotFoundError("npm is needed to install the CDK CLI: install Node.js 20+")
    _step(f"installing the pinned CDK CLI into {dest}")
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy2(CLI_SPEC / name, dest / name)
    subprocess.run([npm, "ci", "--silent", "--no-audit", "--no-fund"], cwd=dest, check=True)
    return cdklocal


def cdk_env(cfg: PlatformConfig) -> dict[str, str]:
    """Environment for ``cdklocal``: LocalStack endpoints, dummy credentials, fixed account."""
    url = cfg.localstack_url
    region = cfg.endpoints.region
    return {
        **os.environ,
        "AWS_ENDPOINT_URL": url,
        "AWS_ENDPOINT_URL_S3": url,
        "AWS_ACCESS_KEY_ID": LOCALSTACK_CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": LOCALSTACK_CREDENTIALS["aws_secret_access_key"],
        **dict.fromkeys(env_names.REGION, region),
        env_names.CDK_DEFAULT_ACCOUNT: LOCAL_ACCOUNT,
        env_names.CDK_DEFAULT_REGION: region,
        **env_names.JSII_QUIET,
        "CDK_DISABLE_VERSION_CHECK": "1",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
    }


def _cdklocal(cfg: PlatformConfig, *args: str) -> None:
    """Run ``cdklocal`` with its output in ``<state>/cdk.log``; its tail is shown on failure."""
    cdklocal = install_cli(cfg)
    cmd = [str(cdklocal), *args, *LOCAL_CONTEXT, "--output", str(cfg.state_dir / "cdk.out")]
    log = cfg.state_dir / "cdk.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as out:
        out.write(f"\n$ cdklocal {' '.join(args)}\n")
        out.flush()
        result = subprocess.run(
            cmd, cwd=REPO_ROOT, env=cdk_env(cfg), check=False, stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    if result.returncode != 0:
        tail = log.read_text()[-3000:]
        raise RuntimeError(f"`cdklocal {' '.join(args)}` failed ({result.returncode}):\n{tail}")


def deploy(cfg: PlatformConfig) -> dict[str, Any]:
    """Bootstrap (once) and deploy every local-mode stack; returns the stacks' outputs."""
    region = cfg.endpoints.region
    cfn = cfg.endpoints.client("cloudformation")
    stacks = {s["StackName"] for s in cfn.list_stacks()["StackSummaries"]
              if s["StackStatus"] != "DELETE_COMPLETE"}  # fmt: skip
    if "CDKToolkit" not in stacks:
        _step("bootstrapping the CDK toolkit stack")
        _cdklocal(cfg, "bootstrap", f"aws://{LOCAL_ACCOUNT}/{region}")
    outputs = cfg.state_dir / "cdk-outputs.json"
    _step(f"deploying the local-mode stacks (about a minute the first time; log: "
          f"{cfg.state_dir / 'cdk.log'})")  # fmt: skip
    _cdklocal(
        cfg, "deploy", "--all", "--require-approval", "never", "--progress", "events",
        "--outputs-file", str(outputs),
    )  # fmt: skip
    ensure_dashboards(cfg)
    return dict(json.loads(outputs.read_text())) if outputs.exists() else {}


def ensure_dashboards(cfg: PlatformConfig) -> list[str]:
    """Create (or update) the synthesized dashboards, which LocalStack's CloudFormation skips.

    LocalStack reports ``AWS::CloudWatch::Dashboard`` as created without creating it; the body
    is taken from the deployed template and its references resolved from the deployed stacks.
    """
    cfn = cfg.endpoints.client("cloudformation")
    cloudwatch = cfg.endpoints.client("cloudwatch")
    exports = {e["Name"]: e["Value"] for e in cfn.list_exports().get("Exports", [])}
    created = []
    for stack in _local_stacks(cfn):
        template = cfn.get_template(StackName=stack)["TemplateBody"]
        if isinstance(template, str):
            template = json.loads(template)
        physical = {
            r["LogicalResourceId"]: r.get("PhysicalResourceId", "")
            for r in cfn.describe_stack_resources(StackName=stack)["StackResources"]
        }
        for resource in template.get("Resources", {}).values():
            if resource.get("Type") != "AWS::CloudWatch::Dashboard":
                continue
            props = resource["Properties"]
            name = props["DashboardName"]
            context = {
                "AWS::Region": cfg.endpoints.region,
                "AWS::AccountId": LOCAL_ACCOUNT,
                "AWS::Partition": "aws",
                "AWS::URLSuffix": "amazonaws.com",
                **physical,
            }
            body = resolve(props["DashboardBody"], context, exports)
            cloudwatch.put_dashboard(DashboardName=name, DashboardBody=body)
            created.append(name)
    return created


def resolve(value: Any, refs: dict[str, str], exports: dict[str, str]) -> Any:
    """Resolve Ref, Fn::Join and Fn::ImportValue in a template value (enough for dashboards)."""
    if isinstance(value, dict) and len(value) == 1:
        ((fn, arg),) = value.items()
        if fn == "Ref":
            return refs[arg]
        if fn == "Fn::Join":
            sep, parts = arg
            return sep.join(str(resolve(p, refs, exports)) for p in parts)
        if fn == "Fn::ImportValue":
            return exports[resolve(arg, refs, exports)]
        raise ValueError(f"cannot resolve {fn} locally")
    if isinstance(value, list):
        return [resolve(v, refs, exports) for v in value]
    return value


def _local_stacks(cfn: Any) -> list[str]:
    return [
        s["StackName"]
        for s in cfn.list_stacks()["StackSummaries"]
        if s["StackName"].startswith(STACK_PREFIX) and s["StackStatus"] != "DELETE_COMPLETE"
    ]


def destroy(cfg: PlatformConfig) -> list[str]:
    """Empty the local stacks' buckets, then ``cdklocal destroy --all``; returns the stacks."""
    cfn = cfg.endpoints.client("cloudformation")
    s3 = cfg.endpoints.client("s3")
    stacks = _local_stacks(cfn)
    for stack in stacks:
        for r in cfn.describe_stack_resources(StackName=stack)["StackResources"]:
            if r["ResourceType"] == "AWS::S3::Bucket" and r.get("PhysicalResourceId"):
                _empty_bucket(s3, r["PhysicalResourceId"])
    if stacks:
        _step(f"destroying {', '.join(stacks)}")
        _cdklocal(cfg, "destroy", "--all", "--force")
    return stacks


def _empty_bucket(s3: Any, bucket: str) -> None:
    paginator = s3.get_paginator("list_objects_v2")
    try:
        for page in paginator.paginate(Bucket=bucket):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": keys})
    except s3.exceptions.NoSuchBucket:
        return
