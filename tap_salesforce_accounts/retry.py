"""The one retry policy of every call to Salesforce, data and token requests alike.

What is retried is decided by the caller (5xx, 429, timeouts, dropped connections); how
long to wait between attempts is decided here: exponential backoff with "equal jitter",
or the server's ``Retry-After``, never more than ``backoff_max``.
"""

from __future__ import annotations

import dataclasses
import email.utils
import random
import time
from typing import TYPE_CHECKING, Final

from tap_salesforce_accounts.settings import DEFAULT_MAX_RETRIES

if TYPE_CHECKING:
    from collections.abc import Callable

DEFAULT_BACKOFF_BASE: Final = 0.5
DEFAULT_BACKOFF_MAX: Final = 60.0


@dataclasses.dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to retry a call that can succeed on a retry.

    Args:
        max_retries: retries after the first attempt (0: none).
        backoff_base: the first delay's ceiling, in seconds; it doubles per attempt.
        backoff_max: the longest delay, ``Retry-After`` included.
        sleep: how to wait (tests pass a fake).
    """

    max_retries: int = DEFAULT_MAX_RETRIES
    backoff_base: float = DEFAULT_BACKOFF_BASE
    backoff_max: float = DEFAULT_BACKOFF_MAX
    sleep: Callable[[float], None] = time.sleep

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (1 for the first retry).

        >>> RetryPolicy(backoff_max=10.0).delay(1, retry_after=30.0)
        10.0
        >>> 0.25 <= RetryPolicy().delay(1) <= 0.5
        True
        """
        if retry_after is not None:
            return min(retry_after, self.backoff_max)
        ceiling = min(self.backoff_max, self.backoff_base * 2.0 ** (attempt - 1))
        # "Equal jitter": at least half the exponential delay, so retries spread out.
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311


def retry_after_seconds(value: str | None) -> float | None:
    """Read a ``Retry-After`` header: seconds, or an HTTP date; None when absent or unreadable.

    >>> retry_after_seconds("3")
    3.0
    >>> retry_after_seconds("soon") is None
    True
    """
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None  # an unreadable Retry-After falls back to the usual backoff
    return max(0.0, parsed.timestamp() - time.time())
