"""The session hook: one Account's fields for a new session, within a deadline, with a status.

::

    hook = SessionHook("config.json")          # checks the settings; no network yet
    hook.warm_up()                             # optional: token and describe now
    result = hook.lookup("CUST-000123")        # LookupResult: ok | not_found | error | stale
    result.to_json()                           # {"status", "account", "error", "synced_at"}
    hook.status()                              # last success, last failure and its error
    hook.history(20)                           # recent syncs, newest first
    hook.fields()                              # the Account fields, for a settings page
    hook.close()

``lookup`` never raises for anything Salesforce or the store does: a slow or unreachable
org, a refused token, a broken store. It returns within ``lookup_timeout_seconds`` (plus a few
milliseconds). Settings errors raise :class:`~tap_salesforce_accounts.exceptions.ConfigError`
at construction.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import dataclasses
import logging
import socket
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, Self
from urllib.parse import quote

from tap_salesforce_accounts import exceptions, schema, unknown_keys
from tap_salesforce_accounts.configfile import read_json_object
from tap_salesforce_accounts.exceptions import ConfigError, StoreError
from tap_salesforce_accounts.hook.recorder import Recorder, StoreWarnings
from tap_salesforce_accounts.hook.result import (
    INTERNAL_CODE,
    ErrorInfo,
    LookupResult,
    dumps,
    loads,
)
from tap_salesforce_accounts.hook.runner import (
    Attempt,
    InProcessRunner,
    SubprocessRunner,
    tuned_config,
)
from tap_salesforce_accounts.hook.store import (
    DEFAULT_HISTORY_LIMIT,
    StoreLocation,
    SyncEvent,
    iso_utc,
    open_store,
    value_key,
)
from tap_salesforce_accounts.sdk_private import env_config
from tap_salesforce_accounts.settings import (
    DEFAULT_INDEX_FIELD,
    DEFAULT_INTEGRATION_ID,
    DEFAULT_LOOKUP_TIMEOUT,
    DEFAULT_STALE_MAX_AGE,
    MAX_LOOKUP_TIMEOUT,
    read_number,
)
from tap_salesforce_accounts.tap import TapSalesforceAccounts

if TYPE_CHECKING:
    import os
    from collections.abc import Callable
    from types import TracebackType

logger = logging.getLogger(__name__)

Mode = Literal["in_process", "subprocess"]
MODES: Final = ("in_process", "subprocess")

DEFAULT_MAX_WORKERS: Final = 32
# With stale_fallback, this share of the deadline (at most STALE_RESERVE_MAX seconds) is kept
# for reading the last good fields after Salesforce failed.
STALE_RESERVE_SHARE: Final = 0.1
STALE_RESERVE_MAX: Final = 0.5
STORE_READ_TIMEOUT: Final = 5.0
_SECRET_KEYS: Final = ("client_secret", "refresh_token", "private_key", "hook_api_token")
# Outcomes decided by the data or the settings, not by an outage: an old answer would hide
# a real change (the value now matches several Accounts, the index field was changed).
_NO_STALE_CODES: Final = frozenset(
    {
        exceptions.MultipleAccountsError.code,
        exceptions.InvalidLookupValueError.code,
        exceptions.MalformedIdError.code,
        exceptions.IndexFieldError.code,
        exceptions.ConfigError.code,
    }
)


@dataclasses.dataclass(frozen=True, slots=True)
class HookSettings:
    """The hook's own settings, checked."""

    store_url: str | None
    integration_id: str
    lookup_timeout: float
    stale_fallback: bool
    stale_max_age: float
    index_field: str

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> HookSettings:
        """Read the ``hook_*``, ``lookup_timeout_seconds`` and ``stale_*`` settings.

        Raises:
            ConfigError: a value is missing its type or out of range.
        """
        timeout = read_number(
            config,
            "lookup_timeout_seconds",
            DEFAULT_LOOKUP_TIMEOUT,
            low=0,
            high=MAX_LOOKUP_TIMEOUT,
        )
        max_age = read_number(
            config, "stale_max_age_seconds", DEFAULT_STALE_MAX_AGE, low=0, low_inclusive=True
        )
        stale = config.get("stale_fallback")
        stale = False if stale is None else stale
        if not isinstance(stale, bool):
            msg = f"stale_fallback must be true or false, not {stale!r}."
            raise ConfigError(msg)
        integration_id = config.get("hook_integration_id")
        integration_id = DEFAULT_INTEGRATION_ID if integration_id is None else integration_id
        if not isinstance(integration_id, str) or not integration_id.strip():
            msg = (
                "hook_integration_id must be a non-empty string "
                f"(default {DEFAULT_INTEGRATION_ID!r})."
            )
            raise ConfigError(msg)
        store_url = config.get("hook_store_url")
        if store_url is not None and not isinstance(store_url, str):
            msg = "hook_store_url must be a string: sqlite:///path.db or postgresql://..."
            raise ConfigError(msg)
        return cls(
            store_url=store_url,
            integration_id=integration_id.strip(),
            lookup_timeout=timeout,
            stale_fallback=stale,
            stale_max_age=max_age,
            index_field=str(config.get("index_field") or DEFAULT_INDEX_FIELD),
        )


def load_config(
    config: Mapping[str, Any] | str | os.PathLike[str], *, parse_env_config: bool = False
) -> dict[str, Any]:
    """The settings from a mapping or a JSON file.

    With ``parse_env_config``, ``TAP_SALESFORCE_ACCOUNTS_*`` environment variables override
    the file, as in the tap.

    Raises:
        ConfigError: the file cannot be read or is not a JSON object.
    """
    if isinstance(config, Mapping):
        settings = dict(config)
    else:
        settings = read_json_object(Path(config), "config file")
    if parse_env_config:
        settings.update(env_config(TapSalesforceAccounts))
    unknown_keys.warn_unknown_keys(settings)
    return settings


def read_status(
    config: Mapping[str, Any] | str | os.PathLike[str],
    *,
    history: int | None = None,
    parse_env_config: bool = False,
) -> dict[str, Any] | list[dict[str, Any]]:
    """The status (or, with ``history``, the recent syncs) from the store alone.

    Unlike :class:`SessionHook`, this needs no usable Salesforce settings: a settings page
    can show the last error of an integration whose credentials are missing or revoked.

    Raises:
        ConfigError: the hook's own settings are invalid.
        StoreError: the store cannot be read, or there is no SQLite store where it should be.
    """
    settings = load_config(config, parse_env_config=parse_env_config)
    hook_settings = HookSettings.from_config(settings)
    location = StoreLocation.parse(hook_settings.store_url)
    if location.backend == "sqlite" and not Path(location.target).exists():
        # Opening it would create an empty store and report zeros, as if nothing had run.
        msg = (
            f"there is no status store at {location.target}: the hook keeps it where "
            "hook_store_url says, by default in .tap-salesforce-accounts/hook.db under the "
            "folder it runs in; run this command from that folder or set hook_store_url."
        )
        raise StoreError(msg)
    store = open_store(hook_settings.store_url)
    try:
        if history is not None:
            return store.history(hook_settings.integration_id, history)
        status = store.status(hook_settings.integration_id)
        status["store"] = StoreLocation.parse(hook_settings.store_url).display
        return status
    finally:
        store.close()


class SessionHook:
    """Looks up one Account for a new session and keeps the sync status.

    Args:
        config: the tap settings (a mapping or a JSON file path); see the README.
        mode: ``in_process`` (default: one tap, one token and connection for every lookup) or
            ``subprocess`` (one ``tap-salesforce-accounts`` process per lookup, for isolation).
        parse_env_config: also read ``TAP_SALESFORCE_ACCOUNTS_*`` environment variables.
        max_workers: in-process lookups that can wait on Salesforce at the same time.
        history_limit: syncs kept in the store per integration.
        clock: the wall clock (epoch seconds); tests pass a fake.
        cwd: the folder the default store lives under (the working directory by default).

    Raises:
        ConfigError: a setting is missing or wrong, or ``psycopg`` is needed and missing.
    """

    def __init__(  # noqa: PLR0913
        self,
        config: Mapping[str, Any] | str | os.PathLike[str],
        *,
        mode: Mode = "in_process",
        parse_env_config: bool = False,
        max_workers: int = DEFAULT_MAX_WORKERS,
        history_limit: int = DEFAULT_HISTORY_LIMIT,
        clock: Callable[[], float] = time.time,
        cwd: Path | None = None,
    ) -> None:
        """Check the settings and prepare the tap; nothing is sent to Salesforce yet."""
        settings = load_config(config, parse_env_config=parse_env_config)
        self.settings = HookSettings.from_config(settings)
        self.mode: Mode = mode
        self._clock = clock
        self._secrets = tuple(
            str(settings[key])
            for key in _SECRET_KEYS
            if settings.get(key) and len(str(settings[key])) >= 4  # noqa: PLR2004
        )
        location = StoreLocation.parse(self.settings.store_url, cwd=cwd)
        self.store_display = location.display
        # Both stores are built before anything starts, so a ConfigError leaves nothing behind.
        writer_store = open_store(self.settings.store_url, cwd=cwd, history_limit=history_limit)
        self._reader = open_store(self.settings.store_url, cwd=cwd, history_limit=history_limit)
        tuned = tuned_config(settings, self.settings.lookup_timeout)
        if mode not in MODES:
            msg = f"mode must be 'in_process' or 'subprocess', not {mode!r}."
            raise ConfigError(msg)
        self._runner: InProcessRunner | SubprocessRunner = (
            SubprocessRunner(tuned)
            if mode == "subprocess"
            else InProcessRunner(tuned, max_workers=max_workers)
        )
        self._warnings = StoreWarnings()
        self._recorder = Recorder(
            writer_store,
            self._warnings,
            last_good_cutoff=self._last_good_cutoff if self.settings.stale_fallback else None,
        )
        self._store_pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=2, thread_name_prefix="tap-salesforce-accounts-hook-store"
        )
        self._host = socket.gethostname()
        self._closed = False
        # A hook the application never closes still writes its last syncs at exit.
        atexit.register(self._recorder.close, STORE_READ_TIMEOUT)

    # -- lookups ---------------------------------------------------------------------------

    def lookup(self, value: str) -> LookupResult:
        """The fields of the Account whose index field equals ``value``.

        Never raises for Salesforce or store problems; returns within
        ``lookup_timeout_seconds`` (plus a few milliseconds).

        Returns:
            ``ok`` with the fields, ``not_found``, ``error`` with a code and message, or
            ``stale`` with the last good fields (only with ``stale_fallback``).
        """
        started = time.monotonic()
        at = self._clock()
        value = str(value)
        try:
            attempt = None if self._closed else self._runner.run(value, self._budget())
            result, event = self._finish(value, attempt, started, at)
        except Exception as exc:  # noqa: BLE001  (logged there: the page must load regardless)
            result, event = self._unexpected(exc, value, started, at)
        self._record(event)
        return result

    async def lookup_async(self, value: str) -> LookupResult:
        """:meth:`lookup` for an asyncio event loop, with the same answers and deadline.

        In-process, the loop itself waits on the tap's worker: no thread is held per
        lookup, and the answer reaches the loop one thread switch sooner.
        """
        runner = self._runner
        if self._closed or not isinstance(runner, InProcessRunner):
            return await asyncio.to_thread(self.lookup, value)
        started = time.monotonic()
        at = self._clock()
        value = str(value)
        try:
            budget = self._budget()
            future = runner.submit(value, budget)
            try:
                attempt = await asyncio.wait_for(asyncio.wrap_future(future), budget)
            except TimeoutError:
                attempt = runner.timed_out(future, budget)
            if self.settings.stale_fallback and attempt.outcome == "error":
                # The last good fields are read from the store: not on the loop.
                result, event = await asyncio.to_thread(self._finish, value, attempt, started, at)
            else:
                result, event = self._finish(value, attempt, started, at)
        except Exception as exc:  # noqa: BLE001  (logged there: the page must load regardless)
            result, event = self._unexpected(exc, value, started, at)
        self._record(event)
        return result

    def _budget(self) -> float:
        """The seconds the tap may take: the deadline, less the stale fallback's reserve."""
        timeout = self.settings.lookup_timeout
        if not self.settings.stale_fallback:
            return timeout
        return timeout - min(STALE_RESERVE_MAX, timeout * STALE_RESERVE_SHARE)

    def _unexpected(
        self, exc: Exception, value: str, started: float, at: float
    ) -> tuple[LookupResult, SyncEvent]:
        logger.error(
            "Session hook lookup failed unexpectedly (%s)", type(exc).__name__, exc_info=exc
        )
        error = ErrorInfo(INTERNAL_CODE, f"the lookup failed unexpectedly ({type(exc).__name__}).")
        duration = (time.monotonic() - started) * 1000
        result = LookupResult("error", error=error, duration_ms=duration)
        return result, self._event(at, result, value, None)

    def _record(self, event: SyncEvent) -> None:
        try:
            self._recorder.submit(event)
        except Exception:
            logger.warning("Cannot queue the sync event for the status store", exc_info=True)

    def _finish(
        self, value: str, attempt: Attempt | None, started: float, at: float
    ) -> tuple[LookupResult, SyncEvent]:
        """The answer and the sync event of an attempt (``None``: the hook is closed)."""
        if attempt is None:
            error = ErrorInfo(INTERNAL_CODE, "the session hook is closed.")
            result = LookupResult("error", error=error)
            return result, self._event(at, result, value, None)
        # The fields were read just now: the hook's clock stamps them (tests fake it).
        attempt = dataclasses.replace(attempt, synced_at=self._clock())
        result = self._result(attempt, value, started + self.settings.lookup_timeout)
        result = dataclasses.replace(
            result,
            duration_ms=(time.monotonic() - started) * 1000,
            salesforce_calls=attempt.salesforce_calls,
            api_usage=attempt.usage,
        )
        logger.debug(
            "Lookup answered %s in %.1f ms (%s Salesforce requests)",
            result.status,
            result.duration_ms,
            attempt.salesforce_calls,
        )
        return result, self._event(at, result, value, attempt)

    def _result(self, attempt: Attempt, value: str, deadline: float) -> LookupResult:
        if attempt.outcome == "ok":
            synced = attempt.synced_at if attempt.synced_at is not None else self._clock()
            return LookupResult("ok", account=attempt.record, synced_at=iso_utc(synced))
        if attempt.outcome == "not_found":
            return LookupResult("not_found")
        error = attempt.error or ErrorInfo(INTERNAL_CODE, "the lookup failed.")
        error = ErrorInfo(error.code, self._scrub(error.message))
        if self.settings.stale_fallback and error.code not in _NO_STALE_CODES:
            stale = self._stale(value, error, deadline)
            if stale is not None:
                return stale
        return LookupResult("error", error=error)

    def _stale(  # noqa: PLR0911  (each way to have no usable fields)
        self, value: str, error: ErrorInfo, deadline: float
    ) -> LookupResult | None:
        key = value_key(self.settings.index_field, value)
        future = self._store_pool.submit(self._reader.last_good, self.settings.integration_id, key)
        try:
            good = future.result(timeout=max(0.05, deadline - time.monotonic()))
        except concurrent.futures.TimeoutError:
            future.cancel()
            logger.warning("The status store did not return the last good fields in time.")
            return None
        except StoreError as exc:
            self._warnings.problem(exc, "reading the last good fields")
            return None
        if good is None:
            return None
        age = max(0.0, self._clock() - good.synced_at)
        if age > self.settings.stale_max_age:
            return None
        try:
            fields = loads(good.fields)
        except ValueError:
            return None
        if not isinstance(fields, dict):
            return None
        return LookupResult(
            "stale",
            account=fields,
            error=error,
            synced_at=iso_utc(good.synced_at),
            stale_age_seconds=round(age, 3),
        )

    def _event(
        self, at: float, result: LookupResult, value: str, attempt: Attempt | None
    ) -> SyncEvent:
        usage = attempt.usage if attempt is not None else None
        good_key = good_fields = good_synced = None
        if self.settings.stale_fallback and result.status in {"ok", "not_found"}:
            good_key = value_key(self.settings.index_field, value)
            if result.status == "ok" and result.account is not None:
                good_fields = dumps(result.account)
                good_synced = attempt.synced_at if attempt is not None else at
        error = result.error
        return SyncEvent(
            integration_id=self.settings.integration_id,
            at=at,
            status=result.status,
            duration_ms=result.duration_ms,
            mode=self.mode,
            host=self._host,
            salesforce_calls=attempt.salesforce_calls if attempt is not None else None,
            api_used=usage.used if usage is not None else None,
            api_limit=usage.limit if usage is not None else None,
            error_code=error.code if error is not None else None,
            # The looked-up value can be customer data: the store keeps a placeholder.
            error_message=_stored_message(error, value) if error is not None else None,
            good_key=good_key,
            good_fields=good_fields,
            good_synced_at=good_synced,
        )

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _last_good_cutoff(self) -> float:
        return self._clock() - self.settings.stale_max_age

    def warm_up(self) -> None:
        """Get the token and the Account describe now, so that the first lookup is warm too.

        Optional (the first lookup does it otherwise); call it at application start. In
        subprocess mode it fills the describe cache on disk that each child reads.

        Raises:
            TapSalesforceError: Salesforce could not be asked (auth, network, index field...).
        """
        self._runner.warm_up()

    # -- status ----------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """The integration's sync status.

        Returns:
            ``last_success_at``, ``last_failure_at``, ``last_error`` (``code``, ``message``,
            ``at``) or ``None``, ``integration_id``, ``successes``, ``failures``, ``store``.

        Raises:
            StoreError: the store cannot be read.
        """
        self._recorder.flush(STORE_READ_TIMEOUT)
        status = self._reader.status(self.settings.integration_id)
        status["store"] = self.store_display
        return status

    def history(self, limit: int = 20) -> list[dict[str, Any]]:
        """The integration's most recent syncs, newest first.

        Each has ``at``, ``status``, ``duration_ms``, ``salesforce_calls``, ``api_usage``
        (``used``, ``limit``), ``error`` (``code``, ``message``), ``mode`` and ``host``.

        Raises:
            StoreError: the store cannot be read.
        """
        self._recorder.flush(STORE_READ_TIMEOUT)
        return self._reader.history(self.settings.integration_id, limit)

    def fields(self) -> list[dict[str, Any]]:
        """The Account fields from the describe (the tap's cache when fresh).

        Returns:
            ``name``, ``label``, ``type``, ``nillable`` and ``can_be_index_field`` per field,
            in describe order.

        Raises:
            TapSalesforceError: Salesforce could not be asked (auth, network, ...).
        """
        description = schema.ObjectDescription.from_describe(
            self._runner.describe_client().describe_account()
        )
        return [
            {
                "name": info.name,
                "label": info.label,
                "type": info.type,
                "nillable": info.nillable,
                "can_be_index_field": info.can_identify_one and not info.deprecated_and_hidden,
            }
            for info in description.fields
        ]

    def close(self) -> None:
        """Finish writing the status, stop the workers, close the connections."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self._recorder.close)
        timeout = self.settings.lookup_timeout + 1.0
        self._runner.close(timeout)
        self._recorder.close(STORE_READ_TIMEOUT)
        self._store_pool.shutdown(wait=True, cancel_futures=True)
        self._reader.close()

    def __enter__(self) -> Self:
        """Use as a context manager."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the hook."""
        self.close()


# Messages about the lookup value itself quote it (shortened, escaped): the store keeps
# these instead, so that no form of a customer's value lands in it.
_VALUE_FREE_MESSAGES: Final = {
    exceptions.MalformedIdError.code: "the lookup value is not a well-formed Account Id.",
    exceptions.InvalidLookupValueError.code: (
        "the lookup value cannot be sent to Salesforce (empty, or over 4,000 characters)."
    ),
    exceptions.MultipleAccountsError.code: (
        "several Accounts match the lookup value: the index field must identify one."
    ),
}


def _stored_message(error: ErrorInfo, value: str) -> str:
    return _VALUE_FREE_MESSAGES.get(error.code) or _without(error.message, value)


def _without(text: str, value: str) -> str:
    """``text`` with ``value`` (and its URL-encoded form) replaced by ``<value>``."""
    if len(value) < 3:  # noqa: PLR2004  (too short to be identifying, too common to replace)
        return text
    for form in {value, quote(value, safe=""), quote(value)}:
        text = text.replace(form, "<value>")
    return text
