"""The read API: JSON over the Redis contract, as a Lambda behind a function URL (IAM auth).

Routes (OpenAPI at ``/openapi.json``; docs/api.md): ``/health``, ``/totals``,
``/windows?from=&to=&limit=``, ``/windows/{start_ms}``, ``/windows/{start_ms}/pages``,
``/pages/top?from=&to=&limit=&windows=``, ``/sessions?from=&to=&limit=``,
``/users/{user_id}/sessions``. Times are epoch milliseconds, UTC. Every answer is bounded by a
limit. Path parameters are percent-decoded after routing, so an id may hold ``/`` (as ``%2F``).
Locally ``python -m lambdas.read_api`` serves the same handler.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Annotated, Any
from urllib.parse import quote, unquote, unquote_to_bytes

import redis
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response
from aws_lambda_powertools.event_handler.exceptions import BadRequestError, NotFoundError
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from augury import read_model
from augury.endpoints import Endpoints, redis_url_with_secret
from augury.read_model import PageCount, Session, TopPages, Totals, Window
from augury.redis_keys import Keys
from augury.settings import MINUTE_MS
from lambdas.read_api.config import ReadApiConfig

TITLE = "Augury read API"
VERSION = "1.0.0"
DESCRIPTION = (
    "Live clickstream analytics from the Redis contract the Flink job writes: tumbling "
    "windows (one minute by default; early results, then final), top pages, sessions and "
    "pipeline totals. Times are epoch milliseconds (UTC)."
)

logger = Logger(service="read-api")
app = LambdaFunctionUrlResolver(enable_validation=True)

Limit = Annotated[int, Query(ge=1, le=read_model.MAX_ITEMS, description="most items returned")]
PageLimit = Annotated[int, Query(ge=1, le=read_model.MAX_PAGES, description="most pages returned")]
MergedWindows = Annotated[int, Query(alias="windows", ge=1, le=read_model.MAX_ITEMS,
                                     description="most windows merged, newest first")]  # fmt: skip
FromMs = Annotated[int | None, Query(alias="from", ge=0, description="range start (epoch ms)")]
ToMs = Annotated[int | None, Query(alias="to", ge=0, description="range end (epoch ms)")]
StartMs = Annotated[int, Path(ge=0, description="the window's start (epoch ms)")]
UserId = Annotated[str, Path(description="the user's id, percent-encoded (`/` as `%2F`)")]


@dataclass(frozen=True)
class Health:
    """Whether Redis answers, and how fresh the newest result is."""

    status: str
    redis: bool
    newest_window_ms: int | None = None
    newest_update_ms: int | None = None
    freshness_s: float | None = None


@dataclass(frozen=True)
class WindowList:
    """The windows starting in [from_ms, to_ms], newest first, and their size."""

    from_ms: int
    to_ms: int
    window_ms: int
    windows: list[Window]


@dataclass(frozen=True)
class PageList:
    """Top pages over the windows starting in [from_ms, to_ms].

    Each of the ``windows`` merged windows contributed its ``per_window`` biggest pages. A listed
    count is at most ``max_undercount`` below the page's true sum over those windows; a page not
    listed sums to at most the last listed count plus ``max_undercount`` (0: exact).
    """

    from_ms: int
    to_ms: int
    windows: int
    per_window: int
    max_undercount: int
    pages: list[PageCount]

    @classmethod
    def of(cls, from_ms: int, to_ms: int, ranking: TopPages) -> PageList:
        """The answer for a ranking read over [from_ms, to_ms]."""
        return cls(from_ms, to_ms, ranking.windows, ranking.per_window, ranking.max_undercount,
                   ranking.pages)  # fmt: skip


@dataclass(frozen=True)
class SessionList:
    """Sessions, newest first."""

    sessions: list[Session]


@lru_cache(maxsize=1)
def config() -> ReadApiConfig:
    """The settings, read once per container (a bad one fails the first request, named)."""
    return ReadApiConfig.from_env()


@lru_cache(maxsize=1)
def connection() -> Any:
    """One Redis client per container (the AUTH password fetched once when configured)."""
    cfg = config()
    url = redis_url_with_secret(
        cfg.redis_url, cfg.redis_auth_secret_arn, Endpoints.from_env().secret_string
    )
    # driver_info=None: no CLIENT SETINFO, which the read-only cache user may not send.
    return redis.Redis.from_url(
        url, decode_responses=True, socket_timeout=3, socket_connect_timeout=3, driver_info=None
    )


def keys() -> Keys:
    """The key layout under the configured prefix."""
    return Keys(config().pipeline.key_prefix)


def window_ms() -> int:
    """The windows' size (the pipeline setting ``windows.size.seconds``)."""
    return config().pipeline.window_ms


def _range(from_ms: int | None, to_ms: int | None) -> tuple[int, int]:
    now = int(time.time() * 1000)
    to = now if to_ms is None else to_ms
    start = to - config().default_minutes * MINUTE_MS if from_ms is None else from_ms
    if start > to:
        raise BadRequestError(f"from ({start}) is after to ({to})")
    return max(start, 0), to


def _json(status: int, body: Any) -> Response[Any]:
    return Response(status, content_type="application/json", body=json.dumps(asdict(body)))


@app.exception_handler(redis.RedisError)  # type: ignore[untyped-decorator]
def redis_unavailable(exc: redis.RedisError) -> Response[Any]:
    """503 with the reason when Redis does not answer (never a bare 500)."""
    logger.warning("redis unreachable", extra={"error": str(exc)})
    body = {"statusCode": 503, "message": f"Redis unavailable: {exc}"}
    return Response(503, content_type="application/json", body=json.dumps(body))


@app.get("/health", summary="Redis reachability and result freshness")
def health() -> Response[Any]:
    """200 with the newest result's age when Redis answers, else 503."""
    try:
        newest = read_model.newest_windows(connection(), keys(), 1, window_ms=window_ms())
    except redis.RedisError as exc:
        logger.warning("redis unreachable", extra={"error": str(exc)})
        return _json(503, Health(status="unavailable", redis=False))
    if not newest:
        return _json(200, Health(status="ok", redis=True))
    w = newest[0]
    fresh = round(time.time() - w.updated_ms / 1000, 3)
    return _json(200, Health("ok", True, newest_window_ms=w.start_ms,
                             newest_update_ms=w.updated_ms, freshness_s=fresh))  # fmt: skip


@app.get("/totals", summary="Pipeline totals since the job's state began")
def totals() -> Totals:
    """The totals; their sum is every record the job read."""
    return read_model.totals(connection(), keys())


@app.get("/windows", summary="Windows in a time range, newest first")
def windows(from_ms: FromMs = None, to_ms: ToMs = None, limit: Limit = 60) -> WindowList:
    """Windows whose start is in [from, to]; the default range is the last hour."""
    start, end = _range(from_ms, to_ms)
    found = read_model.windows(connection(), keys(), start, end, limit, window_ms=window_ms())
    return WindowList(start, end, window_ms(), found)


@app.get("/windows/<start_ms>", summary="One window")
def window(start_ms: StartMs) -> Window:
    """The window starting at ``start_ms``; 404 when Redis holds none."""
    found = read_model.window(connection(), keys(), start_ms, window_ms=window_ms())
    if found is None:
        raise NotFoundError(f"no window starts at {start_ms}")
    return found


@app.get("/windows/<start_ms>/pages", summary="One window's top pages")
def window_pages(start_ms: StartMs, limit: PageLimit = 5) -> PageList:
    """The window's most visited pages, biggest first (exact)."""
    ranking = read_model.page_ranking(connection(), keys(), [start_ms], limit)
    return PageList.of(start_ms, start_ms, ranking)


@app.get("/pages/top", summary="Top pages over a time range")
def top_pages(from_ms: FromMs = None, to_ms: ToMs = None, limit: PageLimit = 10,
              max_windows: MergedWindows = read_model.TOP_WINDOWS) -> PageList:  # fmt: skip
    """Page counts summed over the newest windows starting in [from, to], biggest first.

    Each window contributes its biggest pages only (``per_window``); ``max_undercount`` bounds
    how far any count can be from the exact sum.
    """
    start, end = _range(from_ms, to_ms)
    ranking = read_model.page_ranking_in_range(connection(), keys(), start, end, limit,
                                               max_windows)  # fmt: skip
    return PageList.of(start, end, ranking)


@app.get("/sessions", summary="Sessions that started in a time range, newest first")
def sessions(from_ms: FromMs = None, to_ms: ToMs = None, limit: Limit = 100) -> SessionList:
    """Closed sessions whose start is in [from, to]; the default range is the last hour."""
    start, end = _range(from_ms, to_ms)
    return SessionList(read_model.sessions(connection(), keys(), start, end, limit))


@app.get("/users/<user_id>/sessions", summary="One user's sessions, newest first")
def user_sessions(user_id: UserId, limit: Limit = 100) -> SessionList:
    """The user's closed sessions (an unknown user has none); the id is percent-decoded."""
    return SessionList(read_model.user_sessions(connection(), keys(), unquote(user_id), limit))


def openapi_json() -> str:
    """The API's OpenAPI document (also served at ``/openapi.json``)."""
    return app.get_openapi_json_schema(title=TITLE, version=VERSION, description=DESCRIPTION)


@app.get("/openapi.json", include_in_schema=False)
def openapi() -> Response[str]:
    """The OpenAPI document."""
    return Response(200, content_type="application/json", body=openapi_json())


def canonical_path(raw_path: str) -> str:
    """``raw_path`` with each segment percent-encoded one way (UTF-8, RFC 3986 unreserved kept).

    A function URL passes the path still encoded. Re-encoding each segment keeps an encoded
    ``/`` (``%2F``) inside its segment and leaves only letters, digits, ``-._~`` and ``%`` in it,
    which Powertools' ``<param>`` pattern matches; routes percent-decode their parameters.
    """
    return "/".join(quote(unquote_to_bytes(segment), safe="") for segment in raw_path.split("/"))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.LAMBDA_FUNCTION_URL)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Route a function URL request (its path made canonical first)."""
    raw_path = event.get("rawPath")
    if isinstance(raw_path, str):
        event = {**event, "rawPath": canonical_path(raw_path)}
    return app.resolve(event, context)
