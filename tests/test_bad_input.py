"""Bad settings, files and states: one line on stderr, the documented exit code, nothing lost."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest

from tests.helpers import TAP, messages, raw_query, records, run_tap, tap_config, write_json

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.emulator import Emulator


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    return result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        pytest.param({"max_retries": "x"}, "max_retries", id="text-for-an-integer"),
        pytest.param({"include_deleted": "yes"}, "include_deleted", id="text-for-a-boolean"),
        pytest.param({"index_field": 5}, "index_field", id="number-for-a-string"),
        pytest.param({"client_id": "removed"}, "client_id", id="missing-client-id"),
        pytest.param({"request_timeout": -1}, "request_timeout", id="negative-timeout"),
        pytest.param({"max_retries": None}, "", id="null-takes-the-default"),
        pytest.param({"api_version": "abc"}, "api_version", id="bad-api-version"),
        pytest.param({"max_api_usage_percent": 150}, "max_api_usage_percent", id="over-100"),
    ],
)
def test_bad_settings_are_one_line_and_exit_2(
    change: dict[str, Any], words: str, config: dict[str, Any], tmp_path: Path
) -> None:
    changed = {**config, **change}
    if "client_id" in change:
        del changed["client_id"]
    result = run_tap(changed, "--discover", tmp_path=tmp_path)
    if not words:  # a null setting means "use the default"
        assert result.returncode == 0, result.stderr
        return
    assert result.returncode == 2, result.stderr
    assert last_line(result).startswith("tap-salesforce-accounts: error: ")
    assert words in last_line(result)
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("option", "content", "words"),
    [
        pytest.param("--state", "{bad", "not valid JSON", id="state-not-json"),
        pytest.param("--state", '{"bookmarks": 5}', "bookmarks", id="state-wrong-shape"),
        pytest.param("--catalog", "[]", "JSON object", id="catalog-not-an-object"),
        pytest.param("--catalog", '{"streams": 1}', "streams list", id="catalog-wrong-shape"),
    ],
)
def test_bad_state_or_catalog_files_exit_2(
    option: str, content: str, words: str, config: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "input.json"
    path.write_text(content, encoding="utf-8")
    result = run_tap(config, option, str(path), tmp_path=tmp_path)
    assert result.returncode == 2, result.stderr
    assert words in last_line(result)
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("content", [None, "{bad", "[1, 2]"])
def test_bad_config_files_exit_2(content: str | None, tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    result = subprocess.run(
        [str(TAP), "--config", str(path), "--discover"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "config file" in last_line(result)
    assert "Traceback" not in result.stderr


def test_number_settings_work_as_environment_variables(
    config: dict[str, Any], tmp_path: Path
) -> None:
    env = {
        "TAP_SALESFORCE_ACCOUNTS_REQUEST_TIMEOUT": "30.5",
        "TAP_SALESFORCE_ACCOUNTS_DESCRIBE_CACHE_MAX_AGE_SECONDS": "0",
        "TAP_SALESFORCE_ACCOUNTS_MAX_API_USAGE_PERCENT": "99",
    }
    result = run_tap(config, "--config", "ENV", "--discover", tmp_path=tmp_path, env=env)
    assert result.returncode == 0, result.stderr


def test_final_records_reach_stdout_even_when_the_state_does_not_change(
    fresh_emulator: Emulator, tmp_path: Path
) -> None:
    config = tap_config(fresh_emulator.url, tmp_path / "cache")
    first = run_tap(config, tmp_path=tmp_path)
    state = messages(first.stdout, "STATE")[-1]["value"]
    bookmark = state["bookmarks"]["Account"]["replication_key_value"]
    # Re-reading from the bookmark yields the Accounts at its timestamp, and the same state.
    second = run_tap(config, tmp_path=tmp_path, state=state)
    assert second.returncode == 0, second.stderr
    again = records(second.stdout)
    at_bookmark = [r for r in records(first.stdout) if r["SystemModstamp"] == bookmark]
    assert [r["Id"] for r in again] == [r["Id"] for r in at_bookmark]


@pytest.mark.parametrize("form", ["Z", "+05:30", "+0000"])
def test_a_bookmark_in_another_rfc3339_form_resumes(
    form: str, fresh_emulator: Emulator, tmp_path: Path
) -> None:
    config = tap_config(fresh_emulator.url, tmp_path / "cache")
    newest = raw_query(
        fresh_emulator.url,
        "SELECT SystemModstamp FROM Account ORDER BY SystemModstamp DESC LIMIT 1",
    )[0]["SystemModstamp"]  # 2024-01-04T00:14:24.000+0000
    text = {
        "Z": newest.replace(".000+0000", "Z"),
        "+0000": newest,
        "+05:30": "2021-01-01T05:30:00+05:30",
    }[form]
    state = {
        "bookmarks": {
            "Account": {"replication_key": "SystemModstamp", "replication_key_value": text}
        }
    }
    result = run_tap(config, tmp_path=tmp_path, state=state)
    assert result.returncode == 0, result.stderr
    assert records(result.stdout)
    final = messages(result.stdout, "STATE")[-1]["value"]["bookmarks"]["Account"]
    assert final["replication_key_value"].endswith("+00:00")


def test_external_id_value_over_4000_characters_is_invalid(
    config: dict[str, Any], tmp_path: Path
) -> None:
    changed = {**config, "index_field": "Customer_Key__c"}
    result = run_tap(changed, "--account-id", "x" * 4001, tmp_path=tmp_path)
    assert result.returncode == 6
    assert "4,000" in last_line(result)


def test_a_malformed_id_costs_no_call(fresh_emulator: Emulator, tmp_path: Path) -> None:
    config = tap_config(fresh_emulator.url, tmp_path / "cache")
    fresh_emulator.reset_log()
    result = run_tap(config, "--account-id", "abc", tmp_path=tmp_path)
    assert result.returncode == 6
    assert fresh_emulator.requests() == []


def test_hook_subprocess_mode_reports_the_same_codes_as_in_process(
    config: dict[str, Any], tmp_path: Path
) -> None:
    path = write_json(
        tmp_path / "hook.json",
        # A generous deadline: the codes are checked, and a loaded machine starts a child slowly.
        {**config, "hook_store_url": f"sqlite:///{tmp_path}/h.db", "lookup_timeout_seconds": 120},
    )
    codes = []
    for mode in ("in_process", "subprocess"):
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "tap_salesforce_accounts.hook",
                "--config",
                str(path),
                "--mode",
                mode,
                "lookup",
                "abc",
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        codes.append(json.loads(result.stdout)["error"]["code"])
    assert codes == ["malformed_id", "malformed_id"]


class NotSalesforce(BaseHTTPRequestHandler):
    """A web server that is not Salesforce: HTML for everything."""

    def do_POST(self) -> None:
        body = b"<html><body>Welcome</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def web_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), NotSalesforce)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_a_login_url_that_is_not_salesforce_is_a_config_error(
    web_server: str, config: dict[str, Any], tmp_path: Path
) -> None:
    result = run_tap({**config, "login_url": web_server}, "--discover", tmp_path=tmp_path)
    assert result.returncode == 2
    assert "does not answer as a Salesforce login host" in last_line(result)


def test_debug_logs_carry_no_lookup_value(config: dict[str, Any], tmp_path: Path) -> None:
    value = "CUST/SLASH/001"
    env = {"LOGLEVEL": "DEBUG", "TAP_SALESFORCE_ACCOUNTS_LOGLEVEL": "DEBUG"}
    changed = {**config, "index_field": "Customer_Key__c"}
    result = run_tap(changed, "--account-id", value, tmp_path=tmp_path, env=env)
    assert "DEBUG" in result.stderr
    for form in (value, "CUST%2FSLASH%2F001", "CUST/SLASH"):
        assert form not in result.stderr


def test_hook_status_needs_no_salesforce_settings(config: dict[str, Any], tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path}/h.db"
    connected = write_json(tmp_path / "hook.json", {**config, "hook_store_url": store})
    lookup = [sys.executable, "-m", "tap_salesforce_accounts.hook", "--config"]
    subprocess.run([*lookup, str(connected), "lookup", "abc"], check=False, timeout=60)
    # The same integration, its credentials gone: the status still shows the last error.
    bare = write_json(tmp_path / "bare.json", {"hook_store_url": store})
    for command in ("status", "history"):
        result = subprocess.run(
            [*lookup, str(bare), command], capture_output=True, text=True, check=False, timeout=60
        )
        assert result.returncode == 0, result.stderr
        answer = json.loads(result.stdout)
        last = answer["last_error"] if command == "status" else answer[0]["error"]
        assert last["code"] == "malformed_id"
