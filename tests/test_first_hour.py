"""The first hour with the tap: a connection test without alarm, bad start_date up front, the
hook's command line as people type it, a store-less status, exit 7's advice."""

from __future__ import annotations

import json
import subprocess
from typing import TYPE_CHECKING, Any

import pytest

from tap_salesforce_accounts.exceptions import IndexFieldError
from tap_salesforce_accounts.schema import ObjectDescription, check_index_field
from tests.conftest import real_salesforce_answer
from tests.helpers import BIN, messages, run_tap, tap_config, write_json

if TYPE_CHECKING:
    from pathlib import Path

    from tests.emulator import Emulator

HOOK = BIN / "tap-salesforce-accounts-hook"


def hook(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HOOK), *args], capture_output=True, text=True, check=False, timeout=120, cwd=cwd
    )


def test_a_passing_connection_test_says_so_without_an_error(
    emulator: Emulator, tmp_path: Path
) -> None:
    config = tap_config(emulator.url, tmp_path / "cache")
    done = run_tap(config, "--test", tmp_path=tmp_path, env={"LOGLEVEL": "DEBUG"})
    assert done.returncode == 0, done.stderr
    assert "Connection test passed: read one Account." in done.stderr
    assert "ERROR" not in done.stderr
    assert '"status":"failed"' not in done.stderr
    assert [m["type"] for m in messages(done.stdout)] == ["SCHEMA", "RECORD"]


@pytest.mark.parametrize(
    "args",
    [
        pytest.param([], id="sync"),
        pytest.param(["--discover"], id="discover"),
        pytest.param(["--account-id", "CUST-000123"], id="account-id"),
        pytest.param(["--test"], id="test"),
    ],
)
def test_a_malformed_start_date_is_exit_2_before_any_call(
    args: list[str], fresh_emulator: Emulator, tmp_path: Path
) -> None:
    config = tap_config(
        fresh_emulator.url,
        tmp_path / "cache",
        start_date="yesterday",
        index_field="Customer_Key__c",
    )
    done = run_tap(config, *args, tmp_path=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        (
            "tap-salesforce-accounts: error: start_date 'yesterday' is not a date-time: use "
            "RFC 3339, e.g. 2024-01-01T00:00:00Z."
        )
    ]
    assert done.stdout == ""
    assert fresh_emulator.requests() == []


@pytest.mark.parametrize("login_url", [None, "", " "], ids=["left-out", "empty", "blank"])
def test_loopback_only_without_a_login_url_is_exit_2_before_any_call(
    login_url: str | None, fresh_emulator: Emulator, tmp_path: Path
) -> None:
    config = tap_config(fresh_emulator.url, tmp_path / "cache", loopback_only=True)
    # Left out, the setting's default (login.salesforce.com) must not stand in for it.
    del config["login_url"]
    if login_url is not None:
        config["login_url"] = login_url
    done = run_tap(config, "--discover", tmp_path=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        (
            "tap-salesforce-accounts: error: loopback_only is set and login_url is missing or "
            "empty: set login_url to the local emulator's READY URL (the demo environment "
            "reads it from SALESFORCE_EMULATOR_URL: export "
            "SALESFORCE_EMULATOR_URL=http://127.0.0.1:PORT)."
        )
    ]
    assert done.stdout == ""
    assert fresh_emulator.requests() == []


def hook_config(emulator: Emulator, tmp_path: Path, **extra: Any) -> Path:
    config = tap_config(
        emulator.url,
        tmp_path / "cache",
        index_field="Customer_Key__c",
        hook_store_url=f"sqlite:///{tmp_path / 'store' / 'hook.db'}",
        **extra,
    )
    return write_json(tmp_path / "config.json", config)


def test_the_hook_takes_its_options_after_the_command(emulator: Emulator, tmp_path: Path) -> None:
    path = str(hook_config(emulator, tmp_path))
    looked_up = hook("lookup", "CUST-000123", "--config", path, cwd=tmp_path)
    assert looked_up.returncode == 0, looked_up.stderr
    assert json.loads(looked_up.stdout)["account"]["Customer_Key__c"] == "CUST-000123"
    status = hook("status", "--config", path, cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["successes"] == 1
    history = hook(
        "history",
        "--limit",
        "5",
        "--config",
        path,
        "--mode",
        "subprocess",
        cwd=tmp_path,
    )
    assert history.returncode == 0, history.stderr
    assert [row["status"] for row in json.loads(history.stdout)] == ["ok"]


def test_the_hook_without_config_says_where_it_may_go(tmp_path: Path) -> None:
    done = hook("status", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        (
            "tap-salesforce-accounts-hook: error: --config is required: give the tap's config "
            "file, before or after the command (see --help)."
        )
    ]


@pytest.mark.parametrize("command", ["status", "history"])
def test_status_without_a_store_says_there_is_none_and_creates_none(
    command: str, tmp_path: Path
) -> None:
    path = write_json(tmp_path / "config.json", {"client_id": "x"})
    done = hook("--config", str(path), command, cwd=tmp_path)
    assert done.returncode == 1
    default = tmp_path / ".tap-salesforce-accounts" / "hook.db"
    (line,) = done.stderr.splitlines()
    assert f"there is no status store at {default.resolve()}" in line
    assert ".tap-salesforce-accounts/hook.db under the folder it runs in" in line
    assert done.stdout == ""
    assert not default.exists()


def test_exit_7_advice_for_a_standard_field_is_a_custom_external_id() -> None:
    real = json.loads(real_salesforce_answer("account_describe.json").read_text(encoding="utf-8"))
    with pytest.raises(IndexFieldError) as caught:
        check_index_field(ObjectDescription.from_describe(real), "Name")
    assert "mark it External ID" not in caught.value.message
    assert "add a custom text field marked External ID and Unique" in caught.value.message


def test_exit_7_advice_for_a_custom_field_is_to_mark_it() -> None:
    desc = ObjectDescription.from_describe(
        {
            "fields": [
                {"name": "Id", "type": "id", "idLookup": True, "filterable": True},
                {"name": "Region__c", "type": "string", "filterable": True, "custom": True},
            ]
        }
    )
    with pytest.raises(IndexFieldError, match="mark it External ID in Salesforce"):
        check_index_field(desc, "Region__c")
