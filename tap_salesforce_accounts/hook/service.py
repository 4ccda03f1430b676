"""The session hook as an HTTP service: one warm hook per process, answering over HTTP.

::

    tap-salesforce-accounts-hook --config c.json serve [--host 127.0.0.1] [--port 8765]

uvicorn serves a Starlette application. One :class:`SessionHook` holds the token, the
connection and the describe for every request. The event loop waits on the hook's tap
workers itself (:meth:`SessionHook.lookup_async`); store reads and describes run in a
thread pool, so the loop keeps answering (``/healthz`` included) while Salesforce is slow.
Once listening, the service prints ``READY http://HOST:PORT`` on stdout. SIGTERM (or
SIGINT) stops accepting connections, lets the lookups in flight answer, writes the
remaining syncs to the status store and exits 0.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hmac
import ipaddress
import logging
import signal
import socket
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, Final, TextIO
from urllib.parse import unquote_to_bytes

import uvicorn
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from tap_salesforce_accounts import exceptions
from tap_salesforce_accounts.exceptions import ConfigError, TapSalesforceError
from tap_salesforce_accounts.hook import page
from tap_salesforce_accounts.hook.metrics import CONTENT_TYPE, Metrics
from tap_salesforce_accounts.hook.result import TIMEOUT_CODE, dumps
from tap_salesforce_accounts.hook.session import DEFAULT_MAX_WORKERS, SessionHook, load_config
from tap_salesforce_accounts.hook.store import StoreError

if TYPE_CHECKING:
    import os
    from collections.abc import Awaitable, Callable, Mapping, MutableMapping

    from starlette.requests import Request

    from tap_salesforce_accounts.hook.result import LookupResult
    from tap_salesforce_accounts.hook.session import Mode

    Scope = MutableMapping[str, Any]
    Message = MutableMapping[str, Any]
    Receive = Callable[[], Awaitable[Message]]
    Send = Callable[[Message], Awaitable[None]]
    ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

logger = logging.getLogger(__name__)
request_logger = logging.getLogger("tap_salesforce_accounts.hook.requests")

DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_PORT: Final = 8765
ACCOUNTS_PATH: Final = "/v1/accounts/"
PAGE_HISTORY: Final = 50
MAX_HISTORY: Final = 1000
KEEP_ALIVE_SECONDS: Final = 75
JSON_TYPE: Final = "application/json"
NO_STORE: Final = {"Cache-Control": "no-store"}
# The service's threads hand the interpreter over sooner than the default 5 ms: a lookup
# thread that Salesforce just answered should not wait for the event loop's turn to end.
SWITCH_INTERVAL_SECONDS: Final = 0.0005

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


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (only this machine can connect).

    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def api_token_setting(config: Mapping[str, Any]) -> str | None:
    """The ``hook_api_token`` setting, checked.

    Raises:
        ConfigError: it is set but not a usable token.
    """
    token = config.get("hook_api_token")
    if token is None or token == "":
        return None
    if not isinstance(token, str) or len(token.strip()) < 16 or token != token.strip():  # noqa: PLR2004
        msg = (
            "hook_api_token must be a string of at least 16 characters without surrounding "
            "spaces (for example the output of: python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))')."
        )
        raise ConfigError(msg)
    return token


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


def listening_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port``, with Nagle's algorithm off.

    Raises:
        ConfigError: the address cannot be used.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        msg = f"cannot listen on {host}:{port} ({exc.strerror or exc}): check --host."
        raise ConfigError(msg) from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit it: small answers leave at once.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        msg = f"cannot listen on {host}:{port} ({exc.strerror or exc}): use another --port."
        raise ConfigError(msg) from None
    sock.setblocking(False)  # noqa: FBT003
    return sock


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, on_started: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_started = on_started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self._on_started()


def _ignore_signal(_signum: int, _frame: object) -> None:
    """Once drained, uvicorn raises the signal again: there is nothing left to do."""


def run(  # noqa: PLR0913
    config: Mapping[str, Any] | str | os.PathLike[str],
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    mode: Mode = "in_process",
    parse_env_config: bool = False,
    request_log: bool = True,
    out: TextIO | None = None,
) -> int:
    """Serve until SIGTERM or SIGINT.

    Returns:
        0 once stopped by a signal and drained.

    Raises:
        ConfigError: a setting is wrong, the address cannot be used, or a non-loopback
            address is asked for without ``hook_api_token``.
    """
    settings = load_config(config, parse_env_config=parse_env_config)
    token = api_token_setting(settings)
    if token is None and not is_loopback(host):
        msg = (
            f"refusing to serve on {host} without hook_api_token: set it (a long random "
            "string), or listen on 127.0.0.1."
        )
        raise ConfigError(msg)
    if not 0 <= port <= 65535:  # noqa: PLR2004
        msg = f"--port {port} is out of range: use 0 (any free port) to 65535."
        raise ConfigError(msg)
    sock = listening_socket(host, port)
    try:
        hook = SessionHook(config, mode=mode, parse_env_config=parse_env_config)
    except ConfigError:
        sock.close()
        raise
    if request_log:
        request_logger.setLevel(logging.INFO)
    service = HookService(hook, api_token=token)
    bound_port = sock.getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host
    stream = out or sys.stdout

    def started() -> None:
        stream.write(f"READY http://{shown_host}:{bound_port}\n")
        stream.flush()
        logger.info("Serving the session hook on http://%s:%s", shown_host, bound_port)

    server_config = uvicorn.Config(
        service.app,
        http="httptools",
        loop="auto",
        lifespan="off",
        access_log=False,
        log_config=None,
        server_header=False,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        timeout_graceful_shutdown=int(hook.settings.lookup_timeout) + 5,
    )
    # Warm before listening, within one lookup deadline: the first lookups are warm, and a
    # service whose org does not answer yet still starts (``/readyz`` tells).
    warming = service.start_warm_up()
    if warming is not None:
        with contextlib.suppress(concurrent.futures.TimeoutError):
            warming.result(timeout=hook.settings.lookup_timeout)
    previous = {sig: signal.signal(sig, _ignore_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    try:
        _Server(server_config, started).run(sockets=[sock])
    finally:
        sys.setswitchinterval(switch_interval)
        with contextlib.suppress(OSError):
            sock.close()
        service.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    logger.info("The session hook service stopped.")
    return 0
