"""The session hook's HTTP application: the routes, the bearer token check and the request log.

One :class:`SessionHook` holds the token, the connection and the describe for every
request. The event loop waits on the hook's tap workers itself
(:meth:`SessionHook.lookup_async`); store reads and describes run in a thread pool, so the
loop keeps answering (``/healthz`` included) while Salesforce is slow. The process around
it (the socket, uvicorn, the signals) is :mod:`tap_salesforce_accounts.hook.server`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hmac
import logging
import threading
import time
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import unquote_to_bytes

from starlette.applications import Starlette
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from tap_salesforce_accounts import exceptions
from tap_salesforce_accounts.exceptions import TapSalesforceError
from tap_salesforce_accounts.hook import page
from tap_salesforce_accounts.hook.metrics import CONTENT_TYPE, Metrics
from tap_salesforce_accounts.hook.result import TIMEOUT_CODE, dumps
from tap_salesforce_accounts.hook.session import DEFAULT_MAX_WORKERS, SessionHook
from tap_salesforce_accounts.hook.store import StoreError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, MutableMapping

    from starlette.requests import Request

    from tap_salesforce_accounts.hook.result import LookupResult

    Scope = MutableMapping[str, Any]
    Message = MutableMapping[str, Any]
    Receive = Callable[[], Awaitable[Message]]
    Send = Callable[[Message], Awaitable[None]]
    ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

logger = logging.getLogger(__name__)
request_logger = logging.getLogger("tap_salesforce_accounts.hook.requests")

ACCOUNTS_PATH: Final = "/v1/accounts/"
PAGE_HISTORY: Final = 50
MAX_HISTORY: Final = 1000
JSON_TYPE: Final = "application/json"
NO_STORE: Final = {"Cache-Control": "no-store"}

_BAD_REQUEST: Final = frozenset(
    {exceptions.InvalidLookupValueError.code, exceptions.MalformedIdError.code}
)
_UNAVAILABLE: Final = frozenset(
    {
        exceptions.UnavailableError.code,
        exceptions.ApiLimitError.code,
        exceptions.ApiUsageThresholdError.code,
    }
)
_BAD_GATEWAY: Final = frozenset(
    {
        exceptions.AuthError.code,
        exceptions.SessionExpiredError.code,
        exceptions.SalesforceAPIError.code,
        exceptions.InvalidQueryError.code,
    }
)


def error_status(code: str) -> int:
    """The HTTP status of a failed lookup or describe, from its error code.

    >>> error_status("timeout"), error_status("unavailable"), error_status("malformed_id")
    (504, 503, 400)
    """
    if code == TIMEOUT_CODE:
        return 504
    if code in _BAD_REQUEST:
        return 400
    if code in _UNAVAILABLE:
        return 503
    if code in _BAD_GATEWAY:
        return 502
    if code == exceptions.MultipleAccountsError.code:
        return 409
    return 500


def lookup_status(result: LookupResult) -> int:
    """200 for ``ok`` and ``stale``, 404 for ``not_found``, the error's status otherwise."""
    if result.status in {"ok", "stale"}:
        return 200
    if result.status == "not_found":
        return 404
    return error_status(result.error.code if result.error is not None else "internal_error")


def redacted_path(path: str) -> str:
    """The request path as logged: no lookup value.

    >>> redacted_path("/v1/accounts/CUST-000123")
    '/v1/accounts/<value>'
    """
    return ACCOUNTS_PATH + "<value>" if path.startswith(ACCOUNTS_PATH) else path


def _error_document(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def _json(document: object, status: int = 200) -> Response:
    return Response(dumps(document), status_code=status, media_type=JSON_TYPE, headers=NO_STORE)


class _Front:
    """Bearer token check for ``/v1/`` and ``/metrics``, and the request log."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self._app = app
        self._expected = b"Bearer " + token.encode() if token is not None else None

    def _authorized(self, scope: Scope) -> bool:
        path: str = scope["path"]
        if self._expected is None or not (path.startswith("/v1/") or path == "/metrics"):
            return True
        given = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
        return hmac.compare_digest(given, self._expected)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        answered = [500]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                answered[0] = message["status"]
            await send(message)

        if self._authorized(scope):
            await self._app(scope, receive, sending)
        else:
            refusal = JSONResponse(
                _error_document("unauthorized", "send Authorization: Bearer <hook_api_token>."),
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
            await refusal(scope, receive, sending)
        request_logger.info(
            "%s %s %s %.1fms",
            scope["method"],
            redacted_path(scope["path"]),
            answered[0],
            (time.perf_counter() - started) * 1000,
        )


class HookService:
    """The HTTP application around one session hook.

    Args:
        hook: the hook that answers (closed by :meth:`close`).
        api_token: the bearer token ``/v1/`` and ``/metrics`` require, or ``None``.
        max_workers: requests that can wait on Salesforce or the store at once.
    """

    def __init__(
        self, hook: SessionHook, *, api_token: str | None, max_workers: int = DEFAULT_MAX_WORKERS
    ) -> None:
        """Build the routes; nothing is sent to Salesforce yet."""
        self.hook = hook
        self.metrics = Metrics()
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=max_workers, thread_name_prefix="tap-salesforce-accounts-service"
        )
        self._warm = False
        self._warm_error: str | None = None
        self._warming = threading.Lock()
        routes = [
            Route("/v1/accounts/{value:path}", self._account),
            Route("/v1/status", self._status),
            Route("/v1/history", self._history),
            Route("/v1/fields", self._fields),
            Route("/healthz", self._healthz),
            Route("/readyz", self._readyz),
            Route("/metrics", self._metrics),
            Route("/", self._page),
        ]
        self.app: ASGIApp = _Front(Starlette(routes=routes), api_token)

    async def _in_thread(self, function: Callable[..., Any], *args: Any) -> Any:  # noqa: ANN401
        return await asyncio.get_running_loop().run_in_executor(self._pool, function, *args)

    # -- warm-up ----------------------------------------------------------------------------

    def start_warm_up(self) -> concurrent.futures.Future[None] | None:
        """Get the token and the describe in the background (one attempt at a time).

        Returns:
            The attempt, or ``None`` when one is under way or the service is warm.
        """
        if not self._warm and self._warming.acquire(blocking=False):
            return self._pool.submit(self._warm_up)
        return None

    def _warm_up(self) -> None:
        try:
            self.hook.warm_up()
        except TapSalesforceError as exc:
            self._warm_error = f"{exc.code}: {exc.message}"
            logger.warning("The hook service cannot warm up yet: %s", self._warm_error)
        else:
            self._set_warm()
        finally:
            self._warming.release()

    def _set_warm(self) -> None:
        if not self._warm:
            self._warm = True
            self._warm_error = None
            self.metrics.ready.set(1)

    # -- endpoints --------------------------------------------------------------------------

    async def _lookup(self, value: str) -> LookupResult:
        self.metrics.in_flight.inc()
        try:
            result = await self.hook.lookup_async(value)
        finally:
            self.metrics.in_flight.dec()
        self.metrics.observe(result)
        if result.is_success:
            self._set_warm()
        return result

    async def _account(self, request: Request) -> Response:
        raw: bytes = request.scope.get("raw_path") or request.scope["path"].encode()
        try:
            value = unquote_to_bytes(raw[len(ACCOUNTS_PATH) :]).decode("utf-8")
        except UnicodeDecodeError:
            document = {
                "status": "error",
                "account": None,
                "error": {
                    "code": exceptions.InvalidLookupValueError.code,
                    "message": "the lookup value is not UTF-8 text once percent-decoded.",
                },
                "synced_at": None,
            }
            return _json(document, 400)
        result = await self._lookup(value)
        return Response(
            result.dumps(),
            status_code=lookup_status(result),
            media_type=JSON_TYPE,
            headers=NO_STORE,
        )

    async def _status(self, _request: Request) -> Response:
        try:
            return _json(await self._in_thread(self.hook.status))
        except StoreError as exc:
            return _json(_error_document(exc.code, exc.message), 503)

    async def _history(self, request: Request) -> Response:
        text = request.query_params.get("limit", "20")
        try:
            limit = int(text)
        except ValueError:
            limit = -1
        if not 0 <= limit <= MAX_HISTORY:
            message = f"limit must be a whole number from 0 to {MAX_HISTORY}."
            return _json(_error_document(exceptions.ConfigError.code, message), 400)
        try:
            return _json(await self._in_thread(self.hook.history, limit))
        except StoreError as exc:
            return _json(_error_document(exc.code, exc.message), 503)

    async def _fields(self, _request: Request) -> Response:
        try:
            fields = await self._in_thread(self.hook.fields)
        except TapSalesforceError as exc:
            return _json(_error_document(exc.code, exc.message), error_status(exc.code))
        return _json(fields)

    async def _healthz(self, _request: Request) -> Response:
        return _json({"status": "ok"})

    async def _readyz(self, _request: Request) -> Response:
        if self._warm:
            return _json({"ready": True})
        self.start_warm_up()
        return _json({"ready": False, "error": self._warm_error}, 503)

    async def _metrics(self, _request: Request) -> Response:
        return Response(self.metrics.exposition(), media_type=CONTENT_TYPE)

    def _page_text(self) -> str:
        status = self.hook.status()
        return page.render(status, self.hook.history(PAGE_HISTORY), ready=self._warm)

    async def _page(self, _request: Request) -> Response:
        headers = {"Content-Security-Policy": page.PAGE_POLICY, **NO_STORE}
        try:
            text = await self._in_thread(self._page_text)
        except StoreError as exc:
            return HTMLResponse(page.unavailable(exc.message), status_code=503, headers=headers)
        return HTMLResponse(text, headers=headers)

    def close(self) -> None:
        """Wait for the threads, then close the hook (the last syncs are written)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.hook.close()
