"""The one-shot local HTTP server that receives the browser's redirect on ``/callback``."""

from __future__ import annotations

import html
import queue
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final, cast
from urllib.parse import parse_qs, urlsplit

from tap_salesforce_accounts.exceptions import ConfigError
from tap_salesforce_accounts.settings import DEFAULT_TOKEN_TIMEOUT_SECONDS

PROGRAM: Final = "tap-salesforce-accounts-connect"
DEFAULT_PORT: Final = 8765
CALLBACK_PATH: Final = "/callback"
# How long the browser's callback request waits for the outcome of the code exchange, so its
# page can say whether the connection worked.
_VERDICT_WAIT_SECONDS: Final = DEFAULT_TOKEN_TIMEOUT_SECONDS * 6 + 5


def redirect_uri(port: int) -> str:
    """The callback URL to list in the Connected App.

    >>> redirect_uri(8765)
    'http://localhost:8765/callback'
    """
    return f"http://localhost:{port}{CALLBACK_PATH}"


class CallbackServer(ThreadingHTTPServer):
    """Receives one redirect on ``/callback`` and answers it once the outcome is known."""

    daemon_threads = True

    def __init__(self, port: int) -> None:
        """Listen on 127.0.0.1:``port`` (0 picks a free one)."""
        super().__init__(("127.0.0.1", port), _CallbackHandler)
        self.callbacks: queue.Queue[dict[str, str]] = queue.Queue()
        self.answered = threading.Event()
        self._lock = threading.Lock()
        self._taken = False
        self._verdict_ready = threading.Event()
        self._verdict: tuple[bool, str] = (False, "")

    @property
    def taken(self) -> bool:
        """Whether a callback arrived."""
        return self._taken

    def take(self, params: dict[str, str]) -> bool:
        """Hand the first callback to the waiting command; later ones are refused."""
        with self._lock:
            if self._taken:
                return False
            self._taken = True
        self.callbacks.put(params)
        return True

    def decide(self, *, ok: bool, message: str) -> None:
        """Tell the browser's pending request how the connection ended (the first word wins)."""
        with self._lock:
            if self._verdict_ready.is_set():
                return
            self._verdict = (ok, message)
            self._verdict_ready.set()

    def verdict(self) -> tuple[bool, str]:
        """Wait for the outcome, for a while."""
        if not self._verdict_ready.wait(_VERDICT_WAIT_SECONDS):
            return False, "No answer from the command: see the terminal."
        return self._verdict


class _CallbackHandler(BaseHTTPRequestHandler):
    # An idle connection (browsers pre-connect) must not hold a thread for long.
    timeout = 10
    server_version = PROGRAM

    def do_GET(self) -> None:
        server = cast("CallbackServer", self.server)
        parts = urlsplit(self.path)
        if parts.path != CALLBACK_PATH:
            self._page(HTTPStatus.NOT_FOUND, "Not found", "This server only takes the callback.")
            return
        query = parse_qs(parts.query, keep_blank_values=True)
        params = {key: values[0] for key, values in query.items()}
        if not server.take(params):
            self._page(
                HTTPStatus.CONFLICT,
                "Already answered",
                "This connection attempt is over: see the terminal.",
            )
            return
        ok, message = server.verdict()
        if ok:
            self._page(HTTPStatus.OK, "Connected", f"{message} You can close this tab.")
        else:
            self._page(HTTPStatus.BAD_REQUEST, "Not connected", message)
        server.answered.set()

    def _page(self, status: HTTPStatus, title: str, text: str) -> None:
        body = (
            "<!doctype html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title></head><body style='font-family:sans-serif'>"
            f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>"
        ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        # The request URL holds the authorization code: keep it out of caches and referrers.
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002, ANN401
        """Log nothing: the request line holds the authorization code."""


def listen(port: int) -> CallbackServer:
    """The callback server on ``port``.

    Raises:
        ConfigError: the port cannot be listened on.
    """
    try:
        return CallbackServer(port)
    except PermissionError:
        msg = (
            f"not allowed to listen on port {port}: pass --port with a port above 1023 and "
            "list http://localhost:PORT/callback in the Connected App's Callback URL."
        )
        raise ConfigError(msg) from None
    except OSError as exc:
        msg = (
            f"cannot listen on 127.0.0.1:{port} ({exc.strerror or type(exc).__name__}; is "
            "another program using it?): pass --port with a free port and list "
            "http://localhost:PORT/callback in the Connected App's Callback URL."
        )
        raise ConfigError(msg) from None
