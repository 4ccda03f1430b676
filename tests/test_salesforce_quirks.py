"""The tap against an org's less common answers: versions, stray 304s, expired cursors,
numeric index fields and describes that went stale."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from tests.emulator import Emulator
from tests.helpers import raw_query, records, run_tap, tap_config

if TYPE_CHECKING:
    from pathlib import Path


def rest_paths(emulator: Emulator) -> list[str]:
    return [r["path"] for r in emulator.requests() if r["path"].startswith("/services/data/v")]


def test_the_default_api_version_is_winter_27(fresh_emulator: Emulator, tmp_path: Path) -> None:
    config = tap_config(fresh_emulator.url, tmp_path / "cache")
    config.pop("api_version", None)
    result = run_tap(config, "--discover", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    paths = rest_paths(fresh_emulator)
    assert paths
    assert all(path.startswith("/services/data/v68.0/") for path in paths)


def test_a_304_to_a_request_that_was_not_conditional_is_an_error(
    fresh_emulator: Emulator, tmp_path: Path
) -> None:
    config = tap_config(fresh_emulator.url, tmp_path / "cache")
    assert run_tap(config, "--discover", tmp_path=tmp_path).returncode == 0  # describe cached
    account_id = raw_query(fresh_emulator.url, "SELECT Id FROM Account LIMIT 1")[0]["Id"]
    fresh_emulator.configure(fail="304:1")
    result = run_tap(config, "--account-id", account_id, tmp_path=tmp_path)
    assert result.returncode == 10, result.stderr
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("tap-salesforce-accounts: error: ")
    assert "304 Not Modified to a request that was not conditional" in last
    assert '"RECORD"' not in result.stdout


@pytest.mark.parametrize("fail", ["locator:1", "locator:2"])
def test_a_full_extraction_under_cursor_expiry_delivers_every_account_once(
    tmp_path: Path, fail: str
) -> None:
    with Emulator(accounts=5_000, seed=11, fail=fail) as emulator:
        config = tap_config(emulator.url, tmp_path / "cache")
        result = run_tap(config, tmp_path=tmp_path)
        assert result.returncode == 0, result.stderr
        got = [(r["SystemModstamp"], r["Id"]) for r in records(result.stdout)]
        expired = [
            r for r in emulator.requests() if r["kind"] == "query_more" and r["status"] == 400
        ]
        emulator.configure(fail="")
        expected = {r["Id"] for r in raw_query(emulator.url, "SELECT Id FROM Account")}
    assert len(expected) > 4_000
    assert len(got) == len(expected)
    assert {record_id for _, record_id in got} == expected
    assert got == sorted(got)
    assert expired
    assert result.stderr.count("INVALID_QUERY_LOCATOR") == len(expired)


# ----------------------------------------------------------------------------- stale describe
def describes(emulator: Emulator) -> list[tuple[int, bool]]:
    return [
        (r["status"], bool(r["if_modified_since"]))
        for r in emulator.requests()
        if r["kind"] == "describe"
    ]


def test_a_field_hidden_behind_a_304_describe_is_left_out_with_a_warning(
    fresh_emulator: Emulator, tmp_path: Path
) -> None:
    config = tap_config(fresh_emulator.url, tmp_path / "cache", describe_cache_max_age_seconds=0)
    discovered = run_tap(config, "--discover", tmp_path=tmp_path)
    catalog = json.loads(discovered.stdout)  # selects Discount__c, as every field
    fresh_emulator.hide_fields("Discount__c")
    fresh_emulator.reset_log()

    result = run_tap(config, tmp_path=tmp_path, catalog=catalog)
    assert result.returncode == 0, result.stderr
    assert describes(fresh_emulator) == [(304, True), (200, False)]
    got = records(result.stdout)
    live = raw_query(fresh_emulator.url, "SELECT Id FROM Account")
    assert {r["Id"] for r in got} == {r["Id"] for r in live}
    assert len(got) == len(live)
    assert all("Discount__c" not in r and "Seats__c" in r for r in got)
    (warning,) = [line for line in result.stderr.splitlines() if "Discount__c" in line]
    assert "no longer read" in warning

    fresh_emulator.reset_log()  # the cache now holds the fresh describe
    again = run_tap(config, tmp_path=tmp_path, catalog=catalog)
    assert again.returncode == 0, again.stderr
    assert describes(fresh_emulator) == [(304, True)]
    assert "Discount__c" not in again.stderr


def test_a_lookup_goes_on_without_a_field_hidden_behind_a_304(
    fresh_emulator: Emulator, tmp_path: Path
) -> None:
    config = tap_config(
        fresh_emulator.url,
        tmp_path / "cache",
        describe_cache_max_age_seconds=0,
        index_field="Tax_Number__c",
    )
    assert run_tap(config, "--discover", tmp_path=tmp_path).returncode == 0
    sample = raw_query(fresh_emulator.url, "SELECT Id, Tax_Number__c FROM Account LIMIT 1")[0]
    fresh_emulator.hide_fields("Discount__c")

    result = run_tap(config, "--account-id", sample["Tax_Number__c"], tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    (record,) = records(result.stdout)
    assert record["Id"] == sample["Id"]
    assert "Discount__c" not in record
    assert "Discount__c" in result.stderr

    fresh_emulator.hide_fields("Tax_Number__c")
    hidden_index = run_tap(config, "--account-id", sample["Tax_Number__c"], tmp_path=tmp_path)
    assert hidden_index.returncode == 7, hidden_index.stderr
    assert "Tax_Number__c" in hidden_index.stderr.strip().splitlines()[-1]


# ----------------------------------------------------------------------------- numeric index field
def member_config(emulator: Emulator, tmp_path: Path, **extra: Any) -> dict[str, Any]:
    return tap_config(emulator.url, tmp_path / "cache", index_field="Member_Number__c", **extra)


def data_calls(emulator: Emulator) -> list[dict[str, Any]]:
    return [r for r in emulator.requests() if r["kind"] in {"query", "sobject_by_external_id"}]


@pytest.mark.parametrize("include_deleted", [False, True], ids=["path", "soql"])
@pytest.mark.parametrize("value", ["100015", "0100015", "100015.0", " 100015 "])
def test_a_numeric_external_id_finds_its_account(
    emulator: Emulator, tmp_path: Path, value: str, *, include_deleted: bool
) -> None:
    expected = raw_query(emulator.url, "SELECT Id FROM Account WHERE Member_Number__c = 100015")
    config = member_config(emulator, tmp_path, include_deleted=include_deleted)
    result = run_tap(config, "--account-id", value, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    (record,) = records(result.stdout)
    assert record["Id"] == expected[0]["Id"]
    assert record["Member_Number__c"] == 100015


@pytest.mark.parametrize("value", ["12x", "1e400000", "NaN", "Infinity", "CUST-000001"])
def test_a_value_that_is_no_number_is_refused_before_any_call(
    fresh_emulator: Emulator, tmp_path: Path, value: str
) -> None:
    config = member_config(fresh_emulator, tmp_path)
    assert run_tap(config, "--discover", tmp_path=tmp_path).returncode == 0
    fresh_emulator.reset_log()
    result = run_tap(config, "--account-id", value, tmp_path=tmp_path)
    assert result.returncode == 6, result.stderr
    (line,) = [ln for ln in result.stderr.splitlines() if "error:" in ln]
    assert "Member_Number__c" in line
    assert "number" in line
    assert data_calls(fresh_emulator) == []
