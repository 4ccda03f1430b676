"""Where the status store is: ``hook_store_url`` read, and shown without its password."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Final
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from tap_salesforce_accounts.exceptions import ConfigError

DEFAULT_STORE_DIR: Final = ".tap-salesforce-accounts"
DEFAULT_STORE_FILE: Final = "hook.db"


@dataclasses.dataclass(frozen=True, slots=True)
class StoreLocation:
    """Where the store is: a backend and its target (a file path or a PostgreSQL URL)."""

    backend: str
    target: str
    display: str

    @classmethod
    def parse(cls, url: str | None, *, cwd: Path | None = None) -> StoreLocation:
        """Read ``hook_store_url``; ``None`` means the default SQLite file under ``cwd``.

        Raises:
            ConfigError: the URL is neither ``sqlite:///...`` nor ``postgresql://...``.

        >>> StoreLocation.parse("sqlite:////var/lib/hook.db").target
        '/var/lib/hook.db'
        >>> StoreLocation.parse("postgresql://app:pw@db/hooks").display
        'postgresql://app:***@db/hooks'
        """
        base = cwd if cwd is not None else Path.cwd()
        if url is None or not str(url).strip():
            path = (base / DEFAULT_STORE_DIR / DEFAULT_STORE_FILE).resolve()
            return cls("sqlite", str(path), f"sqlite:///{path}")
        text = str(url).strip()
        scheme = text.split(":", 1)[0].lower()
        if scheme == "sqlite":
            if not text.startswith("sqlite:///") or len(text) == len("sqlite:///"):
                msg = (
                    "hook_store_url must look like sqlite:///relative/path.db or "
                    "sqlite:////absolute/path.db."
                )
                raise ConfigError(msg)
            raw = unquote(text[len("sqlite:///") :].split("?", 1)[0])
            path = (base / raw).resolve() if not raw.startswith("/") else Path(raw)
            return cls("sqlite", str(path), f"sqlite:///{path}")
        if scheme in {"postgresql", "postgres"}:
            return cls("postgresql", text, redact_url(text))
        msg = (
            f"hook_store_url has the unsupported scheme {scheme!r}: use sqlite:///path.db "
            "or postgresql://user@host/database."
        )
        raise ConfigError(msg)


def redact_url(url: str) -> str:
    """The URL with its password (in the netloc or the query) replaced by ``***``.

    >>> redact_url("postgresql://u@h/db?password=x&sslmode=require")
    'postgresql://u@h/db?password=%2A%2A%2A&sslmode=require'
    """
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        if ":" in userinfo:
            netloc = f"{userinfo.split(':', 1)[0]}:***@{host}"
    query = parts.query
    if query:
        pairs = [
            (key, "***" if key.lower() == "password" else value)
            for key, value in parse_qsl(query, keep_blank_values=True)
        ]
        query = urlencode(pairs)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def url_password(url: str) -> str:
    """The password in a PostgreSQL URL (its netloc or its query), ``""`` if none."""
    parts = urlsplit(url)
    found = parts.password or ""
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key.lower() == "password":
            found = value
    return found
