"""The status store in a PostgreSQL database (psycopg 3), shared by several hosts."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qsl, urlsplit

from tap_salesforce_accounts.exceptions import ConfigError, StoreError
from tap_salesforce_accounts.hook.store.base import (
    DEFAULT_HISTORY_LIMIT,
    SCHEMA_VERSION,
    Cursor,
    StatusStore,
    parse_iso,
)
from tap_salesforce_accounts.hook.store.location import url_password

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from tap_salesforce_accounts.hook.store.location import StoreLocation

PG_CONNECT_TIMEOUT_SECONDS: Final = 3
PG_STATEMENT_TIMEOUT_MS: Final = 10_000
POSTGRES_HINT: Final = "pip install 'tap-salesforce-accounts[postgres]'"
# Any constant: serializes concurrent CREATE TABLE IF NOT EXISTS, which PostgreSQL does not
# make atomic (two sessions can both try to create the row type and one fails).
PG_DDL_LOCK: Final = 0x7A5F_4B00

PG_SCHEMA: Final = (
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


class _PgCursor(Cursor):
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
        self._password = url_password(location.target)
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
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (PG_DDL_LOCK,))
                for statement in PG_SCHEMA:
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
    def _transaction(self) -> Iterator[Cursor]:
        connection = self._connect()
        with connection.transaction(), connection.cursor() as cur:
            yield _PgCursor(cur)

    @contextlib.contextmanager
    def _reader(self) -> Iterator[Cursor]:
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
