"""The tap against an org's less common answers: versions, stray 304s, expired cursors,
numeric index fields and describes that went stale."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.conftest import raw_query, run_tap, tap_config

if TYPE_CHECKING:
    from pathlib import Path

    from tests.emulator import Emulator


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
