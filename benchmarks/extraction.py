"""Full extraction, side by side: this tap, singer-io's tap-salesforce 2.8.1, a raw floor.

One emulator process serves N Accounts (all fields) to each implementation in turn; each
runs in a fresh child process whose stdout is read and discarded by this process (counting
RECORD lines on the way, to check that every Account arrived). Reported: records, wall
seconds (process start to exit), records/s, peak RSS and CPU seconds of the child, and
ratios to singer-io's tap and to the raw floor (``requests`` + orjson decode + one JSON line
per record). A second emulator answering after ``--latency-ms`` (300) then serves the tap
over REST and the floor: the tap should read one page per round trip, writing a page while
the next one downloads.

    python -m benchmarks extraction                       # 50,000 Accounts, all rows
    python -m benchmarks extraction --accounts 100000,1000000 --only this-tap

Exits non-zero when an implementation fails or writes fewer records than the org holds.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from benchmarks._common import (
    REPO,
    TAP_COMMAND,
    Org,
    Run,
    emulator,
    fmt_int,
    fmt_ratio,
    load_average,
    markdown_table,
    print_header,
    run_measured,
    tap_config,
    write_json,
)
from benchmarks._latency import latency_table, run_latency

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from tests.emulator import EmulatorProcess

SINGER_IO_VERSION: Final = "2.8.1"
SINGER_IO_VENV: Final = REPO / "benchmarks" / ".venvs" / f"tap-salesforce-{SINGER_IO_VERSION}"
SINGER_IO_LAUNCHER: Final = REPO / "benchmarks" / "_singer_io_launcher.py"

# What each implementation writes at the start of a RECORD line (none for the raw floor,
# which writes records only: one per line).
OUR_MARKER: Final = b'"type":"RECORD"'
SINGER_PYTHON_MARKER: Final = b'"type": "RECORD"'

IMPLEMENTATIONS: Final = (
    "this-tap",
    "this-tap-bulk",
    "singer-io",
    "raw-floor",
    "raw-floor-json",
)
LABELS: Final = {
    "this-tap": "tap-salesforce-accounts (REST)",
    "this-tap-bulk": "tap-salesforce-accounts (Bulk API 2.0)",
    "singer-io": f"singer-io tap-salesforce {SINGER_IO_VERSION} (REST)",
    "raw-floor": "raw floor: requests + orjson + one line per record",
    "raw-floor-json": "raw floor, the standard json module",
}
LATENCY_ROWS: Final = ("this-tap", "raw-floor")


@dataclasses.dataclass(frozen=True)
class Result:
    """One implementation's measured run, with the records it should have written."""

    name: str
    accounts: int
    run: Run | None
    expected: int
    error: str = ""

    @property
    def ok(self) -> bool:
        """It ran, exited 0 and wrote every record."""
        return (
            self.run is not None
            and not self.error
            and self.run.returncode == 0
            and self.run.records == self.expected
        )

    def problem(self) -> str:
        """Why it is not ok ('' if it is)."""
        if self.error:
            return self.error
        if self.run is None:
            return "did not run"
        if self.run.returncode != 0:
            return f"exit code {self.run.returncode}:\n{self.run.stderr_tail}"
        if self.run.records != self.expected:
            return (
                f"wrote {self.run.records:,} records, expected {self.expected:,}:\n"
                f"{self.run.stderr_tail}"
            )
        return ""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the extraction benchmark; 0 when every implementation extracted every record."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks extraction", description=__doc__)
    parser.add_argument(
        "--accounts",
        default="50000",
        help="Accounts in the emulator; a comma-separated list runs each size (default 50000)",
    )
    parser.add_argument("--seed", type=int, default=1, help="emulator seed (default 1)")
    parser.add_argument(
        "--only",
        default=",".join(IMPLEMENTATIONS),
        help=f"comma-separated subset of {', '.join(IMPLEMENTATIONS)} (default: all)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs per implementation; the fastest is reported (default 1)",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=300,
        help="the emulator's delay per answer for the latency table; 0 skips it (default 300)",
    )
    parser.add_argument(
        "--latency-accounts",
        type=int,
        default=20_000,
        help="Accounts in the latency table's emulator (default 20000)",
    )
    args = parser.parse_args(argv)

    sizes = [int(text.replace("_", "")) for text in args.accounts.split(",")]
    only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(only) - set(IMPLEMENTATIONS))
    if unknown:
        parser.error(f"unknown implementation(s) {', '.join(unknown)}")
    if "singer-io" in only:
        ensure_singer_io_venv()

    print_header("Full extraction: Accounts, all fields, to a discarding pipe")
    results: list[Result] = []
    for accounts in sizes:
        results.extend(run_size(accounts, args.seed, only, args.repeat))
        print(size_table([r for r in results if r.accounts == accounts]))
        print(f"\n(load average after: {load_average()})\n")
    if len(sizes) > 1:
        print(scale_table(results))
        print()
    slow = [name for name in LATENCY_ROWS if name in only]
    if args.latency_ms > 0 and slow:
        latency = run_latency(
            args.latency_accounts,
            args.seed,
            args.latency_ms,
            names=slow,
            runners=RUNNERS,
            make_result=Result,
        )
        print(latency_table(latency, args.latency_ms, LABELS))
        print(f"\n(load average after: {load_average()})\n")
        results.extend(row.result for row in latency)
    failed = [r for r in results if not r.ok]
    for result in failed:
        print(f"FAILED: {LABELS[result.name]} at {result.accounts:,} Accounts: {result.problem()}")
    return 1 if failed else 0


def run_size(accounts: int, seed: int, only: Sequence[str], repeat: int) -> list[Result]:
    """Every selected implementation against one emulator of ``accounts`` Accounts."""
    results = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-extraction-") as tmp,
        emulator(accounts=accounts, seed=seed) as org,
    ):
        work = Path(tmp)
        session = Org.login(tap_config(org.url, work / "unused-cache"))
        live = session.count()
        with_deleted = session.count(include_deleted=True)
        print(
            f"Emulator: {accounts:,} Accounts ({live:,} live, {with_deleted - live:,} deleted), "
            f"seed {seed}, {org.url}",
            file=sys.stderr,
        )
        for name in IMPLEMENTATIONS:
            if name in only:
                # singer-io's tap reads queryAll: deleted Accounts too.
                expected = with_deleted if name == "singer-io" else live
                results.append(
                    best_of(
                        name,
                        RUNNERS[name],
                        org,
                        work,
                        accounts=accounts,
                        expected=expected,
                        repeat=repeat,
                    )
                )
    return results


def best_of(  # noqa: PLR0913
    name: str,
    runner: Callable[[EmulatorProcess, Path], Run],
    org: EmulatorProcess,
    work: Path,
    *,
    accounts: int,
    expected: int,
    repeat: int,
) -> Result:
    """The fastest of ``repeat`` runs, or the first that failed."""
    best: Result | None = None
    for attempt in range(repeat):
        print(f"running {LABELS[name]} ...", file=sys.stderr, flush=True)
        folder = work / f"{name}-{attempt}"
        folder.mkdir()
        try:
            run = runner(org, folder)
        except (OSError, subprocess.SubprocessError, RuntimeError, ValueError) as exc:
            return Result(name, accounts, None, expected, f"{exc}")
        result = Result(name, accounts, run, expected)
        print(
            f"  {run.records:,} records in {run.seconds:.2f} s, peak {run.peak_mib or 0:.0f} MiB"
            + ("" if result.ok else f"  FAILED: {result.problem()}"),
            file=sys.stderr,
            flush=True,
        )
        if not result.ok:
            return result
        if best is None or (best.run is not None and run.seconds < best.run.seconds):
            best = result
    assert best is not None  # noqa: S101  (repeat >= 1)
    return best


# -- the implementations -------------------------------------------------------------------


def run_this_tap(org: EmulatorProcess, work: Path, **extra: object) -> Run:
    """``tap-salesforce-accounts --config cfg.json`` (a full, first-time extraction)."""
    config = write_json(work / "config.json", tap_config(org.url, work / "describe-cache", **extra))
    return run_measured([TAP_COMMAND, "--config", config], marker=OUR_MARKER)


def run_this_tap_bulk(org: EmulatorProcess, work: Path) -> Run:
    """The same, with ``api_type: bulk`` (Bulk API 2.0 query job, CSV results)."""
    return run_this_tap(org, work, api_type="bulk")


def run_raw_floor(org: EmulatorProcess, work: Path, *extra: str) -> Run:
    """``python -m benchmarks._floor`` in a fresh interpreter of the tap's venv."""
    config = write_json(work / "config.json", tap_config(org.url, work / "unused-cache"))
    return run_measured(
        [sys.executable, "-m", "benchmarks._floor", config, *extra],
        marker=None,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def run_raw_floor_json(org: EmulatorProcess, work: Path) -> Run:
    """The raw floor with the standard json module instead of orjson."""
    return run_raw_floor(org, work, "--json")


def singer_io_config(org: EmulatorProcess, work: Path) -> Path:
    """singer-io's config: its documented keys, REST, every field selected by default."""
    ours = tap_config(org.url, work / "unused-cache")
    return write_json(
        work / "config.json",
        {
            "client_id": ours["client_id"],
            "client_secret": ours.get("client_secret", ""),
            "refresh_token": ours["refresh_token"],
            "start_date": "2000-01-01T00:00:00Z",
            "api_type": "REST",
            "select_fields_by_default": True,
        },
    )


def run_singer_io(org: EmulatorProcess, work: Path) -> Run:
    """``tap-salesforce --discover`` (not timed), select Account, then time the sync."""
    config = singer_io_config(org, work)
    python = SINGER_IO_VENV / "bin" / "python"
    env = {**os.environ, "BENCH_LOGIN_URL": org.url}
    env.pop("PYTHONPATH", None)
    discovered = subprocess.run(
        [python, SINGER_IO_LAUNCHER, "--config", config, "--discover"],
        capture_output=True,
        env=env,
        check=False,
        timeout=600,
    )
    if discovered.returncode != 0:
        tail = discovered.stderr.decode(errors="replace")[-3000:]
        msg = f"--discover failed (exit {discovered.returncode}):\n{tail}"
        raise RuntimeError(msg)
    catalog = select_account(json.loads(discovered.stdout))
    catalog_path = write_json(work / "catalog.json", catalog)
    return run_measured(
        [python, SINGER_IO_LAUNCHER, "--config", config, "--properties", catalog_path],
        marker=SINGER_PYTHON_MARKER,
        env=env,
    )


def select_account(catalog: dict[str, Any]) -> dict[str, Any]:
    """Keep the Account stream, selected, incremental on SystemModstamp."""
    streams = [s for s in catalog["streams"] if s["tap_stream_id"] == "Account"]
    if not streams:
        names = ", ".join(s["tap_stream_id"] for s in catalog["streams"]) or "none"
        msg = f"singer-io's --discover found no Account stream (streams: {names})"
        raise ValueError(msg)
    for entry in streams[0]["metadata"]:
        if entry["breadcrumb"] == []:
            entry["metadata"].update(
                {
                    "selected": True,
                    "replication-method": "INCREMENTAL",
                    "replication-key": "SystemModstamp",
                }
            )
    return {"streams": streams}


def ensure_singer_io_venv() -> None:
    """Create ``benchmarks/.venvs/tap-salesforce-2.8.1`` with the tap from PyPI, once."""
    python = SINGER_IO_VENV / "bin" / "python"
    if python.exists():
        probe = subprocess.run(
            [python, "-c", "import tap_salesforce"], capture_output=True, check=False
        )
        if probe.returncode == 0:
            return
    print(f"creating {SINGER_IO_VENV.relative_to(REPO)} ...", file=sys.stderr, flush=True)
    subprocess.run(["python3", "-m", "venv", SINGER_IO_VENV], check=True)
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", f"tap-salesforce=={SINGER_IO_VERSION}"],
        check=True,
    )


RUNNERS: Final[dict[str, Callable[[EmulatorProcess, Path], Run]]] = {
    "raw-floor": run_raw_floor,
    "raw-floor-json": run_raw_floor_json,
    "this-tap": run_this_tap,
    "this-tap-bulk": run_this_tap_bulk,
    "singer-io": run_singer_io,
}


# -- tables --------------------------------------------------------------------------------


def size_table(results: Sequence[Result]) -> str:
    """Per implementation: records, seconds, records/s, peak MiB, CPU s, ratios."""
    by_name = {r.name: r for r in results if r.ok and r.run is not None}

    def rate(name: str) -> float | None:
        result = by_name.get(name)
        return None if result is None or result.run is None else result.run.records_per_second

    singer, floor, rest = rate("singer-io"), rate("raw-floor"), rate("this-tap")
    rows: list[list[object]] = []
    for result in results:
        run = result.run
        if run is None or not result.ok:
            rows.append([LABELS[result.name] + " (FAILED)", *["-"] * 7])
            continue
        rps = run.records_per_second
        rows.append(
            [
                LABELS[result.name],
                fmt_int(run.records),
                f"{run.seconds:.2f}",
                fmt_int(rps),
                "n/a" if run.peak_mib is None else f"{run.peak_mib:.0f}",
                "n/a" if run.cpu_seconds is None else f"{run.cpu_seconds:.2f}",
                fmt_ratio(rps / singer if singer else None),
                fmt_ratio(rps / floor if floor else None),
            ]
        )
    accounts = results[0].accounts if results else 0
    title = f"{accounts:,} Accounts in the emulator:\n\n"
    table = markdown_table(
        [
            "implementation",
            "records",
            "seconds",
            "records/s",
            "peak MiB",
            "CPU s",
            "vs singer-io",
            "vs raw floor",
        ],
        rows,
    )
    bulk = rate("this-tap-bulk")
    if bulk and rest:
        table += f"\n\nBulk API 2.0 / REST: {fmt_ratio(bulk / rest)}"
    return title + table


def scale_table(results: Sequence[Result]) -> str:
    """Peak memory and throughput of each implementation at each size."""
    rows = [
        [
            LABELS[r.name],
            fmt_int(r.accounts),
            fmt_int(r.run.records_per_second),
            "n/a" if r.run.peak_mib is None else f"{r.run.peak_mib:.0f}",
        ]
        for r in results
        if r.ok and r.run is not None
    ]
    return "By size:\n\n" + markdown_table(
        ["implementation", "Accounts", "records/s", "peak MiB"], rows
    )


if __name__ == "__main__":
    sys.exit(main())
