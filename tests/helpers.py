"""Helpers the tests share: run the tap, read its output, an independent SOQL oracle."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.emulator import config_for

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TAP = BIN / "tap-salesforce-accounts"


def tap_config(url: str, cache_dir: Path, **extra: Any) -> dict[str, Any]:
    """A tap config for an emulator, with its own describe cache."""
    return {**config_for(url), "describe_cache_dir": str(cache_dir), **extra}


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
