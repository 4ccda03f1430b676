"""HTTP to one Salesforce org: versioned URLs, retries, error mapping, API usage, the describe."""

from __future__ import annotations

import dataclasses
import decimal
import email.utils
import json
import logging
import re
import threading
import time
from typing import TYPE_CHECKING, Any, Final

import msgspec
import requests
import urllib3
from requests.adapters import HTTPAdapter

from tap_salesforce_accounts import describe_cache
from tap_salesforce_accounts.auth import OAuthSettings, Token, TokenProvider
from tap_salesforce_accounts.exceptions import (
    ApiLimitError,
    ApiUsageThresholdError,
    AuthError,
    ConfigError,
    InvalidQueryError,
    SalesforceAPIError,
    SessionExpiredError,
    UnavailableError,
    classify,
    is_retriable,
)
from tap_salesforce_accounts.retry import (
    DEFAULT_BACKOFF_BASE,
    DEFAULT_BACKOFF_MAX,
    RetryPolicy,
    retry_after_seconds,
)
from tap_salesforce_accounts.settings import (
    DEFAULT_API_VERSION,
    DEFAULT_DESCRIBE_MAX_AGE,
    DEFAULT_MAX_RETRIES,
    DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_TOKEN_TIMEOUT_SECONDS,
    read_number,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path

logger = logging.getLogger(__name__)
# urllib3 logs every request line at DEBUG, query string included, and a query string can
# hold a customer's value: its connection pool logs from INFO up only.
logging.getLogger("urllib3.connectionpool").setLevel(logging.INFO)

USER_AGENT: Final = "tap-salesforce-accounts"
# The front door caps URI plus headers near 16 KB (414 / 431); stay well below it.
MAX_URL_LENGTH: Final = 14_000

_decoder = msgspec.json.Decoder(float_hook=decimal.Decimal)
_LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")
_VERSION = re.compile(r"^\d{2,3}\.0$")


def decode_json(body: bytes) -> Any:  # noqa: ANN401
    """Decode a JSON body, keeping numbers with a fraction as ``Decimal`` (currency)."""
    return _decoder.decode(body)


@dataclasses.dataclass(frozen=True, slots=True)
class ApiUsage:
    """The org's daily API requests, from ``Sforce-Limit-Info``."""

    used: int
    limit: int

    @property
    def percent(self) -> float:
        """Share of the daily allowance spent, in percent."""
        return 100.0 * self.used / self.limit if self.limit else 0.0


def parse_limit_info(header: str | None) -> ApiUsage | None:
    """Read ``Sforce-Limit-Info: api-usage=18/15000``.

    >>> parse_limit_info("api-usage=18/15000")
    ApiUsage(used=18, limit=15000)
    >>> parse_limit_info(None) is None
    True
    """
    match = _LIMIT_INFO.search(header or "")
    return ApiUsage(int(match[1]), int(match[2])) if match else None


@dataclasses.dataclass(frozen=True, slots=True)
class ClientSettings:
    """How the client talks to the org."""

    api_version: str = DEFAULT_API_VERSION
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    token_timeout: float = DEFAULT_TOKEN_TIMEOUT_SECONDS
    max_retries: int = DEFAULT_MAX_RETRIES
    max_api_usage_percent: float | None = None
    describe_cache_dir: Path | None = None
    describe_cache_max_age: float = DEFAULT_DESCRIBE_MAX_AGE
    backoff_base: float = DEFAULT_BACKOFF_BASE
    backoff_max: float = DEFAULT_BACKOFF_MAX

    def retry_policy(self, sleep: Callable[[float], None] = time.sleep) -> RetryPolicy:
        """The retry policy of every call, data and token requests alike."""
        return RetryPolicy(self.max_retries, self.backoff_base, self.backoff_max, sleep)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ClientSettings:
        """Read and check the client settings; a missing or null one takes its default.

        Raises:
            ConfigError: a value has the wrong type or is out of range.
        """
        version = str(config.get("api_version") or DEFAULT_API_VERSION).removeprefix("v")
        if not _VERSION.match(version):
            msg = f"api_version {version!r} is not a Salesforce API version: use e.g. '68.0'."
            raise ConfigError(msg)
        return cls(
            api_version=version,
            request_timeout=read_number(config, "request_timeout", DEFAULT_REQUEST_TIMEOUT, low=0),
            token_timeout=read_number(
                config, "token_timeout_seconds", DEFAULT_TOKEN_TIMEOUT_SECONDS, low=0
            ),
            max_retries=int(
                read_number(
                    config,
                    "max_retries",
                    DEFAULT_MAX_RETRIES,
                    low=0,
                    low_inclusive=True,
                    whole=True,
                )
            ),
            max_api_usage_percent=read_number(
                config, "max_api_usage_percent", None, low=0, high=100
            ),
            describe_cache_dir=describe_cache.cache_dir(config.get("describe_cache_dir")),
            describe_cache_max_age=read_number(
                config,
                "describe_cache_max_age_seconds",
                DEFAULT_DESCRIBE_MAX_AGE,
                low=0,
                low_inclusive=True,
            ),
        )


class SalesforceClient:
    """One org: one HTTP session, one token, one describe per process.

    Args:
        oauth: the OAuth settings.
        settings: the client settings.
        session: an HTTP session to reuse (a new one by default).
        sleep: how to wait between retries (tests pass a fake).
    """

    def __init__(
        self,
        oauth: OAuthSettings,
        settings: ClientSettings | None = None,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Prepare the session; nothing is requested yet."""
        self.settings = settings or ClientSettings()
        self.session = session or _new_session()
        self.retry = self.settings.retry_policy(sleep)
        self.tokens = TokenProvider(
            oauth,
            self.session,
            timeout=min(self.settings.token_timeout, self.settings.request_timeout),
            retry=self.retry,
        )
        self._describe: dict[str, Any] | None = None
        self._describe_lock = threading.Lock()
        self.usage: ApiUsage | None = None
        # The org's clock, from the Date header of its latest answer (token answers too).
        self._server_date: tuple[float, float] | None = None
        self.session.hooks["response"].append(self._note_server_date)
        self._calls = 0
        self._calls_lock = threading.Lock()

    @property
    def rest_calls(self) -> int:
        """REST requests sent so far (retries included)."""
        return self._calls

    @property
    def token_calls(self) -> int:
        """Token requests sent so far."""
        return self.tokens.requests_made

    def _note_server_date(
        self, response: requests.Response, *args: object, **kwargs: object
    ) -> None:
        del args, kwargs
        try:
            date = email.utils.parsedate_to_datetime(response.headers.get("Date", ""))
        except (TypeError, ValueError):
            return
        self._server_date = (date.timestamp(), time.monotonic())

    def server_time(self) -> float:
        """Salesforce's clock now (epoch seconds): its last ``Date`` header plus the time since.

        ``Date`` has whole seconds, so this is at most a second behind. Before any answer,
        the local clock.
        """
        noted = self._server_date
        if noted is None:
            return time.time()
        server, at = noted
        return server + (time.monotonic() - at)

    def data_path(self, resource: str) -> str:
        """``/services/data/vNN.N/<resource>``."""
        return f"/services/data/v{self.settings.api_version}/{resource.lstrip('/')}"

    def url_for(self, path: str) -> str:
        """The absolute URL of a path on the org's instance (fetches a token if needed)."""
        if path.startswith(("http://", "https://")):
            return path
        return self.tokens.token().instance_url + path

    def close(self) -> None:
        """Close the HTTP session."""
        self.session.close()

    # -- requests --------------------------------------------------------------------------

    def get(
        self,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        ok: frozenset[int] = frozenset({200}),
    ) -> requests.Response:
        """GET a REST resource, with retries; see :meth:`request`."""
        response: requests.Response = self.request(
            "GET", path, params=params, headers=headers, timeout=timeout, ok=ok
        )
        return response

    def get_json(
        self,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        decoder: Callable[[bytes], Any] = decode_json,
    ) -> Any:  # noqa: ANN401
        """GET a REST resource and decode its JSON body, retrying a malformed body."""
        return self.request(
            "GET", path, params=params, headers=headers, timeout=timeout, decode=decoder
        )

    def request(  # noqa: C901, PLR0913
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        json_body: object = None,
        timeout: float | None = None,
        ok: frozenset[int] = frozenset({200, 201}),
        decode: bool | Callable[[bytes], Any] = False,
        resend: bool = True,
    ) -> Any:  # noqa: ANN401
        """Send a request to the org; map errors; retry what can succeed on a retry.

        Retries 5xx, 429, timeouts, dropped connections and malformed JSON bodies with
        exponential backoff and jitter, honouring ``Retry-After``. A 401 renews the token
        once. Never retries ``REQUEST_LIMIT_EXCEEDED``, invalid queries or auth errors.
        Without ``resend``, a request that may have reached Salesforce but got no answer
        (a read timeout, a connection dropped after sending) is not sent again: for a
        request that creates something, a second one could create it twice.

        Returns:
            The response, or its decoded JSON body when ``decode`` is set (by
            ``decode`` itself when it is a decoder, else by :func:`decode_json`).

        Raises:
            SalesforceAPIError: Salesforce refused the request (a subclass names why).
        """
        attempt = 0
        renewed = False
        # 304 answers a conditional request only; to any other it is a broken answer.
        conditional = any(key.lower() == "if-modified-since" for key in headers or {})
        while True:
            self._check_usage()
            token = self.tokens.token()
            url = path if path.startswith(("http://", "https://")) else token.instance_url + path
            try:
                response = self._send(
                    method,
                    url,
                    token,
                    params=params,
                    headers=headers,
                    json_body=json_body,
                    timeout=timeout,
                )
            except requests.RequestException as exc:
                if not resend and not _never_sent(exc):
                    msg = (
                        f"Salesforce did not answer {method} {_display(path)} "
                        f"({type(exc).__name__}); not sent again, since Salesforce may have "
                        "acted on it: run again."
                    )
                    raise UnavailableError(msg, error_code="NOT_RESENT") from None
                error: SalesforceAPIError = UnavailableError(
                    f"Salesforce did not answer {method} {_display(path)} "
                    f"({type(exc).__name__}): check the network, or raise request_timeout.",
                )
                retry_after = None
            else:
                status = response.status_code
                if status in ok or (status == 304 and conditional):  # noqa: PLR2004
                    if not decode:
                        return response
                    try:
                        return (decode_json if decode is True else decode)(response.content)
                    except msgspec.DecodeError:
                        error = UnavailableError(
                            f"Salesforce sent a malformed JSON body for {method} {_display(path)}.",
                            status=response.status_code,
                        )
                        retry_after = None
                else:
                    error = error_from_response(response)
                    if isinstance(error, SessionExpiredError):
                        if renewed:
                            msg = (
                                "Salesforce refused a freshly issued access token "
                                f"({error.message}): check the user's API Enabled permission "
                                "and the Connected App's OAuth scopes (api)."
                            )
                            raise AuthError(msg) from None
                        logger.info("Access token expired; getting a new one.")
                        self.tokens.invalidate(token)
                        renewed = True
                        continue
                    if not is_retriable(error):
                        raise error
                    retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            attempt += 1
            if attempt > self.settings.max_retries:
                raise error
            delay = self.retry.delay(attempt, retry_after)
            logger.warning(
                "Retrying %s %s in %.1fs (attempt %s of %s): %s",
                method,
                _display(path),
                delay,
                attempt,
                self.settings.max_retries,
                error.message,
            )
            self.retry.sleep(delay)

    def _send(  # noqa: PLR0913
        self,
        method: str,
        url: str,
        token: Token,
        *,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        json_body: object,
        timeout: float | None,
    ) -> requests.Response:
        all_headers = {"Authorization": f"Bearer {token.access_token}"}
        if headers:
            all_headers.update(headers)
        with self._calls_lock:
            self._calls += 1
        response = self.session.request(
            method,
            url,
            params=params,
            headers=all_headers,
            json=json_body,
            timeout=timeout or self.settings.request_timeout,
            stream=True,
        )
        _read_body(response)
        usage = parse_limit_info(response.headers.get("Sforce-Limit-Info"))
        if usage is not None:
            self.usage = usage
        return response

    def _check_usage(self) -> None:
        threshold = self.settings.max_api_usage_percent
        usage = self.usage
        if threshold is None or usage is None or usage.percent < threshold:
            return
        msg = (
            f"the org has used {usage.used} of its {usage.limit} daily API requests "
            f"({usage.percent:.1f}%), at or past max_api_usage_percent={threshold:g}: stopped "
            "before making more calls; run again when the allowance recovers."
        )
        raise ApiUsageThresholdError(msg, error_code="MAX_API_USAGE_PERCENT")

    # -- describe --------------------------------------------------------------------------

    def describe_account(self) -> dict[str, Any]:
        """The Account describe: once per client, from a revalidated disk cache if set."""
        if self._describe is not None:
            return self._describe
        with self._describe_lock:
            if self._describe is None:
                self._describe = self._load_describe()
            return self._describe

    def refresh_describe(self) -> dict[str, Any]:
        """Describe again without ``If-Modified-Since``; the answer replaces the cached one.

        A permission change can hide a field without moving the describe's Last-Modified,
        so a revalidated cache (304) can still list a field the user cannot read.
        """
        with self._describe_lock:
            self._describe = self._load_describe(revalidate=False)
            return self._describe

    def _load_describe(self, *, revalidate: bool = True) -> dict[str, Any]:
        path = self.data_path("sobjects/Account/describe")
        cache = self._describe_cache_file()
        cached = describe_cache.read(cache) if cache is not None and revalidate else None
        if cache is not None and cached is not None:
            age = time.time() - cached.modified
            if age < self.settings.describe_cache_max_age:
                logger.debug("Using the cached describe (%.0fs old)", age)
                return cached.describe
            response = self.get(
                path, headers={"If-Modified-Since": cached.http_date}, ok=frozenset({200})
            )
            if response.status_code == 304:  # noqa: PLR2004
                logger.debug("Describe not modified; cache revalidated")
                describe_cache.mark_current(cache)
                return cached.describe
            body = response.content
        else:
            body = self.get(path).content
        try:
            describe = json.loads(body)
        except ValueError as exc:
            msg = "Salesforce sent a malformed Account describe; try again."
            raise UnavailableError(msg) from exc
        if cache is not None:
            describe_cache.write(cache, body)
        return describe  # type: ignore[no-any-return]

    def _describe_cache_file(self) -> Path | None:
        directory = self.settings.describe_cache_dir
        if directory is None:
            return None
        token = self.tokens.token()
        return describe_cache.cache_file(
            directory, token.instance_url, token.org_and_user, self.settings.api_version
        )


def error_from_response(response: requests.Response) -> SalesforceAPIError:
    """Turn a REST error answer into the matching exception.

    Salesforce's REST errors are a JSON list ``[{"message", "errorCode", "fields"}]``.
    """
    status = response.status_code
    if status == 304:  # noqa: PLR2004
        msg = (
            "Salesforce answered 304 Not Modified to a request that was not conditional: a "
            "proxy or cache between the tap and Salesforce answers for it; bypass it."
        )
        return SalesforceAPIError(msg, status=status, error_code="NOT_MODIFIED")
    error_code = ""
    message = ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, list) and body and isinstance(body[0], dict):
        error_code = str(body[0].get("errorCode") or "")
        message = str(body[0].get("message") or "")
    elif isinstance(body, dict):
        error_code = str(body.get("errorCode") or body.get("error") or "")
        message = str(body.get("message") or body.get("error_description") or "")
    cls = classify(status, error_code, message)
    said = f"{error_code}: {message}" if error_code else (message or f"HTTP {status}")
    text = f"Salesforce answered HTTP {status} ({said})"
    return cls(_advice(cls, text), status=status, error_code=error_code)


def _advice(cls: type[SalesforceAPIError], text: str) -> str:
    if issubclass(cls, ApiLimitError):
        return f"{text}: the org's daily API requests are spent; run again after they reset."
    if issubclass(cls, InvalidQueryError):
        return f"{text}: check the selected fields and the user's field access."
    if issubclass(cls, UnavailableError):
        return f"{text}: Salesforce is unavailable; try again later."
    return text


def _never_sent(exc: requests.RequestException) -> bool:
    """Whether the request surely never reached Salesforce (no connection was made)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def _read_body(response: requests.Response) -> None:
    """Read the whole body in one call, as ``response.content`` then gives it.

    ``requests`` reads a body 10 KB at a time; a query page is megabytes, and while the
    writer thread holds the interpreter each of those reads waits to get it back, so the
    next page would arrive long after Salesforce sent it.

    Raises:
        requests.RequestException: the connection broke or timed out mid-body, as
            ``requests`` itself reports it.
    """
    try:
        body = response.raw.read(decode_content=True)
    except urllib3.exceptions.ProtocolError as exc:
        raise requests.exceptions.ChunkedEncodingError(exc) from None
    except urllib3.exceptions.DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc) from None
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.exceptions.ConnectionError(exc) from None
    response._content = body or b""  # noqa: SLF001  (what ``response.content`` reads)


def _display(path: str) -> str:
    """A request path fit for a log, without customer values.

    The query string can hold a SOQL literal, and ``sobjects/Account/{field}/{value}``
    an External ID value: both are left out.

    >>> _display("/services/data/v62.0/sobjects/Account/Customer_Key__c/CUST-1?fields=Id")
    '/services/data/v62.0/sobjects/Account/Customer_Key__c/...'
    >>> _display("/services/data/v62.0/query?q=SELECT+Id")
    '/services/data/v62.0/query'
    """
    path = path.split("?", 1)[0]
    head, marker, tail = path.partition("/sobjects/Account/")
    if marker and "/" in tail:
        return f"{head}{marker}{tail.split('/', 1)[0]}/..."
    return path


def _new_session() -> requests.Session:
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers.update({"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"})
    return session
