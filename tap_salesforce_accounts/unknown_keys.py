"""Config keys that are no setting: each is warned about once, with the closest setting.

A typo'd key (``client_secrett``) is otherwise silently ignored, and a user debugging auth
never learns their secret was never sent. The names known are the tap's settings and the
SDK's built-in ones (stream maps, flattening, batch), which Meltano passes on as well.
"""

from __future__ import annotations

import difflib
import logging
import threading
from typing import TYPE_CHECKING, Final

from tap_salesforce_accounts.settings import SETTING_NAMES

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

logger = logging.getLogger(__name__)

_CUTOFF: Final = 0.6
_warned: set[str] = set()
_warned_lock = threading.Lock()


def closest_setting(key: str, names: Iterable[str] = SETTING_NAMES) -> str | None:
    """The setting ``key`` most likely meant, if one is close enough.

    >>> closest_setting("client_secrett"), closest_setting("indexfield")
    ('client_secret', 'index_field')
    >>> closest_setting("LOGIN_URL"), closest_setting("colour") is None
    ('login_url', True)
    """
    matches = difflib.get_close_matches(key.lower(), sorted(names), n=1, cutoff=_CUTOFF)
    return matches[0] if matches else None


def unknown_keys(config: Mapping[str, object]) -> list[tuple[str, str | None]]:
    """Each key of ``config`` that is no setting, with the closest setting (or None).

    >>> unknown_keys({"client_id": "x", "client_secrett": "y", "stream_maps": {}})
    [('client_secrett', 'client_secret')]
    """
    return [(key, closest_setting(key)) for key in config if key not in SETTING_NAMES]


def message(key: str, suggestion: str | None) -> str:
    """The warning about one unknown key.

    >>> message("indexfield", "index_field")
    "config key 'indexfield' is not a setting and is ignored: did you mean index_field?"
    """
    if suggestion is None:
        return (
            f"config key {key!r} is not a setting and is ignored "
            "(tap-salesforce-accounts --about lists the settings)."
        )
    return f"config key {key!r} is not a setting and is ignored: did you mean {suggestion}?"


def warn_unknown_keys(
    config: Mapping[str, object], warn: Callable[[str], object] | None = None
) -> None:
    """Warn once per process about each unknown key (through ``warn`` or the log)."""
    for key, suggestion in unknown_keys(config):
        with _warned_lock:
            if key in _warned:
                continue
            _warned.add(key)
        (warn or logger.warning)(message(key, suggestion))
