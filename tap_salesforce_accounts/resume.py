"""A sorted REST query read to its end, through expired query cursors.

Salesforce drops a query cursor left idle (about 15 minutes: a slow target) or pushed out by
the user's newer ones (about 10 open): its next page answers ``INVALID_QUERY_LOCATOR``.
Records come in ``(SystemModstamp, Id)`` order, so a new query for what sorts after the last
record emitted goes on without a gap.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final

import msgspec

from tap_salesforce_accounts import schema, soql
from tap_salesforce_accounts.exceptions import QueryLocatorError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

logger = logging.getLogger(__name__)

STAMP: Final = "SystemModstamp"


def after(stamp: str, record_id: str) -> str:
    """SOQL for the records that sort after ``(stamp, record_id)`` by ``SystemModstamp, Id``.

    SOQL datetime literals hold whole seconds, so the test is on the floored second: a record
    of that second with a greater Id may come again, but none is skipped.

    >>> after("2024-01-02T03:04:05.000+00:00", "001000000000001AAA").split(" OR ")[0]
    '(SystemModstamp > 2024-01-02T03:04:05Z'
    """
    at = schema.parse_datetime(stamp)
    return soql.or_(
        soql.gt(STAMP, at),
        soql.and_(soql.ge(STAMP, at), soql.gt("Id", record_id)),
    )


def records(
    pages: Callable[[str], Iterable[list[Any]]],
    statement: Callable[[str | None], str],
    convert: Callable[[Any], Any],
) -> Iterator[Any]:
    """Converted records of ``pages(statement(None))``, re-queried after an expired cursor.

    Args:
        pages: the pages of a query statement.
        statement: the statement, given a condition to add to its WHERE (or None).
        convert: turns a REST record into the stream's record (a dict, or anything with
            ``get`` for the tap's own writer).

    Raises:
        QueryLocatorError: a cursor expired before any record came since the last query.
    """
    query = statement(None)
    last: tuple[Any, Any] | None = None
    resumed_from = last
    while True:
        try:
            for page in pages(query):
                # Popping frees each record once written: a page is ~10 MB of objects.
                page.reverse()
                while page:
                    record = convert(page.pop())
                    yield record
                    last = (record.get(STAMP), record.get("Id"))
        except QueryLocatorError:
            if last is None or last == resumed_from:
                raise  # nothing read since the last query: querying again gets no further
            resumed_from = last
            logger.warning(
                "The query cursor expired (INVALID_QUERY_LOCATOR); querying again from "
                "%s %s, Id %s.",
                STAMP,
                _text(last[0]),
                _text(last[1]),
            )
            query = statement(after(_text(last[0]), _text(last[1])))
        else:
            return


def _text(value: Any) -> str:  # noqa: ANN401
    """A record's text value: the tap's writer keeps text as the JSON Salesforce sent."""
    if isinstance(value, msgspec.Raw):
        return str(msgspec.json.decode(value))
    return str(value)
