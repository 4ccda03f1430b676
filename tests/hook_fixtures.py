"""Fixtures of the session hook's tests: the emulator, hook configs, a PostgreSQL server,
store URLs for both backends, and helpers run in child processes.

Test modules import the fixture functions (``fixture_*``); each registers under its
``name``, so the import and a test's parameter do not clash.
"""

from __future__ import annotations

import contextlib
import sys
import time
from typing import TYPE_CHECKING

import pytest

from tap_salesforce_accounts.hook.store import SyncEvent, open_store
from tests.emulator import Emulator, config_for
from tests.postgres import PostgresServer, PostgresUnavailableError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path
    from typing import Any

    from tap_salesforce_accounts.hook import SessionHook

HOOK_TABLES = (
    "salesforce_hook_history",
    "salesforce_hook_status",
    "salesforce_hook_last_good",
    "salesforce_hook_meta",
)


@pytest.fixture(scope="session", name="pg_server")
def fixture_pg_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole session; skips only where none can start."""
    try:
        server = PostgresServer()
    except PostgresUnavailableError as exc:
        pytest.skip(f"the PostgreSQL status-store tests need a local server: {exc}")
    try:
        server.start()
    except PostgresUnavailableError as exc:
        server.stop()
        pytest.skip(f"the PostgreSQL status-store tests need a local server: {exc}")
    try:
        yield server
    finally:
        server.stop()


def drop_hook_tables(url: str) -> None:
    """Start from an empty database: drop the hook's tables."""
    import psycopg  # noqa: PLC0415

    with psycopg.connect(url, autocommit=True) as connection:
        for table in HOOK_TABLES:
            connection.execute(f"DROP TABLE IF EXISTS {table}")


@pytest.fixture(name="pg_url")
def fixture_pg_url(pg_server: PostgresServer) -> str:
    """The URL of an empty PostgreSQL store."""
    drop_hook_tables(pg_server.url)
    return pg_server.url


@pytest.fixture(params=["sqlite", "postgresql"], name="store_url")
def fixture_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store of each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store' / 'hook.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


def dump_tables(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table of a store (to look for what must not be there)."""
    if url.startswith("sqlite:"):
        import sqlite3  # noqa: PLC0415

        path = url.removeprefix("sqlite:///")
        with contextlib.closing(sqlite3.connect(path)) as connection:
            names = [
                row[0]
                for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            ]
            return {
                name: connection.execute(f"SELECT * FROM {name}").fetchall()  # noqa: S608
                for name in names
            }
    import psycopg  # noqa: PLC0415

    with psycopg.connect(url, autocommit=True) as connection:
        names = [
            row[0]
            for row in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
        ]
        return {
            name: list(connection.execute(f"SELECT * FROM {name}").fetchall())  # noqa: S608
            for name in names
        }


def sync_event(
    integration_id: str = "default",
    *,
    at: float = 1_700_000_000.0,
    status: str = "ok",
    error_code: str | None = None,
    error_message: str | None = None,
    good_key: str | None = None,
    good_fields: str | None = None,
    good_synced_at: float | None = None,
) -> SyncEvent:
    """A sync event with plausible defaults."""
    failed = status in {"error", "stale"}
    return SyncEvent(
        integration_id=integration_id,
        at=at,
        status=status,
        duration_ms=12.5,
        mode="in_process",
        host="test-host",
        salesforce_calls=1,
        api_used=10,
        api_limit=15000,
        error_code=error_code or ("unavailable" if failed else None),
        error_message=error_message or ("Salesforce is down." if failed else None),
        good_key=good_key,
        good_fields=good_fields,
        good_synced_at=good_synced_at,
    )


def write_events(url: str, integration_id: str, count: int, history_limit: int) -> None:
    """Write ``count`` events one transaction each (``count < 0``: until killed).

    Every third event is a failure. Run in child processes by the concurrency tests; after
    the ``ANNOUNCE_AT``-th event, a line on stdout says so.
    """
    store = open_store(url, history_limit=history_limit)
    try:
        written = 0
        while count < 0 or written < count:
            status = "error" if written % 3 == 2 else "ok"
            store.record([sync_event(integration_id, at=time.time(), status=status)])
            written += 1
            if written == ANNOUNCE_AT:
                sys.stdout.write(f"{ANNOUNCE_AT} written\n")
                sys.stdout.flush()
    finally:
        store.close()


ANNOUNCE_AT = 40
WRITER_SCRIPT = (
    "import sys; from tests.hook_fixtures import write_events; "
    "write_events(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))"
)


# -- the emulator and hook configs ---------------------------------------------------------


@pytest.fixture(scope="module", name="emulator")
def fixture_emulator() -> Iterator[Emulator]:
    """One emulator per test module (starting one takes half a second)."""
    with Emulator(accounts=500, seed=1) as emulator:
        yield emulator


@pytest.fixture(name="emu")
def fixture_emu(emulator: Emulator) -> Iterator[Emulator]:
    """The module's emulator, reset: start data, no faults, empty request log."""
    emulator.reset()
    yield emulator
    emulator.configure(fail="", latency_ms=0)


def hook_config(url: str, folder: Path, **overrides: Any) -> dict[str, Any]:
    """A hook config for the emulator at ``url``, its files under ``folder``.

    The deadline is generous: on a loaded CI machine a cold subprocess lookup can take
    seconds. The deadline tests set their own.
    """
    return (
        config_for(url)
        | {
            "describe_cache_dir": str(folder / "describe"),
            "hook_store_url": f"sqlite:///{folder / 'hook.db'}",
            "index_field": "Customer_Key__c",
            "lookup_timeout_seconds": 30,
        }
        | overrides
    )


@pytest.fixture(name="config")
def fixture_config(emu: Emulator, tmp_path: Path) -> dict[str, Any]:
    """A hook config for the reset emulator, files in the test's folder."""
    return hook_config(emu.url, tmp_path)


@pytest.fixture(name="make_hook")
def fixture_make_hook(config: dict[str, Any]) -> Iterator[Callable[..., SessionHook]]:
    """Build hooks from ``config`` plus overrides; all closed at the end."""
    from tap_salesforce_accounts.hook import SessionHook  # noqa: PLC0415

    hooks: list[SessionHook] = []

    def make(**options: Any) -> SessionHook:
        settings = dict(config)
        for key in list(options):
            if key in {"mode", "clock", "max_workers", "history_limit", "cwd"}:
                continue
            settings[key] = options.pop(key)
        hook = SessionHook(settings, **options)
        hooks.append(hook)
        return hook

    yield make
    for hook in hooks:
        hook.close()


def lookup_in_child(config: dict[str, Any], value: str) -> str:
    """Build a hook in this (child) process, look ``value`` up, return the JSON answer."""
    from tap_salesforce_accounts.hook import SessionHook  # noqa: PLC0415

    with SessionHook(config) as hook:
        return hook.lookup(value).dumps()
