"""Every setting in one place: the schema ``--about`` shows, each default, one number reader.

The bottom layer of the package: it imports nothing from it but :mod:`exceptions`. The tap,
the client, the session hook and the connect command read their defaults from here, and
``meltano.yml`` declares the same settings (a test keeps the two in step).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Final, overload

from singer_sdk import typing as th
from singer_sdk.helpers.capabilities import BATCH_CONFIG, FLATTENING_CONFIG, STREAM_MAPS_CONFIG

from tap_salesforce_accounts.exceptions import ConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping

DEFAULT_LOGIN_URL: Final = "https://login.salesforce.com"
AUTH_FLOWS: Final = ("refresh_token", "jwt_bearer", "client_credentials")
DEFAULT_AUTH_FLOW: Final = "refresh_token"
# Winter '27; older versions keep working for years, so configs that pin one stay valid.
DEFAULT_API_VERSION: Final = "68.0"
DEFAULT_INDEX_FIELD: Final = "Id"
API_TYPES: Final = ("rest", "bulk", "auto")
DEFAULT_API_TYPE: Final = "rest"
# api_type auto reads this many Accounts or more through Bulk API 2.0.
DEFAULT_BULK_THRESHOLD: Final = 50_000
# Incremental reads stop this long before Salesforce's clock: an Apex transaction may run
# 10 minutes, and its records' SystemModstamp is taken before they become visible.
DEFAULT_LATE_COMMIT_MARGIN: Final = 900.0
DEFAULT_REQUEST_TIMEOUT: Final = 120.0
DEFAULT_MAX_RETRIES: Final = 5
# Shorter than request_timeout: a login host that accepts and never answers is soon retried.
DEFAULT_TOKEN_TIMEOUT_SECONDS: Final = 10.0
DEFAULT_DESCRIBE_MAX_AGE: Final = 300.0
DEFAULT_INTEGRATION_ID: Final = "default"
DEFAULT_LOOKUP_TIMEOUT: Final = 5.0
MAX_LOOKUP_TIMEOUT: Final = 3600.0
DEFAULT_STALE_MAX_AGE: Final = 86_400.0

SETTINGS: Final[dict[str, Any]] = th.PropertiesList(
    th.Property(
        "client_id",
        th.StringType,
        required=True,
        title="Consumer Key",
        description="The Connected App's consumer key.",
    ),
    th.Property(
        "client_secret",
        th.StringType,
        secret=True,
        title="Consumer Secret",
        description="The Connected App's consumer secret (optional for refresh_token with PKCE).",
    ),
    th.Property(
        "auth_flow",
        th.StringType,
        default=DEFAULT_AUTH_FLOW,
        allowed_values=list(AUTH_FLOWS),
        description="OAuth flow: refresh_token, jwt_bearer or client_credentials.",
    ),
    th.Property(
        "refresh_token",
        th.StringType,
        secret=True,
        description="Refresh token for auth_flow=refresh_token "
        "(tap-salesforce-accounts-connect writes it).",
    ),
    th.Property("username", th.StringType, description="Salesforce username for jwt_bearer."),
    th.Property(
        "private_key",
        th.StringType,
        secret=True,
        description="PEM RSA private key for jwt_bearer (or use private_key_path).",
    ),
    th.Property(
        "private_key_path", th.StringType, description="Path of the PEM private key for jwt_bearer."
    ),
    th.Property(
        "login_url",
        th.StringType,
        default=DEFAULT_LOGIN_URL,
        description="Login host: https://login.salesforce.com, https://test.salesforce.com, "
        "a My Domain URL, or the local emulator.",
    ),
    th.Property(
        "loopback_only",
        th.BooleanType,
        default=False,
        description="Talk only to a login host on this machine (a local emulator): a "
        "login_url that is missing, empty or elsewhere is a config error.",
    ),
    th.Property(
        "instance_url",
        th.StringType,
        description="The org's instance URL (informational; the token answer decides).",
    ),
    th.Property(
        "api_version",
        th.StringType,
        default=DEFAULT_API_VERSION,
        description="Salesforce REST API version, e.g. 68.0.",
    ),
    th.Property(
        "index_field",
        th.StringType,
        default=DEFAULT_INDEX_FIELD,
        description="Account field that account_id values match: Id, or a filterable field that "
        "identifies one Account (External ID, unique or idLookup).",
    ),
    th.Property(
        "account_id",
        th.StringType,
        description="On-demand mode: emit only the Account whose index_field equals this value.",
    ),
    th.Property(
        "start_date",
        th.DateTimeType,
        description="Earliest SystemModstamp for the first incremental run.",
    ),
    th.Property(
        "include_deleted",
        th.BooleanType,
        default=False,
        description="Read deleted Accounts too (queryAll), with IsDeleted.",
    ),
    th.Property(
        "api_type",
        th.StringType,
        default=DEFAULT_API_TYPE,
        allowed_values=list(API_TYPES),
        description="rest, bulk (Bulk API 2.0) or auto.",
    ),
    th.Property(
        "bulk_threshold",
        th.IntegerType,
        default=DEFAULT_BULK_THRESHOLD,
        description="With api_type auto: read through Bulk API 2.0 when at least this many "
        "Accounts are to be read (one COUNT() query decides).",
    ),
    th.Property(
        "late_commit_margin_seconds",
        th.NumberType,
        default=DEFAULT_LATE_COMMIT_MARGIN,
        description="Read Accounts changed up to this many seconds before Salesforce's clock; "
        "later ones wait for the next run, so records of long transactions, stamped before "
        "they commit, are not missed (0 reads up to now).",
    ),
    th.Property(
        "max_api_usage_percent",
        th.NumberType,
        description="Stop cleanly before the org's daily API usage passes this percentage.",
    ),
    th.Property(
        "request_timeout",
        th.NumberType,
        default=DEFAULT_REQUEST_TIMEOUT,
        description="Seconds to wait for one HTTP answer from Salesforce.",
    ),
    th.Property(
        "token_timeout_seconds",
        th.NumberType,
        default=DEFAULT_TOKEN_TIMEOUT_SECONDS,
        description="Seconds a token request waits to connect to the login host, and then "
        "for its answer, before it is retried (at most request_timeout).",
    ),
    th.Property(
        "max_retries",
        th.IntegerType,
        default=DEFAULT_MAX_RETRIES,
        description="Retries of a request that failed with 5xx, 429, a timeout or a dropped "
        "connection.",
    ),
    th.Property(
        "token_state_dir",
        th.StringType,
        description="Folder where refresh tokens Salesforce rotates are kept, per user and "
        "mode 0600 (default $XDG_STATE_HOME/tap-salesforce-accounts/tokens, else "
        "~/.local/state/tap-salesforce-accounts/tokens; 'off' keeps them in memory only).",
    ),
    th.Property(
        "describe_cache_dir",
        th.StringType,
        description="Folder of the on-disk describe cache (default "
        "~/.cache/tap-salesforce-accounts; 'off' disables it).",
    ),
    th.Property(
        "describe_cache_max_age_seconds",
        th.NumberType,
        default=DEFAULT_DESCRIBE_MAX_AGE,
        description="A cached describe younger than this is used without asking Salesforce; "
        "an older one is revalidated with If-Modified-Since.",
    ),
    th.Property(
        "hook_store_url",
        th.StringType,
        secret=True,
        description="Session hook status store: sqlite:///path or postgresql://... "
        "(a PostgreSQL URL may hold a password).",
    ),
    th.Property(
        "hook_integration_id",
        th.StringType,
        default=DEFAULT_INTEGRATION_ID,
        description="Names this integration in the hook's status store.",
    ),
    th.Property(
        "lookup_timeout_seconds",
        th.NumberType,
        default=DEFAULT_LOOKUP_TIMEOUT,
        description="The session hook's deadline for one lookup, everything included.",
    ),
    th.Property(
        "stale_fallback",
        th.BooleanType,
        default=False,
        description="Session hook: on failure, answer with the last good fields (status stale).",
    ),
    th.Property(
        "stale_max_age_seconds",
        th.NumberType,
        default=DEFAULT_STALE_MAX_AGE,
        description="Session hook: the oldest last-good fields stale_fallback may return.",
    ),
    th.Property(
        "hook_api_token",
        th.StringType,
        secret=True,
        description="The bearer token the hook service (tap-salesforce-accounts-hook serve) "
        "requires on /v1/ and /metrics; needed to listen on a non-loopback address.",
    ),
).to_dict()

# The tap's own settings; the singer-sdk adds its built-in ones (stream maps, flattening,
# batch) to ``SETTINGS`` when it reads a config or prints ``--about``.
TAP_SETTING_NAMES: Final = frozenset(SETTINGS["properties"])
SDK_SETTING_NAMES: Final = frozenset(
    name
    for builtin in (STREAM_MAPS_CONFIG, FLATTENING_CONFIG, BATCH_CONFIG)
    for name in builtin["properties"]
)
# Every name a config may hold; anything else is a typo or a setting of another plugin.
SETTING_NAMES: Final = TAP_SETTING_NAMES | SDK_SETTING_NAMES


@overload
def read_number(
    config: Mapping[str, Any],
    key: str,
    default: float,
    *,
    low: float,
    high: float | None = None,
    low_inclusive: bool = False,
    whole: bool = False,
) -> float: ...


@overload
def read_number(
    config: Mapping[str, Any],
    key: str,
    default: None,
    *,
    low: float,
    high: float | None = None,
    low_inclusive: bool = False,
    whole: bool = False,
) -> float | None: ...


def read_number(  # noqa: PLR0913
    config: Mapping[str, Any],
    key: str,
    default: float | None,
    *,
    low: float,
    high: float | None = None,
    low_inclusive: bool = False,
    whole: bool = False,
) -> float | None:
    """A numeric setting, checked to lie between ``low`` and ``high`` (included).

    Missing or null means ``default``. A number may arrive as text (from an environment
    variable or a command line).

    Raises:
        ConfigError: the value is not a finite number, or lies out of range.

    >>> read_number({"request_timeout": "30"}, "request_timeout", 120.0, low=0)
    30.0
    >>> read_number({"max_retries": None}, "max_retries", 5, low=0, low_inclusive=True, whole=True)
    5
    >>> read_number({}, "max_api_usage_percent", None, low=0, high=100) is None
    True
    """
    value = config.get(key)
    if value is None:
        return default
    number = _as_number(value)
    kind = "a whole number" if whole else "a number"
    opening = "[" if low_inclusive else "("
    if high is not None:
        bounds = f"in {opening}{low:g}, {high:g}]"
    else:
        bounds = f"of {low:g} or more" if low_inclusive else f"above {low:g}"
    if number is None or (whole and not number.is_integer()):
        msg = f"{key} must be {kind} {bounds}, not {value!r}."
        raise ConfigError(msg)
    above_low = low <= number if low_inclusive else low < number
    if not above_low or (high is not None and number > high):
        msg = f"{key} {value!r} is out of range: use {kind} {bounds}."
        raise ConfigError(msg)
    return number


def _as_number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None
