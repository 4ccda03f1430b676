"""``tap-salesforce-accounts-connect``: the interactive "Connect to Salesforce → Allow" step.

It runs the OAuth 2.0 web server flow with PKCE (S256) against a Connected App, receives the
browser's redirect on a one-shot local HTTP server, exchanges the authorization code and writes
``client_id``, ``refresh_token``, ``instance_url`` and ``login_url`` into the config file
(atomically, mode 0600). ``--revoke`` revokes the refresh token in the config file and removes it.

Choices:

- Callback: ``http://localhost:8765/callback`` by default (``--port`` changes the port). Salesforce
  compares the ``redirect_uri`` with the Connected App's Callback URL character for character, so
  that exact URL must be listed in the app. The server listens on 127.0.0.1 only.
- ``scope=api refresh_token``: the least the tap needs. Salesforce grants the intersection with
  the app's scopes and issues a refresh token only when ``refresh_token`` (alias
  ``offline_access``) is asked for and allowed by the app.
- ``prompt=login consent``: the browser is often logged in to another org or as another user; this
  makes the person log in as the integration user on purpose and see the Allow page.
- Waits 300 seconds for the browser; Ctrl-C stops at once.

Exit codes (each error is one line on stderr: ``tap-salesforce-accounts-connect: error: …``):

====  ==========================================================================================
0     connected, or token revoked
1     unexpected error (a bug)
2     usage or configuration: missing ``client_id``, unreadable config file, malformed
      ``login_url``, callback port in use, nothing to revoke, config file not writable
3     OAuth refused: access denied in the browser, ``state`` mismatch, ``invalid_client_id``,
      ``invalid_client``, ``invalid_grant``, no refresh token issued, revocation refused
9     the login host cannot be reached (or answers 5xx), or the browser did not come back
      within the wait
130   interrupted (Ctrl-C)
====  ==========================================================================================

No secret (refresh token, access token, client secret, PKCE verifier, authorization code) is ever
printed or logged.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import dataclasses
import hashlib
import html
import json
import queue
import secrets
import shlex
import sys
import threading
import time
import webbrowser
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, cast
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import requests

from tap_salesforce_accounts.configfile import write_json_private
from tap_salesforce_accounts.exceptions import (
    AuthError,
    ConfigError,
    TapSalesforceError,
    UnavailableError,
    report,
)
from tap_salesforce_accounts.settings import (
    DEFAULT_LOGIN_URL,
    DEFAULT_TOKEN_TIMEOUT_SECONDS,
    read_number,
)
from tap_salesforce_accounts.token_endpoint import (
    check_login_url,
    describe_oauth_error,
    request_token,
    revoke_token,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import TextIO

PROGRAM: Final = "tap-salesforce-accounts-connect"
PLUGIN: Final = "tap-salesforce-accounts"
DEFAULT_PORT: Final = 8765
CALLBACK_PATH: Final = "/callback"
AUTHORIZE_PATH: Final = "/services/oauth2/authorize"
SCOPE: Final = "api refresh_token"
PROMPT: Final = "login consent"
DEFAULT_WAIT_SECONDS: Final = 300.0
EXIT_INTERRUPTED: Final = 130
# How long the browser's callback request waits for the outcome of the code exchange, so its
# page can say whether the connection worked.
_VERDICT_WAIT_SECONDS: Final = DEFAULT_TOKEN_TIMEOUT_SECONDS * 6 + 5
_PREFLIGHT_TIMEOUT_SECONDS: Final = 10.0


@dataclasses.dataclass(frozen=True, slots=True)
class ConnectOptions:
    """The command line, parsed."""

    config: Path
    login_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = dataclasses.field(default=None, repr=False)
    port: int = DEFAULT_PORT
    no_browser: bool = False
    revoke: bool = False


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
    except SystemExit as exc:  # --help, or a usage error argparse already reported
        return exc.code if isinstance(exc.code, int) else 2
    return run_connect(options, open_browser=webbrowser.open)


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
        with requests.Session() as session:
            if options.revoke:
                _revoke(options, session, out)
            else:
                _Connection(options, session, out, open_browser, timeout).run()
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


# --- config file --------------------------------------------------------------------------


def read_config(path: Path) -> dict[str, Any]:
    """The config file's JSON object, or an empty one when the file does not exist yet.

    Raises:
        ConfigError: the file cannot be read or is not a JSON object.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        msg = f"cannot read config file {path} ({exc.strerror}): check the path and permissions."
        raise ConfigError(msg) from None
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError as exc:
        msg = (
            f"config file {path} is not valid JSON (line {getattr(exc, 'lineno', '?')}): "
            "fix it or pass another --config."
        )
        raise ConfigError(msg) from None
    if not isinstance(data, dict):
        msg = f"config file {path} must hold a JSON object: fix it or pass another --config."
        raise ConfigError(msg)
    return data


def _write_config(path: Path, data: Mapping[str, Any]) -> None:
    try:
        write_json_private(path, data)
    except OSError as exc:
        msg = (
            f"cannot write config file {path} ({exc.strerror or type(exc).__name__}): check "
            "the directory exists and is writable, then run the command again."
        )
        raise ConfigError(msg) from None


def _login_url(options: ConnectOptions, config: Mapping[str, Any]) -> str:
    return check_login_url(options.login_url or config.get("login_url"))


# --- PKCE and the authorize URL -----------------------------------------------------------


def new_code_verifier() -> str:
    """A PKCE code verifier: 128 characters of the unreserved URL alphabet (RFC 7636)."""
    return secrets.token_urlsafe(96)


def code_challenge(verifier: str) -> str:
    """The S256 code challenge: base64url of the verifier's SHA-256, without padding.

    >>> code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
    'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'
    """
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def redirect_uri(port: int) -> str:
    """The callback URL to list in the Connected App.

    >>> redirect_uri(8765)
    'http://localhost:8765/callback'
    """
    return f"http://localhost:{port}{CALLBACK_PATH}"


def authorize_url(
    login_url: str, client_id: str, callback: str, *, state: str, challenge: str
) -> str:
    """The URL of Salesforce's Allow page for the web server flow with PKCE."""
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": callback,
            "scope": SCOPE,
            "prompt": PROMPT,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
        quote_via=quote,
    )
    return f"{login_url}{AUTHORIZE_PATH}?{query}"


# --- the local callback server ------------------------------------------------------------


class _CallbackServer(ThreadingHTTPServer):
    """Receives one redirect on ``/callback`` and answers it once the outcome is known."""

    daemon_threads = True

    def __init__(self, port: int) -> None:
        super().__init__(("127.0.0.1", port), _CallbackHandler)
        self.callbacks: queue.Queue[dict[str, str]] = queue.Queue()
        self.answered = threading.Event()
        self._lock = threading.Lock()
        self._taken = False
        self._verdict_ready = threading.Event()
        self._verdict: tuple[bool, str] = (False, "")

    @property
    def taken(self) -> bool:
        """Whether a callback arrived."""
        return self._taken

    def take(self, params: dict[str, str]) -> bool:
        """Hand the first callback to the waiting command; later ones are refused."""
        with self._lock:
            if self._taken:
                return False
            self._taken = True
        self.callbacks.put(params)
        return True

    def decide(self, *, ok: bool, message: str) -> None:
        """Tell the browser's pending request how the connection ended (the first word wins)."""
        with self._lock:
            if self._verdict_ready.is_set():
                return
            self._verdict = (ok, message)
            self._verdict_ready.set()

    def verdict(self) -> tuple[bool, str]:
        """Wait for the outcome, for a while."""
        if not self._verdict_ready.wait(_VERDICT_WAIT_SECONDS):
            return False, "No answer from the command: see the terminal."
        return self._verdict


class _CallbackHandler(BaseHTTPRequestHandler):
    # An idle connection (browsers pre-connect) must not hold a thread for long.
    timeout = 10
    server_version = PROGRAM

    def do_GET(self) -> None:
        server = cast("_CallbackServer", self.server)
        parts = urlsplit(self.path)
        if parts.path != CALLBACK_PATH:
            self._page(HTTPStatus.NOT_FOUND, "Not found", "This server only takes the callback.")
            return
        query = parse_qs(parts.query, keep_blank_values=True)
        params = {key: values[0] for key, values in query.items()}
        if not server.take(params):
            self._page(
                HTTPStatus.CONFLICT,
                "Already answered",
                "This connection attempt is over: see the terminal.",
            )
            return
        ok, message = server.verdict()
        if ok:
            self._page(HTTPStatus.OK, "Connected", f"{message} You can close this tab.")
        else:
            self._page(HTTPStatus.BAD_REQUEST, "Not connected", message)
        server.answered.set()

    def _page(self, status: HTTPStatus, title: str, text: str) -> None:
        body = (
            "<!doctype html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title></head><body style='font-family:sans-serif'>"
            f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>"
        ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        # The request URL holds the authorization code: keep it out of caches and referrers.
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002, ANN401
        """Log nothing: the request line holds the authorization code."""


def _listen(port: int) -> _CallbackServer:
    try:
        return _CallbackServer(port)
    except PermissionError:
        msg = (
            f"not allowed to listen on port {port}: pass --port with a port above 1023 and "
            "list http://localhost:PORT/callback in the Connected App's Callback URL."
        )
        raise ConfigError(msg) from None
    except OSError as exc:
        msg = (
            f"cannot listen on 127.0.0.1:{port} ({exc.strerror or type(exc).__name__}; is "
            "another program using it?): pass --port with a free port and list "
            "http://localhost:PORT/callback in the Connected App's Callback URL."
        )
        raise ConfigError(msg) from None


# --- the flow -----------------------------------------------------------------------------

_REDIRECT_ERRORS: Final[dict[str, str]] = {
    "access_denied": "access was not allowed in the browser",
    "invalid_scope": (
        "the Connected App does not offer the scopes the tap needs: add 'Manage user data "
        "via APIs (api)' and 'Perform requests at any time (refresh_token, offline_access)' "
        "to its Selected OAuth Scopes"
    ),
    "redirect_uri_mismatch": "the callback URL is not listed in the Connected App",
}


class _Connection:
    """One run of the web server flow."""

    def __init__(
        self,
        options: ConnectOptions,
        session: requests.Session,
        out: TextIO,
        open_browser: Callable[[str], object],
        timeout: float,
    ) -> None:
        self.options = options
        self.session = session
        self.out = out
        self.open_browser = open_browser
        self.timeout = timeout
        self.path = options.config.expanduser()
        self.config = read_config(self.path)
        self.login_url = _login_url(options, self.config)
        self.client_id = str(options.client_id or self.config.get("client_id") or "").strip()
        if not self.client_id:
            msg = (
                f"no client_id: pass --client-id with the Connected App's Consumer Key, or set "
                f"client_id in {self.path}."
            )
            raise ConfigError(msg)
        self.client_secret = str(
            options.client_secret or self.config.get("client_secret") or ""
        ).strip()

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def run(self) -> None:
        _preflight(self.session, self.login_url)
        server = _listen(self.options.port)
        serving = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        serving.start()
        browser: threading.Thread | None = None
        try:
            url, state, verifier = self._start(server)
            if not self.options.no_browser:
                browser = threading.Thread(target=self._open_browser, args=(url,), daemon=True)
                browser.start()
            self._finish(server, state, verifier)
        finally:
            # Whatever happened, the browser's pending request gets an answer (the first
            # verdict wins) and has its page before the process ends: handlers are daemons.
            server.decide(ok=False, message="The connection failed: see the terminal.")
            if server.taken:
                server.answered.wait(5)
                if browser is not None:
                    browser.join(5)
            server.shutdown()
            server.server_close()
            serving.join()

    def _start(self, server: _CallbackServer) -> tuple[str, str, str]:
        """Print the callback and authorize URLs; returns the URL, state and PKCE verifier."""
        callback = redirect_uri(server.server_port)
        verifier = new_code_verifier()
        state = secrets.token_urlsafe(32)
        url = authorize_url(
            self.login_url,
            self.client_id,
            callback,
            state=state,
            challenge=code_challenge(verifier),
        )
        self.say("Connect to Salesforce")
        self.say(f"  login URL:    {self.login_url}")
        self.say(f"  client_id:    {self.client_id}")
        self.say(f"  callback URL: {callback}")
        self.say("  (the Connected App's Callback URL must list exactly this URL)")
        self.say()
        self.say("Open this URL, log in as the integration user and click Allow:")
        self.say(f"  {url}")
        self.say()
        self.say(f"Waiting up to {self.timeout:.0f} s for the browser (Ctrl-C to cancel)...")
        return url, state, verifier

    def _finish(self, server: _CallbackServer, state: str, verifier: str) -> None:
        callback = redirect_uri(server.server_port)
        try:
            params = self._wait(server, callback)
            self._check_redirect(params, state)
            token = self._exchange(params["code"], callback, verifier)
            written = self._save(token)
        except TapSalesforceError as exc:
            server.decide(ok=False, message=f"Not connected: {exc.message}")
            raise
        server.decide(ok=True, message=f"Connected to {token['instance_url']}.")
        self._summary(token, written)

    def _open_browser(self, url: str) -> None:
        try:
            opened = self.open_browser(url)
        except Exception:  # noqa: BLE001  (a missing browser only means: open the URL by hand)
            opened = False
        if not opened:
            self.say("No browser could be opened: open the URL above by hand.")

    def _wait(self, server: _CallbackServer, callback: str) -> dict[str, str]:
        deadline = time.monotonic() + self.timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                msg = (
                    # Salesforce shows these errors in the browser instead of redirecting:
                    # it cannot trust a redirect_uri it does not know.
                    f"no redirect reached {callback} within {self.timeout:.0f} s: if the "
                    "browser showed redirect_uri_mismatch, add that URL to the Connected App's "
                    "Callback URL; if it showed invalid_client_id, pass the app's Consumer Key "
                    "with --client-id; then run the command again and click Allow."
                )
                raise UnavailableError(msg)
            try:
                # Short waits keep Ctrl-C responsive on every platform.
                return server.callbacks.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue

    def _check_redirect(self, params: Mapping[str, str], state: str) -> None:
        # The state is checked first: a forged redirect must not be believed, errors included.
        if not secrets.compare_digest(params.get("state", ""), state):
            msg = (
                "the browser came back with another state than the one sent (a stale tab or a "
                "forged redirect): nothing was written; run the command again."
            )
            raise AuthError(msg)
        error = params.get("error")
        if error:
            description = params.get("error_description", "")
            said = f"{error}: {description}" if description else error
            cause = _REDIRECT_ERRORS.get(error)
            if cause is None:
                cause = describe_oauth_error("authorization_code", error, description)
                msg = f"Salesforce did not authorize the connection: {cause}"
            else:
                msg = f"Salesforce did not authorize the connection: {cause} ({said}); fix it "
                msg += "and run the command again, then click Allow."
            raise AuthError(msg)
        if not params.get("code"):
            msg = "the browser came back without an authorization code: run the command again."
            raise AuthError(msg)

    def _exchange(self, code: str, callback: str, verifier: str) -> dict[str, str]:
        # parse_qs already decoded the code once: Salesforce codes end in "==", which the
        # redirect carries as %3D%3D. Sending it decoded in the form is what Salesforce expects.
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": self.client_id,
            "redirect_uri": callback,
            "code_verifier": verifier,
        }
        if self.client_secret:
            form["client_secret"] = self.client_secret
        body = request_token(self.session, self.login_url, form, flow="authorization_code")
        refresh_token = body.get("refresh_token")
        instance_url = body.get("instance_url")
        if not refresh_token:
            msg = (
                "Salesforce issued no refresh token: add 'Perform requests at any time "
                "(refresh_token, offline_access)' to the Connected App's Selected OAuth Scopes, "
                "check its Refresh Token Policy, and run the command again."
            )
            raise AuthError(msg)
        if not instance_url:
            msg = (
                f"login_url {self.login_url} answered without an instance_url: check it points "
                "at Salesforce."
            )
            raise AuthError(msg)
        return {
            "refresh_token": str(refresh_token),
            "instance_url": str(instance_url).rstrip("/"),
            "id": str(body.get("id") or ""),
        }

    def _save(self, token: Mapping[str, str]) -> list[str]:
        # Read again: the file may have changed while the browser was open.
        config = read_config(self.path)
        updates = {
            "client_id": self.client_id,
            "refresh_token": token["refresh_token"],
            "instance_url": token["instance_url"],
            "login_url": self.login_url,
        }
        secret = (self.options.client_secret or "").strip()
        if secret and config.get("client_secret") != secret:
            updates["client_secret"] = secret
        config.update(updates)
        try:
            _write_config(self.path, config)
        except ConfigError:
            # Do not leave a working grant behind that nobody holds.
            with contextlib.suppress(TapSalesforceError):
                revoke_token(self.login_url, token["refresh_token"], self.session)
            raise
        return list(updates)

    def _summary(self, token: Mapping[str, str], written: Sequence[str]) -> None:
        path = self.path.resolve()
        quoted = shlex.quote(str(path))
        self.say()
        self.say("Connected.")
        self.say(f"  org instance:  {token['instance_url']}")
        if token["id"]:
            self.say(f"  user identity: {token['id']}")
        self.say(f"  wrote {', '.join(written)} to {path} (mode 0600)")
        flow = self.config.get("auth_flow")
        if flow and flow != "refresh_token":
            self.say(
                f"  note: auth_flow is {flow} in that file; set it to refresh_token to use "
                "this connection."
            )
        self.say()
        self.say(
            "To keep these settings in Meltano instead, run (secrets are piped from the file, "
            "never shown):"
        )
        plain = {
            "client_id": self.client_id,
            "login_url": self.login_url,
            "instance_url": token["instance_url"],
        }
        for key, value in plain.items():
            self.say(f"  meltano config set {PLUGIN} {key} {shlex.quote(value)}")
        # Secrets go through stdin, so they reach neither the screen nor the process list.
        hidden = ["client_secret", "refresh_token"] if self.client_secret else ["refresh_token"]
        for key in hidden:
            self.say(f"  jq -r .{key} {quoted} | meltano config set {PLUGIN} {key} --from-file -")


def _preflight(session: requests.Session, login_url: str) -> None:
    """Fail fast when the login host cannot be reached, before sending anyone to a browser.

    Raises:
        UnavailableError: no connection to the login host.
    """
    try:
        session.head(login_url + "/", timeout=_PREFLIGHT_TIMEOUT_SECONDS, allow_redirects=False)
    except requests.RequestException as exc:
        msg = (
            f"cannot reach login_url {login_url} ({type(exc).__name__}): check the URL and the "
            "network, or pass --login-url with the org's My Domain URL "
            "(https://acme.my.salesforce.com, sandboxes "
            "https://acme--dev.sandbox.my.salesforce.com)."
        )
        raise UnavailableError(msg) from None


# --- revoke -------------------------------------------------------------------------------


def _revoke(options: ConnectOptions, session: requests.Session, out: TextIO) -> None:
    path = options.config.expanduser()
    config = read_config(path)
    token = str(config.get("refresh_token") or "")
    if not token:
        msg = f"no refresh_token in {path}: nothing to revoke."
        raise ConfigError(msg)
    login_url = _login_url(options, config)
    # Revoking a refresh token also ends the access tokens issued from it.
    try:
        revoke_token(login_url, token, session)
    except AuthError as exc:
        # Salesforce refuses to revoke a token it no longer knows (already revoked or expired)
        # just as one issued by another login host: the file is left as it is.
        msg = (
            f"{exc.message.rstrip('.')}: check --login-url is the host that issued the token; "
            f"if the token was already revoked or expired, delete refresh_token from {path}."
        )
        raise AuthError(msg) from None
    config = read_config(path)
    if config.get("refresh_token") == token:
        del config["refresh_token"]
        _write_config(path, config)
    print(f"Revoked the refresh token at {login_url}.", file=out)
    print(f"Removed refresh_token from {path.resolve()} (mode 0600).", file=out)
    print(
        f"If Meltano holds it too: meltano config unset {PLUGIN} refresh_token",
        file=out,
        flush=True,
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
