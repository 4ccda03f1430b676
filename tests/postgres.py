"""A throwaway PostgreSQL server for tests: Debian's binaries, a temporary data folder.

``initdb`` refuses to run as root, so under root the server runs as the ``postgres`` OS
user (``runuser``), with its data and socket folders in a temporary folder that user owns.
It listens on 127.0.0.1 on a free port, trusts local connections, and trades durability for
speed (``fsync=off``): it lives for one test session.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Iterator

BIN_GLOB: Final = "/usr/lib/postgresql/*/bin"
SERVER_USER: Final = "postgres"


class PostgresUnavailableError(RuntimeError):
    """No PostgreSQL server can be started here (the reason is the message)."""


def find_bin_dir() -> Path:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding ``initdb`` and ``pg_ctl``.

    Raises:
        PostgresUnavailableError: no such folder.
    """
    candidates = [
        Path(found)
        for found in glob.glob(BIN_GLOB)  # noqa: PTH207
        if (Path(found) / "initdb").exists() and (Path(found) / "pg_ctl").exists()
    ]
    if not candidates:
        msg = (
            f"PostgreSQL is not installed here (no initdb and pg_ctl under {BIN_GLOB}): "
            "install Debian's postgresql package, as .ci/run does"
        )
        raise PostgresUnavailableError(msg)

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in path.parent.name.split(".") if part.isdigit())

    return max(candidates, key=version)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """A PostgreSQL server in a temporary folder; :meth:`start` then :meth:`stop`."""

    def __init__(self) -> None:
        """Find the binaries and decide which OS user runs the server.

        Raises:
            PostgresUnavailableError: binaries missing, or root without a postgres user.
        """
        self.bin_dir = find_bin_dir()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            try:
                self._owner = pwd.getpwnam(SERVER_USER)
            except KeyError:
                msg = f"running as root and there is no {SERVER_USER!r} OS user for initdb"
                raise PostgresUnavailableError(msg) from None
            if shutil.which("runuser") is None:
                msg = "running as root and runuser is missing"
                raise PostgresUnavailableError(msg)
        self.root = Path(tempfile.mkdtemp(prefix="hook-pg-"))
        self.data = self.root / "data"
        self.sockets = self.root / "sockets"
        self.log = self.root / "server.log"
        self.port = 0

    @property
    def url(self) -> str:
        """A URL of the ``postgres`` database as the ``postgres`` role."""
        return f"postgresql://{SERVER_USER}@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        return subprocess.run(
            command, capture_output=True, text=True, check=False, timeout=60, cwd=self.root
        )

    def start(self) -> None:
        """Create the cluster and start the server.

        Raises:
            PostgresUnavailableError: initdb or pg_ctl failed (their output is the message).
        """
        self.sockets.mkdir()
        if self.as_root:
            for path in (self.root, self.sockets):
                os.chown(path, self._owner.pw_uid, self._owner.pw_gid)
        done = self._run(
            "initdb",
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            SERVER_USER,
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        )
        if done.returncode != 0:
            msg = f"initdb failed: {done.stderr.strip() or done.stdout.strip()}"
            raise PostgresUnavailableError(msg)
        for _attempt in range(3):
            self.port = _free_port()
            options = (
                f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.sockets} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                "-c max_connections=200"
            )
            done = self._run(
                "pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "start"
            )
            if done.returncode == 0:
                return
            time.sleep(0.2)
        log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
        msg = f"pg_ctl start failed: {done.stderr.strip()} {log}"
        raise PostgresUnavailableError(msg)

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove its folder."""
        if self.data.exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def running_server() -> Iterator[PostgresServer]:
    """A started server, stopped at the end.

    Raises:
        PostgresUnavailableError: no server can be started here.
    """
    server = PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()
