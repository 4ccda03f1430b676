"""Progress of a long extraction: a line at most every few seconds, one summary at the end.

The stream's record counter is the SDK's (``METRIC`` lines at debug level) and also logs,
at most every ``interval`` seconds, how many Accounts were written, how fast, and, when
Salesforce said how many there are, the share done and an estimate of the time left. When
the extraction ends it logs one summary line.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Final, Self

from singer_sdk import metrics

from tap_salesforce_accounts.exceptions import StdoutClosedError

if TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Mapping
    from types import TracebackType

    from tap_salesforce_accounts.client import SalesforceClient

DEFAULT_INTERVAL_SECONDS: Final = 10.0
# Seconds between progress lines; any positive number (tests use a fraction of a second).
INTERVAL_VARIABLE: Final = "TAP_SALESFORCE_ACCOUNTS_PROGRESS_SECONDS"
# The clock is read once per this many records: the counter sits on the per-record path.
_CHECK_EVERY: Final = 64


def interval_seconds(environ: Mapping[str, str] = os.environ) -> float:
    """The progress interval from the environment, else 10 seconds.

    >>> interval_seconds({})
    10.0
    >>> interval_seconds({INTERVAL_VARIABLE: "0.5"})
    0.5
    >>> interval_seconds({INTERVAL_VARIABLE: "soon"})
    10.0
    """
    try:
        value = float(environ.get(INTERVAL_VARIABLE, ""))
    except ValueError:
        return DEFAULT_INTERVAL_SECONDS
    return value if value > 0 else DEFAULT_INTERVAL_SECONDS


def duration(seconds: float) -> str:
    """A short human duration.

    >>> duration(4.2), duration(75), duration(3 * 3600 + 125)
    ('4 s', '1 min 15 s', '3 h 02 min')
    """
    whole = round(seconds)
    if whole < 60:  # noqa: PLR2004
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:  # noqa: PLR2004
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def progress_line(records: int, seconds: float, total: int | None) -> str:
    """What a progress line says.

    >>> progress_line(4000, 2.0, None)
    '4,000 Accounts written so far (2,000/s)'
    >>> progress_line(4000, 2.0, 10000)
    '4,000 of 10,000 Accounts written (40%, 2,000/s), about 3 s left'
    """
    rate = records / seconds if seconds > 0 else 0.0
    if not total:
        return f"{records:,} Accounts written so far ({rate:,.0f}/s)"
    percent = min(100.0, 100.0 * records / total)
    line = f"{records:,} of {total:,} Accounts written ({percent:.0f}%, {rate:,.0f}/s)"
    if rate > 0 and records < total:
        line += f", about {duration((total - records) / rate)} left"
    return line


def summary_line(
    records: int,
    seconds: float,
    *,
    requests: int,
    usage: tuple[int, int] | None,
    bookmark: str | None,
) -> str:
    """What the summary line at the end of an extraction says.

    >>> line = summary_line(5000, 2.5, requests=4, usage=(120, 15000), bookmark="2024-01-04")
    >>> for part in line.split("; "):
    ...     print(part)
    5,000 Accounts in 2.5 s (2,000/s)
    4 requests to Salesforce, 14,880 of the org's 15,000 daily API requests left
    bookmark SystemModstamp 2024-01-04
    >>> summary_line(0, 0.4, requests=3, usage=None, bookmark=None)
    '0 Accounts in 0.4 s (0/s); 3 requests to Salesforce; no bookmark yet'
    """
    rate = records / seconds if seconds > 0 else 0.0
    line = f"{records:,} Accounts in {seconds:.1f} s ({rate:,.0f}/s); {requests:,} requests to "
    line += "Salesforce"
    if usage is not None:
        used, limit = usage
        line += f", {max(0, limit - used):,} of the org's {limit:,} daily API requests left"
    line += f"; bookmark SystemModstamp {bookmark}" if bookmark else "; no bookmark yet"
    return line


class ProgressCounter(metrics.Counter):
    """The SDK's record counter, logging progress lines and a summary.

    Args:
        stream: the stream's name (the metric's tag).
        logger: where progress and summary lines go.
        client: the Salesforce client (its request counts and the org's API usage).
        bookmark: the bookmark the extraction reached.
        interval: seconds between progress lines.
        clock: a monotonic clock (tests pass a fake).
    """

    def __init__(  # noqa: PLR0913
        self,
        stream: str,
        logger: logging.Logger,
        client: SalesforceClient,
        bookmark: Callable[[], str | None],
        *,
        interval: float = DEFAULT_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Count nothing yet; the clock starts when the counter is entered."""
        super().__init__(metrics.Metric.RECORD_COUNT, {metrics.Tag.STREAM: stream})
        self._logger = logger
        self._client = client
        self._bookmark = bookmark
        self._interval = interval
        self._clock = clock
        self.records = 0
        self.total: int | None = None
        self._started = clock()
        self._next_line = self._started + interval
        self._next_check = _CHECK_EVERY

    def expect(self, total: object) -> None:
        """Remember how many records Salesforce said the extraction will write."""
        try:
            count = int(total)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            return
        if count > 0:
            self.total = count

    def __enter__(self) -> Self:
        """Start the clock."""
        self._started = self._clock()
        self._next_line = self._started + self._interval
        return super().__enter__()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        """Log the SDK's last count and the summary line."""
        super().__exit__(exc_type, exc_val, exc_tb)
        if exc_type is not None and issubclass(exc_type, StdoutClosedError):
            self._logger.info("Stopped after %s Accounts: stdout was closed.", f"{self.records:,}")
            return
        client = self._client
        usage = client.usage
        line = summary_line(
            self.records,
            self._clock() - self._started,
            requests=client.rest_calls + client.token_calls,
            usage=None if usage is None else (usage.used, usage.limit),
            bookmark=self._bookmark(),
        )
        if exc_type is None:
            self._logger.info("Done: %s", line)
        else:
            self._logger.info("Stopped: %s", line)

    def increment(self, value: int = 1) -> None:
        """Count written records; now and then, log progress."""
        self.value += value
        self.records += value
        if self.records >= self._next_check:
            self._next_check = self.records + _CHECK_EVERY
            self._check()

    def _check(self) -> None:
        now = self._clock()
        if self._ready_to_log():
            self._pop()
        if now >= self._next_line:
            self._next_line = now + self._interval
            self._logger.info("%s", progress_line(self.records, now - self._started, self.total))
