"""The singer-sdk's private names the tap relies on, in one place.

The singer-sdk does not promise to keep these: an SDK upgrade means reviewing this file
against the new version (``tests/test_sdk_private.py`` checks that each name still exists
and that this list names every private method the tap overrides).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Final

from singer_sdk.configuration._dict_config import parse_environment_config
from singer_sdk.helpers._classproperty import classproperty
from singer_sdk.helpers._util import utc_now
from singer_sdk.plugin_base import _ConfigInput as ConfigInput

if TYPE_CHECKING:
    from singer_sdk import Tap

__all__ = ["OVERRIDDEN", "ConfigInput", "classproperty", "env_config", "utc_now"]

# The SDK's private methods the tap's classes override, by SDK class.
OVERRIDDEN: Final[dict[str, tuple[str, ...]]] = {
    # tap.py: the bookmark is brought up to date before the SDK writes the state on a
    # signal; numbers are read from environment variables; start_date, loopback_only and
    # unknown keys are checked as the settings are read, before any call to Salesforce.
    "Tap": ("_handle_termination", "_env_var_config", "_validate_config"),
    # streams.py: the per-record hot path and the bookmark, written only with a STATE.
    "Stream": (
        "_process_record",
        "_write_record_message",
        "_generate_record_messages",
        "_increment_stream_state",
        "_write_state_message",
        "_finalize_state",
    ),
}


def env_config(tap_class: type[Tap]) -> dict[str, Any]:
    """The settings in ``<TAP>_*`` environment variables, numbers as numbers.

    The SDK reads integers and booleans from environment variables but leaves numbers as
    text; ``request_timeout=2.5`` must work there too.
    """
    schema = tap_class.config_jsonschema
    tap_class.append_builtin_config(schema)
    found = parse_environment_config(schema, tap_class._env_var_prefix)  # noqa: SLF001
    properties = schema.get("properties", {})
    for key, value in found.items():
        declared = properties.get(key, {}).get("type")
        types = declared if isinstance(declared, list) else [declared]
        if isinstance(value, str) and "number" in types:
            with contextlib.suppress(ValueError):
                found[key] = float(value)
    return found
