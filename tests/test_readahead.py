"""Reading one page ahead in a thread: order, errors, early stop, bounded memory."""

from __future__ import annotations

import threading
import uuid
from typing import TYPE_CHECKING

import pytest

from tap_salesforce_accounts.readahead import read_ahead

if TYPE_CHECKING:
    from collections.abc import Iterator

WAIT_SECONDS = 30


def test_items_arrive_in_order() -> None:
    assert list(read_ahead(iter(range(100)))) == list(range(100))


def test_an_error_in_the_thread_is_raised_in_the_reader() -> None:
    def failing() -> Iterator[int]:
        yield 1
        msg = "page 2 broke"
        raise RuntimeError(msg)

    reader = read_ahead(failing())
    assert next(reader) == 1
    with pytest.raises(RuntimeError, match="page 2 broke"):
        next(reader)


def test_the_producer_stays_at_most_one_item_ahead() -> None:
    produced: list[int] = []
    made = [threading.Event() for _ in range(10)]

    def counting() -> Iterator[int]:
        for i in range(10):
            produced.append(i)
            made[i].set()
            yield i

    reader = read_ahead(counting())
    assert next(reader) == 0
    # The reader holds item 0; item 1 is produced meanwhile, and item 2 waits for the
    # reader to take item 1.
    assert made[1].wait(WAIT_SECONDS)
    assert produced == [0, 1]
    assert next(reader) == 1
    assert made[2].wait(WAIT_SECONDS)
    assert produced == [0, 1, 2]
    reader.close()


def test_closing_the_reader_stops_the_thread() -> None:
    def endless() -> Iterator[int]:
        i = 0
        while True:
            yield i
            i += 1

    name = f"endless-{uuid.uuid4().hex}"
    reader = read_ahead(endless(), name=name)
    assert next(reader) == 0
    (producer,) = (thread for thread in threading.enumerate() if thread.name == name)
    reader.close()
    producer.join(WAIT_SECONDS)
    assert not producer.is_alive()
