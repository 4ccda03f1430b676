"""The session hook over real HTTP against the emulator, with real SQLite and PostgreSQL stores."""

from __future__ import annotations

import datetime as dt
import json
import logging
import multiprocessing
import signal
import socket
import subprocess
import threading
import time
from typing import TYPE_CHECKING, Any

import pytest

from tap_salesforce_accounts.exceptions import AuthError, ConfigError
from tap_salesforce_accounts.hook import LookupResult, SessionHook, StoreError
from tests.emulator import CLIENT_SECRET, ORG_ID, REFRESH_TOKEN, Emulator
from tests.hook_fixtures import (  # noqa: F401  (fixtures)
    dump_tables,
    fixture_config,
    fixture_emu,
    fixture_emulator,
    fixture_make_hook,
    fixture_pg_server,
    fixture_pg_url,
    hook_config,
    lookup_in_child,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    MakeHook = Callable[..., SessionHook]

# Every access token the emulator issues starts with the org Id's first 15 characters and "!".
ACCESS_TOKEN_PREFIX = ORG_ID[:15] + "!"
CONTRACT_KEYS = {"status", "account", "error", "synced_at"}


def rest_requests(emu: Emulator, since: int = 0) -> list[dict[str, Any]]:
    """Request log entries after the first ``since``, without the emulator's admin calls."""
    return [entry for entry in emu.requests()[since:] if entry["kind"] != "admin"]


def parse_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


# -- answers -------------------------------------------------------------------------------


def test_lookup_ok_by_external_id(make_hook: MakeHook) -> None:
    hook = make_hook()
    before = time.time()
    result = hook.lookup("CUST-000123")
    assert result.status == "ok"
    document = result.to_json()
    assert set(document) == CONTRACT_KEYS
    assert document["error"] is None
    assert document["account"]["Customer_Key__c"] == "CUST-000123"
    assert document["account"]["Id"].startswith("001")
    synced = parse_time(document["synced_at"]).timestamp()
    assert before - 1 <= synced <= time.time() + 1
    assert json.loads(result.dumps())["account"]["Id"] == document["account"]["Id"]


def test_lookup_by_id(make_hook: MakeHook) -> None:
    account_id = make_hook().lookup("CUST-000107").account["Id"]  # type: ignore[index]
    by_id = make_hook(index_field="Id")
    assert by_id.lookup(account_id).account["Customer_Key__c"] == "CUST-000107"  # type: ignore[index]
    # 15-character Ids are accepted too.
    assert by_id.lookup(account_id[:15]).status == "ok"


def test_not_found_is_an_answer(make_hook: MakeHook) -> None:
    hook = make_hook()
    result = hook.lookup("CUST-999999")
    assert result.to_json() == {
        "status": "not_found",
        "account": None,
        "error": None,
        "synced_at": None,
    }
    status = hook.status()
    assert status["last_success_at"] is not None
    assert status["last_failure_at"] is None


@pytest.mark.parametrize(
    ("settings", "value", "code"),
    [
        pytest.param({"index_field": "Id"}, "001XYZ", "malformed_id", id="malformed-id"),
        pytest.param(
            {"index_field": "Legacy_Ref__c"}, "LEG-SHARED-001", "multiple_matches", id="several"
        ),
        pytest.param({"index_field": "Industry"}, "Energy", "index_field_error", id="index-field"),
        pytest.param({"refresh_token": "revoked"}, "CUST-000101", "auth_error", id="auth"),
        pytest.param({}, "", "invalid_value", id="empty-value"),
    ],
)
def test_errors_are_answers(
    make_hook: MakeHook, settings: dict[str, Any], value: str, code: str
) -> None:
    hook = make_hook(**settings)
    result = hook.lookup(value)
    assert result.status == "error"
    assert result.error is not None
    assert result.error.code == code
    assert "\n" not in result.error.message
    assert result.account is None
    assert result.synced_at is None
    status = hook.status()
    assert status["last_error"]["code"] == code
    assert status["failures"] == 1


# -- one round trip, one token, one describe -----------------------------------------------


def test_warm_lookups_make_one_request_each(make_hook: MakeHook, emu: Emulator) -> None:
    hook = make_hook()
    cold = hook.lookup("CUST-000101")
    assert cold.status == "ok"
    assert [entry["kind"] for entry in rest_requests(emu)] == [
        "token",
        "describe",
        "sobject_by_external_id",
    ]
    assert cold.salesforce_calls == 3
    for n in range(2, 12):
        seen = len(emu.requests())
        result = hook.lookup(f"CUST-{n + 300:06d}")
        assert result.status == "ok"
        assert [entry["kind"] for entry in rest_requests(emu, seen)] == ["sobject_by_external_id"]
        assert result.salesforce_calls == 1
    history = hook.history(limit=11)
    assert [row["salesforce_calls"] for row in history] == [1] * 10 + [3]
    # fields() reads the describe the tap already holds.
    seen = len(emu.requests())
    assert any(field["name"] == "Customer_Key__c" for field in hook.fields())
    assert rest_requests(emu, seen) == []


def test_warm_up_makes_the_first_lookup_warm(make_hook: MakeHook, emu: Emulator) -> None:
    hook = make_hook()
    hook.warm_up()
    assert [entry["kind"] for entry in rest_requests(emu)] == ["token", "describe"]
    assert hook.lookup("CUST-000105").salesforce_calls == 1
    assert hook.history()[0]["salesforce_calls"] == 1


def test_warm_up_raises_what_salesforce_refused(make_hook: MakeHook) -> None:
    hook = make_hook(refresh_token="revoked")
    with pytest.raises(AuthError):
        hook.warm_up()


def test_fields(make_hook: MakeHook) -> None:
    fields = {field["name"]: field for field in make_hook().fields()}
    assert fields["Id"] == {
        "name": "Id",
        "label": "Account ID",
        "type": "id",
        "nillable": False,
        "can_be_index_field": True,
    }
    assert fields["Customer_Key__c"]["can_be_index_field"] is True
    assert fields["Industry"]["can_be_index_field"] is False
    assert fields["Description"]["can_be_index_field"] is False
    assert all(set(field) == set(fields["Id"]) for field in fields.values())


# -- status and history --------------------------------------------------------------------


def test_status_and_history(make_hook: MakeHook, emu: Emulator) -> None:
    hook = make_hook(hook_integration_id="org-a", max_retries=1)
    assert hook.status()["last_success_at"] is None
    assert hook.lookup("CUST-000110").status == "ok"
    emu.configure(fail="503:1")
    failed = hook.lookup("CUST-000111")
    assert failed.status == "error"
    assert failed.error is not None
    assert failed.error.code == "unavailable"
    status = hook.status()
    assert status["integration_id"] == "org-a"
    assert status["successes"] == 1
    assert status["failures"] == 1
    assert status["last_error"]["code"] == "unavailable"
    assert status["last_error"]["at"] == status["last_failure_at"]
    assert parse_time(status["last_failure_at"]) >= parse_time(status["last_success_at"])
    assert status["store"].startswith("sqlite:///")
    newest, oldest = hook.history()
    assert (newest["status"], oldest["status"]) == ("error", "ok")
    assert newest["error"]["code"] == "unavailable"
    # The emulator answered 503 twice: the first try and the retry.
    assert newest["salesforce_calls"] == 2
    assert oldest["api_usage"]["limit"] > 0
    assert oldest["duration_ms"] > 0
    assert oldest["mode"] == "in_process"
    # Another integration in the same store sees none of it.
    other = make_hook(hook_integration_id="org-b")
    assert other.status()["successes"] == 0
    assert other.history() == []


# -- stale fallback ------------------------------------------------------------------------


def test_stale_fallback_off_by_default(make_hook: MakeHook, emu: Emulator) -> None:
    hook = make_hook(max_retries=0)
    assert hook.lookup("CUST-000120").status == "ok"
    emu.configure(fail="503:1")
    assert hook.lookup("CUST-000120").status == "error"


def test_stale_fallback_answers_with_the_last_good_fields(
    make_hook: MakeHook, emu: Emulator
) -> None:
    hook = make_hook(stale_fallback=True, stale_max_age_seconds=600, max_retries=0)
    good = hook.lookup("CUST-000121")
    hook.status()  # the last good fields are written
    emu.configure(fail="503:1")
    stale = hook.lookup("CUST-000121")
    assert stale.status == "stale"
    assert stale.account == good.account
    assert stale.synced_at == good.synced_at
    document = stale.to_json()
    assert set(document) == CONTRACT_KEYS | {"stale_age_seconds"}
    assert 0 <= document["stale_age_seconds"] < 60
    assert document["error"]["code"] == "unavailable"
    # A value never read before has nothing to fall back on.
    assert hook.lookup("CUST-000122").status == "error"
    status = hook.status()
    assert (status["successes"], status["failures"]) == (1, 2)
    assert [row["status"] for row in hook.history()] == ["error", "stale", "ok"]


def test_stale_fallback_respects_the_maximum_age(make_hook: MakeHook, emu: Emulator) -> None:
    now = [time.time()]
    hook = make_hook(
        stale_fallback=True, stale_max_age_seconds=60, max_retries=0, clock=lambda: now[0]
    )
    assert hook.lookup("CUST-000130").status == "ok"
    hook.status()
    emu.configure(fail="503:1")
    now[0] += 30
    assert hook.lookup("CUST-000130").status == "stale"
    now[0] += 60
    assert hook.lookup("CUST-000130").status == "error"


def test_stale_fallback_is_not_used_for_several_matches(make_hook: MakeHook) -> None:
    hook = make_hook(stale_fallback=True, index_field="Legacy_Ref__c")
    assert hook.lookup("LEG-SHARED-001").error.code == "multiple_matches"  # type: ignore[union-attr]


# -- the deadline --------------------------------------------------------------------------


@pytest.fixture(name="slow_emulator")
def fixture_slow_emulator() -> Iterator[Emulator]:
    """An emulator of its own: slow answers finish after the test, out of the others' logs."""
    with Emulator(accounts=200, seed=2) as emulator:
        yield emulator


def test_deadline_with_a_slow_salesforce(slow_emulator: Emulator, tmp_path: Path) -> None:
    config = hook_config(slow_emulator.url, tmp_path, lookup_timeout_seconds=1.5)
    with SessionHook(config) as hook:
        hook.warm_up()  # token and describe now, not within the first lookup's deadline
        assert hook.lookup("CUST-000101").status == "ok"
        slow_emulator.configure(fail="slow:6000")
        result = hook.lookup("CUST-000102")
        # Salesforce is still composing its answer (the emulator logs a request once it
        # answered): the lookup ended at its deadline, not at the answer.
        assert not [r for r in slow_emulator.requests() if "CUST-000102" in r["path"]]
        assert result.status == "error"
        assert result.error is not None
        assert result.error.code == "timeout"
        status = hook.status()
        assert status["last_error"]["code"] == "timeout"
        assert hook.history(1)[0]["status"] == "error"
        # The worker's retry, once Salesforce is fast again, ends before close() returns.
        slow_emulator.configure(fail="")


def test_deadline_with_an_unresponsive_login_host(tmp_path: Path) -> None:
    # Accepts connections (the kernel's backlog) and never answers.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        config = hook_config(url, tmp_path, lookup_timeout_seconds=0.3)
        hook = SessionHook(config)
        try:
            # The host never answers: an answer at all means the deadline ended the wait.
            result = hook.lookup("CUST-000101")
            assert result.error is not None
            assert result.error.code == "timeout"
        finally:
            silent.close()  # resets the pending connection: the worker ends at once
            hook.close()


def test_unreachable_salesforce_is_an_error(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with SessionHook(hook_config(f"http://127.0.0.1:{port}", tmp_path)) as hook:
        result = hook.lookup("CUST-000101")
    assert result.status == "error"
    assert result.error is not None
    assert result.error.code == "unavailable"


# -- concurrency ---------------------------------------------------------------------------


def test_32_threads(make_hook: MakeHook, emu: Emulator) -> None:
    hook = make_hook()
    barrier = threading.Barrier(32)
    results: dict[int, LookupResult] = {}

    def look(n: int) -> None:
        barrier.wait()
        results[n] = hook.lookup(f"CUST-{n + 100:06d}" if n % 4 else f"CUST-{n + 900_000:06d}")

    threads = [threading.Thread(target=look, args=(n,)) for n in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for n, result in results.items():
        if n % 4:
            assert result.status == "ok"
            assert result.account["Customer_Key__c"] == f"CUST-{n + 100:06d}"  # type: ignore[index]
        else:
            assert result.status == "not_found"
    status = hook.status()
    assert (status["successes"], status["failures"]) == (32, 0)
    assert len(hook.history(limit=100)) == 32
    kinds = [entry["kind"] for entry in rest_requests(emu)]
    assert kinds.count("token") == 1
    assert kinds.count("describe") == 1
    assert kinds.count("sobject_by_external_id") == 32


def test_32_processes(make_hook: MakeHook, config: dict[str, Any]) -> None:
    make_hook().lookup("CUST-000101")  # the describe is cached on disk for the children
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["tests.hook_fixtures", "tap_salesforce_accounts.hook"])
    values = [f"CUST-{n + 200:06d}" if n % 8 else "CUST-999998" for n in range(32)]
    with context.Pool(processes=32) as pool:
        answers = pool.starmap(lookup_in_child, [(config, value) for value in values])
    documents = [json.loads(answer) for answer in answers]
    assert [d["status"] for d in documents] == [
        "not_found" if n % 8 == 0 else "ok" for n in range(32)
    ]
    hook = make_hook()
    status = hook.status()
    assert (status["successes"], status["failures"]) == (33, 0)
    assert len(hook.history(limit=100)) == 33


# -- a broken store never breaks a lookup --------------------------------------------------


def test_corrupt_store(
    make_hook: MakeHook, config: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    path = config["hook_store_url"].removeprefix("sqlite:///")
    with open(path, "wb") as handle:  # noqa: PTH123
        handle.write(b"garbage, not SQLite " * 500)
    hook = make_hook()
    with caplog.at_level(logging.WARNING):
        assert hook.lookup("CUST-000140").status == "ok"
        assert hook.lookup("CUST-999999").status == "not_found"
        with pytest.raises(StoreError, match="cannot be used"):
            hook.status()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(path in message and "status store" in message for message in warnings)
    # Once a minute at most, however many lookups.
    assert sum("status store problem" in message for message in warnings) == 1


def test_unreachable_postgres_store(make_hook: MakeHook, caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://hook:pg-secret@127.0.0.1:{port}/hooks"
    hook = make_hook(hook_store_url=url)
    with caplog.at_level(logging.WARNING):
        assert hook.lookup("CUST-000141").status == "ok"
        with pytest.raises(StoreError):
            hook.status()
    assert "pg-secret" not in caplog.text
    assert "hook:***@127.0.0.1" in caplog.text


def test_postgres_store(make_hook: MakeHook, pg_url: str) -> None:
    hook = make_hook(hook_store_url=pg_url, stale_fallback=True)
    assert hook.lookup("CUST-000142").status == "ok"
    assert hook.lookup("CUST-999999").status == "not_found"
    status = hook.status()
    assert (status["successes"], status["failures"]) == (2, 0)
    assert status["store"] == pg_url
    assert [row["status"] for row in hook.history()] == ["not_found", "ok"]


def test_lookup_never_raises(make_hook: MakeHook, monkeypatch: pytest.MonkeyPatch) -> None:
    hook = make_hook()

    def explode(value: str, timeout: float) -> None:
        raise RuntimeError(value, timeout)

    monkeypatch.setattr(hook._runner, "run", explode)
    result = hook.lookup("CUST-000143")
    assert result.status == "error"
    assert result.error is not None
    assert result.error.code == "internal_error"
    assert hook.status()["last_error"]["code"] == "internal_error"


# -- secrets -------------------------------------------------------------------------------


def test_no_secret_and_no_value_in_the_store(
    make_hook: MakeHook, config: dict[str, Any], emu: Emulator
) -> None:
    hook = make_hook(max_retries=0)
    hook.lookup("CUST-000144")
    hook.lookup("CUST-999999")
    revoked = make_hook(refresh_token="not-the-" + REFRESH_TOKEN)
    revoked.lookup("CUST-000146")
    several = make_hook(index_field="Legacy_Ref__c")
    several.lookup("LEG-SHARED-001")
    emu.configure(fail="503:1")
    hook.lookup("CUST-000145")
    # Each hook writes in the background: reading its status waits for its writes.
    for each in (hook, revoked, several):
        each.status()
    dumped = json.dumps(dump_tables(config["hook_store_url"]), default=str)
    for secret in (CLIENT_SECRET, REFRESH_TOKEN, ACCESS_TOKEN_PREFIX):
        assert secret not in dumped
    for value in ("CUST-000144", "CUST-999999", "CUST-000145", "CUST-000146", "LEG-SHARED-001"):
        assert value not in dumped
    # The several-matches error quoted the value; the store keeps a message without it.
    assert "several Accounts match the lookup value" in dumped


# -- construction --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "match"),
    [
        pytest.param({"lookup_timeout_seconds": 0}, "lookup_timeout_seconds", id="timeout"),
        pytest.param({"lookup_timeout_seconds": "soon"}, "must be a number", id="timeout-type"),
        pytest.param({"stale_max_age_seconds": -1}, "stale_max_age_seconds", id="max-age"),
        pytest.param({"hook_store_url": "redis://x"}, "unsupported scheme", id="store-url"),
        pytest.param({"hook_integration_id": " "}, "hook_integration_id", id="integration"),
        pytest.param({"client_id": None}, "client_id", id="client-id"),
        pytest.param({"api_version": "sixty"}, "api_version", id="api-version"),
    ],
)
def test_config_errors_fail_at_construction(
    config: dict[str, Any], settings: dict[str, Any], match: str
) -> None:
    with pytest.raises(ConfigError, match=match) as caught:
        SessionHook({k: v for k, v in (config | settings).items() if v is not None})
    assert "\n" not in caught.value.message
    assert CLIENT_SECRET not in caught.value.message


def test_config_file_and_missing_file(config: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    with SessionHook(path) as hook:
        assert hook.lookup("CUST-000147").status == "ok"
    with pytest.raises(ConfigError, match="cannot read the config file"):
        SessionHook(tmp_path / "missing.json")


def test_signal_handlers_are_left_alone(config: dict[str, Any]) -> None:
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    with SessionHook(config):
        assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


def test_closed_hook_answers_an_error(config: dict[str, Any]) -> None:
    hook = SessionHook(config)
    hook.close()
    result = hook.lookup("CUST-000148")
    assert result.status == "error"


# -- subprocess mode -----------------------------------------------------------------------


def test_subprocess_mode(make_hook: MakeHook, emu: Emulator) -> None:
    hook = make_hook(mode="subprocess", max_retries=0)
    ok = hook.lookup("CUST-000150")
    assert ok.status == "ok"
    assert ok.account["Customer_Key__c"] == "CUST-000150"  # type: ignore[index]
    assert set(ok.to_json()) == CONTRACT_KEYS
    assert hook.lookup("CUST-999999").status == "not_found"
    emu.configure(fail="503:1")
    failed = hook.lookup("CUST-000152")
    assert failed.status == "error"
    assert failed.error is not None
    assert failed.error.code == "unavailable"
    assert "503" in failed.error.message
    history = hook.history()
    assert [row["status"] for row in history] == ["error", "not_found", "ok"]
    assert {row["mode"] for row in history} == {"subprocess"}
    emu.configure(fail="")
    assert any(field["name"] == "Customer_Key__c" for field in hook.fields())


def test_subprocess_mode_keeps_the_value_off_the_command_line(
    make_hook: MakeHook, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A command line is visible to every user of the machine (ps, /proc/PID/cmdline).
    command_lines: list[list[str]] = []
    real_run = subprocess.run

    def recording_run(args: list[str], **kwargs: Any) -> Any:
        command_lines.append(list(args))
        return real_run(args, **kwargs)

    monkeypatch.setattr(subprocess, "run", recording_run)
    hook = make_hook(mode="subprocess")
    result = hook.lookup("CUST-000151")
    assert result.status == "ok"
    assert result.account["Customer_Key__c"] == "CUST-000151"  # type: ignore[index]
    assert len(command_lines) == 1
    assert not any("CUST-000151" in arg for arg in command_lines[0])


def test_subprocess_mode_deadline(slow_emulator: Emulator, tmp_path: Path) -> None:
    slow_emulator.configure(fail="slow:5000")
    config = hook_config(slow_emulator.url, tmp_path, lookup_timeout_seconds=1.5)
    with SessionHook(config, mode="subprocess") as hook:
        result = hook.lookup("CUST-000103")
        # Still no answer from Salesforce: the child was given up at the deadline.
        assert not [r for r in slow_emulator.requests() if "CUST-000103" in r["path"]]
        assert result.error is not None
        assert result.error.code == "timeout"
        assert hook.status()["last_error"]["code"] == "timeout"


@pytest.mark.parametrize("mode", ["in_process", "subprocess"])
def test_rotated_refresh_token_is_kept_for_the_next_hook(tmp_path: Path, mode: str) -> None:
    # With rotation on, the old refresh token stops working once used: an org of its own.
    with Emulator(accounts=200, seed=3, rotate_refresh_tokens=True) as emulator:
        path = tmp_path / "config.json"
        config = hook_config(emulator.url, tmp_path)
        path.write_text(json.dumps(config))
        path.chmod(0o400)  # nothing is written into the config
        with SessionHook(path, mode=mode) as hook:  # type: ignore[arg-type]
            assert hook.lookup("CUST-000101").status == "ok"
            assert hook.lookup("CUST-000102").status == "ok"
        assert json.loads(path.read_text()) == config
        with SessionHook(path, mode=mode) as hook:  # type: ignore[arg-type]
            assert hook.lookup("CUST-000103").status == "ok"
        grants = [r for r in emulator.requests() if r["kind"] == "token"]
        assert grants
        assert {r["status"] for r in grants} == {200}
