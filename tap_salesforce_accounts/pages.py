"""REST query answers decoded with a msgspec type compiled per field list (the hot path).

A query page is decoded into the same dicts as :func:`client.decode_json` gives, with one
difference: text and boolean values (most of a record) stay :class:`msgspec.Raw`, the bytes
Salesforce sent, which the writer copies out as they came, without decoding and encoding
them again. Datetimes (which :func:`schema.make_record_converter` rewrites), numbers (as
``Decimal`` when they have a fraction), compounds and any-JSON values are decoded as the
general decoder does. ``attributes`` is skipped while decoding. Such records are for
writing only: code that reads their values (stream maps, lookups) gets records from
``client.decode_json``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict

import msgspec

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


def make_page_decoder(desc: ObjectDescription, fields: Sequence[str]) -> Callable[[bytes], Any]:
    """Compile a decoder of the REST query answers of a query that selected ``fields``.

    The answer decodes to a dict with ``records``, ``done`` and ``nextRecordsUrl``. Each
    record holds the keys of ``fields`` that Salesforce sent, text and booleans raw.

    Raises:
        msgspec.DecodeError: (from the decoder) the body is not JSON, or a datetime is not
            text.

    >>> from tap_salesforce_accounts.schema import ObjectDescription
    >>> desc = ObjectDescription.from_describe({"fields": [
    ...     {"name": "Id", "type": "id"}, {"name": "SystemModstamp", "type": "datetime"}]})
    >>> decode = make_page_decoder(desc, ["Id", "SystemModstamp"])
    >>> answer = decode(b'{"done": true, "records": [{"attributes": {"type": "Account"},'
    ...                 b' "Id": "001", "SystemModstamp": "2022-05-25T10:16:26.000+0000"}]}')
    >>> record = answer["records"][0]
    >>> sorted(record), bytes(record["Id"]), record["SystemModstamp"]
    (['Id', 'SystemModstamp'], b'"001"', '2022-05-25T10:16:26.000+0000')
    """
    types: dict[str, Any] = {}
    for name in fields:
        info = desc.field(name)
        types[name] = _value_type(info.kind if info is not None else "")
    record = TypedDict("record", types, total=False)  # type: ignore[misc]
    # The record type is built at run time, so the answer's type is too.
    answer = TypedDict(  # noqa: UP013
        "answer",
        {"records": list[record], "done": bool, "nextRecordsUrl": str},
        total=False,
    )
    return msgspec.json.Decoder(answer, float_hook=Decimal).decode
