"""The command line: options, and one place that turns errors into a line and an exit code."""

from __future__ import annotations

import argparse
import sys
import webbrowser
from pathlib import Path
from typing import TYPE_CHECKING, Final

import requests

from tap_salesforce_accounts import pipes, unknown_keys
from tap_salesforce_accounts.connect.callback import DEFAULT_PORT, PROGRAM
from tap_salesforce_accounts.connect.flow import Connection, ConnectOptions, read_config, revoke
from tap_salesforce_accounts.exceptions import ConfigError, TapSalesforceError, report
from tap_salesforce_accounts.settings import DEFAULT_LOGIN_URL, read_number

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import TextIO

DEFAULT_WAIT_SECONDS: Final = 300.0
EXIT_INTERRUPTED: Final = 130


def build_parser() -> argparse.ArgumentParser:
    """The command's argument parser."""
    parser = argparse.ArgumentParser(
        prog=PROGRAM,
        description=(
            "Connect the tap to a Salesforce org: log in through the browser, click Allow, and "
            "the refresh token is written into the config file (mode 0600)."
        ),
        epilog=(
            "The Connected App's Callback URL must list http://localhost:PORT/callback "
            f"(default port {DEFAULT_PORT})."
        ),
    )
    parser.add_argument(
        "--config", required=True, type=Path, help="JSON config file to read and update."
    )
    parser.add_argument(
        "--login-url",
        help=f"login host (default: the config's login_url, else {DEFAULT_LOGIN_URL}); "
        "for a sandbox its My Domain URL (https://acme--dev.sandbox.my.salesforce.com, which "
        "an External Client App needs) or https://test.salesforce.com; else your My Domain URL.",
    )
    parser.add_argument("--client-id", help="the Connected App's Consumer Key.")
    parser.add_argument(
        "--client-secret",
        help="the Connected App's Consumer Secret, when the app requires it for the web server "
        "flow (written to the config file only if it has none or another one).",
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_PORT,
        help=f"local port of the callback URL (default {DEFAULT_PORT}).",
    )
    parser.add_argument(
        "--no-browser",
        action="store_true",
        help="print the authorize URL without opening a browser.",
    )
    parser.add_argument(
        "--revoke",
        action="store_true",
        help="revoke the refresh token of the config file and remove it from the file.",
    )
    return parser


def _port(text: str) -> int:
    try:
        port = read_number(
            {"--port": text},
            "--port",
            DEFAULT_PORT,
            low=1,
            high=65535,
            low_inclusive=True,
            whole=True,
        )
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None
    return int(port)


def parse_args(argv: Sequence[str] | None = None) -> ConnectOptions:
    """Parse the command line (argparse exits with code 2 on a usage error)."""
    namespace = build_parser().parse_args(argv)
    return ConnectOptions(
        config=namespace.config,
        login_url=namespace.login_url,
        client_id=namespace.client_id,
        client_secret=namespace.client_secret,
        port=namespace.port,
        no_browser=namespace.no_browser,
        revoke=namespace.revoke,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the command; returns the exit code."""
    try:
        options = parse_args(argv)
        return run_connect(options, open_browser=webbrowser.open)
    except SystemExit as exc:  # --help, or a usage error argparse already reported
        return exc.code if isinstance(exc.code, int) else 2
    except BrokenPipeError:
        return pipes.stdout_closed()


def run_connect(
    options: ConnectOptions,
    *,
    open_browser: Callable[[str], object],
    out: TextIO | None = None,
    err: TextIO | None = None,
    timeout: float = DEFAULT_WAIT_SECONDS,
) -> int:
    """Connect (or revoke, with ``options.revoke``) and report; returns the exit code.

    Args:
        options: the parsed command line.
        open_browser: opens a URL in a browser, like :func:`webbrowser.open` (a falsy result
            means no browser could be opened). It runs in a thread of its own, so it may
            also play the browser itself and wait for the callback's answer.
        out: where the progress and the summary go (default stdout).
        err: where the one-line error goes (default stderr).
        timeout: seconds to wait for the browser's redirect.
    """
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    try:
        unknown_keys.warn_unknown_keys(
            read_config(options.config.expanduser()),
            warn=lambda text: print(f"{PROGRAM}: warning: {text}", file=err, flush=True),
        )
        with requests.Session() as session:
            if options.revoke:
                revoke(options, session, out)
            else:
                Connection(options, session, out, open_browser, timeout).run()
    except TapSalesforceError as exc:
        return report(PROGRAM, exc, err)
    except KeyboardInterrupt:
        report(PROGRAM, TapSalesforceError("interrupted; nothing was written."), err)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001  (the one place that turns bugs into an exit code)
        # The exception text is not shown: it could quote a request or answer with a secret.
        unexpected = TapSalesforceError(
            f"unexpected {type(exc).__name__}; this is a bug, please report it with the "
            "command line you ran (without secrets)."
        )
        return report(PROGRAM, unexpected, err)
    return 0
