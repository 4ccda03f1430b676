"""Refresh token rotation: every run and every process sees the chain's newest token."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from typing import TYPE_CHECKING, Any

from tests.emulator import REFRESH_TOKEN, Emulator
from tests.helpers import TAP, raw_query, records, run_tap, tap_config, write_json

if TYPE_CHECKING:
    from pathlib import Path

PROCESSES = 4


def state_files(state_home: Path) -> list[Path]:
    return sorted((state_home / "tap-salesforce-accounts" / "tokens").glob("*.json"))


def token_answers(emulator: Emulator) -> list[int]:
    return [r["status"] for r in emulator.requests() if r["kind"] == "token"]


def rotating_org() -> tuple[Emulator, str]:
    """An org of its own (rotation spends its refresh tokens) and one Account Id."""
    emulator = Emulator(accounts=20, seed=4).start()
    value = str(raw_query(emulator.url, "SELECT Id FROM Account LIMIT 1")[0]["Id"])
    emulator.configure(rotate_refresh_tokens=True)
    emulator.reset_log()
    return emulator, value


def test_concurrent_processes_refresh_one_rotating_token_and_all_succeed(
    tmp_path: Path,
) -> None:
    emulator, value = rotating_org()
    try:
        config = tap_config(emulator.url, tmp_path / "cache")
        path = write_json(tmp_path / "config.json", config)
        path.chmod(0o400)  # a read-only config works: nothing is written into it
        children = [
            subprocess.Popen(
                [str(TAP), "--config", str(path), "--account-id", value],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(PROCESSES)
        ]
        outcomes = [child.communicate(timeout=120) for child in children]
        for child, (out, err) in zip(children, outcomes, strict=True):
            assert child.returncode == 0, err
            assert [r["Id"] for r in records(out)] == [value]
        # Each refresh used the newest token of the chain: none was refused.
        assert token_answers(emulator)
        assert set(token_answers(emulator)) == {200}
        assert json.loads(path.read_text()) == config

        # The next run, with the config regenerated as Meltano does, goes on with the chain.
        regenerated = tap_config(emulator.url, tmp_path / "cache")
        (tmp_path / "run2").mkdir()
        again = run_tap(regenerated, "--account-id", value, tmp_path=tmp_path / "run2")
        assert again.returncode == 0, again.stderr
        assert set(token_answers(emulator)) == {200}
    finally:
        emulator.stop()


def test_the_newest_token_lives_in_a_private_state_file(tmp_path: Path) -> None:
    emulator, value = rotating_org()
    state_home = tmp_path / "state-home"
    env = {"XDG_STATE_HOME": str(state_home)}
    try:
        config = tap_config(emulator.url, tmp_path / "cache")
        first = run_tap(config, "--account-id", value, tmp_path=tmp_path, env=env)
        assert first.returncode == 0, first.stderr
        assert "rotated the refresh token" in first.stderr
        (kept,) = state_files(state_home)
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600
        assert stat.S_IMODE(kept.parent.stat().st_mode) == 0o700
        newest = json.loads(kept.read_text())["refresh_token"]
        assert newest != REFRESH_TOKEN
        assert newest not in first.stderr + first.stdout
        assert REFRESH_TOKEN not in kept.name
        second = run_tap(config, "--discover", tmp_path=tmp_path, env=env)
        assert second.returncode == 0, second.stderr
        assert json.loads(kept.read_text())["refresh_token"] != newest
    finally:
        emulator.stop()


def test_environment_variable_config_keeps_the_chain(tmp_path: Path) -> None:
    emulator, value = rotating_org()
    config = tap_config(emulator.url, tmp_path / "cache")
    env = {f"TAP_SALESFORCE_ACCOUNTS_{key.upper()}": str(v) for key, v in config.items()}
    try:
        for _ in range(2):
            result = subprocess.run(
                [str(TAP), "--config", "ENV", "--account-id", value],
                capture_output=True,
                text=True,
                check=False,
                timeout=120,
                env={**os.environ, **env},
            )
            assert result.returncode == 0, result.stderr
        assert set(token_answers(emulator)) == {200}
    finally:
        emulator.stop()


def test_without_a_state_folder_a_rotated_token_lasts_one_run(tmp_path: Path) -> None:
    emulator, value = rotating_org()
    config: dict[str, Any] = tap_config(emulator.url, tmp_path / "cache", token_state_dir="off")
    try:
        first = run_tap(config, "--account-id", value, tmp_path=tmp_path)
        assert first.returncode == 0, first.stderr
        assert "lives in this process only" in first.stderr
        second = run_tap(config, "--account-id", value, tmp_path=tmp_path)
        assert second.returncode == 3
        assert "invalid_grant" in second.stderr.splitlines()[-1]
    finally:
        emulator.stop()
