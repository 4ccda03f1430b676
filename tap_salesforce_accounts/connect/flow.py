"""One run of the web server flow, and ``--revoke``: the config file in, a refresh token out."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import queue
import secrets
import shlex
import threading
import time
from typing import TYPE_CHECKING, Any, Final

import requests

from tap_salesforce_accounts.configfile import write_json_private
from tap_salesforce_accounts.connect.callback import (
    DEFAULT_PORT,
    CallbackServer,
    listen,
    redirect_uri,
)
from tap_salesforce_accounts.connect.pkce import authorize_url, code_challenge, new_code_verifier
from tap_salesforce_accounts.exceptions import (
    AuthError,
    ConfigError,
    TapSalesforceError,
    UnavailableError,
)
from tap_salesforce_accounts.token_endpoint import (
    check_login_url,
    describe_oauth_error,
    request_token,
    revoke_token,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from pathlib import Path
    from typing import TextIO

PLUGIN: Final = "tap-salesforce-accounts"
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


_REDIRECT_ERRORS: Final[dict[str, str]] = {
    "access_denied": "access was not allowed in the browser",
    "invalid_scope": (
        "the Connected App does not offer the scopes the tap needs: add 'Manage user data "
        "via APIs (api)' and 'Perform requests at any time (refresh_token, offline_access)' "
        "to its Selected OAuth Scopes"
    ),
    "redirect_uri_mismatch": "the callback URL is not listed in the Connected App",
}


class Connection:
    """One run of the web server flow."""

    def __init__(
        self,
        options: ConnectOptions,
        session: requests.Session,
        out: TextIO,
        open_browser: Callable[[str], object],
        timeout: float,
    ) -> None:
        """Read the config file and check what the flow needs; nothing is sent yet."""
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
        """One line of progress for the person at the terminal."""
        print(text, file=self.out, flush=True)

    def run(self) -> None:
        """Serve the callback, send the person to the Allow page, save what comes back."""
        _preflight(self.session, self.login_url)
        server = listen(self.options.port)
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

    def _start(self, server: CallbackServer) -> tuple[str, str, str]:
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

    def _finish(self, server: CallbackServer, state: str, verifier: str) -> None:
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

    def _wait(self, server: CallbackServer, callback: str) -> dict[str, str]:
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


def revoke(options: ConnectOptions, session: requests.Session, out: TextIO) -> None:
    """Revoke the config file's refresh token and remove it from the file.

    Raises:
        ConfigError: no refresh token in the file, or the file cannot be written.
        AuthError: Salesforce refused to revoke it.
    """
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
