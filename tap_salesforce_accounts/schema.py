"""Describe → JSON Schema, field facts, and the per-record conversion of REST and Bulk rows.

The ``describe`` call lists each field's type and flags; this module turns them into
:class:`FieldInfo`, the stream's JSON Schema, the choice of index field, and two record
converters compiled once per query:

* :func:`make_record_converter` for REST JSON records: drops ``attributes`` and rewrites
  Salesforce's ``+0000`` datetimes as RFC 3339; every other value passes untouched.
* :func:`make_csv_row_converter` for Bulk API 2.0 CSV rows, where every value is text:
  types are restored from the describe, and compound fields (which Bulk cannot select)
  are rebuilt from their parts, so REST and Bulk give equal records.

Mapping choices, all string-typed unless noted:

* ``multipicklist`` stays the ``"A;B"`` text Salesforce sends (no array: targets load it
  as one column, and the order and separator are Salesforce's own).
* ``base64``: the REST API returns the blob's relative URL, not its content; that URL is
  the value.
* ``anyType``, ``complexvalue`` and ``json`` carry values of any JSON type; they are
  declared strings, and the REST converter writes non-string values as compact JSON text,
  which every target can load.
* ``time`` is ``format: time`` (Salesforce sends ``13:30:00.000Z``); ``date`` and
  ``datetime`` are ``format: date`` and ``date-time``.
* ``maxLength`` is the describe ``length`` (characters) for text whose length Salesforce
  enforces (id, reference, string, textarea, email, phone, url, combobox), not for
  formulas, picklists or encrypted text, whose values are not bound by it.
* A field is nullable when describe says ``nillable``, and also when it is a formula or
  custom field (formulas can be blank, and a custom field made required later keeps its
  old empty values); ``Id`` never is.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import msgspec

from tap_salesforce_accounts.exceptions import IndexFieldError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

logger = logging.getLogger(__name__)

TYPE_MAP: Mapping[str, str] = MappingProxyType(
    {
        **dict.fromkeys(
            (
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
                "encryptedstring",
                "anytype",
                "datacategorygroupreference",
                "base64",
                "complexvalue",
                "json",
                "date",
                "datetime",
                "time",
            ),
            "string",
        ),
        "int": "integer",
        "long": "integer",
        "double": "number",
        "currency": "number",
        "percent": "number",
        "boolean": "boolean",
        "address": "object",
        "location": "object",
    }
)
"""JSON Schema type of each describe type (keys in lower case)."""

_FORMATS = {"date": "date", "datetime": "date-time", "time": "time"}
_MAX_LENGTH_TYPES = frozenset(
    {"id", "reference", "string", "textarea", "email", "phone", "url", "combobox"}
)
# Types whose REST values may be any JSON value, declared (and converted to) text.
_JSON_TEXT_TYPES = frozenset({"anytype", "complexvalue", "json"})
_COMPOUND_TYPES = frozenset({"address", "location"})

ADDRESS_KEYS = (
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
)
"""Keys of an address value as REST returns it (``countryCode``/``stateCode`` only in
orgs with state and country picklists)."""

LOCATION_KEYS = ("latitude", "longitude")
"""Keys of a geolocation value."""

_NUMBER_KEYS = frozenset(LOCATION_KEYS)
_OPTIONAL_ADDRESS_KEYS = frozenset({"countryCode", "stateCode"})
_CANDIDATES_SHOWN = 5


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _optional_text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _flag(entry: Mapping[str, Any], key: str, *, default: bool = False) -> bool:
    value = entry.get(key, default)
    return value if isinstance(value, bool) else default


def _number(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


@dataclasses.dataclass(frozen=True, slots=True)
class FieldInfo:
    """The facts of one describe field entry that the tap uses."""

    name: str
    label: str = ""
    type: str = "string"
    nillable: bool = True
    filterable: bool = False
    unique: bool = False
    external_id: bool = False
    id_lookup: bool = False
    custom: bool = False
    calculated: bool = False
    compound_field_name: str | None = None
    deprecated_and_hidden: bool = False
    length: int = 0
    precision: int = 0
    scale: int = 0
    soap_type: str = ""
    relationship_name: str | None = None
    reference_to: tuple[str, ...] = ()

    @classmethod
    def from_describe(cls, entry: Mapping[str, Any]) -> FieldInfo:
        """Read one entry of describe's ``fields``; missing or mistyped keys get defaults.

        >>> FieldInfo.from_describe({"name": "Customer_Key__c", "externalId": True}).external_id
        True
        """
        name = _text(entry.get("name"))
        references = entry.get("referenceTo")
        return cls(
            name=name,
            label=_text(entry.get("label")) or name,
            type=_text(entry.get("type")),
            nillable=_flag(entry, "nillable", default=True),
            filterable=_flag(entry, "filterable"),
            unique=_flag(entry, "unique"),
            external_id=_flag(entry, "externalId"),
            id_lookup=_flag(entry, "idLookup"),
            custom=_flag(entry, "custom"),
            calculated=_flag(entry, "calculated"),
            compound_field_name=_optional_text(entry.get("compoundFieldName")),
            deprecated_and_hidden=_flag(entry, "deprecatedAndHidden"),
            length=_number(entry.get("length")),
            precision=_number(entry.get("precision")),
            scale=_number(entry.get("scale")),
            soap_type=_text(entry.get("soapType")),
            relationship_name=_optional_text(entry.get("relationshipName")),
            reference_to=tuple(item for item in (references or ()) if isinstance(item, str))
            if isinstance(references, list | tuple)
            else (),
        )

    @property
    def kind(self) -> str:
        """The describe type in lower case (Salesforce writes ``anyType`` in camel case)."""
        return self.type.lower()

    @property
    def is_compound(self) -> bool:
        """Whether the field is an address or geolocation compound of other fields."""
        return self.kind in _COMPOUND_TYPES

    @property
    def can_identify_one(self) -> bool:
        """Whether filtering on the field can single out one record.

        ``Id`` always can; otherwise the field must be filterable and be an External ID,
        unique, or an idLookup field (idLookup fields such as ``Name`` may still match
        several records: the caller reports that).
        """
        if self.name == "Id":
            return True
        return self.filterable and (self.external_id or self.unique or self.id_lookup)


@dataclasses.dataclass(frozen=True)
class ObjectDescription:
    """An object's name and fields, in describe order, with case-insensitive lookup."""

    name: str
    fields: tuple[FieldInfo, ...]
    by_name: Mapping[str, FieldInfo] = dataclasses.field(init=False, repr=False, compare=False)
    _by_lower: Mapping[str, FieldInfo] = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Index the fields by name; the first of two same names wins."""
        by_name: dict[str, FieldInfo] = {}
        by_lower: dict[str, FieldInfo] = {}
        for info in self.fields:
            by_name.setdefault(info.name, info)
            by_lower.setdefault(info.name.lower(), info)
        object.__setattr__(self, "by_name", MappingProxyType(by_name))
        object.__setattr__(self, "_by_lower", MappingProxyType(by_lower))

    @classmethod
    def from_describe(cls, describe: Mapping[str, Any]) -> ObjectDescription:
        """Read a describe response body; entries without a name are skipped.

        >>> desc = ObjectDescription.from_describe({"name": "Account", "fields": [
        ...     {"name": "Id", "type": "id"}, {"name": "Name", "type": "string"}]})
        >>> desc.field("name").name
        'Name'
        """
        entries = describe.get("fields")
        fields = tuple(
            FieldInfo.from_describe(entry)
            for entry in (entries if isinstance(entries, list | tuple) else ())
            if isinstance(entry, dict) and _text(entry.get("name"))
        )
        return cls(name=_text(describe.get("name")) or "Account", fields=fields)

    def field(self, name: str) -> FieldInfo | None:
        """The field named ``name`` in any letter case (SOQL names are case-insensitive)."""
        return self.by_name.get(name) or self._by_lower.get(name.lower())

    def compound_parts(self, compound_name: str) -> tuple[FieldInfo, ...]:
        """The fields that make up a compound field, in describe order.

        ``Name`` on Account names itself as its compound; a field is never its own part.
        """
        wanted = compound_name.lower()
        return tuple(
            info
            for info in self.fields
            if info.compound_field_name is not None
            and info.compound_field_name.lower() == wanted
            and info.name.lower() != wanted
        )


def compound_key(compound_name: str, part_name: str) -> str:
    """The key of a part in the compound's REST value.

    Standard address parts are the compound's name without ``Address`` plus the key
    (``BillingPostalCode`` → ``postalCode``); custom address and geolocation parts are the
    name without ``c`` plus the key and ``__s`` (``Loc__Latitude__s`` → ``latitude``).

    >>> compound_key("BillingAddress", "BillingGeocodeAccuracy")
    'geocodeAccuracy'
    >>> compound_key("ns__Loc__c", "ns__Loc__Longitude__s")
    'longitude'
    """
    stem = part_name.removesuffix("__s")
    if compound_name.endswith("__c"):
        prefix = compound_name.removesuffix("c")
    else:
        prefix = compound_name.removesuffix("Address")
    if prefix and stem.startswith(prefix) and len(stem) > len(prefix):
        rest = stem[len(prefix) :]
    else:
        rest = next(
            (key for key in _KEYS_LONGEST_FIRST if stem.lower().endswith(key.lower())), stem
        )
    return rest[:1].lower() + rest[1:]


_KEYS_LONGEST_FIRST = sorted(ADDRESS_KEYS, key=len, reverse=True)


def _nullable(info: FieldInfo) -> bool:
    if info.name == "Id":
        return False
    return info.nillable or info.calculated or info.custom or info.is_compound


def _object_schema(keys: Iterable[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            key: {"type": ["number" if key in _NUMBER_KEYS else "string", "null"]} for key in keys
        },
    }


def _scalar_schema(info: FieldInfo) -> dict[str, Any]:
    kind = info.kind
    json_type = TYPE_MAP.get(kind)
    if json_type is None:
        logger.warning(
            "Field %s has describe type %r, which this tap does not know; read as a string.",
            info.name,
            info.type,
        )
        json_type = "string"
    schema: dict[str, Any] = {"type": json_type}
    if kind in _FORMATS:
        schema["format"] = _FORMATS[kind]
    if kind in _MAX_LENGTH_TYPES and info.length > 0 and not info.calculated:
        schema["maxLength"] = info.length
    return schema


def json_schema_for(info: FieldInfo) -> dict[str, Any]:
    """The JSON Schema of one field's values.

    >>> json_schema_for(FieldInfo("SystemModstamp", type="datetime", nillable=False))
    {'type': 'string', 'format': 'date-time', 'description': 'SystemModstamp'}
    >>> json_schema_for(FieldInfo("Phone", label="Phone", type="phone", length=40))
    {'type': ['string', 'null'], 'maxLength': 40, 'description': 'Phone'}
    """
    if info.kind == "address":
        schema = _object_schema(ADDRESS_KEYS)
    elif info.kind == "location":
        schema = _object_schema(LOCATION_KEYS)
    else:
        schema = _scalar_schema(info)
    if _nullable(info):
        schema["type"] = [schema["type"], "null"]
    schema["description"] = info.label or info.name
    return schema


def _select(desc: ObjectDescription, names: Iterable[str]) -> list[FieldInfo]:
    """The fields named, in describe order; unknown names raise ValueError."""
    wanted: set[str] = set()
    unknown = []
    for name in names:
        info = desc.field(name)
        if info is None:
            unknown.append(name)
        else:
            wanted.add(info.name)
    if unknown:
        msg = f"{desc.name} has no field {', '.join(map(repr, unknown))}."
        raise ValueError(msg)
    return [info for info in desc.fields if info.name in wanted]


def to_json_schema(desc: ObjectDescription, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The stream's JSON Schema: every field, or those named, in describe order.

    Raises:
        ValueError: A name in ``fields`` is not in the describe.
    """
    infos = list(desc.fields) if fields is None else _select(desc, fields)
    return {
        "type": "object",
        "properties": {info.name: json_schema_for(info) for info in infos},
    }


def queryable_fields(desc: ObjectDescription) -> list[str]:
    """Every field name a query may select, skipping deprecated-and-hidden ones."""
    return [info.name for info in desc.fields if not info.deprecated_and_hidden]


def bulk_selectable(info: FieldInfo) -> bool:
    """Whether Bulk API 2.0 can select the field (not compounds, not base64)."""
    return not info.is_compound and info.kind != "base64"


def bulk_select_fields(
    desc: ObjectDescription, fields: Iterable[str]
) -> tuple[list[str], list[str]]:
    """What a Bulk API 2.0 query selects to give the named fields.

    Compound fields are replaced by their parts (kept to be rebuilt by
    :func:`make_csv_row_converter`); base64 fields are dropped, Bulk cannot read them.

    Returns:
        The fields to select (describe order, each once) and the compounds to rebuild.

    Raises:
        ValueError: A name is not in the describe.
    """
    columns: dict[str, None] = {}
    compounds = []
    for info in _select(desc, fields):
        if info.is_compound:
            compounds.append(info.name)
            columns.update(dict.fromkeys(part.name for part in desc.compound_parts(info.name)))
        elif bulk_selectable(info):
            columns[info.name] = None
    order = {info.name: index for index, info in enumerate(desc.fields)}
    return sorted(columns, key=order.__getitem__), compounds


def _candidates(desc: ObjectDescription) -> list[str]:
    """Fields fit to be the index field: Id, then External IDs, unique, idLookup."""
    fit = [info for info in desc.fields if info.can_identify_one and not info.deprecated_and_hidden]
    fit.sort(key=lambda info: (info.name != "Id", not info.external_id, not info.unique))
    return [info.name for info in fit]


def _pick_hint(desc: ObjectDescription) -> str:
    names = _candidates(desc)
    shown = ", ".join(names[:_CANDIDATES_SHOWN])
    more = len(names) - _CANDIDATES_SHOWN
    return f"set index_field to one of: {shown}" + (f" (and {more} more)" if more > 0 else "")


def check_index_field(desc: ObjectDescription, name: str) -> FieldInfo:
    """Return the field that ``index_field`` names if it can identify one record.

    The name matches in any letter case; the result has the describe's spelling.

    Raises:
        IndexFieldError: The field does not exist, cannot be filtered on, or is neither
            ``Id``, an External ID, unique, nor idLookup. The message lists candidates.

    >>> desc = ObjectDescription.from_describe({"fields": [{"name": "Id", "type": "id"}]})
    >>> check_index_field(desc, "ID").name
    'Id'
    """
    info = desc.field(name) if name.strip() else None
    if info is None or info.deprecated_and_hidden:
        why = "is empty" if not name.strip() else f"names no field of {desc.name}: {name!r}"
        msg = f"index_field {why}; {_pick_hint(desc)}."
        raise IndexFieldError(msg)
    if info.can_identify_one:
        return info
    if not info.filterable:
        why = "Salesforce cannot filter on it (long text, encrypted and base64 fields cannot be)"
    else:
        why = "it is not an External ID, unique or idLookup field, so it may match many records"
    if info.custom and info.filterable:
        fix = f"mark it External ID in Salesforce or {_pick_hint(desc)}"
    else:
        # Salesforce offers the External ID attribute on custom fields only.
        fix = (
            f"{_pick_hint(desc)}, or add a custom text field marked External ID and Unique "
            "(such as Customer_Key__c) holding the values you look up"
        )
    msg = f"index_field {info.name!r} cannot identify one {desc.name}: {why}; {fix}."
    raise IndexFieldError(msg)


def to_rfc3339(value: str) -> str:
    """Write a Salesforce datetime in RFC 3339: ``+0000`` → ``+00:00``, ``Z`` → ``+00:00``.

    REST writes the offset without a colon, Bulk API 2.0 writes ``Z``; both become the same
    text so that REST and Bulk records compare equal. Other text is returned unchanged.

    >>> to_rfc3339("2022-05-25T10:16:26.000+0000")
    '2022-05-25T10:16:26.000+00:00'
    >>> to_rfc3339("2022-05-25T10:16:26.000Z")
    '2022-05-25T10:16:26.000+00:00'
    """
    if value.endswith("+0000"):
        return value[:-5] + "+00:00"
    if value.endswith("Z"):
        return value[:-1] + "+00:00"
    tail = value[-5:]
    if "T" in value and len(tail) == 5 and tail[0] in "+-" and tail[1:].isdigit():  # noqa: PLR2004
        return f"{value[:-2]}:{value[-2:]}"
    return value


def parse_datetime(value: str) -> datetime:
    """Read a datetime as Salesforce, RFC 3339 or a bookmark writes it; naive means UTC.

    Pass the result to ``soql.quote`` for a filter (it floors to the second).

    Raises:
        ValueError: Not an ISO 8601 date or datetime.

    >>> parse_datetime("2022-05-25T10:16:26.250+0000").isoformat()
    '2022-05-25T10:16:26.250000+00:00'
    >>> parse_datetime("2024-01-01").isoformat()
    '2024-01-01T00:00:00+00:00'
    """
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


# Decimals stay numbers with every digit they came with; anything else JSON cannot hold
# becomes its text.
_JSON_TEXT = msgspec.json.Encoder(enc_hook=str, decimal_format="number")


def as_json_text(value: object) -> str:
    """A value of an any-JSON field as compact JSON text (its Decimals with every digit)."""
    return _JSON_TEXT.encode(value).decode()


def make_record_converter(
    desc: ObjectDescription, fields: Sequence[str]
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Compile the conversion of REST JSON records that selected ``fields``.

    Only datetime fields (and the rare any-JSON fields) need work, so the converter
    visits only those; names not in the describe (relationship paths) pass untouched.
    The record is changed in place and returned.

    >>> desc = ObjectDescription.from_describe({"fields": [
    ...     {"name": "Id", "type": "id"}, {"name": "SystemModstamp", "type": "datetime"}]})
    >>> convert = make_record_converter(desc, ["Id", "SystemModstamp"])
    >>> convert({"attributes": {"type": "Account"}, "Id": "001",
    ...          "SystemModstamp": "2022-05-25T10:16:26.000+0000"})
    {'Id': '001', 'SystemModstamp': '2022-05-25T10:16:26.000+00:00'}
    """
    infos = [info for info in map(desc.field, fields) if info is not None]
    datetimes = tuple(info.name for info in infos if info.kind == "datetime")
    json_texts = tuple(info.name for info in infos if info.kind in _JSON_TEXT_TYPES)

    def convert(record: dict[str, Any]) -> dict[str, Any]:
        record.pop("attributes", None)
        for name in datetimes:
            value = record.get(name)
            if value:
                # REST always writes UTC as "+0000": the common case, inlined for speed.
                if value[-5:] == "+0000":
                    record[name] = value[:-5] + "+00:00"
                else:
                    record[name] = to_rfc3339(value)
        for name in json_texts:
            value = record.get(name)
            if value is not None and not isinstance(value, str):
                record[name] = as_json_text(value)
        return record

    return convert


def parse_bool(value: str) -> bool | str:
    """Bulk CSV boolean text as REST's JSON value (other text stays text)."""
    lowered = value.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    return value


def parse_int(value: str) -> int | Decimal | str:
    """Bulk CSV integer text as REST's JSON value (an integral Decimal as an int)."""
    try:
        return int(value)
    except ValueError:
        pass
    try:
        number = Decimal(value)
    except InvalidOperation:
        return value
    return int(number) if number.is_finite() and number == number.to_integral_value() else number


def parse_decimal(value: str) -> Decimal | str:
    """Bulk CSV number text as a Decimal (text that is no number stays text)."""
    try:
        return Decimal(value)
    except InvalidOperation:
        return value


# Bulk API 2.0 CSV text → the value REST JSON gives (numbers as the caller's Decimals).
_CSV_PARSERS: Mapping[str, Callable[[str], Any]] = MappingProxyType(
    {
        "boolean": parse_bool,
        "int": parse_int,
        "long": parse_int,
        "double": parse_decimal,
        "currency": parse_decimal,
        "percent": parse_decimal,
        "datetime": to_rfc3339,
    }
)


def compound_layout(
    desc: ObjectDescription, compound: str, header: set[str]
) -> tuple[str, tuple[tuple[str, str | None], ...]]:
    """The compound's spelling and its (key, part column) pairs, in REST's key order."""
    info = desc.field(compound)
    if info is None or not info.is_compound:
        msg = f"{compound!r} is not a compound (address or location) field of {desc.name}."
        raise ValueError(msg)
    parts = {
        compound_key(info.name, part.name): part.name for part in desc.compound_parts(info.name)
    }
    missing = [column for column in parts.values() if column not in header]
    if missing:
        msg = f"Rebuilding {info.name} needs its parts selected too: {', '.join(missing)}."
        raise ValueError(msg)
    if info.kind == "location":
        keys: Iterable[str] = LOCATION_KEYS
    else:
        # REST shows countryCode/stateCode only in orgs with state and country picklists,
        # which is exactly when describe lists those parts.
        keys = [key for key in ADDRESS_KEYS if key not in _OPTIONAL_ADDRESS_KEYS or key in parts]
    extra = sorted(key for key in parts if key not in keys)
    return info.name, tuple((key, parts.get(key)) for key in [*keys, *extra])


def make_csv_row_converter(
    desc: ObjectDescription,
    header: Sequence[str],
    compounds: Sequence[str] = (),
    fields: Sequence[str] | None = None,
) -> Callable[[list[str]], dict[str, Any]]:
    """Compile the conversion of Bulk API 2.0 CSV rows into records equal to REST's.

    Each output field is compiled once to the column it reads and that column's parser,
    so a row costs one pass over its cells plus one call per typed, non-empty cell.

    Args:
        desc: The object's description.
        header: The CSV header: the selected field names.
        compounds: Compound fields to rebuild from their parts (all in ``header``).
        fields: The record's keys, in order (names not in the header are null); by
            default the header's names, then the compounds.

    Returns:
        A function from one CSV row (a list of strings, ``""`` meaning null; the list is
        used up) to a record keyed by the describe's spelling of each name.

    Raises:
        ValueError: A compound is not one, or lacks a part in the header.

    >>> desc = ObjectDescription.from_describe({"fields": [
    ...     {"name": "Id", "type": "id"}, {"name": "NumberOfEmployees", "type": "int"}]})
    >>> make_csv_row_converter(desc, ["Id", "NumberOfEmployees"])(["001", ""])
    {'Id': '001', 'NumberOfEmployees': None}
    """
    names = tuple(info.name if (info := desc.field(col)) else col for col in header)
    # A name given twice reads its last column, as a dict built from the row would.
    columns = {name: index for index, name in enumerate(names)}
    parsers = {
        name: parser
        for name in columns
        if (info := desc.field(name)) is not None and (parser := _CSV_PARSERS.get(info.kind))
    }
    layouts = dict(compound_layout(desc, name, set(names)) for name in compounds)
    keys = tuple(dict.fromkeys([*names, *layouts]) if fields is None else fields)
    width = len(names)
    # Every key reads its cell as text first, a key without a column (base64, which Bulk
    # cannot read; a compound) an empty cell appended to the row; typed and compound
    # keys are then overwritten.
    reads = tuple(width if key in layouts else columns.get(key, width) for key in keys)
    typed = tuple(
        (key, columns[key], parsers[key]) for key in keys if key in parsers and key not in layouts
    )
    rebuilt = tuple(
        (
            key,
            tuple(part for part, _ in layouts[key]),
            tuple(
                (columns[column] if column else width, parsers.get(column or ""))
                for _, column in layouts[key]
            ),
        )
        for key in keys
        if key in layouts
    )

    def convert(row: list[str]) -> dict[str, Any]:
        if len(row) != width:
            side = "shorter" if len(row) < width else "longer"
            msg = f"A Bulk API 2.0 row of {len(row)} cells is {side} than its header ({width})."
            raise ValueError(msg)
        row.append("")
        # Bulk CSV has no null: an empty cell is one (Salesforce stores no empty text).
        record: dict[str, Any] = dict(
            zip(keys, [row[index] or None for index in reads], strict=True)
        )
        for key, index, parse in typed:
            value = row[index]
            if value:
                record[key] = parse(value)
        for key, parts, cells in rebuilt:
            values = [
                (parse(text) if parse else text) if (text := row[index]) else None
                for index, parse in cells
            ]
            if values.count(None) < len(values):
                record[key] = dict(zip(parts, values, strict=True))
        return record

    return convert
