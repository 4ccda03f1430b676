"""The session hook: one Account's fields for a new session, and the status of the syncs."""

from __future__ import annotations

from tap_salesforce_accounts.hook.result import ErrorInfo, LookupResult
from tap_salesforce_accounts.hook.session import HookSettings, SessionHook
from tap_salesforce_accounts.hook.store import StoreError

__all__ = ["ErrorInfo", "HookSettings", "LookupResult", "SessionHook", "StoreError"]
