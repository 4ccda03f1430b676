r"""SOQL text: literals quoted safely, and SELECT statements built from checked parts.

Nothing here pastes a caller's value into a statement: values go through :func:`quote`,
names through an identifier check, so neither can change what a statement means. ``where``
clauses are meant to be built with :func:`eq` and :func:`ge`.

String literals use the escapes SOQL documents (``\n \r \t \b \f \" \' \\
\uXXXX``); a backslash before any other
character is a syntax error in Salesforce, so none is ever written.

>>> select(["Id", "Name"], where=eq("Name", "O'Brien & Co"), limit=2)
"SELECT Id, Name FROM Account WHERE Name = 'O\\'Brien & Co' LIMIT 2"
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tap_salesforce_accounts.exceptions import InvalidLookupValueError

if TYPE_CHECKING:
    import types
    from collections.abc import Callable, Iterable, Sequence

MAX_STRING_LITERAL = 4_000
"""Salesforce refuses a string literal longer than this in a WHERE clause."""

MAX_STATEMENT = 100_000
"""Salesforce refuses a SOQL statement longer than this many characters."""

_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*")
_ORDER_ITEM = re.compile(
    r"(?P<field>[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*)"
    r"(?: (?:ASC|DESC))?(?: NULLS (?:FIRST|LAST))?",
    re.IGNORECASE,
)

# The named escapes. Every other C0 control character and DEL is written as \uXXXX:
# legal in SOQL, and it keeps the statement free of raw control bytes, which HTTP stacks,
# proxies and logs mangle. Everything else, emoji included, is written as itself (the URL
# carries it percent-encoded as UTF-8).
_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}
_CONTROLS = {chr(c): f"\\u{c:04x}" for c in [*range(0x20), 0x7F] if chr(c) not in _ESCAPES}
_STRING_TABLE = str.maketrans(_ESCAPES | _CONTROLS)

_UTF16_UNIT = 0xFFFF


class StatementTooLongError(ValueError):
    """A SOQL statement is over Salesforce's 100,000-character limit.

    A programming limit, not a user's mistake: split the field list with
    :func:`split_fields`.
    """


def _utf16_length(value: str) -> int:
    """Length as Salesforce (Java) counts it: characters beyond U+FFFF count twice."""
    return len(value) + sum(1 for char in value if ord(char) > _UTF16_UNIT)


def _check_string(value: str) -> None:
    # Salesforce counts in UTF-16 units (unverified: it is Java), so an emoji counts as
    # two; counting that way can only refuse early, never send what Salesforce refuses.
    if _utf16_length(value) > MAX_STRING_LITERAL:
        msg = (
            f"The value has {_utf16_length(value)} characters: Salesforce accepts at most "
            f"{MAX_STRING_LITERAL:,} in a query filter; pass a shorter value."
        )
        raise InvalidLookupValueError(msg)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate (say, from undecodable bytes on a command line) cannot be sent.
        msg = "The value is not valid Unicode text (it has a lone surrogate): pass it as UTF-8."
        raise InvalidLookupValueError(msg) from None


def _quote_string(value: str, table: dict[int, str]) -> str:
    _check_string(value)
    return "'" + value.translate(table) + "'"


def _quote_number(value: float | Decimal) -> str:
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            msg = f"SOQL has no literal for {value!r}: pass a finite number."
            raise ValueError(msg)
        # repr is the shortest text that round-trips; Decimal then drops the exponent.
        value = Decimal(repr(value))
    if not value.is_finite():
        msg = f"SOQL has no literal for {value!r}: pass a finite number."
        raise ValueError(msg)
    return format(value, "f")


def _quote_datetime(value: datetime) -> str:
    """Write a UTC second-precision datetime literal, flooring any fraction of a second.

    SOQL datetime literals carry whole seconds. Flooring keeps ``>=`` and ``>`` filters
    on the safe side: ``SystemModstamp >= <floor(t)>`` matches every record at or after
    ``t`` (plus those in the same second before it, which incremental syncs re-read
    harmlessly). For ``<`` or ``<=`` upper bounds the floor excludes the part of the
    last second after it; pass whole seconds there.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        msg = (
            f"SOQL needs a time zone for {value.isoformat()}: pass an aware datetime "
            "(for example with tzinfo=datetime.UTC)."
        )
        raise ValueError(msg)
    utc = value.astimezone(UTC)
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}"
        f"T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}Z"
    )


def _quote_date(value: date) -> str:
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def _quote_keyword(value: bool | None) -> str:  # noqa: FBT001
    return {None: "null", True: "true", False: "false"}[value]


# First match wins: bool before int (a bool is an int), datetime before date.
_WRITERS: tuple[tuple[type | types.UnionType, Callable[[Any], str]], ...] = (
    (str, lambda value: _quote_string(value, _STRING_TABLE)),
    (bool | None, _quote_keyword),
    (int | float | Decimal, _quote_number),
    (datetime, _quote_datetime),
    (date, _quote_date),
)


def quote(value: str | bool | float | Decimal | date | datetime | None) -> str:  # noqa: FBT001
    r"""Write ``value`` as a SOQL literal.

    Args:
        value: A string, bool, None, int, float, Decimal, date or aware datetime.

    Returns:
        The literal: ``'text'`` with escapes, ``true``/``false``, ``null``, a number without
        exponent, ``YYYY-MM-DD``, or ``YYYY-MM-DDThh:mm:ssZ`` (UTC, floored to the second).

    Raises:
        InvalidLookupValueError: A string over 4,000 characters or with a lone surrogate.
        ValueError: A naive datetime, or a NaN or infinite number.
        TypeError: Any other type.

    >>> quote("it's"), quote(True), quote(None), quote(1e20), quote(Decimal("1E-3"))
    ("'it\\'s'", 'true', 'null', '100000000000000000000', '0.001')
    >>> quote(datetime(2024, 1, 2, 3, 4, 5, 999_999, tzinfo=UTC))
    '2024-01-02T03:04:05Z'
    """
    for kind, write in _WRITERS:
        if isinstance(value, kind):
            return write(value)
    msg = f"SOQL has no literal for a {type(value).__name__}."
    raise TypeError(msg)


def check_identifier(name: str) -> str:
    """Return ``name`` if it is a field, object or relationship path (``Owner.Name``).

    Raises:
        ValueError: Anything else, so that no text can slip into a statement as a name.

    >>> check_identifier("ns__Field__c")
    'ns__Field__c'
    """
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
        msg = f"{name!r} is not a SOQL field or object name."
        raise ValueError(msg)
    return name


def _dedupe(names: Iterable[str]) -> list[str]:
    # Salesforce refuses "duplicate field selected", and names are case-insensitive.
    seen: set[str] = set()
    kept = []
    for name in names:
        check_identifier(name)
        if name.lower() not in seen:
            seen.add(name.lower())
            kept.append(name)
    return kept


def _check_order_item(item: str) -> str:
    if not isinstance(item, str) or not _ORDER_ITEM.fullmatch(item):
        msg = f"{item!r} is not an ORDER BY item (a field name, then ASC/DESC, NULLS FIRST/LAST)."
        raise ValueError(msg)
    return item


def check_length(statement: str) -> str:
    """Return ``statement`` if Salesforce accepts its length.

    Raises:
        StatementTooLongError: Over 100,000 characters.
    """
    if len(statement) > MAX_STATEMENT:
        msg = (
            f"The SOQL statement has {len(statement):,} characters; Salesforce accepts at most "
            f"{MAX_STATEMENT:,}: select fewer fields per query (see split_fields)."
        )
        raise StatementTooLongError(msg)
    return statement


def select(
    fields: Sequence[str],
    sobject: str = "Account",
    *,
    where: str | None = None,
    order_by: Sequence[str] = (),
    limit: int | None = None,
) -> str:
    """Build ``SELECT … FROM … [WHERE …] [ORDER BY …] [LIMIT n]``.

    Args:
        fields: Field names or relationship paths; duplicates (in any letter case) are
            dropped, keeping the first, since Salesforce refuses them.
        sobject: The object's API name.
        where: A condition built with :func:`eq`, :func:`ge`, :func:`and_`, ...; it is
            inserted as is.
        order_by: Items such as ``"SystemModstamp"`` or ``"Id DESC NULLS LAST"``.
        limit: A positive row limit.

    Returns:
        The statement.

    Raises:
        ValueError: No fields, a bad name, ORDER BY item or limit.
        StatementTooLongError: The statement is over 100,000 characters.

    >>> select(["Id", "id", "Owner.Name"], order_by=["SystemModstamp", "Id"])
    'SELECT Id, Owner.Name FROM Account ORDER BY SystemModstamp, Id'
    """
    names = _dedupe(fields)
    if not names:
        msg = "A SELECT needs at least one field."
        raise ValueError(msg)
    # Every name passed check_identifier: no value is pasted here.
    parts = [f"SELECT {', '.join(names)} FROM {check_identifier(sobject)}"]  # noqa: S608
    if where:
        parts.append(f"WHERE {where}")
    if order_by:
        parts.append("ORDER BY " + ", ".join(_check_order_item(item) for item in order_by))
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            msg = f"LIMIT must be a positive integer, not {limit!r}."
            raise ValueError(msg)
        parts.append(f"LIMIT {limit}")
    return check_length(" ".join(parts))


def select_count(sobject: str = "Account", *, where: str | None = None) -> str:
    """``SELECT COUNT() FROM sobject [WHERE ...]``: the answer's ``totalSize`` is the count.

    >>> select_count(where=ge("SystemModstamp", date(2024, 1, 2)))
    'SELECT COUNT() FROM Account WHERE SystemModstamp >= 2024-01-02'
    """
    statement = f"SELECT COUNT() FROM {check_identifier(sobject)}"  # noqa: S608  (checked name)
    return check_length(f"{statement} WHERE {where}" if where else statement)


def _compare(field: str, operator: str, value: str | bool | float | Decimal | date | None) -> str:  # noqa: FBT001
    return f"{check_identifier(field)} {operator} {quote(value)}"


def eq(field: str, value: str | bool | float | Decimal | date | None) -> str:  # noqa: FBT001
    """``field = value``, the value quoted.

    >>> eq("Customer_Key__c", "K-1")
    "Customer_Key__c = 'K-1'"
    """
    return _compare(field, "=", value)


def ge(field: str, value: str | bool | float | Decimal | date | None) -> str:  # noqa: FBT001
    """``field >= value``, the value quoted (datetimes floored to the second).

    >>> ge("SystemModstamp", datetime(2024, 1, 2, 3, 4, 5, 600_000, tzinfo=UTC))
    'SystemModstamp >= 2024-01-02T03:04:05Z'
    """
    return _compare(field, ">=", value)


def gt(field: str, value: str | bool | float | Decimal | date | None) -> str:  # noqa: FBT001
    """``field > value``, the value quoted."""
    return _compare(field, ">", value)


def lt(field: str, value: str | bool | float | Decimal | date | None) -> str:  # noqa: FBT001
    """``field < value``, the value quoted (datetimes floored to the second)."""
    return _compare(field, "<", value)


def _combine(operator: str, parts: Sequence[str]) -> str:
    kept = [part for part in parts if part]
    if not kept:
        msg = f"{operator} needs at least one condition."
        raise ValueError(msg)
    if len(kept) == 1:
        return kept[0]
    # SOQL refuses AND and OR mixed without parentheses; a combination wraps itself.
    return "(" + f" {operator} ".join(kept) + ")"


def and_(*parts: str) -> str:
    """Join conditions with AND, parenthesized so it nests safely; empty parts are skipped.

    >>> and_(eq("IsDeleted", False), or_(eq("Name", "a"), eq("Name", "b")))
    "(IsDeleted = false AND (Name = 'a' OR Name = 'b'))"
    """
    return _combine("AND", parts)


def or_(*parts: str) -> str:
    """Join conditions with OR, parenthesized so it nests safely; empty parts are skipped."""
    return _combine("OR", parts)


def split_fields(
    fields: Sequence[str],
    *,
    budget: int,
    always: Sequence[str] = ("Id",),
    separator_cost: int = 2,
) -> list[list[str]]:
    """Split a field list into chunks whose SELECT lists each fit ``budget`` characters.

    Salesforce caps a REST request's URI near 16 KB (414 URI Too Long), which a SELECT
    of several hundred fields passes. Each chunk starts with the ``always`` fields (``Id``
    and any key fields) so the partial records of one row can be joined back on them.
    Field order is kept; duplicates (any letter case) are dropped.

    Args:
        fields: The fields to read.
        budget: The most characters one chunk's field list may take: the sum of its names
            plus ``separator_cost`` per separator.
        always: Fields repeated at the start of every chunk.
        separator_cost: Characters per separator: 2 for ``", "`` as :func:`select` writes
            it; 4 once URL-encoded as ``%2C+``, 6 as ``%2C%20``. Names themselves
            (letters, digits, ``_``, ``.``) do not grow when URL-encoded.

    Returns:
        The chunks, at least one.

    Raises:
        ValueError: A bad name, or ``always`` plus one field does not fit the budget.

    >>> split_fields(["Id", "Name", "Phone", "Website"], budget=15)
    [['Id', 'Name', 'Phone'], ['Id', 'Website']]
    """
    keys = _dedupe(always)
    key_set = {name.lower() for name in keys}
    rest = [name for name in _dedupe(fields) if name.lower() not in key_set]
    base = sum(map(len, keys)) + separator_cost * max(len(keys) - 1, 0)
    chunks: list[list[str]] = []
    chunk, used = list(keys), base
    for name in rest:
        cost = len(name) + (separator_cost if chunk else 0)
        if used + cost > budget and len(chunk) > len(keys):
            chunks.append(chunk)
            chunk, used = list(keys), base
            cost = len(name) + (separator_cost if chunk else 0)
        if used + cost > budget:
            msg = (
                f"Field {name!r} with {', '.join(keys) or 'no key fields'} takes "
                f"{used + cost} characters, over the budget of {budget}."
            )
            raise ValueError(msg)
        chunk.append(name)
        used += cost
    chunks.append(chunk)
    return chunks


def fields_to_drop(
    fields: Sequence[str], *, excess: int, keep: Sequence[str] = (), separator_cost: int = 2
) -> list[str]:
    """The fewest fields whose removal shortens a SELECT list by ``excess`` characters.

    The longest names go first; ``keep`` fields are never chosen.

    >>> fields_to_drop(["Id", "Name", "Description__c", "Phone"], excess=10, keep=["Id"])
    ['Description__c']
    """
    kept = {name.lower() for name in keep}
    candidates = sorted(
        (name for name in _dedupe(fields) if name.lower() not in kept), key=len, reverse=True
    )
    chosen: list[str] = []
    saved = 0
    for name in candidates:
        if saved >= excess:
            break
        chosen.append(name)
        saved += len(name) + separator_cost
    return chosen
