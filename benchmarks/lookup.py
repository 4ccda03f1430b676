"""Warm single-Account lookups against an emulator with injected latency, side by side.

The emulator answers every request after ``--latency-ms`` (default 20 ms), as a distant org
would. Compared, each warm (token and describe already held) and measured over
``--lookups`` lookups of different Accounts after a warm-up:

- this tap's on-demand path in-process: one ``TapSalesforceAccounts`` per index field, built
  once, then ``tap.sync_one(value)`` per lookup (SCHEMA + RECORD to a null sink); by ``Id``,
  by the External ID ``Customer_Key__c`` and by the unique, non-external ``Tax_Number__c``;
- the two-query path with ``requests``: ``SELECT Id FROM Account WHERE Customer_Key__c =
  '...'``, then ``GET /sobjects/Account/{Id}``;
- a raw ``requests`` GET of ``/sobjects/Account/{Id}`` (and of the External ID path) with a
  bearer token.

Round trips per lookup are counted in the emulator's request log. Also measured: the cold
command line, ``tap-salesforce-accounts --config c.json --account-id X``, a new process per
lookup, with an empty and with a warm describe cache.

    python -m benchmarks lookup [--latency-ms 20] [--lookups 50]

Exits non-zero when a lookup does not return the expected Account.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from benchmarks._common import (
    TAP_COMMAND,
    Org,
    emulator,
    markdown_table,
    percentile,
    print_header,
    tap_config,
    write_json,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from tests.emulator import EmulatorProcess

PLAIN_KEY: Final = re.compile(r"^CUST-\d{6}$")


@dataclasses.dataclass(frozen=True)
class Sample:
    """One Account to look up, by each of its identifying values."""

    id: str
    customer_key: str
    tax_number: str


@dataclasses.dataclass(frozen=True)
class Measured:
    """Latencies and round trips of one way of looking up."""

    label: str
    millis: list[float]
    server_millis: list[float]
    requests: collections.Counter[str]
    lookups: int
    failures: list[str]

    @property
    def round_trips(self) -> float:
        """Requests the emulator saw per lookup."""
        return sum(self.requests.values()) / self.lookups

    def row(self) -> list[object]:
        """A table row."""
        kinds = ", ".join(
            f"{kind}" + (f" x{count / self.lookups:g}" if count != self.lookups else "")
            for kind, count in sorted(self.requests.items())
        )
        overhead = [
            total - server for total, server in zip(self.millis, self.server_millis, strict=True)
        ]
        return [
            self.label + (" (FAILED)" if self.failures else ""),
            f"{self.round_trips:g}",
            f"{statistics.median(self.millis):.1f}",
            f"{percentile(self.millis, 0.95):.1f}",
            f"{statistics.median(self.server_millis):.1f}",
            f"{statistics.median(overhead):.1f}",
            kinds or "-",
        ]


HEADERS: Final = (
    "round trips",
    "median ms",
    "p95 ms",
    "emulator ms",
    "client ms",
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the lookup benchmark; 0 when every lookup returned its Account."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks lookup", description=__doc__)
    parser.add_argument("--latency-ms", type=int, default=20, help="emulator latency (20)")
    parser.add_argument("--lookups", type=int, default=50, help="measured lookups per way (50)")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured lookups first (5)")
    parser.add_argument("--cli-runs", type=int, default=5, help="cold CLI runs per case (5)")
    parser.add_argument("--accounts", type=int, default=5000, help="Accounts in the org (5000)")
    parser.add_argument("--seed", type=int, default=1, help="emulator seed (1)")
    args = parser.parse_args(argv)

    print_header(f"Single-Account lookups, {args.latency_ms} ms injected latency per request")
    with (
        tempfile.TemporaryDirectory(prefix="bench-lookup-") as tmp,
        emulator(accounts=args.accounts, seed=args.seed, latency_ms=args.latency_ms) as org,
    ):
        work = Path(tmp)
        config = tap_config(org.url, work / "describe-cache")
        session = Org.login(config)
        samples = pick_samples(session, args.lookups + args.warmup, args.seed)
        warm, measured = samples[: args.warmup], samples[args.warmup :]

        results = [measure(org, label, run, warm, measured) for label, run in ways(config, session)]
        cold = cold_cli(org, config, work, measured[0], args.cli_runs)

    print(
        f"{len(measured)} warm lookups per row (after {len(warm)} warm-up lookups), "
        f"{args.accounts:,} Accounts, {args.latency_ms} ms latency per request:\n"
    )
    print(
        markdown_table(
            ["lookup", *HEADERS, "requests per lookup (emulator log)"],
            [r.row() for r in results],
        )
    )
    print()
    print("Cold command line, a new process per lookup (by Id):\n")
    print(
        markdown_table(
            ["command", *HEADERS, "requests per run (emulator log)"],
            [r.row() for r in cold],
        )
    )
    print()
    failed = [r for r in [*results, *cold] if r.failures]
    for result in failed:
        print(f"FAILED: {result.label}: {result.failures[0]}")
    return 1 if failed else 0


def pick_samples(session: Org, count: int, seed: int) -> list[Sample]:
    """``count`` live Accounts with plain customer keys, spread over the org."""
    rows: list[dict[str, Any]] = []
    answer = session.get_json(
        "query", q="SELECT Id, Customer_Key__c, Tax_Number__c FROM Account ORDER BY Id"
    )
    rows.extend(answer["records"])
    fit = [
        Sample(r["Id"], r["Customer_Key__c"], r["Tax_Number__c"])
        for r in rows
        if r.get("Customer_Key__c")
        and PLAIN_KEY.match(r["Customer_Key__c"])
        and r.get("Tax_Number__c")
    ]
    if len(fit) < count:
        msg = f"only {len(fit)} Accounts fit for lookups; ask for fewer or more Accounts"
        raise SystemExit(msg)
    return random.Random(seed).sample(fit, count)  # noqa: S311  (a reproducible pick)


# -- the ways of looking up ----------------------------------------------------------------


def ways(
    config: Mapping[str, Any], session: Org
) -> list[tuple[str, Callable[[Sample], str | None]]]:
    """(label, lookup) pairs; a lookup returns None, or what was wrong with its answer."""
    return [
        ("tap-salesforce-accounts sync_one, by Id", tap_lookup(config, "Id")),
        (
            "tap-salesforce-accounts sync_one, by External ID Customer_Key__c",
            tap_lookup(config, "Customer_Key__c"),
        ),
        (
            "tap-salesforce-accounts sync_one, by unique Tax_Number__c (SOQL)",
            tap_lookup(config, "Tax_Number__c"),
        ),
        ("two-query path: SOQL Id by Customer_Key__c, then GET by Id", two_query(session)),
        ("raw requests GET sobjects/Account/{Id}", raw_by_id(session)),
        ("raw requests SOQL all fields by Tax_Number__c, LIMIT 2", raw_by_tax_number(session)),
        ("raw requests GET sobjects/Account/Customer_Key__c/{key}", raw_by_key(session)),
    ]


def _value(sample: Sample, field: str) -> str:
    return {"Id": sample.id, "Customer_Key__c": sample.customer_key}.get(field, sample.tax_number)


def tap_lookup(config: Mapping[str, Any], index_field: str) -> Callable[[Sample], str | None]:
    """One in-process tap, its messages written to /dev/null; ``sync_one`` per lookup."""
    from tap_salesforce_accounts.tap import TapSalesforceAccounts  # noqa: PLC0415
    from tap_salesforce_accounts.writer import SingerJsonlWriter  # noqa: PLC0415

    sink = Path(os.devnull).open("wb")  # noqa: SIM115  (open as long as the tap lives)
    tap = TapSalesforceAccounts(
        config={**config, "index_field": index_field},
        message_writer=SingerJsonlWriter(sink),
    )

    def lookup(sample: Sample) -> str | None:
        value = _value(sample, index_field)
        record = tap.sync_one(value)
        if record.get(index_field) != value or record.get("Id") != sample.id:
            return f"{index_field} {value!r} gave Id {record.get('Id')!r}"
        return None

    return lookup


def two_query(session: Org) -> Callable[[Sample], str | None]:
    """Salesforce's usual way: find the Id by the index field, then read the Account."""
    query_url = session.url("query")

    def lookup(sample: Sample) -> str | None:
        # Plain keys only (CUST-000123): nothing to escape in this SOQL literal.
        statement = f"SELECT Id FROM Account WHERE Customer_Key__c = '{sample.customer_key}'"  # noqa: S608
        found = session.session.get(query_url, params={"q": statement}, timeout=30)
        found.raise_for_status()
        records = found.json()["records"]
        if len(records) != 1:
            return f"{len(records)} Accounts have Customer_Key__c {sample.customer_key!r}"
        response = session.session.get(
            session.url(f"sobjects/Account/{records[0]['Id']}"), timeout=30
        )
        response.raise_for_status()
        body = response.json()
        return None if body.get("Id") == sample.id else f"read Id {body.get('Id')!r}"

    return lookup


def raw_by_id(session: Org) -> Callable[[Sample], str | None]:
    """One GET of the record by Id, decoded."""

    def lookup(sample: Sample) -> str | None:
        response = session.session.get(session.url(f"sobjects/Account/{sample.id}"), timeout=30)
        response.raise_for_status()
        body = response.json()
        return None if body.get("Id") == sample.id else f"read Id {body.get('Id')!r}"

    return lookup


def raw_by_tax_number(session: Org) -> Callable[[Sample], str | None]:
    """One SOQL query of every field by the unique Tax_Number__c, as the tap sends it."""
    describe = session.get_json("sobjects/Account/describe")
    fields = ", ".join(field["name"] for field in describe["fields"])
    query_url = session.url("query")

    def lookup(sample: Sample) -> str | None:
        # Tax numbers are letters, digits and dashes: nothing to escape in this literal.
        statement = (
            f"SELECT {fields} FROM Account WHERE Tax_Number__c = '{sample.tax_number}' LIMIT 2"  # noqa: S608
        )
        response = session.session.get(query_url, params={"q": statement}, timeout=30)
        response.raise_for_status()
        records = response.json()["records"]
        ids = [r.get("Id") for r in records]
        return None if ids == [sample.id] else f"Tax_Number__c {sample.tax_number!r} gave {ids}"

    return lookup


def raw_by_key(session: Org) -> Callable[[Sample], str | None]:
    """One GET of the record by its External ID, decoded."""

    def lookup(sample: Sample) -> str | None:
        url = session.url(f"sobjects/Account/Customer_Key__c/{sample.customer_key}")
        response = session.session.get(url, timeout=30)
        response.raise_for_status()
        body = response.json()
        return None if body.get("Id") == sample.id else f"read Id {body.get('Id')!r}"

    return lookup


# -- measuring -----------------------------------------------------------------------------


def log_by_window(
    org: EmulatorProcess, since: int, windows: Sequence[tuple[float, float]]
) -> list[list[dict[str, Any]]]:
    """The emulator's log entries after the first ``since``, grouped by lookup.

    An entry goes to the time window (``time.time()`` before and after a lookup) in which
    its request started.
    The emulator logs a request after answering it, so the log is read once at the end,
    after a short pause, rather than between lookups.
    """
    time.sleep(0.2)
    groups: list[list[dict[str, Any]]] = [[] for _ in windows]
    for entry in org.requests()[since:]:
        started = float(entry.get("ts") or 0)
        for group, (low, high) in zip(groups, windows, strict=True):
            if low <= started <= high:
                group.append(entry)
                break
    return groups


def timed(
    org: EmulatorProcess, run: Callable[[], str | None], times: int
) -> tuple[list[float], list[float], collections.Counter[str], list[str]]:
    """Run ``run`` ``times`` times: wall ms, emulator ms, request kinds, failures."""
    since = len(org.requests())
    millis, windows, failures = [], [], []
    for _ in range(times):
        wall = time.time()
        began = time.perf_counter()
        failure = run()
        millis.append((time.perf_counter() - began) * 1000)
        windows.append((wall, time.time()))
        if failure:
            failures.append(failure)
    groups = log_by_window(org, since, windows)
    server = [sum(float(e.get("duration_ms") or 0) for e in group) for group in groups]
    kinds = collections.Counter(str(e.get("kind")) for group in groups for e in group)
    return millis, server, kinds, failures


def measure(
    org: EmulatorProcess,
    label: str,
    lookup: Callable[[Sample], str | None],
    warm: Sequence[Sample],
    measured: Sequence[Sample],
) -> Measured:
    """Warm up, then time each lookup and find its requests in the emulator's log."""
    print(f"measuring {label} ...", file=sys.stderr, flush=True)
    failures = [f for f in map(lookup, warm) if f]
    samples = iter(measured)
    millis, server, kinds, more = timed(org, lambda: lookup(next(samples)), len(measured))
    return Measured(label, millis, server, kinds, len(measured), failures + more)


def cold_cli(
    org: EmulatorProcess, config: Mapping[str, Any], work: Path, sample: Sample, runs: int
) -> list[Measured]:
    """``tap-salesforce-accounts --config c.json --account-id ID``, a process per lookup."""
    results = []
    for label, fresh_cache in (
        ("tap-salesforce-accounts --account-id, empty describe cache", True),
        ("tap-salesforce-accounts --account-id, describe cached", False),
    ):
        print(f"measuring {label} ...", file=sys.stderr, flush=True)
        cli = ColdCli(config, work, sample, fresh_cache=fresh_cache)
        if not fresh_cache:
            cli()  # fill the describe cache, unmeasured
        millis, server, kinds, failures = timed(org, cli, runs)
        results.append(Measured(label, millis, server, kinds, runs, failures))
    return results


class ColdCli:
    """One run of the command line; a new describe cache folder per run if ``fresh_cache``."""

    def __init__(
        self, config: Mapping[str, Any], work: Path, sample: Sample, *, fresh_cache: bool
    ) -> None:
        """Prepare; nothing runs yet."""
        self.config = config
        self.work = work
        self.sample = sample
        self.fresh_cache = fresh_cache
        self.runs = 0

    def __call__(self) -> str | None:
        """Run it; None, or what was wrong."""
        self.runs += 1
        cache = self.work / (f"cli-cache-{self.runs}" if self.fresh_cache else "cli-cache")
        path = write_json(
            self.work / "cli-config.json", {**self.config, "describe_cache_dir": str(cache)}
        )
        done = subprocess.run(
            [str(TAP_COMMAND), "--config", str(path), "--account-id", self.sample.id],
            capture_output=True,
            check=False,
        )
        records = [line for line in done.stdout.splitlines() if b'"type":"RECORD"' in line]
        if done.returncode == 0 and len(records) == 1 and self.sample.id.encode() in records[0]:
            return None
        return (
            f"exit {done.returncode}, {len(records)} RECORD lines: "
            + done.stderr.decode(errors="replace")[-2000:]
        )


if __name__ == "__main__":
    sys.exit(main())
