"""Extraction under load and faults: Bulk API 2.0, auto, wide orgs, resuming after a kill."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import threading
import time
from typing import TYPE_CHECKING, Any

import pytest
import requests

from tap_salesforce_accounts import streams
from tap_salesforce_accounts.tap import TapSalesforceAccounts
from tap_salesforce_accounts.writer import SingerJsonlWriter
from tests.emulator import Emulator, describe
from tests.helpers import TAP, messages, raw_query, records, run_tap, tap_config, write_json

if TYPE_CHECKING:
    from pathlib import Path

BASE64 = {f["name"] for f in describe()["fields"] if f["type"] == "base64"}


def by_id(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["Id"]: {k: v for k, v in r.items() if k not in BASE64} for r in rows}


def kinds(emulator: Emulator) -> list[str]:
    return [r["kind"] for r in emulator.requests()]


def test_bulk_and_rest_extract_identical_records(fresh_emulator: Emulator, tmp_path: Path) -> None:
    config = tap_config(fresh_emulator.url, tmp_path / "cache")
    rest = run_tap({**config, "api_type": "rest"}, tmp_path=tmp_path)
    assert rest.returncode == 0, rest.stderr
    fresh_emulator.reset_log()
    bulk = run_tap({**config, "api_type": "bulk"}, tmp_path=tmp_path)
    assert bulk.returncode == 0, bulk.stderr
    assert "bulk_create" in kinds(fresh_emulator)
    assert "query" not in kinds(fresh_emulator)
    rest_rows, bulk_rows = by_id(records(rest.stdout)), by_id(records(bulk.stdout))
    assert len(rest_rows) == 297
    assert bulk_rows == rest_rows  # compound fields rebuilt, numbers and datetimes typed alike
    assert messages(bulk.stdout, "STATE")[-1] == messages(rest.stdout, "STATE")[-1]


def test_bulk_with_include_deleted_runs_query_all(fresh_emulator: Emulator, tmp_path: Path) -> None:
    config = tap_config(fresh_emulator.url, tmp_path / "cache", api_type="bulk")
    result = run_tap({**config, "include_deleted": True}, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    got = records(result.stdout)
    assert len(got) == 300
    assert any(r["IsDeleted"] for r in got)


def test_aborted_bulk_job_falls_back_to_rest(fresh_emulator: Emulator, tmp_path: Path) -> None:
    fresh_emulator.configure(bulk_polls_to_complete=1000)
    config = tap_config(fresh_emulator.url, tmp_path / "cache", api_type="bulk")

    def abort_the_job() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            polls = [r for r in fresh_emulator.requests() if r["kind"] == "bulk_poll"]
            if polls:
                token = requests.post(
                    f"{fresh_emulator.url}/services/oauth2/token",
                    data={k: config[k] for k in ("client_id", "client_secret", "refresh_token")}
                    | {"grant_type": "refresh_token"},
                    timeout=10,
                ).json()["access_token"]
                requests.patch(
                    fresh_emulator.url + polls[0]["path"],
                    json={"state": "Aborted"},
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=10,
                ).raise_for_status()
                return
            time.sleep(0.05)

    aborter = threading.Thread(target=abort_the_job)
    aborter.start()
    result = run_tap(config, tmp_path=tmp_path)
    aborter.join()
    assert result.returncode == 0, result.stderr
    assert "ended Aborted" in result.stderr
    assert "reading over REST instead" in result.stderr
    assert len(records(result.stdout)) == 297
    assert fresh_emulator.config()["bulk_jobs"] == 0  # the aborted job is deleted


@pytest.mark.parametrize(("threshold", "expected"), [(100, "bulk_create"), (10_000, "query")])
def test_auto_picks_bulk_for_large_reads_only(
    threshold: int, expected: str, fresh_emulator: Emulator, tmp_path: Path
) -> None:
    config = tap_config(
        fresh_emulator.url, tmp_path / "cache", api_type="auto", bulk_threshold=threshold
    )
    result = run_tap(config, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(records(result.stdout)) == 297
    log = fresh_emulator.requests()
    counts = [r for r in log if r["kind"] == "query" and "COUNT()" in (r["soql"] or "")]
    assert len(counts) == 1
    assert expected in kinds(fresh_emulator)[kinds(fresh_emulator).index("query") + 1 :]


def test_wide_selection_reads_every_field_through_bulk(
    fresh_emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An org with hundreds of custom fields: here the URI limit shrinks instead.
    monkeypatch.setattr(streams, "MAX_URL_LENGTH", 1500)
    out = io.BytesIO()
    tap = TapSalesforceAccounts(
        config=tap_config(fresh_emulator.url, tmp_path / "cache"),
        message_writer=SingerJsonlWriter(out),
    )
    tap.sync_all()
    assert "bulk_create" in kinds(fresh_emulator)
    got = records(out.getvalue().decode())
    expected = raw_query(fresh_emulator.url, "SELECT Id FROM Account")
    assert {r["Id"] for r in got} == {r["Id"] for r in expected}
    assert set(got[0]) == set(tap.account_stream.schema["properties"])


def test_wide_selection_lookup_reads_the_account_in_chunks(
    fresh_emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tap_config(fresh_emulator.url, tmp_path / "cache", index_field="Tax_Number__c")
    sample = raw_query(fresh_emulator.url, "SELECT Id, Tax_Number__c FROM Account LIMIT 1")[0]
    narrow = TapSalesforceAccounts(config=config, message_writer=SingerJsonlWriter(io.BytesIO()))
    expected = narrow.sync_one(sample["Tax_Number__c"])

    monkeypatch.setattr(streams, "MAX_URL_LENGTH", 1500)
    wide = TapSalesforceAccounts(config=config, message_writer=SingerJsonlWriter(io.BytesIO()))
    fresh_emulator.reset_log()
    assert wide.sync_one(sample["Tax_Number__c"]) == expected
    queries = [r for r in fresh_emulator.requests() if r["kind"] == "query"]
    assert len(queries) >= 3  # the Id, then the fields in chunks
    assert all(len(r["soql"]) < 1500 for r in queries)


def test_killed_run_resumes_from_its_last_state_without_losing_accounts(
    tmp_path: Path,
) -> None:
    with Emulator(accounts=25_000, seed=9) as emulator:
        config_path = write_json(tmp_path / "config.json", tap_config(emulator.url, tmp_path / "c"))
        first = subprocess.Popen(
            [str(TAP), "--config", str(config_path)],
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
        assert state is not None  # a STATE came every 10,000 records

        second = run_tap(json.loads(config_path.read_text()), tmp_path=tmp_path, state=state)
        assert second.returncode == 0, second.stderr
        expected = {r["Id"] for r in raw_query(emulator.url, "SELECT Id FROM Account")}
    resumed = [r["Id"] for r in records(second.stdout)]
    assert set(seen) | set(resumed) == expected
    assert len(resumed) < len(expected)  # it resumed, it did not start over
