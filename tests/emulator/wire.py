"""HTTP on the wire: request and answer types, common error answers, the handler, the server.

``Handler`` turns HTTP/1.1 requests into ``Application.handle`` calls and writes the answers,
each in one ``send`` with a ``Content-Length`` (keep-alive, no Nagle delay).
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import socket
import sys
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Final, Protocol
from urllib.parse import parse_qsl, urlsplit

MAX_HEADER_BYTES: Final = 16_384
# A request the emulator never answers ends at the latest after this long.
HANG_LIMIT_SECONDS: Final = 300.0
NOT_FOUND: Final = "The requested resource does not exist"
JSON_TYPE: Final = "application/json;charset=UTF-8"
STATUS_TEXT: Final = {
    200: "OK",
    201: "Created",
    204: "No Content",
    300: "Multiple Choices",
    302: "Found",
    304: "Not Modified",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    412: "Precondition Failed",
    414: "URI Too Long",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    500: "Server Error",
    503: "Service Unavailable",
}


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass
class Response:
    """An answer, and what the request log says about it."""

    status: int
    body: bytes = b""
    content_type: str | None = JSON_TYPE
    headers: list[tuple[str, str]] = field(default_factory=list)
    kind: str = "other"
    log: dict[str, Any] = field(default_factory=dict)
    fault: str | None = None


def error(
    status: int, code: str, message: str, kind: str = "other", fields: list[str] | None = None
) -> Response:
    """A REST error answer ``[{"message", "errorCode"[, "fields"]}]``."""
    entry: dict[str, Any] = {"message": message, "errorCode": code}
    if fields is not None:
        entry["fields"] = fields
    return Response(status, json_bytes([entry]), kind=kind)


@dataclass
class Request:
    """A parsed request."""

    method: str
    target: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    body: bytes
    base_url: str
    clock: float = field(default_factory=time.perf_counter)


def method_not_allowed(method: str, allowed: str, kind: str) -> Response:
    return error(
        405,
        "METHOD_NOT_ALLOWED",
        f"HTTP Method '{method}' not allowed. Allowed are {allowed}",
        kind,
    )


def invalid_session() -> Response:
    response = error(401, "INVALID_SESSION_ID", "Session expired or invalid")
    response.headers.append(("WWW-Authenticate", 'Token realm="Salesforce"'))
    return response


def bearer(request: Request) -> str | None:
    value = request.headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() not in {"bearer", "oauth"} or not token.strip():
        return None
    return token.strip()


class Application(Protocol):
    """What the server serves: one call per request, and the request log."""

    def handle(self, request: Request) -> Response:
        """Answer one request."""
        ...

    def record(self, request: Request, response: Response, started: float) -> None:
        """Add one request log entry."""
        ...

    def now(self) -> float:
        """The server's clock (epoch seconds), as its ``Date`` header says."""
        ...


class Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive handler delegating to the server's ``Application``."""

    protocol_version = "HTTP/1.1"
    server_version = "SalesforceEmulator/1.0"
    sys_version = ""
    server: EmulatorHTTPServer
    disable_nagle_algorithm = True
    allowed: ClassVar[frozenset[str]] = frozenset({"GET", "POST", "PATCH", "DELETE", "PUT", "HEAD"})

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Silence the default stderr access log (the Org keeps its own)."""
        del format, args

    def _dispatch(self) -> None:
        started = time.time()
        clock = time.perf_counter()
        headers = {k.lower(): v for k, v in self.headers.items()}
        length = int(headers.get("content-length", "0") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        split = urlsplit(self.path)
        params = dict(parse_qsl(split.query, keep_blank_values=True))
        host_header = headers.get("host")
        if host_header:
            base_url = f"http://{host_header}"
        else:
            host, port = self.server.server_address[:2]
            base_url = f"http://{host!s}:{port}"
        request = Request(
            self.command, self.path, split.path, params, headers, body, base_url, clock
        )
        app = self.server.app
        try:
            header_bytes = sum(len(k) + len(v) + 4 for k, v in self.headers.items())
            if header_bytes > MAX_HEADER_BYTES:
                response = Response(
                    431, b"Request Header Fields Too Large", "text/plain; charset=UTF-8"
                )
            else:
                response = app.handle(request)
        except Exception as exc:  # noqa: BLE001 - answer 500 like Salesforce would
            response = error(
                500,
                "UNKNOWN_EXCEPTION",
                f"An unexpected error occurred: {type(exc).__name__}: {exc}",
            )
        # Logged before sending: a client that reads the log after its answer finds the entry.
        if not request.path.startswith("/__emulator/"):
            app.record(request, response, started)
        self._send(response)

    def _send(self, response: Response) -> None:
        body = b"" if self.command == "HEAD" else response.body
        lines = [f"HTTP/1.1 {response.status} {STATUS_TEXT.get(response.status, 'Unknown')}"]
        lines.append(f"Date: {email.utils.formatdate(self.server.app.now(), usegmt=True)}")
        if response.content_type and response.status not in {204, 304}:
            lines.append(f"Content-Type: {response.content_type}")
        lines.extend(f"{k}: {v}" for k, v in response.headers)
        if response.status != 204:
            lines.append(f"Content-Length: {len(response.body)}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        if response.fault == "hang":
            # Read, never answered: wait until the client hangs up (recv returns b"").
            self.close_connection = True
            self.connection.settimeout(HANG_LIMIT_SECONDS)
            with contextlib.suppress(OSError):
                while self.connection.recv(4096):
                    pass
            return
        if response.fault == "hangup":
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if response.fault == "drop":
            self.wfile.write(head + body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if len(body) > 65536:
            self.wfile.write(head)
            self.wfile.write(memoryview(body))
        else:
            self.wfile.write(head + body)

    def do_GET(self) -> None:
        """GET."""
        self._dispatch()

    def do_HEAD(self) -> None:
        """HEAD (GET without a body)."""
        self._dispatch()

    def do_POST(self) -> None:
        """POST."""
        self._dispatch()

    def do_PATCH(self) -> None:
        """PATCH."""
        self._dispatch()

    def do_DELETE(self) -> None:
        """DELETE."""
        self._dispatch()

    def do_PUT(self) -> None:
        """PUT."""
        self._dispatch()


class EmulatorHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server serving one ``Application`` (the ``Org``)."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: Application) -> None:
        """Bind and remember what to serve."""
        self.app = app
        super().__init__(address, Handler)

    def handle_error(self, request: object, client_address: object) -> None:
        """Stay quiet when a client hangs up mid-answer, as clients at a deadline do."""
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]
