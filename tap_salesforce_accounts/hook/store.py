"""The session hook's status store: last success, last failure, recent syncs, last good fields.

Two backends share one schema and one set of statements:

- SQLite (``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db``), the default, at
  ``./.tap-salesforce-accounts/hook.db``: WAL journal, a busy timeout, and every write in one
  ``BEGIN IMMEDIATE`` transaction, so threads and processes of one host can write at once and
  a process killed mid-write leaves the last committed state;
- PostgreSQL (``postgresql://user@host/db``) through psycopg 3, for several application hosts
  sharing one status.

Tables (``integration_id`` separates integrations sharing a store):

- ``salesforce_hook_status``: one row per integration: last success time, last failure time
  with its error code and message, and the counts of successes and failures;
- ``salesforce_hook_history``: the most recent syncs (``history_limit`` per integration): time,
  status, duration, Salesforce requests, API usage, error code and message, mode and host;
- ``salesforce_hook_last_good``: only with ``stale_fallback``: the last fields read for a
  lookup value, keyed by a SHA-256 of the index field and the value, no older than
  ``stale_max_age_seconds``;
- ``salesforce_hook_meta``: the schema version.

Nothing else is written: no setting, no token, no lookup value in clear.
"""

from __future__ import annotations

import abc
import contextlib
import dataclasses
import datetime as dt
import hashlib
import logging
import os
import sqlite3
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Self
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from tap_salesforce_accounts import ids
from tap_salesforce_accounts.exceptions import ConfigError
from tap_salesforce_accounts.exceptions import StoreError as StoreError  # noqa: PLC0414  (public here too)

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

logger = logging.getLogger(__name__)

DEFAULT_STORE_DIR: Final = ".tap-salesforce-accounts"
DEFAULT_STORE_FILE: Final = "hook.db"
DEFAULT_HISTORY_LIMIT: Final = 1000
SCHEMA_VERSION: Final = "1"
BUSY_TIMEOUT_SECONDS: Final = 10.0
PG_CONNECT_TIMEOUT_SECONDS: Final = 3
PG_STATEMENT_TIMEOUT_MS: Final = 10_000
POSTGRES_HINT: Final = "pip install 'tap-salesforce-accounts[postgres]'"
# Any constant: serializes concurrent CREATE TABLE IF NOT EXISTS, which PostgreSQL does not
# make atomic (two sessions can both try to create the row type and one fails).
_PG_DDL_LOCK: Final = 0x7A5F_4B00

SUCCESS_STATUSES: Final = frozenset({"ok", "not_found"})
STATUSES: Final = frozenset({"ok", "not_found", "error", "stale"})


def value_key(index_field: str, value: str) -> str:
    """The key of a lookup value in the store: SHA-256 of the index field and the value.

    The field name takes part so that ``Id = X`` and ``Customer_Key__c = X`` differ. An
    Account Id counts in its 18-character form, so its 15-character form finds it too.

    >>> len(value_key("Id", "001000000000001AAA"))
    64
    >>> value_key("Id", "001D000000IRFma") == value_key("id", "001D000000IRFmaIAH")
    True
    """
    field = index_field.lower()
    if field == "id" and ids.is_account_id(value):
        value = ids.normalize_account_id(value)
    return hashlib.sha256(f"{field}\x00{value}".encode()).hexdigest()


def iso_utc(epoch: float) -> str:
    """An epoch time as ``2025-01-31T12:00:00.123Z`` (fixed width, so text order is time order).

    >>> iso_utc(0)
    '1970-01-01T00:00:00.000Z'
    """
    moment = dt.datetime.fromtimestamp(epoch, dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> float:
    """The epoch time of an :func:`iso_utc` text.

    >>> parse_iso("1970-01-01T00:00:01.500Z")
    1.5
    """
    return dt.datetime.fromisoformat(text).timestamp()


@dataclasses.dataclass(frozen=True, slots=True)
class SyncEvent:
    """One lookup, as the store keeps it.

    ``good_fields`` (JSON text) with ``good_key`` saves the last good fields of a value;
    ``good_key`` alone forgets them (Salesforce said the value matches no Account).
    """

    integration_id: str
    at: float
    status: str
    duration_ms: float
    mode: str
    host: str
    salesforce_calls: int | None = None
    api_used: int | None = None
    api_limit: int | None = None
    error_code: str | None = None
    error_message: str | None = None
    good_key: str | None = None
    good_fields: str | None = None
    good_synced_at: float | None = None

    @property
    def is_success(self) -> bool:
        """``ok`` and ``not_found`` are definite answers from Salesforce: successful syncs."""
        return self.status in SUCCESS_STATUSES


@dataclasses.dataclass(frozen=True, slots=True)
class LastGood:
    """The last fields read from Salesforce for one lookup value."""

    fields: str
    synced_at: float


@dataclasses.dataclass(frozen=True, slots=True)
class StoreLocation:
    """Where the store is: a backend and its target (a file path or a PostgreSQL URL)."""

    backend: str
    target: str
    display: str

    @classmethod
    def parse(cls, url: str | None, *, cwd: Path | None = None) -> StoreLocation:
        """Read ``hook_store_url``; ``None`` means the default SQLite file under ``cwd``.

        Raises:
            ConfigError: the URL is neither ``sqlite:///...`` nor ``postgresql://...``.

        >>> StoreLocation.parse("sqlite:////var/lib/hook.db").target
        '/var/lib/hook.db'
        >>> StoreLocation.parse("postgresql://app:pw@db/hooks").display
        'postgresql://app:***@db/hooks'
        """
        base = cwd if cwd is not None else Path.cwd()
        if url is None or not str(url).strip():
            path = (base / DEFAULT_STORE_DIR / DEFAULT_STORE_FILE).resolve()
            return cls("sqlite", str(path), f"sqlite:///{path}")
        text = str(url).strip()
        scheme = text.split(":", 1)[0].lower()
        if scheme == "sqlite":
            if not text.startswith("sqlite:///") or len(text) == len("sqlite:///"):
                msg = (
                    "hook_store_url must look like sqlite:///relative/path.db or "
                    "sqlite:////absolute/path.db."
                )
                raise ConfigError(msg)
            raw = unquote(text[len("sqlite:///") :].split("?", 1)[0])
            path = (base / raw).resolve() if not raw.startswith("/") else Path(raw)
            return cls("sqlite", str(path), f"sqlite:///{path}")
        if scheme in {"postgresql", "postgres"}:
            return cls("postgresql", text, redact_url(text))
        msg = (
            f"hook_store_url has the unsupported scheme {scheme!r}: use sqlite:///path.db "
            "or postgresql://user@host/database."
        )
        raise ConfigError(msg)


def redact_url(url: str) -> str:
    """The URL with its password (in the netloc or the query) replaced by ``***``.

    >>> redact_url("postgresql://u@h/db?password=x&sslmode=require")
    'postgresql://u@h/db?password=%2A%2A%2A&sslmode=require'
    """
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        if ":" in userinfo:
            netloc = f"{userinfo.split(':', 1)[0]}:***@{host}"
    query = parts.query
    if query:
        pairs = [
            (key, "***" if key.lower() == "password" else value)
            for key, value in parse_qsl(query, keep_blank_values=True)
        ]
        query = urlencode(pairs)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _url_password(url: str) -> str:
    parts = urlsplit(url)
    found = parts.password or ""
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key.lower() == "password":
            found = value
    return found


# -- statements shared by both backends (``?`` placeholders; PostgreSQL gets ``%s``) ----------

_INSERT_HISTORY: Final = """
INSERT INTO salesforce_hook_history (integration_id, at, status, duration_ms, salesforce_calls,
    api_used, api_limit, error_code, error_message, mode, host)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""

# Right-hand sides see the row before the update, in SQLite and PostgreSQL alike. A later
# time never loses to an earlier one, whatever order concurrent writers commit in.
_UPSERT_STATUS: Final = """
INSERT INTO salesforce_hook_status (integration_id, last_success_at, last_failure_at,
    last_error_code, last_error_message, successes, failures)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (integration_id) DO UPDATE SET
    last_success_at = CASE
        WHEN salesforce_hook_status.last_success_at IS NULL
            OR excluded.last_success_at > salesforce_hook_status.last_success_at
        THEN COALESCE(excluded.last_success_at, salesforce_hook_status.last_success_at)
        ELSE salesforce_hook_status.last_success_at END,
    last_failure_at = CASE
        WHEN salesforce_hook_status.last_failure_at IS NULL
            OR excluded.last_failure_at > salesforce_hook_status.last_failure_at
        THEN COALESCE(excluded.last_failure_at, salesforce_hook_status.last_failure_at)
        ELSE salesforce_hook_status.last_failure_at END,
    last_error_code = CASE
        WHEN excluded.last_failure_at IS NOT NULL AND (
            salesforce_hook_status.last_failure_at IS NULL
            OR excluded.last_failure_at > salesforce_hook_status.last_failure_at)
        THEN excluded.last_error_code
        ELSE salesforce_hook_status.last_error_code END,
    last_error_message = CASE
        WHEN excluded.last_failure_at IS NOT NULL AND (
            salesforce_hook_status.last_failure_at IS NULL
            OR excluded.last_failure_at > salesforce_hook_status.last_failure_at)
        THEN excluded.last_error_message
        ELSE salesforce_hook_status.last_error_message END,
    successes = salesforce_hook_status.successes + excluded.successes,
    failures = salesforce_hook_status.failures + excluded.failures
"""

_PRUNE_HISTORY: Final = """
DELETE FROM salesforce_hook_history
WHERE integration_id = ? AND id <= (
    SELECT id FROM salesforce_hook_history WHERE integration_id = ?
    ORDER BY id DESC LIMIT 1 OFFSET ?)
"""

_UPSERT_LAST_GOOD: Final = """
INSERT INTO salesforce_hook_last_good (integration_id, value_hash, fields, synced_at)
VALUES (?, ?, ?, ?)
ON CONFLICT (integration_id, value_hash) DO UPDATE SET
    fields = excluded.fields, synced_at = excluded.synced_at
WHERE excluded.synced_at >= salesforce_hook_last_good.synced_at
"""

_FORGET_LAST_GOOD: Final = """
DELETE FROM salesforce_hook_last_good WHERE integration_id = ? AND value_hash = ?
"""

_PRUNE_LAST_GOOD: Final = """
DELETE FROM salesforce_hook_last_good WHERE integration_id = ? AND synced_at < ?
"""

_SELECT_STATUS: Final = """
SELECT last_success_at, last_failure_at, last_error_code, last_error_message, successes, failures
FROM salesforce_hook_status WHERE integration_id = ?
"""

_SELECT_HISTORY: Final = """
SELECT at, status, duration_ms, salesforce_calls, api_used, api_limit, error_code,
    error_message, mode, host
FROM salesforce_hook_history WHERE integration_id = ? ORDER BY id DESC LIMIT ?
"""

_SELECT_LAST_GOOD: Final = """
SELECT fields, synced_at FROM salesforce_hook_last_good
WHERE integration_id = ? AND value_hash = ?
"""

_SQLITE_SCHEMA: Final = (
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

_PG_SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS salesforce_hook_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS salesforce_hook_status (
        integration_id TEXT PRIMARY KEY,
        last_success_at TIMESTAMPTZ,
        last_failure_at TIMESTAMPTZ,
        last_error_code TEXT,
        last_error_message TEXT,
        successes BIGINT NOT NULL DEFAULT 0,
        failures BIGINT NOT NULL DEFAULT 0)""",
    """CREATE TABLE IF NOT EXISTS salesforce_hook_history (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        integration_id TEXT NOT NULL,
        at TIMESTAMPTZ NOT NULL,
        status TEXT NOT NULL,
        duration_ms DOUBLE PRECISION NOT NULL,
        salesforce_calls INTEGER,
        api_used BIGINT,
        api_limit BIGINT,
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
        synced_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (integration_id, value_hash))""",
)


class _Cursor(abc.ABC):
    """The few operations the statements need, over a DB-API connection."""

    @abc.abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement; return its rows (empty for writes)."""


class StatusStore(abc.ABC):
    """The status store; thread-safe (one connection, used under a lock).

    Args:
        location: where the store is.
        history_limit: how many syncs to keep per integration.
    """

    def __init__(
        self, location: StoreLocation, *, history_limit: int = DEFAULT_HISTORY_LIMIT
    ) -> None:
        """Keep the location; the connection opens on first use."""
        self.location = location
        self.history_limit = history_limit
        self._lock = threading.Lock()
        self._closed = False

    @property
    def display(self) -> str:
        """The store's URL fit for a log (no password)."""
        return self.location.display

    # -- backend ---------------------------------------------------------------------------

    @abc.abstractmethod
    def _transaction(self) -> contextlib.AbstractContextManager[_Cursor]:
        """A write transaction (opening the connection and the schema if needed)."""

    @abc.abstractmethod
    def _reader(self) -> contextlib.AbstractContextManager[_Cursor]:
        """A read-only view (opening the connection and the schema if needed)."""

    @abc.abstractmethod
    def _to_db_time(self, epoch: float) -> object:
        """A time as the backend stores it."""

    @abc.abstractmethod
    def _from_db_time(self, value: object) -> float:
        """A stored time as epoch seconds."""

    @abc.abstractmethod
    def _disconnect(self) -> None:
        """Close the connection, if open (next use reconnects)."""

    @abc.abstractmethod
    def _problem(self, exc: BaseException) -> StoreError | None:
        """The exception as a StoreError if it is a backend error, else ``None``."""

    @contextlib.contextmanager
    def _guarded(self, *, write: bool) -> Iterator[_Cursor]:
        with self._lock:
            if self._closed:
                msg = f"the status store {self.display} is closed."
                raise StoreError(msg)
            try:
                with self._transaction() if write else self._reader() as cursor:
                    yield cursor
            except Exception as exc:
                problem = self._problem(exc)
                if problem is None:
                    raise
                # A broken connection is not reused: the next call reconnects.
                self._disconnect()
                raise problem from exc

    # -- operations ------------------------------------------------------------------------

    def record(self, events: Sequence[SyncEvent], *, last_good_cutoff: float | None = None) -> None:
        """Write syncs in one transaction: history rows, status, last good fields.

        Args:
            events: the syncs, oldest first.
            last_good_cutoff: forget last good fields read before this epoch time.

        Raises:
            StoreError: the store cannot be written (nothing of ``events`` is kept).
        """
        if not events:
            return
        ts = self._to_db_time
        with self._guarded(write=True) as cur:
            for event in events:
                error_message = _one_line(event.error_message)
                cur.execute(
                    _INSERT_HISTORY,
                    (
                        event.integration_id,
                        ts(event.at),
                        event.status,
                        round(event.duration_ms, 3),
                        event.salesforce_calls,
                        event.api_used,
                        event.api_limit,
                        event.error_code,
                        error_message,
                        event.mode,
                        event.host,
                    ),
                )
                success = event.is_success
                cur.execute(
                    _UPSERT_STATUS,
                    (
                        event.integration_id,
                        ts(event.at) if success else None,
                        None if success else ts(event.at),
                        None if success else event.error_code,
                        None if success else error_message,
                        1 if success else 0,
                        0 if success else 1,
                    ),
                )
                if event.good_key is not None:
                    if event.good_fields is not None:
                        synced = event.good_synced_at or event.at
                        cur.execute(
                            _UPSERT_LAST_GOOD,
                            (event.integration_id, event.good_key, event.good_fields, ts(synced)),
                        )
                    else:
                        cur.execute(_FORGET_LAST_GOOD, (event.integration_id, event.good_key))
            for integration_id in {event.integration_id for event in events}:
                cur.execute(_PRUNE_HISTORY, (integration_id, integration_id, self.history_limit))
                if last_good_cutoff is not None:
                    cur.execute(_PRUNE_LAST_GOOD, (integration_id, ts(last_good_cutoff)))

    def status(self, integration_id: str) -> dict[str, Any]:
        """The integration's status.

        Returns:
            ``last_success_at``, ``last_failure_at``, ``last_error`` (``code``, ``message``,
            ``at``, or ``None``), ``successes`` and ``failures``.

        Raises:
            StoreError: the store cannot be read.
        """
        with self._guarded(write=False) as cur:
            rows = cur.execute(_SELECT_STATUS, (integration_id,))
        if not rows:
            return {
                "integration_id": integration_id,
                "last_success_at": None,
                "last_failure_at": None,
                "last_error": None,
                "successes": 0,
                "failures": 0,
            }
        success_at, failure_at, code, message, successes, failures = rows[0]
        failure_iso = None if failure_at is None else iso_utc(self._from_db_time(failure_at))
        return {
            "integration_id": integration_id,
            "last_success_at": None
            if success_at is None
            else iso_utc(self._from_db_time(success_at)),
            "last_failure_at": failure_iso,
            "last_error": None
            if failure_iso is None
            else {"code": code, "message": message, "at": failure_iso},
            "successes": int(successes),
            "failures": int(failures),
        }

    def history(self, integration_id: str, limit: int = 20) -> list[dict[str, Any]]:
        """The integration's most recent syncs, newest first.

        Raises:
            StoreError: the store cannot be read.
        """
        with self._guarded(write=False) as cur:
            rows = cur.execute(_SELECT_HISTORY, (integration_id, max(0, int(limit))))
        return [
            {
                "at": iso_utc(self._from_db_time(at)),
                "status": status,
                "duration_ms": float(duration),
                "salesforce_calls": calls,
                "api_usage": None
                if used is None or cap is None
                else {"used": int(used), "limit": int(cap)},
                "error": None if code is None else {"code": code, "message": message},
                "mode": mode,
                "host": host,
            }
            for at, status, duration, calls, used, cap, code, message, mode, host in rows
        ]

    def last_good(self, integration_id: str, key: str) -> LastGood | None:
        """The last good fields saved for a value key, if any.

        Raises:
            StoreError: the store cannot be read.
        """
        with self._guarded(write=False) as cur:
            rows = cur.execute(_SELECT_LAST_GOOD, (integration_id, key))
        if not rows:
            return None
        fields, synced_at = rows[0]
        return LastGood(fields=str(fields), synced_at=self._from_db_time(synced_at))

    def check(self) -> None:
        """Open the store and its schema.

        Raises:
            StoreError: the store cannot be opened.
        """
        with self._guarded(write=False) as cur:
            cur.execute("SELECT value FROM salesforce_hook_meta WHERE key = ?", ("schema",))

    def close(self) -> None:
        """Close the connection; the store cannot be used afterwards."""
        with self._lock:
            self._closed = True
            self._disconnect()

    def __enter__(self) -> Self:
        """Use as a context manager."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close the store."""
        self.close()


def _one_line(text: str | None) -> str | None:
    return None if text is None else " ".join(text.split())[:1000]


# -- SQLite --------------------------------------------------------------------------------


class _SqliteCursor(_Cursor):
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
                for statement in _SQLITE_SCHEMA:
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
    def _transaction(self) -> Iterator[_Cursor]:
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
    def _reader(self) -> Iterator[_Cursor]:
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


# -- PostgreSQL ----------------------------------------------------------------------------


class _PgCursor(_Cursor):
    def __init__(self, cursor: Any) -> None:  # noqa: ANN401  (psycopg is optional)
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self._cursor.execute(sql.replace("?", "%s"), tuple(params))
        if self._cursor.description is None:
            return []
        return list(self._cursor.fetchall())


class PostgresStore(StatusStore):
    """The status store in a PostgreSQL database (psycopg 3), shared by several hosts."""

    def __init__(
        self, location: StoreLocation, *, history_limit: int = DEFAULT_HISTORY_LIMIT
    ) -> None:
        """Check psycopg is installed; the connection opens on first use.

        Raises:
            ConfigError: psycopg is not installed.
        """
        super().__init__(location, history_limit=history_limit)
        try:
            import psycopg  # noqa: PLC0415  (an optional dependency)
        except ImportError:
            msg = (
                "hook_store_url is a PostgreSQL URL, but psycopg is not installed: "
                f"{POSTGRES_HINT}."
            )
            raise ConfigError(msg) from None
        self._psycopg = psycopg
        self._password = _url_password(location.target)
        self._connection: Any = None

    def _connect(self) -> Any:  # noqa: ANN401
        if self._connection is not None and not self._connection.closed:
            return self._connection
        target = self.location.target
        keys = {key for key, _ in parse_qsl(urlsplit(target).query)}
        options: dict[str, Any] = {"application_name": "tap-salesforce-accounts-hook"}
        if "connect_timeout" not in keys:
            options["connect_timeout"] = PG_CONNECT_TIMEOUT_SECONDS
        if "options" not in keys:
            options["options"] = f"-c statement_timeout={PG_STATEMENT_TIMEOUT_MS}"
        # No prepared statements: they break behind PgBouncer in transaction mode.
        connection = self._psycopg.connect(
            target, autocommit=True, prepare_threshold=None, **options
        )
        try:
            with connection.transaction(), connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (_PG_DDL_LOCK,))
                for statement in _PG_SCHEMA:
                    cur.execute(statement)
                cur.execute(
                    "INSERT INTO salesforce_hook_meta (key, value) VALUES (%s, %s) "
                    "ON CONFLICT (key) DO NOTHING",
                    ("schema", SCHEMA_VERSION),
                )
        except BaseException:
            connection.close()
            raise
        self._connection = connection
        return connection

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[_Cursor]:
        connection = self._connect()
        with connection.transaction(), connection.cursor() as cur:
            yield _PgCursor(cur)

    @contextlib.contextmanager
    def _reader(self) -> Iterator[_Cursor]:
        connection = self._connect()
        with connection.cursor() as cur:
            yield _PgCursor(cur)

    def _to_db_time(self, epoch: float) -> object:
        return dt.datetime.fromtimestamp(epoch, dt.UTC)

    def _from_db_time(self, value: object) -> float:
        if isinstance(value, dt.datetime):
            return value.timestamp()
        return parse_iso(str(value))

    def _disconnect(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None

    def _problem(self, exc: BaseException) -> StoreError | None:
        if isinstance(exc, self._psycopg.Error | OSError):
            detail = " ".join(str(exc).split())
            if self._password:
                detail = detail.replace(self._password, "***")
            return StoreError(
                f"the status store {self.display} cannot be used ({type(exc).__name__}: "
                f"{detail[:300]}): check the server is up and the URL is right."
            )
        return None


def open_store(
    url: str | None, *, cwd: Path | None = None, history_limit: int = DEFAULT_HISTORY_LIMIT
) -> StatusStore:
    """The store at ``hook_store_url`` (not opened yet: errors surface on first use).

    Raises:
        ConfigError: the URL is not supported, or psycopg is missing for PostgreSQL.
    """
    location = StoreLocation.parse(url, cwd=cwd)
    if location.backend == "postgresql":
        return PostgresStore(location, history_limit=history_limit)
    return SqliteStore(location, history_limit=history_limit)
