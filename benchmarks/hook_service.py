"""The hook service's warm lookup over HTTP against a raw GET of the same record, side by side.

The emulator runs in its own process and answers every request after ``--latency-ms``
(default 20 ms); the service (``tap-salesforce-accounts-hook --config c.json serve``) runs in
another, with its default request log and its default SQLite status store. Measured in one run:

- a warm ``GET /v1/accounts/<Id>`` through the service over one keep-alive ``requests``
  session against a raw ``requests`` GET of ``/services/data/v62.0/sobjects/Account/<Id>``
  with a bearer token, both JSON decoded: the two alternate, record by record, and the added
  time is the median of the paired differences;
- Salesforce requests per warm lookup, from the emulator's request log;
- lookups per second with ``--clients`` concurrent clients (one keep-alive session each):
  every answer must be 200 ``ok`` with the right Account, and the service's ``successes``
  count must grow by exactly the number of lookups (no sync lost);
- one status store write (one sync, one transaction), SQLite, in this process.

The bars: at most 2 ms median added over the raw GET, exactly one request per warm lookup,
no lookup lost or failed.

    python -m benchmarks hook_service [--latency-ms 20] [--lookups 300] [--clients 32]
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

import requests

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

OVERHEAD_BAR_MS: Final = 2.0
WARM_UP: Final = 30
PER_CLIENT: Final = 20
HOOK_COMMAND: Final = Path(sys.executable).parent / "tap-salesforce-accounts-hook"


def _ms(seconds: float) -> float:
    return seconds * 1000


def _record_ids(org: Org, count: int) -> list[str]:
    statement = f"SELECT Id FROM Account ORDER BY Id LIMIT {int(count)}"  # noqa: S608  (SOQL)
    body = org.get_json("query", q=statement)
    return [str(record["Id"]) for record in body["records"]]


def _start_service(config_path: Path, log_path: Path) -> tuple[subprocess.Popen[str], str]:
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(HOOK_COMMAND), "--config", str(config_path), "serve", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=log,
            stdin=subprocess.DEVNULL,
            text=True,
        )
    line = process.stdout.readline() if process.stdout is not None else ""
    if not line.startswith("READY "):
        process.kill()
        msg = f"the service did not start: {log_path.read_text()[-2000:]}"
        raise SystemExit(msg)
    return process, line.split()[1]


def _check(body: dict[str, Any], record_id: str, via: str) -> None:
    account = body.get("account") if "status" in body else body
    if not isinstance(account, dict) or account.get("Id") != record_id:
        msg = f"{via} did not return {record_id}: {str(body)[:300]}"
        raise SystemExit(msg)


def _paired(
    service: requests.Session, url: str, org: Org, ids: Sequence[str]
) -> tuple[list[float], list[float]]:
    """Service lookup and raw GET of each Id, alternating which goes first."""
    service_ms: list[float] = []
    raw_ms: list[float] = []

    def by_service(record_id: str) -> None:
        started = time.perf_counter()
        response = service.get(f"{url}/v1/accounts/{record_id}", timeout=60)
        body = response.json()
        service_ms.append(_ms(time.perf_counter() - started))
        _check(body, record_id, "the service")

    def by_get(record_id: str) -> None:
        started = time.perf_counter()
        response = org.session.get(org.url(f"sobjects/Account/{record_id}"), timeout=60)
        body = response.json()
        raw_ms.append(_ms(time.perf_counter() - started))
        _check(body, record_id, "the raw GET")

    for n, record_id in enumerate(ids):
        first, second = (by_service, by_get) if n % 2 == 0 else (by_get, by_service)
        first(record_id)
        second(record_id)
    return service_ms, raw_ms


def _successes(url: str) -> int:
    return int(requests.get(f"{url}/v1/status", timeout=60).json()["successes"])


def _concurrent(url: str, ids: Sequence[str], clients: int) -> tuple[float, int, int]:
    """Lookups per second with ``clients`` clients; (rate, answered ok, recorded)."""
    before = _successes(url)

    def client(chunk: Sequence[str]) -> int:
        ok = 0
        with requests.Session() as session:
            for record_id in chunk:
                response = session.get(f"{url}/v1/accounts/{record_id}", timeout=60)
                body = response.json()
                if response.status_code == 200 and body["status"] == "ok":
                    _check(body, record_id, "a concurrent client")
                    ok += 1
        return ok

    chunks = [ids[n::clients] for n in range(clients)]
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=clients) as pool:
        ok = sum(pool.map(client, chunks))
    elapsed = time.perf_counter() - started
    return len(ids) / elapsed, ok, _successes(url) - before


def _store_write_ms(folder: Path, writes: int = 300) -> float:
    """Median time of one sync written to a SQLite store (one event, one transaction)."""
    from tap_salesforce_accounts.hook.store import SyncEvent, open_store  # noqa: PLC0415

    store = open_store(f"sqlite:///{folder / 'write-bench.db'}")
    seconds: list[float] = []
    try:
        for n in range(writes):
            event = SyncEvent(
                integration_id="bench",
                at=time.time(),
                status="ok" if n % 3 else "error",
                duration_ms=21.0,
                mode="in_process",
                host="bench",
                salesforce_calls=1,
                api_used=n,
                api_limit=15000,
                error_code=None if n % 3 else "unavailable",
                error_message=None if n % 3 else "Salesforce is unavailable.",
                good_key=None,
                good_fields=None,
                good_synced_at=None,
            )
            started = time.perf_counter()
            store.record([event])
            seconds.append(time.perf_counter() - started)
    finally:
        store.close()
    return _ms(statistics.median(seconds))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its markdown table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks hook_service")
    parser.add_argument("--latency-ms", type=int, default=20, help="emulator latency (20)")
    parser.add_argument("--lookups", type=int, default=300, help="paired lookups (300)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (32)")
    args = parser.parse_args(argv)
    total = WARM_UP + args.lookups + args.clients * PER_CLIENT

    with (
        tempfile.TemporaryDirectory(prefix="bench-service-") as tmp,
        emulator(accounts=max(2000, total), latency_ms=args.latency_ms) as org_process,
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
        ids = _record_ids(org, total)
        process, url = _start_service(config_path, folder / "service.log")
        try:
            with requests.Session() as service:
                warm, measured = ids[:WARM_UP], ids[WARM_UP : WARM_UP + args.lookups]
                _paired(service, url, org, warm)
                service_ms, raw_ms = _paired(service, url, org, measured)
                org_process.reset_log()
                _paired(service, url, org, measured[:50])
            entries = [e for e in org_process.requests() if e.get("kind") != "admin"]
            # The raw GETs are half of the requests logged.
            per_lookup = (len(entries) - 50) / 50
            rate, ok, recorded = _concurrent(url, ids[WARM_UP + args.lookups :], args.clients)
        finally:
            process.terminate()
            code = process.wait(timeout=60)
        store_ms = _store_write_ms(folder)
        org.session.close()

    concurrent_lookups = args.clients * PER_CLIENT
    overhead = [s - r for s, r in zip(service_ms, raw_ms, strict=True)]
    median_overhead = statistics.median(overhead)
    lost = concurrent_lookups - min(ok, recorded)
    rows = [
        ("raw requests GET + JSON decode, median (p90)", _fmt(raw_ms), "-"),
        ("service GET /v1/accounts/{Id}, keep-alive, median (p90)", _fmt(service_ms), "-"),
        (
            "added by the service, median of paired differences",
            f"{median_overhead:.2f} ms",
            f"<= {OVERHEAD_BAR_MS:g} ms: {_met(median_overhead <= OVERHEAD_BAR_MS)}",
        ),
        (
            "Salesforce requests per warm lookup",
            f"{per_lookup:.2f}",
            f"1: {'met' if per_lookup == 1 else 'NOT met'}",
        ),
        (f"lookups/s, {args.clients} concurrent clients", f"{rate:.0f}", "-"),
        (
            f"of {concurrent_lookups} concurrent lookups: ok, recorded in the store",
            f"{ok}, {recorded}",
            f"none lost: {'met' if lost == 0 else 'NOT met'}",
        ),
        ("one status store write (SQLite, one sync), median", f"{store_ms:.3f} ms", "-"),
        ("service exit code after SIGTERM", str(code), "0"),
    ]
    print_header(f"Hook service latency (emulator latency {args.latency_ms} ms)")
    print(markdown_table(("measure", "value", "bar"), rows))
    print()
    print(f"{len(measured)} paired lookups by Id; request log on; status store SQLite.")
    failed = per_lookup != 1 or lost != 0 or code != 0
    return 1 if failed else 0


def _met(done: bool) -> str:  # noqa: FBT001
    return "met" if done else "NOT met"


def _fmt(values: Sequence[float]) -> str:
    return f"{statistics.median(values):.2f} ms ({percentile(values, 0.9):.2f})"


if __name__ == "__main__":
    sys.exit(main())
