"""Tests of tap_salesforce_accounts.ids: checksum, 15/18 conversion, Account Id checks."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tap_salesforce_accounts.exceptions import InvalidLookupValueError, MalformedIdError
from tap_salesforce_accounts.ids import (
    ACCOUNT_KEY_PREFIX,
    checksum,
    is_account_id,
    normalize_account_id,
)

ALNUM = string.ascii_letters + string.digits


def reference_checksum(id15: str) -> str:
    """Salesforce's published algorithm: reverse each chunk, read upper=1 as binary."""
    alphabet = string.ascii_uppercase + "012345"
    suffix = ""
    for start in (0, 5, 10):
        chunk = id15[start : start + 5][::-1]
        bits = "".join("1" if c in string.ascii_uppercase else "0" for c in chunk)
        suffix += alphabet[int(bits, 2)]
    return suffix


account_id15 = st.text(ALNUM, min_size=12, max_size=12).map(lambda s: ACCOUNT_KEY_PREFIX + s)


@pytest.mark.parametrize(
    ("id15", "suffix"),
    [
        pytest.param("001D000000IRFma", "IAH", id="documented-example"),
        pytest.param("001d000000irfma", "AAA", id="all-lowercase"),
        pytest.param("001000000000000", "AAA", id="all-digits"),
        pytest.param("ABCDEABCDEABCDE", "555", id="all-uppercase"),
        pytest.param("A0000B0000C0000", "BBB", id="first-char-is-lowest-bit"),
        pytest.param("0000A0000A0000A", "QQQ", id="last-char-is-highest-bit"),
        pytest.param("0015i0000081hvk", "AAA", id="fixture-record"),
    ],
)
def test_checksum_known_values(id15: str, suffix: str) -> None:
    assert checksum(id15) == suffix
    assert reference_checksum(id15) == suffix


@given(st.text(ALNUM, min_size=15, max_size=15))
def test_checksum_matches_reference_algorithm(id15: str) -> None:
    assert checksum(id15) == reference_checksum(id15)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("001D000000IRFm", id="14-chars"),
        pytest.param("001D000000IRFmaI", id="16-chars"),
        pytest.param("001D000000IRFm-", id="punctuation"),
        pytest.param("", id="empty"),
    ],
)
def test_checksum_refuses_non_id(value: str) -> None:
    with pytest.raises(MalformedIdError):
        checksum(value)


def test_15_char_ids_are_case_sensitive() -> None:
    upper, lower = "001D000000IRFma", "001d000000irfma"
    assert is_account_id(upper)
    assert is_account_id(lower)
    assert normalize_account_id(upper) != normalize_account_id(lower)
    assert normalize_account_id(lower) == "001d000000irfmaAAA"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("001D000000IRFma", "001D000000IRFmaIAH", id="15-converted"),
        pytest.param("001D000000IRFmaIAH", "001D000000IRFmaIAH", id="18-kept"),
        pytest.param("0015i0000081hvkAAA", "0015i0000081hvkAAA", id="fixture-record-id"),
    ],
)
def test_normalize_account_id_accepts(value: str, expected: str) -> None:
    assert normalize_account_id(value) == expected


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        pytest.param("", "empty", id="empty"),
        pytest.param(" 001D000000IRFma", "whitespace", id="leading-space"),
        pytest.param("001D000000IRFma\n", "whitespace", id="trailing-newline"),
        pytest.param("001D000000 IRFma", "whitespace", id="inner-space"),
        pytest.param("001D000000IRFma\t", "whitespace", id="tab"),
        pytest.param("001D000000IRF-a", "'-'", id="dash"),
        pytest.param("001D000000IRFmé", "'é'", id="non-ascii-letter"),
        pytest.param("001D000000IRFm\u0661", "ASCII", id="arabic-digit"),
        pytest.param("001D000000IRFma'", "ASCII", id="quote"),
        pytest.param("001D000000IRFm\x00", "ASCII", id="nul"),
        pytest.param("001D000000IRFm", "14 characters", id="14-chars"),
        pytest.param("001D000000IRFmaI", "16 characters", id="16-chars"),
        pytest.param("001D000000IRFmaIA", "17 characters", id="17-chars"),
        pytest.param("001D000000IRFmaIAHX", "19 characters", id="19-chars"),
        pytest.param("003D000000IRFma", "Contact", id="contact-prefix"),
        pytest.param("005D000000IRFmaIAH", "User", id="user-prefix-18"),
        pytest.param("00QD000000IRFma", "Lead", id="lead-prefix"),
        pytest.param("0XYD000000IRFma", "start with '001'", id="unknown-prefix"),
        # Bit 0 of the first chunk's checksum says "uppercase" where a digit stands.
        pytest.param("0010000000IRFmaBAH", "checksum", id="suffix-marks-a-digit-uppercase"),
        pytest.param("001D000000IRFma9AH", "checksum", id="suffix-outside-alphabet"),
    ],
)
def test_normalize_account_id_refuses(value: str, fragment: str) -> None:
    with pytest.raises(MalformedIdError) as caught:
        normalize_account_id(value)
    message = str(caught.value)
    assert fragment in message
    assert "\n" not in message
    assert not is_account_id(value)


def test_malformed_id_is_an_invalid_lookup_value() -> None:
    with pytest.raises(InvalidLookupValueError):
        normalize_account_id("nope")


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("x" * 10_000, id="long"),
        pytest.param("001" + "\n" * 500, id="many-newlines"),
        pytest.param("\x1b[31m" * 200, id="terminal-escapes"),
    ],
)
def test_error_message_shows_value_truncated_and_escaped(value: str) -> None:
    with pytest.raises(MalformedIdError) as caught:
        normalize_account_id(value)
    message = str(caught.value)
    assert len(message) < 300
    assert "\x1b" not in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(None, id="none"),
        pytest.param(1, id="int"),
        pytest.param(b"001D000000IRFma", id="bytes"),
    ],
)
def test_is_account_id_false_for_non_strings(value: object) -> None:
    assert not is_account_id(value)


@given(account_id15)
def test_15_and_18_forms_normalize_alike(id15: str) -> None:
    id18 = normalize_account_id(id15)
    assert id18[:15] == id15
    assert normalize_account_id(id18) == id18


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param("001d000000irfmaiah", "001D000000IRFmaIAH", id="all-lowercase"),
        pytest.param("001D000000IRFMAIAH", "001D000000IRFmaIAH", id="all-uppercase"),
        pytest.param("001D000000IRFmaAAB", "001d000000IrfmaAAB", id="suffix-decides-the-case"),
    ],
)
def test_18_character_ids_are_case_insensitive(given: str, expected: str) -> None:
    # The checksum exists so that 18-character Ids survive case-insensitive tools.
    assert normalize_account_id(given) == expected


@given(account_id15, st.data())
def test_any_case_of_an_18_character_id_names_the_same_record(
    id15: str, data: st.DataObject
) -> None:
    id18 = normalize_account_id(id15)
    recased = "".join(
        c.swapcase() if data.draw(st.booleans(), label=f"swap {i}") else c
        for i, c in enumerate(id18)
    )
    assert normalize_account_id(recased) == id18


@given(st.text(max_size=30))
def test_normalize_never_raises_anything_else(value: str) -> None:
    try:
        result = normalize_account_id(value)
    except MalformedIdError:
        assert not is_account_id(value)
    else:
        assert is_account_id(value)
        assert len(result) == 18
        assert result.startswith(ACCOUNT_KEY_PREFIX)
