"""Config files: JSON written atomically, readable by its owner only (it holds secrets)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from tap_salesforce_accounts.exceptions import ConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping


def read_json_object(source: Path | TextIO, what: str) -> dict[str, Any]:
    """A JSON object from a file path or an open file.

    Raises:
        ConfigError: the file cannot be read, is not JSON, or is not a JSON object.
    """
    name = str(source) if isinstance(source, Path) else getattr(source, "name", "input")
    try:
        text = source.read_text(encoding="utf-8") if isinstance(source, Path) else source.read()
        data = json.loads(text)
    except OSError as exc:
        msg = f"cannot read the {what} {name} ({exc.strerror}): check the path."
        raise ConfigError(msg) from None
    except ValueError as exc:
        msg = f"the {what} {name} is not valid JSON ({exc})."
        raise ConfigError(msg) from None
    if not isinstance(data, dict):
        msg = f"the {what} {name} must hold a JSON object."
        raise ConfigError(msg)
    return data


def write_json_private(path: Path, data: Mapping[str, Any]) -> None:
    """Write JSON to ``path`` atomically with mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")
        Path(tmp).chmod(0o600)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
