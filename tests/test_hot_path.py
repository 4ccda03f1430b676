"""The hot path's compiled conversions against the general ones, value for value.

The REST page decoder and the general decoder read the same query pages of the emulator's
every-type describe; each record goes through the same converter and the tap's writer, and
the RECORD lines must hold the same values. Bulk API 2.0 rows converted for writing only
(numbers kept as their text) must write what the general conversion writes.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import msgspec
import requests
from hypothesis import given
from hypothesis import strategies as st

from tap_salesforce_accounts.bulk_rows import make_batch_reader
from tap_salesforce_accounts.client import decode_json
from tap_salesforce_accounts.rest_pages import decode_answer, make_record_reader
from tap_salesforce_accounts.schema import (
    TYPE_MAP,
    ObjectDescription,
    bulk_select_fields,
    make_csv_row_converter,
    make_record_converter,
    queryable_fields,
)
from tap_salesforce_accounts.writer import SingerJsonlWriter
from tests.conftest import SHARED_ACCOUNTS
from tests.emulator import config_for
from tests.helpers import records, run_tap

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
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


def _written_records(records: Iterable[Any]) -> list[dict[str, Any]]:
    """The records of the RECORD lines the tap's writer writes for ``records``."""
    out = io.BytesIO()
    writer = SingerJsonlWriter(out)
    for record in records:
        writer.write_record("Account", record, None, EXTRACTED)
    writer.flush()
    return [json.loads(line, parse_float=Decimal)["record"] for line in out.getvalue().splitlines()]


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


CELL_TEXT = {
    "double": NUMBER_TEXT,
    "currency": NUMBER_TEXT,
    "percent": NUMBER_TEXT,
    "int": st.one_of(NUMBER_TEXT, st.integers().map(str), st.sampled_from(["-0", "007"])),
    "long": st.integers().map(str),
    "boolean": st.sampled_from(["true", "false", "True", "FALSE", "yes", ""]),
    "datetime": st.sampled_from(
        ["2022-05-25T10:16:26.000Z", "2022-05-25T10:16:26.000+0000", "2022-05-25", ""]
    ),
}


@given(st.data(), st.sampled_from(sorted(CELL_TEXT)))
def test_batch_rows_are_written_as_the_general_conversion_writes_them(
    data: st.DataObject, kind: str
) -> None:
    # A batch mixes cells the common case takes with cells it leaves to the general parser.
    cells = data.draw(st.lists(CELL_TEXT[kind] | st.just(""), min_size=1, max_size=5))
    desc = ObjectDescription.from_describe(
        {"fields": [{"name": "Id", "type": "id"}, {"name": "F__c", "type": kind}]}
    )
    rows = [["001", text] for text in cells]
    general = make_csv_row_converter(desc, ["Id", "F__c"])
    batch = make_batch_reader(desc, ["Id", "F__c"], [], ["Id", "F__c"])
    encode = msgspec.json.Encoder(decimal_format="number").encode
    assert [encode(record) for record in batch([list(row) for row in rows])] == [
        encode(general(list(row))) for row in rows
    ]


def test_batch_rows_of_every_type_are_written_as_the_general_conversion_writes_them(
    emulator: Emulator,
) -> None:
    describe, _ = _page_bodies(emulator.url, "SELECT Id FROM Account LIMIT 1")
    desc = ObjectDescription.from_describe(describe)
    fields = queryable_fields(desc)
    columns, compounds = bulk_select_fields(desc, fields)
    with _session(emulator.url) as session:
        base = f"{emulator.url}/services/data/v62.0/jobs/query"
        statement = "SELECT " + ", ".join(columns) + " FROM Account"  # noqa: S608  (describe names)
        job = session.post(base, json={"operation": "query", "query": statement}, timeout=30).json()
        while session.get(f"{base}/{job['id']}", timeout=30).json()["state"] != "JobComplete":
            pass
        text = session.get(f"{base}/{job['id']}/results", timeout=30).content.decode()
    header, *rows = list(csv.reader(io.StringIO(text, newline="")))
    general = make_csv_row_converter(desc, header, compounds, fields)
    batch = make_batch_reader(desc, header, compounds, fields)
    written = _written_records(batch([list(row) for row in rows]))
    expected = _written_records(general(list(row)) for row in rows)
    assert len(written) == len(rows) > SHARED_ACCOUNTS * 0.9
    assert [_typed(r) for r in written] == [_typed(r) for r in expected]
