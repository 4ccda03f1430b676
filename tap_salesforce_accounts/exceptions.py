"""The tap's one error hierarchy, keyed on HTTP status and Salesforce ``errorCode``.

Every error the tap raises on purpose derives from :class:`TapSalesforceError` and carries
a stable ``code`` (used in the hook's JSON and the status store) and an ``exit_code``
(documented in the README). Messages are single lines naming the cause and the fix, and
never contain a secret.

::

    TapSalesforceError                      exit 1   error
    ├── ConfigError                         exit 2   config_error: a setting is missing or wrong
    ├── AuthError                           exit 3   auth_error: OAuth refused the credentials
    ├── LookupFailedError                   exit 1   lookup_failed: on-demand mode outcomes
    │   ├── AccountNotFoundError            exit 4   not_found
    │   ├── MultipleAccountsError           exit 5   multiple_matches
    │   ├── InvalidLookupValueError         exit 6   invalid_value: empty or too long
    │   │   └── MalformedIdError            exit 6   malformed_id
    │   └── IndexFieldError                 exit 7   index_field_error
    ├── StoreError                          exit 1   store_error: the hook's status store
    └── SalesforceAPIError                  exit 10  api_error: any other refusal
        ├── InvalidQueryError               exit 10  invalid_query: INVALID_FIELD, ...
        ├── QueryLocatorError               exit 10  query_locator_expired: a cursor expired
        ├── SessionExpiredError             exit 10  session_expired: 401 INVALID_SESSION_ID
        ├── BulkJobFailedError              exit 10  bulk_job_failed: a Bulk API 2.0 job
        ├── BulkRefusedError                exit 10  bulk_refused: no Bulk API 2.0 job allowed
        ├── ApiLimitError                   exit 8   api_limit: daily API requests spent
        │   └── ApiUsageThresholdError      exit 8   api_usage_threshold
        └── UnavailableError                exit 9   unavailable: 5xx, 429, timeouts

The commands' tables (error code to exit code, and back) are derived from these classes:
see :func:`error_classes`, :data:`EXIT_CODE_BY_CODE` and :data:`CODE_BY_EXIT_CODE`. Outside
the tree, :class:`StdoutClosedError` (exit 141) ends a command whose stdout reader went away.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from typing import TextIO

    from singer_sdk.exceptions import ConfigValidationError


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


class QueryLocatorError(SalesforceAPIError):
    """400 ``INVALID_QUERY_LOCATOR``: a query cursor expired (idle, or evicted by newer ones)."""

    code = "query_locator_expired"


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


class BulkJobFailedError(SalesforceAPIError):
    """A Bulk API 2.0 query job ended ``Failed`` or ``Aborted``, or never finished."""

    code = "bulk_job_failed"


class BulkRefusedError(SalesforceAPIError):
    """Salesforce refused to create a Bulk API 2.0 query job; REST may read the same rows.

    Bulk API is off for the org or the user, or the query selects something Bulk cannot read.
    """

    code = "bulk_refused"


class StoreError(TapSalesforceError):
    """The session hook's status store cannot be opened, read or written."""

    code = "store_error"
    exit_code = 1


def error_classes() -> list[type[TapSalesforceError]]:
    """Every class of the tree, each before its subclasses.

    >>> [cls.__name__ for cls in error_classes()][:3]
    ['TapSalesforceError', 'ConfigError', 'AuthError']
    """
    found: list[type[TapSalesforceError]] = [TapSalesforceError]
    for cls in found:
        found.extend(cls.__subclasses__())
    return found


# Error code (in the hook's JSON and the status store) to the command's exit code.
EXIT_CODE_BY_CODE: Final[dict[str, int]] = {cls.code: cls.exit_code for cls in error_classes()}
# Exit code back to the code of the most general error with it (a child tap's exit code,
# when it reported nothing else). Exit 1 means unexpected and is left out.
CODE_BY_EXIT_CODE: Final[dict[int, str]] = {
    cls.exit_code: cls.code
    for cls in reversed(error_classes())
    if cls.exit_code != TapSalesforceError.exit_code
}


def config_validation_error(exc: ConfigValidationError) -> ConfigError:
    """One line out of the singer-sdk's list of settings problems."""
    problems = "; ".join(str(e) for e in exc.errors) or str(exc)
    return ConfigError(f"the config is invalid: {problems}; see --about for the settings.")


def report(
    program: str, error: TapSalesforceError, stream: TextIO, *, as_json: bool = False
) -> int:
    r"""Write ``error`` as one line (or one JSON object) to ``stream``; return its exit code.

    Every command reports its errors through here, so each is one line with the same prefix.

    >>> import io
    >>> out = io.StringIO()
    >>> report("tap-salesforce-accounts", ConfigError("bad\nvalue."), out)
    2
    >>> out.getvalue()
    'tap-salesforce-accounts: error: bad value.\n'
    """
    if as_json:
        line = json.dumps({"error": {"code": error.code, "message": error.message}})
    else:
        line = f"{program}: error: {error.message}"
    stream.write(line + "\n")
    stream.flush()
    return error.exit_code


_BY_ERROR_CODE: dict[str, type[SalesforceAPIError]] = {
    "INVALID_SESSION_ID": SessionExpiredError,
    "REQUEST_LIMIT_EXCEEDED": ApiLimitError,
    "INVALID_FIELD": InvalidQueryError,
    "MALFORMED_QUERY": InvalidQueryError,
    "INVALID_QUERY_FILTER_OPERATOR": InvalidQueryError,
    "INVALID_TYPE": InvalidQueryError,
    "INVALID_QUERY_LOCATOR": QueryLocatorError,
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


class StdoutClosedError(BaseException):
    """The reader of stdout went away (``| head``): the command ends quietly.

    Not an :class:`Exception`, like :class:`KeyboardInterrupt`: the SDK's handlers would
    log it as a failed sync, and nothing is wrong with the run but that nobody reads it.
    """

    #: 128 + SIGPIPE, what a shell reports for a command that a closed pipe ended.
    exit_code = 141
