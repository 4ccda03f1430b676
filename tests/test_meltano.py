"""The tap inside real Meltano: ``meltano run`` to target-jsonl, state carried between runs.

The project's own ``meltano.yml`` is copied into a temporary project whose extractor installs
this checkout, so the test changes nothing in the working tree.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import TYPE_CHECKING, Any

import pytest

from tests.emulator import Emulator
from tests.helpers import ROOT, raw_query

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

MELTANO = ROOT / ".meltano-venv" / "bin" / "meltano"

pytestmark = [
    pytest.mark.meltano,
    pytest.mark.skipif(
        not MELTANO.exists(), reason="Meltano is not installed: run `make setup` first"
    ),
]


class Project:
    """A Meltano project in a temporary folder, pointed at an emulator."""

    def __init__(self, path: Path, emulator: Emulator) -> None:
        self.path = path
        self.emulator = emulator

    def meltano(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        result = self.run(*args, env=env, emulator_url=self.emulator.url)
        assert result.returncode == 0, f"meltano {' '.join(args)} failed:\n{result.stderr[-3000:]}"
        return result

    def run(
        self, *args: str, env: dict[str, str] | None = None, emulator_url: str | None
    ) -> subprocess.CompletedProcess[str]:
        """Meltano in the demo environment; ``emulator_url`` None leaves the variable unset."""
        full_env = {
            **os.environ,
            **(env or {}),
            "SALESFORCE_EMULATOR_URL": emulator_url or "",
            "MELTANO_ENVIRONMENT": "demo",
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "MELTANO_DISABLE_TRACKING": "true",
        }
        if emulator_url is None:
            del full_env["SALESFORCE_EMULATOR_URL"]
        return subprocess.run(
            [str(MELTANO), *args],
            cwd=self.path,
            env=full_env,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )

    def output(self, name: str = "Account.jsonl") -> list[dict[str, Any]]:
        path = self.path / "output" / name
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]

    def clear_output(self) -> None:
        shutil.rmtree(self.path / "output", ignore_errors=True)
        (self.path / "output").mkdir()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    path = tmp_path_factory.mktemp("meltano-project")
    text = (ROOT / "meltano.yml").read_text(encoding="utf-8")
    text = text.replace("pip_url: -e .", f"pip_url: -e {ROOT}")
    text = text.replace("describe_cache_dir: .meltano/describe-cache", "describe_cache_dir: 'off'")
    (path / "meltano.yml").write_text(text, encoding="utf-8")
    with Emulator(accounts=300, seed=11) as emulator:
        project = Project(path, emulator)
        project.meltano("install", "extractor", "tap-salesforce-accounts")
        project.meltano("install", "loader", "target-jsonl")
        yield project


def live_ids(emulator: Emulator) -> set[str]:
    return {r["Id"] for r in raw_query(emulator.url, "SELECT Id FROM Account")}


def test_meltano_run_lands_every_account_then_only_changes(project: Project) -> None:
    project.clear_output()
    project.meltano("run", "--full-refresh", "tap-salesforce-accounts", "target-jsonl")
    first = project.output()
    assert {r["Id"] for r in first} == live_ids(project.emulator)
    assert len(first) == len(live_ids(project.emulator))

    state = json.loads(
        project.meltano("state", "get", "demo:tap-salesforce-accounts-to-target-jsonl").stdout
    )
    bookmark = state["singer_state"]["bookmarks"]["Account"]["replication_key_value"]
    assert bookmark == max(r["SystemModstamp"] for r in first)

    touched = set(project.emulator.touch(4)["ids"])
    project.clear_output()
    project.meltano("run", "tap-salesforce-accounts", "target-jsonl")
    second = project.output()
    assert touched <= {r["Id"] for r in second}
    # Only the changes, plus the Accounts sharing the old bookmark's timestamp (>=).
    assert all(r["Id"] in touched or r["SystemModstamp"] == bookmark for r in second)
    assert len(second) < len(first) // 10


def test_on_demand_in_meltano_leaves_the_bookmark_for_the_next_run(project: Project) -> None:
    project.meltano("run", "tap-salesforce-accounts", "target-jsonl")
    state_id = "demo:tap-salesforce-accounts-to-target-jsonl"
    before = json.loads(project.meltano("state", "get", state_id).stdout)
    touched = set(project.emulator.touch(3)["ids"])

    account = next(iter(touched))
    out = project.meltano("invoke", "tap-salesforce-accounts", "--account-id", account).stdout
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert [m["record"]["Id"] for m in lines if m["type"] == "RECORD"] == [account]
    assert json.loads(project.meltano("state", "get", state_id).stdout) == before

    project.clear_output()
    project.meltano("run", "tap-salesforce-accounts", "target-jsonl")
    assert touched <= {r["Id"] for r in project.output()}


def test_flattening_lands_compound_parts_as_columns(project: Project) -> None:
    project.clear_output()
    flattening = {
        "TAP_SALESFORCE_ACCOUNTS_FLATTENING_ENABLED": "true",
        "TAP_SALESFORCE_ACCOUNTS_FLATTENING_MAX_DEPTH": "1",
    }
    project.meltano(
        "run", "--full-refresh", "tap-salesforce-accounts", "target-jsonl", env=flattening
    )
    rows = project.output()
    with_address = [r for r in rows if r.get("BillingAddress__city") is not None]
    assert with_address
    assert all(r["BillingAddress__city"] == r["BillingCity"] for r in with_address)
    assert all("BillingAddress" not in r for r in with_address)


@pytest.mark.parametrize("value", [None, "", " "], ids=["unset", "empty", "blank"])
def test_the_demo_environment_without_the_emulator_url_is_a_config_error(
    project: Project, value: str | None
) -> None:
    project.emulator.reset_log()
    done = project.run("invoke", "tap-salesforce-accounts", "--discover", emulator_url=value)
    assert done.returncode == 2, done.stderr[-3000:]
    assert "loopback_only is set and login_url is missing or empty" in done.stderr
    assert "SALESFORCE_EMULATOR_URL" in done.stderr
    assert done.stdout == ""
    assert project.emulator.requests() == []


def test_meltano_run_lands_typed_columns_in_duckdb(project: Project) -> None:
    project.clear_output()  # target-duckdb creates its file, not the folder it lies in
    project.meltano("install", "loader", "target-duckdb")
    project.meltano("run", "--full-refresh", "tap-salesforce-accounts", "target-duckdb")
    python = project.path / ".meltano" / "loaders" / "target-duckdb" / "venv" / "bin" / "python"
    query = (
        "import duckdb, json; c = duckdb.connect('output/accounts.duckdb', read_only=True); "
        "n = c.execute('select count(*) from salesforce.account').fetchone()[0]; "
        'types = dict(c.execute("select column_name, data_type from information_schema.columns '
        "where table_name = 'account'\").fetchall()); print(json.dumps([n, types]))"
    )
    result = subprocess.run(
        [str(python), "-c", query],
        cwd=project.path,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    count, types = json.loads(result.stdout)
    assert count == len(live_ids(project.emulator))
    assert types["systemmodstamp"].startswith("TIMESTAMP")
    assert types["annualrevenue"] in {"DOUBLE", "NUMERIC", "DECIMAL"} or types[
        "annualrevenue"
    ].startswith("DECIMAL")
    assert types["isdeleted"] == "BOOLEAN"
