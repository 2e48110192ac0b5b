"""Where the job runs: the TableEnvironment, the job's jar on the class path, checkpoints.

Locally that is a Flink mini-cluster in this process's JVM; on Managed Service for Apache
Flink the service provides the cluster, the class path (the zip's ``jarfile``) and the
checkpoints.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pyflink.table import EnvironmentSettings, TableEnvironment

from augury import env as env_names
from augury.endpoints import Endpoints
from augury.resources import FLINK_JAR
from flink_app.contract import CLICK_TIME, PARSE_CLICK
from flink_app.settings import MANAGED_FLINK_PROPERTIES, JobSettings, redis_url_with_auth


def redis_url(settings: JobSettings) -> str:
    """The Redis URL the sinks connect with, the AUTH password fetched when configured."""
    found = Endpoints.from_env()
    endpoints = Endpoints(found.localstack_url, found.redis_url, settings.region)
    return redis_url_with_auth(settings, endpoints.secret_string)


# The local mini-cluster's JVM: the throughput collector (measured: the streaming job 24 % faster
# than with G1, the replay 12 %; pauses stay in milliseconds at these heap sizes). A streaming
# job's heap is capped at 768 MiB, about what Flink gives a default TaskManager's tasks: the
# collector otherwise grows the heap towards a quarter of the machine's memory and never gives
# it back (measured in the freshness benchmark: the whole local stack at 3.8 GiB uncapped, 2.5
# GiB with this cap, the job's JVM at 0.7 GB). A replay sorts in Flink's managed memory
# (off-heap) and keeps the default.
LOCAL_JVM_ARGS = "-XX:+UseParallelGC"
LOCAL_STREAM_HEAP = "-Xmx768m"


def local_jvm_args(batch: bool) -> str:
    """The local JVM's options for a replay (``batch``) or a streaming job."""
    return LOCAL_JVM_ARGS if batch else f"{LOCAL_JVM_ARGS} {LOCAL_STREAM_HEAP}"


@contextmanager
def local_jvm_options(batch: bool, jvm_args: str | None = None) -> Iterator[None]:
    """``JVM_ARGS`` for a JVM PyFlink starts in this block, unless the user set them.

    ``jvm_args`` replaces the mode's defaults (a benchmark's larger heap). Removed again
    afterwards, so that a job started later as a process of its own gets the options of its
    own mode, not those of this process's first job.
    """
    if env_names.JVM_ARGS in os.environ:
        yield
        return
    os.environ[env_names.JVM_ARGS] = jvm_args or local_jvm_args(batch)
    try:
        yield
    finally:
        os.environ.pop(env_names.JVM_ARGS, None)


def use_job_jar_in_flink_lib() -> None:
    """Put the job's jar on the local Flink's class path (as a jar in Flink's ``lib/``).

    ``pipeline.jars`` alone does not reach every class loader: a function in a computed
    column whose watermark is pushed into a source (the file source) is compiled against
    Flink's own class path. PyFlink reads ``FLINK_LIB_DIR`` when it starts its JVM, so this
    must run before the first TableEnvironment of the process (PyFlink itself points
    ``FLINK_LIB_DIR`` at its own ``lib/``); ``pipeline.jars`` is kept too (duplicate service
    entries are ignored).
    """
    lib = FLINK_JAR.parent / "flink-lib"
    if os.environ.get(env_names.FLINK_LIB_DIR) == str(lib) or not FLINK_JAR.exists():
        return
    import pyflink

    pyflink_lib = Path(pyflink.__file__).parent / "lib"  # (FLINK_HOME keeps PyFlink from resetting)
    lib.mkdir(exist_ok=True)
    for jar in [*pyflink_lib.glob("*.jar"), FLINK_JAR]:
        link = lib / jar.name
        if not link.exists():
            link.symlink_to(jar.resolve())
    home = Path(pyflink.__file__).parent
    os.environ.update({
        env_names.FLINK_HOME: str(home), env_names.FLINK_LIB_DIR: str(lib),
        env_names.FLINK_OPT_DIR: str(home / "opt"),
        env_names.FLINK_PLUGINS_DIR: str(home / "plugins"),
    })  # fmt: skip


def table_env(settings: JobSettings, batch: bool, jvm_args: str | None = None) -> TableEnvironment:
    """A TableEnvironment in UTC with the job's parallelism, its jar and its Java functions.

    ``jvm_args``: the local JVM's options when this starts it (default: the mode's).
    """
    use_job_jar_in_flink_lib()
    env_settings = (
        EnvironmentSettings.in_batch_mode() if batch else EnvironmentSettings.in_streaming_mode()
    )
    # the first TableEnvironment of the process starts its JVM
    with local_jvm_options(batch, jvm_args):
        t_env = TableEnvironment.create(env_settings)
    conf = t_env.get_config()
    conf.set("table.local-time-zone", "UTC")
    conf.set("parallelism.default", str(settings.parallelism))
    conf.set("python.executable", sys.executable)
    conf.set("python.client.executable", sys.executable)
    # The Redis sink keeps each key's newest value itself (every count only grows): no
    # materializer in front of it.
    conf.set("table.exec.sink.upsert-materialize", "NONE")
    conf.set("table.optimizer.reuse-optimize-block-with-digest-enabled", "true")
    conf.set("pipeline.object-reuse", "true")
    if batch:  # a replay sorts and hashes its whole input: more than the default 128 MiB
        conf.set("taskmanager.memory.managed.size", "1g")
    conf.set("pipeline.name", "augury-replay" if batch else "augury-stream")
    if MANAGED_FLINK_PROPERTIES.exists():
        pass  # Managed Flink adds the zip's `jarfile` (run options) to the class path itself
    elif not FLINK_JAR.exists():
        raise FileNotFoundError(f"{FLINK_JAR} is missing: build it with `make flink-jar`")
    else:
        conf.set("pipeline.jars", FLINK_JAR.resolve().as_uri())
    t_env.create_java_temporary_function("parse_click", PARSE_CLICK)
    t_env.create_java_temporary_function("click_time", CLICK_TIME)
    t_env.create_java_temporary_function("split_records", "io.augury.flink.SplitRecords")
    return t_env


def configure_stream(t_env: TableEnvironment, settings: JobSettings,
                     restore_from: str | None = None, managed: bool = False) -> None:  # fmt: skip
    """Streaming options: idleness, state TTL (the dedupe horizon) and, locally, checkpoints.

    On Managed Flink the service owns checkpointing and restores; locally checkpoints go to
    ``job.checkpoint.dir``, are retained on cancellation, and ``restore_from`` (a ``chk-N``
    directory) resumes from one.
    """
    conf = t_env.get_config()
    conf.set("table.exec.source.idle-timeout", f"{settings.idle_timeout_ms} ms")
    conf.set("table.exec.state.ttl", f"{settings.pipeline.dedupe_horizon_ms} ms")
    if managed:
        return
    conf.set("execution.checkpointing.interval", f"{settings.checkpoint_interval_ms} ms")
    conf.set("execution.checkpointing.mode", "EXACTLY_ONCE")
    conf.set("execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION")
    if settings.checkpoint_dir:
        conf.set("state.checkpoints.dir", Path(settings.checkpoint_dir).resolve().as_uri())
    if restore_from:
        conf.set("execution.state-recovery.path", Path(restore_from).resolve().as_uri())


def latest_checkpoint(checkpoint_dir: str | Path) -> Path | None:
    """The newest completed checkpoint (``<job-id>/chk-N`` with ``_metadata``) under a dir."""
    done = [p.parent for p in Path(checkpoint_dir).glob("*/chk-*/_metadata")]
    return max(done, key=lambda p: p.stat().st_mtime, default=None)
