"""The tap's one error hierarchy, keyed on HTTP status and Salesforce ``errorCode``.

Every error the tap raises on purpose derives from :class:`TapSalesforceError` and carries
a stable ``code`` (used in the hook's JSON and the status store) and an ``exit_code``
(documented in the README). Messages are single lines naming the cause and the fix, and
never contain a secret.

::

    TapSalesforceError                      exit 1
    ├── ConfigError                         exit 2   a setting is missing or wrong
    ├── AuthError                           exit 3   OAuth refused the credentials
    ├── LookupFailedError                            on-demand mode outcomes
    │   ├── AccountNotFoundError            exit 4
    │   ├── MultipleAccountsError           exit 5
    │   ├── InvalidLookupValueError         exit 6   empty, too long, malformed Id
    │   │   └── MalformedIdError            exit 6
    │   └── IndexFieldError                 exit 7   field cannot identify one Account
    ├── ApiLimitError                       exit 8   org's daily API requests spent
    │   └── ApiUsageThresholdError          exit 8   max_api_usage_percent reached
    ├── UnavailableError                    exit 9   5xx, 429, timeouts, unreachable host
    └── SalesforceAPIError                  exit 10  any other refusal (INVALID_FIELD, ...)
        ├── InvalidQueryError                        INVALID_FIELD, MALFORMED_QUERY, ...
        └── SessionExpiredError                      401 INVALID_SESSION_ID
"""

from __future__ import annotations


class TapSalesforceError(Exception):
    """Base of every error the tap raises on purpose."""

    code = "error"
    exit_code = 1

    def __init__(self, message: str) -> None:
        """Keep the message on one line."""
        super().__init__(" ".join(message.split()))

    @property
    def message(self) -> str:
        """The one-line message."""
        return str(self)


class ConfigError(TapSalesforceError):
    """A setting is missing, malformed or contradicts another."""

    code = "config_error"
    exit_code = 2


class AuthError(TapSalesforceError):
    """Salesforce's OAuth endpoint refused the credentials."""

    code = "auth_error"
    exit_code = 3


class LookupFailedError(TapSalesforceError):
    """On-demand mode could not answer with exactly one Account."""

    code = "lookup_failed"
    exit_code = 1


class AccountNotFoundError(LookupFailedError):
    """No Account matches the value of the index field."""

    code = "not_found"
    exit_code = 4


class MultipleAccountsError(LookupFailedError):
    """More than one Account matches the value of the index field."""

    code = "multiple_matches"
    exit_code = 5


class InvalidLookupValueError(LookupFailedError):
    """The lookup value cannot be sent: empty, or too long for SOQL."""

    code = "invalid_value"
    exit_code = 6


class MalformedIdError(InvalidLookupValueError):
    """The value is not a well-formed Account Id (15 or 18 characters, prefix 001)."""

    code = "malformed_id"


class IndexFieldError(LookupFailedError):
    """The index field does not exist or cannot identify one Account."""

    code = "index_field_error"
    exit_code = 7


class SalesforceAPIError(TapSalesforceError):
    """Salesforce answered a REST call with an error."""

    code = "api_error"
    exit_code = 10

    def __init__(self, message: str, *, status: int | None = None, error_code: str = "") -> None:
        """Remember the HTTP status and Salesforce's ``errorCode``."""
        super().__init__(message)
        self.status = status
        self.error_code = error_code


class InvalidQueryError(SalesforceAPIError):
    """Salesforce rejected a SOQL query or a field name."""

    code = "invalid_query"


class SessionExpiredError(SalesforceAPIError):
    """401 ``INVALID_SESSION_ID``: the access token expired or was revoked."""

    code = "session_expired"


class ApiLimitError(SalesforceAPIError):
    """403 ``REQUEST_LIMIT_EXCEEDED``: the org's daily API requests are spent."""

    code = "api_limit"
    exit_code = 8


class ApiUsageThresholdError(ApiLimitError):
    """The org's API usage reached ``max_api_usage_percent``; the tap stopped cleanly."""

    code = "api_usage_threshold"


class UnavailableError(SalesforceAPIError):
    """Salesforce could not be reached or answered 5xx / 429 after every retry."""

    code = "unavailable"
    exit_code = 9


_BY_ERROR_CODE: dict[str, type[SalesforceAPIError]] = {
    "INVALID_SESSION_ID": SessionExpiredError,
    "REQUEST_LIMIT_EXCEEDED": ApiLimitError,
    "INVALID_FIELD": InvalidQueryError,
    "MALFORMED_QUERY": InvalidQueryError,
    "INVALID_QUERY_FILTER_OPERATOR": InvalidQueryError,
    "INVALID_TYPE": InvalidQueryError,
    "QUERY_TIMEOUT": UnavailableError,
    "SERVER_UNAVAILABLE": UnavailableError,
}

RETRIABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


def classify(status: int, error_code: str = "", message: str = "") -> type[SalesforceAPIError]:
    """Pick the exception type for a REST error from its status, ``errorCode`` and message.

    The ``errorCode`` wins over the status: a 403 ``REQUEST_LIMIT_EXCEEDED`` is a spent
    daily allowance ("TotalRequests Limit exceeded."), not a permissions problem, and must
    not be retried. Salesforce uses the same code for its concurrent long-request limit
    ("ConcurrentPerOrgLongTxn Limit exceeded"), which clears within seconds; that one, and
    any 429, is worth a retry.

    >>> classify(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.").__name__
    'ApiLimitError'
    >>> classify(403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded").__name__
    'UnavailableError'
    >>> classify(429, "REQUEST_LIMIT_EXCEEDED").__name__
    'UnavailableError'
    >>> classify(503).__name__
    'UnavailableError'
    >>> classify(400, "MALFORMED_QUERY").__name__
    'InvalidQueryError'
    """
    if status == 429 or (error_code == "REQUEST_LIMIT_EXCEEDED" and "Concurrent" in message):  # noqa: PLR2004
        return UnavailableError
    if error_code in _BY_ERROR_CODE:
        return _BY_ERROR_CODE[error_code]
    if status == 401:  # noqa: PLR2004
        return SessionExpiredError
    if status in RETRIABLE_STATUSES:
        return UnavailableError
    return SalesforceAPIError


def is_retriable(error: SalesforceAPIError) -> bool:
    """Whether trying the same request again can succeed.

    >>> is_retriable(UnavailableError("x", status=503))
    True
    >>> is_retriable(ApiLimitError("x", status=403, error_code="REQUEST_LIMIT_EXCEEDED"))
    False
    """
    return isinstance(error, UnavailableError)
