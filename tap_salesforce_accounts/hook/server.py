"""The session hook as an HTTP service: one warm hook per process, answering over HTTP.

::

    tap-salesforce-accounts-hook --config c.json serve [--host 127.0.0.1] [--port 8765]

uvicorn serves the Starlette application of :mod:`tap_salesforce_accounts.hook.service`.
Once listening, the service prints ``READY http://HOST:PORT`` on stdout. SIGTERM (or
SIGINT) stops accepting connections, lets the lookups in flight answer, writes the
remaining syncs to the status store and exits 0.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import ipaddress
import logging
import signal
import socket
import sys
from typing import TYPE_CHECKING, Any, Final, TextIO

import uvicorn

from tap_salesforce_accounts.exceptions import ConfigError
from tap_salesforce_accounts.hook.service import HookService, request_logger
from tap_salesforce_accounts.hook.session import SessionHook, load_config

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Mapping

    from tap_salesforce_accounts.hook.session import Mode

logger = logging.getLogger(__name__)

DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_PORT: Final = 8765
KEEP_ALIVE_SECONDS: Final = 75
# The service's threads hand the interpreter over sooner than the default 5 ms: a lookup
# thread that Salesforce just answered should not wait for the event loop's turn to end.
SWITCH_INTERVAL_SECONDS: Final = 0.0005


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
