"""The quick-start demo: the Meltano pipeline tap-salesforce-accounts -> target-jsonl.

Starts the local Salesforce emulator, runs ``meltano run --full-refresh`` in the ``demo``
environment against it, stops the emulator, and says what happened: how many Accounts the
org holds, how many of them are deleted, and how many landed where.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.emulator import EmulatorProcess

ROOT = Path(__file__).resolve().parent.parent
MELTANO = ROOT / ".meltano-venv" / "bin" / "meltano"
OUTPUT = ROOT / "output" / "Account.jsonl"
ACCOUNTS = 500


def meltano(*args: str, env: dict[str, str]) -> None:
    """Run one Meltano command in the project, failing loudly."""
    print(f"$ meltano {' '.join(args)}", flush=True)
    subprocess.run([str(MELTANO), *args], cwd=ROOT, env=env, check=True)


def main() -> int:
    """Run the demo; returns the exit code."""
    OUTPUT.unlink(missing_ok=True)  # target-jsonl appends to it
    with EmulatorProcess(accounts=ACCOUNTS, seed=1) as emulator:
        deleted = int(emulator.config()["deleted"])
        print(
            f"Local Salesforce emulator at {emulator.url}: {ACCOUNTS} Accounts, {deleted} of "
            "them deleted (in the recycle bin)",
            flush=True,
        )
        env = {
            **os.environ,
            "SALESFORCE_EMULATOR_URL": emulator.url,
            "MELTANO_ENVIRONMENT": "demo",
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
        meltano("install", env=env)
        meltano("run", "--full-refresh", "tap-salesforce-accounts", "target-jsonl", env=env)
    with OUTPUT.open(encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle]
    print()
    print(
        f"{len(records)} Accounts landed in {OUTPUT.relative_to(ROOT)}: the live ones; the "
        f"{deleted} deleted ones are read only with include_deleted: true (with IsDeleted: true)"
    )
    if records:
        first = records[0]
        print(f"First one: {first['Id']} {first.get('Name')!r}, {len(first)} fields")
    print(f"Look at them: head -n 1 {OUTPUT.relative_to(ROOT)} | python3 -m json.tool")
    return 0


if __name__ == "__main__":
    sys.exit(main())
