"""Run the emulator in-process (``Emulator``) or as a subprocess (``EmulatorProcess``).

Both share ``AdminClient``: the admin API over HTTP (``/__emulator/...``), so tests and
benchmarks drive either the same way.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Self

from tests.emulator.oauth import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN
from tests.emulator.server import DEFAULT_API_LIMIT, EmulatorHTTPServer, Org

if TYPE_CHECKING:
    from types import TracebackType

READY_TIMEOUT_SECONDS: Final = 30.0
PROJECT_ROOT: Final = Path(__file__).resolve().parents[2]


def config_for(url: str) -> dict[str, Any]:
    """A tap config that signs in to the emulator at ``url`` with the refresh-token flow."""
    return {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "refresh_token": REFRESH_TOKEN,
        "login_url": url,
    }


class AdminClient:
    """The admin API of a running emulator (``self.url`` must be set)."""

    url: str

    def _admin(self, method: str, name: str, payload: dict[str, Any] | None = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(  # noqa: S310 - local http URL
            f"{self.url}/__emulator/{name}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310
            return json.loads(answer.read() or b"null")

    def requests(self) -> list[dict[str, Any]]:
        """The request log (oldest first)."""
        answer: list[dict[str, Any]] = self._admin("GET", "requests")
        return answer

    def reset_log(self) -> None:
        """Empty the request log."""
        self._admin("POST", "reset-log", {})

    def reset(self) -> None:
        """Back to the start state: data, faults, usage, cursors, jobs, log (tokens stay valid)."""
        self._admin("POST", "reset", {})

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Change run-time settings: ``fail``, ``latency_ms``, ``api_limit``, ``api_usage``,
        ``rotate_refresh_tokens``, ``jwt_public_key_pem``, ``expire_all_tokens``,
        ``bulk_polls_to_complete``, ``bulk_chunk_rows``, ``bulk_sorted_max_rows``,
        ``bulk_refusal``, ``clock_offset_seconds``, ``cursors_per_user``, ``cursor_idle_seconds``.
        Returns the resulting config.
        """
        answer: dict[str, Any] = self._admin("POST", "config", changes)
        return answer

    def config(self) -> dict[str, Any]:
        """The current config and counters."""
        answer: dict[str, Any] = self._admin("GET", "config")
        return answer

    def expire_cursors(self) -> int:
        """Expire every open query cursor now, as idle time would; returns how many."""
        answer: dict[str, int] = self._admin("POST", "expire-cursors", {})
        return answer["expired"]

    def hide_fields(self, *names: str) -> list[str]:
        """Take the user's read access to these fields (none: give every field back).

        The describe's Last-Modified does not move, as with a real permission change.
        """
        answer: dict[str, list[str]] = self._admin("POST", "field-security", {"hidden": names})
        return answer["hidden"]

    def touch(
        self, count: int = 1, ids: list[str] | None = None, age_seconds: float | None = None
    ) -> dict[str, Any]:
        """Modify records (``count`` chosen ones, or ``ids``).

        Their SystemModstamp and LastModifiedDate move past every other record's, or to
        ``age_seconds`` before the org's clock.

        Returns:
            ``{"ids": [...], "system_modstamp": "..."}``.
        """
        payload: dict[str, Any] = {"ids": ids} if ids is not None else {"count": count}
        if age_seconds is not None:
            payload["age_seconds"] = age_seconds
        answer: dict[str, Any] = self._admin("POST", "touch", payload)
        return answer

    def delete(self, ids: list[str]) -> dict[str, Any]:
        """Mark records deleted."""
        answer: dict[str, Any] = self._admin("POST", "delete", {"ids": ids})
        return answer

    def insert(self, count: int = 1, age_seconds: float | None = None) -> dict[str, Any]:
        """Add records; with ``age_seconds``, a late commit stamped that long before now."""
        payload: dict[str, Any] = {"count": count}
        if age_seconds is not None:
            payload["age_seconds"] = age_seconds
        answer: dict[str, Any] = self._admin("POST", "insert", payload)
        return answer


class Emulator(AdminClient):
    """The emulator in a daemon thread of this process."""

    def __init__(
        self,
        accounts: int = 500,
        seed: int = 1,
        *,
        latency_ms: float = 0,
        fail: str = "",
        log_path: str | Path | None = None,
        api_limit: int = DEFAULT_API_LIMIT,
        rotate_refresh_tokens: bool = False,
        jwt_public_key_pem: str | None = None,
        external_client_app: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        """Configure (``start()`` listens).

        Args:
            accounts: records at start.
            seed: the seed of every value.
            latency_ms: added to every answer (not the admin API).
            fail: the fault spec (see ``faults.py``).
            log_path: append the request log there as JSON lines.
            api_limit: the daily API request limit.
            rotate_refresh_tokens: the refresh grant returns a new refresh token, and the
                old one stops working.
            jwt_public_key_pem: the certificate's public key for the JWT bearer grant.
            external_client_app: the app is an External Client App: reached by the IP
                address (a generic login host) the OAuth endpoints answer ``app_not_found``;
                reached by the name ``localhost`` (the org's My Domain) they work.
            host: the address to listen on.
            port: the port (0 picks a free one).
        """
        self.org = Org(
            accounts=accounts,
            seed=seed,
            latency_ms=latency_ms,
            fail=fail,
            log_path=log_path,
            api_limit=api_limit,
            rotate_refresh_tokens=rotate_refresh_tokens,
            jwt_public_key_pem=jwt_public_key_pem,
            external_client_app=external_client_app,
        )
        self.host = host
        self.port = port
        self.url = ""
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        """Listen and serve in a daemon thread."""
        server = EmulatorHTTPServer((self.host, self.port), self.org)
        self._server = server
        self.port = server.server_address[1]
        self.url = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(
            target=server.serve_forever, name="salesforce-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
            self.org.close()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> Self:
        """Start."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop."""
        self.stop()


class EmulatorProcess(AdminClient):
    """The emulator as ``python -m tests.emulator`` in a subprocess (no shared GIL)."""

    def __init__(
        self,
        accounts: int = 500,
        seed: int = 1,
        *,
        latency_ms: float = 0,
        fail: str = "",
        log_path: str | Path | None = None,
        api_limit: int = DEFAULT_API_LIMIT,
        rotate_refresh_tokens: bool = False,
        jwt_public_key_pem: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        python: str = sys.executable,
    ) -> None:
        """Configure (see ``Emulator``); ``start()`` launches the process."""
        self.args = [
            python,
            "-m",
            "tests.emulator",
            "--host",
            host,
            "--port",
            str(port),
            "--accounts",
            str(accounts),
            "--seed",
            str(seed),
            "--api-limit",
            str(api_limit),
        ]
        if latency_ms:
            self.args += ["--latency-ms", str(latency_ms)]
        if fail:
            self.args += ["--fail", fail]
        if log_path:
            self.args += ["--log", str(log_path)]
        if rotate_refresh_tokens:
            self.args.append("--rotate-refresh-tokens")
        self.jwt_public_key_pem = jwt_public_key_pem
        self.url = ""
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> Self:
        """Launch and wait for ``READY <url>``.

        Raises:
            RuntimeError: the process exited or did not get ready in time.
        """
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH", "")])
        )
        process = subprocess.Popen(
            self.args,
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.process = process
        lines: queue.Queue[str] = queue.Queue()
        stdout = process.stdout
        if stdout is None:  # pragma: no cover - stdout=PIPE
            msg = "no stdout"
            raise RuntimeError(msg)
        reader = threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True)
        reader.start()
        try:
            line = lines.get(timeout=READY_TIMEOUT_SECONDS)
        except queue.Empty:
            self.stop()
            msg = "the emulator did not print READY in time"
            raise RuntimeError(msg) from None
        if not line.startswith("READY "):
            self.stop()
            msg = f"the emulator did not start: {line!r}"
            raise RuntimeError(msg)
        self.url = line.split(" ", 1)[1].strip()
        if self.jwt_public_key_pem:
            self.configure(jwt_public_key_pem=self.jwt_public_key_pem)
        return self

    def stop(self) -> None:
        """SIGTERM, wait, and close the pipe."""
        process = self.process
        if process is None:
            return
        self.process = None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout is not None:
            process.stdout.close()

    def __enter__(self) -> Self:
        """Start."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop."""
        self.stop()
