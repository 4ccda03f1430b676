"""Shared pieces of the benchmarks: paths, the emulator, tap configs, timed children, tables."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final

import requests

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    from tests.emulator import EmulatorProcess

REPO: Final = Path(__file__).resolve().parent.parent
VENV_BIN: Final = REPO / ".venv" / "bin"
TAP_COMMAND: Final = VENV_BIN / "tap-salesforce-accounts"
GNU_TIME: Final = Path("/usr/bin/time")
API_VERSION: Final = "62.0"
_CHUNK: Final = 1 << 20


def command_line() -> str:
    """The command that is running, as typed (paths inside the repository made relative)."""
    argv = list(getattr(sys, "orig_argv", sys.argv))
    with contextlib.suppress(ValueError):
        argv[0] = str(Path(argv[0]).resolve().relative_to(REPO))
    return shlex.join(argv)


def machine() -> str:
    """One line about the machine the numbers come from."""
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def print_header(title: str) -> None:
    """Print what produced the numbers that follow."""
    print(f"## {title}")
    print()
    print(f"Command: `{command_line()}`  ")
    print(f"Machine: {machine()}  ")
    print(f"Date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}, load average {load_average()}")
    print()


def load_average() -> str:
    """The 1-minute load average: other work on the machine skews the numbers."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "n/a"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A markdown table; numbers right-aligned."""
    text = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in text)) for i, h in enumerate(headers)]
    numeric = [all(_looks_numeric(r[i]) for r in text) and bool(text) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        return (
            "| "
            + " | ".join(
                c.rjust(w) if num else c.ljust(w)
                for c, w, num in zip(cells, widths, numeric, strict=True)
            )
            + " |"
        )

    rule = (
        "|"
        + "|".join(
            "-" * (w + 1) + ":" if num else "-" * (w + 2)
            for w, num in zip(widths, numeric, strict=True)
        )
        + "|"
    )
    return "\n".join([line(list(headers)), rule, *(line(r) for r in text)])


def _looks_numeric(cell: str) -> bool:
    stripped = cell.replace(",", "").replace(".", "").replace("x", "").replace("-", "")
    return stripped.replace("%", "").strip().isdigit() or cell in {"-", "n/a"}


def percentile(values: Sequence[float], share: float) -> float:
    """The ``share`` percentile (0..1) of ``values``, by linear interpolation."""
    if len(values) == 1:
        return values[0]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[round(share * 100) - 1]


# -- the emulator --------------------------------------------------------------------------


@contextlib.contextmanager
def emulator(*, accounts: int, seed: int = 1, latency_ms: int = 0) -> Iterator[EmulatorProcess]:
    """The local Salesforce org, in its own process (so it does not share our GIL)."""
    from tests.emulator import EmulatorProcess  # noqa: PLC0415  (only the parent needs it)

    with EmulatorProcess(accounts=accounts, seed=seed, latency_ms=latency_ms) as org:
        yield org


def tap_config(url: str, cache_dir: Path, **extra: object) -> dict[str, Any]:
    """A tap config for the emulator, with its describe cache in ``cache_dir``."""
    from tests.emulator import config_for  # noqa: PLC0415

    config: dict[str, Any] = dict(config_for(url))
    config["describe_cache_dir"] = str(cache_dir)
    config.update(extra)
    return config


def write_json(path: Path, data: object) -> Path:
    """Write ``data`` as JSON to ``path``; return the path."""
    path.write_text(json.dumps(data, indent=2))
    return path


@dataclasses.dataclass(frozen=True)
class Org:
    """A session on the org, for the raw ``requests`` paths and record counts."""

    session: requests.Session
    instance_url: str
    access_token: str

    @classmethod
    def login(cls, config: Mapping[str, Any]) -> Org:
        """Refresh-token grant against ``login_url``."""
        session = requests.Session()
        response = session.post(
            str(config["login_url"]).rstrip("/") + "/services/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "client_id": config["client_id"],
                "client_secret": config.get("client_secret", ""),
                "refresh_token": config["refresh_token"],
            },
            timeout=30,
        )
        response.raise_for_status()
        body = response.json()
        session.headers["Authorization"] = f"Bearer {body['access_token']}"
        return cls(session, str(body["instance_url"]).rstrip("/"), str(body["access_token"]))

    def url(self, path: str) -> str:
        """``path`` under the instance; a bare resource goes under ``/services/data/vNN.N/``."""
        if path.startswith("/"):
            return self.instance_url + path
        return f"{self.instance_url}/services/data/v{API_VERSION}/{path}"

    def get_json(self, path: str, **params: str) -> Any:  # noqa: ANN401
        """GET a resource and decode it."""
        response = self.session.get(self.url(path), params=params or None, timeout=60)
        response.raise_for_status()
        return response.json()

    def count(self, *, include_deleted: bool = False) -> int:
        """``SELECT COUNT() FROM Account`` over ``query`` (or ``queryAll``)."""
        resource = "queryAll" if include_deleted else "query"
        return int(self.get_json(resource, q="SELECT COUNT() FROM Account")["totalSize"])


# -- timed child processes -----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Run:
    """One measured child process."""

    seconds: float
    peak_mib: float | None
    returncode: int
    records: int
    stderr_tail: str
    cpu_seconds: float | None = None

    @property
    def records_per_second(self) -> float:
        """Records written per second of wall time."""
        return self.records / self.seconds if self.seconds > 0 else 0.0


_RUSAGE_WRAPPER: Final = (
    "import resource, subprocess, sys\n"
    "rc = subprocess.call(sys.argv[2:])\n"
    "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "open(sys.argv[1], 'w').write(f'{usage.ru_maxrss} {usage.ru_utime + usage.ru_stime}')\n"
    "sys.exit(rc)\n"
)


def run_measured(
    command: Sequence[str | os.PathLike[str]],
    *,
    marker: bytes | None,
    env: Mapping[str, str] | None = None,
    timeout: float = 1800,
) -> Run:
    """Run ``command`` in a fresh child; time it, take its peak RSS, count its output.

    Stdout goes to a pipe that this process reads in 1 MiB chunks, counting ``marker``
    (``b'"type":"RECORD"'`` and the like; newlines when ``None``) and discarding the bytes:
    /dev/null with a record count. The wall time runs from spawn to exit, interpreter start
    included. Peak RSS and CPU seconds (user + system, every thread) come from
    ``/usr/bin/time -v`` when present, else from ``getrusage(RUSAGE_CHILDREN)`` in a small
    wrapper process.
    """
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        rss_file = Path(tmp) / "rss"
        args = [str(part) for part in command]
        if GNU_TIME.exists():
            wrapped = [str(GNU_TIME), "-v", "-o", str(rss_file), *args]
        else:
            wrapped = [sys.executable, "-c", _RUSAGE_WRAPPER, str(rss_file), *args]
        with (Path(tmp) / "stderr").open("w+b") as stderr:
            start = time.perf_counter()
            process = subprocess.Popen(
                wrapped,
                stdout=subprocess.PIPE,
                stderr=stderr,
                env=None if env is None else dict(env),
            )
            assert process.stdout is not None  # noqa: S101
            _widen_pipe(process.stdout.fileno())
            timer = threading.Timer(timeout, process.kill)
            timer.start()
            try:
                records = _count(process.stdout, marker)
                returncode = process.wait()
            finally:
                timer.cancel()
            seconds = time.perf_counter() - start
            stderr.seek(0)
            tail = stderr.read()[-4000:].decode(errors="replace")
        peak, cpu = _usage(rss_file)
    return Run(seconds, peak, returncode, records, tail, cpu)


def _widen_pipe(fd: int) -> None:
    """A 1 MiB pipe (Linux), so the child blocks less often on a full pipe."""
    with contextlib.suppress(OSError, AttributeError):
        import fcntl  # noqa: PLC0415  (POSIX only)

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), _CHUNK)


def _count(stream: IO[bytes], marker: bytes | None) -> int:
    needle = b"\n" if marker is None else marker
    keep = len(needle) - 1
    count = 0
    carry = b""
    read = stream.read1 if hasattr(stream, "read1") else stream.read
    while chunk := read(_CHUNK):
        data = carry + chunk if carry else chunk
        count += data.count(needle)
        # A marker split across two chunks is whole in the next window; the carried
        # bytes are too short to hold a whole one, so nothing is counted twice.
        carry = data[-keep:] if keep else b""
    return count


def _usage(rss_file: Path) -> tuple[float | None, float | None]:
    """Peak RSS in MiB and CPU seconds, from GNU time's report or the wrapper's line."""
    try:
        text = rss_file.read_text()
    except OSError:
        return None, None
    peak = cpu = None
    for line in text.splitlines():
        label, _, value = line.rpartition(":")
        if "Maximum resident set size" in label:
            peak = int(value) / 1024
        elif "User time" in label or "System time" in label:
            cpu = (cpu or 0.0) + float(value)
    if peak is None:
        with contextlib.suppress(ValueError):
            rss, seconds = text.split()
            peak, cpu = int(rss) / 1024, float(seconds)
    return peak, cpu


def fmt_int(value: float) -> str:
    """``12,345``."""
    return f"{value:,.0f}"


def fmt_ratio(value: float | None) -> str:
    """``12.3x`` or ``-``."""
    return "-" if value is None else f"{value:.2f}x"
