"""Lookup values converted by the index field's describe type, before any call."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from tap_salesforce_accounts import lookup_value, soql
from tap_salesforce_accounts.exceptions import InvalidLookupValueError
from tap_salesforce_accounts.schema import FieldInfo


def field(kind: str) -> FieldInfo:
    return FieldInfo.from_describe({"name": "Key__c", "type": kind, "filterable": True})


@pytest.mark.parametrize(
    ("kind", "value", "literal"),
    [
        ("double", "100015", "100015"),
        ("double", " -12.50 ", "-12.50"),
        ("currency", "1.5E3", "1500"),
        ("percent", "0.25", "0.25"),
        ("int", "42", "42"),
        ("long", "9007199254740993", "9007199254740993"),
        ("int", "42.0", "42"),
        ("date", "2024-01-31", "2024-01-31"),
        ("datetime", "2024-01-31T12:30:00Z", "2024-01-31T12:30:00Z"),
        ("datetime", "2024-01-31T14:30:00+02:00", "2024-01-31T12:30:00Z"),
        ("string", "CUST-1", "'CUST-1'"),
        ("email", "a@b.example", "'a@b.example'"),
    ],
)
def test_values_become_soql_literals_of_their_type(kind: str, value: str, literal: str) -> None:
    assert soql.quote(lookup_value.convert(field(kind), value)) == literal


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("double", "12x", "a number"),
        ("double", "", "a number"),
        ("double", "NaN", "a number"),
        ("double", "-Infinity", "a number"),
        ("double", "1e400", "a number"),
        ("int", "12.5", "a whole number"),
        ("long", "seven", "a whole number"),
        ("date", "2024-13-01", "a date"),
        ("date", "yesterday", "a date"),
        ("datetime", "2024-01-31T12:30:00", "offset"),
        ("datetime", "soon", "a datetime"),
    ],
)
def test_values_the_type_cannot_hold_are_refused(kind: str, value: str, expected: str) -> None:
    with pytest.raises(InvalidLookupValueError) as raised:
        lookup_value.convert(field(kind), value)
    assert raised.value.exit_code == 6
    assert f"Key__c, a {kind} field" in raised.value.message
    assert expected in raised.value.message


def test_text_is_kept_as_it_is() -> None:
    assert lookup_value.convert(field("string"), " padded ") == " padded "


@pytest.mark.parametrize(
    ("literal", "segment"),
    [
        (Decimal(100015), "100015"),
        (Decimal("100015.0"), "100015"),
        (Decimal("1.5E+3"), "1500"),
        (Decimal("0.250"), "0.25"),
        (7, "7"),
        (date(2024, 1, 31), "2024-01-31"),
        (datetime(2024, 1, 31, 12, 30, tzinfo=UTC), "2024-01-31T12:30:00+00:00"),
        ("CUST-1", "CUST-1"),
    ],
)
def test_path_segments_write_numbers_in_plain_digits(
    literal: lookup_value.Literal, segment: str
) -> None:
    assert lookup_value.path_segment(literal) == segment
