"""Salesforce's OAuth token endpoint: the login URL check, the token request, its errors.

Every grant (the tap's refresh token, JWT bearer and client credentials, and the connect
command's authorization code) goes through :func:`request_token`, so all of them check the
login URL, retry and explain refusals the same way.

Login hosts have maintenance windows: a token request can meet a 503 whose body is an HTML
page, a 429, a timeout or a dropped connection, and each is as retryable as a data call.
An OAuth error (``invalid_grant``, ``invalid_client``, ...) is definite and never retried.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

import requests

from tap_salesforce_accounts.exceptions import AuthError, ConfigError, UnavailableError
from tap_salesforce_accounts.retry import RetryPolicy, retry_after_seconds
from tap_salesforce_accounts.settings import DEFAULT_LOGIN_URL, DEFAULT_TOKEN_TIMEOUT_SECONDS

if TYPE_CHECKING:
    from collections.abc import Mapping

logger = logging.getLogger(__name__)

TOKEN_PATH: Final = "/services/oauth2/token"  # noqa: S105  (a path, not a secret)
REVOKE_PATH: Final = "/services/oauth2/revoke"
# A wait longer than this gets one log line saying what is being waited on.
SLOW_WAIT_NOTICE_SECONDS: Final = 3.0
LOGIN_HOSTS_ADVICE: Final = (
    "use https://login.salesforce.com, https://test.salesforce.com or your My Domain URL "
    "(https://acme.my.salesforce.com, sandboxes https://acme--dev.sandbox.my.salesforce.com)"
)


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine (where plain HTTP cannot be overheard).

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("::1")
    (True, True, True)
    >>> is_loopback("login.salesforce.com")
    False
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_login_url(value: object) -> str:
    """The login URL without a trailing slash, checked to be one OAuth can be sent to.

    Credentials travel only over TLS: ``http://`` is accepted for loopback hosts alone (a
    local emulator). Lightning Experience pages (``*.lightning.force.com``) serve no OAuth
    endpoints; the same org's login host is its My Domain, ``*.my.salesforce.com``.

    Raises:
        ConfigError: not a URL, plain HTTP to another machine, or a Lightning page host.

    >>> check_login_url("https://acme.my.salesforce.com/")
    'https://acme.my.salesforce.com'
    >>> check_login_url("http://login.salesforce.com")
    Traceback (most recent call last):
    ...
    tap_salesforce_accounts.exceptions.ConfigError: login_url http://login.salesforce.com uses http://: credentials travel only over TLS; use https://login.salesforce.com.
    """  # noqa: E501
    login_url = str(value or DEFAULT_LOGIN_URL).strip().rstrip("/")
    parts = urlsplit(login_url)
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        msg = f"login_url {login_url!r} is not a URL: {LOGIN_HOSTS_ADVICE}."
        raise ConfigError(msg)
    host = parts.hostname
    if parts.scheme == "http" and not is_loopback(host):
        secure = parts._replace(scheme="https").geturl()
        msg = f"login_url {login_url} uses http://: credentials travel only over TLS; use {secure}."
        raise ConfigError(msg)
    if host.endswith(".lightning.force.com"):
        my_domain = host.removesuffix(".lightning.force.com") + ".my.salesforce.com"
        msg = (
            f"login_url {login_url} is a Lightning page host, which serves no OAuth "
            f"endpoints: use the org's My Domain URL https://{my_domain}."
        )
        raise ConfigError(msg)
    return login_url


_OAUTH_ADVICE: Final[dict[str, str]] = {
    "invalid_client_id": (
        "Salesforce does not know this client_id: set it to the app's Consumer Key "
        "(a new app can take up to 10 minutes to become usable)."
    ),
    "invalid_client": (
        "Salesforce refused the client credentials: check client_secret is the app's "
        "Consumer Secret."
    ),
    "unsupported_grant_type": (
        "the app does not allow the {flow} flow: enable it in the app's OAuth "
        "settings, or pick another auth_flow."
    ),
    "inactive_user": "the integration user is inactive: reactivate it or use another user.",
    "inactive_org": "the org is locked, closed or suspended: ask its administrator.",
}
# External Client Apps answer these through login.salesforce.com / test.salesforce.com.
_APP_NOT_HERE: Final = frozenset({"app_not_found", "invalid_app_access"})


def describe_oauth_error(flow: str, error: str, description: str) -> str:
    """One line that names what Salesforce refused and what to do about it.

    >>> describe_oauth_error("refresh_token", "invalid_grant", "expired access/refresh token")
    'Salesforce refused the refresh token (invalid_grant: expired access/refresh token): it expired or was revoked; run tap-salesforce-accounts-connect again to get a new one.'
    """  # noqa: E501
    said = f"{error}: {description}" if description else error
    if error in _APP_NOT_HERE:
        return (
            f"the login host does not know the app ({said}): an External Client App is "
            "reached through its org's My Domain; set login_url to the org's My Domain URL "
            "(https://acme.my.salesforce.com, sandboxes "
            "https://acme--dev.sandbox.my.salesforce.com)."
        )
    if error == "invalid_grant":
        return _invalid_grant(flow, said)
    if error == "invalid_client" and flow == "authorization_code":
        return (
            f"Salesforce refused the client credentials ({said}): pass --client-secret with "
            "the app's Consumer Secret (client_secret), or untick 'Require Secret for Web "
            "Server Flow' in the app."
        )
    advice = _OAUTH_ADVICE.get(error)
    if advice:
        return f"{advice.format(flow=flow)} ({said})"
    return f"Salesforce's OAuth endpoint refused the {flow} grant ({said})."


def _invalid_grant(flow: str, said: str) -> str:
    if flow == "refresh_token":
        return (
            f"Salesforce refused the refresh token ({said}): it expired or was revoked; "
            "run tap-salesforce-accounts-connect again to get a new one."
        )
    if flow == "authorization_code":
        return (
            f"Salesforce refused the authorization code ({said}): it expired, was used "
            "already, or the callback URL or PKCE verifier did not match; run the command "
            "again."
        )
    if flow == "jwt_bearer":
        return (
            f"Salesforce refused the JWT assertion ({said}): check username, that the user "
            "is pre-authorized for the app (Admin approved users), that the uploaded "
            "certificate matches private_key, and that login_url is production, sandbox or "
            "My Domain as the org needs."
        )
    return (
        f"Salesforce refused the client credentials grant ({said}): set a Run As user in "
        "the app's client credentials flow settings and use your My Domain login_url."
    )


def token_error(flow: str, login_url: str, status: int, body: object) -> Exception:
    """The error of a token answer that is not a token.

    5xx and 429 are retryable (:class:`UnavailableError`) whatever their body, often an
    HTML maintenance page; an OAuth error body is definite (:class:`AuthError`); anything
    else means the host is not a Salesforce login host (:class:`ConfigError`).
    """
    if status == 429 or (status >= 500 and status != 501):  # noqa: PLR2004
        return UnavailableError(
            f"Salesforce's login host {login_url} answered HTTP {status}: try again later.",
            status=status,
        )
    if isinstance(body, dict) and "error" in body:
        description = str(body.get("error_description") or "")
        return AuthError(describe_oauth_error(flow, str(body["error"]), description))
    return not_salesforce(login_url, f"HTTP {status}")


def not_salesforce(login_url: str, said: str) -> ConfigError:
    """The error of a login URL that does not answer as Salesforce does."""
    return ConfigError(
        f"login_url {login_url} does not answer as a Salesforce login host ({said} to "
        f"{TOKEN_PATH}): {LOGIN_HOSTS_ADVICE}."
    )


def json_or_none(response: requests.Response) -> object:
    """The response's JSON body, or None when it has none."""
    try:
        return response.json()
    except ValueError:
        return None


def request_token(  # noqa: PLR0913
    session: requests.Session,
    login_url: str,
    form: Mapping[str, str],
    *,
    flow: str,
    timeout: float = DEFAULT_TOKEN_TIMEOUT_SECONDS,
    retry: RetryPolicy | None = None,
) -> dict[str, Any]:
    """POST a grant to the token endpoint; returns the token answer's JSON object.

    Args:
        session: the HTTP session.
        login_url: a login URL checked by :func:`check_login_url`.
        form: the grant's form fields.
        flow: the grant's name, for messages (``refresh_token``, ``authorization_code``...).
        timeout: seconds to wait to connect, and then for the answer.
        retry: the retry policy (the default one when not given).

    Raises:
        AuthError: Salesforce refused the grant.
        ConfigError: the host does not answer as a Salesforce login host.
        UnavailableError: no answer, or 5xx / 429, after every retry.
    """
    policy = retry or RetryPolicy()
    attempt = 0
    while True:
        retry_after = None
        try:
            response = _post(session, login_url + TOKEN_PATH, form, timeout, "the token request")
        except requests.RequestException as exc:
            error: Exception = UnavailableError(
                f"cannot reach login_url {login_url} ({type(exc).__name__}): check the URL "
                f"and the network; {LOGIN_HOSTS_ADVICE}."
            )
        else:
            body = json_or_none(response)
            if response.status_code == 200 and isinstance(body, dict):  # noqa: PLR2004
                return body
            error = token_error(flow, login_url, response.status_code, body)
            retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        if not isinstance(error, UnavailableError) or attempt >= policy.max_retries:
            raise error
        attempt += 1
        delay = policy.delay(attempt, retry_after)
        logger.warning(
            "Retrying the token request to %s in %.1fs (attempt %s of %s): %s",
            login_url,
            delay,
            attempt,
            policy.max_retries,
            error,
        )
        policy.sleep(delay)


def _post(
    session: requests.Session, url: str, form: Mapping[str, str], timeout: float, what: str
) -> requests.Response:
    """POST, logging once what is being waited on if the answer takes a while."""
    notice = threading.Timer(
        min(SLOW_WAIT_NOTICE_SECONDS, timeout / 2),
        logger.warning,
        args=("Waiting for the login host to answer %s %s (at most %.0fs)...", what, url, timeout),
    )
    notice.daemon = True
    notice.start()
    try:
        return session.post(
            url, data=dict(form), headers={"Accept": "application/json"}, timeout=timeout
        )
    finally:
        notice.cancel()


def revoke_token(login_url: str, token: str, session: requests.Session) -> None:
    """Revoke a refresh or access token at ``/services/oauth2/revoke``.

    Raises:
        AuthError: Salesforce refused to revoke it.
        UnavailableError: the login host could not be reached.
    """
    try:
        response = _post(
            session,
            login_url.rstrip("/") + REVOKE_PATH,
            {"token": token},
            DEFAULT_TOKEN_TIMEOUT_SECONDS,
            "the revocation",
        )
    except requests.RequestException as exc:
        msg = f"cannot reach login_url {login_url} ({type(exc).__name__}): check the URL."
        raise UnavailableError(msg) from None
    if response.status_code != 200:  # noqa: PLR2004
        body = json_or_none(response)
        said = body.get("error_description", "") if isinstance(body, dict) else ""
        msg = f"Salesforce did not revoke the token (HTTP {response.status_code} {said})."
        raise AuthError(msg)
