"""The status store's interface: the events it keeps and the operations on them.

A backend (:mod:`.sqlite`, :mod:`.postgres`) supplies a connection, transactions and its
time type; the statements (:mod:`.statements`) and everything else are shared.
"""

from __future__ import annotations

import abc
import contextlib
import dataclasses
import datetime as dt
import hashlib
import threading
from typing import TYPE_CHECKING, Any, Final, Self

from tap_salesforce_accounts import ids
from tap_salesforce_accounts.exceptions import StoreError
from tap_salesforce_accounts.hook.store.statements import (
    FORGET_LAST_GOOD,
    INSERT_HISTORY,
    PRUNE_HISTORY,
    PRUNE_LAST_GOOD,
    SELECT_HISTORY,
    SELECT_LAST_GOOD,
    SELECT_STATUS,
    UPSERT_LAST_GOOD,
    UPSERT_STATUS,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from tap_salesforce_accounts.hook.store.location import StoreLocation

DEFAULT_HISTORY_LIMIT: Final = 1000
SCHEMA_VERSION: Final = "1"
SUCCESS_STATUSES: Final = frozenset({"ok", "not_found"})


def value_key(index_field: str, value: str) -> str:
    """The key of a lookup value in the store: SHA-256 of the index field and the value.

    The field name takes part so that ``Id = X`` and ``Customer_Key__c = X`` differ. An
    Account Id counts in its 18-character form, so its 15-character form finds it too.

    >>> len(value_key("Id", "001000000000001AAA"))
    64
    >>> value_key("Id", "001D000000IRFma") == value_key("id", "001D000000IRFmaIAH")
    True
    """
    field = index_field.lower()
    if field == "id" and ids.is_account_id(value):
        value = ids.normalize_account_id(value)
    return hashlib.sha256(f"{field}\x00{value}".encode()).hexdigest()


def iso_utc(epoch: float) -> str:
    """An epoch time as ``2025-01-31T12:00:00.123Z`` (fixed width, so text order is time order).

    >>> iso_utc(0)
    '1970-01-01T00:00:00.000Z'
    """
    moment = dt.datetime.fromtimestamp(epoch, dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> float:
    """The epoch time of an :func:`iso_utc` text.

    >>> parse_iso("1970-01-01T00:00:01.500Z")
    1.5
    """
    return dt.datetime.fromisoformat(text).timestamp()


@dataclasses.dataclass(frozen=True, slots=True)
class SyncEvent:
    """One lookup, as the store keeps it.

    ``good_fields`` (JSON text) with ``good_key`` saves the last good fields of a value;
    ``good_key`` alone forgets them (Salesforce said the value matches no Account).
    """

    integration_id: str
    at: float
    status: str
    duration_ms: float
    mode: str
    host: str
    salesforce_calls: int | None = None
    api_used: int | None = None
    api_limit: int | None = None
    error_code: str | None = None
    error_message: str | None = None
    good_key: str | None = None
    good_fields: str | None = None
    good_synced_at: float | None = None

    @property
    def is_success(self) -> bool:
        """``ok`` and ``not_found`` are definite answers from Salesforce: successful syncs."""
        return self.status in SUCCESS_STATUSES


@dataclasses.dataclass(frozen=True, slots=True)
class LastGood:
    """The last fields read from Salesforce for one lookup value."""

    fields: str
    synced_at: float


class Cursor(abc.ABC):
    """The few operations the statements need, over a DB-API connection."""

    @abc.abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement; return its rows (empty for writes)."""


class StatusStore(abc.ABC):
    """The status store; thread-safe (one connection, used under a lock).

    Args:
        location: where the store is.
        history_limit: how many syncs to keep per integration.
    """

    def __init__(
        self, location: StoreLocation, *, history_limit: int = DEFAULT_HISTORY_LIMIT
    ) -> None:
        """Keep the location; the connection opens on first use."""
        self.location = location
        self.history_limit = history_limit
        self._lock = threading.Lock()
        self._closed = False

    @property
    def display(self) -> str:
        """The store's URL fit for a log (no password)."""
        return self.location.display

    # -- backend ---------------------------------------------------------------------------

    @abc.abstractmethod
    def _transaction(self) -> contextlib.AbstractContextManager[Cursor]:
        """A write transaction (opening the connection and the schema if needed)."""

    @abc.abstractmethod
    def _reader(self) -> contextlib.AbstractContextManager[Cursor]:
        """A read-only view (opening the connection and the schema if needed)."""

    @abc.abstractmethod
    def _to_db_time(self, epoch: float) -> object:
        """A time as the backend stores it."""

    @abc.abstractmethod
    def _from_db_time(self, value: object) -> float:
        """A stored time as epoch seconds."""

    @abc.abstractmethod
    def _disconnect(self) -> None:
        """Close the connection, if open (next use reconnects)."""

    @abc.abstractmethod
    def _problem(self, exc: BaseException) -> StoreError | None:
        """The exception as a StoreError if it is a backend error, else ``None``."""

    @contextlib.contextmanager
    def _guarded(self, *, write: bool) -> Iterator[Cursor]:
        with self._lock:
            if self._closed:
                msg = f"the status store {self.display} is closed."
                raise StoreError(msg)
            try:
                with self._transaction() if write else self._reader() as cursor:
                    yield cursor
            except Exception as exc:
                problem = self._problem(exc)
                if problem is None:
                    raise
                # A broken connection is not reused: the next call reconnects.
                self._disconnect()
                raise problem from exc

    # -- operations ------------------------------------------------------------------------

    def record(self, events: Sequence[SyncEvent], *, last_good_cutoff: float | None = None) -> None:
        """Write syncs in one transaction: history rows, status, last good fields.

        Args:
            events: the syncs, oldest first.
            last_good_cutoff: forget last good fields read before this epoch time.

        Raises:
            StoreError: the store cannot be written (nothing of ``events`` is kept).
        """
        if not events:
            return
        ts = self._to_db_time
        with self._guarded(write=True) as cur:
            for event in events:
                error_message = _one_line(event.error_message)
                cur.execute(
                    INSERT_HISTORY,
                    (
                        event.integration_id,
                        ts(event.at),
                        event.status,
                        round(event.duration_ms, 3),
                        event.salesforce_calls,
                        event.api_used,
                        event.api_limit,
                        event.error_code,
                        error_message,
                        event.mode,
                        event.host,
                    ),
                )
                success = event.is_success
                cur.execute(
                    UPSERT_STATUS,
                    (
                        event.integration_id,
                        ts(event.at) if success else None,
                        None if success else ts(event.at),
                        None if success else event.error_code,
                        None if success else error_message,
                        1 if success else 0,
                        0 if success else 1,
                    ),
                )
                if event.good_key is not None:
                    if event.good_fields is not None:
                        synced = event.good_synced_at or event.at
                        cur.execute(
                            UPSERT_LAST_GOOD,
                            (event.integration_id, event.good_key, event.good_fields, ts(synced)),
                        )
                    else:
                        cur.execute(FORGET_LAST_GOOD, (event.integration_id, event.good_key))
            for integration_id in {event.integration_id for event in events}:
                cur.execute(PRUNE_HISTORY, (integration_id, integration_id, self.history_limit))
                if last_good_cutoff is not None:
                    cur.execute(PRUNE_LAST_GOOD, (integration_id, ts(last_good_cutoff)))

    def status(self, integration_id: str) -> dict[str, Any]:
        """The integration's status.

        Returns:
            ``last_success_at``, ``last_failure_at``, ``last_error`` (``code``, ``message``,
            ``at``, or ``None``), ``successes`` and ``failures``.

        Raises:
            StoreError: the store cannot be read.
        """
        with self._guarded(write=False) as cur:
            rows = cur.execute(SELECT_STATUS, (integration_id,))
        if not rows:
            return {
                "integration_id": integration_id,
                "last_success_at": None,
                "last_failure_at": None,
                "last_error": None,
                "successes": 0,
                "failures": 0,
            }
        success_at, failure_at, code, message, successes, failures = rows[0]
        failure_iso = None if failure_at is None else iso_utc(self._from_db_time(failure_at))
        return {
            "integration_id": integration_id,
            "last_success_at": None
            if success_at is None
            else iso_utc(self._from_db_time(success_at)),
            "last_failure_at": failure_iso,
            "last_error": None
            if failure_iso is None
            else {"code": code, "message": message, "at": failure_iso},
            "successes": int(successes),
            "failures": int(failures),
        }

    def history(self, integration_id: str, limit: int = 20) -> list[dict[str, Any]]:
        """The integration's most recent syncs, newest first.

        Raises:
            StoreError: the store cannot be read.
        """
        with self._guarded(write=False) as cur:
            rows = cur.execute(SELECT_HISTORY, (integration_id, max(0, int(limit))))
        return [
            {
                "at": iso_utc(self._from_db_time(at)),
                "status": status,
                "duration_ms": float(duration),
                "salesforce_calls": calls,
                "api_usage": None
                if used is None or cap is None
                else {"used": int(used), "limit": int(cap)},
                "error": None if code is None else {"code": code, "message": message},
                "mode": mode,
                "host": host,
            }
            for at, status, duration, calls, used, cap, code, message, mode, host in rows
        ]

    def last_good(self, integration_id: str, key: str) -> LastGood | None:
        """The last good fields saved for a value key, if any.

        Raises:
            StoreError: the store cannot be read.
        """
        with self._guarded(write=False) as cur:
            rows = cur.execute(SELECT_LAST_GOOD, (integration_id, key))
        if not rows:
            return None
        fields, synced_at = rows[0]
        return LastGood(fields=str(fields), synced_at=self._from_db_time(synced_at))

    def close(self) -> None:
        """Close the connection; the store cannot be used afterwards."""
        with self._lock:
            self._closed = True
            self._disconnect()

    def __enter__(self) -> Self:
        """Use as a context manager."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close the store."""
        self.close()


def _one_line(text: str | None) -> str | None:
    return None if text is None else " ".join(text.split())[:1000]
