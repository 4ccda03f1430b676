"""Tests of tap_salesforce_accounts.schema: describe mapping, index field, record conversion."""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator
from singer_sdk.helpers._flattening import flatten_schema

from tap_salesforce_accounts.exceptions import IndexFieldError
from tap_salesforce_accounts.schema import (
    ADDRESS_KEYS,
    TYPE_MAP,
    FieldInfo,
    ObjectDescription,
    bulk_select_fields,
    bulk_selectable,
    check_index_field,
    compound_key,
    json_schema_for,
    make_csv_row_converter,
    make_record_converter,
    parse_datetime,
    queryable_fields,
    to_json_schema,
    to_rfc3339,
)
from tests.conftest import real_salesforce_answer

# What each describe type must become, written out independently of the module.
EXPECTED_JSON_TYPE = {
    "id": "string",
    "reference": "string",
    "string": "string",
    "picklist": "string",
    "multipicklist": "string",
    "combobox": "string",
    "textarea": "string",
    "email": "string",
    "phone": "string",
    "url": "string",
    "encryptedstring": "string",
    "anyType": "string",
    "datacategorygroupreference": "string",
    "base64": "string",
    "complexvalue": "string",
    "json": "string",
    "date": "string",
    "datetime": "string",
    "time": "string",
    "int": "integer",
    "long": "integer",
    "double": "number",
    "currency": "number",
    "percent": "number",
    "boolean": "boolean",
    "address": "object",
    "location": "object",
}
EXPECTED_FORMAT = {"date": "date", "datetime": "date-time", "time": "time"}
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d")


def _fixture(name: str) -> dict[str, Any]:
    path = real_salesforce_answer(name)
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    return data


@pytest.fixture(scope="module")
def describe() -> dict[str, Any]:
    return _fixture("account_describe.json")


@pytest.fixture(scope="module")
def desc(describe: dict[str, Any]) -> ObjectDescription:
    return ObjectDescription.from_describe(describe)


@pytest.fixture(scope="module")
def fixture_record() -> dict[str, Any]:
    record: dict[str, Any] = _fixture("account_query_page.json")["records"][0]
    return record


def field(name: str = "F__c", type_: str = "string", **flags: Any) -> FieldInfo:
    flags.setdefault("label", name)
    return FieldInfo(name=name, type=type_, **flags)


def nullable(json_type: str) -> list[str]:
    return [json_type, "null"]


# --- mapping of each describe type ---------------------------------------------------------


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        pytest.param(
            field("Id", "id", nillable=False, length=18, label="Account ID"),
            {"type": "string", "maxLength": 18, "description": "Account ID"},
            id="id-never-null",
        ),
        pytest.param(
            field("Id", "id", nillable=True, length=18),
            {"type": "string", "maxLength": 18, "description": "Id"},
            id="id-never-null-even-if-nillable",
        ),
        pytest.param(
            field("ParentId", "reference", length=18),
            {"type": nullable("string"), "maxLength": 18, "description": "ParentId"},
            id="reference",
        ),
        pytest.param(
            field("Name", "string", nillable=False, length=255),
            {"type": "string", "maxLength": 255, "description": "Name"},
            id="string-required",
        ),
        pytest.param(
            field("Site", "string", length=80),
            {"type": nullable("string"), "maxLength": 80, "description": "Site"},
            id="string",
        ),
        pytest.param(
            field("Industry", "picklist", length=40),
            {"type": nullable("string"), "description": "Industry"},
            id="picklist-no-maxlength",
        ),
        pytest.param(
            field("Tags__c", "multipicklist", length=4099),
            {"type": nullable("string"), "description": "Tags__c"},
            id="multipicklist-as-text",
        ),
        pytest.param(
            field("Kind__c", "combobox", length=255),
            {"type": nullable("string"), "maxLength": 255, "description": "Kind__c"},
            id="combobox",
        ),
        pytest.param(
            field("Description", "textarea", length=32000),
            {"type": nullable("string"), "maxLength": 32000, "description": "Description"},
            id="textarea",
        ),
        pytest.param(
            field("Email__c", "email", length=80),
            {"type": nullable("string"), "maxLength": 80, "description": "Email__c"},
            id="email",
        ),
        pytest.param(
            field("Phone", "phone", length=40),
            {"type": nullable("string"), "maxLength": 40, "description": "Phone"},
            id="phone",
        ),
        pytest.param(
            field("Website", "url", length=255),
            {"type": nullable("string"), "maxLength": 255, "description": "Website"},
            id="url",
        ),
        pytest.param(
            field("Secret__c", "encryptedstring", length=175),
            {"type": nullable("string"), "description": "Secret__c"},
            id="encryptedstring-no-maxlength",
        ),
        pytest.param(
            field("Any__c", "anyType"),
            {"type": nullable("string"), "description": "Any__c"},
            id="anytype",
        ),
        pytest.param(
            field("Cat__c", "datacategorygroupreference"),
            {"type": nullable("string"), "description": "Cat__c"},
            id="datacategorygroupreference",
        ),
        pytest.param(
            field("Body", "base64"),
            {"type": nullable("string"), "description": "Body"},
            id="base64-blob-url",
        ),
        pytest.param(
            field("Meta__c", "complexvalue"),
            {"type": nullable("string"), "description": "Meta__c"},
            id="complexvalue-as-json-text",
        ),
        pytest.param(
            field("Doc__c", "json"),
            {"type": nullable("string"), "description": "Doc__c"},
            id="json-as-json-text",
        ),
        pytest.param(
            field("NumberOfEmployees", "int"),
            {"type": nullable("integer"), "description": "NumberOfEmployees"},
            id="int",
        ),
        pytest.param(
            field("Big", "long"), {"type": nullable("integer"), "description": "Big"}, id="long"
        ),
        pytest.param(
            field("Score", "double", precision=18, scale=2),
            {"type": nullable("number"), "description": "Score"},
            id="double",
        ),
        pytest.param(
            field("AnnualRevenue", "currency"),
            {"type": nullable("number"), "description": "AnnualRevenue"},
            id="currency",
        ),
        pytest.param(
            field("Pct", "percent"),
            {"type": nullable("number"), "description": "Pct"},
            id="percent",
        ),
        pytest.param(
            field("IsDeleted", "boolean", nillable=False),
            {"type": "boolean", "description": "IsDeleted"},
            id="boolean",
        ),
        pytest.param(
            field("LastActivityDate", "date"),
            {"type": nullable("string"), "format": "date", "description": "LastActivityDate"},
            id="date",
        ),
        pytest.param(
            field("SystemModstamp", "datetime", nillable=False),
            {"type": "string", "format": "date-time", "description": "SystemModstamp"},
            id="datetime",
        ),
        pytest.param(
            field("Opens", "time"),
            {"type": nullable("string"), "format": "time", "description": "Opens"},
            id="time",
        ),
        pytest.param(
            field("Formula__c", "string", nillable=False, calculated=True, length=1300),
            {"type": nullable("string"), "description": "Formula__c"},
            id="formula-nullable-no-maxlength",
        ),
        pytest.param(
            field("Req__c", "reference", nillable=False, custom=True, length=18),
            {"type": nullable("string"), "maxLength": 18, "description": "Req__c"},
            id="custom-required-still-nullable",
        ),
        pytest.param(
            field("Plain", "string", length=0),
            {"type": nullable("string"), "description": "Plain"},
            id="zero-length-no-maxlength",
        ),
        pytest.param(
            field("Labelled", "string", label=""),
            {"type": nullable("string"), "description": "Labelled"},
            id="no-label-uses-name",
        ),
    ],
)
def test_json_schema_for(info: FieldInfo, expected: dict[str, Any]) -> None:
    schema = json_schema_for(info)
    assert schema == expected
    Draft7Validator.check_schema(schema)


def test_address_schema() -> None:
    schema = json_schema_for(field("BillingAddress", "address", label="Billing Address"))
    assert schema["type"] == ["object", "null"]
    assert schema["description"] == "Billing Address"
    assert list(schema["properties"]) == list(ADDRESS_KEYS)
    for key, sub in schema["properties"].items():
        expected = "number" if key in {"latitude", "longitude"} else "string"
        assert sub == {"type": [expected, "null"]}


def test_location_schema() -> None:
    schema = json_schema_for(field("Loc__c", "location", nillable=False))
    assert schema == {
        "type": ["object", "null"],
        "properties": {
            "latitude": {"type": ["number", "null"]},
            "longitude": {"type": ["number", "null"]},
        },
        "description": "Loc__c",
    }


def test_unknown_type_reads_as_string_with_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="tap_salesforce_accounts.schema"):
        schema = json_schema_for(field("Odd__c", "frobnicate"))
    assert schema == {"type": ["string", "null"], "description": "Odd__c"}
    assert "frobnicate" in caplog.text
    assert "Odd__c" in caplog.text


def test_type_map_covers_every_documented_type() -> None:
    for describe_type, json_type in EXPECTED_JSON_TYPE.items():
        assert TYPE_MAP[describe_type.lower()] == json_type


def test_flattened_address_columns() -> None:
    desc = ObjectDescription.from_describe(
        {"fields": [{"name": "Id", "type": "id"}, {"name": "BillingAddress", "type": "address"}]}
    )
    flat = flatten_schema(to_json_schema(desc), max_level=1)
    assert "BillingAddress__city" in flat["properties"]
    assert "BillingAddress__latitude" in flat["properties"]
    assert "BillingAddress" not in flat["properties"]


# --- the real describe ---------------------------------------------------------------------


def test_fixture_every_field_typed_by_its_describe_type(
    describe: dict[str, Any], desc: ObjectDescription
) -> None:
    schema = to_json_schema(desc)
    Draft7Validator.check_schema(schema)
    entries = describe["fields"]
    assert list(schema["properties"]) == [entry["name"] for entry in entries]
    for entry in entries:
        prop = schema["properties"][entry["name"]]
        types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
        assert types[0] == EXPECTED_JSON_TYPE[entry["type"]], entry["name"]
        assert prop.get("format") == EXPECTED_FORMAT.get(entry["type"]), entry["name"]
        if entry["nillable"]:
            assert "null" in types, entry["name"]
        assert prop["description"] == entry["label"]


def test_fixture_id_not_null(desc: ObjectDescription) -> None:
    assert to_json_schema(desc)["properties"]["Id"]["type"] == "string"


def test_fixture_compounds(desc: ObjectDescription) -> None:
    props = to_json_schema(desc)["properties"]
    for name in ("BillingAddress", "ShippingAddress"):
        assert set(props[name]["properties"]) == set(ADDRESS_KEYS)
        prefix = name.removesuffix("Address")
        parts = desc.compound_parts(name)
        assert [part.name for part in parts] == [
            prefix + suffix
            for suffix in (
                "Street",
                "City",
                "State",
                "PostalCode",
                "Country",
                "Latitude",
                "Longitude",
                "GeocodeAccuracy",
            )
        ]
    assert desc.compound_parts("Name") == ()


def test_fixture_field_info(desc: ObjectDescription) -> None:
    name = desc.field("NAME")
    assert name is not None
    assert (name.name, name.label, name.length, name.soap_type) == (
        "Name",
        "Account Name",
        255,
        "xsd:string",
    )
    owner = desc.field("OwnerId")
    assert owner is not None
    assert owner.reference_to == ("User",)
    assert owner.relationship_name == "Owner"
    assert desc.field("History__c") is not None
    assert desc.field("History__c").custom  # type: ignore[union-attr]
    assert desc.field("Nope") is None
    assert desc.by_name["Id"].type == "id"


def test_fixture_record_converted(desc: ObjectDescription, fixture_record: dict[str, Any]) -> None:
    original = dict(fixture_record)
    record = make_record_converter(desc, list(original))(dict(original))
    assert "attributes" not in record
    for name in ("CreatedDate", "LastModifiedDate", "SystemModstamp"):
        assert record[name] == "2022-05-25T10:16:26.000+00:00"
        assert RFC3339.fullmatch(record[name])
    unchanged = {key for key in original if key != "attributes" and not key.endswith("Date")} - {
        "SystemModstamp"
    }
    assert {key: record[key] for key in unchanged} == {key: original[key] for key in unchanged}
    assert record["NumberofLocations__c"] == Decimal("34.0")


def test_fixture_record_validates_against_schema(
    desc: ObjectDescription, fixture_record: dict[str, Any]
) -> None:
    record = make_record_converter(desc, list(fixture_record))(dict(fixture_record))
    known = [name for name in record if desc.field(name)]
    schema = to_json_schema(desc, known)
    errors = list(Draft7Validator(schema).iter_errors({name: record[name] for name in known}))
    assert errors == []


def test_fixture_index_field_candidates(desc: ObjectDescription) -> None:
    assert check_index_field(desc, "id").name == "Id"
    with pytest.raises(IndexFieldError, match="Salesforce cannot filter on it") as caught:
        check_index_field(desc, "description")
    assert "'Description'" in str(caught.value)
    assert "Id" in str(caught.value)
    with pytest.raises(IndexFieldError, match="not an External ID"):
        check_index_field(desc, "Phone")


def test_fixture_queryable_and_bulk(desc: ObjectDescription) -> None:
    names = queryable_fields(desc)
    assert len(names) == len(desc.fields)
    selectable = [name for name in names if bulk_selectable(desc.by_name[name])]
    assert "BillingAddress" not in selectable
    assert "BillingCity" in selectable


# --- index field ---------------------------------------------------------------------------

INDEX_DESCRIBE: dict[str, Any] = {
    "name": "Account",
    "fields": [
        {"name": "Id", "type": "id", "filterable": True, "idLookup": True},
        {"name": "Name", "type": "string", "filterable": True, "idLookup": True},
        {"name": "Customer_Key__c", "type": "string", "filterable": True, "externalId": True},
        {"name": "Tax_Number__c", "type": "string", "filterable": True, "unique": True},
        {"name": "Phone", "type": "phone", "filterable": True},
        {"name": "Notes__c", "type": "textarea", "filterable": False, "externalId": True},
        {
            "name": "Old_Key__c",
            "type": "string",
            "filterable": True,
            "externalId": True,
            "deprecatedAndHidden": True,
        },
    ],
}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("Id", "Id", id="id"),
        pytest.param("ID", "Id", id="id-any-case"),
        pytest.param("customer_key__C", "Customer_Key__c", id="external-id-any-case"),
        pytest.param("Tax_Number__c", "Tax_Number__c", id="unique"),
        pytest.param("Name", "Name", id="idlookup"),
    ],
)
def test_check_index_field_accepts(name: str, expected: str) -> None:
    desc = ObjectDescription.from_describe(INDEX_DESCRIBE)
    assert check_index_field(desc, name).name == expected


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        pytest.param("Nope__c", "names no field of Account: 'Nope__c'", id="missing"),
        pytest.param("", "is empty", id="empty"),
        pytest.param("  ", "is empty", id="blank"),
        pytest.param("Old_Key__c", "names no field", id="deprecated-and-hidden"),
        pytest.param("Notes__c", "cannot filter", id="not-filterable"),
        pytest.param("phone", "not an External ID, unique or idLookup", id="not-identifying"),
    ],
)
def test_check_index_field_refuses(name: str, fragment: str) -> None:
    desc = ObjectDescription.from_describe(INDEX_DESCRIBE)
    with pytest.raises(IndexFieldError) as caught:
        check_index_field(desc, name)
    message = str(caught.value)
    assert fragment in message
    assert "one of: Id, Customer_Key__c, Tax_Number__c, Name" in message
    assert "Old_Key__c" not in message.split("one of:")[1]
    assert "\n" not in message


def test_check_index_field_lists_at_most_five_candidates() -> None:
    fields = [{"name": "Id", "type": "id", "filterable": True}] + [
        {"name": f"Key{i}__c", "type": "string", "filterable": True, "externalId": True}
        for i in range(8)
    ]
    desc = ObjectDescription.from_describe({"name": "Account", "fields": fields})
    with pytest.raises(IndexFieldError, match=r"Key3__c \(and 4 more\)\.$"):
        check_index_field(desc, "Missing")


# --- describe parsing, property-based ------------------------------------------------------

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=6),
    st.lists(st.text(max_size=4), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
type_names = st.one_of(st.sampled_from(sorted(EXPECTED_JSON_TYPE)), st.text(max_size=12), junk)
entries = st.fixed_dictionaries(
    {},
    optional={
        "name": st.one_of(st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,20}", fullmatch=True), junk),
        "type": type_names,
        "label": st.one_of(st.text(max_size=20), junk),
        "nillable": junk,
        "filterable": junk,
        "unique": junk,
        "externalId": junk,
        "idLookup": junk,
        "custom": junk,
        "calculated": junk,
        "deprecatedAndHidden": junk,
        "compoundFieldName": junk,
        "length": junk,
        "precision": junk,
        "scale": junk,
        "soapType": junk,
        "relationshipName": junk,
        "referenceTo": st.one_of(st.lists(st.one_of(st.text(max_size=8), junk)), junk),
    },
)


@settings(deadline=None)  # compiling schemas is slow on a loaded CI worker
@given(entries)
def test_any_describe_entry_gives_a_valid_schema(entry: dict[str, Any]) -> None:
    info = FieldInfo.from_describe(entry)
    schema = json_schema_for(info)
    Draft7Validator.check_schema(schema)
    types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    assert types[0] in {"string", "integer", "number", "boolean", "object"}
    assert types[1:] in ([], ["null"])
    assert isinstance(schema["description"], str)
    if info.name == "Id":
        assert "null" not in types


@settings(deadline=None)  # compiling schemas is slow on a loaded CI worker
@given(st.lists(entries, max_size=15), junk)
def test_any_describe_body_compiles(fields: list[dict[str, Any]], name: object) -> None:
    desc = ObjectDescription.from_describe({"name": name, "fields": fields})
    Draft7Validator.check_schema(to_json_schema(desc))
    names = queryable_fields(desc)
    make_record_converter(desc, names)({"attributes": {}})
    columns, _ = bulk_select_fields(desc, names)
    convert = make_csv_row_converter(desc, columns)
    assert set(convert([""] * len(columns)).values()) <= {None}


def test_describe_body_without_fields() -> None:
    desc = ObjectDescription.from_describe({})
    assert desc.name == "Account"
    assert desc.fields == ()
    assert to_json_schema(desc) == {"type": "object", "properties": {}}


def test_to_json_schema_subset_in_describe_order() -> None:
    desc = ObjectDescription.from_describe(INDEX_DESCRIBE)
    schema = to_json_schema(desc, ["phone", "Id", "NAME"])
    assert list(schema["properties"]) == ["Id", "Name", "Phone"]
    with pytest.raises(ValueError, match="no field 'Nope'"):
        to_json_schema(desc, ["Id", "Nope"])


def test_queryable_fields_skip_deprecated() -> None:
    desc = ObjectDescription.from_describe(INDEX_DESCRIBE)
    assert "Old_Key__c" not in queryable_fields(desc)


# --- compound keys, datetimes --------------------------------------------------------------


@pytest.mark.parametrize(
    ("compound", "part", "key"),
    [
        pytest.param("BillingAddress", "BillingCity", "city", id="billing-city"),
        pytest.param("BillingAddress", "BillingPostalCode", "postalCode", id="postal-code"),
        pytest.param("BillingAddress", "BillingGeocodeAccuracy", "geocodeAccuracy", id="geocode"),
        pytest.param("BillingAddress", "BillingCountryCode", "countryCode", id="country-code"),
        pytest.param("ShippingAddress", "ShippingStateCode", "stateCode", id="state-code"),
        pytest.param("PersonMailingAddress", "PersonMailingStreet", "street", id="person"),
        pytest.param("Loc__c", "Loc__Latitude__s", "latitude", id="location-lat"),
        pytest.param("ns__Loc__c", "ns__Loc__Longitude__s", "longitude", id="namespaced"),
        pytest.param("Addr__c", "Addr__PostalCode__s", "postalCode", id="custom-address"),
        pytest.param("Odd", "SomethingCity", "city", id="unprefixed-known-key"),
    ],
)
def test_compound_key(compound: str, part: str, key: str) -> None:
    assert compound_key(compound, part) == key


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(
            "2022-05-25T10:16:26.000+0000", "2022-05-25T10:16:26.000+00:00", id="rest-form"
        ),
        pytest.param("2022-05-25T10:16:26.000Z", "2022-05-25T10:16:26.000+00:00", id="bulk-form"),
        pytest.param(
            "2022-05-25T12:16:26.000+0200", "2022-05-25T12:16:26.000+02:00", id="other-offset"
        ),
        pytest.param("2022-05-25T10:16:26-0530", "2022-05-25T10:16:26-05:30", id="negative"),
        pytest.param(
            "2022-05-25T10:16:26.000+00:00", "2022-05-25T10:16:26.000+00:00", id="already-rfc3339"
        ),
        pytest.param("2022-05-25", "2022-05-25", id="date-untouched"),
        pytest.param("garbage", "garbage", id="garbage-untouched"),
    ],
)
def test_to_rfc3339(value: str, expected: str) -> None:
    assert to_rfc3339(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(
            "2022-05-25T10:16:26.000+0000",
            datetime(2022, 5, 25, 10, 16, 26, tzinfo=UTC),
            id="salesforce",
        ),
        pytest.param(
            "2022-05-25T10:16:26.5+00:00",
            datetime(2022, 5, 25, 10, 16, 26, 500_000, tzinfo=UTC),
            id="rfc3339",
        ),
        pytest.param(
            "2022-05-25T12:16:26+02:00",
            datetime(2022, 5, 25, 12, 16, 26, tzinfo=timezone(timedelta(hours=2))),
            id="offset",
        ),
        pytest.param("2024-01-01", datetime(2024, 1, 1, tzinfo=UTC), id="date-is-utc-midnight"),
        pytest.param("2024-01-01T00:00:00", datetime(2024, 1, 1, tzinfo=UTC), id="naive-is-utc"),
    ],
)
def test_parse_datetime(value: str, expected: datetime) -> None:
    assert parse_datetime(value) == expected
    assert parse_datetime(value).tzinfo is not None


def test_parse_datetime_refuses_garbage() -> None:
    with pytest.raises(ValueError, match="Invalid isoformat"):
        parse_datetime("yesterday")


# --- REST and Bulk records -----------------------------------------------------------------


def _entry(name: str, type_: str, compound: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "compoundFieldName": compound, **extra}


ROUND_TRIP_DESCRIBE: dict[str, Any] = {
    "name": "Account",
    "fields": [
        _entry("Id", "id", nillable=False),
        _entry("Name", "string", "Name"),
        _entry("IsDeleted", "boolean"),
        _entry("NumberOfEmployees", "int"),
        _entry("Big__c", "long"),
        _entry("AnnualRevenue", "currency"),
        _entry("Score__c", "double"),
        _entry("Pct__c", "percent"),
        _entry("SystemModstamp", "datetime"),
        _entry("LastActivityDate", "date"),
        _entry("Opens__c", "time"),
        _entry("Tags__c", "multipicklist"),
        _entry("Empty_Count__c", "int"),
        *(
            _entry(f"Billing{part}", kind, "BillingAddress")
            for part, kind in [
                ("Street", "textarea"),
                ("City", "string"),
                ("State", "string"),
                ("PostalCode", "string"),
                ("Country", "string"),
                ("StateCode", "picklist"),
                ("CountryCode", "picklist"),
                ("Latitude", "double"),
                ("Longitude", "double"),
                ("GeocodeAccuracy", "picklist"),
            ]
        ),
        _entry("BillingAddress", "address"),
        _entry("ShippingCity", "string", "ShippingAddress"),
        _entry("ShippingLatitude", "double", "ShippingAddress"),
        _entry("ShippingAddress", "address"),
        _entry("Loc__Latitude__s", "double", "Loc__c"),
        _entry("Loc__Longitude__s", "double", "Loc__c"),
        _entry("Loc__c", "location"),
        _entry("Attachment__c", "base64"),
    ],
}

REST_RECORD = """{
  "attributes": {"type": "Account", "url": "/services/data/v62.0/sobjects/Account/001"},
  "Id": "001D000000IRFmaIAH", "Name": "Acme, \\"Inc\\"\\nWest", "IsDeleted": false,
  "NumberOfEmployees": 24000, "Big__c": 12345678901234, "AnnualRevenue": 543210.0,
  "Score__c": 34.0, "Pct__c": 12.5, "SystemModstamp": "2022-05-25T10:16:26.000+0000",
  "LastActivityDate": "2022-06-19", "Opens__c": "13:30:00.000Z", "Tags__c": "A;B",
  "Empty_Count__c": null,
  "BillingStreet": "1 Rue X\\nBât. 2", "BillingCity": "Paris", "BillingState": "Île-de-France",
  "BillingPostalCode": "75001", "BillingCountry": "France", "BillingStateCode": "IDF",
  "BillingCountryCode": "FR", "BillingLatitude": 48.8566, "BillingLongitude": 2.3522,
  "BillingGeocodeAccuracy": "Address",
  "BillingAddress": {"city": "Paris", "country": "France", "countryCode": "FR",
    "geocodeAccuracy": "Address", "latitude": 48.8566, "longitude": 2.3522,
    "postalCode": "75001", "state": "Île-de-France", "stateCode": "IDF",
    "street": "1 Rue X\\nBât. 2"},
  "ShippingCity": null, "ShippingLatitude": null, "ShippingAddress": null,
  "Loc__Latitude__s": 37.79, "Loc__Longitude__s": -122.39,
  "Loc__c": {"latitude": 37.79, "longitude": -122.39}
}"""

BULK_CSV = (
    '"Id","Name","IsDeleted","NumberOfEmployees","Big__c","AnnualRevenue","Score__c","Pct__c",'
    '"SystemModstamp","LastActivityDate","Opens__c","Tags__c","Empty_Count__c",'
    '"BillingStreet","BillingCity","BillingState","BillingPostalCode","BillingCountry",'
    '"BillingStateCode","BillingCountryCode","BillingLatitude","BillingLongitude",'
    '"BillingGeocodeAccuracy","ShippingCity","ShippingLatitude",'
    '"Loc__Latitude__s","Loc__Longitude__s"\n'
    '"001D000000IRFmaIAH","Acme, ""Inc""\nWest","false","24000","12345678901234","543210",'
    '"34","12.5","2022-05-25T10:16:26.000Z","2022-06-19","13:30:00.000Z","A;B","",'
    '"1 Rue X\nBât. 2","Paris","Île-de-France","75001","France","IDF","FR","48.8566",'
    '"2.3522","Address","","","37.79","-122.39"\n'
)


def test_csv_row_equals_rest_record() -> None:
    desc = ObjectDescription.from_describe(ROUND_TRIP_DESCRIBE)
    rest_fields = [f["name"] for f in ROUND_TRIP_DESCRIBE["fields"] if f["type"] != "base64"]
    rest = make_record_converter(desc, rest_fields)(json.loads(REST_RECORD, parse_float=Decimal))
    columns, compounds = bulk_select_fields(desc, [*rest_fields, "Attachment__c"])
    header, row = list(csv.reader(io.StringIO(BULK_CSV)))
    assert columns == header
    assert compounds == ["BillingAddress", "ShippingAddress", "Loc__c"]
    bulk = make_csv_row_converter(desc, header, compounds)(row)
    assert bulk == rest
    assert bulk["BillingAddress"] is not None
    assert list(bulk["BillingAddress"]) == list(ADDRESS_KEYS)
    assert bulk["ShippingAddress"] is None
    assert bulk["IsDeleted"] is False
    assert bulk["NumberOfEmployees"] == 24000
    assert type(bulk["NumberOfEmployees"]) is int
    assert isinstance(bulk["Score__c"], Decimal)
    assert bulk["SystemModstamp"] == "2022-05-25T10:16:26.000+00:00"
    errors = list(Draft7Validator(to_json_schema(desc, rest_fields)).iter_errors(bulk))
    assert errors == []


def test_address_without_code_parts_has_no_code_keys() -> None:
    desc = ObjectDescription.from_describe(ROUND_TRIP_DESCRIBE)
    convert = make_csv_row_converter(
        desc, ["ShippingCity", "ShippingLatitude"], ["shippingaddress"]
    )
    record = convert(["Lyon", "45.76"])
    assert record["ShippingAddress"] == {
        "city": "Lyon",
        "country": None,
        "geocodeAccuracy": None,
        "latitude": Decimal("45.76"),
        "longitude": None,
        "postalCode": None,
        "state": None,
        "street": None,
    }


@pytest.mark.parametrize(
    ("kind", "text", "value"),
    [
        pytest.param("boolean", "true", True, id="true"),
        pytest.param("boolean", "false", False, id="false"),
        pytest.param("boolean", "TRUE", True, id="true-uppercase"),
        pytest.param("int", "-7", -7, id="int"),
        pytest.param("int", "24000.0", 24000, id="int-written-as-decimal"),
        pytest.param("long", "9007199254740993", 9007199254740993, id="long-beyond-float"),
        pytest.param("double", "1E+2", Decimal(100), id="double-exponent"),
        pytest.param("currency", "0.10", Decimal("0.10"), id="currency-keeps-scale"),
        pytest.param("percent", "-3.5", Decimal("-3.5"), id="percent"),
        pytest.param("date", "2024-02-29", "2024-02-29", id="date-unchanged"),
        pytest.param("time", "13:30:00.000Z", "13:30:00.000Z", id="time-unchanged"),
        pytest.param("string", "  spaced  ", "  spaced  ", id="string-unchanged"),
        pytest.param("multipicklist", "A;B", "A;B", id="multipicklist-unchanged"),
        pytest.param("string", "", None, id="empty-is-null"),
        pytest.param("boolean", "", None, id="empty-boolean-is-null"),
        pytest.param("int", "n/a", "n/a", id="bad-int-left-as-text"),
        pytest.param("double", "n/a", "n/a", id="bad-double-left-as-text"),
        pytest.param("boolean", "maybe", "maybe", id="bad-boolean-left-as-text"),
    ],
)
def test_csv_value_conversion(kind: str, text: str, value: Any) -> None:
    desc = ObjectDescription.from_describe({"fields": [{"name": "F__c", "type": kind}]})
    result = make_csv_row_converter(desc, ["f__c"])([text])
    assert result == {"F__c": value}
    assert type(result["F__c"]) is type(value)


def test_csv_converter_refuses_compound_without_parts() -> None:
    desc = ObjectDescription.from_describe(ROUND_TRIP_DESCRIBE)
    with pytest.raises(ValueError, match="BillingCity"):
        make_csv_row_converter(desc, ["Id", "BillingStreet"], ["BillingAddress"])


def test_csv_converter_refuses_non_compound() -> None:
    desc = ObjectDescription.from_describe(ROUND_TRIP_DESCRIBE)
    with pytest.raises(ValueError, match="not a compound"):
        make_csv_row_converter(desc, ["Id"], ["Id"])


def test_csv_converter_refuses_short_row() -> None:
    desc = ObjectDescription.from_describe(ROUND_TRIP_DESCRIBE)
    with pytest.raises(ValueError, match="shorter"):
        make_csv_row_converter(desc, ["Id", "Name"])(["001"])


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        pytest.param("json", {"a": [1, Decimal("2.5")]}, '{"a":[1,2.5]}', id="json-object"),
        pytest.param("complexvalue", [True, None], "[true,null]", id="complexvalue-array"),
        pytest.param("anyType", Decimal("34.0"), "34.0", id="anytype-number-keeps-its-digits"),
        pytest.param("anyType", "text", "text", id="anytype-string-kept"),
        pytest.param("json", None, None, id="null-kept"),
    ],
)
def test_rest_json_text_fields(kind: str, value: Any, expected: str | None) -> None:
    desc = ObjectDescription.from_describe({"fields": [{"name": "F__c", "type": kind}]})
    assert make_record_converter(desc, ["F__c"])({"F__c": value}) == {"F__c": expected}


def test_rest_converter_leaves_unknown_and_null_fields() -> None:
    desc = ObjectDescription.from_describe(ROUND_TRIP_DESCRIBE)
    convert = make_record_converter(desc, ["Id", "SystemModstamp", "Owner.Name"])
    record = {"Id": "001", "SystemModstamp": None, "Owner": {"Name": "x"}}
    assert convert(record) == {"Id": "001", "SystemModstamp": None, "Owner": {"Name": "x"}}


def test_rest_converter_mutates_and_returns_same_dict() -> None:
    desc = ObjectDescription.from_describe(ROUND_TRIP_DESCRIBE)
    record = {"attributes": {}, "Id": "001"}
    assert make_record_converter(desc, ["Id"])(record) is record


def test_bulk_select_fields_replaces_compounds_and_drops_base64() -> None:
    desc = ObjectDescription.from_describe(ROUND_TRIP_DESCRIBE)
    columns, compounds = bulk_select_fields(desc, ["Loc__c", "Attachment__c", "Id"])
    assert columns == ["Id", "Loc__Latitude__s", "Loc__Longitude__s"]
    assert compounds == ["Loc__c"]
