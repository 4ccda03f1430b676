"""The status store's contract, against SQLite and a real PostgreSQL server."""

from __future__ import annotations

import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tap_salesforce_accounts.exceptions import ConfigError
from tap_salesforce_accounts.hook.store import (
    StoreError,
    StoreLocation,
    open_store,
    value_key,
)
from tests.hook_fixtures import (  # noqa: F401  (fixtures)
    WRITER_SCRIPT,
    dump_tables,
    fixture_pg_server,
    fixture_pg_url,
    fixture_store_url,
    sync_event,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tap_salesforce_accounts.hook.store import StatusStore

ROOT = Path(__file__).resolve().parent.parent
T0 = 1_700_000_000.0


@pytest.fixture
def contract_store(store_url: str) -> Iterator[StatusStore]:
    with open_store(store_url, history_limit=50) as opened:
        yield opened


def test_empty_status(contract_store: StatusStore) -> None:
    assert contract_store.status("default") == {
        "integration_id": "default",
        "last_success_at": None,
        "last_failure_at": None,
        "last_error": None,
        "successes": 0,
        "failures": 0,
    }
    assert contract_store.history("default") == []


def test_status_and_history(contract_store: StatusStore) -> None:
    contract_store.record(
        [
            sync_event(at=T0, status="ok"),
            sync_event(at=T0 + 1, status="not_found"),
            sync_event(at=T0 + 2, status="error", error_code="timeout", error_message="slow"),
            sync_event(at=T0 + 3, status="ok"),
        ]
    )
    status = contract_store.status("default")
    assert status == {
        "integration_id": "default",
        "last_success_at": "2023-11-14T22:13:23.000Z",
        "last_failure_at": "2023-11-14T22:13:22.000Z",
        "last_error": {"code": "timeout", "message": "slow", "at": "2023-11-14T22:13:22.000Z"},
        "successes": 3,
        "failures": 1,
    }
    history = contract_store.history("default", limit=10)
    assert [row["status"] for row in history] == ["ok", "error", "not_found", "ok"]
    assert history[1] == {
        "at": "2023-11-14T22:13:22.000Z",
        "status": "error",
        "duration_ms": 12.5,
        "salesforce_calls": 1,
        "api_usage": {"used": 10, "limit": 15000},
        "error": {"code": "timeout", "message": "slow"},
        "mode": "in_process",
        "host": "test-host",
    }
    assert history[0]["error"] is None
    assert len(contract_store.history("default", limit=2)) == 2


def test_later_times_win_whatever_the_commit_order(contract_store: StatusStore) -> None:
    contract_store.record([sync_event(at=T0 + 10, status="error", error_code="late")])
    contract_store.record([sync_event(at=T0 + 5, status="error", error_code="early")])
    contract_store.record([sync_event(at=T0 + 20, status="ok"), sync_event(at=T0 + 1)])
    status = contract_store.status("default")
    assert status["last_error"]["code"] == "late"
    assert status["last_failure_at"] == "2023-11-14T22:13:30.000Z"
    assert status["last_success_at"] == "2023-11-14T22:13:40.000Z"


def test_history_is_bounded(contract_store: StatusStore) -> None:
    contract_store.record([sync_event(at=T0 + i) for i in range(70)])
    contract_store.record([sync_event(at=T0 + 100)])
    history = contract_store.history("default", limit=1000)
    assert len(history) == 50
    assert history[0]["at"] == "2023-11-14T22:15:00.000Z"
    assert contract_store.status("default")["successes"] == 71


def test_integrations_are_apart(contract_store: StatusStore) -> None:
    contract_store.record([sync_event("a"), sync_event("b", status="error")])
    assert contract_store.status("a")["successes"] == 1
    assert contract_store.status("a")["last_error"] is None
    assert contract_store.status("b")["failures"] == 1
    assert len(contract_store.history("a")) == 1


def test_last_good_fields(contract_store: StatusStore) -> None:
    key = value_key("Customer_Key__c", "CUST-000001")
    assert contract_store.last_good("default", key) is None
    contract_store.record([sync_event(good_key=key, good_fields='{"Name":"A"}', good_synced_at=T0)])
    good = contract_store.last_good("default", key)
    assert good is not None
    assert (good.fields, good.synced_at) == ('{"Name":"A"}', T0)
    # An older read never replaces a newer one.
    contract_store.record(
        [sync_event(good_key=key, good_fields='{"Name":"old"}', good_synced_at=T0 - 5)]
    )
    good = contract_store.last_good("default", key)
    assert good is not None
    assert good.fields == '{"Name":"A"}'
    assert contract_store.last_good("other", key) is None
    # Too old for stale_fallback: forgotten.
    contract_store.record([sync_event()], last_good_cutoff=T0 + 1)
    assert contract_store.last_good("default", key) is None
    # Salesforce said not found: forgotten.
    contract_store.record(
        [sync_event(good_key=key, good_fields='{"Name":"B"}', good_synced_at=T0 + 9)]
    )
    contract_store.record([sync_event(status="not_found", good_key=key)])
    assert contract_store.last_good("default", key) is None


def test_error_messages_are_one_line(contract_store: StatusStore) -> None:
    contract_store.record([sync_event(status="error", error_message="a\nb\tc " + "x" * 3000)])
    message = contract_store.status("default")["last_error"]["message"]
    assert message.startswith("a b c x")
    assert len(message) == 1000


def test_threads_write_consistently(contract_store: StatusStore, store_url: str) -> None:
    stores = [open_store(store_url, history_limit=1000) for _ in range(4)]
    barrier = threading.Barrier(32)

    def write(index: int) -> None:
        barrier.wait()
        target = stores[index % 4]
        for n in range(5):
            status = "error" if (index + n) % 4 == 0 else "ok"
            target.record([sync_event(at=time.time(), status=status)])

    threads = [threading.Thread(target=write, args=(i,)) for i in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for opened in stores:
        opened.close()
    status = contract_store.status("default")
    assert status["successes"] + status["failures"] == 160
    assert status["failures"] == sum(1 for i in range(32) for n in range(5) if (i + n) % 4 == 0)
    assert len(contract_store.history("default", limit=1000)) == 160


def _writer(url: str, integration_id: str, count: int, limit: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER_SCRIPT, url, integration_id, str(count), str(limit)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_processes_write_consistently(contract_store: StatusStore, store_url: str) -> None:
    writers = [_writer(store_url, "procs", 30, 10_000) for _ in range(8)]
    for child in writers:
        _, err = child.communicate(timeout=60)
        assert child.returncode == 0, err.decode()
    status = contract_store.status("procs")
    assert (status["successes"], status["failures"]) == (8 * 20, 8 * 10)
    assert len(contract_store.history("procs", limit=10_000)) == 240
    assert status["last_error"]["code"] == "unavailable"


def test_sigkill_mid_write_leaves_a_readable_store(store_url: str) -> None:
    child = _writer(store_url, "killed", -1, 1_000_000)
    try:
        assert child.stdout is not None
        # The writer says when it has written ANNOUNCE_AT events, and goes on writing.
        if not child.stdout.readline():
            pytest.fail("the writer wrote nothing")
    finally:
        child.send_signal(signal.SIGKILL)
        _, err = child.communicate(timeout=10)
    assert child.returncode == -signal.SIGKILL, err.decode()
    with open_store(store_url) as after:
        status = after.status("killed")
        history = after.history("killed", limit=1_000_000)
        # Status and history commit together: they agree after the kill.
        assert status["successes"] + status["failures"] == len(history)
        after.record([sync_event("killed", at=time.time())])
        assert after.status("killed")["successes"] == status["successes"] + 1
    if store_url.startswith("sqlite:"):
        path = store_url.removeprefix("sqlite:///")
        connection = sqlite3.connect(path)
        try:
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        finally:
            connection.close()


def test_no_lookup_value_or_setting_in_the_tables(
    contract_store: StatusStore, store_url: str
) -> None:
    key = value_key("Customer_Key__c", "CUST-000042")
    contract_store.record(
        [sync_event(good_key=key, good_fields='{"Name":"Acme"}', good_synced_at=T0)]
    )
    dumped = repr(dump_tables(store_url))
    assert "CUST-000042" not in dumped
    assert key in dumped
    assert set(dump_tables(store_url)) >= {
        "salesforce_hook_status",
        "salesforce_hook_history",
        "salesforce_hook_last_good",
        "salesforce_hook_meta",
    }


# -- SQLite specifics ----------------------------------------------------------------------


def test_sqlite_file_is_private_and_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "hook.db"
    with open_store(f"sqlite:///{path}") as opened:
        opened.record([sync_event()])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        connection.close()


def test_corrupt_sqlite_file_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "hook.db"
    path.write_bytes(b"this is not a database, just garbage " * 200)
    with open_store(f"sqlite:///{path}") as opened:
        with pytest.raises(StoreError) as caught:
            opened.record([sync_event()])
        assert str(path) in caught.value.message
        assert "\n" not in caught.value.message
        with pytest.raises(StoreError):
            opened.status("default")


def test_store_locations(tmp_path: Path) -> None:
    default = StoreLocation.parse(None, cwd=tmp_path)
    assert default.target == str(tmp_path / ".tap-salesforce-accounts" / "hook.db")
    relative = StoreLocation.parse("sqlite:///state/h.db", cwd=tmp_path)
    assert relative.target == str(tmp_path / "state" / "h.db")
    assert StoreLocation.parse("sqlite:////abs/h.db").target == "/abs/h.db"
    assert StoreLocation.parse("postgres://u:secret@h/d").display == "postgres://u:***@h/d"
    for bad in ("mysql://h/d", "sqlite://h.db", "sqlite:///", "/just/a/path"):
        with pytest.raises(ConfigError):
            StoreLocation.parse(bad)


# -- PostgreSQL specifics ------------------------------------------------------------------


def test_unreachable_postgres_is_a_store_error_without_the_password() -> None:
    url = f"postgresql://app:s3cret-pw@127.0.0.1:{closed_port()}/db?connect_timeout=2"
    with open_store(url) as opened:
        started = time.monotonic()
        with pytest.raises(StoreError) as caught:
            opened.status("default")
        assert time.monotonic() - started < 5
    assert "s3cret-pw" not in caught.value.message
    assert "app:***@127.0.0.1" in caught.value.message


def test_missing_psycopg_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(ConfigError, match=r"pip install 'tap-salesforce-accounts\[postgres\]'"):
        open_store("postgresql://u@h/d")


def closed_port() -> int:
    """A local TCP port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_postgres_backend_reports_timestamps_in_utc(pg_url: str) -> None:
    with open_store(pg_url) as opened:
        opened.record([sync_event(at=T0 + 0.123)])
        assert opened.status("default")["last_success_at"] == "2023-11-14T22:13:20.123Z"
