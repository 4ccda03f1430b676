"""What a lookup answers: the JSON object of the hook's contract, and how it is encoded."""

from __future__ import annotations

import dataclasses
import decimal
from typing import TYPE_CHECKING, Any, Final, Literal

import msgspec

if TYPE_CHECKING:
    from tap_salesforce_accounts.client import ApiUsage

Status = Literal["ok", "not_found", "error", "stale"]

TIMEOUT_CODE: Final = "timeout"
INTERNAL_CODE: Final = "internal_error"

# Currency keeps every digit: Decimals are written as JSON numbers.
_encoder = msgspec.json.Encoder(decimal_format="number")
_decoder = msgspec.json.Decoder(float_hook=decimal.Decimal)


def dumps(document: object) -> str:
    """One JSON document on one line, Decimals as numbers.

    >>> dumps({"AnnualRevenue": decimal.Decimal("1234567.89")})
    '{"AnnualRevenue":1234567.89}'
    """
    return _encoder.encode(document).decode()


def loads(text: str | bytes) -> Any:  # noqa: ANN401
    """Decode JSON, numbers with a fraction as ``Decimal``."""
    return _decoder.decode(text)


@dataclasses.dataclass(frozen=True, slots=True)
class ErrorInfo:
    """Why a lookup failed.

    ``code`` is one of the tap's error codes, ``timeout`` or ``internal_error``; ``message``
    is one line.
    """

    code: str
    message: str

    def to_json(self) -> dict[str, str]:
        """``{"code", "message"}``."""
        return {"code": self.code, "message": self.message}


@dataclasses.dataclass(frozen=True, slots=True)
class LookupResult:
    """The answer of :meth:`SessionHook.lookup`.

    Attributes:
        status: ``ok`` (fields read now), ``not_found`` (Salesforce has no such Account),
            ``error`` (no answer: see ``error``) or ``stale`` (no answer, the last good fields
            are returned instead: see ``error`` and ``stale_age_seconds``).
        account: the Account's fields (``ok`` and ``stale``), else ``None``.
        error: why the lookup failed (``error`` and ``stale``), else ``None``.
        synced_at: when ``account`` was read from Salesforce (ISO 8601, UTC), else ``None``.
        stale_age_seconds: how old the stale fields are (``stale`` only).
        duration_ms: how long the lookup took (not part of the JSON).
        salesforce_calls: HTTP requests sent to Salesforce, when known (not part of the JSON).
        api_usage: the org's API usage as Salesforce last reported it (not part of the JSON).
    """

    status: Status
    account: dict[str, Any] | None = None
    error: ErrorInfo | None = None
    synced_at: str | None = None
    stale_age_seconds: float | None = None
    duration_ms: float = dataclasses.field(default=0.0, compare=False)
    salesforce_calls: int | None = dataclasses.field(default=None, compare=False)
    api_usage: ApiUsage | None = dataclasses.field(default=None, compare=False)

    @property
    def is_success(self) -> bool:
        """Whether Salesforce gave a definite answer (``ok`` or ``not_found``)."""
        return self.status in {"ok", "not_found"}

    def to_json(self) -> dict[str, Any]:
        """The contract's JSON object (as Python values; currency values are ``Decimal``).

        ``{"status", "account", "error", "synced_at"}``, plus ``stale_age_seconds`` when
        ``status`` is ``stale``.
        """
        document: dict[str, Any] = {
            "status": self.status,
            "account": self.account,
            "error": None if self.error is None else self.error.to_json(),
            "synced_at": self.synced_at,
        }
        if self.status == "stale":
            document["stale_age_seconds"] = self.stale_age_seconds
        return document

    def dumps(self) -> str:
        """:meth:`to_json` as one line of JSON text."""
        return dumps(self.to_json())
