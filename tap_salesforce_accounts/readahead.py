"""Read one item ahead in a thread: the next page downloads while this one is written."""

from __future__ import annotations

import queue
import threading
from typing import TYPE_CHECKING, Final, TypeVar

if TYPE_CHECKING:
    from collections.abc import Generator, Iterator

T = TypeVar("T")

_DONE: Final = object()
_POLL_SECONDS: Final = 0.1


class _Producer(threading.Thread):
    """Takes items from a source and hands them over one at a time."""

    def __init__(self, source: Iterator[object], name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.source = source
        self.items: queue.Queue[object] = queue.Queue(maxsize=1)
        self.stopped = threading.Event()

    def hand_over(self, item: object) -> bool:
        while not self.stopped.is_set():
            try:
                self.items.put(item, timeout=_POLL_SECONDS)
            except queue.Full:
                continue
            return True
        return False

    def run(self) -> None:
        try:
            for item in self.source:
                if not self.hand_over(item):
                    return
            self.hand_over(_DONE)
        except BaseException as exc:  # noqa: BLE001  (raised again in the reading thread)
            self.hand_over(exc)


def read_ahead(source: Iterator[T], *, name: str = "read-ahead") -> Generator[T, None, None]:
    """Yield ``source``'s items, producing the next one in a thread while one is consumed.

    At most one item waits in the queue besides the one being produced, so memory stays
    constant. An exception in the thread is raised in the caller; closing the generator
    stops the thread after its current item.

    >>> list(read_ahead(iter(range(5))))
    [0, 1, 2, 3, 4]
    """
    producer = _Producer(source, name)
    producer.start()
    try:
        while True:
            item = producer.items.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        producer.stopped.set()
