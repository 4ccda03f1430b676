"""The login host as Salesforce runs it: maintenance pages, 429s, hangs, drops, and TLS only."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import pytest

from tap_salesforce_accounts import exceptions
from tap_salesforce_accounts.auth import OAuthSettings
from tap_salesforce_accounts.client import ClientSettings, SalesforceClient
from tap_salesforce_accounts.connect import ConnectOptions, run_connect
from tap_salesforce_accounts.hook import SessionHook
from tap_salesforce_accounts.token_endpoint import describe_oauth_error
from tests.emulator import CLIENT_ID, Emulator
from tests.helpers import raw_query, records, run_tap, tap_config

if TYPE_CHECKING:
    from pathlib import Path


def token_answers(emulator: Emulator) -> list[int]:
    return [r["status"] for r in emulator.requests() if r["kind"] == "token"]


@pytest.mark.parametrize(
    ("fault", "retry_after"),
    [
        pytest.param("login503:2", None, id="maintenance-page"),
        pytest.param("login429:2:3", 3.0, id="too-many-requests"),
        pytest.param("logindrop:2", None, id="dropped-connection"),
        pytest.param("loginhang:2", None, id="no-answer"),
    ],
)
def test_a_renewal_that_meets_a_login_host_fault_is_retried(
    fault: str, retry_after: float | None, fresh_emulator: Emulator, tmp_path: Path
) -> None:
    waits: list[float] = []
    config = tap_config(fresh_emulator.url, tmp_path / "cache", token_timeout_seconds=0.5)
    client = SalesforceClient(
        OAuthSettings.from_config(config), ClientSettings.from_config(config), sleep=waits.append
    )
    fresh_emulator.configure(fail=fault)
    first = client.tokens.token()  # token request 1 is answered
    renewed = client.tokens.invalidate(first)  # 2 meets the fault, 3 is answered
    client.close()
    assert renewed.access_token != first.access_token
    assert len(waits) == 1
    if retry_after is not None:
        assert waits == [retry_after]
    assert client.token_calls == 1 + 1  # one renewal, whatever it took
    assert token_answers(fresh_emulator)[0] == 200


def test_a_full_extraction_under_login_503s_delivers_every_account(
    fresh_emulator: Emulator, tmp_path: Path
) -> None:
    expected = {r["Id"] for r in raw_query(fresh_emulator.url, "SELECT Id FROM Account")}
    fresh_emulator.reset_log()
    # Every access token dies after 1 call; every second token request meets maintenance.
    fresh_emulator.configure(fail="expire:1,login503:2")
    result = run_tap(tap_config(fresh_emulator.url, tmp_path / "cache"), tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    got = [r["Id"] for r in records(result.stdout)]
    assert len(got) == len(set(got))
    assert set(got) == expected
    assert 503 in token_answers(fresh_emulator)
    assert "Retrying the token request" in result.stderr


def test_an_oauth_refusal_is_never_retried(fresh_emulator: Emulator, tmp_path: Path) -> None:
    config = tap_config(fresh_emulator.url, tmp_path / "cache", refresh_token="revoked")
    fresh_emulator.reset_log()
    result = run_tap(config, "--discover", tmp_path=tmp_path)
    assert result.returncode == 3, result.stderr
    assert "invalid_grant" in result.stderr.splitlines()[-1]
    assert token_answers(fresh_emulator) == [400]


def test_a_login_host_that_never_answers_is_named_while_waited_on(
    fresh_emulator: Emulator, tmp_path: Path
) -> None:
    fresh_emulator.configure(fail="loginhang:1")
    config = tap_config(
        fresh_emulator.url, tmp_path / "cache", token_timeout_seconds=0.5, max_retries=1
    )
    result = run_tap(config, "--discover", tmp_path=tmp_path)
    assert result.returncode == 9, result.stderr
    lines = result.stderr.strip().splitlines()
    waiting = [line for line in lines if "Waiting for the login host to answer" in line]
    assert len(waiting) == 2  # one line per attempt
    assert f"{fresh_emulator.url}/services/oauth2/token" in waiting[0]
    assert "cannot reach login_url" in lines[-1]
    assert "ReadTimeout" in lines[-1]


PLAIN_HTTP = "http://login.salesforce.com"
LIGHTNING = "https://acme.lightning.force.com"


@pytest.mark.parametrize(
    ("login_url", "words"),
    [
        pytest.param(PLAIN_HTTP, "credentials travel only over TLS", id="plain-http"),
        pytest.param(LIGHTNING, "https://acme.my.salesforce.com", id="lightning-host"),
    ],
)
def test_a_login_url_credentials_must_not_go_to_is_refused_everywhere(
    login_url: str, words: str, config: dict[str, Any], tmp_path: Path
) -> None:
    result = run_tap({**config, "login_url": login_url}, "--discover", tmp_path=tmp_path)
    assert result.returncode == 2
    assert words in result.stderr.strip().splitlines()[-1]

    with pytest.raises(exceptions.ConfigError, match=words):
        SessionHook(
            {**config, "login_url": login_url, "hook_store_url": f"sqlite:///{tmp_path / 'h.db'}"}
        )

    out, err = io.StringIO(), io.StringIO()
    options = ConnectOptions(config=tmp_path / "c.json", login_url=login_url, client_id=CLIENT_ID)
    code = run_connect(options, open_browser=lambda _: False, out=out, err=err)
    assert code == 2
    assert words in err.getvalue()
    assert err.getvalue().count("\n") == 1
    assert not (tmp_path / "c.json").exists()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_plain_http_is_accepted_on_this_machine(host: str) -> None:
    settings = OAuthSettings.from_config(
        {"client_id": "c", "refresh_token": "r", "login_url": f"http://{host}:8080/"}
    )
    assert settings.login_url == f"http://{host}:8080"


def test_an_external_client_app_through_a_generic_login_host_is_told_to_use_my_domain(
    tmp_path: Path,
) -> None:
    with Emulator(accounts=5, seed=2, external_client_app=True) as org:
        config = tap_config(org.url, tmp_path / "cache")
        refused = run_tap(config, "--discover", tmp_path=tmp_path)
        assert refused.returncode == 3
        last = refused.stderr.strip().splitlines()[-1]
        assert "app_not_found" in last
        assert "My Domain URL" in last
        assert "login_url" in last
        # Reached by its own name, the org's My Domain knows the app.
        my_domain = org.url.replace("127.0.0.1", "localhost")
        connected = run_tap({**config, "login_url": my_domain}, "--discover", tmp_path=tmp_path)
        assert connected.returncode == 0, connected.stderr


def test_invalid_app_access_gets_the_same_advice() -> None:
    said = describe_oauth_error("jwt_bearer", "invalid_app_access", "user is not admin approved")
    assert "My Domain URL" in said
    assert "invalid_app_access" in said
