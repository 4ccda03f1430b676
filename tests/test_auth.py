"""Every OAuth flow, token reuse and renewal, retries, usage limits and errors, over HTTP."""

from __future__ import annotations

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest

from tap_salesforce_accounts import exceptions
from tap_salesforce_accounts.auth import OAuthSettings, jwt_audience
from tap_salesforce_accounts.client import ClientSettings, SalesforceClient
from tap_salesforce_accounts.tap import TapSalesforceAccounts
from tap_salesforce_accounts.writer import SingerJsonlWriter
from tests.emulator import CLIENT_ID, CLIENT_SECRET, USERNAME, Emulator, config_for
from tests.helpers import messages, new_rsa_key_pair, raw_query, records, run_tap, tap_config

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


@pytest.fixture(scope="module")
def key_pair() -> tuple[str, str]:
    """The private half signs, the emulator holds the public one."""
    return new_rsa_key_pair()


def client_for(
    config: dict[str, Any], sleep: Callable[[float], None] = lambda _: None
) -> SalesforceClient:
    return SalesforceClient(
        OAuthSettings.from_config(config), ClientSettings.from_config(config), sleep=sleep
    )


def token_grants(emulator: Emulator) -> list[str]:
    return [r["grant_type"] for r in emulator.requests() if r["kind"] == "token"]


def test_refresh_token_flow_reads_accounts(config: dict[str, Any], emulator: Emulator) -> None:
    emulator.reset_log()
    client = client_for(config)
    answer = client.get_json(client.data_path("query"), params={"q": "SELECT Id FROM Account"})
    assert answer["totalSize"] > 0
    assert token_grants(emulator) == ["refresh_token"]


def test_jwt_bearer_flow_signs_an_assertion_the_org_verifies(
    fresh_emulator: Emulator, key_pair: tuple[str, str], tmp_path: Path
) -> None:
    private, public = key_pair
    fresh_emulator.configure(jwt_public_key_pem=public)
    config = {
        "client_id": CLIENT_ID,
        "auth_flow": "jwt_bearer",
        "username": USERNAME,
        "private_key_path": str(tmp_path / "key.pem"),
        "login_url": fresh_emulator.url,
        "describe_cache_dir": str(tmp_path / "cache"),
    }
    (tmp_path / "key.pem").write_text(private, encoding="utf-8")
    result = run_tap(config, "--account-id", first_id(fresh_emulator), tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert token_grants(fresh_emulator)[-1] == "urn:ietf:params:oauth:grant-type:jwt-bearer"


def test_jwt_signed_by_another_key_is_refused_with_advice(
    fresh_emulator: Emulator, key_pair: tuple[str, str], tmp_path: Path
) -> None:
    _, public = key_pair
    fresh_emulator.configure(jwt_public_key_pem=public)
    other, _ = new_rsa_key_pair()
    config = {
        "client_id": CLIENT_ID,
        "auth_flow": "jwt_bearer",
        "username": USERNAME,
        "private_key": other,
        "login_url": fresh_emulator.url,
    }
    result = run_tap(config, "--discover", tmp_path=tmp_path)
    assert result.returncode == 3
    assert "certificate matches private_key" in result.stderr.splitlines()[-1]


def test_client_credentials_flow(emulator: Emulator) -> None:
    emulator.reset_log()
    client = client_for(
        {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "auth_flow": "client_credentials",
            "login_url": emulator.url,
            "describe_cache_dir": "off",
        }
    )
    assert "fields" in client.describe_account()
    assert token_grants(emulator) == ["client_credentials"]


@pytest.mark.parametrize(
    ("login_url", "audience"),
    [
        ("https://login.salesforce.com", "https://login.salesforce.com"),
        ("https://test.salesforce.com", "https://test.salesforce.com"),
        ("https://acme.my.salesforce.com", "https://login.salesforce.com"),
        ("https://acme--uat.sandbox.my.salesforce.com", "https://test.salesforce.com"),
        ("https://shape-fox-42.scratch.my.salesforce.com", "https://test.salesforce.com"),
        ("https://community.example.com/customers", "https://community.example.com/customers"),
    ],
)
def test_jwt_audience_follows_the_login_host(login_url: str, audience: str) -> None:
    assert jwt_audience(login_url) == audience


def first_id(emulator: Emulator) -> str:
    return str(raw_query(emulator.url, "SELECT Id FROM Account LIMIT 1")[0]["Id"])


def test_one_token_serves_every_request_of_a_process(
    config: dict[str, Any], emulator: Emulator
) -> None:
    value = first_id(emulator)
    emulator.reset_log()
    tap = TapSalesforceAccounts(config=config, message_writer=SingerJsonlWriter(io.BytesIO()))
    for _ in range(5):
        tap.sync_one(value)
    assert token_grants(emulator) == ["refresh_token"]


def test_expired_token_is_renewed_once_and_the_request_retried(
    fresh_emulator: Emulator, tmp_path: Path
) -> None:
    config = tap_config(fresh_emulator.url, tmp_path / "cache")
    expected = len(raw_query(fresh_emulator.url, "SELECT Id FROM Account"))
    fresh_emulator.reset_log()
    fresh_emulator.configure(fail="expire:1")
    result = run_tap(config, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(records(result.stdout)) == expected
    log = fresh_emulator.requests()
    expired = [r for r in log if r["status"] == 401]
    assert expired
    # One token request per expiry, no storm: each 401 is followed by one renewal.
    assert len(token_grants(fresh_emulator)) == len(expired) + 1


class RefusingOrg(BaseHTTPRequestHandler):
    """Issues tokens, then answers every REST call 401, as an org that disabled API access."""

    token_requests = 0

    def do_POST(self) -> None:
        RefusingOrg.token_requests += 1
        self.rfile.read(int(self.headers["Content-Length"]))
        host = f"http://{self.headers['Host']}"
        self._answer(200, {"access_token": f"t{RefusingOrg.token_requests}", "instance_url": host})

    def do_GET(self) -> None:
        self._answer(
            401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
        )

    def _answer(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_: object) -> None:
        pass


def test_second_401_after_a_renewal_is_an_auth_error() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), RefusingOrg)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        client = client_for({**config_for(url), "describe_cache_dir": "off"})
        with pytest.raises(exceptions.AuthError, match="API Enabled"):
            client.describe_account()
        client.close()
        assert RefusingOrg.token_requests == 2
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_rotated_refresh_token_is_kept_out_of_the_config_file(
    fresh_emulator: Emulator, tmp_path: Path
) -> None:
    value = first_id(fresh_emulator)
    fresh_emulator.configure(rotate_refresh_tokens=True)
    config = tap_config(fresh_emulator.url, tmp_path / "cache")
    path = tmp_path / "config.json"
    result = run_tap(config, "--account-id", value, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(path.read_text()) == config
    assert "rotated the refresh token" in result.stderr
    # The used one no longer works, yet the same config goes on: the chain has the new one.
    again = run_tap(config, "--discover", tmp_path=tmp_path)
    assert again.returncode == 0, again.stderr


def test_max_api_usage_percent_stops_cleanly_with_state(tmp_path: Path) -> None:
    with Emulator(accounts=5000, seed=3) as emulator:
        # token (not counted), describe -> 948, page 1 -> 949, page 2 -> 950 = 95%: stop.
        emulator.configure(api_limit=1000, api_usage=947)
        config = tap_config(emulator.url, tmp_path / "cache", max_api_usage_percent=95)
        result = run_tap(config, tmp_path=tmp_path)
    assert result.returncode == 8, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert "max_api_usage_percent=95" in last
    assert "950 of its 1000 daily API requests" in last
    got = records(result.stdout)
    assert len(got) == 4000  # two pages read, the third never requested
    state = messages(result.stdout, "STATE")[-1]["value"]["bookmarks"]["Account"]
    assert state["replication_key_value"] == got[-1]["SystemModstamp"]


@pytest.mark.parametrize(
    ("change", "exit_code", "words"),
    [
        pytest.param(
            {"refresh_token": "revoked-token"},
            3,
            "run tap-salesforce-accounts-connect",
            id="invalid-grant",
        ),
        pytest.param({"client_id": "unknown"}, 3, "Consumer Key", id="bad-client-id"),
        pytest.param({"client_secret": "wrong"}, 3, "Consumer Secret", id="bad-client-secret"),
        pytest.param(
            {"login_url": "http://127.0.0.1:9", "max_retries": 0},
            9,
            "cannot reach login_url",
            id="unreachable-host",
        ),
        pytest.param({"login_url": "not a url"}, 2, "is not a URL", id="malformed-login-url"),
        pytest.param({"refresh_token": None}, 2, "needs refresh_token", id="missing-setting"),
        pytest.param(
            {"auth_flow": "jwt_bearer", "username": "u", "private_key": "nope"},
            2,
            "not a usable PEM",
            id="malformed-private-key",
        ),
        pytest.param({"auth_flow": "password"}, 2, "auth_flow", id="unknown-flow"),
    ],
)
def test_auth_failures_say_what_to_do(
    change: dict[str, Any], exit_code: int, words: str, config: dict[str, Any], tmp_path: Path
) -> None:
    changed = {k: v for k, v in {**config, **change}.items() if v is not None}
    result = run_tap(changed, "--discover", tmp_path=tmp_path)
    assert result.returncode == exit_code, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("tap-salesforce-accounts: error: ")
    assert words in last


def test_wrong_login_host_is_named(tmp_path: Path, emulator: Emulator) -> None:
    config = tap_config(emulator.url + "/not-salesforce", tmp_path / "cache")
    result = run_tap(config, "--discover", tmp_path=tmp_path)
    assert result.returncode == 2
    assert "does not answer as a Salesforce login host" in result.stderr.splitlines()[-1]
