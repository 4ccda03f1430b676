"""The status store in one SQLite file: WAL journal, busy timeout, ``BEGIN IMMEDIATE`` writes."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from tap_salesforce_accounts.exceptions import StoreError
from tap_salesforce_accounts.hook.store.base import (
    DEFAULT_HISTORY_LIMIT,
    SCHEMA_VERSION,
    Cursor,
    StatusStore,
    iso_utc,
    parse_iso,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from tap_salesforce_accounts.hook.store.location import StoreLocation

BUSY_TIMEOUT_SECONDS: Final = 10.0

SQLITE_SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS salesforce_hook_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS salesforce_hook_status (
        integration_id TEXT PRIMARY KEY,
        last_success_at TEXT,
        last_failure_at TEXT,
        last_error_code TEXT,
        last_error_message TEXT,
        successes INTEGER NOT NULL DEFAULT 0,
        failures INTEGER NOT NULL DEFAULT 0)""",
    """CREATE TABLE IF NOT EXISTS salesforce_hook_history (
        id INTEGER PRIMARY KEY,
        integration_id TEXT NOT NULL,
        at TEXT NOT NULL,
        status TEXT NOT NULL,
        duration_ms REAL NOT NULL,
        salesforce_calls INTEGER,
        api_used INTEGER,
        api_limit INTEGER,
        error_code TEXT,
        error_message TEXT,
        mode TEXT NOT NULL,
        host TEXT NOT NULL)""",
    """CREATE INDEX IF NOT EXISTS salesforce_hook_history_by_integration
        ON salesforce_hook_history (integration_id, id)""",
    """CREATE TABLE IF NOT EXISTS salesforce_hook_last_good (
        integration_id TEXT NOT NULL,
        value_hash TEXT NOT NULL,
        fields TEXT NOT NULL,
        synced_at TEXT NOT NULL,
        PRIMARY KEY (integration_id, value_hash))""",
)


class _SqliteCursor(Cursor):
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._connection.execute(sql, tuple(params)).fetchall()


class SqliteStore(StatusStore):
    """The status store in one SQLite file (WAL journal; safe for threads and processes)."""

    def __init__(
        self, location: StoreLocation, *, history_limit: int = DEFAULT_HISTORY_LIMIT
    ) -> None:
        """Keep the file path; the file is created on first use (mode 0600)."""
        super().__init__(location, history_limit=history_limit)
        self.path = Path(location.target)
        self._connection: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is not None:
            return self._connection
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Create the file readable by its owner only; SQLite gives the -wal and -shm files
        # the same mode.
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        connection = sqlite3.connect(
            self.path,
            timeout=BUSY_TIMEOUT_SECONDS,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            # WAL lets readers run beside the one writer; NORMAL syncs the WAL at checkpoints
            # only: a killed process loses nothing committed, a power cut at most the last
            # transactions, never consistency.
            connection.execute("PRAGMA journal_mode = WAL").fetchall()
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
            connection.execute("BEGIN IMMEDIATE")
            try:
                for statement in SQLITE_SCHEMA:
                    connection.execute(statement)
                connection.execute(
                    "INSERT OR IGNORE INTO salesforce_hook_meta (key, value) VALUES (?, ?)",
                    ("schema", SCHEMA_VERSION),
                )
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        except BaseException:
            connection.close()
            raise
        self._connection = connection
        return connection

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Cursor]:
        connection = self._connect()
        # IMMEDIATE takes the write lock up front: a deferred transaction that reads first
        # and writes later can fail with SQLITE_BUSY without waiting for the busy timeout.
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield _SqliteCursor(connection)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    @contextlib.contextmanager
    def _reader(self) -> Iterator[Cursor]:
        yield _SqliteCursor(self._connect())

    def _to_db_time(self, epoch: float) -> object:
        return iso_utc(epoch)

    def _from_db_time(self, value: object) -> float:
        return parse_iso(str(value))

    def _disconnect(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(sqlite3.Error):
                self._connection.close()
            self._connection = None

    def _problem(self, exc: BaseException) -> StoreError | None:
        if isinstance(exc, sqlite3.Error | OSError):
            detail = exc.strerror if isinstance(exc, OSError) else str(exc)
            return StoreError(
                f"the status store {self.display} cannot be used ({type(exc).__name__}: "
                f"{detail}): check the file is a writable SQLite database, or move it away."
            )
        return None
