"""The extraction benchmark's latency table: REST pages against a slow org.

The emulator sleeps ``latency_ms`` before each answer (a realistic query page takes about
300 ms at Salesforce). Reading one page per round trip is the best a client can do; the tap
gets there by writing a page while the next one downloads. From the emulator's request log:
the query's pages, their mean round trip (the emulator's time per page, delay included),
and the query's span from the first page asked to the last one answered, so that

    pages per round trip = pages x mean round trip / span

is 1.00 when no page waits for the writing of the one before it.
"""

from __future__ import annotations

import dataclasses
import statistics
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from benchmarks._common import Org, emulator, fmt_int, fmt_ratio, markdown_table, tap_config

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from benchmarks._common import Run
    from benchmarks.extraction import Result
    from tests.emulator import EmulatorProcess

_QUERY_KINDS: Final = frozenset({"query", "query_more"})


@dataclasses.dataclass(frozen=True)
class LatencyRow:
    """One implementation's run against the slow emulator, with its query pages."""

    result: Result
    pages: int
    round_trip_ms: float
    span_seconds: float

    @property
    def pages_per_round_trip(self) -> float:
        """1.0 when every page was asked for as soon as the one before it arrived."""
        if self.span_seconds <= 0:
            return 0.0
        return self.pages * self.round_trip_ms / 1000 / self.span_seconds


def query_pages(log: Sequence[dict[str, Any]]) -> tuple[int, float, float]:
    """Pages, mean round trip (ms) and span (s) of the query requests in a request log."""
    pages = [entry for entry in log if entry.get("kind") in _QUERY_KINDS]
    if not pages:
        return 0, 0.0, 0.0
    durations = [float(entry["duration_ms"]) for entry in pages]
    first = min(float(entry["ts"]) for entry in pages)
    last = max(float(entry["ts"]) + float(entry["duration_ms"]) / 1000 for entry in pages)
    return len(pages), statistics.fmean(durations), last - first


def run_latency(  # noqa: PLR0913
    accounts: int,
    seed: int,
    latency_ms: float,
    *,
    names: Sequence[str],
    runners: dict[str, Callable[[EmulatorProcess, Path], Run]],
    make_result: Callable[[str, int, Run | None, int, str], Result],
) -> list[LatencyRow]:
    """Each of ``names`` once against one emulator answering after ``latency_ms``."""
    rows = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp,
        emulator(accounts=accounts, seed=seed, latency_ms=int(latency_ms)) as org,
    ):
        live = Org.login(tap_config(org.url, Path(tmp) / "unused-cache")).count()
        for name in names:
            print(f"running {name} at {latency_ms:.0f} ms per answer ...", file=sys.stderr)
            folder = Path(tmp) / name
            folder.mkdir()
            org.reset_log()
            run = runners[name](org, folder)
            pages, round_trip, span = query_pages(org.requests())
            result = make_result(name, accounts, run, live, "")
            rows.append(LatencyRow(result, pages, round_trip, span))
    return rows


def latency_table(rows: Sequence[LatencyRow], latency_ms: float, labels: dict[str, str]) -> str:
    """implementation | records/s | pages | mean round trip | pages per round trip."""
    table = [
        [
            labels[row.result.name],
            fmt_int(row.result.run.records_per_second) if row.result.run else "-",
            fmt_int(row.pages),
            f"{row.round_trip_ms:.0f}",
            f"{row.span_seconds:.2f}",
            fmt_ratio(row.pages_per_round_trip),
        ]
        for row in rows
    ]
    return f"At {latency_ms:.0f} ms per Salesforce answer:\n\n" + markdown_table(
        [
            "implementation",
            "records/s",
            "query pages",
            "mean round trip ms",
            "query span s",
            "pages per round trip",
        ],
        table,
    )
