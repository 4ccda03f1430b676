"""Bulk API 2.0 CSV rows for the tap's writer, converted a batch at a time (the hot path).

Row by row, each typed cell costs a Python call. Here a batch of rows becomes columns (one
``zip``), each column is converted in one pass (text cells only turn ``""`` into null;
booleans, numbers and datetimes take the common case without a call per cell), and the
records are built from the columns by one ``map``. The values written are those of
:func:`schema.make_csv_row_converter` with ``raw_numbers``: numbers stay the text
Salesforce sent when a ``Decimal`` (or ``int``) of it writes that text back, so such
records are for writing only.
"""

from __future__ import annotations

import re
from itertools import islice, repeat
from typing import TYPE_CHECKING, Any, Final

import msgspec

from tap_salesforce_accounts import schema
from tap_salesforce_accounts.rest_pages import record_type
from tap_salesforce_accounts.schema import (
    compound_layout,
    parse_bool,
    parse_decimal,
    parse_int,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence
    from decimal import Decimal

    from tap_salesforce_accounts.schema import ObjectDescription

# Rows per batch: a batch of ~100-field rows as columns is a few MB.
BATCH_ROWS: Final = 500

Column = tuple[str, ...]

_BOOLEANS: Final = {"true": True, "false": False, "": None}
# Integer text that an int writes back unchanged; decimal text that a Decimal writes back
# unchanged (no exponent, no "-0", not below 1e-6, where Decimal switches to "1E-7").
_PLAIN_INT = re.compile(r"-?[1-9][0-9]*|0").fullmatch
_PLAIN_DECIMAL = re.compile(r"-?[1-9][0-9]*(?:\.[0-9]+)?|-?0\.0{0,5}[1-9][0-9]*|0").fullmatch


def raw_decimal(value: str) -> msgspec.Raw | Decimal | str:
    """The number as the JSON text a ``Decimal`` of it is written as, without making one."""
    if _PLAIN_DECIMAL(value):
        return msgspec.Raw(value)
    return parse_decimal(value)


def _text(column: Column) -> list[Any]:
    # Bulk CSV has no null: an empty cell is one (Salesforce stores no empty text).
    return [value or None for value in column]


def _boolean(column: Column) -> list[Any]:
    if _BOOLEANS.keys() >= set(column):
        return list(map(_BOOLEANS.get, column))
    return [parse_bool(value) if value else None for value in column]


def _as_raw_if(plain: Callable[[str], Any], parse: Callable[[str], Any]) -> Callable[..., Any]:
    def convert(column: Column) -> list[Any]:
        if all(map(plain, filter(None, column))):
            return [msgspec.Raw(value) if value else None for value in column]
        return [parse(value) if value else None for value in column]

    return convert


def _datetime(column: Column) -> list[Any]:
    # Bulk API 2.0 writes UTC as "Z": the common case, without a call.
    to_rfc3339 = schema.to_rfc3339
    return [
        value[:-1] + "+00:00" if value[-1:] == "Z" else (to_rfc3339(value) if value else None)
        for value in column
    ]


def _compounds(keys: tuple[str, ...], parts: list[list[Any]]) -> list[Any]:
    """Each row's compound (address, location) from its parts' columns; null if all are."""
    empty = (None,) * len(parts)
    return [
        None if cells == empty else dict(zip(keys, cells, strict=True))
        for cells in zip(*parts, strict=True)
    ]


_COLUMN_CONVERTERS: Final[dict[str, Callable[[Column], list[Any]]]] = {
    "boolean": _boolean,
    "int": _as_raw_if(_PLAIN_INT, parse_int),
    "long": _as_raw_if(_PLAIN_INT, parse_int),
    "double": _as_raw_if(_PLAIN_DECIMAL, raw_decimal),
    "currency": _as_raw_if(_PLAIN_DECIMAL, raw_decimal),
    "percent": _as_raw_if(_PLAIN_DECIMAL, raw_decimal),
    "datetime": _datetime,
}


def _plan(
    fields: Sequence[str],
    columns: dict[str, int],
    layouts: dict[str, tuple[tuple[str, str | None], ...]],
) -> list[tuple[str, Any, Any]]:
    """Each key: ("column", index, None), ("compound", part keys, part indexes) or null."""
    plan: list[tuple[str, Any, Any]] = []
    for key in fields:
        if key in layouts:
            parts = layouts[key]
            plan.append(
                (
                    "compound",
                    tuple(part for part, _ in parts),
                    tuple(columns[column] if column else None for _, column in parts),
                )
            )
        elif key in columns:
            plan.append(("column", columns[key], None))
        else:
            plan.append(("null", None, None))
    return plan


def make_batch_reader(
    desc: ObjectDescription,
    header: Sequence[str],
    compounds: Sequence[str],
    fields: Sequence[str],
) -> Callable[[Iterable[list[str]]], Iterator[Any]]:
    """Compile the reading of a results page's CSV rows into records of ``fields``.

    Args:
        desc: The object's description.
        header: The page's CSV header: the selected field names.
        compounds: Compound fields to rebuild from their parts (all in ``header``).
        fields: The record's keys, in order (names not in the header are null).

    Returns:
        A function from the page's rows to its records (``rest_pages.Record`` structs, or dicts
        when a field name cannot be an attribute).

    Raises:
        ValueError: A compound is not one, or lacks a part in the header; (from the reader)
            a row's cells do not match the header.

    >>> desc = schema.ObjectDescription.from_describe({"fields": [
    ...     {"name": "Id", "type": "id"}, {"name": "IsDeleted", "type": "boolean"},
    ...     {"name": "AnnualRevenue", "type": "currency"}]})
    >>> read = make_batch_reader(desc, ["Id", "IsDeleted", "AnnualRevenue"], [], ["Id",
    ...     "IsDeleted", "AnnualRevenue"])
    >>> for record in read([["001", "false", "12.50"], ["002", "", ""]]):
    ...     print(msgspec.json.encode(record).decode())
    {"Id":"001","IsDeleted":false,"AnnualRevenue":12.50}
    {"Id":"002","IsDeleted":null,"AnnualRevenue":null}
    """
    names = tuple(info.name if (info := desc.field(col)) else col for col in header)
    # A name given twice reads its last column, as a dict built from the row would.
    columns = {name: index for index, name in enumerate(names)}
    width = len(names)
    converters: list[Callable[[Column], list[Any]]] = [_text] * width
    for name, index in columns.items():
        info = desc.field(name)
        converters[index] = _COLUMN_CONVERTERS.get(info.kind if info else "", _text)
    layouts = dict(compound_layout(desc, name, set(names)) for name in compounds)
    plan = _plan(fields, columns, layouts)
    keys = tuple(fields)
    struct = record_type([(key, Any) for key in keys])

    def values_of(batch: list[list[str]]) -> list[Any]:
        if set(map(len, batch)) != {width}:
            cells = next(len(row) for row in batch if len(row) != width)
            side = "shorter" if cells < width else "longer"
            msg = f"A Bulk API 2.0 row of {cells} cells is {side} than its header ({width})."
            raise ValueError(msg)
        converted = [
            convert(column)
            for convert, column in zip(converters, zip(*batch, strict=True), strict=True)
        ]
        nulls = [None] * len(batch)
        out: list[Any] = []
        for kind, first, second in plan:
            if kind == "column":
                out.append(converted[first])
            elif kind == "null":
                out.append(nulls)
            else:
                parts = [nulls if index is None else converted[index] for index in second]
                out.append(_compounds(first, parts))
        return out

    def read(rows: Iterable[list[str]]) -> Iterator[Any]:
        rows = iter(rows)
        while batch := list(islice(rows, BATCH_ROWS)):
            values = values_of(batch)
            if struct is not None:
                yield from map(struct, *values)
            else:
                yield from map(dict, map(zip, repeat(keys), zip(*values, strict=True)))

    return read
