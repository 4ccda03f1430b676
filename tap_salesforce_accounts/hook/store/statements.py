"""The statements both backends run (``?`` placeholders; PostgreSQL gets ``%s``)."""

from __future__ import annotations

from typing import Final

INSERT_HISTORY: Final = """
INSERT INTO salesforce_hook_history (integration_id, at, status, duration_ms, salesforce_calls,
    api_used, api_limit, error_code, error_message, mode, host)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""

# Right-hand sides see the row before the update, in SQLite and PostgreSQL alike. A later
# time never loses to an earlier one, whatever order concurrent writers commit in.
UPSERT_STATUS: Final = """
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

PRUNE_HISTORY: Final = """
DELETE FROM salesforce_hook_history
WHERE integration_id = ? AND id <= (
    SELECT id FROM salesforce_hook_history WHERE integration_id = ?
    ORDER BY id DESC LIMIT 1 OFFSET ?)
"""

UPSERT_LAST_GOOD: Final = """
INSERT INTO salesforce_hook_last_good (integration_id, value_hash, fields, synced_at)
VALUES (?, ?, ?, ?)
ON CONFLICT (integration_id, value_hash) DO UPDATE SET
    fields = excluded.fields, synced_at = excluded.synced_at
WHERE excluded.synced_at >= salesforce_hook_last_good.synced_at
"""

FORGET_LAST_GOOD: Final = """
DELETE FROM salesforce_hook_last_good WHERE integration_id = ? AND value_hash = ?
"""

PRUNE_LAST_GOOD: Final = """
DELETE FROM salesforce_hook_last_good WHERE integration_id = ? AND synced_at < ?
"""

SELECT_STATUS: Final = """
SELECT last_success_at, last_failure_at, last_error_code, last_error_message, successes, failures
FROM salesforce_hook_status WHERE integration_id = ?
"""

SELECT_HISTORY: Final = """
SELECT at, status, duration_ms, salesforce_calls, api_used, api_limit, error_code,
    error_message, mode, host
FROM salesforce_hook_history WHERE integration_id = ? ORDER BY id DESC LIMIT ?
"""

SELECT_LAST_GOOD: Final = """
SELECT fields, synced_at FROM salesforce_hook_last_good
WHERE integration_id = ? AND value_hash = ?
"""
