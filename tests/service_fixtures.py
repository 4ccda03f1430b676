"""The hook service as its users run it: ``tap-salesforce-accounts-hook ... serve`` in a child
process, found by the ``READY`` line it prints."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import requests

if TYPE_CHECKING:
    from types import TracebackType

HOOK = Path(sys.executable).parent / "tap-salesforce-accounts-hook"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 60.0
# Generous: a loaded CI machine is slow, and no test measures time with it.
CLIENT_TIMEOUT = 30.0


def write_config(folder: Path, config: dict[str, Any], name: str = "config.json") -> Path:
    """The config as a private JSON file."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(config), encoding="utf-8")
    path.chmod(0o600)
    return path


class ServiceProcess:
    """``serve`` in a child process; :meth:`start` waits for its ``READY`` line.

    Args:
        config_path: the config file.
        args: more ``serve`` arguments (``--host``...).
        env: more environment variables.
    """

    def __init__(self, config_path: Path, *args: str, env: dict[str, str] | None = None) -> None:
        """Prepare the command; nothing runs yet."""
        self.command = [str(HOOK), "--config", str(config_path), "serve", "--port", "0", *args]
        self.env = {**os.environ, **(env or {})}
        self.url = ""
        self.stderr_path = config_path.parent / f"service-{id(self)}.err"
        self.process: subprocess.Popen[str] | None = None
        self.session = requests.Session()

    def start(self) -> Self:
        """Start the service and wait until it listens.

        Raises:
            AssertionError: it exited, or printed something else, before listening.
        """
        with self.stderr_path.open("w", encoding="utf-8") as stderr:
            self.process = subprocess.Popen(
                self.command,
                stdout=subprocess.PIPE,
                stderr=stderr,
                stdin=subprocess.DEVNULL,
                text=True,
                env=self.env,
            )
        line = self._first_line()
        assert line.startswith("READY http://"), (line, self.stderr())
        self.url = line.split()[1]
        return self

    def _first_line(self) -> str:
        assert self.process is not None
        assert self.process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            if not selector.select(timeout=START_TIMEOUT):
                return ""
        return self.process.stdout.readline()

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        """GET a path of the service (keep-alive session)."""
        kwargs.setdefault("timeout", CLIENT_TIMEOUT)
        return self.session.get(self.url + path, **kwargs)

    def stderr(self) -> str:
        """What the service logged so far."""
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def terminate(self) -> int:
        """SIGTERM, then wait for the exit.

        Returns:
            The exit code.
        """
        assert self.process is not None
        self.session.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=STOP_TIMEOUT)

    def wait_for_metric(self, name: str, value: float, headers: dict[str, str]) -> None:
        """Read ``/metrics`` until ``name`` has ``value``.

        Raises:
            AssertionError: it did not within the client timeout.
        """
        give_up = time.monotonic() + CLIENT_TIMEOUT
        with requests.Session() as session:
            while time.monotonic() < give_up:
                text = session.get(
                    self.url + "/metrics", headers=headers, timeout=CLIENT_TIMEOUT
                ).text
                if metric(text, name) == value:
                    return
        msg = f"{name} never reached {value}"
        raise AssertionError(msg)

    def __enter__(self) -> Self:
        """Start."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop, killing a service that does not stop on SIGTERM."""
        if self.process is None:
            return
        try:
            self.terminate()
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


def metric(text: str, name: str) -> float | None:
    """One sample of a Prometheus text exposition (``name`` with its labels, if any)."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return None
