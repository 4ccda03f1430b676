"""Runs the tap's on-demand mode for one value and reads its Singer messages back.

Two runners, one interface (``run(value, timeout) -> Attempt``), each with its own hard
deadline:

- :class:`InProcessRunner` (the default): one tap built once, so one token, one HTTP
  session (keep-alive connections) and one describe serve every lookup. The tap writes to a
  capturing message writer that keeps each calling thread's messages apart. Lookups run in a
  thread pool and the caller waits ``future.result(timeout)``; the HTTP calls themselves are
  bounded by a ``request_timeout`` no longer than the deadline.
- :class:`SubprocessRunner`: ``python -m tap_salesforce_accounts --config FILE --config
  LOOKUP`` per lookup, for isolation, where ``LOOKUP`` is a private file holding only
  ``account_id`` (a command line would show the value to anyone running ``ps``); the child
  is killed at the deadline. Its exit code names the error (the codes documented in the
  README).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.singerlib import RecordMessage, SchemaMessage
from singer_sdk.singerlib.encoding.base import GenericSingerWriter

from tap_salesforce_accounts import exceptions
from tap_salesforce_accounts.client import ClientSettings
from tap_salesforce_accounts.configfile import write_json_private
from tap_salesforce_accounts.exceptions import TapSalesforceError
from tap_salesforce_accounts.hook.result import INTERNAL_CODE, TIMEOUT_CODE, ErrorInfo, dumps, loads
from tap_salesforce_accounts.tap import ERROR_FORMAT_VARIABLE, TapSalesforceAccounts

if TYPE_CHECKING:
    from collections.abc import Mapping

    import requests
    from singer_sdk.singerlib.encoding.simple import Message

    from tap_salesforce_accounts.client import ApiUsage, SalesforceClient

logger = logging.getLogger(__name__)

Outcome = Literal["ok", "not_found", "error"]
UNAVAILABLE_CODE: Final = exceptions.UnavailableError.code

# The tap's documented exit codes, back to its error codes.
EXIT_CODES: Final = exceptions.CODE_BY_EXIT_CODE


def _reported_error(stderr: bytes) -> ErrorInfo | None:
    """The error the child tap reported as a JSON line (``ERROR_FORMAT_VARIABLE=json``)."""
    for line in reversed(stderr.decode("utf-8", "replace").splitlines()):
        if not line.startswith('{"error"'):
            continue
        try:
            said = loads(line)["error"]
            return ErrorInfo(str(said["code"]), str(said["message"]))
        except (ValueError, KeyError, TypeError):
            continue
    return None


@dataclasses.dataclass(frozen=True, slots=True)
class Attempt:
    """What one run of the tap for one value gave.

    ``salesforce_calls`` counts the HTTP requests that got an answer from Salesforce during
    this attempt (token and describe included), when the runner can see them. The session
    hook stamps ``synced_at`` with its own clock.
    """

    outcome: Outcome
    record: dict[str, Any] | None = None
    error: ErrorInfo | None = None
    synced_at: float | None = None
    salesforce_calls: int | None = None
    usage: ApiUsage | None = None


def attempt_from_error(exc: TapSalesforceError, **extra: Any) -> Attempt:  # noqa: ANN401
    """The attempt an error of the tap stands for: ``not_found`` or ``error``."""
    if isinstance(exc, exceptions.AccountNotFoundError):
        return Attempt("not_found", **extra)
    return Attempt("error", error=ErrorInfo(exc.code, exc.message), **extra)


def timeout_error(timeout: float) -> ErrorInfo:
    """The error of a lookup that ran out of time."""
    return ErrorInfo(
        TIMEOUT_CODE,
        f"Salesforce did not answer within the lookup deadline ({timeout:.3g}s): it is slow "
        "or unreachable; raise lookup_timeout_seconds if this persists.",
    )


def tuned_config(config: Mapping[str, Any], timeout: float) -> dict[str, Any]:
    """The tap settings for lookups under a deadline of ``timeout`` seconds.

    One HTTP wait may not outlast the deadline, and retries are few: a retry that cannot
    finish in time only keeps a worker busy after the caller got its answer.
    """
    settings = ClientSettings.from_config(config)  # checks the values first
    tuned = dict(config)
    tuned["request_timeout"] = min(settings.request_timeout, timeout)
    tuned["max_retries"] = min(settings.max_retries, 2)
    tuned.pop("account_id", None)
    return tuned


class CapturingWriter(GenericSingerWriter[bytes, "Message"]):
    """A Singer message writer that keeps each thread's messages in that thread's list.

    The hook's threads share one tap: a thread opens its list with :meth:`begin`, the tap
    writes SCHEMA and RECORD messages into it, and :meth:`end` hands them over. Messages
    written outside ``begin``/``end`` are dropped.
    """

    def __init__(self) -> None:
        """Start with no open list."""
        self._local = threading.local()

    def begin(self) -> list[Message]:
        """Open the calling thread's list of messages."""
        messages: list[Message] = []
        self._local.messages = messages
        return messages

    def end(self) -> None:
        """Close the calling thread's list."""
        self._local.messages = None

    def serialize_message(self, message: Message) -> bytes:
        """The message as a JSON line (unused by the hook; the SDK's interface needs it)."""
        return dumps(message.to_dict()).encode()

    def write_message(self, message: Message) -> None:
        """Keep the message in the calling thread's list."""
        messages: list[Message] | None = getattr(self._local, "messages", None)
        if messages is not None:
            messages.append(message)

    def flush(self) -> None:
        """Nothing is buffered."""


def read_record(messages: list[Message]) -> dict[str, Any] | None:
    """The record of the last RECORD message after a SCHEMA message, if any."""
    schema_seen = False
    record: dict[str, Any] | None = None
    for message in messages:
        if isinstance(message, SchemaMessage):
            schema_seen = True
        elif isinstance(message, RecordMessage) and schema_seen:
            record = dict(message.record)
    return record


@contextlib.contextmanager
def _signal_handlers_kept() -> Any:  # noqa: ANN401
    """Keep the application's SIGINT/SIGTERM handlers.

    The SDK replaces them, in the main thread, with a ``sys.exit(0)`` that belongs to a
    command-line tap, not to a library inside an application.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def build_tap(
    config: Mapping[str, Any],
    writer: CapturingWriter | None = None,
    *,
    client: SalesforceClient | None = None,
) -> TapSalesforceAccounts:
    """Build the tap without touching the network (no mapper, no discovery yet).

    Raises:
        ConfigError: the settings are invalid.
    """
    try:
        with _signal_handlers_kept():
            return TapSalesforceAccounts(
                config=dict(config),
                message_writer=writer,
                parse_env_config=False,
                validate_config=True,
                setup_mapper=False,
                client=client,
            )
    except ConfigValidationError as exc:
        raise exceptions.config_validation_error(exc) from None


class InProcessRunner:
    """Runs lookups on one tap in this process.

    Args:
        config: the tap settings (already tuned for the deadline).
        max_workers: lookups that can wait on Salesforce at once.
    """

    mode: Final = "in_process"

    def __init__(self, config: Mapping[str, Any], *, max_workers: int) -> None:
        """Build the tap and its client (checking the settings); nothing is requested yet.

        Raises:
            ConfigError: the settings are invalid.
        """
        self._config = dict(config)
        self._writer = CapturingWriter()
        self._tap = build_tap(self._config, self._writer)
        self.client = self._tap.client
        self._ready = False
        self._dirty = False
        self._init_lock = threading.Lock()
        self._calls = threading.local()
        self.client.session.hooks["response"].append(self._count_response)
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=max_workers, thread_name_prefix="tap-salesforce-accounts-hook"
        )
        self._inflight: set[concurrent.futures.Future[Attempt]] = set()
        self._inflight_lock = threading.Lock()
        self._close_when_idle = False

    def _count_response(self, response: requests.Response, *_args: Any, **_kwargs: Any) -> None:  # noqa: ANN401
        # Called by requests in the thread that sent the request: count it for that lookup.
        if getattr(self._calls, "count", None) is not None:
            self._calls.count += 1
        del response

    def _ready_tap(self) -> TapSalesforceAccounts:
        """The tap with its stream discovered (token and describe fetched once)."""
        if self._ready:
            return self._tap
        with self._init_lock:
            if not self._ready:
                if self._dirty:
                    # The SDK keeps a half-built stream list after a failed discovery:
                    # start from a fresh tap (same client: token and session are kept).
                    self._tap = build_tap(
                        self._config,
                        self._writer,
                        client=self.client,
                    )
                self._dirty = True
                self._tap.setup_mapper()
                _ = self._tap.account_stream
                self._ready = True
            return self._tap

    def warm_up(self) -> None:
        """Fetch the token and the describe, and build the stream, now."""
        self._ready_tap()

    def _sync_within(self, value: str, started: float, timeout: float) -> Attempt:
        attempt = self._sync(value)
        # HTTP waits are cut to the deadline (tuned_config): an "unavailable" that came at
        # or after it is the deadline passing, whichever thread noticed first.
        unavailable = attempt.error is not None and attempt.error.code == UNAVAILABLE_CODE
        if unavailable and time.monotonic() - started >= timeout:
            return dataclasses.replace(attempt, error=timeout_error(timeout))
        return attempt

    def _sync(self, value: str) -> Attempt:
        self._calls.count = 0
        messages = self._writer.begin()
        try:
            try:
                tap = self._ready_tap()
                tap.sync_one(value)
            finally:
                calls = int(self._calls.count)
                self._calls.count = None
                self._writer.end()
        except TapSalesforceError as exc:
            return attempt_from_error(exc, salesforce_calls=calls, usage=self.client.usage)
        record = read_record(messages)
        if record is None:
            error = ErrorInfo(INTERNAL_CODE, "the tap wrote no RECORD message for the lookup.")
            return Attempt("error", error=error, salesforce_calls=calls, usage=self.client.usage)
        return Attempt(
            "ok",
            record=record,
            salesforce_calls=calls,
            usage=self.client.usage,
        )

    def run(self, value: str, timeout: float) -> Attempt:
        """Look ``value`` up, waiting at most ``timeout`` seconds."""
        future = self.submit(value, timeout)
        try:
            return future.result(timeout=max(timeout, 0.0))
        except concurrent.futures.TimeoutError:
            return self.timed_out(future, timeout)

    def submit(self, value: str, timeout: float) -> concurrent.futures.Future[Attempt]:
        """Start looking ``value`` up in a worker; the caller waits ``timeout`` on the future."""
        future = self._pool.submit(self._sync_within, value, time.monotonic(), timeout)
        with self._inflight_lock:
            self._inflight.add(future)
        future.add_done_callback(self._forget)
        return future

    def timed_out(self, future: concurrent.futures.Future[Attempt], timeout: float) -> Attempt:
        """The attempt of a lookup whose caller stopped waiting after ``timeout`` seconds."""
        # The worker goes on until its HTTP call times out; its answer is dropped.
        future.cancel()
        return Attempt("error", error=timeout_error(timeout), usage=self.client.usage)

    def _forget(self, future: concurrent.futures.Future[Attempt]) -> None:
        with self._inflight_lock:
            self._inflight.discard(future)
            close_now = self._close_when_idle and not self._inflight
            if close_now:
                self._close_when_idle = False
        if close_now:
            self.client.close()

    def describe_client(self) -> SalesforceClient:
        """The client whose describe :meth:`SessionHook.fields` reads."""
        return self.client

    def close(self, timeout: float) -> None:
        """Stop the workers, waiting at most ``timeout`` seconds for running lookups.

        Lookups still waiting on Salesforce after that (their callers already answered)
        end by their own HTTP timeouts; the HTTP session closes after the last of them.
        """
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._inflight_lock:
            running = set(self._inflight)
        _, not_done = concurrent.futures.wait(running, timeout=timeout)
        if not_done:
            with self._inflight_lock:
                self._close_when_idle = bool(self._inflight)
                close_now = not self._inflight
            if close_now:
                self.client.close()
            return
        self._pool.shutdown(wait=True)
        self.client.close()


class SubprocessRunner:
    """Runs each lookup as a ``tap-salesforce-accounts`` process.

    Args:
        config: the tap settings (already tuned for the deadline).
    """

    mode: Final = "subprocess"

    def __init__(self, config: Mapping[str, Any]) -> None:
        """Check the settings and write them to a private temporary file (mode 0600).

        Raises:
            ConfigError: the settings are invalid.
        """
        self._config = dict(config)
        # The same checks as the child will make, so errors surface at construction.
        build_tap(self._config).client.close()
        self._dir = Path(tempfile.mkdtemp(prefix="tap-salesforce-accounts-hook-"))
        self._file = self._dir / "config.json"
        write_json_private(self._file, self._config)
        self._client_lock = threading.Lock()
        self._client: SalesforceClient | None = None
        self.command = [
            sys.executable,
            "-m",
            "tap_salesforce_accounts",
            "--config",
            str(self._file),
        ]

    def run(self, value: str, timeout: float) -> Attempt:
        """Run the tap for ``value``; kill it at ``timeout`` seconds."""
        if "\x00" in value:
            error = ErrorInfo(
                exceptions.InvalidLookupValueError.code,
                "the lookup value contains a NUL character.",
            )
            return Attempt("error", error=error)
        lookup = self._dir / f"lookup-{uuid.uuid4().hex}.json"
        try:
            write_json_private(lookup, {"account_id": value})
            return self._run_child(lookup, timeout)
        finally:
            lookup.unlink(missing_ok=True)

    def _run_child(self, lookup: Path, timeout: float) -> Attempt:
        try:
            completed = subprocess.run(  # noqa: S603  (our own interpreter and module)
                [*self.command, "--config", str(lookup)],
                capture_output=True,
                timeout=max(timeout, 0.001),
                check=False,
                stdin=subprocess.DEVNULL,
                env={**os.environ, ERROR_FORMAT_VARIABLE: "json"},
            )
        except subprocess.TimeoutExpired:
            return Attempt("error", error=timeout_error(timeout))
        except OSError as exc:
            error = ErrorInfo(
                INTERNAL_CODE, f"cannot start {TapSalesforceAccounts.name} ({exc.strerror})."
            )
            return Attempt("error", error=error)
        return self._read(completed)

    def _read(self, completed: subprocess.CompletedProcess[bytes]) -> Attempt:
        code = completed.returncode
        if code != 0:
            error = _reported_error(completed.stderr) or ErrorInfo(
                EXIT_CODES.get(code, INTERNAL_CODE),
                f"{TapSalesforceAccounts.name} exited with {code}.",
            )
            if error.code == exceptions.AccountNotFoundError.code:
                return Attempt("not_found")
            return Attempt("error", error=error)
        schema_seen = False
        record: dict[str, Any] | None = None
        for line in completed.stdout.splitlines():
            if not line.strip():
                continue
            try:
                message = loads(line)
            except ValueError:
                continue
            if not isinstance(message, dict):
                continue
            if message.get("type") == "SCHEMA":
                schema_seen = True
            elif message.get("type") == "RECORD" and schema_seen:
                record = message.get("record")
        if not isinstance(record, dict):
            error = ErrorInfo(
                INTERNAL_CODE, f"{TapSalesforceAccounts.name} wrote no RECORD message."
            )
            return Attempt("error", error=error)
        return Attempt("ok", record=record)

    def warm_up(self) -> None:
        """Fill the describe cache on disk, which every child reads."""
        self.describe_client().describe_account()

    def describe_client(self) -> SalesforceClient:
        """A client of this process for :meth:`SessionHook.fields` (built on first use)."""
        with self._client_lock:
            if self._client is None:
                self._client = build_tap(self._config).client
            return self._client

    def close(self, timeout: float) -> None:
        """Remove the temporary config file."""
        del timeout
        if self._client is not None:
            self._client.close()
        shutil.rmtree(self._dir, ignore_errors=True)
