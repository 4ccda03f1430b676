"""OAuth routes: authorize, token, revoke, and the identity URL."""

from __future__ import annotations

import ipaddress
from typing import Final
from urllib.parse import parse_qsl, urlsplit

from tests.emulator.data import (
    ORG_ID,
    USER_ID,
    USERNAME,
)
from tests.emulator.oauth import OAuthError
from tests.emulator.state import OrgState
from tests.emulator.wire import (
    NOT_FOUND,
    Request,
    Response,
    bearer,
    error,
    invalid_session,
    json_bytes,
    method_not_allowed,
)

# What login hosts serve during a maintenance window: HTML, not JSON.
MAINTENANCE_PAGE: Final = (
    b"<!DOCTYPE html><html><head><title>Down for Maintenance</title></head><body>"
    b"<h1>Salesforce is down for maintenance</h1><p>We'll be back shortly.</p></body></html>"
)


def oauth_error(exc: OAuthError, kind: str) -> Response:
    """An OAuth error answer ``{"error", "error_description"}``."""
    return Response(exc.status, json_bytes(exc.body()), kind=kind)


def app_not_found(request: Request, kind: str) -> Response | None:
    """An External Client App reached through a generic login host: unknown there.

    The emulator plays a generic login host (``login.salesforce.com``) when reached by its IP
    address, and the org's My Domain when reached by a host name (``localhost``).
    """
    host = urlsplit(request.base_url).hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return None
    refusal = OAuthError("app_not_found", "External client app is not installed in this org")
    return oauth_error(refusal, kind)


class OAuthRoutes(OrgState):
    """``/services/oauth2/...`` and the identity URL."""

    def oauth(self, request: Request) -> Response:
        """``/services/oauth2/authorize|token|revoke``."""
        name = request.path.removeprefix("/services/oauth2/").rstrip("/")
        form = dict(request.params)
        if request.method == "POST":
            form.update(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
        if name in {"authorize", "token"} and self.tokens.external_client_app:
            refused = app_not_found(request, name)
            if refused is not None:
                return refused
        return self._endpoint(request, name, form)

    def _endpoint(self, request: Request, name: str, form: dict[str, str]) -> Response:  # noqa: C901, PLR0911
        if name == "authorize":
            if request.method not in {"GET", "POST"}:
                return method_not_allowed(request.method, "GET,POST", "authorize")
            try:
                location = self.tokens.authorize(form)
            except OAuthError as exc:
                return oauth_error(exc, "authorize")
            return Response(302, b"", None, [("Location", location)], kind="authorize")
        if name == "token":
            log = {"grant_type": form.get("grant_type")}
            if request.method != "POST":
                return method_not_allowed(request.method, "POST", "token")
            faulty = self.login_fault()
            if faulty is not None:
                faulty.log = log
                return faulty
            try:
                answer = self.tokens.token(form, request.base_url)
            except OAuthError as exc:
                response = oauth_error(exc, "token")
                response.log = log
                return response
            return Response(200, json_bytes(answer), kind="token", log=log)
        if name == "revoke":
            if request.method not in {"GET", "POST"}:
                return method_not_allowed(request.method, "GET,POST", "revoke")
            try:
                self.tokens.revoke(form.get("token", ""))
            except OAuthError as exc:
                return oauth_error(exc, "revoke")
            return Response(200, b"", None, kind="revoke")
        return error(404, "NOT_FOUND", NOT_FOUND)

    def login_fault(self) -> Response | None:
        """The fault of the ``--fail`` spec this token request meets, if any."""
        with self.lock:
            self.token_requests += 1
            number = self.token_requests
            faults = self.faults
        fault = faults.login_fault(number)
        if fault == "503":
            return Response(503, MAINTENANCE_PAGE, "text/html;charset=UTF-8", kind="token")
        if fault == "429":
            response = Response(429, b"Too Many Requests", "text/plain", kind="token")
            if faults.login_too_many_retry_after:
                response.headers.append(("Retry-After", str(faults.login_too_many_retry_after)))
            return response
        if fault == "hang":
            return Response(200, b"", kind="token", fault="hang")
        if fault == "drop":
            return Response(200, b"", kind="token", fault="hangup")
        return None

    def identity(self, request: Request) -> Response:
        """``GET /id/<org>/<user>``: the identity URL of the token answer."""
        token = bearer(request)
        if token is None or not self.tokens.use(token, None):
            return invalid_session()
        if request.path.rstrip("/") != f"/id/{ORG_ID}/{USER_ID}":
            return error(404, "NOT_FOUND", NOT_FOUND)
        return Response(
            200,
            json_bytes(
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
