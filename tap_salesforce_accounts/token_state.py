"""Refresh tokens Salesforce rotates, kept per user so that every run and process sees the newest.

With refresh token rotation (an app setting), each refresh answer carries a new refresh token
and the one just used stops working. A config file regenerated per run (Meltano), environment
variables or a read-only file cannot keep it, and processes that refresh at once with the same
token leave all but one with ``invalid_grant``. So a chain's newest refresh token lives in a
state file of the user's, found again from the configured token::

    $XDG_STATE_HOME/tap-salesforce-accounts/tokens/<sha256 of login host and token>.json

(``~/.local/state`` when ``XDG_STATE_HOME`` is unset; the folder is mode 0700, the file 0600).
A newly connected refresh token hashes differently, so it starts a new chain. Refreshes are
single-flight across processes: an exclusive ``flock`` on ``<name>.lock`` is held across the
token request, and a process that waited for it takes the access token the holder just got
instead of refreshing again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tap_salesforce_accounts.configfile import write_json_private

if TYPE_CHECKING:
    from collections.abc import Iterator

logger = logging.getLogger(__name__)

_OFF = frozenset({"", "off", "none"})


def default_token_state_dir() -> Path:
    """``$XDG_STATE_HOME/tap-salesforce-accounts/tokens``, else under ``~/.local/state``."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "tap-salesforce-accounts" / "tokens"


def token_state_dir(value: object) -> Path | None:
    """The ``token_state_dir`` setting: the default folder when unset, None when ``off``.

    >>> token_state_dir("off") is None
    True
    >>> token_state_dir("/var/lib/tap").as_posix()
    '/var/lib/tap'
    """
    if value is None:
        return default_token_state_dir()
    text = str(value).strip()
    return None if text.lower() in _OFF else Path(text).expanduser()


@dataclasses.dataclass(frozen=True, slots=True)
class ChainState:
    """A chain's newest refresh token, and the access token last got with it."""

    refresh_token: str = dataclasses.field(repr=False)
    serial: int = 0
    access_token: str = dataclasses.field(default="", repr=False)
    instance_url: str = ""
    identity_url: str = ""
    issued_at: float = 0.0


class TokenChain:
    """The state file of one configured refresh token at one login host.

    Args:
        directory: the token state folder.
        login_url: the login URL the token belongs to.
        refresh_token: the configured refresh token (the chain's first link).
    """

    def __init__(self, directory: Path, login_url: str, refresh_token: str) -> None:
        """Name the chain's files; nothing is read or written yet."""
        host = (urlsplit(login_url).netloc or login_url).lower()
        key = hashlib.sha256(f"{host}\n{refresh_token}".encode()).hexdigest()
        self.directory = directory
        self.path = directory / f"{key}.json"
        self._lock_path = directory / f"{key}.lock"
        self._configured = refresh_token

    def read(self) -> ChainState:
        """The chain's newest state; the configured token alone when there is none yet."""
        try:
            data: Any = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return ChainState(self._configured)
        except (OSError, ValueError) as exc:
            logger.warning(
                "Cannot read the token state file %s (%s): starting again from the configured "
                "refresh token.",
                self.path,
                type(exc).__name__,
            )
            return ChainState(self._configured)
        try:
            return ChainState(
                refresh_token=str(data["refresh_token"]) or self._configured,
                serial=int(data.get("serial") or 0),
                access_token=str(data.get("access_token") or ""),
                instance_url=str(data.get("instance_url") or ""),
                identity_url=str(data.get("identity_url") or ""),
                issued_at=float(data.get("issued_at") or 0),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            logger.warning(
                "The token state file %s is not one the tap wrote: starting again from the "
                "configured refresh token.",
                self.path,
            )
            return ChainState(self._configured)

    def write(self, state: ChainState) -> None:
        """Replace the state file atomically (mode 0600).

        Raises:
            OSError: the file cannot be written.
        """
        write_json_private(self.path, dataclasses.asdict(state))

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the chain's cross-process lock (logging once when another process has it).

        Raises:
            OSError: the folder cannot be created or the lock file opened.
        """
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                logger.info(
                    "Waiting for another process to finish its token refresh (%s)...",
                    self._lock_path,
                )
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock
