"""The hook service over real HTTP: status codes, the bearer token, the deadline, metrics,
the request log and SIGTERM."""

from __future__ import annotations

import concurrent.futures
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest
import requests

from tap_salesforce_accounts.hook.cli import main
from tap_salesforce_accounts.hook.session import read_status
from tests.emulator import CLIENT_SECRET, REFRESH_TOKEN, Emulator
from tests.emulator.data import SPECIAL_CUSTOMER_KEYS
from tests.hook_fixtures import (  # noqa: F401  (fixtures)
    fixture_config,
    fixture_emu,
    fixture_emulator,
    hook_config,
)
from tests.service_fixtures import CLIENT_TIMEOUT, ServiceProcess, metric, write_config

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

TOKEN = "service-test-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PREFIX = "tap-salesforce-accounts-hook: error: "


@pytest.fixture(scope="module", name="service")
def fixture_service(
    emulator: Emulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    """One service for the module, with a bearer token, on the module's emulator."""
    folder = tmp_path_factory.mktemp("service")
    config = hook_config(emulator.url, folder, hook_api_token=TOKEN)
    with ServiceProcess(write_config(folder, config)) as service:
        yield service


def account(service: ServiceProcess, value: str) -> requests.Response:
    # Dots too: HTTP clients drop "." and ".." path segments.
    encoded = quote(value, safe="").replace(".", "%2E")
    return service.get("/v1/accounts/" + encoded, headers=AUTH)


def test_ok_not_found_and_the_cli_document(
    service: ServiceProcess, emu: Emulator, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = account(service, "CUST-000123")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    document = answer.json()
    assert set(document) == {"status", "account", "error", "synced_at"}
    assert document["status"] == "ok"
    assert document["account"]["Customer_Key__c"] == "CUST-000123"
    missing = account(service, "CUST-999999")
    assert missing.status_code == 404
    assert missing.json() == {
        "status": "not_found",
        "account": None,
        "error": None,
        "synced_at": None,
    }
    assert [entry["kind"] for entry in emu.requests()] == ["sobject_by_external_id"] * 2
    # The same document as the command line's.
    assert main(["--config", str(config_file), "lookup", "CUST-000123"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == document | {"synced_at": printed["synced_at"]}


@pytest.fixture(name="config_file")
def fixture_config_file(config: dict[str, Any], tmp_path: Path) -> Path:
    return write_config(tmp_path, config)


@pytest.mark.parametrize("index", sorted(SPECIAL_CUSTOMER_KEYS))
def test_values_that_need_percent_encoding(
    service: ServiceProcess, emu: Emulator, index: int
) -> None:
    key = SPECIAL_CUSTOMER_KEYS[index]
    answer = account(service, key)
    assert answer.status_code == 200, answer.text
    assert answer.json()["account"]["Customer_Key__c"] == key
    del emu


def test_invalid_value_is_400(service: ServiceProcess, emu: Emulator) -> None:
    answer = account(service, "x" * 4001)
    assert answer.status_code == 400
    assert answer.json()["status"] == "error"
    assert answer.json()["error"]["code"] == "invalid_value"
    undecodable = service.get("/v1/accounts/%FF%FE", headers=AUTH)
    assert undecodable.status_code == 400
    assert undecodable.json()["error"]["code"] == "invalid_value"
    assert emu.requests() == []


def test_unavailable_and_out_of_api_calls_are_503(service: ServiceProcess, emu: Emulator) -> None:
    emu.configure(fail="503:1")
    answer = account(service, "CUST-000124")
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "unavailable"
    emu.configure(fail="", api_limit=10, api_usage=10)
    answer = account(service, "CUST-000125")
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "api_limit"


def test_several_matches_is_409(emu: Emulator, tmp_path: Path) -> None:
    config = hook_config(emu.url, tmp_path, index_field="Legacy_Ref__c")
    with ServiceProcess(write_config(tmp_path, config)) as service:
        answer = service.get("/v1/accounts/LEG-SHARED-001")
        assert answer.status_code == 409
        assert answer.json()["error"]["code"] == "multiple_matches"
        assert service.get("/v1/accounts/LEG-0000030").status_code == 200


def test_a_slow_org_answers_504_at_the_deadline(emu: Emulator, tmp_path: Path) -> None:
    config = hook_config(emu.url, tmp_path, lookup_timeout_seconds=0.5)
    with ServiceProcess(write_config(tmp_path, config)) as service:
        assert service.get("/v1/accounts/CUST-000126").status_code == 200  # warm
        emu.configure(latency_ms=1500)
        answer = service.get("/v1/accounts/CUST-000127", timeout=CLIENT_TIMEOUT)
        assert answer.status_code == 504
        assert answer.json()["status"] == "error"
        assert answer.json()["error"]["code"] == "timeout"
        # The service still answers while the late worker waits on Salesforce.
        assert service.get("/healthz").status_code == 200


def test_bearer_token_missing_wrong_right(service: ServiceProcess, emu: Emulator) -> None:
    for path in ("/v1/status", "/v1/history", "/v1/fields", "/v1/accounts/CUST-000123", "/metrics"):
        missing = service.get(path)
        assert missing.status_code == 401, path
        assert missing.headers["www-authenticate"] == "Bearer"
        wrong = service.get(path, headers={"Authorization": f"Bearer {TOKEN[:-1]}x"})
        assert wrong.status_code == 401, path
        basic = service.get(path, headers={"Authorization": TOKEN})
        assert basic.status_code == 401, path
        assert service.get(path, headers=AUTH).status_code == 200, path
    for open_path in ("/healthz", "/readyz", "/"):
        assert service.get(open_path).status_code == 200, open_path
    # Only the authorized lookup reached Salesforce. (Other tests' services share the
    # emulator: a late answer of the deadline test may land in this log.)
    asked = [entry for entry in emu.requests() if entry["path"].endswith("/CUST-000123")]
    assert [entry["kind"] for entry in asked] == ["sobject_by_external_id"]


def test_status_history_fields(service: ServiceProcess, emu: Emulator) -> None:
    emu.configure(fail="503:1")
    assert account(service, "CUST-000130").status_code == 503
    emu.configure(fail="")
    assert account(service, "CUST-000131").status_code == 200
    status = service.get("/v1/status", headers=AUTH).json()
    assert status["last_error"]["code"] == "unavailable"
    assert status["last_success_at"] > status["last_failure_at"]
    history = service.get("/v1/history?limit=2", headers=AUTH).json()
    assert [entry["status"] for entry in history] == ["ok", "error"]
    for bad in ("x", "-1", "100000"):
        refused = service.get(f"/v1/history?limit={bad}", headers=AUTH)
        assert refused.status_code == 400
        assert "limit" in refused.json()["error"]["message"]
    fields = {field["name"]: field for field in service.get("/v1/fields", headers=AUTH).json()}
    assert fields["Customer_Key__c"]["can_be_index_field"] is True
    assert fields["Description"]["can_be_index_field"] is False


def test_healthz_readyz_metrics(service: ServiceProcess, emu: Emulator) -> None:
    assert service.get("/healthz").json() == {"status": "ok"}
    assert service.get("/readyz").json() == {"ready": True}
    name = "tap_salesforce_accounts_hook"
    before = service.get("/metrics", headers=AUTH).text
    assert account(service, "CUST-000140").status_code == 200
    assert account(service, "CUST-999998").status_code == 404
    warm = service.get("/metrics", headers=AUTH).text
    sent = f"{name}_salesforce_requests_total"
    assert (metric(warm, sent) or 0) - (metric(before, sent) or 0) == 2
    emu.configure(fail="503:1")
    assert account(service, "CUST-000141").status_code == 503
    text = service.get("/metrics", headers=AUTH).text

    def grew(sample: str) -> float:
        return (metric(text, sample) or 0) - (metric(before, sample) or 0)

    assert grew(f'{name}_lookups_total{{status="ok"}}') == 1
    assert grew(f'{name}_lookups_total{{status="not_found"}}') == 1
    assert grew(f'{name}_lookups_total{{status="error"}}') == 1
    assert grew(f"{name}_lookup_duration_seconds_count") == 3
    # One request each for the warm ok and not_found; the 503 is retried.
    assert grew(f"{name}_salesforce_requests_total") >= 3
    assert (metric(text, f"{name}_api_usage_limit") or 0) > 0
    assert metric(text, f"{name}_ready") == 1
    assert metric(text, f"{name}_lookups_in_flight") == 0


def test_request_log_has_no_value_or_secret(service: ServiceProcess, emu: Emulator) -> None:
    value = "CUST-000150"
    assert account(service, value).status_code == 200
    assert service.get("/v1/history?limit=1", headers=AUTH).status_code == 200
    log = service.stderr()
    assert "GET /v1/accounts/<value> 200" in log
    for secret in (value, TOKEN, CLIENT_SECRET, REFRESH_TOKEN):
        assert secret not in log
    del emu


def test_readyz_waits_for_salesforce(emu: Emulator, tmp_path: Path) -> None:
    emu.configure(fail="503:1")
    with ServiceProcess(write_config(tmp_path, hook_config(emu.url, tmp_path))) as service:
        assert service.get("/healthz").status_code == 200
        not_ready = service.get("/readyz")
        assert not_ready.status_code == 503
        assert not_ready.json()["ready"] is False
        emu.configure(fail="")
        assert service.get("/v1/accounts/CUST-000160").status_code == 200
        assert service.get("/readyz").status_code == 200


def test_refuses_a_public_address_without_a_token(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--config", str(config_file), "serve", "--host", "0.0.0.0", "--port", "0"])  # noqa: S104
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.startswith(PREFIX + "refusing to serve on 0.0.0.0 without hook_api_token")
    assert err.count("\n") == 1


def test_a_short_token_is_a_config_error(
    config: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path, config | {"hook_api_token": "short"})
    assert main(["--config", str(path), "serve", "--port", "0"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(PREFIX + "hook_api_token must be")
    assert "short" not in err


def test_sigterm_drains_the_lookup_in_flight(emu: Emulator, tmp_path: Path) -> None:
    config = hook_config(emu.url, tmp_path, hook_api_token=TOKEN)
    service = ServiceProcess(write_config(tmp_path, config)).start()
    try:
        assert service.get("/v1/accounts/CUST-000170", headers=AUTH).status_code == 200
        emu.configure(latency_ms=1500)
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            in_flight = pool.submit(
                requests.get,
                service.url + "/v1/accounts/CUST-000171",
                headers=AUTH,
                timeout=CLIENT_TIMEOUT,
            )
            service.wait_for_metric(
                "tap_salesforce_accounts_hook_lookups_in_flight", 1, headers=AUTH
            )
            code = service.terminate()
            answer = in_flight.result()
    finally:
        service.__exit__(None, None, None)
    assert code == 0
    assert answer.status_code == 200
    assert answer.json()["account"]["Customer_Key__c"] == "CUST-000171"
    # The drained lookup's sync reached the store before the exit.
    history = read_status(config, history=5)
    assert isinstance(history, list)
    assert [entry["status"] for entry in history] == ["ok", "ok"]


def test_stale_answer_is_200(emu: Emulator, tmp_path: Path) -> None:
    config = hook_config(emu.url, tmp_path, stale_fallback=True)
    with ServiceProcess(write_config(tmp_path, config)) as service:
        fresh = service.get("/v1/accounts/CUST-000180")
        assert fresh.status_code == 200
        emu.configure(fail="503:1")
        stale = service.get("/v1/accounts/CUST-000180")
        assert stale.status_code == 200
        document = stale.json()
        assert document["status"] == "stale"
        assert document["error"]["code"] == "unavailable"
        assert document["account"] == fresh.json()["account"]
        assert document["synced_at"] == fresh.json()["synced_at"]
        gone = service.get("/v1/accounts/CUST-000181")
        assert gone.status_code == 503
        assert gone.json()["status"] == "error"
