"""The emulator's data without HTTP: Ids, describe, records, rendering, SOQL parsing."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import real_salesforce_answer
from tests.emulator import engine
from tests.emulator.data import (
    ALL_FIELD_NAMES,
    FIELD_INFO,
    SHARED_LEGACY_INDEXES,
    SHARED_LEGACY_REF,
    SPECIAL_CUSTOMER_KEYS,
    SPECIAL_NAMES,
    Dataset,
    describe,
)
from tests.emulator.engine import execute
from tests.emulator.faults import parse_fail_spec
from tests.emulator.ids import checksum, fast_make_id, id_number, make_id, to18
from tests.emulator.render import Renderer, format_datetime, java_double
from tests.emulator.soql import SoqlError, decode_string, parse

SALESFORCE_MD_TYPES = [
    "id",
    "reference",
    "string",
    "picklist",
    "multipicklist",
    "combobox",
    "textarea",
    "email",
    "phone",
    "url",
    "boolean",
    "int",
    "long",
    "double",
    "currency",
    "percent",
    "date",
    "datetime",
    "time",
    "base64",
    "address",
    "location",
    "anyType",
    "encryptedstring",
    "complexvalue",
    "json",
    "datacategorygroupreference",
]
DATETIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000")


@pytest.fixture(scope="module")
def data() -> Dataset:
    return Dataset(3000, 1)


# ----------------------------------------------------------------------------- Ids
def test_checksum_matches_the_documented_example() -> None:
    assert checksum("001D000000IRFma") == "IAH"
    assert to18("001D000000IRFma") == "001D000000IRFmaIAH"
    assert to18("001D000000IRFmaIAH") == "001D000000IRFmaIAH"


def test_to18_rejects_malformed_ids() -> None:
    assert to18("001D000000IRFmaIAA") is None  # wrong checksum
    assert to18("xyz") is None
    assert to18("001D000000IRFm") is None
    assert to18("001D000000IRFm!") is None


@settings(max_examples=300)
@given(st.integers(min_value=0, max_value=62**9 - 1), st.sampled_from(["001", "005", "01g", "750"]))
def test_fast_make_id_equals_make_id(number: int, prefix: str) -> None:
    made = make_id(prefix, number)
    assert fast_make_id(prefix, number) == made
    assert len(made) == 18
    assert to18(made[:15]) == made
    assert id_number(made, prefix) == number


def test_generated_account_ids_are_valid_and_sorted(data: Dataset) -> None:
    ids = [data.record_id(i) for i in range(data.count)]
    assert all(rid.startswith("001") and len(rid) == 18 and to18(rid) == rid for rid in ids)
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(data.index_of_id(rid[:15]) == i for i, rid in enumerate(ids[:50]))
    assert data.index_of_id(ids[5].lower()) is None


# ----------------------------------------------------------------------------- describe
def test_describe_covers_every_salesforce_type() -> None:
    types = {f["type"] for f in describe()["fields"]}
    assert set(SALESFORCE_MD_TYPES) <= types


def test_describe_field_entries_have_the_full_key_set() -> None:
    fields = describe()["fields"]
    keys = set(fields[0])
    assert len(keys) == 57
    assert all(set(f) == keys for f in fields)
    for key in (
        "name",
        "type",
        "soapType",
        "filterable",
        "externalId",
        "idLookup",
        "compoundFieldName",
    ):
        assert key in keys


def test_describe_matches_the_real_fixture_shape() -> None:
    real = json.loads(real_salesforce_answer("account_describe.json").read_text(encoding="utf-8"))
    ours = describe()
    assert set(ours) == set(real)
    assert set(ours["fields"][0]) == set(real["fields"][0])
    real_standard = {f["name"] for f in real["fields"] if not f["custom"]}
    ours_names = {f["name"] for f in ours["fields"]}
    assert real_standard <= ours_names


def test_describe_field_facts() -> None:
    fields = {f["name"]: f for f in describe("58.0")["fields"]}
    assert fields["Description"]["filterable"] is False
    key = fields["Customer_Key__c"]
    assert (key["externalId"], key["unique"], key["idLookup"], key["filterable"]) == (
        True,
        True,
        True,
        True,
    )
    legacy = fields["Legacy_Ref__c"]
    assert (legacy["externalId"], legacy["unique"]) == (True, False)
    tax = fields["Tax_Number__c"]
    assert (tax["unique"], tax["externalId"], tax["idLookup"]) == (True, False, False)
    assert fields["BillingCity"]["compoundFieldName"] == "BillingAddress"
    assert fields["Location__Latitude__s"]["compoundFieldName"] == "Location__c"
    assert fields["Secret_Code__c"]["filterable"] is False
    assert fields["Revenue_Per_Employee__c"]["calculated"] is True
    assert fields["Id"]["idLookup"] is True
    assert describe("58.0")["urls"]["describe"] == "/services/data/v58.0/sobjects/Account/describe"
    assert describe()["keyPrefix"] == "001"


def test_picklist_values_in_records_come_from_the_describe(data: Dataset) -> None:
    fields = {f["name"]: f for f in describe()["fields"]}
    for info in FIELD_INFO:
        if info.type not in {"picklist", "multipicklist"}:
            continue
        allowed = {v["value"] for v in fields[info.name]["picklistValues"]}
        for index in range(0, data.count, 7):
            value = data.value(index, info.name)
            if value is None:
                continue
            parts = value.split(";") if info.type == "multipicklist" else [value]
            assert set(parts) <= allowed, (info.name, value)


# ----------------------------------------------------------------------------- records
def test_records_are_deterministic_by_seed() -> None:
    first, again, other = Dataset(300, 7), Dataset(300, 7), Dataset(300, 8)
    assert [first.record(i) for i in range(300)] == [again.record(i) for i in range(300)]
    assert [first.record(i)["Name"] for i in range(300)] != [
        other.record(i)["Name"] for i in range(300)
    ]


def test_timestamps_are_ordered_with_ties(data: Dataset) -> None:
    stamps = [data.value(i, "SystemModstamp") for i in range(data.count)]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) < len(stamps)
    for i in range(data.count):
        record = data.record(i)
        assert record["CreatedDate"] <= record["LastModifiedDate"] <= record["SystemModstamp"]


def test_about_one_percent_is_deleted_and_keys_are_unique(data: Dataset) -> None:
    deleted = [i for i in range(data.count) if data.value(i, "IsDeleted")]
    assert 0.005 * data.count < len(deleted) < 0.02 * data.count
    keys = [data.value(i, "Customer_Key__c") for i in range(data.count)]
    assert len(set(keys)) == len(keys)
    assert len({k.lower() for k in keys}) == len(keys)
    for index, key in SPECIAL_CUSTOMER_KEYS.items():
        assert keys[index] == key
        assert index not in deleted
    assert keys[123] == "CUST-000123"
    taxes = [data.value(i, "Tax_Number__c") for i in range(data.count)]
    assert len(set(taxes)) == len(taxes)
    for index in SHARED_LEGACY_INDEXES:
        assert data.value(index, "Legacy_Ref__c") == SHARED_LEGACY_REF


def test_records_hold_tricky_text(data: Dataset) -> None:
    names = {data.value(i, "Name") for i in range(data.count)}
    assert names & set(SPECIAL_NAMES)
    texts = "".join(str(data.value(i, "Description")) for i in range(data.count))
    for needle in ("'", '"', "\\", "\n", "%", "_", "東京"[0], "🚀"):
        assert needle in texts + "".join(names), needle
    assert data.special_name_indexes(limit=3)


def test_compound_values_follow_their_parts(data: Dataset) -> None:
    seen_null = seen_value = False
    for index in range(0, data.count, 3):
        record = data.record(index)
        address = record["BillingAddress"]
        if record["BillingCity"] is None and record["BillingStreet"] is None:
            assert address is None
            seen_null = True
        else:
            assert address is not None
            assert address["city"] == record["BillingCity"]
            assert list(address) == [
                "city",
                "country",
                "countryCode",
                "geocodeAccuracy",
                "latitude",
                "longitude",
                "postalCode",
                "state",
                "stateCode",
                "street",
            ]
            seen_value = True
    assert seen_null
    assert seen_value


# ----------------------------------------------------------------------------- rendering
def test_java_double_formatting() -> None:
    assert java_double(34.0) == "34.0"
    assert java_double(543210.0) == "543210.0"
    assert java_double(15_000_000.0) == "1.5E7"
    assert java_double(0.0005) == "5.0E-4"
    assert java_double(-2.5e9) == "-2.5E9"
    assert format_datetime(1653473786000) == "2022-05-25T10:16:26.000+0000"
    assert format_datetime(1653473786123, zulu=True) == "2022-05-25T10:16:26.123Z"


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_fast_rendering_equals_the_reference_path(data: Dataset, fmt: str) -> None:
    fields = ALL_FIELD_NAMES
    if fmt == "csv":
        fields = tuple(
            f.name for f in FIELD_INFO if f.type not in {"address", "location", "base64"}
        )
    for version in ("62.0", "48.0"):
        renderer = Renderer(data, fields, version, fmt)  # type: ignore[arg-type]
        for index in range(data.count):
            assert renderer.render(index) == renderer.render_plain(index), index
    narrow = Renderer(data, ("Name", "Id", "PhotoUrl", "Logo__c", "ParentId"), "62.0", fmt)  # type: ignore[arg-type]
    for index in range(200):
        assert narrow.render(index) == narrow.render_plain(index)


def test_rendered_json_values_have_salesforce_formats(data: Dataset) -> None:  # noqa: C901
    renderer = Renderer(data, ALL_FIELD_NAMES, "62.0", "json")
    types = {f.name: f.type for f in FIELD_INFO}
    seen: set[str] = set()
    for index in range(600):
        record: dict[str, Any] = json.loads(renderer.render(index))
        assert list(record) == ["attributes", *ALL_FIELD_NAMES]
        assert record["attributes"] == {
            "type": "Account",
            "url": f"/services/data/v62.0/sobjects/Account/{record['Id']}",
        }
        for name, value in record.items():
            if value is None or name == "attributes":
                continue
            kind = types[name]
            seen.add(kind)
            if kind == "datetime":
                assert DATETIME_RE.fullmatch(value), (name, value)
            elif kind == "date":
                assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)
            elif kind == "time":
                assert re.fullmatch(r"\d{2}:\d{2}:\d{2}\.\d{3}Z", value)
            elif kind in {"double", "currency", "percent"}:
                assert isinstance(value, float)
            elif kind in {"int", "long"}:
                assert isinstance(value, int)
            elif kind == "boolean":
                assert isinstance(value, bool)
            elif kind == "base64":
                assert value == f"/services/data/v62.0/sobjects/Account/{record['Id']}/{name}"
    assert {"datetime", "date", "time", "double", "long", "location", "address", "base64"} <= seen


def test_csv_rows_quote_every_value_and_leave_nulls_empty(data: Dataset) -> None:
    fields = ("Id", "Name", "IsDeleted", "AnnualRevenue", "CreatedDate", "Description", "Phone")
    renderer = Renderer(data, fields, "62.0", "csv")
    text = (
        renderer.header() + b"\n" + b"\n".join(renderer.render(i) for i in range(300)) + b"\n"
    ).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(fields)
    assert len(rows) == 301
    assert text.startswith('"Id","Name","IsDeleted","AnnualRevenue","CreatedDate"')
    assert '\n"001' in text
    assert all(row[0].startswith("001") for row in rows[1:])
    assert ",," in text or text.rstrip("\n").endswith(",")
    assert re.search(r'"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z"', text)
    assert '"false"' in text


# ----------------------------------------------------------------------------- SOQL parsing
def soql_quote(value: str, *, unicode_escapes: bool = False) -> str:
    """A reference quoting function: escape what SOQL requires (and optionally all non-ASCII)."""
    simple = {
        "\\": "\\\\",
        "'": "\\'",
        "\n": "\\n",
        "\r": "\\r",
        "\t": "\\t",
        "\b": "\\b",
        "\f": "\\f",
        '"': '\\"',
    }
    out = []
    for char in value:
        if char in simple:
            out.append(simple[char])
        elif unicode_escapes and ord(char) > 127:
            data = char.encode("utf-16-be")
            out.extend(f"\\u{data[k]:02X}{data[k + 1]:02x}" for k in range(0, len(data), 2))
        else:
            out.append(char)
    return "'" + "".join(out) + "'"


@settings(max_examples=400)
@given(st.text(max_size=60), st.booleans())
def test_quoted_strings_round_trip(value: str, unicode_escapes: bool) -> None:  # noqa: FBT001
    query = (
        f"SELECT Id FROM Account WHERE Name = {soql_quote(value, unicode_escapes=unicode_escapes)}"  # noqa: S608
    )
    assert parse(query).literals == [value]


@settings(max_examples=200)
@given(st.text(max_size=20), st.characters().filter(lambda c: c not in "nrtbf\"'\\u"))
def test_unknown_escapes_are_malformed(prefix: str, bad: str) -> None:
    query = f"SELECT Id FROM Account WHERE Name = {soql_quote(prefix)[:-1]}\\{bad}'"  # noqa: S608
    with pytest.raises(SoqlError) as caught:
        parse(query)
    assert caught.value.error_code == "MALFORMED_QUERY"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a\\nb", "a\nb"),
        ("\\u00e9t\\u00E9", "été"),
        ("\\uD83D\\uDE80", "🚀"),
        ("it\\'s", "it's"),
        ("back\\\\slash", "back\\slash"),
        ('\\"q\\"', '"q"'),
        ("\\r\\t\\b\\f", "\r\t\b\f"),
    ],
)
def test_escape_rules(raw: str, expected: str) -> None:
    assert decode_string(raw)[0] == expected


@pytest.mark.parametrize("raw", ["\\%", "\\_", "\\x", "\\u12", "\\uZZZZ", "trailing\\"])
def test_bad_escapes_outside_like(raw: str) -> None:
    with pytest.raises(ValueError, match=r"\\"):
        decode_string(raw)


def test_like_escapes() -> None:
    text, pieces = decode_string("50\\%\\_off%", like=True)
    assert text == "50\\%\\_off%"
    assert pieces[-1] == ("any", "")
    assert ("lit", "%") in pieces
    with pytest.raises(SoqlError):
        parse("SELECT Id FROM Account WHERE Name = '50\\%'")
    assert parse("SELECT Id FROM Account WHERE Name LIKE '50\\%'").literals == ["50\\%"]


@pytest.mark.parametrize(
    ("query", "code", "fragment"),
    [
        ("SELECT Foo FROM Account", "INVALID_FIELD", "No such column 'Foo' on entity 'Account'"),
        ("SELECT Id FROM Contact", "INVALID_TYPE", "sObject type 'Contact' is not supported"),
        ("SELECT Id, FROM Account", "MALFORMED_QUERY", "unexpected token"),
        ("SELECT Id FROM Account WHERE", "MALFORMED_QUERY", "unexpected token: '<EOF>'"),
        (
            "SELECT Id FROM Account WHERE Description = 'x'",
            "INVALID_FIELD",
            "field 'Description' can not be filtered in a query call",
        ),
        (
            "SELECT Id FROM Account WHERE Id = 'xyz'",
            "INVALID_QUERY_FILTER_OPERATOR",
            "invalid ID field: xyz",
        ),
        (
            "SELECT Id FROM Account WHERE OwnerId IN ('005000000000001AAA', 'nope')",
            "INVALID_QUERY_FILTER_OPERATOR",
            "invalid ID field: nope",
        ),
        (
            "SELECT Id FROM Account WHERE Name = 5",
            "INVALID_FIELD",
            "must be of type string and should be enclosed in quotes",
        ),
        (
            "SELECT Id FROM Account WHERE AnnualRevenue = '5'",
            "INVALID_FIELD",
            "must be of type currency and should not be enclosed in quotes",
        ),
        (
            "SELECT Id FROM Account WHERE CreatedDate > 2024-01-01",
            "INVALID_FIELD",
            "must be of type dateTime",
        ),
        (
            "SELECT Id FROM Account WHERE SystemModstamp > 2024-01-01T00:00:00",
            "MALFORMED_QUERY",
            "unexpected token",
        ),
        (
            "SELECT Id FROM Account WHERE Name = 'a' AND Type = 'b' OR Site = 'c'",
            "MALFORMED_QUERY",
            "unexpected token: 'OR'",
        ),
        ("SELECT Id FROM Account ORDER BY Description", "INVALID_FIELD", "can not be sorted"),
        ("SELECT Id, id FROM Account", "MALFORMED_QUERY", "duplicate field selected: Id"),
        ("SELECT Id FROM Account WHERE Name = 'unterminated", "MALFORMED_QUERY", "unterminated"),
        ("SELECT Id FROM Account OFFSET 2001", "NUMBER_OUTSIDE_VALID_RANGE", "2000"),
        (
            "SELECT Owner.Name FROM Account",
            "INVALID_FIELD",
            "Didn't understand relationship 'Owner'",
        ),
        ("SELECT Id FROM Account WHERE Name LIKE 5", "INVALID_FIELD", "type string"),
        (
            "SELECT Id FROM Account WHERE Id LIKE '001%'",
            "INVALID_QUERY_FILTER_OPERATOR",
            "invalid operator on id field",
        ),
        (
            "SELECT Id FROM Account WHERE BillingAddress = 'x'",
            "INVALID_FIELD",
            "can not be filtered",
        ),
        (
            "SELECT Id FROM Account WHERE Name INCLUDES ('a')",
            "INVALID_QUERY_FILTER_OPERATOR",
            "multipicklist",
        ),
    ],
)
def test_parse_errors(query: str, code: str, fragment: str) -> None:
    with pytest.raises(SoqlError) as caught:
        parse(query)
    assert caught.value.error_code == code
    assert fragment in caught.value.message


def test_error_messages_point_at_the_token() -> None:
    with pytest.raises(SoqlError) as caught:
        parse("SELECT Id, Foo FROM Account")
    assert caught.value.message.startswith(
        "\nSELECT Id, Foo FROM Account\n           ^\nERROR at Row:1:Column:12\n"
    )


def test_length_limits() -> None:
    long_query = "SELECT Id FROM Account WHERE Name = '" + "x" * 100_000 + "'"
    with pytest.raises(SoqlError, match="100,000") as caught:
        parse(long_query)
    assert caught.value.error_code == "MALFORMED_QUERY"
    assert parse("SELECT Id FROM Account WHERE Name = '" + "x" * 4000 + "'").literals
    with pytest.raises(SoqlError, match="4000"):
        parse("SELECT Id FROM Account WHERE Name = '" + "x" * 4001 + "'")


def test_keywords_and_fields_are_case_insensitive() -> None:
    parsed = parse(
        "select id, NAME, customer_key__C from ACCOUNT where name != null "
        "order by NAME desc nulls last limit 5"
    )
    assert parsed.fields == ("Id", "Name", "Customer_Key__c")
    assert parsed.limit == 5
    assert parsed.order[0].descending
    assert not parsed.order[0].nulls_first


@pytest.mark.parametrize(
    "literal",
    [
        "2024-01-02T03:04:05Z",
        "2024-01-02T03:04:05.000Z",
        "2024-01-02T05:04:05+02:00",
        "2024-01-01T22:04:05-05:00",
    ],
)
def test_datetime_literals(literal: str) -> None:
    parsed = parse(f"SELECT Id FROM Account WHERE SystemModstamp >= {literal}")  # noqa: S608
    assert parsed.where is not None
    assert parsed.where.value == 1704164645000  # type: ignore[union-attr]


# ----------------------------------------------------------------------------- evaluation
def _reference(data: Dataset, keep: Any, *, deleted: bool = False) -> list[str]:
    out = []
    for index in range(data.count):
        record = data.record(index)
        if record["IsDeleted"] and not deleted:
            continue
        if keep(record):
            out.append(record["Id"])
    return sorted(out)


def _low(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


@pytest.mark.parametrize(
    ("where", "keep"),
    [
        ("Industry = 'banking'", lambda r: _low(r["Industry"]) == "banking"),
        ("Industry != 'Banking'", lambda r: r["Industry"] != "Banking"),
        (
            "AnnualRevenue > 1000000",
            lambda r: r["AnnualRevenue"] is not None and r["AnnualRevenue"] > 1e6,
        ),
        ("AnnualRevenue = null", lambda r: r["AnnualRevenue"] is None),
        ("Name LIKE '%labs%'", lambda r: "labs" in r["Name"].lower()),
        (
            "Name LIKE 'A_me%'",
            lambda r: re.fullmatch(r"a.me.*", r["Name"], re.IGNORECASE | re.DOTALL) is not None,
        ),
        ("Industry IN ('Energy', 'Media')", lambda r: r["Industry"] in {"Energy", "Media"}),
        ("Industry NOT IN ('Energy', 'Media')", lambda r: r["Industry"] not in {"Energy", "Media"}),
        ("NOT (Rating = 'Hot' OR Rating = 'Cold')", lambda r: r["Rating"] not in {"Hot", "Cold"}),
        (
            "Segments__c INCLUDES ('SMB;Startup', 'Enterprise')",
            lambda r: (
                bool(r["Segments__c"])
                and (
                    {"SMB", "Startup"} <= set(r["Segments__c"].split(";"))
                    or "Enterprise" in r["Segments__c"].split(";")
                )
            ),
        ),
        (
            "CreatedDate >= 2022-06-01T00:00:00Z AND IsPartner = false",
            lambda r: r["CreatedDate"] >= 1654041600000 and not r["IsPartner"],
        ),
        (
            "LastActivityDate < 2022-01-01",
            lambda r: r["LastActivityDate"] is not None and r["LastActivityDate"] < "2022-01-01",
        ),
        (
            "Support_Hours_Start__c = 09:00:00.000Z",
            lambda r: r["Support_Hours_Start__c"] == 9 * 3600000,
        ),
        (
            "NumberOfEmployees >= 100 AND (Type = 'Prospect' OR Type = null)",
            lambda r: (r["NumberOfEmployees"] or -1) >= 100 and r["Type"] in {"Prospect", None},
        ),
        (
            "SystemModstamp > 2022-01-01T00:00:00Z AND SystemModstamp <= 2023-01-01T00:00:00Z",
            lambda r: 1640995200000 < r["SystemModstamp"] <= 1672531200000,
        ),
        (
            "Customer_Key__c IN ('cust-000042', 'CUST/SLASH/001', 'CUST-999999')",
            lambda r: r["Customer_Key__c"].lower() in {"cust-000042", "cust/slash/001"},
        ),
    ],
)
@pytest.mark.parametrize("profile_shortcut", [False, True])
def test_where_matches_a_reference_evaluation(
    data: Dataset,
    where: str,
    keep: Any,
    profile_shortcut: bool,  # noqa: FBT001
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if profile_shortcut:
        monkeypatch.setattr(engine, "_PROFILE_SCAN_MIN", 0)
    parsed = parse(f"SELECT Id FROM Account WHERE {where}")  # noqa: S608
    got = sorted(data.record_id(i) for i in execute(parsed, data, include_deleted=False))
    assert got == _reference(data, keep)


def test_order_by_sorts_and_places_nulls() -> None:
    data = Dataset(400, 3)
    parsed = parse("SELECT Id FROM Account ORDER BY AnnualRevenue DESC NULLS FIRST, Name")
    values = [data.value(i, "AnnualRevenue") for i in execute(parsed, data, include_deleted=False)]
    nulls = values.count(None)
    assert values[:nulls] == [None] * nulls
    assert values[nulls:] == sorted(values[nulls:], reverse=True)
    parsed = parse("SELECT Id FROM Account ORDER BY Site")
    sites = [data.value(i, "Site") for i in execute(parsed, data, include_deleted=False)]
    assert sites[0] is None
    assert sites[-1] is not None


def test_natural_order_after_touches() -> None:
    data = Dataset(500, 1)
    touched, stamp = data.touch(count=5)
    parsed = parse("SELECT Id FROM Account ORDER BY SystemModstamp, Id")
    order = list(execute(parsed, data, include_deleted=False))
    assert order[-5:] == touched
    stamps = [data.stamp(i) for i in order]
    assert stamps == sorted(stamps)
    since = parse(f"SELECT Id FROM Account WHERE SystemModstamp >= {format_datetime(stamp)[:19]}Z")  # noqa: S608
    assert list(execute(since, data, include_deleted=False)) == touched
    inserted, _ = data.insert(3)
    assert list(execute(parsed, data, include_deleted=False))[-3:] == inserted


def test_fail_spec_grammar() -> None:
    faults = parse_fail_spec("expire:5, 503:7:2,slow:10,slow:3:50,drop:4,malformed:6,429:9")
    assert faults.expire == 5
    assert (faults.unavailable, faults.unavailable_retry_after) == (7, 2)
    assert faults.slow_for(3) == 60
    assert faults.slow_for(4) == 10
    assert (faults.drop, faults.malformed, faults.too_many) == (4, 6, 9)
    for bad in ("nope:1", "expire:0", "drop:x", "slow:1:2:3"):
        with pytest.raises(ValueError, match="fail spec"):
            parse_fail_spec(bad)


def test_getters_agree_with_records() -> None:
    data = Dataset(400, 2)
    data.touch(count=5)
    data.delete([7, 8])
    data.insert(3)
    getters = {info.name: data.getter(info.name) for info in FIELD_INFO}
    for index in range(data.count):
        record = data.record(index)
        for name, get in getters.items():
            assert get(index) == record[name], (index, name)
