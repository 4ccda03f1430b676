"""OAuth 2.0 of one Connected App: authorize (web server flow + PKCE), token grants, revoke.

Token values are random and opaque; none of them is ever logged. Error answers follow
Salesforce: HTTP 400 ``{"error": ..., "error_description": ...}``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Final, NoReturn

import jwt

from tests.emulator.data import ORG_ID, USER_ID, USERNAME

CLIENT_ID: Final = "emulator-client-id"
CLIENT_SECRET: Final = "emulator-client-secret"
REFRESH_TOKEN: Final = "emulator-refresh-token"
JWT_GRANT: Final = "urn:ietf:params:oauth:grant-type:jwt-bearer"
JWT_AUDIENCES: Final = ("https://login.salesforce.com", "https://test.salesforce.com")
# Salesforce accepts an assertion whose exp is at most 3 minutes ahead; allow clock skew.
JWT_MAX_LIFETIME_SECONDS: Final = 180
JWT_CLOCK_SKEW_SECONDS: Final = 60
CODE_LIFETIME_SECONDS: Final = 900
SCOPE_REFRESH: Final = "refresh_token api"
SCOPE_API: Final = "api"


class OAuthError(Exception):
    """An OAuth error answer."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        """Keep the OAuth error code, description and HTTP status."""
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def body(self) -> dict[str, str]:
        """The JSON body Salesforce sends."""
        return {"error": self.error, "error_description": self.description}


def _fail(error: str, description: str) -> NoReturn:
    """Raise the OAuth error ``error`` (HTTP 400)."""
    raise OAuthError(error, description)


@dataclass(slots=True)
class AccessToken:
    """One session."""

    refresh_token: str | None
    uses: int = 0


@dataclass(slots=True)
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str | None
    method: str | None
    expires_at: float


@dataclass
class TokenStore:
    """Every token and authorization code the emulator has issued."""

    rotate_refresh_tokens: bool = False
    jwt_public_key_pem: str | None = None
    # An External Client App: known to the org's My Domain, not to the generic login hosts.
    external_client_app: bool = False
    access: dict[str, AccessToken] = field(default_factory=dict)
    refresh: set[str] = field(default_factory=lambda: {REFRESH_TOKEN})
    codes: dict[str, _Code] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    # ------------------------------------------------------------------ authorize
    def authorize(self, params: dict[str, str]) -> str:
        """Approve an authorization request at once.

        Args:
            params: the query parameters of ``GET /services/oauth2/authorize``.

        Returns:
            The redirect location (``redirect_uri?code=...&state=...``).

        Raises:
            OAuthError: a missing or unknown parameter.
        """
        from urllib.parse import urlencode  # noqa: PLC0415

        if params.get("response_type") != "code":
            _fail("unsupported_response_type", "response type not supported")
        client_id = params.get("client_id", "")
        if client_id != CLIENT_ID:
            _fail("invalid_client_id", "client identifier invalid")
        redirect_uri = params.get("redirect_uri", "")
        if not redirect_uri:
            _fail("invalid_request", "missing required redirect_uri parameter")
        method = params.get("code_challenge_method")
        challenge = params.get("code_challenge")
        if challenge is not None and (method or "S256") != "S256":
            _fail("invalid_request", "unsupported code_challenge_method")
        code = "aPrx" + secrets.token_urlsafe(48)
        with self.lock:
            self.codes[code] = _Code(
                client_id, redirect_uri, challenge, method, time.time() + CODE_LIFETIME_SECONDS
            )
        query = {"code": code}
        if "state" in params:
            query["state"] = params["state"]
        separator = "&" if "?" in redirect_uri else "?"
        return redirect_uri + separator + urlencode(query)

    # ------------------------------------------------------------------ token
    def token(self, form: dict[str, str], base_url: str) -> dict[str, Any]:
        """Answer ``POST /services/oauth2/token``.

        Args:
            form: the form fields.
            base_url: the emulator's URL (instance_url, identity URL, JWT audience).

        Returns:
            The token answer.

        Raises:
            OAuthError: a refused grant.
        """
        grant = form.get("grant_type", "")
        if not grant:
            _fail("unsupported_grant_type", "grant type not supported")
        if grant == "refresh_token":
            return self._refresh(form, base_url)
        if grant == "authorization_code":
            return self._authorization_code(form, base_url)
        if grant == "client_credentials":
            self._client(form, secret_required=True)
            return self._issue(base_url, None, SCOPE_API)
        if grant == JWT_GRANT:
            return self._jwt(form, base_url)
        _fail("unsupported_grant_type", "grant type not supported")

    @staticmethod
    def _client(form: dict[str, str], *, secret_required: bool) -> None:
        client_id = form.get("client_id")
        if not client_id:
            _fail("invalid_request", "missing required parameter: client_id")
        if client_id != CLIENT_ID:
            _fail("invalid_client_id", "client identifier invalid")
        secret = form.get("client_secret")
        if secret is None:
            if secret_required:
                _fail("invalid_client", "invalid client credentials")
            return
        if not hmac.compare_digest(secret, CLIENT_SECRET):
            _fail("invalid_client", "invalid client credentials")

    def _refresh(self, form: dict[str, str], base_url: str) -> dict[str, Any]:
        self._client(form, secret_required=False)
        refresh_token = form.get("refresh_token")
        if not refresh_token:
            _fail("invalid_request", "missing required parameter: refresh_token")
        with self.lock:
            if refresh_token not in self.refresh:
                _fail("invalid_grant", "expired access/refresh token")
            new_refresh = None
            if self.rotate_refresh_tokens:
                self.refresh.discard(refresh_token)
                new_refresh = "5Aep" + secrets.token_urlsafe(60)
                self.refresh.add(new_refresh)
        answer = self._issue(base_url, new_refresh or refresh_token, SCOPE_REFRESH)
        if new_refresh is not None:
            answer["refresh_token"] = new_refresh
        return answer

    def _authorization_code(self, form: dict[str, str], base_url: str) -> dict[str, Any]:
        self._client(form, secret_required="code_verifier" not in form)
        code = form.get("code")
        if not code:
            _fail("invalid_request", "missing required parameter: code")
        with self.lock:
            entry = self.codes.pop(code, None)
        if entry is None or entry.client_id != form.get("client_id"):
            _fail("invalid_grant", "invalid authorization code")
        if entry.expires_at < time.time():
            _fail("invalid_grant", "expired authorization code")
        if form.get("redirect_uri") != entry.redirect_uri:
            _fail("invalid_grant", "redirect_uri must match configuration")
        if entry.challenge is not None:
            verifier = form.get("code_verifier", "")
            digest = hashlib.sha256(verifier.encode()).digest()
            computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if not verifier or not hmac.compare_digest(computed, entry.challenge):
                _fail("invalid_grant", "invalid code verifier")
        refresh_token = "5Aep" + secrets.token_urlsafe(60)
        with self.lock:
            self.refresh.add(refresh_token)
        answer = self._issue(base_url, refresh_token, SCOPE_REFRESH)
        answer["refresh_token"] = refresh_token
        return answer

    def _jwt(self, form: dict[str, str], base_url: str) -> dict[str, Any]:  # noqa: C901
        assertion = form.get("assertion")
        if not assertion:
            _fail("invalid_request", "missing required parameter: assertion")
        key = self.jwt_public_key_pem
        if not key:
            _fail("invalid_grant", "invalid assertion")
        try:
            claims = jwt.decode(
                assertion,
                key,
                algorithms=["RS256"],
                options={
                    "verify_exp": False,
                    "verify_aud": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "verify_iss": False,
                },
            )
        except (jwt.PyJWTError, ValueError, TypeError):
            _fail("invalid_grant", "invalid assertion")
        if claims.get("iss") != CLIENT_ID:
            _fail("invalid_client_id", "client identifier invalid")
        audiences = claims.get("aud")
        if isinstance(audiences, str):
            audiences = [audiences]
        allowed = {*JWT_AUDIENCES, base_url.rstrip("/")}
        if not isinstance(audiences, list) or not any(
            isinstance(a, str) and a.rstrip("/") in allowed for a in audiences
        ):
            _fail("invalid_grant", "audience is invalid")
        expires = claims.get("exp")
        now = time.time()
        if not isinstance(expires, int | float) or isinstance(expires, bool):
            _fail("invalid_grant", "invalid assertion")
        if expires <= now:
            _fail("invalid_grant", "expired authorization code")
        if expires > now + JWT_MAX_LIFETIME_SECONDS + JWT_CLOCK_SKEW_SECONDS:
            _fail("invalid_grant", "invalid assertion")
        if claims.get("sub") != USERNAME:
            _fail("invalid_grant", "user hasn't approved this consumer")
        return self._issue(base_url, None, SCOPE_API)

    def _issue(self, base_url: str, refresh_token: str | None, scope: str) -> dict[str, Any]:
        access_token = ORG_ID[:15] + "!" + secrets.token_urlsafe(72)
        with self.lock:
            self.access[access_token] = AccessToken(refresh_token)
        issued_at = str(int(time.time() * 1000))
        identity = f"{base_url}/id/{ORG_ID}/{USER_ID}"
        signature = base64.b64encode(
            hmac.new(
                CLIENT_SECRET.encode(), (identity + issued_at).encode(), hashlib.sha256
            ).digest()
        ).decode()
        return {
            "access_token": access_token,
            "signature": signature,
            "scope": scope,
            "instance_url": base_url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
        }

    # ------------------------------------------------------------------ revoke, sessions
    def revoke(self, token: str) -> None:
        """Revoke an access token, or a refresh token and every session it opened.

        Raises:
            OAuthError: the token is unknown.
        """
        with self.lock:
            if token in self.access:
                del self.access[token]
                return
            if token in self.refresh:
                self.refresh.discard(token)
                for key in [k for k, v in self.access.items() if v.refresh_token == token]:
                    del self.access[key]
                return
        _fail("unsupported_token_type", "this token type is not supported")

    def use(self, token: str, expire_after: int | None) -> bool:
        """Count one authenticated call with ``token``; False when it is not (or no more) valid."""
        with self.lock:
            session = self.access.get(token)
            if session is None:
                return False
            session.uses += 1
            if expire_after is not None and session.uses > expire_after:
                del self.access[token]
                return False
            return True

    def expire_all(self) -> None:
        """End every session (refresh tokens stay valid)."""
        with self.lock:
            self.access.clear()
