"""The Account describe on disk: one file per instance, user and API version.

The client revalidates an old file with ``If-Modified-Since`` (the file's time) and, on
``304``, touches it; this module only reads and writes the files.
"""

from __future__ import annotations

import dataclasses
import email.utils
import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

_OFF = frozenset({"", "off", "none"})


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/tap-salesforce-accounts``, else ``~/.cache/tap-salesforce-accounts``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tap-salesforce-accounts"


def cache_dir(setting: object) -> Path | None:
    """The folder ``describe_cache_dir`` names: the default when unset, ``None`` when off.

    >>> cache_dir("off") is None
    True
    >>> cache_dir("/tmp/describe")
    PosixPath('/tmp/describe')
    """
    if setting is None:
        return default_cache_dir()
    text = str(setting)
    return None if text in _OFF else Path(text).expanduser()


def cache_file(directory: Path, instance_url: str, org_and_user: str, api_version: str) -> Path:
    """The file of one describe.

    Field-level security makes the describe depend on the user, not just the org.
    """
    key = f"{instance_url}|{org_and_user}|{api_version}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    return directory / f"account-describe-{digest}.json"


@dataclasses.dataclass(frozen=True, slots=True)
class CachedDescribe:
    """A describe read from disk, and when it was last known to be current."""

    describe: dict[str, Any]
    modified: float

    @property
    def http_date(self) -> str:
        """``modified`` for an ``If-Modified-Since`` header."""
        return email.utils.formatdate(self.modified, usegmt=True)


def read(path: Path) -> CachedDescribe | None:
    """The describe in ``path``; ``None`` when missing, unreadable or not a describe."""
    try:
        modified = path.stat().st_mtime
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or "fields" not in data:
        return None
    return CachedDescribe(data, modified)


def write(path: Path, body: bytes) -> None:
    """Replace ``path`` with ``body`` atomically; a failure is logged, not raised."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".tmp") as tmp:
            tmp.write(body)
        Path(tmp.name).replace(path)
    except OSError as exc:
        logger.warning(
            "Cannot write the describe cache %s (%s): describe_cache_dir must be a writable "
            "folder, or 'off'.",
            path,
            exc.strerror,
        )


def mark_current(path: Path) -> None:
    """Salesforce said the describe did not change: it counts as fresh from now."""
    try:
        path.touch()
    except OSError as exc:
        logger.warning("Cannot touch the describe cache %s (%s).", path, exc.strerror)
