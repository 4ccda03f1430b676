"""Shared fixtures: one local Salesforce emulator per test process, and ways to run the tap.

The emulator starts when this module is imported, because the SDK's standard tests run
discovery while pytest collects them. Tests may read from it freely; a test that changes
the org's data (touch, delete, faults) takes ``fresh_emulator`` instead.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.emulator import Emulator, config_for

if TYPE_CHECKING:
    from collections.abc import Iterator

# Rotated refresh tokens are kept under XDG_STATE_HOME: the tests' own, never the user's.
os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="tap-salesforce-accounts-state-")
atexit.register(shutil.rmtree, os.environ["XDG_STATE_HOME"], ignore_errors=True)

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TAP = BIN / "tap-salesforce-accounts"
SHARED_ACCOUNTS = 500

EMULATOR = Emulator(accounts=SHARED_ACCOUNTS, seed=1).start()
atexit.register(EMULATOR.stop)


def tap_config(url: str, cache_dir: Path, **extra: Any) -> dict[str, Any]:
    """A tap config for an emulator, with its own describe cache."""
    return {**config_for(url), "describe_cache_dir": str(cache_dir), **extra}


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


def new_rsa_key_pair() -> tuple[str, str]:
    """A throwaway RSA key pair as PEM text: (private key, public key)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def write_json(path: Path, data: object) -> Path:
    """Write JSON and return the path."""
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def run_tap(
    config: dict[str, Any],
    *args: str,
    tmp_path: Path,
    state: dict[str, Any] | None = None,
    catalog: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the tap's command line; its stdout and stderr are captured as text."""
    command = [str(TAP), "--config", str(write_json(tmp_path / "config.json", config))]
    if state is not None:
        command += ["--state", str(write_json(tmp_path / "state.json", state))]
    if catalog is not None:
        command += ["--catalog", str(write_json(tmp_path / "catalog.json", catalog))]
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def messages(stdout: str, kind: str | None = None) -> list[dict[str, Any]]:
    """The Singer messages of a tap's output, optionally of one type."""
    parsed = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    return [m for m in parsed if kind is None or m["type"] == kind]


def records(stdout: str) -> list[dict[str, Any]]:
    """The records of a tap's output."""
    return [m["record"] for m in messages(stdout, "RECORD")]


def raw_query(url: str, statement: str, *, all_rows: bool = False) -> list[dict[str, Any]]:
    """Run SOQL with plain ``requests``: an oracle independent of the tap."""
    config = config_for(url)
    with requests.Session() as session:
        token = session.post(
            f"{url}/services/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "client_id": config["client_id"],
                "client_secret": config["client_secret"],
                "refresh_token": config["refresh_token"],
            },
            timeout=30,
        ).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        resource = "queryAll" if all_rows else "query"
        answer = session.get(
            f"{url}/services/data/v62.0/{resource}",
            params={"q": statement},
            headers=headers,
            timeout=30,
        ).json()
        rows = list(answer["records"])
        while not answer["done"]:
            answer = session.get(url + answer["nextRecordsUrl"], headers=headers, timeout=30).json()
            rows += answer["records"]
    return rows
