"""Tests of tap_salesforce_accounts.soql: literals, statements and field-list splitting."""

from __future__ import annotations

import re
import string
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tap_salesforce_accounts.exceptions import InvalidLookupValueError
from tap_salesforce_accounts.soql import (
    MAX_STATEMENT,
    MAX_STRING_LITERAL,
    StatementTooLongError,
    eq,
    ge,
    quote,
    select,
    split_fields,
)

# The escapes SALESFORCE.md documents; a backslash before anything else is an error.
SIMPLE_ESCAPES = {
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "b": "\b",
    "f": "\f",
    '"': '"',
    "'": "'",
    "\\": "\\",
}


class LiteralError(AssertionError):
    """The reference parser met text Salesforce would refuse."""


def _decode_escape(body: str, i: int) -> tuple[str, int]:
    """Decode the escape starting at body[i] (a backslash); return it and the next index."""
    if i + 1 >= len(body):
        msg = "backslash at the end escapes the closing quote"
        raise LiteralError(msg)
    code = body[i + 1]
    if code in SIMPLE_ESCAPES:
        return SIMPLE_ESCAPES[code], i + 2
    if code == "u":
        digits = body[i + 2 : i + 6]
        if len(digits) != 4 or any(c not in string.hexdigits for c in digits):
            msg = f"bad \\u escape {digits!r}"
            raise LiteralError(msg)
        return chr(int(digits, 16)), i + 6
    msg = f"invalid escape \\{code}"
    raise LiteralError(msg)


def parse_literal(text: str) -> str:
    """A reference SOQL string-literal parser, per SALESFORCE.md."""
    if len(text) < 2 or text[0] != "'" or text[-1] != "'":
        msg = f"not a quoted literal: {text!r}"
        raise LiteralError(msg)
    body, out, i = text[1:-1], [], 0
    while i < len(body):
        char = body[i]
        if char == "'":
            msg = f"unescaped quote at {i}"
            raise LiteralError(msg)
        if char == "\\":
            decoded, i = _decode_escape(body, i)
            out.append(decoded)
        else:
            out.append(char)
            i += 1
    return "".join(out)


def test_reference_parser_rejects_breakouts() -> None:
    for bad in ["'a'b'", "'a\\'", "'\\x'", "'\\u12'", "abc"]:
        with pytest.raises(LiteralError):
            parse_literal(bad)


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        pytest.param("\\", "'\\\\'", id="backslash"),
        pytest.param("'", "'\\''", id="single-quote"),
        pytest.param('"', "'\\\"'", id="double-quote"),
        pytest.param("\n", "'\\n'", id="newline"),
        pytest.param("\r", "'\\r'", id="carriage-return"),
        pytest.param("\t", "'\\t'", id="tab"),
        pytest.param("\b", "'\\b'", id="backspace"),
        pytest.param("\f", "'\\f'", id="form-feed"),
        pytest.param("\x00", "'\\u0000'", id="nul-as-unicode-escape"),
        pytest.param("\x0b", "'\\u000b'", id="vertical-tab-as-unicode-escape"),
        pytest.param("\x1b", "'\\u001b'", id="escape-as-unicode-escape"),
        pytest.param("\x7f", "'\\u007f'", id="delete-as-unicode-escape"),
        pytest.param("%_", "'%_'", id="wildcards-plain-outside-like"),
        pytest.param("é", "'é'", id="unicode-as-is"),
        pytest.param("😀", "'😀'", id="emoji-as-is"),
        pytest.param("\u2028", "'\u2028'", id="line-separator-as-is"),
        pytest.param("", "''", id="empty"),
    ],
)
def test_quote_string_escapes(value: str, literal: str) -> None:
    assert quote(value) == literal
    assert parse_literal(literal) == value


BREAKOUTS = [
    pytest.param("' OR Name != '", id="or-injection"),
    pytest.param("\\' OR 1=1 --", id="backslash-quote-injection"),
    pytest.param("x\\", id="trailing-backslash"),
    pytest.param("\\\\'", id="double-backslash-quote"),
    pytest.param("'; DELETE", id="semicolon"),
    pytest.param("a'\n'b", id="newline-between-quotes"),
    pytest.param("Ünïcödé 名前", id="unicode"),
    pytest.param("👩‍👩‍👧 family", id="emoji-zwj"),
    pytest.param("nul\x00byte", id="nul"),
    pytest.param("line1\nline2\r\nline3", id="newlines"),
    pytest.param("col1\tcol2", id="tabs"),
    pytest.param("100% _sure_", id="percent-underscore"),
    pytest.param("\\u0027", id="literal-backslash-u"),
    pytest.param("O'Brien & Co", id="apostrophe"),
]


@pytest.mark.parametrize("value", BREAKOUTS)
def test_quote_cannot_be_broken_out_of(value: str) -> None:
    assert parse_literal(quote(value)) == value


@settings(deadline=None)  # timing varies on a loaded CI worker
@given(st.text())
def test_quote_round_trips_any_text(value: str) -> None:
    literal = quote(value)
    assert parse_literal(literal) == value
    assert not any(ord(c) < 0x20 or ord(c) == 0x7F for c in literal)


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        pytest.param(True, "true", id="true"),
        pytest.param(False, "false", id="false"),
        pytest.param(None, "null", id="none"),
        pytest.param(0, "0", id="zero"),
        pytest.param(-42, "-42", id="negative-int"),
        pytest.param(10**30, "1" + "0" * 30, id="big-int"),
        pytest.param(1.5, "1.5", id="float"),
        pytest.param(1e22, "10000000000000000000000", id="float-no-exponent"),
        pytest.param(1e-7, "0.0000001", id="small-float-no-exponent"),
        pytest.param(0.1, "0.1", id="float-shortest-repr"),
        pytest.param(Decimal("543210.0"), "543210.0", id="decimal"),
        pytest.param(Decimal("1E+3"), "1000", id="decimal-exponent"),
        pytest.param(Decimal("-1.25E-5"), "-0.0000125", id="decimal-negative-exponent"),
        pytest.param(date(2024, 1, 2), "2024-01-02", id="date"),
        pytest.param(date(5, 6, 7), "0005-06-07", id="date-padded"),
        pytest.param(
            datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), "2024-01-02T03:04:05Z", id="datetime-utc"
        ),
        pytest.param(
            datetime(2024, 1, 2, 3, 4, 5, 999_999, tzinfo=UTC),
            "2024-01-02T03:04:05Z",
            id="datetime-floors-microseconds",
        ),
        pytest.param(
            datetime(2024, 1, 2, 1, 0, 0, tzinfo=timezone(timedelta(hours=2))),
            "2024-01-01T23:00:00Z",
            id="datetime-offset-to-utc",
        ),
    ],
)
def test_quote_other_types(value: Any, literal: str) -> None:
    assert quote(value) == literal


@pytest.mark.parametrize(
    ("value", "error"),
    [
        pytest.param(float("nan"), ValueError, id="nan"),
        pytest.param(float("inf"), ValueError, id="inf"),
        pytest.param(Decimal("NaN"), ValueError, id="decimal-nan"),
        pytest.param(Decimal("-Infinity"), ValueError, id="decimal-inf"),
        pytest.param(datetime(2024, 1, 2, 3, 4, 5), ValueError, id="naive-datetime"),  # noqa: DTZ001
        pytest.param(b"bytes", TypeError, id="bytes"),
        pytest.param(["a"], TypeError, id="list"),
        pytest.param(object(), TypeError, id="object"),
    ],
)
def test_quote_refuses(value: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        quote(value)


@given(st.datetimes(timezones=st.timezones()))
def test_datetime_literal_is_floor_in_utc(value: datetime) -> None:
    literal = quote(value)
    parsed = datetime.strptime(literal, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert parsed <= value < parsed + timedelta(seconds=1)


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        pytest.param("x" * MAX_STRING_LITERAL, True, id="at-limit"),
        pytest.param("x" * (MAX_STRING_LITERAL + 1), False, id="over-limit"),
        pytest.param("'" * MAX_STRING_LITERAL, True, id="escapes-do-not-count"),
        pytest.param("😀" * (MAX_STRING_LITERAL // 2), True, id="emoji-counts-two-at-limit"),
        pytest.param("😀" * (MAX_STRING_LITERAL // 2 + 1), False, id="emoji-counts-two-over"),
    ],
)
def test_string_literal_length_limit(value: str, *, accepted: bool) -> None:
    if accepted:
        assert parse_literal(quote(value)) == value
        return
    with pytest.raises(InvalidLookupValueError, match="4,000"):
        quote(value)


def test_lone_surrogate_refused() -> None:
    with pytest.raises(InvalidLookupValueError, match="surrogate"):
        quote("abc\udcff")


def test_select_minimal() -> None:
    assert select(["Id"]) == "SELECT Id FROM Account"


def test_select_full() -> None:
    statement = select(
        ["Id", "Name", "Owner.Name", "ns__Field__c"],
        "Account",
        where="(" + eq("Customer_Key__c", "K'1") + " AND " + eq("IsDeleted", False) + ")",  # noqa: FBT003
        order_by=["SystemModstamp ASC", "Id DESC NULLS LAST"],
        limit=2,
    )
    assert statement == (
        "SELECT Id, Name, Owner.Name, ns__Field__c FROM Account"
        " WHERE (Customer_Key__c = 'K\\'1' AND IsDeleted = false)"
        " ORDER BY SystemModstamp ASC, Id DESC NULLS LAST LIMIT 2"
    )


def test_select_drops_duplicate_fields_any_case() -> None:
    assert select(["Id", "Name", "ID", "name"]) == "SELECT Id, Name FROM Account"


BAD_NAMES = [
    pytest.param("", id="empty"),
    pytest.param("1Name", id="leading-digit"),
    pytest.param("_Name", id="leading-underscore"),
    pytest.param("Name; DELETE", id="semicolon"),
    pytest.param("Name,Id", id="comma"),
    pytest.param("Name ", id="trailing-space"),
    pytest.param("Owner..Name", id="double-dot"),
    pytest.param("Owner.", id="trailing-dot"),
    pytest.param("Näme", id="non-ascii"),
    pytest.param("Name FROM User --", id="injection"),
    pytest.param("COUNT(Id)", id="function"),
]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_select_refuses_bad_field_names(name: str) -> None:
    with pytest.raises(ValueError, match="not a SOQL field"):
        select(["Id", name])


@pytest.mark.parametrize("name", BAD_NAMES)
def test_select_refuses_bad_object_names(name: str) -> None:
    with pytest.raises(ValueError, match="not a SOQL field"):
        select(["Id"], name)


@pytest.mark.parametrize("name", BAD_NAMES)
def test_eq_refuses_bad_field_names(name: str) -> None:
    with pytest.raises(ValueError, match="not a SOQL field"):
        eq(name, "x")


@pytest.mark.parametrize(
    "item",
    [
        pytest.param("Name UP", id="bad-direction"),
        pytest.param("Name ASC NULLS", id="incomplete-nulls"),
        pytest.param("Name; x", id="semicolon"),
        pytest.param("", id="empty"),
    ],
)
def test_select_refuses_bad_order_by(item: str) -> None:
    with pytest.raises(ValueError, match="ORDER BY"):
        select(["Id"], order_by=[item])


@pytest.mark.parametrize(
    "limit",
    [
        pytest.param(0, id="zero"),
        pytest.param(-1, id="negative"),
        pytest.param(True, id="bool"),
        pytest.param(1.5, id="float"),
    ],
)
def test_select_refuses_bad_limit(limit: Any) -> None:
    with pytest.raises(ValueError, match="LIMIT"):
        select(["Id"], limit=limit)


def test_select_needs_fields() -> None:
    with pytest.raises(ValueError, match="at least one"):
        select([])


def test_statement_length_limit() -> None:
    names = [f"Field{i}__c" for i in range(MAX_STATEMENT // 10)]
    with pytest.raises(StatementTooLongError, match="100,000"):
        select(names)
    assert issubclass(StatementTooLongError, ValueError)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        pytest.param(eq("Name", "a"), "Name = 'a'", id="eq"),
        pytest.param(eq("ParentId", None), "ParentId = null", id="eq-null"),
        pytest.param(
            ge("SystemModstamp", datetime(2024, 1, 2, 3, 4, 5, 1, tzinfo=UTC)),
            "SystemModstamp >= 2024-01-02T03:04:05Z",
            id="ge-datetime",
        ),
    ],
)
def test_conditions(condition: str, expected: str) -> None:
    assert condition == expected


def test_split_fields_keeps_id_in_every_chunk() -> None:
    fields = ["Id", "Name", "Phone", "Website", "Industry"]
    chunks = split_fields(fields, budget=16)
    assert chunks == [["Id", "Name", "Phone"], ["Id", "Website"], ["Id", "Industry"]]


def test_split_fields_with_key_fields() -> None:
    chunks = split_fields(["Name", "Phone", "Fax"], budget=30, always=("Id", "Key__c"))
    assert chunks == [["Id", "Key__c", "Name", "Phone", "Fax"]]
    chunks = split_fields(["Name", "Phone", "Fax"], budget=20, always=("Id", "Key__c"))
    assert chunks == [["Id", "Key__c", "Name"], ["Id", "Key__c", "Phone"], ["Id", "Key__c", "Fax"]]


def test_split_fields_only_keys() -> None:
    assert split_fields(["id"], budget=10) == [["Id"]]


def test_split_fields_separator_cost_for_url_encoding() -> None:
    assert split_fields(["Id", "Name", "Phone"], budget=15, separator_cost=4) == [
        ["Id", "Name"],
        ["Id", "Phone"],
    ]


def test_split_fields_budget_too_small() -> None:
    with pytest.raises(ValueError, match="budget"):
        split_fields(["Id", "A_Very_Long_Field_Name__c"], budget=10)


def test_split_fields_refuses_bad_names() -> None:
    with pytest.raises(ValueError, match="not a SOQL field"):
        split_fields(["Id", "Name; x"], budget=1000)


field_names = st.from_regex(re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}"), fullmatch=True)


@settings(deadline=None)  # timing varies on a loaded CI worker
@given(st.lists(field_names, max_size=60), st.integers(min_value=0, max_value=400))
def test_split_fields_property(fields: list[str], slack: int) -> None:
    longest = max((len(name) for name in fields), default=0)
    budget = len("Id, ") + longest + slack
    chunks = split_fields(fields, budget=budget)
    assert chunks
    for chunk in chunks:
        assert chunk[0] == "Id"
        assert len(", ".join(chunk)) <= budget
        assert len(select(chunk)) <= len("SELECT  FROM Account") + budget
    joined = [name for chunk in chunks for name in chunk[1:]]
    expected: list[str] = []
    for name in fields:
        if name.lower() != "id" and name.lower() not in {e.lower() for e in expected}:
            expected.append(name)
    assert joined == expected
