"""What a person sees on stderr: progress and a summary, quiet defaults, typos, closed pipes."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
from typing import TYPE_CHECKING

import pytest

from tap_salesforce_accounts.progress import INTERVAL_VARIABLE, ProgressCounter
from tests.emulator import Emulator
from tests.helpers import BIN, TAP, messages, records, run_tap, tap_config, write_json

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

PROGRESS = re.compile(r"([\d,]+) of ([\d,]+) Accounts written \((\d+)%, ([\d,]+)/s\)")
SUMMARY = re.compile(
    r"Done: ([\d,]+) Accounts in ([\d.]+) s \(([\d,]+)/s\); ([\d,]+) requests to Salesforce, "
    r"([\d,]+) of the org's ([\d,]+) daily API requests left; bookmark SystemModstamp (\S+)$"
)
HOOK = BIN / "tap-salesforce-accounts-hook"
CONNECT = BIN / "tap-salesforce-accounts-connect"


def number(text: str) -> int:
    return int(text.replace(",", ""))


@pytest.fixture
def slow_emulator() -> Iterator[Emulator]:
    """Three pages of Accounts, each answer 150 ms late: a run long enough for progress."""
    with Emulator(accounts=4500, seed=3, latency_ms=150) as emu:
        yield emu


def test_a_long_run_logs_progress_and_a_summary_that_match_its_output(
    slow_emulator: Emulator, tmp_path: Path
) -> None:
    config = tap_config(slow_emulator.url, tmp_path / "cache")
    # Progress lines every 50 ms: every page takes longer than that to arrive.
    done = run_tap(config, tmp_path=tmp_path, env={INTERVAL_VARIABLE: "0.05"})
    assert done.returncode == 0, done.stderr
    written = records(done.stdout)
    lines = done.stderr.splitlines()

    progress = [m for line in lines if (m := PROGRESS.search(line))]
    assert progress, done.stderr
    counts = [number(m[1]) for m in progress]
    assert counts == sorted(counts)
    assert counts[-1] <= len(written)
    assert {number(m[2]) for m in progress} == {len(written)}  # the query's totalSize
    assert all(0 <= int(m[3]) <= 100 for m in progress)

    (summary,) = [m for line in lines if (m := SUMMARY.search(line))]
    assert number(summary[1]) == len(written)
    assert number(summary[4]) == len(slow_emulator.requests())
    org = slow_emulator.config()
    assert number(summary[5]) == org["api_limit"] - org["api_usage"]
    assert number(summary[6]) == org["api_limit"]
    state = messages(done.stdout, "STATE")[-1]["value"]
    assert summary[7] == state["bookmarks"]["Account"]["replication_key_value"]


def test_a_bulk_run_knows_its_total_from_the_job(slow_emulator: Emulator, tmp_path: Path) -> None:
    config = tap_config(slow_emulator.url, tmp_path / "cache", api_type="bulk")
    done = run_tap(config, tmp_path=tmp_path, env={INTERVAL_VARIABLE: "0.05"})
    assert done.returncode == 0, done.stderr
    written = records(done.stdout)
    totals = {number(m[2]) for line in done.stderr.splitlines() if (m := PROGRESS.search(line))}
    assert totals <= {len(written)}
    (summary,) = [m for line in done.stderr.splitlines() if (m := SUMMARY.search(line))]
    assert number(summary[1]) == len(written)


class FakeClient:
    rest_calls = 7
    token_calls = 1
    usage = None


def test_progress_lines_come_at_most_once_per_interval_never_per_record(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    counter = ProgressCounter(
        "Account",
        logging.getLogger("progress-test"),
        FakeClient(),  # type: ignore[arg-type]
        lambda: "2024-01-01T00:00:00.000+00:00",
        interval=10,
        clock=lambda: now[0],
    )
    counter.expect(100_000)
    with caplog.at_level("INFO", logger="progress-test"), counter:
        for _ in range(100_000):
            now[0] += 0.001  # 1,000 records a second for 100 seconds
            counter.increment()
    lines = [r.getMessage() for r in caplog.records if r.name == "progress-test"]
    progress = [line for line in lines if PROGRESS.search(line)]
    assert 8 <= len(progress) <= 10
    assert "about 1 min 30 s left" in progress[0]
    assert lines[-1].startswith("Done: 100,000 Accounts in 100.0 s (1,000/s); 8 requests")


def test_default_logs_are_the_start_progress_and_summary(
    emulator: Emulator, tmp_path: Path
) -> None:
    config = tap_config(emulator.url, tmp_path / "cache")
    quiet = run_tap(config, tmp_path=tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    assert "Skipping parse of env var settings" not in quiet.stderr
    assert "METRIC" not in quiet.stderr
    assert "Beginning sync of 'Account'" in quiet.stderr
    assert "Done: " in quiet.stderr

    debug = run_tap(config, tmp_path=tmp_path, env={"LOGLEVEL": "DEBUG"})
    assert debug.returncode == 0, debug.stderr
    (skipping,) = [line for line in debug.stderr.splitlines() if "Skipping parse" in line]
    assert "DEBUG" in skipping
    assert "METRIC" in debug.stderr


def test_a_typo_in_the_tap_config_names_the_setting_it_meant(
    emulator: Emulator, tmp_path: Path
) -> None:
    config = tap_config(emulator.url, tmp_path / "cache")
    config["client_secrett"] = config.pop("client_secret")
    config["indexfield"] = "Id"
    config["stream_maps"] = {}  # the SDK's settings are settings too
    done = run_tap(config, "--discover", tmp_path=tmp_path)
    # The emulator, like an app without "Require Secret", signs in without the secret.
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if "is not a setting" in line]
    assert len(warnings) == 2, done.stderr
    assert "'client_secrett' is not a setting and is ignored: did you mean client_secret?" in (
        warnings[0] + warnings[1]
    )
    assert any("did you mean index_field?" in line for line in warnings)


def test_a_typo_in_the_hook_and_connect_config_is_named(
    fresh_emulator: Emulator, tmp_path: Path
) -> None:
    # An emulator of its own: connect --revoke revokes its refresh token.
    config = tap_config(
        fresh_emulator.url,
        tmp_path / "cache",
        hook_store_url=f"sqlite:///{tmp_path / 'hook.db'}",
        lookup_timout_seconds=3,
    )
    path = write_json(tmp_path / "config.json", config)
    hook = subprocess.run(
        [str(HOOK), "--config", str(path), "fields"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert hook.returncode == 0, hook.stderr
    assert hook.stderr.count("did you mean lookup_timeout_seconds?") == 1

    connect = subprocess.run(
        [str(CONNECT), "--config", str(path), "--revoke"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert connect.stderr.count("did you mean lookup_timeout_seconds?") == 1, connect.stderr


def closed_pipe() -> int:
    read, write = os.pipe()
    os.close(read)
    return write


def test_a_tap_whose_reader_goes_away_ends_quietly(emulator: Emulator, tmp_path: Path) -> None:
    path = write_json(tmp_path / "config.json", tap_config(emulator.url, tmp_path / "cache"))
    with subprocess.Popen(
        [str(TAP), "--config", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as tap:
        assert tap.stdout is not None
        assert tap.stderr is not None
        first = json.loads(tap.stdout.readline())
        tap.stdout.close()  # like `| head -1`
        stderr = tap.stderr.read().decode()
        code = tap.wait(timeout=120)
    assert first["type"] == "SCHEMA"
    assert code == 141
    assert "Traceback" not in stderr
    assert "ERROR" not in stderr
    assert "BrokenPipeError" not in stderr


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["--discover"], id="tap-discover"),
        pytest.param(["--about"], id="tap-about"),
        pytest.param([], id="tap-sync"),
        pytest.param(["hook", "fields"], id="hook-fields"),
    ],
)
def test_every_command_ends_quietly_on_a_closed_stdout(
    command: list[str], emulator: Emulator, tmp_path: Path
) -> None:
    config = tap_config(
        emulator.url, tmp_path / "cache", hook_store_url=f"sqlite:///{tmp_path / 'hook.db'}"
    )
    path = str(write_json(tmp_path / "config.json", config))
    if command[:1] == ["hook"]:
        argv = [str(HOOK), "--config", path, *command[1:]]
    else:
        argv = [str(TAP), "--config", path, *command]
    stdout = closed_pipe()
    try:
        done = subprocess.run(
            argv, stdout=stdout, stderr=subprocess.PIPE, text=True, check=False, timeout=120
        )
    finally:
        os.close(stdout)
    assert done.returncode == 141, done.stderr
    assert "Traceback" not in done.stderr
    assert "Error" not in done.stderr
