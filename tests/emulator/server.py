"""The emulated org: routing, authentication, API usage and faults over the route mixins.

One ``Org`` holds the state (``state.OrgState``) and answers each request through the mixins:
``routes_oauth``, ``routes_rest`` (metadata), ``routes_query``, ``routes_bulk``, ``routes_admin``.
``wire`` is the HTTP side.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Final
from urllib.parse import unquote

from tests.emulator.describe import API_VERSIONS
from tests.emulator.routes_admin import AdminRoutes
from tests.emulator.routes_bulk import BulkRoutes
from tests.emulator.routes_oauth import OAuthRoutes
from tests.emulator.routes_query import QueryRoutes
from tests.emulator.routes_rest import MetadataRoutes
from tests.emulator.state import DEFAULT_API_LIMIT
from tests.emulator.wire import (
    NOT_FOUND,
    EmulatorHTTPServer,
    Request,
    Response,
    bearer,
    error,
    invalid_session,
    json_bytes,
    method_not_allowed,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.emulator.faults import Faults

MAX_URI_BYTES: Final = 16_384
_VERSION_RE: Final = re.compile(r"v(\d{2})\.(\d)")


class Org(OAuthRoutes, MetadataRoutes, QueryRoutes, BulkRoutes, AdminRoutes):
    """The emulated org: dispatch to the routes of each resource."""

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
                return method_not_allowed(request.method, "GET,HEAD", "versions")
            versions = [
                {"label": _release_label(v), "url": f"/services/data/v{v}", "version": v}
                for v in API_VERSIONS
            ]
            return Response(200, json_bytes(versions), kind="versions")
        if path.startswith("/services/data/"):
            return self.rest(request)
        if path.startswith("/id/"):
            return self.identity(request)
        return error(404, "NOT_FOUND", NOT_FOUND)

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
        faulted = self._fault_answer(number, faults)
        if faulted is not None:
            return faulted
        token = bearer(request)
        if token is None or not self.tokens.use(token, faults.expire):
            return invalid_session()
        parts = request.path.split("/")  # "", services, data, vNN.N, ...
        version = _version(parts[3])
        if version is None:
            return error(404, "NOT_FOUND", NOT_FOUND)
        with self.lock:
            if self.api_usage >= self.api_limit:
                return error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
            self.api_usage += 1
        rest = list(parts[4:])
        if rest and rest[-1] == "":
            rest = rest[:-1]
        return self.route(request, version, rest)

    @staticmethod
    def _fault_answer(number: int, faults: Faults) -> Response | None:
        """The answer of REST call ``number`` when the fail spec hits it, else None."""
        if faults.not_modified and number % faults.not_modified == 0:
            return Response(304, b"", None)
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
        return None

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
                return error(404, "NOT_FOUND", NOT_FOUND)
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
                        request, version, unquote(rest[2]), unquote_strict(rest[3])
                    ),
                )
            return error(404, "NOT_FOUND", NOT_FOUND)
        if head == "jobs" and len(rest) >= 2 and rest[1] == "query":
            if len(rest) == 2:
                if method == "POST":
                    return self.bulk_create(request, version)
                if method in {"GET", "HEAD"}:
                    return self.bulk_list()
                return method_not_allowed(method, "GET,POST", "bulk_create")
            if len(rest) == 3:
                if method in {"GET", "HEAD"}:
                    return self.bulk_poll(rest[2])
                if method == "PATCH":
                    return self.bulk_abort(request, rest[2])
                if method == "DELETE":
                    return self.bulk_delete(rest[2])
                return method_not_allowed(method, "GET,PATCH,DELETE", "bulk_poll")
            if len(rest) == 4 and rest[3] == "results":
                return self._get_only(
                    request, "bulk_results", lambda: self.bulk_results(request, rest[2])
                )
        return error(404, "NOT_FOUND", NOT_FOUND)

    @staticmethod
    def _get_only(request: Request, kind: str, answer: Callable[[], Response]) -> Response:
        if request.method not in {"GET", "HEAD"}:
            return method_not_allowed(request.method, "GET,HEAD", kind)
        response = answer()
        response.kind = kind
        return response


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


def unquote_strict(segment: str) -> str | None:
    try:
        return unquote(segment, errors="strict")
    except UnicodeDecodeError:
        return None


__all__ = ["DEFAULT_API_LIMIT", "EmulatorHTTPServer", "Org"]
