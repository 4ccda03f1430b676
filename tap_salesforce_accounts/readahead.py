"""Read one item ahead in a thread: the next page downloads while this one is written."""

from __future__ import annotations

import contextlib
import queue
import sys
import threading
from typing import TYPE_CHECKING, Final, TypeVar

if TYPE_CHECKING:
    from collections.abc import Generator, Iterator

T = TypeVar("T")

_DONE: Final = object()
_POLL_SECONDS: Final = 0.1
# While a producer runs, a thread waiting for the interpreter gets it within this long
# (Python's default is 5 ms): the producer's next request, and each read of its answer,
# would otherwise wait that long each time for the thread writing records.
SWITCH_INTERVAL_SECONDS: Final = 0.0005

_switching = threading.Lock()
_producers = 0
_saved_interval = 0.005


@contextlib.contextmanager
def _quick_switching() -> Iterator[None]:
    global _producers, _saved_interval  # noqa: PLW0603  (one interval per process)
    with _switching:
        if _producers == 0:
            _saved_interval = sys.getswitchinterval()
            sys.setswitchinterval(min(_saved_interval, SWITCH_INTERVAL_SECONDS))
        _producers += 1
    try:
        yield
    finally:
        with _switching:
            _producers -= 1
            if _producers == 0:
                sys.setswitchinterval(_saved_interval)


class _Producer(threading.Thread):
    """Produces the next item only once the reader has taken the previous one."""

    def __init__(self, source: Iterator[object], name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.source = source
        self.items: queue.SimpleQueue[object] = queue.SimpleQueue()
        # One slot: an item is produced while the reader works on the one before it, so
        # at most two are alive at once (a page being written, the next one downloading).
        self.slot = threading.Semaphore(1)
        self.stopped = threading.Event()

    def take(self) -> object:
        item = self.items.get()
        self.slot.release()
        return item

    def _slot_free(self) -> bool:
        while not self.stopped.is_set():
            if self.slot.acquire(timeout=_POLL_SECONDS):
                return True
        return False

    def run(self) -> None:
        try:
            while self._slot_free():
                item = next(self.source, _DONE)
                self.items.put(item)
                if item is _DONE:
                    return
        except BaseException as exc:  # noqa: BLE001  (raised again in the reading thread)
            self.items.put(exc)


def read_ahead(source: Iterator[T], *, name: str = "read-ahead") -> Generator[T, None, None]:
    """Yield ``source``'s items, producing the next one in a thread while one is consumed.

    The thread produces an item only after the reader took the previous one, so at most two
    items are alive at once and memory stays constant. An exception in the thread is
    raised in the caller; closing the generator stops the thread after its current item.

    >>> list(read_ahead(iter(range(5))))
    [0, 1, 2, 3, 4]
    """
    producer = _Producer(source, name)
    with _quick_switching():
        producer.start()
        try:
            while True:
                item = producer.take()
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item  # type: ignore[misc]
        finally:
            producer.stopped.set()
