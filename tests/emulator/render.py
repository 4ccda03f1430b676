"""Serialize records as Salesforce does: JSON for REST, CSV for Bulk API 2.0.

Speed matters (a page holds 2,000 records of ~100 fields), so a ``Renderer`` compiles, per
select list and per profile (see ``data.py``), a ``%``-format template in which only the
fields computed from the index are slots; rendering a record is then one hash, one tuple and
one string format. Records changed through the admin API take the plain path
(``Dataset.record`` and one encoder per field), which is also the reference the fast path is
tested against.
"""

from __future__ import annotations

import json
import operator
import time
from collections.abc import Callable
from json.encoder import encode_basestring
from typing import Any, Final, Literal

from tests.emulator.data import (
    BASE_MS,
    COMPOUND_PARTS,
    FIELDS_BY_NAME,
    MEMBER_BASE,
    SHARED_LEGACY_INDEXES,
    SPECIAL_CUSTOMER_KEYS,
    Dataset,
)

Encoder = Callable[[Any], str]
Format = Literal["json", "csv"]

_SCI_LOW: Final = 1e-3
_SCI_HIGH: Final = 1e7


def java_double(value: float) -> str:
    """Format a double as Java's ``Double.toString`` (Salesforce's JSON): ``34.0``, ``1.5E7``.

    Args:
        value: the number.

    Returns:
        Its text: plain decimal with at least one fraction digit between 10^-3 and 10^7,
        otherwise ``d.dddE<n>`` (shortest digits that round-trip).
    """
    if value != value or value in {float("inf"), float("-inf")}:  # noqa: PLR0124
        return "null"
    magnitude = abs(value)
    if magnitude == 0 or _SCI_LOW <= magnitude < _SCI_HIGH:
        return repr(float(value))
    text = repr(magnitude)
    if "e" in text:
        mantissa, exp_text = text.split("e")
        exponent = int(exp_text)
        digits = mantissa.replace(".", "")
    else:
        whole, _, fraction = text.partition(".")
        if whole != "0":
            exponent = len(whole) - 1
            digits = whole + fraction
        else:
            stripped = fraction.lstrip("0")
            exponent = -(len(fraction) - len(stripped) + 1)
            digits = stripped
    digits = digits.rstrip("0") or "0"
    sign = "-" if value < 0 else ""
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{exponent}"


_DAYS: dict[int, str] = {}
_TIMES_OF_DAY: list[str] = []


def format_datetime(ms: int, *, zulu: bool = False) -> str:
    """``2022-05-25T10:16:26.000+0000`` (REST) or ``...000Z`` (Bulk CSV) from epoch ms."""
    seconds, millis = divmod(ms, 1000)
    day, second_of_day = divmod(seconds, 86400)
    date = _DAYS.get(day)
    if date is None:
        date = _DAYS[day] = time.strftime("%Y-%m-%d", time.gmtime(day * 86400))
    if not _TIMES_OF_DAY:
        _TIMES_OF_DAY.extend(
            f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86400)
        )
    zone = "Z" if zulu else "+0000"
    return f"{date}T{_TIMES_OF_DAY[second_of_day]}.{millis:03d}{zone}"


def format_time(ms: int) -> str:
    """``13:30:00.000Z`` from milliseconds since midnight."""
    seconds, millis = divmod(ms, 1000)
    minutes, sec = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours:02d}:{minute:02d}:{sec:02d}.{millis:03d}Z"


def _json_dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _json_string(value: Any) -> str:
    return "null" if value is None else str(encode_basestring(value))


def _json_bool(value: Any) -> str:
    if value is None:
        return "null"
    return "true" if value else "false"


def _json_int(value: Any) -> str:
    return "null" if value is None else str(int(value))


def _json_double(value: Any) -> str:
    return "null" if value is None else java_double(float(value))


def _json_datetime(value: Any) -> str:
    return "null" if value is None else f'"{format_datetime(value)}"'


def _json_time(value: Any) -> str:
    return "null" if value is None else f'"{format_time(value)}"'


def _json_any(value: Any) -> str:
    return "null" if value is None else _json_dumps(value)


def _json_compound(name: str) -> Encoder:
    part_encoders = [(key, json_encoder(part)) for key, part in COMPOUND_PARTS[name]]

    def encode(value: Any) -> str:
        if value is None:
            return "null"
        inner = ",".join(f'"{key}":{enc(value[key])}' for key, enc in part_encoders)
        return "{" + inner + "}"

    return encode


def json_encoder(name: str, version: str = "62.0") -> Encoder:  # noqa: PLR0911
    """Return the typed-value -> JSON text encoder of a field."""
    ftype = FIELDS_BY_NAME[name].type
    if ftype == "boolean":
        return _json_bool
    if ftype in {"int", "long"}:
        return _json_int
    if ftype in {"double", "currency", "percent"}:
        return _json_double
    if ftype == "datetime":
        return _json_datetime
    if ftype == "time":
        return _json_time
    if ftype in {"anyType", "complexvalue", "json"}:
        return _json_any
    if ftype in {"address", "location"}:
        return _json_compound(name)
    if ftype == "base64":
        prefix = f"/services/data/v{version}/sobjects/Account/"

        def blob_url(value: Any) -> str:
            return "null" if value is None else f'"{prefix}{value}/{name}"'

        return blob_url
    return _json_string


def _csv_quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def csv_encoder(name: str) -> Encoder:
    """Return the typed-value -> CSV cell encoder of a field (Bulk API 2.0 style)."""
    ftype = FIELDS_BY_NAME[name].type

    def encode(value: Any) -> str:  # noqa: PLR0911
        if value is None:
            return ""
        if ftype == "boolean":
            return '"true"' if value else '"false"'
        if ftype in {"int", "long"}:
            return f'"{int(value)}"'
        if ftype in {"double", "currency", "percent"}:
            return f'"{java_double(float(value))}"'
        if ftype == "datetime":
            return f'"{format_datetime(value, zulu=True)}"'
        if ftype == "time":
            return f'"{format_time(value)}"'
        if ftype in {"complexvalue", "json"}:
            return _csv_quote(_json_dumps(value))
        if ftype == "anyType":
            return _csv_quote(_json_bool(value) if isinstance(value, bool) else str(value))
        return _csv_quote(str(value))

    return encode


# Slot keys of the fast path: values computed per record, referenced by the templates.
(
    _K_ID,
    _K_CREATED,
    _K_LASTMOD,
    _K_STAMP,
    _K_CUST,
    _K_LEGACY,
    _K_TAX,
    _K_SEQ,
    _K_ACCT,
    _K_PARENT,
    _K_MEMBER,
) = range(11)
_SLOT_OF_FIELD: Final = {
    "CreatedDate": _K_CREATED,
    "LastModifiedDate": _K_LASTMOD,
    "SystemModstamp": _K_STAMP,
    "Customer_Key__c": _K_CUST,
    "Legacy_Ref__c": _K_LEGACY,
    "Tax_Number__c": _K_TAX,
    "Account_Seq__c": _K_SEQ,
    "AccountNumber": _K_ACCT,
    "ParentId": _K_PARENT,
    "Member_Number__c": _K_MEMBER,
}
_TOD_BYTES: list[bytes] = []
_MILLIS: Final = {
    "json": [f'.{m:03d}+0000"'.encode() for m in range(1000)],
    "csv": [f'.{m:03d}Z"'.encode() for m in range(1000)],
}


def _times_of_day() -> list[bytes]:
    if not _TOD_BYTES:
        _TOD_BYTES.extend(
            f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}".encode() for s in range(86400)
        )
    return _TOD_BYTES


class _Template:
    """One profile's compiled record: constant pieces, and which slot fills each gap."""

    __slots__ = ("consts", "getter", "hidden")

    def __init__(self, consts: list[bytes], keys: list[int], hidden: tuple[Any, ...]) -> None:
        self.consts = consts
        self.hidden = hidden
        if len(keys) > 1:
            self.getter: Callable[[tuple[bytes, ...]], Any] = operator.itemgetter(*keys)
        elif keys:
            only = keys[0]
            self.getter = lambda values: (values[only],)
        else:
            self.getter = lambda _values: ()


class Renderer:
    """Renders records of one select list, fast, as JSON objects or CSV rows (UTF-8 bytes)."""

    def __init__(self, data: Dataset, fields: tuple[str, ...], version: str, fmt: Format) -> None:
        """Compile the renderer.

        Args:
            data: the dataset.
            fields: canonical field names, in select order.
            version: the API version (used in record URLs).
            fmt: ``json`` (REST records) or ``csv`` (Bulk rows).
        """
        self.data = data
        self.fields = fields
        self.version = version
        self.fmt = fmt
        if fmt == "json":
            self.encoders = [json_encoder(name, version) for name in fields]
            self._null = b"null"
        else:
            self.encoders = [csv_encoder(name) for name in fields]
            self._null = b""
        self._templates: list[_Template | None] = [None] * len(data.profiles)
        self._attr_prefix = (
            '{"attributes":{"type":"Account","url":"/services/data/v'
            + version
            + "/sobjects/Account/"
        )
        self._days: dict[int, bytes] = {}
        self._millis = _MILLIS[fmt]
        # Member numbers stay below 10^7, where Java writes a double as digits and ".0".
        self._member = b"%d.0" if fmt == "json" else b'"%d.0"'
        self._tod = _times_of_day()

    def header(self) -> bytes:
        """The CSV header line (without line ending)."""
        return ",".join(_csv_quote(name) for name in self.fields).encode()

    def _quote(self, text: str) -> bytes:
        if self.fmt == "json":
            return str(encode_basestring(text)).encode()
        return _csv_quote(text).encode()

    def _template(self, profile: int) -> _Template:  # noqa: C901, PLR0912, PLR0915
        """Compile the record of one profile into constant pieces and slots."""
        values = self.data.profiles[profile]
        json_fmt = self.fmt == "json"
        null = "null" if json_fmt else ""
        consts: list[str] = []
        keys: list[int] = []
        current: list[str] = []

        def slot(key: int) -> None:
            consts.append("".join(current))
            current.clear()
            keys.append(key)

        if json_fmt:
            current.append(self._attr_prefix)
            slot(_K_ID)
            current.append('"}')
        for n, (name, encoder) in enumerate(zip(self.fields, self.encoders, strict=True)):
            if json_fmt:
                current.append(f',"{name}":')
            elif n:
                current.append(",")
            if name == "Id":
                current.append('"')
                slot(_K_ID)
                current.append('"')
            elif name == "IsDeleted":
                current.append(encoder(False))  # noqa: FBT003
            elif name == "MasterRecordId":
                current.append(null)
            elif name == "PhotoUrl":
                if values["_has_photo"]:
                    current.append('"/services/images/photo/')
                    slot(_K_ID)
                    current.append('"')
                else:
                    current.append(null)
            elif name == "Logo__c":
                if values["_has_logo"]:
                    current.append(
                        f'"/services/data/v{self.version}/sobjects/Account/' if json_fmt else '"'
                    )
                    slot(_K_ID)
                    current.append('/Logo__c"' if json_fmt else '"')
                else:
                    current.append(null)
            elif name in _SLOT_OF_FIELD:
                slot(_SLOT_OF_FIELD[name])
            else:
                parts = COMPOUND_PARTS.get(name)
                value = _compound_from(values, parts) if parts is not None else values[name]
                current.append(encoder(value))
        if json_fmt:
            current.append("}")
        consts.append("".join(current))
        pieces: list[bytes] = []
        for n, const in enumerate(consts):
            if n:
                pieces.append(b"")
            pieces.append(const.encode())
        hidden = (
            values["_age_ms"],
            values["_lag_ms"],
            values["_parent_offset"] if _K_PARENT in keys else 0,
            values["_legacy_null"],
            values["_has_account_number"],
        )
        template = _Template(pieces, keys, hidden)
        self._templates[profile] = template
        return template

    def _datetime(self, ms: int) -> bytes:
        seconds, millis = divmod(ms, 1000)
        day, second_of_day = divmod(seconds, 86400)
        prefix = self._days.get(day)
        if prefix is None:
            prefix = self._days[day] = ('"' + format_datetime(day * 86_400_000)[:11]).encode()
        return prefix + self._tod[second_of_day] + self._millis[millis]

    def render(self, index: int) -> bytes:
        """Render one record."""
        data = self.data
        if index in data.overrides or index in data.deleted:
            return self.render_plain(index)
        profile = data.profile_of(index)
        template = self._templates[profile] or self._template(profile)
        age, lag, parent_offset, legacy_null, has_account_number = template.hidden
        rid = data.record_id(index).encode()
        stamp = data.base_stamp(index)
        stamp_text = self._datetime(stamp)
        if index < data.base_count:
            created = max(BASE_MS, stamp - age)
            modified = max(created, stamp - lag)
            created_text = stamp_text if created == stamp else self._datetime(created)
            modified_text = stamp_text if modified == stamp else self._datetime(modified)
        else:
            created_text = modified_text = stamp_text
        special = SPECIAL_CUSTOMER_KEYS.get(index)
        if index in SHARED_LEGACY_INDEXES or (index >= 100 and index % 100 in {40, 41}):
            legacy = self._quote(str(Dataset.legacy_ref(index, {})))
        elif legacy_null:
            legacy = self._null
        else:
            legacy = b'"LEG-%07d"' % index
        if parent_offset and index >= parent_offset:
            parent = b'"' + data.record_id(index - parent_offset).encode() + b'"'
        else:
            parent = self._null
        values = (
            rid,
            created_text,
            modified_text,
            stamp_text,
            b'"CUST-%06d"' % index if special is None else self._quote(special),
            legacy,
            b'"TN%09d"' % ((index * 7919 + 104729 * data.seed) % 1_000_000_000),
            b'"A-%07d"' % (index + 1),
            b'"AC%07d"' % index if has_account_number else self._null,
            parent,
            self._member % (MEMBER_BASE + index),
        )
        parts = template.consts.copy()
        parts[1::2] = template.getter(values)
        return b"".join(parts)

    def render_plain(self, index: int) -> bytes:
        """Render one record through ``Dataset.record`` (the reference path)."""
        values = self.data.record(index)
        cells = [
            encoder(values[name]) for name, encoder in zip(self.fields, self.encoders, strict=True)
        ]
        if self.fmt == "csv":
            return ",".join(cells).encode()
        body = "".join(f',"{name}":{cell}' for name, cell in zip(self.fields, cells, strict=True))
        return (self._attr_prefix + str(values["Id"]) + '"}' + body + "}").encode()


def _compound_from(
    values: dict[str, Any], parts: tuple[tuple[str, str], ...]
) -> dict[str, Any] | None:
    compound = {key: values[part] for key, part in parts}
    if all(v is None for v in compound.values()):
        return None
    return compound


def record_json(data: Dataset, index: int, fields: tuple[str, ...], version: str) -> bytes:
    """Render one record as JSON through the plain path (for /sobjects answers)."""
    return Renderer(data, fields, version, "json").render_plain(index)
