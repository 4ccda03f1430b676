"""End-to-end tests of tap-salesforce-accounts-connect against the org, over HTTP.

An HTTP client plays the browser: it opens the authorize URL, follows the emulator's 302 to
the local callback, and reads the page the command answers with.
"""

from __future__ import annotations

import io
import json
import re
import socket
import stat
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests

from tap_salesforce_accounts import connect
from tap_salesforce_accounts.connect import ConnectOptions, run_connect
from tests.emulator import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, Emulator

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

WAIT = 15.0


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port bound but not listening: connecting to it is refused for the whole test."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        yield port


@pytest.fixture(scope="module")
def org() -> Iterator[Emulator]:
    """An emulator of this module's own: the tests issue and revoke tokens in it."""
    with Emulator(accounts=1) as running:
        yield running


class Browser:
    """Plays the browser: GET the authorize URL, then the redirect it answers with.

    ``rewrite`` may change the callback URL before it is visited (a forged state); with
    ``deny``, the browser skips Salesforce and comes back as if the user clicked Deny.
    """

    def __init__(
        self,
        rewrite: Callable[[str], str] | None = None,
        *,
        deny: bool = False,
    ) -> None:
        self.rewrite = rewrite
        self.deny = deny
        self.authorize_url = ""
        self.authorize_answer: requests.Response | None = None
        self.code = ""
        self.page: requests.Response | None = None
        self.errors: list[BaseException] = []

    def __call__(self, url: str) -> bool:
        self.authorize_url = url
        sent = {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
        try:
            with requests.Session() as session:
                if self.deny:
                    location = denied(sent)
                else:
                    answer = session.get(url, allow_redirects=False, timeout=WAIT)
                    self.authorize_answer = answer
                    if answer.status_code != 302:
                        # Salesforce shows the error page and never comes back.
                        return True
                    location = answer.headers["Location"]
                    self.code = parse_qs(urlsplit(location).query)["code"][0]
                    if self.rewrite is not None:
                        location = self.rewrite(location)
                self.page = session.get(location, timeout=WAIT)
        except BaseException as exc:
            self.errors.append(exc)
            raise
        return True


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def forge_state(location: str) -> str:
    return with_query(location, state="forged-state")


def denied(sent: dict[str, str]) -> str:
    # What Salesforce sends when the user clicks Deny.
    query = urlencode(
        {
            "error": "access_denied",
            "error_description": "end-user denied authorization",
            "state": sent["state"],
        }
    )
    return f"{sent['redirect_uri']}?{query}"


def run(
    options: ConnectOptions,
    browser: Callable[[str], object],
    *,
    timeout: float = WAIT,
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_connect(options, open_browser=browser, out=out, err=err, timeout=timeout)
    return code, out.getvalue(), err.getvalue()


def options_for(org: Emulator, config: Path, **overrides: Any) -> ConnectOptions:
    values: dict[str, Any] = {
        "config": config,
        "login_url": org.url,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "port": 0,  # the callback server picks a free port as it listens
    }
    values.update(overrides)
    return ConnectOptions(**values)


def refresh(org: Emulator, refresh_token: str) -> requests.Response:
    with requests.Session() as session:
        return session.post(
            org.url + "/services/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
            },
            timeout=WAIT,
        )


def assert_no_secrets(
    text: str, org: Emulator, browser: Browser | None = None, *secrets: str
) -> None:
    """No client secret, refresh or access token, authorization code or PKCE verifier."""
    known = [CLIENT_SECRET, REFRESH_TOKEN, *secrets, *org.org.tokens.access]
    known += list(org.org.tokens.refresh)
    if browser is not None and browser.code:
        known.append(browser.code)
    for secret in known:
        assert secret
        assert secret not in text
    if browser is not None and browser.authorize_url:
        # The verifier is the one string whose SHA-256 is the challenge that was sent.
        query = parse_qs(urlsplit(browser.authorize_url).query)
        challenge = query["code_challenge"][0]
        for word in re.findall(r"[A-Za-z0-9._~-]{43,128}", text):
            assert connect.code_challenge(word) != challenge


def assert_one_error_line(err: str, *fragments: str) -> None:
    assert err.endswith("\n")
    assert err.count("\n") == 1, err
    assert err.startswith("tap-salesforce-accounts-connect: error: ")
    for fragment in fragments:
        assert fragment in err


def test_connect_writes_a_working_refresh_token(org: Emulator, tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"index_field": "Customer_Key__c", "api_version": "62.0"}))
    browser = Browser()
    org.reset_log()

    code, out, err = run(options_for(org, config), browser)

    assert (code, err) == (0, ""), err
    assert not browser.errors
    assert browser.page is not None
    assert browser.page.status_code == 200
    assert "Connected" in browser.page.text
    saved = json.loads(config.read_text())
    assert saved["index_field"] == "Customer_Key__c"
    assert saved["api_version"] == "62.0"
    assert saved["client_id"] == CLIENT_ID
    assert saved["client_secret"] == CLIENT_SECRET
    assert saved["login_url"] == org.url
    assert saved["instance_url"].startswith("http")
    assert saved["refresh_token"]
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    # The authorize request carried PKCE S256, a state and the documented scope and prompt.
    sent = parse_qs(urlsplit(browser.authorize_url).query)
    assert sent["code_challenge_method"] == ["S256"]
    assert sent["response_type"] == ["code"]
    assert sent["scope"] == ["api refresh_token"]
    assert sent["prompt"] == ["login consent"]
    assert len(sent["state"][0]) >= 32
    assert sent["redirect_uri"] == [
        f"http://localhost:{urlsplit(sent['redirect_uri'][0]).port}/callback"
    ]
    # The new refresh token works for the tap's grant.
    answer = refresh(org, saved["refresh_token"])
    assert answer.status_code == 200, answer.text
    access_token = answer.json()["access_token"]
    # The summary names the org, the file and the Meltano commands, never a secret.
    assert saved["instance_url"] in out
    assert str(config.resolve()) in out
    assert "meltano config set tap-salesforce-accounts refresh_token --from-file -" in out
    assert "http://localhost:" in out
    assert_no_secrets(out + err + browser.page.text, org, browser, access_token)
    # One authorize, one code exchange: no retries behind the person's back.
    kinds = [(entry["kind"], entry["grant_type"]) for entry in org.requests()]
    assert kinds.count(("authorize", None)) == 1
    assert kinds.count(("token", "authorization_code")) == 1


def test_connect_creates_the_config_file_and_keeps_a_secret_only_when_given(
    org: Emulator, tmp_path: Path
) -> None:
    config = tmp_path / "new" / "config.json"
    # client_secret is optional with PKCE when the app does not require it.
    options = options_for(org, config, client_secret=None)

    code, _out, err = run(options, Browser())

    assert (code, err) == (0, "")
    saved = json.loads(config.read_text())
    assert set(saved) == {"client_id", "refresh_token", "instance_url", "login_url"}
    assert stat.S_IMODE(config.stat().st_mode) == 0o600


def test_state_mismatch_writes_nothing(org: Emulator, tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    before = json.dumps({"client_id": CLIENT_ID, "login_url": org.url})
    config.write_text(before)
    browser = Browser(forge_state)

    code, out, err = run(options_for(org, config, client_id=None), browser)

    assert code == 3
    assert_one_error_line(err, "state", "nothing was written")
    assert config.read_text() == before
    assert browser.page is not None
    assert browser.page.status_code == 400
    assert_no_secrets(out + err, org, browser)


def test_access_denied_in_the_browser(org: Emulator, tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    browser = Browser(deny=True)

    code, out, err = run(options_for(org, config), browser)

    assert code == 3
    assert_one_error_line(err, "access_denied", "not allowed")
    assert not config.exists()
    assert browser.page is not None
    assert "Not connected" in browser.page.text
    assert_no_secrets(out + err, org, browser)


def test_wrong_client_secret(org: Emulator, tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    browser = Browser()

    code, out, err = run(options_for(org, config, client_secret="not-the-secret"), browser)

    assert code == 3
    assert_one_error_line(err, "invalid_client", "client_secret", "Consumer Secret")
    assert not config.exists()
    assert "not-the-secret" not in out + err
    assert_no_secrets(out + err, org, browser)


def test_unknown_client_id_ends_at_the_wait(org: Emulator, tmp_path: Path) -> None:
    # Salesforce answers an unknown client_id with an error page, never a redirect.
    config = tmp_path / "config.json"
    browser = Browser()

    code, _out, err = run(
        options_for(org, config, client_id="not-a-consumer-key"), browser, timeout=1
    )

    assert browser.authorize_answer is not None
    assert browser.authorize_answer.json()["error"] == "invalid_client_id"
    assert code == 9
    assert_one_error_line(err, "invalid_client_id", "--client-id")
    assert not config.exists()


def test_unreachable_login_url(tmp_path: Path, closed_port: int) -> None:
    config = tmp_path / "config.json"
    login_url = f"http://127.0.0.1:{closed_port}"
    browser = Browser()
    options = ConnectOptions(config=config, login_url=login_url, client_id=CLIENT_ID)

    code, _out, err = run(options, browser)

    assert code == 9
    assert_one_error_line(err, "cannot reach login_url", login_url)
    assert browser.authorize_url == ""
    assert not config.exists()


def test_no_redirect_before_the_timeout(org: Emulator, tmp_path: Path) -> None:
    config = tmp_path / "config.json"

    code, out, err = run(options_for(org, config, no_browser=True), Browser(), timeout=0.3)

    assert code == 9
    assert_one_error_line(err, "redirect_uri_mismatch", "Callback URL")
    assert "/services/oauth2/authorize?" in out
    assert not config.exists()


def test_busy_port(org: Emulator, tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        browser = Browser()

        code, _out, err = run(options_for(org, config, port=port), browser)

    assert code == 2
    assert_one_error_line(err, f"127.0.0.1:{port}", "--port")
    assert browser.authorize_url == ""


def test_missing_client_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.json"
    config.write_text("{}")

    code = connect.main(["--config", str(config), "--no-browser"])

    captured = capsys.readouterr()
    assert code == 2
    assert_one_error_line(captured.err, "client_id", "--client-id")


def test_unreadable_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.json"
    config.write_text("{not json")

    code = connect.main(["--config", str(config), "--client-id", CLIENT_ID])

    assert code == 2
    assert_one_error_line(capsys.readouterr().err, "not valid JSON")


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert connect.main(["--help"]) == 0
    help_text = capsys.readouterr().out
    for option in ("--config", "--login-url", "--client-id", "--client-secret", "--port"):
        assert option in help_text
    assert "--no-browser" in help_text
    assert "--revoke" in help_text


def test_revoke(org: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.json"
    code, _out, err = run(options_for(org, config), Browser())
    assert (code, err) == (0, "")
    token = json.loads(config.read_text())["refresh_token"]
    assert refresh(org, token).status_code == 200

    code = connect.main(["--config", str(config), "--revoke"])

    captured = capsys.readouterr()
    assert (code, captured.err) == (0, "")
    assert "Revoked" in captured.out
    saved = json.loads(config.read_text())
    assert "refresh_token" not in saved
    assert saved["client_id"] == CLIENT_ID
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    answer = refresh(org, token)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"
    assert_no_secrets(captured.out + captured.err, org, None, token)


def test_revoke_without_a_token(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"client_id": CLIENT_ID}))

    code = connect.main(["--config", str(config), "--revoke"])

    assert code == 2
    assert_one_error_line(capsys.readouterr().err, "nothing to revoke")


def test_code_challenge_is_s256_of_the_verifier() -> None:
    verifier = connect.new_code_verifier()
    assert 43 <= len(verifier) <= 128
    # RFC 7636, appendix B.
    assert (
        connect.code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )


def test_revoke_refused_keeps_the_file(
    org: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.json"
    before = json.dumps({"refresh_token": "5Aep-unknown-token", "login_url": org.url})
    config.write_text(before)

    code = connect.main(["--config", str(config), "--revoke"])

    captured = capsys.readouterr()
    assert code == 3
    assert_one_error_line(captured.err, "did not revoke", "--login-url", "delete refresh_token")
    assert "5Aep-unknown-token" not in captured.out + captured.err
    assert config.read_text() == before
