"""OAuth 2.0 grants of a Salesforce Connected App, and one reusable access token.

Salesforce's token answer has no ``expires_in``: a session lives as long as the org's
session timeout, and a client learns of expiry from a 401 ``INVALID_SESSION_ID``. So the
token is kept until the client reports it stale, then fetched again once.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

import requests

from tap_salesforce_accounts.exceptions import AuthError, ConfigError, UnavailableError
from tap_salesforce_accounts.settings import AUTH_FLOWS, DEFAULT_AUTH_FLOW, DEFAULT_LOGIN_URL

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

logger = logging.getLogger(__name__)

TOKEN_PATH: Final = "/services/oauth2/token"  # noqa: S105  (a path, not a secret)
JWT_GRANT: Final = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# Salesforce accepts a JWT whose exp is at most three minutes ahead.
JWT_LIFETIME_SECONDS: Final = 170
OAUTH_TIMEOUT_SECONDS: Final = 30.0

_FLOW_NEEDS: Final[dict[str, tuple[str, ...]]] = {
    "refresh_token": ("client_id", "refresh_token"),
    "jwt_bearer": ("client_id", "username"),
    "client_credentials": ("client_id", "client_secret"),
}


@dataclasses.dataclass(frozen=True, slots=True)
class Token:
    """An access token and where it may be used."""

    access_token: str = dataclasses.field(repr=False)
    instance_url: str
    identity_url: str = ""
    issued_at: float = 0.0

    @property
    def org_and_user(self) -> str:
        """``<orgId>/<userId>`` from the identity URL, or the instance host."""
        parts = urlsplit(self.identity_url).path.strip("/").split("/")
        if len(parts) >= 3 and parts[-3] == "id":  # noqa: PLR2004
            return f"{parts[-2]}/{parts[-1]}"
        return urlsplit(self.instance_url).netloc


@dataclasses.dataclass(frozen=True, slots=True)
class OAuthSettings:
    """The settings one grant needs, checked for the chosen flow."""

    client_id: str
    client_secret: str = dataclasses.field(default="", repr=False)
    auth_flow: str = DEFAULT_AUTH_FLOW
    refresh_token: str = dataclasses.field(default="", repr=False)
    username: str = ""
    private_key: str = dataclasses.field(default="", repr=False)
    login_url: str = DEFAULT_LOGIN_URL

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> OAuthSettings:
        """Read and check the settings of the configured flow.

        Raises:
            ConfigError: a setting the flow needs is missing, or the flow is unknown.
        """
        flow = str(config.get("auth_flow") or DEFAULT_AUTH_FLOW)
        if flow not in AUTH_FLOWS:
            msg = f"auth_flow {flow!r} is not supported: use one of {', '.join(AUTH_FLOWS)}."
            raise ConfigError(msg)
        missing = [key for key in _FLOW_NEEDS[flow] if not config.get(key)]
        has_key = config.get("private_key") or config.get("private_key_path")
        if flow == "jwt_bearer" and not has_key:
            missing.append("private_key or private_key_path")
        if missing:
            msg = (
                f"auth_flow {flow} needs {', '.join(missing)}: set them in the config file or "
                f"as TAP_SALESFORCE_ACCOUNTS_* environment variables"
                + (
                    " (run tap-salesforce-accounts-connect to get a refresh token)."
                    if "refresh_token" in missing
                    else "."
                )
            )
            raise ConfigError(msg)
        login_url = str(config.get("login_url") or DEFAULT_LOGIN_URL).rstrip("/")
        parts = urlsplit(login_url)
        if parts.scheme not in {"https", "http"} or not parts.netloc:
            msg = (
                f"login_url {login_url!r} is not a URL: use https://login.salesforce.com, "
                "https://test.salesforce.com or your My Domain URL."
            )
            raise ConfigError(msg)
        return cls(
            client_id=str(config["client_id"]),
            client_secret=str(config.get("client_secret") or ""),
            auth_flow=flow,
            refresh_token=str(config.get("refresh_token") or ""),
            username=str(config.get("username") or ""),
            private_key=_private_key_text(config) if flow == "jwt_bearer" else "",
            login_url=login_url,
        )


def _private_key_text(config: Mapping[str, Any]) -> str:
    if config.get("private_key"):
        return str(config["private_key"])
    path = Path(str(config["private_key_path"])).expanduser()
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        msg = f"private_key_path {str(path)!r} cannot be read ({exc.strerror}): check the path."
        raise ConfigError(msg) from exc


def jwt_audience(login_url: str) -> str:
    """The ``aud`` claim Salesforce expects for a login host.

    Production and My Domain hosts take the production audience, sandboxes the sandbox
    one; any other host (an Experience Cloud site, a local emulator) is its own audience.

    >>> jwt_audience("https://acme.my.salesforce.com")
    'https://login.salesforce.com'
    >>> jwt_audience("https://acme--dev.sandbox.my.salesforce.com")
    'https://test.salesforce.com'
    >>> jwt_audience("http://127.0.0.1:8080")
    'http://127.0.0.1:8080'
    """
    host = urlsplit(login_url).hostname or ""
    if host == "test.salesforce.com" or host.endswith(".sandbox.my.salesforce.com"):
        return "https://test.salesforce.com"
    if host == "login.salesforce.com" or host.endswith(".my.salesforce.com"):
        return "https://login.salesforce.com"
    return login_url.rstrip("/")


def build_jwt_assertion(settings: OAuthSettings, *, now: float | None = None) -> str:
    """Sign the RS256 assertion of the JWT bearer flow.

    Raises:
        ConfigError: the private key is not a PEM RSA private key.
    """
    import jwt  # noqa: PLC0415  (PyJWT and cryptography load only for this flow)

    issued = time.time() if now is None else now
    claims = {
        "iss": settings.client_id,
        "sub": settings.username,
        "aud": jwt_audience(settings.login_url),
        "exp": int(issued) + JWT_LIFETIME_SECONDS,
        "jti": uuid.uuid4().hex,
    }
    try:
        return jwt.encode(claims, settings.private_key, algorithm="RS256")
    except (ValueError, TypeError, jwt.PyJWTError) as exc:
        msg = (
            "private_key is not a usable PEM RSA private key "
            f"({type(exc).__name__}): give the key whose certificate is uploaded to the "
            "Connected App, starting with -----BEGIN PRIVATE KEY-----."
        )
        raise ConfigError(msg) from None


def _grant_form(settings: OAuthSettings) -> dict[str, str]:
    if settings.auth_flow == "refresh_token":
        form = {
            "grant_type": "refresh_token",
            "refresh_token": settings.refresh_token,
            "client_id": settings.client_id,
        }
        if settings.client_secret:
            form["client_secret"] = settings.client_secret
        return form
    if settings.auth_flow == "jwt_bearer":
        return {"grant_type": JWT_GRANT, "assertion": build_jwt_assertion(settings)}
    return {
        "grant_type": "client_credentials",
        "client_id": settings.client_id,
        "client_secret": settings.client_secret,
    }


_OAUTH_ADVICE: Final[dict[str, str]] = {
    "invalid_client_id": (
        "Salesforce does not know this client_id: set it to the Connected App's Consumer Key "
        "(a new app can take up to 10 minutes to become usable)."
    ),
    "invalid_client": (
        "Salesforce refused the client credentials: check client_secret is the Connected "
        "App's Consumer Secret."
    ),
    "unsupported_grant_type": (
        "the Connected App does not allow the {flow} flow: enable it in the app's OAuth "
        "settings, or pick another auth_flow."
    ),
    "inactive_user": "the integration user is inactive: reactivate it or use another user.",
    "inactive_org": "the org is locked, closed or suspended: ask its administrator.",
}


def describe_oauth_error(flow: str, error: str, description: str) -> str:
    """One line that names what Salesforce refused and what to do about it.

    >>> describe_oauth_error("refresh_token", "invalid_grant", "expired access/refresh token")
    'Salesforce refused the refresh token (invalid_grant: expired access/refresh token): it expired or was revoked; run tap-salesforce-accounts-connect again to get a new one.'
    """  # noqa: E501
    said = f"{error}: {description}" if description else error
    if error == "invalid_grant":
        if flow == "refresh_token":
            return (
                f"Salesforce refused the refresh token ({said}): it expired or was revoked; "
                "run tap-salesforce-accounts-connect again to get a new one."
            )
        if flow == "jwt_bearer":
            return (
                f"Salesforce refused the JWT assertion ({said}): check username, that the user "
                "is pre-authorized for the Connected App (Admin approved users), that the "
                "uploaded certificate matches private_key, and that login_url is production, "
                "sandbox or My Domain as the org needs."
            )
        return (
            f"Salesforce refused the client credentials grant ({said}): set a Run As user in "
            "the Connected App's client credentials flow settings and use your My Domain "
            "login_url."
        )
    advice = _OAUTH_ADVICE.get(error)
    if advice:
        return f"{advice.format(flow=flow)} ({said})"
    return f"Salesforce's OAuth endpoint refused the {flow} grant ({said})."


class TokenProvider:
    """Fetches an access token once and shares it; thread-safe.

    Args:
        settings: the OAuth settings.
        session: the HTTP session to use.
        on_refresh_token: called with a rotated refresh token, to persist it.
        timeout: seconds to wait for the token endpoint's answer.
    """

    def __init__(
        self,
        settings: OAuthSettings,
        session: requests.Session,
        *,
        on_refresh_token: Callable[[str], None] | None = None,
        timeout: float = OAUTH_TIMEOUT_SECONDS,
    ) -> None:
        """Keep the settings; no request is made until a token is needed."""
        self._settings = settings
        self._timeout = timeout
        self._session = session
        self._on_refresh_token = on_refresh_token
        self._token: Token | None = None
        self._lock = threading.Lock()
        self.requests_made = 0

    @property
    def settings(self) -> OAuthSettings:
        """The OAuth settings in use (a rotated refresh token included)."""
        return self._settings

    def token(self) -> Token:
        """The shared token, fetched on first use."""
        token = self._token
        if token is not None:
            return token
        with self._lock:
            if self._token is None:
                self._token = self._fetch()
            return self._token

    def invalidate(self, stale: Token) -> Token:
        """Replace ``stale`` with a new token, unless another thread already did."""
        with self._lock:
            if self._token is None or self._token.access_token == stale.access_token:
                self._token = self._fetch()
            return self._token

    def _fetch(self) -> Token:
        settings = self._settings
        url = settings.login_url + TOKEN_PATH
        self.requests_made += 1
        try:
            response = self._session.post(
                url,
                data=_grant_form(settings),
                headers={"Accept": "application/json"},
                timeout=self._timeout,
            )
        except requests.RequestException as exc:
            msg = (
                f"cannot reach login_url {settings.login_url} ({type(exc).__name__}): check the "
                "URL and the network; production is https://login.salesforce.com, sandboxes "
                "https://test.salesforce.com."
            )
            raise UnavailableError(msg) from None
        body = json_or_none(response)
        if response.status_code != 200 or not isinstance(body, dict):  # noqa: PLR2004
            raise self._error(response, body)
        try:
            token = Token(
                access_token=str(body["access_token"]),
                instance_url=str(body["instance_url"]).rstrip("/"),
                identity_url=str(body.get("id") or ""),
                issued_at=int(body.get("issued_at") or 0) / 1000,
            )
        except (KeyError, ValueError):
            raise _not_salesforce(settings.login_url, "no access_token and instance_url") from None
        if urlsplit(token.instance_url).scheme not in {"https", "http"}:
            raise _not_salesforce(settings.login_url, "an instance_url that is not a URL")
        rotated = body.get("refresh_token")
        if settings.auth_flow == "refresh_token" and rotated and rotated != settings.refresh_token:
            # Refresh token rotation: the old token stops working, so keep the new one.
            self._settings = dataclasses.replace(settings, refresh_token=str(rotated))
            logger.info("Salesforce rotated the refresh token; using the new one from now on.")
            if self._on_refresh_token is not None:
                self._on_refresh_token(str(rotated))
        logger.debug("Got an access token for %s", token.instance_url)
        return token

    def _error(self, response: requests.Response, body: object) -> Exception:
        flow = self._settings.auth_flow
        if isinstance(body, dict) and "error" in body:
            message = describe_oauth_error(
                flow, str(body["error"]), str(body.get("error_description") or "")
            )
            return AuthError(message)
        if response.status_code >= 500 and response.status_code != 501:  # noqa: PLR2004
            return UnavailableError(
                f"Salesforce's login host {self._settings.login_url} answered HTTP "
                f"{response.status_code}: try again later.",
                status=response.status_code,
            )
        return _not_salesforce(self._settings.login_url, f"HTTP {response.status_code}")


def _not_salesforce(login_url: str, said: str) -> ConfigError:
    return ConfigError(
        f"login_url {login_url} does not answer as a Salesforce login host ({said} to "
        f"{TOKEN_PATH}): use https://login.salesforce.com, https://test.salesforce.com or "
        "your My Domain URL."
    )


def json_or_none(response: requests.Response) -> object:
    """The response's JSON body, or None when it has none."""
    try:
        return response.json()
    except ValueError:
        return None


def revoke_token(login_url: str, token: str, session: requests.Session) -> None:
    """Revoke a refresh or access token at ``/services/oauth2/revoke``.

    Raises:
        AuthError: Salesforce refused to revoke it.
        UnavailableError: the login host could not be reached.
    """
    try:
        response = session.post(
            login_url.rstrip("/") + "/services/oauth2/revoke",
            data={"token": token},
            timeout=OAUTH_TIMEOUT_SECONDS,
        )
    except requests.RequestException as exc:
        msg = f"cannot reach login_url {login_url} ({type(exc).__name__}): check the URL."
        raise UnavailableError(msg) from None
    if response.status_code != 200:  # noqa: PLR2004
        body = json_or_none(response)
        said = body.get("error_description", "") if isinstance(body, dict) else ""
        msg = f"Salesforce did not revoke the token (HTTP {response.status_code} {said})."
        raise AuthError(msg)
