"""``tap-salesforce-accounts-hook``: the session hook from the command line.

::

    tap-salesforce-accounts-hook --config c.json lookup VALUE
    tap-salesforce-accounts-hook --config c.json status
    tap-salesforce-accounts-hook --config c.json history [--limit N]
    tap-salesforce-accounts-hook --config c.json fields
    tap-salesforce-accounts-hook --config c.json serve [--host 127.0.0.1] [--port 8765]

Each command but ``serve`` prints one JSON document on stdout; ``serve`` prints
``READY http://HOST:PORT`` once it listens, logs each request to stderr, and exits 0 on
SIGTERM (see :mod:`tap_salesforce_accounts.hook.server`). ``--config ENV`` (alone or
besides a file) also reads ``TAP_SALESFORCE_ACCOUNTS_*`` environment variables. Logs go to
stderr at the level of ``TAP_SALESFORCE_ACCOUNTS_LOGLEVEL`` or ``LOGLEVEL`` (the variables
singer-sdk reads), WARNING by default (``serve``'s request log is on unless one is set).

Exit codes. The exit code says whether the sync succeeded in the sense of the design (a
definite answer from Salesforce), and the JSON says what the answer is:

- ``lookup``: 0 for ``ok`` and ``not_found`` (the JSON tells them apart: not finding a
  customer's Account is an answer, not a failure). For ``error`` and ``stale`` (a failed
  sync, the JSON still printed), the tap's documented code of the cause: 3 auth, 5 several
  Accounts match, 6 invalid value or malformed Id, 7 index field unusable, 8 API limit,
  9 Salesforce unavailable *or the deadline passed*, 10 other Salesforce refusal, 1
  unexpected. A stale answer carries usable fields but is still a failed sync: a script
  that accepts it checks ``.status`` in the JSON. Reusing the tap's codes means one table
  in the README serves both commands.
- ``status``, ``history``: 0; 1 when the store cannot be read (one line on stderr).
- ``fields``: 0; the tap's code of the cause when Salesforce cannot be asked.
- ``serve``: 0 once stopped by SIGTERM or SIGINT.
- 2: a settings or usage error, one line on stderr:
  ``tap-salesforce-accounts-hook: error: ...``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import TYPE_CHECKING, Final, NoReturn

from tap_salesforce_accounts import exceptions, pipes
from tap_salesforce_accounts.exceptions import ConfigError, TapSalesforceError
from tap_salesforce_accounts.hook import server
from tap_salesforce_accounts.hook.result import INTERNAL_CODE, TIMEOUT_CODE, dumps
from tap_salesforce_accounts.hook.session import SessionHook, read_status

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tap_salesforce_accounts.hook.result import LookupResult

PROG: Final = "tap-salesforce-accounts-hook"
LOG_ENV: Final = ("TAP_SALESFORCE_ACCOUNTS_LOGLEVEL", "LOGLEVEL")

EXIT_OK: Final = 0
EXIT_UNEXPECTED: Final = 1
EXIT_CONFIG: Final = exceptions.ConfigError.exit_code

EXIT_BY_CODE: Final[dict[str, int]] = exceptions.EXIT_CODE_BY_CODE | {
    TIMEOUT_CODE: exceptions.UnavailableError.exit_code,
    INTERNAL_CODE: EXIT_UNEXPECTED,
}


def lookup_exit_code(result: LookupResult) -> int:
    """0 for a definite answer; the tap's exit code of the cause for ``error`` and ``stale``.

    >>> from tap_salesforce_accounts.hook.result import ErrorInfo, LookupResult
    >>> lookup_exit_code(LookupResult("not_found"))
    0
    >>> lookup_exit_code(LookupResult("error", error=ErrorInfo("timeout", "slow")))
    9
    """
    if result.is_success:
        return EXIT_OK
    code = result.error.code if result.error is not None else INTERNAL_CODE
    return EXIT_BY_CODE.get(code, EXIT_UNEXPECTED)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        _fail(ConfigError(f"{message} (see --help)."))
        raise SystemExit(EXIT_CONFIG)


def build_parser() -> argparse.ArgumentParser:
    """The command's arguments."""
    parser = _Parser(
        prog=PROG,
        description="The session hook of tap-salesforce-accounts: one Account's fields for "
        "a new session, and the status of the last syncs. Prints one JSON document.",
    )
    _add_options(parser, default=None)
    # The options work after the command too (``lookup VALUE --config c.json``).
    common = _Parser(add_help=False)
    _add_options(common, default=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    lookup = commands.add_parser(
        "lookup", parents=[common], help="the fields of the Account matching VALUE"
    )
    lookup.add_argument("value", metavar="VALUE", help="the index_field value to look up")
    commands.add_parser("status", parents=[common], help="last success, last failure and its error")
    history = commands.add_parser(
        "history", parents=[common], help="the recent syncs, newest first"
    )
    history.add_argument("--limit", type=int, default=20, help="how many (default 20)")
    commands.add_parser(
        "fields", parents=[common], help="the Account fields and which can be index_field"
    )
    serve = commands.add_parser(
        "serve", parents=[common], help="answer lookups over HTTP until SIGTERM"
    )
    serve.add_argument("--host", default=server.DEFAULT_HOST, help="default 127.0.0.1")
    serve.add_argument(
        "--port", type=int, default=server.DEFAULT_PORT, help="default 8765; 0 picks a free one"
    )
    return parser


def _add_options(parser: argparse.ArgumentParser, *, default: object) -> None:
    # Given after the command, the options land in their own names, merged by _main.
    late = default is argparse.SUPPRESS
    parser.add_argument(
        "--config",
        action="append",
        dest="late_config" if late else "config",
        default=default,
        metavar="PATH",
        help="the tap's config JSON file; ENV also reads TAP_SALESFORCE_ACCOUNTS_* variables",
    )
    parser.add_argument(
        "--mode",
        choices=("in_process", "subprocess"),
        dest="late_mode" if late else "mode",
        default=default if late else "in_process",
        help="run the tap in this process (default) or as one process per lookup",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command.

    Returns:
        The exit code (141, quietly, when the reader of stdout went away).
    """
    try:
        return _main(argv)
    except BrokenPipeError:
        return pipes.stdout_closed()


def _main(argv: Sequence[str] | None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already reported
        return exc.code if isinstance(exc.code, int) else EXIT_CONFIG
    args.config = (args.config or []) + getattr(args, "late_config", [])
    args.mode = getattr(args, "late_mode", args.mode)
    if not args.config:
        msg = (
            "--config is required: give the tap's config file, before or after the command "
            "(see --help)."
        )
        return _fail(ConfigError(msg))
    _setup_logging()
    files = [path for path in args.config if path != "ENV"]
    if len(files) > 1:
        return _fail(ConfigError("give one config file (and ENV for environment variables)."))
    config: object = files[0] if files else {}
    return _dispatch(config, args)


def _dispatch(config: object, args: argparse.Namespace) -> int:
    if args.command in {"status", "history"}:
        return _read_store(config, args)
    if args.command == "serve":
        return _serve(config, args)
    try:
        hook = SessionHook(
            config,  # type: ignore[arg-type]
            mode=args.mode,
            parse_env_config="ENV" in args.config,
        )
    except ConfigError as exc:
        return _fail(exc)
    with hook:
        return _run(hook, args)


def _read_store(config: object, args: argparse.Namespace) -> int:
    # Reading the store needs no Salesforce settings: a disconnected integration still
    # shows its last error.
    try:
        answer = read_status(
            config,  # type: ignore[arg-type]
            history=args.limit if args.command == "history" else None,
            parse_env_config="ENV" in args.config,
        )
    except TapSalesforceError as exc:
        return _fail(exc)
    _print(dumps(answer))
    return EXIT_OK


def _serve(config: object, args: argparse.Namespace) -> int:
    try:
        return server.run(
            config,  # type: ignore[arg-type]
            host=args.host,
            port=args.port,
            mode=args.mode,
            parse_env_config="ENV" in args.config,
            # The request log is on unless a log level was chosen.
            request_log=not any(os.environ.get(name) for name in LOG_ENV),
        )
    except ConfigError as exc:
        return _fail(exc)


def _run(hook: SessionHook, args: argparse.Namespace) -> int:
    try:
        if args.command == "lookup":
            result = hook.lookup(args.value)
            _print(result.dumps())
            return lookup_exit_code(result)
        _print(dumps(hook.fields()))
    except TapSalesforceError as exc:
        return _fail(exc)
    return EXIT_OK


def _print(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _fail(error: TapSalesforceError) -> int:
    return exceptions.report(PROG, error, sys.stderr)


def _setup_logging() -> None:
    level_name = next((os.environ[name] for name in LOG_ENV if os.environ.get(name)), "WARNING")
    level = logging.getLevelName(level_name.upper())
    logging.basicConfig(
        level=level if isinstance(level, int) else logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
