"""REST query answers decoded with a msgspec type compiled per field list (the hot path).

A query page is decoded into the same dicts as :func:`client.decode_json` gives, with one
difference: only the values :func:`schema.make_record_converter` rewrites (datetimes and
any-JSON values) become Python objects. Every other value stays :class:`msgspec.Raw`, the
bytes Salesforce sent, which the writer copies out as they came: numbers keep every digit
(as the ``Decimal`` the general decoder makes would), text is not decoded and re-encoded.
``attributes`` is skipped while decoding. Such records are for writing only: code that
reads their values (stream maps, lookups) gets records from ``client.decode_json``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict

import msgspec

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from tap_salesforce_accounts.schema import ObjectDescription

# Describe types whose values the REST converter rewrites, and the type they decode to.
_DECODED: dict[str, Any] = {
    "datetime": str | None,
    "anytype": Any,
    "complexvalue": Any,
    "json": Any,
}


def make_page_decoder(desc: ObjectDescription, fields: Sequence[str]) -> Callable[[bytes], Any]:
    """Compile a decoder of the REST query answers of a query that selected ``fields``.

    The answer decodes to a dict with ``records``, ``done`` and ``nextRecordsUrl``. Each
    record holds the keys of ``fields`` that Salesforce sent, datetimes as text and
    any-JSON values decoded (numbers with a fraction as ``Decimal``), the rest raw.

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
        types[name] = _DECODED.get(info.kind if info is not None else "", msgspec.Raw)
    record = TypedDict("record", types, total=False)  # type: ignore[misc]
    # The record type is built at run time, so the answer's type is too.
    answer = TypedDict(  # noqa: UP013
        "answer",
        {"records": list[record], "done": bool, "nextRecordsUrl": str},
        total=False,
    )
    return msgspec.json.Decoder(answer, float_hook=Decimal).decode
