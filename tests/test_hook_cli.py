"""``tap-salesforce-accounts-hook``: JSON on stdout, exit codes, one-line errors, no secrets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tap_salesforce_accounts.hook.cli import main
from tests.emulator import CLIENT_SECRET, ORG_ID, REFRESH_TOKEN, Emulator
from tests.hook_fixtures import (  # noqa: F401  (fixtures)
    fixture_config,
    fixture_emu,
    fixture_emulator,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "tap-salesforce-accounts-hook: error: "
SECRETS = (CLIENT_SECRET, REFRESH_TOKEN, ORG_ID[:15] + "!")


@pytest.fixture(name="config_file")
def fixture_config_file(config: dict[str, Any], tmp_path: Path) -> Path:
    path = tmp_path / "config.json"
    # A generous deadline: these tests check answers, and a loaded machine may start a child slowly.
    path.write_text(json.dumps({**config, "lookup_timeout_seconds": 120}), encoding="utf-8")
    path.chmod(0o600)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) <= 1, out
    return code, json.loads(lines[0]) if lines else None, err


def test_lookup_ok_and_not_found(capsys: pytest.CaptureFixture[str], config_file: Path) -> None:
    code, document, err = run(capsys, "--config", str(config_file), "lookup", "CUST-000123")
    assert code == 0
    assert set(document) == {"status", "account", "error", "synced_at"}
    assert document["status"] == "ok"
    assert document["account"]["Customer_Key__c"] == "CUST-000123"
    assert err == ""
    code, document, _ = run(capsys, "--config", str(config_file), "lookup", "CUST-999999")
    assert (code, document["status"], document["account"]) == (0, "not_found", None)


def test_lookup_failure_exit_codes(
    capsys: pytest.CaptureFixture[str],
    config: dict[str, Any],
    tmp_path: Path,
    emu: Emulator,
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(config | {"refresh_token": "revoked"}))
    code, document, _ = run(capsys, "--config", str(bad), "lookup", "CUST-000123")
    assert (code, document["status"], document["error"]["code"]) == (3, "error", "auth_error")

    several = tmp_path / "several.json"
    several.write_text(json.dumps(config | {"index_field": "Legacy_Ref__c"}))
    code, document, _ = run(capsys, "--config", str(several), "lookup", "LEG-SHARED-001")
    assert (code, document["error"]["code"]) == (5, "multiple_matches")

    stale = tmp_path / "stale.json"
    stale.write_text(json.dumps(config | {"stale_fallback": True, "max_retries": 0}))
    assert run(capsys, "--config", str(stale), "lookup", "CUST-000124")[0] == 0
    emu.configure(fail="503:1")
    code, document, _ = run(capsys, "--config", str(stale), "lookup", "CUST-000124")
    assert (code, document["status"], document["error"]["code"]) == (9, "stale", "unavailable")
    assert document["account"]["Customer_Key__c"] == "CUST-000124"


def test_status_history_fields(capsys: pytest.CaptureFixture[str], config_file: Path) -> None:
    base = ("--config", str(config_file))
    for value in ("CUST-000125", "CUST-000126", "CUST-999999"):
        run(capsys, *base, "lookup", value)
    code, status, _ = run(capsys, *base, "status")
    assert code == 0
    assert {"last_success_at", "last_failure_at", "last_error", "integration_id"} <= set(status)
    assert (status["successes"], status["last_error"]) == (3, None)
    code, history, _ = run(capsys, *base, "history", "--limit", "2")
    assert code == 0
    assert [row["status"] for row in history] == ["not_found", "ok"]
    code, fields, _ = run(capsys, *base, "fields")
    assert code == 0
    assert {"name": "Customer_Key__c"}.items() <= next(
        f for f in fields if f["name"] == "Customer_Key__c"
    ).items()


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["--config", "/nonexistent/config.json", "status"], id="missing-file"),
        pytest.param(["status"], id="no-config"),
        pytest.param(["--config", "c.json"], id="no-command"),
        pytest.param(["--config", "c.json", "launch"], id="unknown-command"),
    ],
)
def test_usage_and_config_errors(capsys: pytest.CaptureFixture[str], argv: Sequence[str]) -> None:
    code, document, err = run(capsys, *argv)
    assert code == 2
    assert document is None
    assert err.startswith(PREFIX)
    assert err.count("\n") == 1


def test_invalid_setting_is_a_config_error(
    capsys: pytest.CaptureFixture[str], config: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps(config | {"lookup_timeout_seconds": -1}))
    code, _, err = run(capsys, "--config", str(path), "lookup", "X")
    assert code == 2
    assert err.startswith(PREFIX + "lookup_timeout_seconds")
    assert CLIENT_SECRET not in err


def test_unreadable_store(
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    config: dict[str, Any],
    tmp_path: Path,
) -> None:
    store = tmp_path / "broken.db"
    store.write_bytes(b"not sqlite at all " * 100)
    path = tmp_path / "c.json"
    path.write_text(json.dumps(config | {"hook_store_url": f"sqlite:///{store}"}))
    code, document, err = run(capsys, "--config", str(path), "lookup", "CUST-000127")
    assert (code, document["status"]) == (0, "ok")
    assert "status store problem" in caplog.text
    code, document, err = run(capsys, "--config", str(path), "status")
    assert (code, document) == (1, None)
    assert err.startswith(PREFIX)
    assert str(store) in err


def test_environment_settings(
    capsys: pytest.CaptureFixture[str],
    config: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "c.json"
    public = {k: v for k, v in config.items() if k not in {"client_secret", "refresh_token"}}
    path.write_text(json.dumps(public))
    monkeypatch.setenv("TAP_SALESFORCE_ACCOUNTS_CLIENT_SECRET", config["client_secret"])
    monkeypatch.setenv("TAP_SALESFORCE_ACCOUNTS_REFRESH_TOKEN", config["refresh_token"])
    code, document, _ = run(
        capsys, "--config", str(path), "--config", "ENV", "lookup", "CUST-000128"
    )
    assert (code, document["status"]) == (0, "ok")


@pytest.mark.parametrize("mode", ["in_process", "subprocess"])
def test_command_with_debug_logs_prints_no_secret(config_file: Path, mode: str) -> None:
    env = dict(os.environ) | {"LOGLEVEL": "DEBUG", "TAP_SALESFORCE_ACCOUNTS_LOGLEVEL": "DEBUG"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tap_salesforce_accounts.hook",
            "--config",
            str(config_file),
            "--mode",
            mode,
            "lookup",
            "CUST-000129",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "ok"
    assert "DEBUG" in done.stderr
    for secret in SECRETS:
        assert secret not in done.stdout
        assert secret not in done.stderr
