"""The session hook: one Account's fields for a new session, and the status of the syncs."""

from __future__ import annotations

from tap_salesforce_accounts.exceptions import StoreError
from tap_salesforce_accounts.hook.result import ErrorInfo, LookupResult
from tap_salesforce_accounts.hook.session import HookSettings, SessionHook

__all__ = ["ErrorInfo", "HookSettings", "LookupResult", "SessionHook", "StoreError"]
