"""The client's retries: what is retried, how long it waits, when it gives up, over HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tap_salesforce_accounts import retry
from tap_salesforce_accounts.auth import OAuthSettings
from tap_salesforce_accounts.client import ClientSettings, SalesforceClient
from tests.emulator import Emulator
from tests.helpers import raw_query, records, run_tap, tap_config

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


def client_for(
    config: dict[str, Any], sleep: Callable[[float], None] = lambda _: None
) -> SalesforceClient:
    return SalesforceClient(
        OAuthSettings.from_config(config), ClientSettings.from_config(config), sleep=sleep
    )


def test_503s_and_expiry_together_lose_no_record_and_cause_no_storm(
    fresh_emulator: Emulator, tmp_path: Path
) -> None:
    config = tap_config(fresh_emulator.url, tmp_path / "cache")
    expected = {r["Id"] for r in raw_query(fresh_emulator.url, "SELECT Id FROM Account")}
    fresh_emulator.reset_log()
    fresh_emulator.configure(fail="expire:3,503:4")
    result = run_tap(config, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    got = [r["Id"] for r in records(result.stdout)]
    assert len(got) == len(set(got))
    assert set(got) == expected
    log = fresh_emulator.requests()
    failures = [r for r in log if r["status"] in {401, 503}]
    rest = [r for r in log if r["kind"] != "token"]
    assert len(rest) <= 2 * len(failures) + 10


def test_request_limit_exceeded_is_not_retried(fresh_emulator: Emulator, tmp_path: Path) -> None:
    fresh_emulator.configure(api_limit=100, api_usage=100)
    config = tap_config(fresh_emulator.url, tmp_path / "cache")
    fresh_emulator.reset_log()
    result = run_tap(config, "--discover", tmp_path=tmp_path)
    assert result.returncode == 8
    assert "daily API requests are spent" in result.stderr.splitlines()[-1]
    assert len([r for r in fresh_emulator.requests() if r["status"] == 403]) == 1


def test_retry_after_is_honoured(fresh_emulator: Emulator, tmp_path: Path) -> None:
    waits: list[float] = []
    client = client_for(tap_config(fresh_emulator.url, tmp_path / "cache"), sleep=waits.append)
    fresh_emulator.configure(fail="503:2:3")
    path = client.data_path("query")
    for _ in range(2):
        client.get_json(path, params={"q": "SELECT Id FROM Account LIMIT 1"})
    client.close()
    assert waits == [3.0]


def test_dropped_connections_and_malformed_pages_are_retried(
    tmp_path: Path,
) -> None:
    with Emulator(accounts=9000, seed=5) as emulator:
        expected = {r["Id"] for r in raw_query(emulator.url, "SELECT Id FROM Account")}
        emulator.configure(fail="drop:2,malformed:3,503:5")
        result = run_tap(tap_config(emulator.url, tmp_path / "cache"), tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    got = [r["Id"] for r in records(result.stdout)]
    assert len(got) == len(set(got)) == len(expected)
    assert set(got) == expected


def test_retries_give_up_with_a_clear_error(fresh_emulator: Emulator, tmp_path: Path) -> None:
    fresh_emulator.configure(fail="503:1")
    config = tap_config(fresh_emulator.url, tmp_path / "cache", max_retries=2)
    result = run_tap(config, "--discover", tmp_path=tmp_path)
    assert result.returncode == 9
    assert "SERVER_UNAVAILABLE" in result.stderr.splitlines()[-1]
    describes = [r for r in fresh_emulator.requests() if r["path"].endswith("/describe")]
    assert len(describes) == 3


def test_429_is_retried(fresh_emulator: Emulator, tmp_path: Path) -> None:
    waits: list[float] = []
    client = client_for(tap_config(fresh_emulator.url, tmp_path / "cache"), sleep=waits.append)
    fresh_emulator.configure(fail="429:2")
    path = client.data_path("query")
    for _ in range(3):
        client.get_json(path, params={"q": "SELECT Id FROM Account LIMIT 1"})
    client.close()
    statuses = [r["status"] for r in fresh_emulator.requests() if r["path"].endswith("/query")]
    assert statuses.count(200) == 3
    assert statuses.count(429) == len(waits) >= 1


def test_an_unreadable_retry_after_falls_back_to_backoff() -> None:
    assert retry.retry_after_seconds("soon") is None
    assert retry.retry_after_seconds("7") == 7.0
