"""The tap: discovery from the Account describe, on-demand mode, the CLI."""

from __future__ import annotations

import ipaddress
import logging
import os
import sys
import warnings
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, Final, Self, TextIO
from urllib.parse import urlsplit

import click
from singer_sdk import Tap
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.plugin_base import SingerCommand
from singer_sdk.tap_base import CliTestOptionValue

from tap_salesforce_accounts import ids, logs, pipes, schema, unknown_keys
from tap_salesforce_accounts.auth import OAuthSettings
from tap_salesforce_accounts.client import ClientSettings, SalesforceClient
from tap_salesforce_accounts.configfile import read_json_object
from tap_salesforce_accounts.exceptions import (
    ApiUsageThresholdError,
    ConfigError,
    StdoutClosedError,
    TapSalesforceError,
    config_validation_error,
    report,
)
from tap_salesforce_accounts.sdk_private import ConfigInput, classproperty, env_config
from tap_salesforce_accounts.settings import DEFAULT_INDEX_FIELD, SETTINGS
from tap_salesforce_accounts.streams import STREAM_NAME, AccountStream
from tap_salesforce_accounts.writer import SingerJsonlWriter

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from types import FrameType

    from singer_sdk.singerlib.encoding.base import GenericSingerWriter

logger = logging.getLogger(__name__)

PROGRAM: Final = "tap-salesforce-accounts"
# Set to "json" (the session hook's subprocess mode does) to get errors as JSON lines.
ERROR_FORMAT_VARIABLE: Final = "TAP_SALESFORCE_ACCOUNTS_ERROR_FORMAT"


class TapSalesforceAccounts(Tap):
    """Singer tap for Salesforce Accounts."""

    name = PROGRAM
    config_jsonschema = SETTINGS
    message_writer_class = SingerJsonlWriter

    def __init__(  # noqa: PLR0913
        self,
        *,
        config: dict[str, Any] | PurePath | str | list[PurePath | str] | None = None,
        catalog: dict[str, Any] | None = None,
        state: dict[str, Any] | None = None,
        parse_env_config: bool = False,
        validate_config: bool = True,
        setup_mapper: bool = True,
        message_writer: GenericSingerWriter[Any, Any] | None = None,
        client: SalesforceClient | None = None,
    ) -> None:
        """Build the tap; nothing is requested from Salesforce until a stream is needed.

        Args:
            config: settings (see ``--about``).
            catalog: a Singer catalog.
            state: a Singer state.
            parse_env_config: read ``TAP_SALESFORCE_ACCOUNTS_*`` variables too.
            validate_config: check the settings against the schema.
            setup_mapper: set up stream maps.
            message_writer: where Singer messages go (stdout by default).
            client: a Salesforce client to reuse (one token, session and describe).
        """
        self._client = client
        self._description: schema.ObjectDescription | None = None
        logs.quiet_sdk_chatter(self.name, f"{self.name}.{STREAM_NAME}")
        super().__init__(
            config=config,
            catalog=catalog,
            state=state,
            parse_env_config=parse_env_config,
            validate_config=validate_config,
            setup_mapper=setup_mapper,
            message_writer=message_writer,
        )

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        # Runs once the settings are read (environment variables included) and before the
        # SDK asks for the streams: these checks cost no call to Salesforce.
        # The SDK's validation fills in defaults: a login_url left out would read as
        # login.salesforce.com, so loopback_only looks at the login_url that was given.
        given_login_url = self.config.get("login_url")
        found = super()._validate_config(raise_errors=raise_errors)
        unknown_keys.warn_unknown_keys(self.config)
        check_start_date(self.config.get("start_date"))
        check_loopback_only({**self.config, "login_url": given_login_url})
        return found

    # -- the org ---------------------------------------------------------------------------

    @property
    def client(self) -> SalesforceClient:
        """The one Salesforce client of this tap (token, session, describe)."""
        if self._client is None:
            self._client = SalesforceClient(
                OAuthSettings.from_config(self.config),
                ClientSettings.from_config(self.config),
            )
        return self._client

    def describe(self) -> schema.ObjectDescription:
        """The org's Account description (one describe per client, parsed once)."""
        if self._description is None:
            self._description = schema.ObjectDescription.from_describe(
                self.client.describe_account()
            )
        return self._description

    def discover_streams(self) -> Sequence[AccountStream]:
        """The one ``Account`` stream, its schema from the describe call."""
        return [AccountStream(self, self.client, self.describe())]

    @property
    def account_stream(self) -> AccountStream:
        """The ``Account`` stream."""
        stream = self.streams["Account"]
        assert isinstance(stream, AccountStream)  # noqa: S101  (the only stream type)
        return stream

    # -- running ---------------------------------------------------------------------------

    def run(self) -> None:
        """Sync every Account, or just ``account_id`` in on-demand mode."""
        account_id = self.config.get("account_id")
        if account_id is not None:
            self.sync_one(str(account_id))
            return
        try:
            self.sync_all()
        except ApiUsageThresholdError:
            # Stop cleanly: a last STATE covers every record written so far.
            stream = self.account_stream
            stream.close_bulk_job()
            stream.apply_pending_bookmark()
            stream.finalize_state_progress_markers()
            raise
        except BaseException:
            # Failed, interrupted or stopped by a signal (SystemExit): no job left running.
            if self._streams is not None:
                self.account_stream.close_bulk_job()
            raise

    def sync_one(self, value: str) -> dict[str, Any]:
        """On-demand mode: SCHEMA and one RECORD for the Account matching ``value``.

        No STATE is written: the incremental bookmark does not move.

        Returns:
            The record as written.
        """
        index_field = str(self.config.get("index_field") or DEFAULT_INDEX_FIELD)
        if index_field.lower() == "id":
            ids.normalize_account_id(value)  # a malformed Id costs no call, not even a token
        stream = self.account_stream
        record = stream.lookup(value, index_field)
        stream.write_one(record)
        self.message_writer.flush()  # type: ignore[attr-defined]
        return record

    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        # The SDK writes the state on SIGTERM/SIGINT: bring the bookmark up to date first.
        if self._streams is not None:
            self.account_stream.apply_pending_bookmark()
        super()._handle_termination(signum, frame)

    def check_connection(self) -> schema.FieldInfo:
        """Check the token, the describe and ``index_field``; log what was found.

        Returns:
            The index field.
        """
        description = self.describe()
        index_field = schema.check_index_field(
            description, str(self.config.get("index_field") or DEFAULT_INDEX_FIELD)
        )
        self.logger.info(
            "Connected to %s: %s Account fields; index_field %s can identify one Account.",
            self.client.tokens.token().instance_url,
            len(description.fields),
            index_field.name,
        )
        return index_field

    def connection_test(self) -> bool:
        """``--test``: read the first Account of an extraction (SCHEMA, one RECORD, no STATE).

        Unlike the SDK's test, it stops no sync after its first record, so nothing logs an
        error or a failed sync for a passing test.

        Returns:
            True: a failure raises instead.
        """
        record = self.account_stream.write_first_record()
        if record is None:
            self.logger.info("Connection test passed: the org has no Account the user can read.")
        else:
            self.logger.info("Connection test passed: read one Account.")
        return True

    # -- command line ----------------------------------------------------------------------

    @classmethod
    def get_singer_command(cls) -> click.Command:
        """The SDK's command, with ``--account-id`` and one place for error messages."""
        command = super().get_singer_command()
        command.params.append(
            click.Option(
                ["--account-id"],
                help="On-demand mode: emit only the Account whose index_field equals this.",
                default=None,
            )
        )
        return _TapCommand(
            name=command.name,
            callback=command.callback,
            params=command.params,
            help=command.help,
            context_settings=command.context_settings,
            logger=cls.logger,
        )

    @classmethod
    def invoke(  # type: ignore[override]  # noqa: PLR0913
        cls,
        *,
        about: bool = False,
        about_format: str | None = None,
        config: Any = None,  # noqa: ANN401
        state: TextIO | None = None,
        catalog: TextIO | None = None,
        account_id: str | None = None,
    ) -> None:
        """Run the tap from the command line."""
        # The SDK's base prints --about and exits; the tap is built here, with account_id.
        super(Tap, cls).invoke(about=about, about_format=about_format)
        settings: dict[str, Any] = dict(config.config) if config is not None else {}
        if account_id is not None:
            settings["account_id"] = account_id
        value = settings.get("account_id")
        if (
            value is not None
            and str(settings.get("index_field") or DEFAULT_INDEX_FIELD).lower() == "id"
        ):
            # Building the tap fetches a token and the describe: check the Id first.
            ids.normalize_account_id(str(value))
        tap = cls(
            config=settings,
            state=None if state is None else read_state(state),
            catalog=None if catalog is None else read_catalog(catalog),
            parse_env_config=bool(config is not None and config.parse_env),
            validate_config=True,
        )
        tap.run()

    @classmethod
    def _from_options(cls, ctx: click.Context, *, setup_mapper: bool = True) -> Self:
        """The tap of an option callback, from the ``--config`` already read."""
        config: ConfigInput | None = ctx.params.get("config")
        return cls(
            config=dict(config.config) if config is not None else {},
            parse_env_config=bool(config is not None and config.parse_env),
            setup_mapper=setup_mapper,
        )

    @classmethod
    def cb_discover(cls, ctx: click.Context, param: click.Option, value: bool) -> None:  # noqa: ARG003, FBT001
        """``--discover``, with the config checked: the catalog depends on the org."""
        if not value:
            return
        cls._from_options(ctx, setup_mapper=False).run_discovery()
        ctx.exit()

    @classmethod
    def cb_test(cls, ctx: click.Context, param: click.Option, value: str) -> None:  # noqa: ARG003
        """``--test``: check the token, the describe and ``index_field``, then read one Account."""
        if value == CliTestOptionValue.Disabled.value:
            return
        tap = cls._from_options(ctx)
        tap.check_connection()
        if value == CliTestOptionValue.Schema.value:
            tap.write_schemas()
        else:
            tap.connection_test()
        ctx.exit()

    @classmethod
    def cb_config(
        cls,
        ctx: click.Context,
        param: click.Parameter,  # noqa: ARG003
        value: tuple[str, ...],
    ) -> Any:  # noqa: ANN401
        """Read the config files (one-line errors)."""
        del ctx
        settings: dict[str, Any] = {}
        for path in value:
            if path != "ENV":
                settings |= read_json_object(Path(path), "config file")
        return ConfigInput(config=settings, parse_env="ENV" in value)

    @classproperty
    def _env_var_config(cls) -> dict[str, Any]:  # noqa: N805
        # classproperty types cls as an instance; it is the class.
        return env_config(cls)  # type: ignore[arg-type]


class _TapCommand(SingerCommand):
    """Turns the tap's errors into one line on stderr and the documented exit code."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:  # noqa: ANN401
        # --about, --discover and --test print from their option callbacks, which run here.
        try:
            return super().make_context(*args, **kwargs)
        except BrokenPipeError:
            raise StdoutClosedError from None

    def invoke(self, ctx: click.Context) -> Any:  # noqa: ANN401
        # As the SDK's SingerCommand.invoke, except that an invalid config is one line and
        # exit 2, not a list of log lines and exit 1.
        logging.captureWarnings(capture=True)
        warnings.filterwarnings("once", category=DeprecationWarning)
        sys.excepthook = self.excepthook
        try:
            return click.Command.invoke(self, ctx)
        except ConfigValidationError as exc:
            report_error(config_validation_error(exc))
            ctx.exit(ConfigError.exit_code)
        except BrokenPipeError:
            raise StdoutClosedError from None

    def main(self, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
        try:
            return super().main(*args, **kwargs)
        except TapSalesforceError as exc:
            report_error(exc)
            sys.exit(exc.exit_code)
        except ConfigValidationError as exc:
            report_error(config_validation_error(exc))
            sys.exit(ConfigError.exit_code)
        except StdoutClosedError:
            sys.exit(pipes.stdout_closed())


def check_start_date(value: object) -> None:
    """Refuse a ``start_date`` that is no date-time before anything is asked of Salesforce.

    Raises:
        ConfigError: ``value`` is set and is not an ISO 8601 date or date-time.

    >>> check_start_date("2024-01-01T00:00:00Z")
    >>> try:
    ...     check_start_date("yesterday")
    ... except ConfigError as exc:
    ...     print(exc.message)
    start_date 'yesterday' is not a date-time: use RFC 3339, e.g. 2024-01-01T00:00:00Z.
    """
    if value is None:
        return
    try:
        schema.parse_datetime(str(value))
    except ValueError:
        msg = (
            f"start_date {str(value)[:40]!r} is not a date-time: use RFC 3339, e.g. "
            "2024-01-01T00:00:00Z."
        )
        raise ConfigError(msg) from None


def check_loopback_only(config: Mapping[str, Any]) -> None:
    """With ``loopback_only``, refuse a ``login_url`` that is missing, empty or elsewhere.

    Raises:
        ConfigError: ``loopback_only`` is set and ``login_url`` is not on this machine.

    >>> check_loopback_only({"loopback_only": True, "login_url": "http://127.0.0.1:8080"})
    >>> check_loopback_only({"login_url": "https://login.salesforce.com"})
    """
    if not config.get("loopback_only"):
        return
    url = str(config.get("login_url") or "").strip()
    if not url:
        msg = (
            "loopback_only is set and login_url is missing or empty: set login_url to the "
            "local emulator's READY URL (the demo environment reads it from "
            "SALESFORCE_EMULATOR_URL: export SALESFORCE_EMULATOR_URL=http://127.0.0.1:PORT)."
        )
        raise ConfigError(msg)
    host = (urlsplit(url).hostname or "").lower()
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        msg = (
            f"loopback_only is set and login_url {url!r} is not on this machine: use the "
            "local emulator's READY URL (http://127.0.0.1:PORT) or leave loopback_only unset."
        )
        raise ConfigError(msg)


def report_error(exc: TapSalesforceError) -> None:
    """Write the one-line error to stderr (as JSON when the session hook runs the tap)."""
    report(PROGRAM, exc, sys.stderr, as_json=os.environ.get(ERROR_FORMAT_VARIABLE) == "json")


def read_state(handle: TextIO) -> dict[str, Any]:
    """A Singer state from ``--state``.

    Raises:
        ConfigError: it is not a JSON object whose ``bookmarks`` (if any) is an object.
    """
    state = read_json_object(handle, "state file")
    if not isinstance(state.get("bookmarks", {}), dict):
        msg = f"the state file {handle.name} has no bookmarks object: pass a state the tap wrote."
        raise ConfigError(msg)
    return state


def read_catalog(handle: TextIO) -> dict[str, Any]:
    """A Singer catalog from ``--catalog``.

    Raises:
        ConfigError: it is not a JSON object with a ``streams`` list.
    """
    catalog = read_json_object(handle, "catalog file")
    if not isinstance(catalog.get("streams"), list):
        msg = (
            f"the catalog file {handle.name} has no streams list: start from the output of "
            "--discover."
        )
        raise ConfigError(msg)
    return catalog
