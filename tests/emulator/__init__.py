"""A local Salesforce org for tests and benchmarks.

It speaks OAuth, REST (versions, describe, limits, query, sobjects) and Bulk API 2.0 queries.

Run it with ``python -m tests.emulator --port 0`` (prints ``READY http://127.0.0.1:PORT``), or
in-process::

    from tests.emulator import Emulator, config_for

    with Emulator(accounts=1000) as emu:
        config = config_for(emu.url)
        ...
        emu.touch(5)
        print(emu.requests()[-1])

``EmulatorProcess`` takes the same arguments and runs it as a subprocess.
"""

from __future__ import annotations

from tests.emulator.client import AdminClient, Emulator, EmulatorProcess, config_for
from tests.emulator.data import (
    ORG_ID,
    SHARED_LEGACY_INDEXES,
    SHARED_LEGACY_REF,
    SPECIAL_CUSTOMER_KEYS,
    SPECIAL_NAMES,
    USER_ID,
    USERNAME,
    Dataset,
    describe,
)
from tests.emulator.describe import API_VERSIONS, DEFAULT_VERSION, DESCRIBE_LAST_MODIFIED
from tests.emulator.faults import parse_fail_spec
from tests.emulator.oauth import CLIENT_ID, CLIENT_SECRET, JWT_GRANT, REFRESH_TOKEN

__all__ = [
    "API_VERSIONS",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "DEFAULT_VERSION",
    "DESCRIBE_LAST_MODIFIED",
    "JWT_GRANT",
    "ORG_ID",
    "REFRESH_TOKEN",
    "SHARED_LEGACY_INDEXES",
    "SHARED_LEGACY_REF",
    "SPECIAL_CUSTOMER_KEYS",
    "SPECIAL_NAMES",
    "USERNAME",
    "USER_ID",
    "AdminClient",
    "Dataset",
    "Emulator",
    "EmulatorProcess",
    "config_for",
    "describe",
    "parse_fail_spec",
]
