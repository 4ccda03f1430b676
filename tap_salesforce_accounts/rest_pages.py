"""REST query records decoded with a msgspec type compiled per field list (the hot path).

A query page is decoded with its records left as raw JSON, then each record, as it is
written, into a :class:`Record` whose type is compiled for the selected fields. Text and
boolean values (most of a record) stay :class:`msgspec.Raw`, the bytes Salesforce sent,
which the writer copies out as they came, without decoding and encoding them again.
Datetimes (rewritten as :func:`schema.make_record_converter` does), numbers (as
``Decimal`` when they have a fraction), compounds and any-JSON values are decoded as the
general decoder does, so the RECORD line holds the same values. ``attributes`` is skipped
while decoding. Such records are for writing only: code that reads their values (stream
maps, lookups) gets dicts from ``client.decode_json``.
"""

from __future__ import annotations

from decimal import Decimal
from keyword import iskeyword
from typing import TYPE_CHECKING, Any, TypedDict

import msgspec

from tap_salesforce_accounts.exceptions import SalesforceAPIError
from tap_salesforce_accounts.schema import as_json_text, to_rfc3339

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from tap_salesforce_accounts.schema import ObjectDescription

_JSON_TEXT_TYPES = frozenset({"anytype", "complexvalue", "json"})
# Describe types whose JSON values are always text or booleans: kept raw. Every other value
# (numbers, compounds, any-JSON, unknown types) is decoded as the general decoder does it, so
# that a number is written as that decoder writes it (``9.4E7`` as ``94000000``).
_RAW_TYPES = frozenset(
    {
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
        "datacategorygroupreference",
        "base64",
        "date",
        "time",
        "boolean",
    }
)


def _value_type(kind: str) -> Any:  # noqa: ANN401
    if kind == "datetime":
        return str | None | msgspec.UnsetType
    if kind in _RAW_TYPES:
        return msgspec.Raw | msgspec.UnsetType
    return Any


class Record(msgspec.Struct):
    """A REST record for writing: one attribute per selected field, in the query's order.

    A field Salesforce did not send is ``UNSET`` and is not written. ``get`` reads a
    field as a record dict would (the bookmark is read so).
    """

    def get(self, name: str, default: object = None) -> Any:  # noqa: ANN401
        """The field's value, or ``default`` if the record has no such field."""
        value = getattr(self, name, default)
        return default if value is msgspec.UNSET else value


def record_type(fields: Sequence[tuple[str, Any]]) -> type[Record] | None:
    """A :class:`Record` type of these ``(name, value type)`` fields, each ``UNSET`` by default.

    Returns:
        The type, or None when a name cannot be an attribute (or comes twice).
    """
    names = [name for name, _ in fields]
    reserved = set(dir(Record))
    if len(set(names)) != len(names) or any(
        not name.isidentifier() or iskeyword(name) or name in reserved for name in names
    ):
        return None
    struct: type[Record] = msgspec.defstruct(  # type: ignore[assignment]
        "AccountRecord",
        [(name, kind, msgspec.UNSET) for name, kind in fields],
        bases=(Record,),
    )
    return struct


class _Answer(TypedDict, total=False):
    totalSize: int
    records: list[msgspec.Raw]
    done: bool
    nextRecordsUrl: str


decode_answer: Callable[[bytes], Any] = msgspec.json.Decoder(_Answer).decode
"""Decode a REST query answer, each record left as its raw JSON (read by a record reader).

Raises:
    msgspec.DecodeError: the body is not JSON, or not a query answer.
"""


def make_record_reader(
    desc: ObjectDescription, fields: Sequence[str]
) -> Callable[[msgspec.Raw], Any] | None:
    """Compile the reading of one raw REST record of a query that selected ``fields``.

    The record is decoded into a :class:`Record` type compiled for ``fields`` (its fields
    in the order Salesforce sends them, so each is found without a lookup) and converted
    as :func:`schema.make_record_converter` converts a dict. One record is decoded at a
    time, so a page costs its body, not a page of objects.

    Returns:
        The reader, or None when a field name cannot be an attribute (then records are
        read as dicts by the general decoder).

    Raises:
        SalesforceAPIError: (from the reader) a datetime is not text.

    >>> from tap_salesforce_accounts.schema import ObjectDescription
    >>> desc = ObjectDescription.from_describe({"fields": [
    ...     {"name": "Id", "type": "id"}, {"name": "SystemModstamp", "type": "datetime"}]})
    >>> read = make_record_reader(desc, ["Id", "SystemModstamp"])
    >>> answer = decode_answer(b'{"done": true, "records": [{"attributes": {"type": "Account"},'
    ...                        b' "Id": "001", "SystemModstamp": "2022-05-25T10:16:26.000+0000"}]}')
    >>> record = read(answer["records"][0])
    >>> msgspec.json.encode(record)
    b'{"Id":"001","SystemModstamp":"2022-05-25T10:16:26.000+00:00"}'
    """
    infos = {name: desc.field(name) for name in fields}
    kinds = {name: info.kind if info is not None else "" for name, info in infos.items()}
    struct = record_type([(name, _value_type(kinds[name])) for name in fields])
    if struct is None:
        return None
    decode: Callable[[msgspec.Raw], Any] = msgspec.json.Decoder(struct, float_hook=Decimal).decode
    datetimes = tuple(name for name in fields if kinds[name] == "datetime")
    json_texts = tuple(name for name in fields if kinds[name] in _JSON_TEXT_TYPES)

    def read(raw: msgspec.Raw) -> Record:
        try:
            record: Record = decode(raw)
        except msgspec.ValidationError as exc:
            msg = f"Salesforce sent an Account the tap cannot read ({exc}): report it."
            raise SalesforceAPIError(msg, error_code="UNREADABLE_RECORD") from None
        for name in datetimes:
            value = getattr(record, name)
            if value:
                # REST always writes UTC as "+0000": the common case, inlined for speed.
                if value[-5:] == "+0000":
                    setattr(record, name, value[:-5] + "+00:00")
                else:
                    setattr(record, name, to_rfc3339(value))
        for name in json_texts:
            value = getattr(record, name)
            if value is not None and value is not msgspec.UNSET and not isinstance(value, str):
                setattr(record, name, as_json_text(value))
        return record

    return read
