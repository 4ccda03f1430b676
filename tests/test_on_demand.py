"""On-demand mode: one Account for one index value, in one round trip, safe against any input."""

from __future__ import annotations

import contextlib
import io
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tap_salesforce_accounts import exceptions
from tap_salesforce_accounts.tap import TapSalesforceAccounts
from tap_salesforce_accounts.writer import SingerJsonlWriter
from tests.emulator import SHARED_LEGACY_REF, SPECIAL_CUSTOMER_KEYS
from tests.helpers import messages, raw_query, records, run_tap, tap_config

if TYPE_CHECKING:
    from pathlib import Path

    from tests.emulator import Emulator

ACCOUNT_FIELDS = "SELECT Id, Customer_Key__c, Tax_Number__c FROM Account"


@pytest.fixture(scope="module")
def sample(emulator: Emulator) -> dict[str, Any]:
    """One live Account of the shared emulator (the first by SystemModstamp)."""
    return raw_query(emulator.url, f"{ACCOUNT_FIELDS} ORDER BY SystemModstamp, Id LIMIT 1")[0]


def tap_for(config: dict[str, Any], **extra: Any) -> TapSalesforceAccounts:
    return TapSalesforceAccounts(
        config={**config, **extra}, message_writer=SingerJsonlWriter(io.BytesIO())
    )


def reads(emulator: Emulator) -> list[dict[str, Any]]:
    return [r for r in emulator.requests() if not r["path"].startswith("/services/oauth2")]


@pytest.mark.parametrize("form", ["18", "15"])
def test_by_id_writes_schema_and_one_record_and_no_state(
    form: str, sample: dict[str, Any], config: dict[str, Any], tmp_path: Path
) -> None:
    value = sample["Id"] if form == "18" else sample["Id"][:15]
    state = {
        "bookmarks": {
            "Account": {
                "replication_key": "SystemModstamp",
                "replication_key_value": "2020-01-01T00:00:00+00:00",
            }
        }
    }
    result = run_tap(config, "--account-id", value, tmp_path=tmp_path, state=state)
    assert result.returncode == 0, result.stderr
    kinds = [m["type"] for m in messages(result.stdout)]
    assert kinds.count("SCHEMA") == 1
    assert kinds.count("RECORD") == 1
    # The bookmark must not move: no STATE, or the incoming one unchanged.
    assert all(m["value"] == state for m in messages(result.stdout, "STATE"))
    (record,) = records(result.stdout)
    assert record["Id"] == sample["Id"]
    assert record["SystemModstamp"].endswith("+00:00")


def test_account_id_in_config_is_on_demand_mode(
    sample: dict[str, Any], config: dict[str, Any], tmp_path: Path
) -> None:
    result = run_tap({**config, "account_id": sample["Id"]}, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [r["Id"] for r in records(result.stdout)] == [sample["Id"]]


@pytest.mark.parametrize(
    ("index_field", "key"),
    [
        pytest.param("Customer_Key__c", "Customer_Key__c", id="external-id"),
        pytest.param("Tax_Number__c", "Tax_Number__c", id="unique-not-external"),
        pytest.param("customer_key__c", "Customer_Key__c", id="field-name-any-case"),
    ],
)
def test_by_index_field_one_request_when_warm(
    index_field: str,
    key: str,
    sample: dict[str, Any],
    config: dict[str, Any],
    emulator: Emulator,
) -> None:
    tap = tap_for(config, index_field=index_field)
    tap.sync_one(sample["Id"] if key == "Id" else sample[key])  # warm: token and describe
    emulator.reset_log()
    record = tap.sync_one(sample[key])
    assert record["Id"] == sample["Id"]
    assert len(emulator.requests()) == 1


def test_warm_lookup_by_id_is_exactly_one_request(
    sample: dict[str, Any], config: dict[str, Any], emulator: Emulator
) -> None:
    tap = tap_for(config)
    tap.sync_one(sample["Id"])
    emulator.reset_log()
    for _ in range(3):
        tap.sync_one(sample["Id"])
    log = emulator.requests()
    assert [r["kind"] for r in log] == ["sobject"] * 3


def test_cold_command_makes_token_describe_and_one_read(
    fresh_emulator: Emulator, tmp_path: Path
) -> None:
    value = raw_query(fresh_emulator.url, "SELECT Id FROM Account LIMIT 1")[0]["Id"]
    fresh_emulator.reset_log()
    config = tap_config(fresh_emulator.url, tmp_path / "cache")
    assert run_tap(config, "--account-id", value, tmp_path=tmp_path).returncode == 0
    assert [r["kind"] for r in fresh_emulator.requests()] == ["token", "describe", "sobject"]
    fresh_emulator.reset_log()
    assert run_tap(config, "--account-id", value, tmp_path=tmp_path).returncode == 0
    assert [r["kind"] for r in fresh_emulator.requests()] == ["token", "sobject"]


@pytest.mark.parametrize("index", sorted(SPECIAL_CUSTOMER_KEYS))
def test_external_id_values_that_need_encoding_find_their_account(
    index: int, config: dict[str, Any], emulator: Emulator
) -> None:
    value = SPECIAL_CUSTOMER_KEYS[index]
    expected = raw_query(emulator.url, f"{ACCOUNT_FIELDS}")
    wanted = [r["Id"] for r in expected if r["Customer_Key__c"] == value]
    tap = tap_for(config, index_field="Customer_Key__c")
    if not wanted:  # the special record is deleted in this dataset
        with pytest.raises(exceptions.AccountNotFoundError):
            tap.sync_one(value)
        return
    assert tap.sync_one(value)["Id"] == wanted[0]


@pytest.mark.parametrize(
    ("args", "extra", "exit_code", "words"),
    [
        pytest.param(["--account-id", "001000000000000AAA"], {}, 4, "no Account", id="not-found"),
        pytest.param(
            ["--account-id", SHARED_LEGACY_REF],
            {"index_field": "Legacy_Ref__c"},
            5,
            "Accounts match",
            id="several-external",
        ),
        pytest.param(["--account-id", "003D000000IRFma"], {}, 6, "Contact", id="contact-id"),
        pytest.param(["--account-id", "001D000000IRF"], {}, 6, "15 or 18", id="short-id"),
        pytest.param(["--account-id", ""], {}, 6, "empty", id="empty"),
        pytest.param(
            ["--account-id", "x" * 4001],
            {"index_field": "Tax_Number__c"},
            6,
            "4,000",
            id="too-long-for-soql",
        ),
        pytest.param(
            ["--account-id", "x"],
            {"index_field": "Description"},
            7,
            "Description",
            id="field-not-filterable",
        ),
        pytest.param(
            ["--account-id", "x"],
            {"index_field": "Region__c"},
            7,
            "Region__c",
            id="field-not-unique",
        ),
        pytest.param(
            ["--account-id", "x"], {"index_field": "Nope__c"}, 7, "Nope__c", id="field-missing"
        ),
    ],
)
def test_outcomes_have_one_line_errors_and_documented_exit_codes(
    args: list[str],
    extra: dict[str, Any],
    exit_code: int,
    words: str,
    config: dict[str, Any],
    tmp_path: Path,
) -> None:
    result = run_tap({**config, **extra}, *args, tmp_path=tmp_path)
    assert result.returncode == exit_code, result.stderr
    assert result.stdout.count('"RECORD"') == 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("tap-salesforce-accounts: error: ")
    assert words in last


def test_deleted_account_is_found_only_with_include_deleted(
    emulator: Emulator, config: dict[str, Any]
) -> None:
    deleted = raw_query(
        emulator.url, "SELECT Id FROM Account WHERE IsDeleted = true LIMIT 1", all_rows=True
    )[0]["Id"]
    with pytest.raises(exceptions.AccountNotFoundError):
        tap_for(config).sync_one(deleted)
    record = tap_for(config, include_deleted=True).sync_one(deleted)
    assert record["Id"] == deleted
    assert record["IsDeleted"] is True


@pytest.fixture(scope="module")
def soql_tap(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> TapSalesforceAccounts:
    cache = tmp_path_factory.mktemp("cache")
    return tap_for(tap_config(emulator.url, cache), index_field="Tax_Number__c")


HOSTILE = [
    "O'Brien",
    "' OR Name != '",
    "\\' OR 1=1 --",
    "trailing\\",
    'double "quotes"',
    "new\nline\ttab\rreturn",
    "100%_match",
    "Café Zürich 東京 🚀",
    "\\u0027",
    "'; DELETE FROM Account; '",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_soql_literal_reaches_salesforce_exactly(
    value: str, soql_tap: TapSalesforceAccounts, emulator: Emulator
) -> None:
    emulator.reset_log()
    with pytest.raises(exceptions.AccountNotFoundError):
        soql_tap.sync_one(value)
    queries = [r for r in emulator.requests() if r["kind"] == "query"]
    assert queries[-1]["literals"] == [value]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(min_size=1, max_size=60))
def test_any_text_reaches_salesforce_as_the_same_literal(
    soql_tap: TapSalesforceAccounts, emulator: Emulator, value: str
) -> None:
    emulator.reset_log()
    with contextlib.suppress(exceptions.AccountNotFoundError):
        soql_tap.sync_one(value)
    queries = [r for r in emulator.requests() if r["kind"] == "query"]
    assert queries[-1]["literals"] == [value]
