"""Shared fixtures: one local Salesforce emulator per test process (helpers: tests/helpers.py).

The emulator starts when this module is imported, because the SDK's standard tests run
discovery while pytest collects them. Tests may read from it freely; a test that changes
the org's data (touch, delete, faults) takes ``fresh_emulator`` instead.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import settings

from tests.emulator import Emulator
from tests.helpers import ROOT, tap_config

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

# Rotated refresh tokens are kept under XDG_STATE_HOME: the tests' own, never the user's.
os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="tap-salesforce-accounts-state-")
atexit.register(shutil.rmtree, os.environ["XDG_STATE_HOME"], ignore_errors=True)

SHARED_ACCOUNTS = 500
# Answers recorded from a real org, kept beside the checkout (never copied into it).
REAL_SALESFORCE = ROOT.parent / "shared" / "fixtures" / "salesforce"

# Hypothesis' per-example deadline is a stopwatch: on a loaded machine it fails sound code.
settings.register_profile("project", deadline=None)
settings.load_profile("project")

EMULATOR = Emulator(accounts=SHARED_ACCOUNTS, seed=1).start()
atexit.register(EMULATOR.stop)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the Meltano tests first: the slowest file, so parallel workers finish together."""
    items.sort(key=lambda item: item.get_closest_marker("meltano") is None)


@pytest.fixture(autouse=True)
def token_state_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Each test's own token state folder (XDG_STATE_HOME), seen by the taps it runs.

    It lies outside the test's ``tmp_path``: like a config file, it is meant to hold secrets.
    """
    home = tmp_path_factory.mktemp("state-home")
    monkeypatch.setenv("XDG_STATE_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def emulator() -> Emulator:
    """The shared emulator (500 Accounts, seed 1); do not change its data."""
    return EMULATOR


@pytest.fixture
def fresh_emulator() -> Iterator[Emulator]:
    """An emulator of this test's own (300 Accounts, seed 7)."""
    with Emulator(accounts=300, seed=7) as emu:
        yield emu


@pytest.fixture
def config(emulator: Emulator, tmp_path: Path) -> dict[str, Any]:
    """A tap config for the shared emulator."""
    return tap_config(emulator.url, tmp_path / "describe-cache")


def real_salesforce_answer(name: str) -> Path:
    """The path of an answer recorded from a real org; skips the test when it is absent."""
    path = REAL_SALESFORCE / name
    if not path.is_file():
        pytest.skip(
            f"the recorded real Salesforce answer {name} is not here ({path}): these checks "
            "compare the tap and the emulator with a real org's describe and query answers, "
            "kept in shared/fixtures/salesforce/ beside the checkout"
        )
    return path
