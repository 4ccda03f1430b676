"""Bulk API 2.0 as large orgs need it: no ORDER BY, jobs cleaned up, created once, resumable."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
from typing import TYPE_CHECKING, Any

import pytest

from tap_salesforce_accounts.exceptions import StdoutClosedError, UnavailableError
from tap_salesforce_accounts.tap import TapSalesforceAccounts
from tap_salesforce_accounts.writer import SingerJsonlWriter
from tests.emulator import Emulator
from tests.helpers import TAP, messages, raw_query, records, run_tap, tap_config, write_json

if TYPE_CHECKING:
    from pathlib import Path


def bulk_config(emulator: Emulator, tmp_path: Path, **extra: Any) -> dict[str, Any]:
    return tap_config(emulator.url, tmp_path / "cache", api_type="bulk", **extra)


def job_requests(emulator: Emulator) -> list[tuple[str, str]]:
    return [
        (r["method"], r["kind"])
        for r in emulator.requests()
        if r["kind"].startswith("bulk") or "/jobs/query/" in r["path"]
    ]


def test_bulk_query_has_no_order_by_so_a_large_org_finishes(
    fresh_emulator: Emulator, tmp_path: Path
) -> None:
    # A large org: a sorted or limited Bulk query runs out of time without PK chunking.
    fresh_emulator.configure(bulk_sorted_max_rows=100)
    result = run_tap(bulk_config(fresh_emulator, tmp_path), tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "reading over REST" not in result.stderr
    statements = [r["soql"] for r in fresh_emulator.requests() if r["kind"] == "bulk_create"]
    assert len(statements) == 1
    assert "ORDER BY" not in statements[0].upper()
    assert "LIMIT" not in statements[0].upper()
    assert "query" not in {r["kind"] for r in fresh_emulator.requests()}
    in_order = [
        r["Id"]
        for r in raw_query(fresh_emulator.url, "SELECT Id FROM Account ORDER BY SystemModstamp, Id")
    ]
    got = [r["Id"] for r in records(result.stdout)]
    assert sorted(got) == sorted(in_order)
    assert got != in_order


def test_unordered_rows_end_with_the_highest_system_modstamp_as_bookmark(
    fresh_emulator: Emulator, tmp_path: Path
) -> None:
    fresh_emulator.touch(count=40)
    result = run_tap(bulk_config(fresh_emulator, tmp_path), tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    stamps = [r["SystemModstamp"] for r in records(result.stdout)]
    assert stamps != sorted(stamps)  # chunk by chunk, in no order
    final = messages(result.stdout, "STATE")[-1]["value"]["bookmarks"]["Account"]
    assert final["replication_key_value"] == max(stamps)


def test_a_job_is_deleted_once_its_results_are_read(
    fresh_emulator: Emulator, tmp_path: Path
) -> None:
    result = run_tap(bulk_config(fresh_emulator, tmp_path), tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert fresh_emulator.config()["bulk_jobs"] == 0
    assert job_requests(fresh_emulator)[-1] == ("DELETE", "bulk_poll")


def test_a_job_still_running_when_the_run_is_stopped_is_aborted_and_deleted(
    fresh_emulator: Emulator, tmp_path: Path
) -> None:
    fresh_emulator.configure(bulk_polls_to_complete=100_000)
    config_path = write_json(tmp_path / "config.json", bulk_config(fresh_emulator, tmp_path))
    tap = subprocess.Popen(
        [str(TAP), "--config", str(config_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert tap.stderr is not None
    for line in tap.stderr:
        if "Created Bulk API 2.0 query job" in line:
            break
    tap.send_signal(signal.SIGTERM)
    rest_of_stderr = tap.stderr.read()
    tap.stderr.close()
    assert tap.wait(timeout=60) == 0, rest_of_stderr
    assert "Aborted Bulk API 2.0 query job" in rest_of_stderr
    assert fresh_emulator.config()["bulk_jobs"] == 0
    methods = [method for method, _ in job_requests(fresh_emulator)]
    assert methods[-2:] == ["PATCH", "DELETE"]


class BrokenTarget(io.BytesIO):
    """A target that goes away when the first batch of records reaches it."""

    def write(self, data: Any) -> int:
        if b'"type":"RECORD"' in bytes(data):
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(data)


def test_a_job_is_deleted_when_writing_its_rows_fails(tmp_path: Path) -> None:
    # Records reach the target in batches of 1 MB: a few thousand Accounts make several.
    with Emulator(accounts=3000, seed=2) as emulator:
        tap = TapSalesforceAccounts(
            config=bulk_config(emulator, tmp_path),
            message_writer=SingerJsonlWriter(BrokenTarget()),
        )
        with pytest.raises(StdoutClosedError):
            tap.run()
        assert emulator.config()["bulk_jobs"] == 0
        assert job_requests(emulator)[-1] == ("DELETE", "bulk_poll")


def test_job_creation_without_an_answer_is_not_sent_again(
    fresh_emulator: Emulator, tmp_path: Path
) -> None:
    fresh_emulator.configure(fail="bulk-hangup:1")
    result = run_tap(bulk_config(fresh_emulator, tmp_path), tmp_path=tmp_path)
    assert result.returncode == UnavailableError.exit_code, result.stderr
    assert fresh_emulator.config()["bulk_creates"] == 1
    error_lines = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(error_lines) == 1
    assert "not sent again" in error_lines[0]
    assert records(result.stdout) == []


def test_an_interrupted_bulk_run_resumes_without_skipping_accounts(tmp_path: Path) -> None:
    with Emulator(accounts=25_000, seed=4) as emulator:
        emulator.touch(count=500)
        window = raw_query(
            emulator.url,
            "SELECT Id, SystemModstamp FROM Account WHERE SystemModstamp >= 2021-06-01T00:00:00Z",
        )
        assert len(window) > 15_000
        start = {
            "bookmarks": {
                "Account": {
                    "replication_key": "SystemModstamp",
                    "replication_key_value": "2021-06-01T00:00:00.000+00:00",
                }
            }
        }
        config = bulk_config(emulator, tmp_path)
        config_path = write_json(tmp_path / "config.json", config)
        state_path = write_json(tmp_path / "start.json", start)
        first = subprocess.Popen(
            [str(TAP), "--config", str(config_path), "--state", str(state_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert first.stdout is not None
        seen: list[str] = []
        state: dict[str, Any] | None = None
        for line in first.stdout:
            message = json.loads(line)
            if message["type"] == "RECORD":
                seen.append(message["record"]["Id"])
            elif message["type"] == "STATE":
                state = message["value"]
            if len(seen) >= 15_000:
                os.kill(first.pid, signal.SIGKILL)
                break
        first.stdout.close()
        first.wait()
        assert state is not None  # a STATE came after 10,000 records
        bookmark = state["bookmarks"]["Account"]["replication_key_value"]
        assert bookmark == start["bookmarks"]["Account"]["replication_key_value"]

        second = run_tap(config, tmp_path=tmp_path, state=state)
        assert second.returncode == 0, second.stderr
    resumed = {r["Id"] for r in records(second.stdout)}
    assert set(seen) | resumed == {r["Id"] for r in window}
