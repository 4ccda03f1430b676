"""Writes sync events to the status store from a background thread.

A lookup hands its event over and returns: the store's latency, locks and outages never
reach the caller. Events are written in batches, one transaction each. A store that fails
is reported in the log (at most once a minute while it stays broken) and the batch is
dropped: the status is best effort, the lookup's answer is not.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import TYPE_CHECKING, Final

from tap_salesforce_accounts.exceptions import StoreError

if TYPE_CHECKING:
    from collections.abc import Callable

    from tap_salesforce_accounts.hook.store import StatusStore, SyncEvent

logger = logging.getLogger(__name__)

MAX_BATCH: Final = 256
MAX_PENDING: Final = 10_000
WARN_INTERVAL_SECONDS: Final = 60.0


class StoreWarnings:
    """Logs a store problem as a warning, at most once per interval while it lasts."""

    def __init__(self, interval: float = WARN_INTERVAL_SECONDS) -> None:
        """Start with no problem seen."""
        self._interval = interval
        self._last_warned = float("-inf")
        self._failing = False
        self._lock = threading.Lock()

    def problem(self, error: StoreError, doing: str) -> None:
        """Report that ``doing`` failed."""
        now = time.monotonic()
        with self._lock:
            self._failing = True
            due = now - self._last_warned >= self._interval
            if due:
                self._last_warned = now
        if due:
            logger.warning(
                "Session hook status store problem while %s (lookups still answer): %s",
                doing,
                error.message,
            )
        else:
            logger.debug("Status store still failing while %s: %s", doing, error.message)

    def recovered(self) -> None:
        """Report that the store works again, if it had failed."""
        with self._lock:
            was_failing = self._failing
            self._failing = False
            self._last_warned = float("-inf")
        if was_failing:
            logger.warning("Session hook status store works again.")


class _Flush:
    def __init__(self) -> None:
        self.done = threading.Event()


class Recorder:
    """A background writer of sync events.

    Args:
        store: where events go (used from the writer thread only).
        warnings: where store problems are reported.
        last_good_cutoff: when set, called per batch for the epoch time before which last
            good fields are forgotten.
    """

    def __init__(
        self,
        store: StatusStore,
        warnings: StoreWarnings,
        *,
        last_good_cutoff: Callable[[], float] | None = None,
    ) -> None:
        """Start the writer thread."""
        self._store = store
        self._warnings = warnings
        self._last_good_cutoff = last_good_cutoff
        self._queue: queue.Queue[SyncEvent | _Flush | None] = queue.Queue()
        self._closed = False
        self._dropped = 0
        self._thread = threading.Thread(
            target=self._run, name="tap-salesforce-accounts-hook-recorder", daemon=True
        )
        self._thread.start()

    def submit(self, event: SyncEvent) -> None:
        """Queue an event; never blocks (past ``MAX_PENDING`` queued events, it is dropped)."""
        if self._closed:
            logger.debug("Recorder closed; event not recorded")
            return
        if self._queue.qsize() >= MAX_PENDING:
            self._dropped += 1
            self._warnings.problem(
                StoreError(
                    f"{self._dropped} sync events dropped: the status store is not keeping up."
                ),
                "queueing a sync event",
            )
            return
        self._queue.put(event)

    def flush(self, timeout: float) -> bool:
        """Wait until the events queued so far are written (or failed).

        Returns:
            Whether they were, within ``timeout`` seconds.
        """
        if self._closed or not self._thread.is_alive():
            return True
        marker = _Flush()
        self._queue.put(marker)
        return marker.done.wait(timeout)

    def close(self, timeout: float) -> None:
        """Write what is queued (waiting at most ``timeout`` seconds), stop, close the store."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        self._thread.join(timeout)
        if self._thread.is_alive():
            logger.warning(
                "The session hook's status store did not take the last sync events within "
                "%.0fs; they are not recorded.",
                timeout,
            )
            return
        self._store.close()

    def _run(self) -> None:
        stop = False
        while not stop:
            item = self._queue.get()
            batch: list[SyncEvent] = []
            flushes: list[_Flush] = []
            while True:
                if item is None:
                    stop = True
                elif isinstance(item, _Flush):
                    flushes.append(item)
                else:
                    batch.append(item)
                if stop or len(batch) >= MAX_BATCH:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            self._write(batch)
            for marker in flushes:
                marker.done.set()

    def _write(self, batch: list[SyncEvent]) -> None:
        if not batch:
            return
        cutoff = self._last_good_cutoff() if self._last_good_cutoff is not None else None
        try:
            self._store.record(batch, last_good_cutoff=cutoff)
        except StoreError as exc:
            self._warnings.problem(exc, f"recording {len(batch)} sync(s)")
        except Exception:
            # Never let the writer thread die: later events still deserve a try.
            logger.exception("Unexpected error writing to the session hook's status store")
        else:
            self._warnings.recovered()
