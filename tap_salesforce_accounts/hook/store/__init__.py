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

from typing import TYPE_CHECKING

from tap_salesforce_accounts.exceptions import StoreError
from tap_salesforce_accounts.hook.store.base import (
    DEFAULT_HISTORY_LIMIT,
    LastGood,
    StatusStore,
    SyncEvent,
    iso_utc,
    parse_iso,
    value_key,
)
from tap_salesforce_accounts.hook.store.location import StoreLocation, redact_url
from tap_salesforce_accounts.hook.store.postgres import PostgresStore
from tap_salesforce_accounts.hook.store.sqlite import SqliteStore

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "DEFAULT_HISTORY_LIMIT",
    "LastGood",
    "PostgresStore",
    "SqliteStore",
    "StatusStore",
    "StoreError",
    "StoreLocation",
    "SyncEvent",
    "iso_utc",
    "open_store",
    "parse_iso",
    "redact_url",
    "value_key",
]


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
