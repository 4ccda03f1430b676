"""No secret reaches any output: every command, debug logging on, against the emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING

from tests.emulator import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, USERNAME, Emulator
from tests.helpers import BIN, TAP, new_rsa_key_pair, raw_query, tap_config, write_json

if TYPE_CHECKING:
    from pathlib import Path

DEBUG = {"LOGLEVEL": "DEBUG", "TAP_SALESFORCE_ACCOUNTS_LOGLEVEL": "DEBUG"}


def run(*command: str, cwd: Path) -> str:
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=cwd,
        env={**os.environ, **DEBUG},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout + result.stderr


def every_file_under(path: Path) -> str:
    return "".join(
        p.read_bytes().decode("utf-8", "replace")
        for p in path.rglob("*")
        if p.is_file() and p.name not in {"config.json", "jwt.json", "key.pem"}
    )


def test_no_command_prints_logs_or_stores_a_secret(tmp_path: Path) -> None:
    private, public = new_rsa_key_pair()
    with Emulator(accounts=50, seed=4, jwt_public_key_pem=public) as emulator:
        account = raw_query(emulator.url, "SELECT Id FROM Account LIMIT 1")[0]["Id"]
        config = tap_config(
            emulator.url,
            tmp_path / "cache",
            hook_store_url=f"sqlite:///{tmp_path / 'hook.db'}",
        )
        path = str(write_json(tmp_path / "config.json", config))
        (tmp_path / "key.pem").write_text(private, encoding="utf-8")
        jwt = str(
            write_json(
                tmp_path / "jwt.json",
                {
                    "client_id": CLIENT_ID,
                    "auth_flow": "jwt_bearer",
                    "username": USERNAME,
                    "private_key_path": str(tmp_path / "key.pem"),
                    "login_url": emulator.url,
                    "describe_cache_dir": str(tmp_path / "cache"),
                },
            )
        )
        hook = [sys.executable, "-m", "tap_salesforce_accounts.hook", "--config", path]
        output = "".join(
            [
                run(str(TAP), "--config", path, "--discover", cwd=tmp_path),
                run(str(TAP), "--config", path, cwd=tmp_path),
                run(str(TAP), "--config", path, "--account-id", account, cwd=tmp_path),
                run(str(TAP), "--config", path, "--test", cwd=tmp_path),
                run(str(TAP), "--config", jwt, "--account-id", account, cwd=tmp_path),
                run(*hook, "lookup", account, cwd=tmp_path),
                run(*hook, "status", cwd=tmp_path),
                run(*hook, "history", cwd=tmp_path),
                run(*hook, "fields", cwd=tmp_path),
                run(str(BIN / "tap-salesforce-accounts-connect"), "--help", cwd=tmp_path),
            ]
        )
        tokens = emulator.org.tokens
        secrets = [CLIENT_SECRET, REFRESH_TOKEN, *tokens.access, *tokens.refresh]
    assert "DEBUG" in output  # debug logging really was on
    written = every_file_under(tmp_path)
    status = run(*hook, "status", cwd=tmp_path).splitlines()[0]
    assert json.loads(status)["last_success_at"]
    key_body = "".join(private.splitlines()[1:-1])
    for secret in [*secrets, key_body[:64], key_body[-64:]]:
        assert secret not in output
        assert secret not in written
