"""Reading one page ahead in a thread: order, errors, early stop, bounded memory, overlap."""

from __future__ import annotations

import io
import sys
import threading
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from tap_salesforce_accounts import streams
from tap_salesforce_accounts.readahead import SWITCH_INTERVAL_SECONDS, read_ahead
from tap_salesforce_accounts.tap import TapSalesforceAccounts
from tap_salesforce_accounts.writer import SingerJsonlWriter
from tests.helpers import messages

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterator

    from tests.emulator import Emulator
    from tests.emulator.wire import Request, Response

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


def test_threads_switch_quickly_while_a_producer_runs() -> None:
    before = sys.getswitchinterval()
    reader = read_ahead(iter(range(3)))
    assert next(reader) == 0
    assert sys.getswitchinterval() == min(before, SWITCH_INTERVAL_SECONDS)
    assert list(reader) == [1, 2]
    assert sys.getswitchinterval() == before


# The smallest batch Salesforce honours: the shared org's Accounts make three pages.
SMALL_PAGE = 200


class _PageWatcher:
    """Counts the query pages the emulator was asked for (its request log, as it grows)."""

    def __init__(self) -> None:
        self.asked = 0
        self.changed = threading.Condition()

    def note(self, kind: str) -> None:
        if kind == "query_more":
            with self.changed:
                self.asked += 1
                self.changed.notify_all()

    def wait_for(self, pages: int) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.asked >= pages, WAIT_SECONDS)


class _HoldingWriter(SingerJsonlWriter):
    """Before the first record of each page is written, waits for the next page's request."""

    def __init__(self, watcher: _PageWatcher, pages_with_a_next: int) -> None:
        super().__init__(io.BytesIO())
        self.watcher = watcher
        self.pages_with_a_next = pages_with_a_next
        self.written = 0
        # Per page: whether the next page was asked for while this one was being written.
        self.overlapped: list[bool] = []

    def write_record(
        self, stream: str, record: dict[str, Any], version: int | None, time_extracted: dt.datetime
    ) -> None:
        page, offset = divmod(self.written, SMALL_PAGE)
        if offset == 0 and page < self.pages_with_a_next:
            self.overlapped.append(self.watcher.wait_for(page + 1))
        self.written += 1
        super().write_record(stream, record, version, time_extracted)


def test_the_next_page_is_asked_for_while_a_page_is_written(
    emulator: Emulator, config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(streams, "PAGE_SIZE", SMALL_PAGE)
    watcher = _PageWatcher()
    record = emulator.org.record

    def noting(request: Request, response: Response, started: float) -> None:
        record(request, response, started)
        watcher.note(response.kind)

    monkeypatch.setattr(emulator.org, "record", noting)
    writer = _HoldingWriter(watcher, pages_with_a_next=2)
    TapSalesforceAccounts(config=config, message_writer=writer).run()

    # Each page's records were held back until the emulator had the next page's request:
    # without reading ahead, that request would come only after the page was written.
    assert writer.overlapped == [True, True]
    assert watcher.asked == 2  # three pages in all
    output = writer.output.getvalue().decode()  # type: ignore[attr-defined]
    assert len(messages(output, "RECORD")) == writer.written > 2 * SMALL_PAGE
