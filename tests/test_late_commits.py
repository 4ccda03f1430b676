"""Late commits: records stamped before their transaction commits are not missed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.helpers import messages, records, run_tap, tap_config

if TYPE_CHECKING:
    from pathlib import Path

    from tests.emulator import Emulator


def ids(stdout: str) -> set[str]:
    return {r["Id"] for r in records(stdout)}


def last_state(stdout: str) -> dict[str, Any]:
    state: dict[str, Any] = messages(stdout, "STATE")[-1]["value"]
    return state


@pytest.mark.parametrize("api_type", ["rest", "bulk"])
def test_a_late_commit_is_read_by_the_next_run(
    api_type: str, fresh_emulator: Emulator, tmp_path: Path
) -> None:
    config = tap_config(fresh_emulator.url, tmp_path / "cache", api_type=api_type)
    # Committed a few seconds ago.
    recent = fresh_emulator.touch(1, age_seconds=5)["ids"][0]
    first = run_tap(config, tmp_path=tmp_path)
    assert first.returncode == 0, first.stderr
    # A transaction that began a minute ago commits now: its record is stamped before
    # "recent" but only becomes visible after the first run.
    late = fresh_emulator.insert(1, age_seconds=60)["ids"][0]
    assert late not in ids(first.stdout)
    fresh_emulator.configure(clock_offset_seconds=3600)  # the next run, an hour later
    second = run_tap(config, tmp_path=tmp_path, state=last_state(first.stdout))
    assert second.returncode == 0, second.stderr
    assert {recent, late} <= ids(first.stdout) | ids(second.stdout)


def test_changes_inside_the_margin_wait_for_the_next_run(
    fresh_emulator: Emulator, tmp_path: Path
) -> None:
    # Salesforce's clock, not this machine's, decides: here the org runs a day behind.
    fresh_emulator.configure(clock_offset_seconds=-86_400)
    inside = fresh_emulator.touch(1, age_seconds=600)["ids"][0]
    outside = fresh_emulator.touch(1, age_seconds=1200)["ids"][0]
    config = tap_config(fresh_emulator.url, tmp_path / "cache")
    result = run_tap(config, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert outside in ids(result.stdout)
    assert inside not in ids(result.stdout)
    bookmark = last_state(result.stdout)["bookmarks"]["Account"]["replication_key_value"]
    stamps = {r["Id"]: r["SystemModstamp"] for r in records(result.stdout)}
    assert bookmark == stamps[outside]

    shorter = run_tap({**config, "late_commit_margin_seconds": 300}, tmp_path=tmp_path)
    assert inside in ids(shorter.stdout)
    no_margin = run_tap({**config, "late_commit_margin_seconds": 0}, tmp_path=tmp_path)
    assert inside in ids(no_margin.stdout)


@pytest.mark.parametrize("value", [-1, "soon"])
def test_a_bad_margin_is_a_config_error(
    value: object, config: dict[str, Any], tmp_path: Path
) -> None:
    result = run_tap({**config, "late_commit_margin_seconds": value}, tmp_path=tmp_path)
    assert result.returncode == 2
    assert "late_commit_margin_seconds" in result.stderr
