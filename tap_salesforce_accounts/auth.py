"""OAuth 2.0 grants of a Salesforce Connected App, and one reusable access token.

Salesforce's token answer has no ``expires_in``: a session lives as long as the org's
session timeout, and a client learns of expiry from a 401 ``INVALID_SESSION_ID``. So the
token is kept until the client reports it stale, then fetched again once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from tap_salesforce_accounts.exceptions import ConfigError
from tap_salesforce_accounts.retry import RetryPolicy
from tap_salesforce_accounts.settings import (
    AUTH_FLOWS,
    DEFAULT_AUTH_FLOW,
    DEFAULT_LOGIN_URL,
    DEFAULT_TOKEN_TIMEOUT_SECONDS,
)
from tap_salesforce_accounts.token_endpoint import check_login_url, not_salesforce, request_token
from tap_salesforce_accounts.token_state import ChainState, TokenChain, token_state_dir

if TYPE_CHECKING:
    from collections.abc import Mapping

    import requests

logger = logging.getLogger(__name__)

JWT_GRANT: Final = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# Salesforce accepts a JWT whose exp is at most three minutes ahead.
JWT_LIFETIME_SECONDS: Final = 170

_SANDBOX_MY_DOMAINS: Final = (".sandbox.my.salesforce.com", ".scratch.my.salesforce.com")
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
    token_state_dir: Path | None = None

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
        login_url = check_login_url(config.get("login_url"))
        return cls(
            client_id=str(config["client_id"]),
            client_secret=str(config.get("client_secret") or ""),
            auth_flow=flow,
            refresh_token=str(config.get("refresh_token") or ""),
            username=str(config.get("username") or ""),
            private_key=_private_key_text(config) if flow == "jwt_bearer" else "",
            login_url=login_url,
            token_state_dir=(
                token_state_dir(config.get("token_state_dir")) if flow == "refresh_token" else None
            ),
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

    Production and My Domain hosts take the production audience; sandboxes, their My
    Domains and scratch orgs the sandbox one; any other host (an Experience Cloud site, a
    local emulator) is its own audience.

    >>> jwt_audience("https://acme.my.salesforce.com")
    'https://login.salesforce.com'
    >>> jwt_audience("https://acme--dev.sandbox.my.salesforce.com")
    'https://test.salesforce.com'
    >>> jwt_audience("https://bold-fox-42.scratch.my.salesforce.com")
    'https://test.salesforce.com'
    >>> jwt_audience("http://127.0.0.1:8080")
    'http://127.0.0.1:8080'
    """
    host = urlsplit(login_url).hostname or ""
    if host == "test.salesforce.com" or host.endswith(_SANDBOX_MY_DOMAINS):
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


class TokenProvider:
    """Fetches an access token once and shares it; thread-safe.

    With the refresh token flow and a token state folder, the newest refresh token of the
    configured one's chain is read from and written to its state file, and refreshes are
    single-flight across processes (see :mod:`token_state`).

    Args:
        settings: the OAuth settings.
        session: the HTTP session to use.
        timeout: seconds to wait to connect to the token endpoint, and then for its answer.
        retry: the retry policy of token requests (that of data calls).
    """

    def __init__(
        self,
        settings: OAuthSettings,
        session: requests.Session,
        *,
        timeout: float = DEFAULT_TOKEN_TIMEOUT_SECONDS,
        retry: RetryPolicy | None = None,
    ) -> None:
        """Keep the settings; no request is made until a token is needed."""
        self._settings = settings
        self._timeout = timeout
        self._retry = retry or RetryPolicy()
        self._session = session
        self._chain = (
            TokenChain(settings.token_state_dir, settings.login_url, settings.refresh_token)
            if settings.auth_flow == "refresh_token" and settings.token_state_dir is not None
            else None
        )
        self._token: Token | None = None
        self._lock = threading.Lock()
        self.requests_made = 0

    def token(self) -> Token:
        """The shared token, fetched on first use."""
        token = self._token
        if token is not None:
            return token
        with self._lock:
            if self._token is None:
                self._token = self._fetch(None)
            return self._token

    def invalidate(self, stale: Token) -> Token:
        """Replace ``stale`` with a new token, unless another thread already did."""
        with self._lock:
            if self._token is None or self._token.access_token == stale.access_token:
                self._token = self._fetch(stale)
            return self._token

    def _fetch(self, stale: Token | None) -> Token:
        chain = self._chain
        if chain is not None:
            seen = chain.read().serial
            with contextlib.ExitStack() as held:
                try:
                    held.enter_context(chain.locked())
                except OSError as exc:
                    self._unchain(f"cannot lock {chain.path} ({exc.strerror or exc})")
                else:
                    return self._fetch_chained(chain, seen, stale)
        token, rotated = self._request(self._settings.refresh_token)
        if rotated is not None:
            self._settings = dataclasses.replace(self._settings, refresh_token=rotated)
            logger.warning(
                "Salesforce rotated the refresh token, and no token state file keeps it: the "
                "new one lives in this process only; set token_state_dir to keep it for the "
                "next run."
            )
        return token

    def _fetch_chained(self, chain: TokenChain, seen: int, stale: Token | None) -> Token:
        current = chain.read()
        just_got = current.serial != seen and current.access_token and current.instance_url
        if just_got and (stale is None or current.access_token != stale.access_token):
            # Another process refreshed while this one waited for the lock: one refresh each
            # would spend (with rotation: kill) the refresh token the other just stored.
            logger.info("Using the access token another process just got.")
            return Token(
                current.access_token,
                current.instance_url,
                current.identity_url,
                current.issued_at,
            )
        token, rotated = self._request(current.refresh_token)
        newest = rotated or current.refresh_token
        state = ChainState(
            refresh_token=newest,
            serial=current.serial + 1,
            access_token=token.access_token,
            instance_url=token.instance_url,
            identity_url=token.identity_url,
            issued_at=token.issued_at,
        )
        try:
            chain.write(state)
        except OSError as exc:
            self._settings = dataclasses.replace(self._settings, refresh_token=newest)
            self._unchain(f"cannot write {chain.path} ({exc.strerror or exc})")
        else:
            if rotated is not None:
                logger.info(
                    "Salesforce rotated the refresh token; kept the new one in %s", chain.path
                )
        return token

    def _unchain(self, why: str) -> None:
        logger.warning(
            "Token state: %s; refresh tokens Salesforce rotates are kept in this process only. "
            "Set token_state_dir to a writable folder (or 'off').",
            why,
        )
        self._chain = None

    def _request(self, refresh_token: str) -> tuple[Token, str | None]:
        """One grant; returns the token and the rotated refresh token, if any."""
        settings = self._settings
        if settings.auth_flow == "refresh_token":
            settings = dataclasses.replace(settings, refresh_token=refresh_token)
        self.requests_made += 1
        body = request_token(
            self._session,
            settings.login_url,
            _grant_form(settings),
            flow=settings.auth_flow,
            timeout=self._timeout,
            retry=self._retry,
        )
        token = token_from_answer(body, settings.login_url)
        logger.debug("Got an access token for %s", token.instance_url)
        rotated = body.get("refresh_token")
        if settings.auth_flow == "refresh_token" and rotated and rotated != refresh_token:
            return token, str(rotated)
        return token, None


def token_from_answer(body: Mapping[str, Any], login_url: str) -> Token:
    """The token of a token answer.

    Raises:
        ConfigError: the answer is not a Salesforce token answer.
    """
    try:
        token = Token(
            access_token=str(body["access_token"]),
            instance_url=str(body["instance_url"]).rstrip("/"),
            identity_url=str(body.get("id") or ""),
            issued_at=int(body.get("issued_at") or 0) / 1000,
        )
    except (KeyError, ValueError):
        raise not_salesforce(login_url, "no access_token and instance_url") from None
    if urlsplit(token.instance_url).scheme not in {"https", "http"}:
        raise not_salesforce(login_url, "an instance_url that is not a URL")
    return token
