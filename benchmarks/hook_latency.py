"""The session hook's warm lookup against a raw GET of the same record, side by side.

The emulator runs in its own process and answers every request after ``--latency-ms``
(default 20 ms), as a distant org would. Measured in one run:

- a warm ``SessionHook.lookup(Id)`` (token, connection and describe already held; the status
  store is the default SQLite file) against a raw ``requests`` GET of
  ``/services/data/v62.0/sobjects/Account/<Id>`` with a bearer token from the emulator's token
  endpoint, JSON decoded: the two alternate, record by record, and the overhead is the median
  of the paired differences;
- Salesforce requests per warm lookup, from the emulator's request log;
- the cold command line, ``tap-salesforce-accounts-hook --config c.json lookup <Id>``: a new
  process per lookup (the describe cache on disk is warm, as after the first run);
- lookups per second with ``--threads`` threads sharing one hook.

The issue's bars: median overhead at most 2 ms, exactly one request per warm lookup.

    python -m benchmarks hook_latency [--latency-ms 20] [--lookups 200] [--threads 16]

Exits non-zero when a lookup does not return the expected Account, or a warm lookup makes
other than one request.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from benchmarks._common import (
    Org,
    emulator,
    markdown_table,
    percentile,
    print_header,
    tap_config,
    write_json,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tap_salesforce_accounts.hook import SessionHook
    from tests.emulator import EmulatorProcess

OVERHEAD_BAR_MS: Final = 2.0
WARM_UP: Final = 20
CLI_RUNS: Final = 5
HOOK_COMMAND: Final = Path(sys.executable).parent / "tap-salesforce-accounts-hook"


def _ms(seconds: float) -> float:
    return seconds * 1000


def _record_ids(org: Org, count: int) -> list[str]:
    statement = f"SELECT Id FROM Account ORDER BY Id LIMIT {int(count)}"  # noqa: S608  (SOQL)
    body = org.get_json("query", q=statement)
    return [str(record["Id"]) for record in body["records"]]


def _paired(hook: SessionHook, org: Org, ids: Sequence[str]) -> tuple[list[float], list[float]]:
    """Hook lookup and raw GET of each Id, alternating which goes first."""
    hook_ms: list[float] = []
    raw_ms: list[float] = []

    def by_hook(record_id: str) -> None:
        started = time.perf_counter()
        result = hook.lookup(record_id)
        hook_ms.append(_ms(time.perf_counter() - started))
        if result.status != "ok" or result.account is None or result.account["Id"] != record_id:
            msg = f"the hook answered {result.status} for {record_id}: {result.error}"
            raise SystemExit(msg)

    def by_get(record_id: str) -> None:
        started = time.perf_counter()
        response = org.session.get(org.url(f"sobjects/Account/{record_id}"), timeout=60)
        response.raise_for_status()
        body = response.json()
        raw_ms.append(_ms(time.perf_counter() - started))
        if body["Id"] != record_id:
            msg = f"the raw GET returned {body['Id']} for {record_id}"
            raise SystemExit(msg)

    for n, record_id in enumerate(ids):
        first, second = (by_hook, by_get) if n % 2 == 0 else (by_get, by_hook)
        first(record_id)
        second(record_id)
    return hook_ms, raw_ms


def _requests_per_lookup(
    hook: SessionHook, org_process: EmulatorProcess, ids: Sequence[str]
) -> float:
    org_process.reset_log()
    for record_id in ids:
        hook.lookup(record_id)
    entries = [entry for entry in org_process.requests() if entry.get("kind") != "admin"]
    return len(entries) / len(ids)


def _cold_cli(config_path: Path, record_id: str) -> list[float]:
    command = (
        [str(HOOK_COMMAND)]
        if HOOK_COMMAND.exists()
        else [sys.executable, "-m", "tap_salesforce_accounts.hook"]
    )
    seconds: list[float] = []
    for _ in range(CLI_RUNS):
        started = time.perf_counter()
        done = subprocess.run(
            [*command, "--config", str(config_path), "lookup", record_id],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        seconds.append(time.perf_counter() - started)
        if done.returncode != 0 or '"status":"ok"' not in done.stdout:
            msg = f"the command failed ({done.returncode}): {done.stderr[-2000:]}"
            raise SystemExit(msg)
    return seconds


def _throughput(hook: SessionHook, ids: Sequence[str], threads: int) -> float:
    def work(chunk: Sequence[str]) -> int:
        return sum(hook.lookup(record_id).status == "ok" for record_id in chunk)

    chunks = [ids[n::threads] for n in range(threads)]
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as pool:
        ok = sum(pool.map(work, chunks))
    elapsed = time.perf_counter() - started
    if ok != len(ids):
        msg = f"{len(ids) - ok} of {len(ids)} threaded lookups failed"
        raise SystemExit(msg)
    return len(ids) / elapsed


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its markdown table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks hook_latency")
    parser.add_argument("--latency-ms", type=int, default=20, help="emulator latency (20)")
    parser.add_argument("--lookups", type=int, default=200, help="paired lookups (200)")
    parser.add_argument("--threads", type=int, default=16, help="threads for lookups/s (16)")
    args = parser.parse_args(argv)

    from tap_salesforce_accounts.hook import SessionHook  # noqa: PLC0415

    with (
        tempfile.TemporaryDirectory(prefix="bench-hook-") as tmp,
        emulator(accounts=2000, latency_ms=args.latency_ms) as org_process,
    ):
        folder = Path(tmp)
        config: dict[str, Any] = tap_config(
            org_process.url,
            folder / "describe",
            index_field="Id",
            hook_store_url=f"sqlite:///{folder / 'hook.db'}",
        )
        config_path = write_json(folder / "config.json", config)
        config_path.chmod(0o600)
        org = Org.login(config)
        ids = _record_ids(org, max(args.lookups, 16 * 10) + WARM_UP)
        with SessionHook(config_path) as hook:
            for record_id in ids[:WARM_UP]:
                hook.lookup(record_id)
            for record_id in ids[:WARM_UP]:
                org.get_json(f"sobjects/Account/{record_id}")
            measured = ids[WARM_UP : WARM_UP + args.lookups]
            hook_ms, raw_ms = _paired(hook, org, measured)
            per_lookup = _requests_per_lookup(hook, org_process, ids[:50])
            lookups_per_second = _throughput(hook, ids[: 16 * 10 * 2], args.threads)
        cold = _cold_cli(config_path, ids[0])
        org.session.close()

    overhead = [h - r for h, r in zip(hook_ms, raw_ms, strict=True)]
    median_overhead = statistics.median(overhead)
    overhead_met = "met" if median_overhead <= OVERHEAD_BAR_MS else "NOT met"
    rows = [
        ("raw requests GET + JSON decode, median (p90)", _fmt(raw_ms), "-"),
        ("warm SessionHook.lookup, median (p90)", _fmt(hook_ms), "-"),
        (
            "hook overhead, median of paired differences",
            f"{median_overhead:.2f} ms",
            f"<= {OVERHEAD_BAR_MS:g} ms: {overhead_met}",
        ),
        (
            "Salesforce requests per warm lookup",
            f"{per_lookup:.2f}",
            f"1: {'met' if per_lookup == 1 else 'NOT met'}",
        ),
        (
            f"cold command line lookup, median of {CLI_RUNS}",
            f"{_ms(statistics.median(cold)):.0f} ms",
            "-",
        ),
        (f"lookups/s, {args.threads} threads, one hook", f"{lookups_per_second:.0f}", "-"),
    ]
    print_header(f"Session hook latency (emulator latency {args.latency_ms} ms)")
    print(markdown_table(("measure", "value", "bar"), rows))
    print()
    print(
        f"{len(measured)} paired lookups by Id; status store: SQLite (default); "
        "the cold command line has the describe cached on disk."
    )
    return 0 if per_lookup == 1 else 1


def _fmt(values: Sequence[float]) -> str:
    return f"{statistics.median(values):.2f} ms ({percentile(values, 0.9):.2f})"


if __name__ == "__main__":
    sys.exit(main())
