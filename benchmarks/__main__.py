"""The benchmarks' runner.

python -m benchmarks                 # list the benchmarks
python -m benchmarks NAME [ARGS...]  # run one (same as python -m benchmarks.NAME ARGS...)
python -m benchmarks all             # run each with its defaults
"""

from __future__ import annotations

import ast
import runpy
import sys
from pathlib import Path
from typing import Final

HERE: Final = Path(__file__).resolve().parent
BENCHMARKS: Final = ("extraction", "lookup", "hook_latency", "hook_service")


def summary(name: str) -> str:
    """The first line of a benchmark module's docstring, read without importing it."""
    path = HERE / f"{name}.py"
    try:
        docstring = ast.get_docstring(ast.parse(path.read_text()))
    except (OSError, SyntaxError):
        return "(not available yet)"
    return (docstring or "").strip().splitlines()[0] if docstring else ""


def run(name: str, args: list[str]) -> int:
    """Run ``benchmarks.NAME`` as ``__main__`` with ``args``; its exit code."""
    sys.argv = [f"python -m benchmarks {name}", *args]
    try:
        runpy.run_module(f"benchmarks.{name}", run_name="__main__", alter_sys=True)
    except SystemExit as done:
        code = done.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return 1
    return 0


def main(argv: list[str]) -> int:
    """List the benchmarks, or run one (or all)."""
    if not argv or argv[0] in {"-h", "--help", "list"}:
        print("Benchmarks (python -m benchmarks NAME [--help | ARGS...]; 'all' runs each):")
        width = max(map(len, BENCHMARKS))
        for name in BENCHMARKS:
            print(f"  {name.ljust(width)}  {summary(name)}")
        return 0
    name, args = argv[0], argv[1:]
    if name == "all":
        if args:
            print("'all' runs each benchmark with its defaults: no arguments", file=sys.stderr)
            return 2
        return max(run(each, []) for each in BENCHMARKS)
    if name not in BENCHMARKS:
        print(f"unknown benchmark {name!r}; one of: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    return run(name, args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
