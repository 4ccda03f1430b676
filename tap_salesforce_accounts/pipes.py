"""A closed stdout (``command | head``) ends a command quietly, with the conventional status."""

from __future__ import annotations

import contextlib
import os
import sys

from tap_salesforce_accounts.exceptions import StdoutClosedError


def stdout_closed() -> int:
    """Silence stdout for good and return the exit status of a command a pipe ended.

    Whatever is still buffered is dropped: the interpreter's last flush at exit would
    otherwise fail again and print ``Exception ignored ... BrokenPipeError``.
    """
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return StdoutClosedError.exit_code
