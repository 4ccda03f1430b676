"""The hot path's compiled conversions against the general ones, value for value.

The REST page decoder and the general decoder read the same query pages of the emulator's
every-type describe; each record goes through the same converter and the tap's writer, and
the RECORD lines must hold the same values. Bulk API 2.0 rows converted for writing only
(numbers kept as their text) must write what the general conversion writes.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import msgspec
import requests
from hypothesis import given
from hypothesis import strategies as st

from tap_salesforce_accounts.client import decode_json
from tap_salesforce_accounts.rest_pages import decode_answer, make_record_reader
from tap_salesforce_accounts.schema import (
    TYPE_MAP,
    ObjectDescription,
    make_csv_row_converter,
    make_record_converter,
    queryable_fields,
)
from tap_salesforce_accounts.writer import SingerJsonlWriter
from tests.conftest import SHARED_ACCOUNTS
from tests.emulator import config_for
from tests.helpers import records, run_tap

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tests.emulator import Emulator

EXTRACTED = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def _session(url: str) -> requests.Session:
    config = config_for(url)
    session = requests.Session()
    token = session.post(
        f"{url}/services/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": config["client_id"],
            "client_secret": config["client_secret"],
            "refresh_token": config["refresh_token"],
        },
        timeout=30,
    ).json()
    session.headers["Authorization"] = f"Bearer {token['access_token']}"
    return session


def _page_bodies(url: str, statement: str) -> tuple[dict[str, Any], list[bytes]]:
    """The describe, and every query page's body as Salesforce sent it."""
    with _session(url) as session:
        base = f"{url}/services/data/v62.0"
        describe = session.get(f"{base}/sobjects/Account/describe", timeout=30).json()
        fields = queryable_fields(ObjectDescription.from_describe(describe))
        select = statement.format(fields=", ".join(fields))
        headers = {"Sforce-Query-Options": "batchSize=200"}
        answer = session.get(f"{base}/query", params={"q": select}, headers=headers, timeout=30)
        bodies = [answer.content]
        while not (page := answer.json())["done"]:
            answer = session.get(url + page["nextRecordsUrl"], headers=headers, timeout=30)
            bodies.append(answer.content)
    return describe, bodies


def _written(
    bodies: list[bytes], decode: Callable[[bytes], Any], convert: Callable[[Any], Any]
) -> list[dict[str, Any]]:
    """The records of the RECORD lines the tap's writer writes from ``bodies``."""
    out = io.BytesIO()
    writer = SingerJsonlWriter(out)
    for body in bodies:
        for record in decode(body)["records"]:
            writer.write_record("Account", convert(record), None, EXTRACTED)
    writer.flush()
    lines = out.getvalue().splitlines()
    return [json.loads(line, parse_float=Decimal)["record"] for line in lines]


def _typed(value: object) -> object:
    """A value with its type, so that True and 1, or 1.50 and 1.5, do not compare equal."""
    if isinstance(value, dict):
        return {key: _typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_typed(item) for item in value]
    return (type(value).__name__, str(value))


def test_compiled_decoder_writes_the_values_of_the_general_one(emulator: Emulator) -> None:
    describe, bodies = _page_bodies(
        emulator.url, "SELECT {fields} FROM Account ORDER BY SystemModstamp, Id"
    )
    desc = ObjectDescription.from_describe(describe)
    fields = queryable_fields(desc)
    convert = make_record_converter(desc, fields)
    general = _written(bodies, decode_json, convert)
    reader = make_record_reader(desc, fields)
    assert reader is not None
    compiled = _written(bodies, decode_answer, reader)
    assert len(bodies) > 1
    # Every live Account (about 1% of the org is deleted).
    assert SHARED_ACCOUNTS * 0.9 < len(general) < SHARED_ACCOUNTS
    assert [_typed(r) for r in compiled] == [_typed(r) for r in general]
    assert all(list(record) == fields for record in compiled)
    # The describe has every type, and every type has values in the org.
    kinds = {desc.field(name).kind for name in fields}  # type: ignore[union-attr]
    assert {kind.lower() for kind in TYPE_MAP} <= kinds
    filled = {
        desc.field(name).kind  # type: ignore[union-attr]
        for name in fields
        if any(record[name] is not None for record in general)
    }
    assert filled == kinds
    # Any-JSON fields hold non-text values too: the conversion to text is exercised.
    raw = [json.loads(body)["records"] for body in bodies]
    json_fields = [n for n in fields if desc.field(n).kind in {"anytype", "json", "complexvalue"}]  # type: ignore[union-attr]
    assert any(
        not isinstance(record[name], str | None)
        for page in raw
        for record in page
        for name in json_fields
    )


def test_stream_maps_read_decoded_values(config: dict[str, Any], tmp_path: Path) -> None:
    mapped = {
        **config,
        "stream_maps": {"Account": {"name_upper": "Name.upper()", "revenue": "AnnualRevenue"}},
    }
    for folder in ("plain", "mapped"):
        (tmp_path / folder).mkdir()
    plain = records(run_tap(config, tmp_path=tmp_path / "plain").stdout)
    result = run_tap(mapped, tmp_path=tmp_path / "mapped")
    assert result.returncode == 0, result.stderr[-2000:]
    with_maps = records(result.stdout)
    assert len(with_maps) == len(plain) > 0
    for before, after in zip(plain, with_maps, strict=True):
        assert after["name_upper"] == before["Name"].upper()
        assert after["revenue"] == before["AnnualRevenue"]
        assert {k: v for k, v in after.items() if k not in {"name_upper", "revenue"}} == before


NUMBER_TEXT = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.from_regex(r"-?[0-9]{1,25}(\.[0-9]{0,12})?", fullmatch=True),
    st.from_regex(r"-?[0-9]{1,3}(\.[0-9]{1,3})?[eE][-+]?[0-9]{1,2}", fullmatch=True),
    st.sampled_from(["0", "-0", "0.0", "-0.0", "0.000001", "0.0000001", "1E+2", "n/a", "."]),
)


@given(NUMBER_TEXT, st.sampled_from(["double", "currency", "percent"]))
def test_raw_numbers_are_written_as_their_decimals(text: str, kind: str) -> None:
    desc = ObjectDescription.from_describe({"fields": [{"name": "F__c", "type": kind}]})
    general = make_csv_row_converter(desc, ["F__c"])([text])
    raw = make_csv_row_converter(desc, ["F__c"], raw_numbers=True)([text])
    encode = msgspec.json.Encoder(decimal_format="number").encode
    assert encode(raw) == encode(general)
