"""REST query records decoded with a msgspec type compiled per field list (the hot path).

A query page is decoded with its records left as raw JSON, then each record, as it is
written, into the same dict as :func:`client.decode_json` gives, with one difference: text
and boolean values (most of a record) stay :class:`msgspec.Raw`, the bytes Salesforce sent,
which the writer copies out as they came, without decoding and encoding them again.
Datetimes (which :func:`schema.make_record_converter` rewrites), numbers (as ``Decimal``
when they have a fraction), compounds and any-JSON values are decoded as the general
decoder does. ``attributes`` is skipped while decoding. Such records are for writing only:
code that reads their values (stream maps, lookups) gets records from
``client.decode_json``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict

import msgspec

from tap_salesforce_accounts.exceptions import SalesforceAPIError
from tap_salesforce_accounts.schema import make_record_converter

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from tap_salesforce_accounts.schema import ObjectDescription

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
        return str | None
    return msgspec.Raw if kind in _RAW_TYPES else Any


class _Answer(TypedDict, total=False):
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
) -> Callable[[msgspec.Raw], dict[str, Any]]:
    """Compile the reading of one raw REST record of a query that selected ``fields``.

    The record is decoded with a type compiled for ``fields`` and converted as
    :func:`schema.make_record_converter` converts it; one record is decoded at a time, so
    a page costs its body and not a page of objects.

    Raises:
        SalesforceAPIError: (from the reader) a datetime is not text.

    >>> from tap_salesforce_accounts.schema import ObjectDescription
    >>> desc = ObjectDescription.from_describe({"fields": [
    ...     {"name": "Id", "type": "id"}, {"name": "SystemModstamp", "type": "datetime"}]})
    >>> read = make_record_reader(desc, ["Id", "SystemModstamp"])
    >>> answer = decode_answer(b'{"done": true, "records": [{"attributes": {"type": "Account"},'
    ...                        b' "Id": "001", "SystemModstamp": "2022-05-25T10:16:26.000+0000"}]}')
    >>> record = read(answer["records"][0])
    >>> sorted(record), bytes(record["Id"]), record["SystemModstamp"]
    (['Id', 'SystemModstamp'], b'"001"', '2022-05-25T10:16:26.000+00:00')
    """
    types: dict[str, Any] = {}
    for name in fields:
        info = desc.field(name)
        types[name] = _value_type(info.kind if info is not None else "")
    record_type = TypedDict("record_type", types, total=False)  # type: ignore[misc]
    decode: Callable[[msgspec.Raw], Any] = msgspec.json.Decoder(
        record_type, float_hook=Decimal
    ).decode
    convert = make_record_converter(desc, fields)

    def read(raw: msgspec.Raw) -> dict[str, Any]:
        try:
            record: dict[str, Any] = decode(raw)
        except msgspec.ValidationError as exc:
            msg = f"Salesforce sent an Account the tap cannot read ({exc}): report it."
            raise SalesforceAPIError(msg, error_code="UNREADABLE_RECORD") from None
        return convert(record)

    return read
