"""The singer-sdk standard tap tests, against the shared emulator."""

from __future__ import annotations

import tempfile
from pathlib import Path

from singer_sdk.testing import get_tap_test_class

from tap_salesforce_accounts.tap import TapSalesforceAccounts
from tests.conftest import EMULATOR
from tests.helpers import tap_config

_CACHE = tempfile.TemporaryDirectory(prefix="describe-cache-")

TestTapSalesforceAccounts = get_tap_test_class(
    tap_class=TapSalesforceAccounts,
    config=tap_config(EMULATOR.url, Path(_CACHE.name)),
)
