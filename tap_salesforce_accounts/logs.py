"""What the default log level shows: the start, progress, the summary and warnings.

The SDK logs a few lines at INFO that only matter when debugging (how the settings were
read, the starting bookmark it repeats, its ``METRIC`` lines): they are shown at DEBUG
(``LOGLEVEL=DEBUG``), as DEBUG lines, and not at all otherwise.
"""

from __future__ import annotations

import logging
from typing import Final

from singer_sdk.metrics import METRICS_LOGGER_NAME

DEMOTED_MESSAGES: Final = frozenset(
    {
        "Skipping parse of env var settings...",
        "Parsing env var for settings config...",
        "Starting incremental sync of '%s' with bookmark value: %s",
    }
)


class DemoteToDebug(logging.Filter):
    """Turns the SDK's debugging lines into DEBUG lines, dropped unless DEBUG is on.

    >>> import io
    >>> logger = logging.getLogger("demo-tap")
    >>> handler = logging.StreamHandler(out := io.StringIO())
    >>> handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    >>> logger.addHandler(handler)
    >>> logger.propagate = False
    >>> logger.addFilter(DemoteToDebug())
    >>> logger.setLevel(logging.INFO)
    >>> logger.info("Skipping parse of env var settings...")
    >>> logger.info("kept")
    >>> logger.setLevel(logging.DEBUG)
    >>> logger.info("Skipping parse of env var settings...")
    >>> print(out.getvalue().strip())
    INFO kept
    DEBUG Skipping parse of env var settings...
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep every line but the demoted ones, which are kept only at DEBUG."""
        if record.levelno != logging.INFO:
            return True
        if record.name != METRICS_LOGGER_NAME and record.msg not in DEMOTED_MESSAGES:
            return True
        if not logging.getLogger(record.name).isEnabledFor(logging.DEBUG):
            return False
        record.levelno = logging.DEBUG
        record.levelname = logging.getLevelName(logging.DEBUG)
        return True


def quiet_sdk_chatter(*logger_names: str) -> None:
    """Demote the SDK's debugging lines on these loggers and the metrics logger (once)."""
    for name in (*logger_names, METRICS_LOGGER_NAME):
        logger = logging.getLogger(name)
        if not any(isinstance(f, DemoteToDebug) for f in logger.filters):
            logger.addFilter(DemoteToDebug())
