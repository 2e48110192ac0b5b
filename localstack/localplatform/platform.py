"""The local platform as a whole: bring it up, take it down, report its health."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from localplatform import docker_compose, jobs, localstack_host, redis_server
from localplatform.config import LOCALSTACK_SERVICES, PlatformConfig
from localplatform.console import step

COMPONENTS = ("localstack", "redis")
JOBS = "jobs"
"""``down``'s name for the jobs run on top of the platform (the demo's Flink job, generator)."""


@dataclass(frozen=True)
class ComponentStatus:
    """One component's state as ``make status`` shows it."""

    name: str
    healthy: bool
    detail: str
    managed_by: str  # "host" (a PID of ours), "docker", or "external" (not started by us)

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly form."""
        return asdict(self)


def install(cfg: PlatformConfig) -> None:
    """Install everything the host platform runs, without starting it."""
    if docker_compose.use_docker(cfg):
        step("docker engine found: nothing to install on the host")
        return
    localstack_host.install(cfg)
    redis_server.install(cfg)


def up(cfg: PlatformConfig) -> list[str]:
    """Start what is not running and wait until all is healthy; the names started here."""
    if docker_compose.use_docker(cfg):
        docker_compose.up()
        return list(COMPONENTS)
    started: list[str] = []
    if redis_server.start(cfg):
        started.append("redis")
    if localstack_host.start(cfg):
        started.append("localstack")
    version = redis_server.wait_healthy(cfg)
    step(f"Redis {version} is answering on {cfg.redis_host}:{cfg.redis_port}")
    health = localstack_host.wait_healthy(cfg)
    step(f"LocalStack {health.version} is healthy on {cfg.localstack_url}")
    return started


def down(cfg: PlatformConfig, only: list[str] | None = None) -> list[str]:
    """Stop what this platform started (all of it, or ``only`` those); the names stopped.

    Jobs left running on top of it (``JOBS``: a demo's Flink job and generator) go first.
    """
    wanted = (JOBS, *COMPONENTS) if only is None else tuple(only)
    stopped: list[str] = []
    if JOBS in wanted:
        for name in jobs.stop_all(cfg.jobs_dir):
            stopped.append(f"job {name}")
            step(f"job {name} stopped")
    if docker_compose.use_docker(cfg):
        if set(wanted) & set(COMPONENTS):
            docker_compose.down()
        return stopped + [c for c in COMPONENTS if c in wanted]
    if "localstack" in wanted and localstack_host.stop(cfg):
        stopped.append("localstack")
        step("LocalStack stopped")
    if "redis" in wanted and redis_server.stop(cfg):
        stopped.append("redis")
        step("Redis stopped")
    return stopped


def status(cfg: PlatformConfig) -> list[ComponentStatus]:
    """Each component's health, whoever started it."""
    in_docker = cfg.mode != "host" and docker_compose.use_docker(cfg)

    def owner(pid: int | None, healthy: bool) -> str:
        if in_docker:
            return "docker"
        if pid is not None:
            return "host"
        return "external" if healthy else "-"

    health = localstack_host.health(cfg)
    ls_pid = localstack_host.running_pid(cfg)
    if health.ok:
        bad = health.failed_services(LOCALSTACK_SERVICES)
        detail = f"{cfg.localstack_url} version {health.version}" + (
            f"; services not available: {', '.join(bad)}" if bad else ""
        )
        ls = ComponentStatus("localstack", not bad, detail, owner(ls_pid, True))
    else:
        why = "starting" if ls_pid is not None else "not running"
        ls = ComponentStatus(
            "localstack", False, f"{cfg.localstack_url} {why}", owner(ls_pid, False)
        )
    version = redis_server.ping(cfg)
    r_pid = redis_server.running_pid(cfg)
    address = f"redis://{cfg.redis_host}:{cfg.redis_port}"
    rd = ComponentStatus(
        "redis",
        version is not None,
        f"{address} version {version}" if version else f"{address} not running",
        owner(r_pid, version is not None),
    )
    return [ls, rd]


def render(statuses: list[ComponentStatus]) -> str:
    """A small aligned table of component states."""
    rows = [("component", "state", "managed by", "detail")]
    rows += [(s.name, "healthy" if s.healthy else "DOWN", s.managed_by, s.detail) for s in statuses]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join(
        "  ".join(cell.ljust(widths[i]) if i < 3 else cell for i, cell in enumerate(r))
        for r in rows
    )
