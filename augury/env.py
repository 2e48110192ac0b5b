"""Every environment variable Augury reads, by name, in one place.

Modules import their names from here; nothing else spells a variable it reads. Where a family
of names follows a rule (the generator's ``CLICKGEN_<FIELD>``, the job's
``AUGURY_FLINK_<GROUP>_<KEY>``), the rule is a function here. The README's configuration table
and ``docs/`` list them for users. Variables Augury only sets for another program (LocalStack's
own configuration, the AWS endpoint and credentials the CDK CLI gets) are written where that
program is started.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

# Where the services are (augury.endpoints).
LOCALSTACK_URL: Final = "AUGURY_LOCALSTACK_URL"
REDIS_URL: Final = "AUGURY_REDIS_URL"
REDIS_AUTH_SECRET_ARN: Final = "AUGURY_REDIS_AUTH_SECRET_ARN"
REGION: Final = ("AWS_REGION", "AWS_DEFAULT_REGION")
"""The region, the first that is set."""
STREAM_NAME: Final = "AUGURY_STREAM_NAME"
COLLECTOR_URL: Final = "AUGURY_COLLECTOR_URL"
"""Where clients (the load tool, the demo shop, the tests) find the HTTP collector."""

# The pipeline's settings (augury.settings): one name each, for the job, the API, the demo.
WINDOW_SECONDS: Final = "AUGURY_WINDOW_SECONDS"
SESSION_GAP_SECONDS: Final = "AUGURY_SESSION_GAP_SECONDS"
WATERMARK_DELAY_SECONDS: Final = "AUGURY_WATERMARK_DELAY_SECONDS"
EARLY_FIRE_MS: Final = "AUGURY_EARLY_FIRE_MS"
BOT_THRESHOLD: Final = "AUGURY_BOT_THRESHOLD"
DEDUPE_HORIZON_MINUTES: Final = "AUGURY_DEDUPE_HORIZON_MINUTES"
REDIS_TTL_SECONDS: Final = "AUGURY_REDIS_TTL_SECONDS"
REDIS_KEY_PREFIX: Final = "AUGURY_REDIS_KEY_PREFIX"

# The Flink job's other properties (flink_app.settings).
JOB_PROPERTY_PREFIX: Final = "AUGURY_FLINK_"
MANAGED_FLINK_PROPERTIES: Final = "AUGURY_MANAGED_FLINK_PROPERTIES"
"""A file read in place of Managed Flink's ``/etc/flink/application_properties.json`` (the
application zip run outside the service). Not an ``AUGURY_FLINK_<GROUP>_<KEY>`` property."""


def job_property(key: str) -> str:
    """The variable of a job property ``group.key``: ``AUGURY_FLINK_GROUP_KEY``."""
    return JOB_PROPERTY_PREFIX + key.upper().replace(".", "_")


# The generator (lambdas.clickgen.config).
CLICKGEN_PREFIX: Final = "CLICKGEN_"


def clickgen(field: str) -> str:
    """The variable of a generator setting: ``CLICKGEN_<FIELD>``."""
    return CLICKGEN_PREFIX + field.upper()


POWERTOOLS_SERVICE_NAME: Final = "POWERTOOLS_SERVICE_NAME"
POWERTOOLS_METRICS_NAMESPACE: Final = "POWERTOOLS_METRICS_NAMESPACE"
POWERTOOLS_LOG_LEVEL: Final = "POWERTOOLS_LOG_LEVEL"

# The read API (lambdas.read_api.config).
READ_API_DEFAULT_MINUTES: Final = "READ_API_DEFAULT_MINUTES"

# The local platform (localplatform.config, localplatform.browser).
PLATFORM: Final = "AUGURY_PLATFORM"
TOOLS_DIR: Final = "AUGURY_TOOLS_DIR"
STATE_DIR: Final = "AUGURY_STATE_DIR"
LOCALSTACK_PYTHON: Final = "AUGURY_LOCALSTACK_PYTHON"
REDIS_SERVER: Final = "AUGURY_REDIS_SERVER"
HEALTH_TIMEOUT: Final = "AUGURY_HEALTH_TIMEOUT"
CHROMIUM: Final = "AUGURY_CHROMIUM"
UV: Final = "AUGURY_UV"
"""The uv binary packaging uses (default: the one ``make venv`` installs)."""
UV_RUNNING: Final = "UV"
"""Set by uv for the commands it runs: the uv binary (the platform installs LocalStack with it)."""

# Read from other tools' conventions.
CDK_DEFAULT_ACCOUNT: Final = "CDK_DEFAULT_ACCOUNT"
CDK_DEFAULT_REGION: Final = "CDK_DEFAULT_REGION"
JSII_QUIET: Final = {
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    "JSII_DEPRECATED": "quiet",
}
"""What keeps jsii (aws-cdk-lib's Node kernel) from printing Node 20's end-of-life banner and
the Flink alpha's deprecation warnings."""
JAVA_HOME: Final = "JAVA_HOME"
PYENV_ROOT: Final = "PYENV_ROOT"

# The benchmarks and the notebook.
BENCH_EVENTS: Final = "AUGURY_BENCH_EVENTS"
BENCH_FRESHNESS_SECONDS: Final = "AUGURY_BENCH_FRESHNESS_SECONDS"
BENCH_POOL_SECONDS: Final = "AUGURY_BENCH_POOL_SECONDS"
JVM_ARGS: Final = "JVM_ARGS"
"""Extra options of the JVM a local PyFlink starts (its mini-cluster's); Augury sets a default."""
NOTEBOOK_REAL_S3: Final = "AUGURY_NOTEBOOK_REAL_S3"
NOTEBOOK_BUCKET: Final = "AUGURY_NOTEBOOK_BUCKET"
NOTEBOOK_SINCE_MS: Final = "AUGURY_NOTEBOOK_SINCE_MS"
NOTEBOOK_EXPECT_BALANCED: Final = "AUGURY_NOTEBOOK_EXPECT_BALANCED"

# Set by PyFlink for its JVM, and by the job for the local class path (flink_app.job).
FLINK_HOME: Final = "FLINK_HOME"
FLINK_LIB_DIR: Final = "FLINK_LIB_DIR"
FLINK_OPT_DIR: Final = "FLINK_OPT_DIR"
FLINK_PLUGINS_DIR: Final = "FLINK_PLUGINS_DIR"
FLINK_LOG_DIR: Final = "FLINK_LOG_DIR"


def for_child_process(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` without a parent PyFlink's gateway and Flink home variables.

    A PyFlink process that has started its JVM leaves ``FLINK_*`` and ``PYFLINK_*`` variables
    behind; a child that inherits them would try to use the parent's JVM. Augury's own settings
    (``AUGURY_*``) are kept.
    """
    return {k: v for k, v in environ.items() if k.startswith("AUGURY_") or "FLINK" not in k}
