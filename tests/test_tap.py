"""The tap end to end over HTTP against the emulator: discovery, full and incremental runs."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any

import pytest

from tap_salesforce_accounts.schema import ObjectDescription
from tap_salesforce_accounts.streams import AccountStream
from tap_salesforce_accounts.tap import TapSalesforceAccounts
from tap_salesforce_accounts.writer import SingerJsonlWriter
from tests.emulator import describe
from tests.helpers import messages, raw_query, records, run_tap, tap_config

if TYPE_CHECKING:
    from pathlib import Path

    from tests.emulator import Emulator


def describe_calls(emulator: Emulator) -> list[dict[str, Any]]:
    return [r for r in emulator.requests() if r["kind"] == "describe"]


def test_discover_lists_every_describe_field(config: dict[str, Any], tmp_path: Path) -> None:
    result = run_tap(config, "--discover", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    catalog = json.loads(result.stdout)
    (stream,) = catalog["streams"]
    assert stream["tap_stream_id"] == "Account"
    assert stream["key_properties"] == ["Id"]
    expected = [f["name"] for f in describe()["fields"] if not f.get("deprecatedAndHidden")]
    assert list(stream["schema"]["properties"]) == expected
    root = next(m for m in stream["metadata"] if m["breadcrumb"] == [])
    assert root["metadata"]["valid-replication-keys"] == ["SystemModstamp"]
    automatic = {
        m["breadcrumb"][1]
        for m in stream["metadata"]
        if m["breadcrumb"] and m["metadata"].get("inclusion") == "automatic"
    }
    assert {"Id", "SystemModstamp"} <= automatic


def test_discover_describes_once_then_uses_the_cache(
    fresh_emulator: Emulator, tmp_path: Path
) -> None:
    config = tap_config(fresh_emulator.url, tmp_path / "cache")
    assert run_tap(config, "--discover", tmp_path=tmp_path).returncode == 0
    first = describe_calls(fresh_emulator)
    assert [c["status"] for c in first] == [200]

    fresh_emulator.reset_log()
    assert run_tap(config, "--discover", tmp_path=tmp_path).returncode == 0
    assert describe_calls(fresh_emulator) == []  # fresh cache: no call at all

    fresh_emulator.reset_log()
    stale = {**config, "describe_cache_max_age_seconds": 0}
    assert run_tap(stale, "--discover", tmp_path=tmp_path).returncode == 0
    revalidated = describe_calls(fresh_emulator)
    assert [c["status"] for c in revalidated] == [304]
    assert revalidated[0]["if_modified_since"]
    assert revalidated[0]["bytes"] == 0


def test_full_extraction_emits_every_live_account_once(
    emulator: Emulator, config: dict[str, Any], tmp_path: Path
) -> None:
    result = run_tap(config, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    got = records(result.stdout)
    expected = {r["Id"] for r in raw_query(emulator.url, "SELECT Id FROM Account")}
    assert len(got) == len(expected)
    assert {r["Id"] for r in got} == expected
    assert all(r["IsDeleted"] is False for r in got)
    stamps = [(r["SystemModstamp"], r["Id"]) for r in got]
    assert stamps == sorted(stamps)
    state = messages(result.stdout, "STATE")[-1]["value"]
    bookmark = state["bookmarks"]["Account"]
    assert bookmark["replication_key"] == "SystemModstamp"
    assert bookmark["replication_key_value"] == got[-1]["SystemModstamp"]


def test_records_carry_rfc3339_datetimes_and_compound_objects(
    config: dict[str, Any], tmp_path: Path
) -> None:
    result = run_tap(config, tmp_path=tmp_path)
    got = records(result.stdout)
    with_address = next(r for r in got if r["BillingAddress"] is not None)
    assert with_address["BillingAddress"]["city"] == with_address["BillingCity"]
    assert with_address["SystemModstamp"].endswith("+00:00")
    schema = messages(result.stdout, "SCHEMA")[0]["schema"]
    assert schema["properties"]["SystemModstamp"]["format"] == "date-time"


def test_include_deleted_reads_deleted_accounts_with_is_deleted(
    emulator: Emulator, config: dict[str, Any], tmp_path: Path
) -> None:
    result = run_tap({**config, "include_deleted": True}, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    got = records(result.stdout)
    deleted = {
        r["Id"]
        for r in raw_query(
            emulator.url, "SELECT Id FROM Account WHERE IsDeleted = true", all_rows=True
        )
    }
    assert deleted
    assert {r["Id"] for r in got if r["IsDeleted"]} == deleted


def test_incremental_run_reads_only_what_changed_since_the_bookmark(
    fresh_emulator: Emulator, tmp_path: Path
) -> None:
    config = tap_config(fresh_emulator.url, tmp_path / "cache")
    first = run_tap(config, tmp_path=tmp_path)
    assert first.returncode == 0, first.stderr
    state = messages(first.stdout, "STATE")[-1]["value"]
    bookmark = state["bookmarks"]["Account"]["replication_key_value"]

    touched = set(fresh_emulator.touch(5)["ids"])
    second = run_tap(config, tmp_path=tmp_path, state=state)
    assert second.returncode == 0, second.stderr
    got = {r["Id"]: r for r in records(second.stdout)}
    assert touched <= set(got)
    # >= on the bookmark re-reads the records sharing its timestamp (at-least-once).
    repeats = {i for i, r in got.items() if i not in touched}
    assert all(got[i]["SystemModstamp"] == bookmark for i in repeats)
    new_bookmark = messages(second.stdout, "STATE")[-1]["value"]["bookmarks"]["Account"]
    assert new_bookmark["replication_key_value"] > bookmark


def test_catalog_selection_decides_the_soql_field_list(
    emulator: Emulator, config: dict[str, Any], tmp_path: Path
) -> None:
    catalog = json.loads(run_tap(config, "--discover", tmp_path=tmp_path).stdout)
    for entry in catalog["streams"][0]["metadata"]:
        if entry["breadcrumb"] == []:
            entry["metadata"]["selected"] = True
        elif entry["breadcrumb"][1] not in {"Name", "Industry"}:
            entry["metadata"]["selected"] = False
    emulator.reset_log()
    result = run_tap(config, tmp_path=tmp_path, catalog=catalog)
    assert result.returncode == 0, result.stderr
    assert set(records(result.stdout)[0]) == {"Id", "Name", "Industry", "SystemModstamp"}
    (query,) = [r for r in emulator.requests() if r["kind"] == "query"]
    assert query["soql"].startswith("SELECT Id, Name, Industry, SystemModstamp FROM Account")
    assert len([r for r in emulator.requests() if r["kind"] == "describe"]) <= 1


def test_fields_no_query_may_select_are_marked_unsupported(config: dict[str, Any]) -> None:
    tap = TapSalesforceAccounts(config=config, message_writer=SingerJsonlWriter(io.BytesIO()))
    raw = describe()
    hidden = {**raw["fields"][3], "name": "Old_Field__c", "deprecatedAndHidden": True}
    stream = AccountStream(
        tap,
        tap.client,
        ObjectDescription.from_describe({**raw, "fields": [*raw["fields"], hidden]}),
    )
    entry = stream.metadata[("properties", "Old_Field__c")]
    assert entry.inclusion == "unsupported"
    assert "Old_Field__c" in stream.schema["properties"]
    assert "Old_Field__c" not in stream.selected_fields()
    assert "Name" in stream.selected_fields()


@pytest.mark.parametrize(
    ("index_field", "exit_code"), [("Customer_Key__c", 0), ("Description", 7), ("Nope", 7)]
)
def test_connection_test_checks_the_index_field(
    index_field: str, exit_code: int, config: dict[str, Any], tmp_path: Path
) -> None:
    result = run_tap({**config, "index_field": index_field}, "--test", tmp_path=tmp_path)
    assert result.returncode == exit_code, result.stderr
    if exit_code:
        assert index_field in result.stderr.strip().splitlines()[-1]
    else:
        assert "index_field Customer_Key__c can identify one Account" in result.stderr


def test_a_malformed_bookmark_is_a_config_error(config: dict[str, Any], tmp_path: Path) -> None:
    state = {
        "bookmarks": {
            "Account": {"replication_key": "SystemModstamp", "replication_key_value": "yesterday"}
        }
    }
    result = run_tap(config, tmp_path=tmp_path, state=state)
    assert result.returncode == 2
    assert "'yesterday' is not a datetime" in result.stderr.strip().splitlines()[-1]
    assert records(result.stdout) == []
