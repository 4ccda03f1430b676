"""The HTTP side: routing, authentication, API usage, faults, the request log, the admin API.

One ``Org`` holds the state (records, tokens, cursors, bulk jobs, faults, counters, log);
``Handler`` turns HTTP/1.1 requests into ``Org.handle`` calls and writes the answers, each in
one ``send`` with a ``Content-Length`` (keep-alive, no Nagle delay).
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import re
import socket
import sys
import threading
import time
from collections import OrderedDict, deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, ClassVar, Final
from urllib.parse import parse_qsl, unquote, urlsplit

from tests.emulator import bulk, engine
from tests.emulator.data import (
    ALL_FIELD_NAMES,
    FIELDS_BY_LOWER,
    ORG_ID,
    USER_ID,
    USERNAME,
    Dataset,
)
from tests.emulator.describe import API_VERSIONS, DESCRIBE_LAST_MODIFIED, describe
from tests.emulator.faults import Faults, parse_fail_spec
from tests.emulator.ids import make_id, to18
from tests.emulator.oauth import OAuthError, TokenStore
from tests.emulator.render import Renderer, format_datetime
from tests.emulator.soql import SoqlError, parse

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

MAX_URI_BYTES: Final = 16_384
MAX_HEADER_BYTES: Final = 16_384
DEFAULT_BATCH: Final = 2_000
MIN_BATCH: Final = 200
MAX_CURSORS: Final = 32
MAX_LOG_ENTRIES: Final = 100_000
DEFAULT_API_LIMIT: Final = 1_000_000
_VERSION_RE: Final = re.compile(r"v(\d{2})\.(\d)")
_LOCATOR_RE: Final = re.compile(r"(01g[A-Za-z0-9]{15})-(\d+)")
_REDACTED_PARAMS: Final = frozenset(
    {
        "token",
        "code",
        "client_secret",
        "refresh_token",
        "access_token",
        "assertion",
        "code_verifier",
        "password",
    }
)
_NOT_FOUND: Final = "The requested resource does not exist"
_JSON: Final = "application/json;charset=UTF-8"
_STATUS_TEXT: Final = {
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


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass
class Response:
    """An answer, and what the request log says about it."""

    status: int
    body: bytes = b""
    content_type: str | None = _JSON
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
    return Response(status, _json_bytes([entry]), kind=kind)


def _oauth_error(exc: OAuthError, kind: str) -> Response:
    return Response(exc.status, _json_bytes(exc.body()), kind=kind)


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


@dataclass
class Cursor:
    """A query's remaining rows (REST ``nextRecordsUrl``).

    While the client reads one page, the next one is rendered in the background
    (``prefetch``), so paging costs the client little more than the transfer.
    """

    indexes: Sequence[int]
    renderer: Renderer
    batch: int
    version: str
    resource: str
    locator: str | None = None
    prefetch: tuple[int, Future[bytes]] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def page_body(self, offset: int) -> bytes:
        """The JSON page starting at row ``offset``."""
        total = len(self.indexes)
        end = min(total, offset + self.batch)
        render = self.renderer.render
        records = [render(i) for i in self.indexes[offset:end]]
        if end < total:
            next_url = f"/services/data/v{self.version}/{self.resource}/{self.locator}-{end}"
            head = f'{{"totalSize":{total},"done":false,"nextRecordsUrl":"{next_url}","records":['
        else:
            head = f'{{"totalSize":{total},"done":true,"records":['
        if not records:
            return head.encode() + b"]}"
        records[0] = head.encode() + records[0]
        records[-1] += b"]}"
        return b",".join(records)


class Org:
    """The emulated org: its data and every piece of server state."""

    def __init__(
        self,
        *,
        accounts: int = 500,
        seed: int = 1,
        latency_ms: float = 0,
        fail: str = "",
        log_path: str | Path | None = None,
        api_limit: int = DEFAULT_API_LIMIT,
        rotate_refresh_tokens: bool = False,
        jwt_public_key_pem: str | None = None,
    ) -> None:
        """Build the org (see ``Emulator`` for the arguments)."""
        self.accounts = accounts
        self.seed = seed
        self.initial: dict[str, Any] = {
            "latency_ms": latency_ms,
            "fail": fail,
            "api_limit": api_limit,
            "rotate_refresh_tokens": rotate_refresh_tokens,
            "jwt_public_key_pem": jwt_public_key_pem,
        }
        self.lock = threading.RLock()
        self.tokens = TokenStore(
            rotate_refresh_tokens=rotate_refresh_tokens, jwt_public_key_pem=jwt_public_key_pem
        )
        self.log_path = str(log_path) if log_path else None
        self.log: deque[dict[str, Any]] = deque(maxlen=MAX_LOG_ENTRIES)
        self._log_file_lock = threading.Lock()
        self._describe_cache: dict[tuple[str, str], bytes] = {}
        self._renderers: OrderedDict[tuple[tuple[str, ...], str, str], Renderer] = OrderedDict()
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="emulator-prefetch")
        self._reset_state(fail=fail, latency_ms=latency_ms, api_limit=api_limit)

    def close(self) -> None:
        """Stop the background page renderer."""
        self.executor.shutdown(wait=False, cancel_futures=True)

    def _reset_state(self, *, fail: str, latency_ms: float, api_limit: int) -> None:
        self.data = Dataset(self.accounts, self.seed)
        self.faults: Faults = parse_fail_spec(fail)
        self.latency_ms = latency_ms
        self.api_limit = api_limit
        self.api_usage = 0
        self.rest_calls = 0
        self.query_pages = 0
        self.cursors: OrderedDict[str, Cursor] = OrderedDict()
        self.cursor_counter = 0
        self.bulk = bulk.BulkJobs()
        self._renderers.clear()

    # ------------------------------------------------------------------ configuration
    def configure(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Apply admin config changes; return the resulting config.

        Raises:
            ValueError: an unknown key or a bad value.
        """
        known = {
            "fail",
            "latency_ms",
            "api_limit",
            "api_usage",
            "rotate_refresh_tokens",
            "jwt_public_key_pem",
            "expire_all_tokens",
            "bulk_polls_to_complete",
        }
        unknown = set(changes) - known
        if unknown:
            msg = f"unknown config keys: {sorted(unknown)}"
            raise ValueError(msg)
        with self.lock:
            if "fail" in changes:
                self.faults = parse_fail_spec(str(changes["fail"] or ""))
                self.rest_calls = 0
                self.query_pages = 0
            if "latency_ms" in changes:
                self.latency_ms = float(changes["latency_ms"])
            if "api_limit" in changes:
                self.api_limit = int(changes["api_limit"])
            if "api_usage" in changes:
                self.api_usage = int(changes["api_usage"])
            if "rotate_refresh_tokens" in changes:
                self.tokens.rotate_refresh_tokens = bool(changes["rotate_refresh_tokens"])
            if "jwt_public_key_pem" in changes:
                self.tokens.jwt_public_key_pem = changes["jwt_public_key_pem"] or None
            if changes.get("expire_all_tokens"):
                self.tokens.expire_all()
            if "bulk_polls_to_complete" in changes:
                self.bulk.polls_to_complete = max(1, int(changes["bulk_polls_to_complete"]))
            return self.config()

    def config(self) -> dict[str, Any]:
        """The current admin-visible configuration and counters."""
        return {
            "fail": self.faults.spec,
            "latency_ms": self.latency_ms,
            "api_limit": self.api_limit,
            "api_usage": self.api_usage,
            "rotate_refresh_tokens": self.tokens.rotate_refresh_tokens,
            "jwt_public_key_configured": bool(self.tokens.jwt_public_key_pem),
            "bulk_polls_to_complete": self.bulk.polls_to_complete,
            "accounts": self.data.count,
            "seed": self.seed,
            "rest_calls": self.rest_calls,
            "query_pages": self.query_pages,
        }

    def reset(self) -> None:
        """Back to the state at start: data, faults, usage, cursors, jobs, log (tokens stay)."""
        with self.lock:
            initial = self.initial
            self._reset_state(
                fail=str(initial["fail"]),
                latency_ms=float(initial["latency_ms"] or 0),
                api_limit=int(initial["api_limit"] or DEFAULT_API_LIMIT),
            )
            self.tokens.rotate_refresh_tokens = bool(initial["rotate_refresh_tokens"])
            self.tokens.jwt_public_key_pem = initial["jwt_public_key_pem"]
            self.log.clear()

    # ------------------------------------------------------------------ request log
    def record(self, request: Request, response: Response, started: float) -> None:
        """Add one request log entry (memory, and the JSON-lines file when configured)."""
        params = {
            k: ("<redacted>" if k in _REDACTED_PARAMS else v) for k, v in request.params.items()
        }
        entry: dict[str, Any] = {
            "ts": started,
            "method": request.method,
            "path": request.path,
            "params": params,
            "status": response.status,
            "kind": response.kind,
            "grant_type": None,
            "soql": None,
            "literals": [],
            "if_modified_since": request.headers.get("if-modified-since"),
            "bytes": len(response.body),
            "duration_ms": round((time.perf_counter() - request.clock) * 1000, 3),
        }
        entry.update(response.log)
        self.log.append(entry)
        if self.log_path:
            line = json.dumps(entry, ensure_ascii=False) + "\n"
            with self._log_file_lock, open(self.log_path, "a", encoding="utf-8") as handle:  # noqa: PTH123
                handle.write(line)

    # ------------------------------------------------------------------ dispatch
    def handle(self, request: Request) -> Response:  # noqa: PLR0911
        """Answer one request."""
        path = request.path
        if path.startswith("/__emulator/"):
            return self.admin(request)
        if len(request.target.encode()) > MAX_URI_BYTES:
            return Response(414, b"URI Too Long", "text/plain; charset=UTF-8", kind="other")
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        if path.startswith("/services/oauth2/"):
            return self.oauth(request)
        if path in {"/services/data", "/services/data/"}:
            if request.method not in {"GET", "HEAD"}:
                return _method_not_allowed(request.method, "GET,HEAD", "versions")
            versions = [
                {"label": _release_label(v), "url": f"/services/data/v{v}", "version": v}
                for v in API_VERSIONS
            ]
            return Response(200, _json_bytes(versions), kind="versions")
        if path.startswith("/services/data/"):
            return self.rest(request)
        if path.startswith("/id/"):
            return self.identity(request)
        return error(404, "NOT_FOUND", _NOT_FOUND)

    # ------------------------------------------------------------------ OAuth
    def oauth(self, request: Request) -> Response:  # noqa: C901, PLR0911
        """``/services/oauth2/authorize|token|revoke``."""
        name = request.path.removeprefix("/services/oauth2/").rstrip("/")
        form = dict(request.params)
        if request.method == "POST":
            form.update(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
        if name == "authorize":
            if request.method not in {"GET", "POST"}:
                return _method_not_allowed(request.method, "GET,POST", "authorize")
            try:
                location = self.tokens.authorize(form)
            except OAuthError as exc:
                return _oauth_error(exc, "authorize")
            return Response(302, b"", None, [("Location", location)], kind="authorize")
        if name == "token":
            log = {"grant_type": form.get("grant_type")}
            if request.method != "POST":
                return _method_not_allowed(request.method, "POST", "token")
            try:
                answer = self.tokens.token(form, request.base_url)
            except OAuthError as exc:
                response = _oauth_error(exc, "token")
                response.log = log
                return response
            return Response(200, _json_bytes(answer), kind="token", log=log)
        if name == "revoke":
            if request.method not in {"GET", "POST"}:
                return _method_not_allowed(request.method, "GET,POST", "revoke")
            try:
                self.tokens.revoke(form.get("token", ""))
            except OAuthError as exc:
                return _oauth_error(exc, "revoke")
            return Response(200, b"", None, kind="revoke")
        return error(404, "NOT_FOUND", _NOT_FOUND)

    def identity(self, request: Request) -> Response:
        """``GET /id/<org>/<user>``: the identity URL of the token answer."""
        token = _bearer(request)
        if token is None or not self.tokens.use(token, None):
            return _invalid_session()
        if request.path.rstrip("/") != f"/id/{ORG_ID}/{USER_ID}":
            return error(404, "NOT_FOUND", _NOT_FOUND)
        return Response(
            200,
            _json_bytes(
                {
                    "id": f"{request.base_url}/id/{ORG_ID}/{USER_ID}",
                    "user_id": USER_ID,
                    "organization_id": ORG_ID,
                    "username": USERNAME,
                    "display_name": "Integration User",
                    "active": True,
                    "user_type": "STANDARD",
                    "urls": {"rest": f"{request.base_url}/services/data/v{{version}}/"},
                }
            ),
        )

    # ------------------------------------------------------------------ REST
    def limit_header(self) -> tuple[str, str]:
        """``Sforce-Limit-Info: api-usage=U/MAX``."""
        return ("Sforce-Limit-Info", f"api-usage={self.api_usage}/{self.api_limit}")

    def rest(self, request: Request) -> Response:
        """Every ``/services/data/vNN.N/...`` call: faults, auth, version, usage, then routing."""
        with self.lock:
            self.rest_calls += 1
            number = self.rest_calls
            faults = self.faults
        response = self._rest_checked(request, number, faults)
        response.headers.append(self.limit_header())
        return response

    def _rest_checked(self, request: Request, number: int, faults: Faults) -> Response:
        delay = faults.slow_for(number)
        if delay:
            time.sleep(delay / 1000)
        if faults.unavailable and number % faults.unavailable == 0:
            response = error(
                503, "SERVER_UNAVAILABLE", "Server temporarily unavailable; please retry later."
            )
            if faults.unavailable_retry_after:
                response.headers.append(("Retry-After", str(faults.unavailable_retry_after)))
            return response
        if faults.too_many and number % faults.too_many == 0:
            response = error(
                429, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded."
            )
            if faults.too_many_retry_after:
                response.headers.append(("Retry-After", str(faults.too_many_retry_after)))
            return response
        token = _bearer(request)
        if token is None or not self.tokens.use(token, faults.expire):
            return _invalid_session()
        parts = request.path.split("/")  # "", services, data, vNN.N, ...
        version = _version(parts[3])
        if version is None:
            return error(404, "NOT_FOUND", _NOT_FOUND)
        with self.lock:
            if self.api_usage >= self.api_limit:
                return error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
            self.api_usage += 1
        rest = list(parts[4:])
        if rest and rest[-1] == "":
            rest = rest[:-1]
        return self.route(request, version, rest)

    def route(self, request: Request, version: str, rest: list[str]) -> Response:  # noqa: C901, PLR0911, PLR0912
        """Route a REST call below ``/services/data/vNN.N``."""
        method = request.method
        if not rest:
            return self._get_only(request, "other", lambda: self.resources(version))
        head = rest[0]
        if head == "limits" and len(rest) == 1:
            return self._get_only(request, "limits", self.limits)
        if head in {"query", "queryAll"}:
            if len(rest) == 1:
                return self._get_only(
                    request,
                    "query",
                    lambda: self.query(request, version, include_deleted=head == "queryAll"),
                )
            if len(rest) == 2:
                return self._get_only(
                    request, "query_more", lambda: self.query_more(request, rest[1])
                )
        if head == "sobjects":
            if len(rest) == 1:
                return self._get_only(request, "other", lambda: self.global_describe(version))
            if rest[1].lower() != "account":
                return error(404, "NOT_FOUND", _NOT_FOUND)
            if len(rest) == 2:
                return self._get_only(request, "other", lambda: self.sobject_info(version))
            if len(rest) == 3 and rest[2] == "describe":
                return self._get_only(request, "describe", lambda: self.describe(request, version))
            if len(rest) == 3:
                return self._get_only(
                    request, "sobject", lambda: self.sobject(request, version, unquote(rest[2]))
                )
            if len(rest) == 4:
                return self._get_only(
                    request,
                    "sobject_by_external_id",
                    lambda: self.by_external_id(
                        request, version, unquote(rest[2]), _unquote_strict(rest[3])
                    ),
                )
            return error(404, "NOT_FOUND", _NOT_FOUND)
        if head == "jobs" and len(rest) >= 2 and rest[1] == "query":
            if len(rest) == 2:
                if method == "POST":
                    return self.bulk_create(request, version)
                if method in {"GET", "HEAD"}:
                    return self.bulk_list()
                return _method_not_allowed(method, "GET,POST", "bulk_create")
            if len(rest) == 3:
                if method in {"GET", "HEAD"}:
                    return self.bulk_poll(rest[2])
                if method == "PATCH":
                    return self.bulk_abort(request, rest[2])
                if method == "DELETE":
                    return self.bulk_delete(rest[2])
                return _method_not_allowed(method, "GET,PATCH,DELETE", "bulk_poll")
            if len(rest) == 4 and rest[3] == "results":
                return self._get_only(
                    request, "bulk_results", lambda: self.bulk_results(request, rest[2])
                )
        return error(404, "NOT_FOUND", _NOT_FOUND)

    @staticmethod
    def _get_only(request: Request, kind: str, answer: Callable[[], Response]) -> Response:
        if request.method not in {"GET", "HEAD"}:
            return _method_not_allowed(request.method, "GET,HEAD", kind)
        response = answer()
        response.kind = kind
        return response

    def resources(self, version: str) -> Response:
        """``GET /services/data/vNN.N``: the resources of a version."""
        prefix = f"/services/data/v{version}"
        names = ("sobjects", "query", "queryAll", "limits", "jobs")
        return Response(200, _json_bytes({name: f"{prefix}/{name}" for name in names}))

    def limits(self) -> Response:
        """``GET .../limits``."""
        with self.lock:
            usage, limit = self.api_usage, self.api_limit
            jobs = len(self.bulk.jobs)

        def pair(maximum: int, used: int = 0) -> dict[str, int]:
            return {"Max": maximum, "Remaining": max(0, maximum - used)}

        return Response(
            200,
            _json_bytes(
                {
                    "ActiveScratchOrgs": pair(3),
                    "ConcurrentAsyncGetReportInstances": pair(200),
                    "DailyApiRequests": pair(limit, usage),
                    "DailyAsyncApexExecutions": pair(250000),
                    "DailyBulkApiBatches": pair(15000),
                    "DailyBulkV2QueryFileStorageMB": pair(976562),
                    "DailyBulkV2QueryJobs": pair(10000, jobs),
                    "DataStorageMB": pair(5, 1),
                    "FileStorageMB": pair(20),
                    "HourlyTimeBasedWorkflow": pair(1000),
                }
            ),
        )

    def global_describe(self, version: str) -> Response:
        """``GET .../sobjects``: the one object of this org."""
        info = self._object_summary(version)
        return Response(
            200, _json_bytes({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": [info]})
        )

    def sobject_info(self, version: str) -> Response:
        """``GET .../sobjects/Account``."""
        return Response(
            200, _json_bytes({"objectDescribe": self._object_summary(version), "recentItems": []})
        )

    @staticmethod
    def _object_summary(version: str) -> dict[str, Any]:
        full = describe(version)
        keep = [
            "activateable",
            "createable",
            "custom",
            "customSetting",
            "deletable",
            "deprecatedAndHidden",
            "feedEnabled",
            "keyPrefix",
            "label",
            "labelPlural",
            "layoutable",
            "mergeable",
            "mruEnabled",
            "name",
            "queryable",
            "replicateable",
            "retrieveable",
            "searchable",
            "triggerable",
            "undeletable",
            "updateable",
        ]
        summary = {key: full[key] for key in keep}
        summary["urls"] = {
            k: v for k, v in full["urls"].items() if k in {"sobject", "describe", "rowTemplate"}
        }
        return summary

    def describe(self, request: Request, version: str) -> Response:
        """``GET .../sobjects/Account/describe`` with Last-Modified / If-Modified-Since."""
        headers = [("Last-Modified", DESCRIBE_LAST_MODIFIED)]
        since = request.headers.get("if-modified-since")
        if since:
            try:
                since_time = email.utils.parsedate_to_datetime(since)
                modified = email.utils.parsedate_to_datetime(DESCRIBE_LAST_MODIFIED)
                if since_time.tzinfo is not None and since_time >= modified:
                    return Response(304, b"", None, headers)
            except (TypeError, ValueError):
                pass
        key = (version, request.base_url)
        body = self._describe_cache.get(key)
        if body is None:
            body = self._describe_cache[key] = _json_bytes(describe(version, request.base_url))
        return Response(200, body, headers=headers)

    # ------------------------------------------------------------------ queries
    def renderer(self, fields: tuple[str, ...], version: str, fmt: str) -> Renderer:
        """A cached renderer for a select list."""
        key = (fields, version, fmt)
        with self.lock:
            found = self._renderers.get(key)
            if found is not None:
                self._renderers.move_to_end(key)
                return found
            created = Renderer(self.data, fields, version, "json" if fmt == "json" else "csv")
            self._renderers[key] = created
            while len(self._renderers) > MAX_CURSORS:
                self._renderers.popitem(last=False)
            return created

    def query(self, request: Request, version: str, *, include_deleted: bool) -> Response:
        """``GET .../query?q=`` and ``.../queryAll?q=``."""
        soql = request.params.get("q")
        log: dict[str, Any] = {"soql": soql}
        if soql is None:
            response = error(400, "MALFORMED_QUERY", "A query string has to be specified")
            response.log = log
            return response
        try:
            parsed = parse(soql)
        except SoqlError as exc:
            response = error(400, exc.error_code, exc.message)
            response.log = log
            return response
        log["literals"] = parsed.literals
        indexes = engine.execute(parsed, self.data, include_deleted=include_deleted)
        if parsed.count_only:
            body = _json_bytes({"totalSize": len(indexes), "done": True, "records": []})
            return Response(200, body, log=log)
        batch = _batch_size(request.headers.get("sforce-query-options", ""))
        renderer = self.renderer(parsed.fields, version, "json")
        resource = "queryAll" if include_deleted else "query"
        cursor = Cursor(indexes, renderer, batch, version, resource)
        locator = None
        if len(indexes) > batch:
            with self.lock:
                self.cursor_counter += 1
                locator = make_id("01g", 90_000 + self.cursor_counter)
                cursor.locator = locator
                self.cursors[locator] = cursor
                while len(self.cursors) > MAX_CURSORS:
                    self.cursors.popitem(last=False)
        return self._page(cursor, locator, 0, log)

    def query_more(self, request: Request, token: str) -> Response:
        """``GET .../query/01g...-2000``: the next page of a cursor."""
        del request
        match = _LOCATOR_RE.fullmatch(token)
        with self.lock:
            cursor = self.cursors.get(match.group(1)) if match else None
        if match is None or cursor is None:
            return error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        offset = int(match.group(2))
        if offset > len(cursor.indexes):
            return error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(cursor, match.group(1), offset, {})

    def _page(
        self, cursor: Cursor, locator: str | None, offset: int, log: dict[str, Any]
    ) -> Response:
        del locator
        with cursor.lock:
            prefetched = cursor.prefetch
            cursor.prefetch = None
        body = None
        if prefetched is not None and prefetched[0] == offset:
            try:
                body = prefetched[1].result()
            except Exception:  # noqa: BLE001 - render again below, and raise there
                body = None
        if body is None:
            body = cursor.page_body(offset)
        end = min(len(cursor.indexes), offset + cursor.batch)
        if cursor.locator is not None and end < len(cursor.indexes):
            try:
                future = self.executor.submit(cursor.page_body, end)
            except RuntimeError:  # shut down
                pass
            else:
                with cursor.lock:
                    cursor.prefetch = (end, future)
        response = Response(200, body, log=log)
        with self.lock:
            self.query_pages += 1
            number = self.query_pages
            faults = self.faults
        if faults.drop and number % faults.drop == 0:
            response.fault = "drop"
        elif faults.malformed and number % faults.malformed == 0:
            response.body = body[: max(1, len(body) // 2)]
        return response

    # ------------------------------------------------------------------ records
    def _fields_param(self, request: Request) -> tuple[str, ...] | Response:
        raw = request.params.get("fields")
        if not raw:
            return ALL_FIELD_NAMES
        names: list[str] = []
        for part in raw.split(","):
            name = part.strip()
            if not name:
                continue
            info = FIELDS_BY_LOWER.get(name.lower())
            if info is None:
                return error(
                    400, "INVALID_FIELD", f"No such column '{name}' on sobject of type Account"
                )
            if info.name not in names:
                names.append(info.name)
        return tuple(names) or ALL_FIELD_NAMES

    def _record_response(self, request: Request, version: str, index: int) -> Response:
        fields = self._fields_param(request)
        if isinstance(fields, Response):
            return fields
        body = self.renderer(fields, version, "json").render(index)
        return Response(200, body)

    def sobject(self, request: Request, version: str, segment: str) -> Response:
        """``GET .../sobjects/Account/{Id}``."""
        index = self._index_from_id(segment)
        if isinstance(index, Response):
            return index
        return self._record_response(request, version, index)

    def _index_from_id(self, segment: str) -> int | Response:
        full = to18(segment)
        if full is None:
            return error(400, "MALFORMED_ID", f"Account ID: id value of incorrect type: {segment}")
        if not full.startswith("001"):
            return error(400, "MALFORMED_ID", f"Account ID: id value of incorrect type: {segment}")
        index = self.data.index_of_id(full)
        if index is None or not self.data.exists(index):
            return error(404, "NOT_FOUND", _NOT_FOUND)
        return index

    def by_external_id(  # noqa: PLR0911
        self, request: Request, version: str, field_name: str, value: str | None
    ) -> Response:
        """``GET .../sobjects/Account/{Field}/{value}`` (and a blob: ``.../{Id}/Logo__c``)."""
        info = FIELDS_BY_LOWER.get(field_name.lower())
        blob = FIELDS_BY_LOWER.get((value or "").lower())
        if to18(field_name) is not None and blob is not None and blob.type == "base64":
            index = self._index_from_id(field_name)
            if isinstance(index, Response):
                return index
            if self.data.value(index, blob.name) is None:
                return error(404, "NOT_FOUND", _NOT_FOUND)
            return Response(200, _logo_png(index), "image/png", kind="other")
        if info is None or not (info.external_id or info.name == "Id"):
            return error(
                404,
                "NOT_FOUND",
                f"Provided external ID field does not exist or is not accessible: {field_name}",
            )
        if value is None:
            return error(404, "NOT_FOUND", _NOT_FOUND)
        if info.name == "Id":
            return self.sobject(request, version, value)
        matches = self._external_matches(info.name, value)
        if not matches:
            return error(404, "NOT_FOUND", _NOT_FOUND)
        if len(matches) > 1:
            ids = [self.data.record_id(i) for i in matches]
            urls = [f"/services/data/v{version}/sobjects/Account/{rid}" for rid in ids]
            return Response(300, _json_bytes(urls))
        return self._record_response(request, version, matches[0])

    def _external_matches(self, name: str, value: str) -> list[int]:
        data = self.data
        folded = value.lower()
        if name == "Customer_Key__c":
            index = engine.customer_key_index(data, value)
            candidates = [] if index is None else [index]
        else:
            candidates = engine.legacy_candidates(value, data.count)
        out = []
        for index in candidates:
            if not data.exists(index):
                continue
            current = data.value(index, name)
            if isinstance(current, str) and current.lower() == folded:
                out.append(index)
        return out

    # ------------------------------------------------------------------ bulk
    def bulk_create(self, request: Request, version: str) -> Response:  # noqa: PLR0911
        """``POST .../jobs/query``."""
        try:
            payload = json.loads(request.body or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError):
            return error(
                400, "JSON_PARSER_ERROR", "The request body is not valid JSON", "bulk_create"
            )
        if not isinstance(payload, dict):
            return error(
                400, "JSON_PARSER_ERROR", "The request body must be a JSON object", "bulk_create"
            )
        operation = payload.get("operation")
        soql = payload.get("query")
        log: dict[str, Any] = {"soql": soql if isinstance(soql, str) else None}
        if operation not in {"query", "queryAll"}:
            response = error(400, "INVALIDJOB", f"Invalid operation: {operation}", "bulk_create")
            response.log = log
            return response
        if not isinstance(soql, str) or not soql.strip():
            response = error(400, "INVALIDJOB", "A query must be specified", "bulk_create")
            response.log = log
            return response
        try:
            parsed = parse(soql)
            log["literals"] = parsed.literals
            bulk.check_bulk_query(parsed)
        except SoqlError as exc:
            response = error(400, exc.error_code, exc.message, "bulk_create")
            response.log = log
            return response
        except bulk.BulkError as exc:
            response = error(exc.status, exc.error_code, exc.message, "bulk_create")
            response.log = log
            return response
        indexes = engine.execute(parsed, self.data, include_deleted=operation == "queryAll")
        renderer = self.renderer(parsed.fields, version, "csv")
        job = self.bulk.add(operation, soql, version, indexes, renderer)
        return Response(200, _json_bytes(job.info(full=False)), kind="bulk_create", log=log)

    def bulk_list(self) -> Response:
        """``GET .../jobs/query``."""
        records = [job.info(full=False) for job in list(self.bulk.jobs.values())]
        body = {"done": True, "records": records, "nextRecordsUrl": None}
        return Response(200, _json_bytes(body), kind="bulk_poll")

    def bulk_poll(self, job_id: str) -> Response:
        """``GET .../jobs/query/{id}``."""
        try:
            job = self.bulk.poll(job_id)
        except bulk.BulkError as exc:
            return error(exc.status, exc.error_code, exc.message, "bulk_poll")
        return Response(200, _json_bytes(job.info(full=True)), kind="bulk_poll")

    def bulk_abort(self, request: Request, job_id: str) -> Response:
        """``PATCH .../jobs/query/{id}`` with ``{"state": "Aborted"}``."""
        try:
            payload = json.loads(request.body or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError):
            return error(
                400, "JSON_PARSER_ERROR", "The request body is not valid JSON", "bulk_poll"
            )
        if not isinstance(payload, dict) or payload.get("state") != "Aborted":
            return error(400, "INVALIDJOBSTATE", "Only the state Aborted can be set", "bulk_poll")
        try:
            job = self.bulk.abort(job_id)
        except bulk.BulkError as exc:
            return error(exc.status, exc.error_code, exc.message, "bulk_poll")
        return Response(200, _json_bytes(job.info(full=False)), kind="bulk_poll")

    def bulk_delete(self, job_id: str) -> Response:
        """``DELETE .../jobs/query/{id}``."""
        try:
            self.bulk.delete(job_id)
        except bulk.BulkError as exc:
            return error(exc.status, exc.error_code, exc.message, "bulk_poll")
        return Response(204, b"", None, kind="bulk_poll")

    def bulk_results(self, request: Request, job_id: str) -> Response:
        """``GET .../jobs/query/{id}/results?locator=&maxRecords=``."""
        max_records = None
        raw = request.params.get("maxRecords")
        if raw is not None:
            try:
                max_records = int(raw)
            except ValueError:
                max_records = 0
            if max_records < 1:
                return error(400, "INVALIDJOB", f"Invalid maxRecords: {raw}")
        try:
            job = self.bulk.get(job_id)
            body, next_locator, count = bulk.results_chunk(
                job, request.params.get("locator"), max_records
            )
        except bulk.BulkError as exc:
            return error(exc.status, exc.error_code, exc.message)
        headers = [("Sforce-Locator", next_locator), ("Sforce-NumberOfRecords", str(count))]
        return Response(200, body, "text/csv", headers)

    # ------------------------------------------------------------------ admin
    def admin(self, request: Request) -> Response:  # noqa: C901, PLR0911
        """``/__emulator/...``: test control (no auth, not counted)."""
        name = request.path.removeprefix("/__emulator/").rstrip("/")
        payload: Any = {}
        if request.method == "POST" and request.body:
            try:
                payload = json.loads(request.body)
            except (json.JSONDecodeError, UnicodeDecodeError):
                return _admin_error("body is not JSON")
        if not isinstance(payload, dict):
            return _admin_error("body must be a JSON object")
        if name == "requests" and request.method == "GET":
            return Response(200, _json_bytes(list(self.log)), kind="admin")
        if name == "reset-log" and request.method == "POST":
            self.log.clear()
            return Response(200, b"{}", kind="admin")
        if name == "reset" and request.method == "POST":
            self.reset()
            return Response(200, b"{}", kind="admin")
        if name == "config":
            if request.method == "GET":
                return Response(200, _json_bytes(self.config()), kind="admin")
            if request.method == "POST":
                try:
                    return Response(200, _json_bytes(self.configure(payload)), kind="admin")
                except (ValueError, TypeError) as exc:
                    return _admin_error(str(exc))
        if name in {"touch", "delete", "insert"} and request.method == "POST":
            try:
                return self._admin_change(name, payload)
            except (ValueError, TypeError) as exc:
                return _admin_error(str(exc))
        return Response(
            404,
            _json_bytes({"error": f"unknown admin call {request.method} {request.path}"}),
            kind="admin",
        )

    def _admin_change(self, name: str, payload: dict[str, Any]) -> Response:
        data = self.data
        if name == "insert":
            indexes, stamp = data.insert(int(payload.get("count", 1)))
        else:
            ids = payload.get("ids")
            targets: list[int] | None = None
            if ids is not None:
                targets = []
                for rid in ids:
                    index = data.index_of_id(str(rid))
                    if index is None:
                        msg = f"unknown Account Id: {rid}"
                        raise ValueError(msg)
                    targets.append(index)
            if name == "delete":
                if targets is None:
                    msg = "delete needs ids"
                    raise ValueError(msg)
                indexes, stamp = data.delete(targets)
            else:
                indexes, stamp = data.touch(targets, int(payload.get("count", 0)))
        body = {
            "ids": [data.record_id(i) for i in indexes],
            "system_modstamp": format_datetime(stamp),
        }
        return Response(200, _json_bytes(body), kind="admin")


# ---------------------------------------------------------------------------- helpers
def _admin_error(message: str) -> Response:
    return Response(400, _json_bytes({"error": message}), kind="admin")


def _method_not_allowed(method: str, allowed: str, kind: str) -> Response:
    return error(
        405,
        "METHOD_NOT_ALLOWED",
        f"HTTP Method '{method}' not allowed. Allowed are {allowed}",
        kind,
    )


def _invalid_session() -> Response:
    response = error(401, "INVALID_SESSION_ID", "Session expired or invalid")
    response.headers.append(("WWW-Authenticate", 'Token realm="Salesforce"'))
    return response


def _bearer(request: Request) -> str | None:
    value = request.headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() not in {"bearer", "oauth"} or not token.strip():
        return None
    return token.strip()


def _version(segment: str) -> str | None:
    match = _VERSION_RE.fullmatch(segment)
    if match is None:
        return None
    version = f"{int(match.group(1))}.{match.group(2)}"
    return version if version in API_VERSIONS else None


def _release_label(version: str) -> str:
    step = int(float(version)) - 31
    season = ("Summer", "Winter", "Spring")[step % 3]
    year = 14 + (step + 2) // 3
    return f"{season} '{year:02d}"


def _batch_size(options: str) -> int:
    for part in options.split(";"):
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "batchsize":
            try:
                return max(MIN_BATCH, min(DEFAULT_BATCH, int(value.strip())))
            except ValueError:
                return DEFAULT_BATCH
    return DEFAULT_BATCH


def _unquote_strict(segment: str) -> str | None:
    try:
        return unquote(segment, errors="strict")
    except UnicodeDecodeError:
        return None


def _logo_png(index: int) -> bytes:
    """A tiny valid PNG (1x1 pixel) whose colour depends on the index."""
    import struct  # noqa: PLC0415
    import zlib  # noqa: PLC0415

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    pixel = bytes([0, index % 256, (index * 7) % 256, (index * 13) % 256])
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(pixel))
        + chunk(b"IEND", b"")
    )


# ---------------------------------------------------------------------------- HTTP
class Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive handler delegating to the server's ``Org``."""

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
        org = self.server.org
        try:
            header_bytes = sum(len(k) + len(v) + 4 for k, v in self.headers.items())
            if header_bytes > MAX_HEADER_BYTES:
                response = Response(
                    431, b"Request Header Fields Too Large", "text/plain; charset=UTF-8"
                )
            else:
                response = org.handle(request)
        except Exception as exc:  # noqa: BLE001 - answer 500 like Salesforce would
            response = error(
                500,
                "UNKNOWN_EXCEPTION",
                f"An unexpected error occurred: {type(exc).__name__}: {exc}",
            )
        # Logged before sending: a client that reads the log after its answer finds the entry.
        if not request.path.startswith("/__emulator/"):
            org.record(request, response, started)
        self._send(response)

    def _send(self, response: Response) -> None:
        body = b"" if self.command == "HEAD" else response.body
        lines = [f"HTTP/1.1 {response.status} {_STATUS_TEXT.get(response.status, 'Unknown')}"]
        lines.append(f"Date: {email.utils.formatdate(usegmt=True)}")
        if response.content_type and response.status not in {204, 304}:
            lines.append(f"Content-Type: {response.content_type}")
        lines.extend(f"{k}: {v}" for k, v in response.headers)
        if response.status != 204:
            lines.append(f"Content-Length: {len(response.body)}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
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
    """A threading HTTP server that owns an ``Org``."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], org: Org) -> None:
        """Bind and remember the org."""
        self.org = org
        super().__init__(address, Handler)

    def handle_error(self, request: object, client_address: object) -> None:
        """Stay quiet when a client hangs up mid-answer, as clients at a deadline do."""
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]
