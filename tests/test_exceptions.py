"""The error tree: its drawing, the exit-code tables derived from it, the README's table."""

from __future__ import annotations

import io
import re

import pytest

from tap_salesforce_accounts import exceptions
from tap_salesforce_accounts.exceptions import (
    CODE_BY_EXIT_CODE,
    EXIT_CODE_BY_CODE,
    ConfigError,
    TapSalesforceError,
    error_classes,
    report,
)
from tap_salesforce_accounts.hook import cli, runner
from tests.helpers import ROOT

_DRAWN = re.compile(r"^(?P<indent>[│ ├└─]*)(?P<name>\w+Error)\s+exit (?P<exit>\d+)\s+(?P<code>\w+)")


def drawn_tree() -> list[tuple[int, str, int, str]]:
    """(depth, class name, exit code, error code) per line of the module docstring's tree."""
    lines = []
    for line in (exceptions.__doc__ or "").splitlines():
        match = _DRAWN.match(line[4:])
        if match:
            depth = len(match["indent"]) // 4
            lines.append((depth, match["name"], int(match["exit"]), match["code"]))
    return lines


def test_the_docstring_draws_the_tree_the_code_has() -> None:
    drawn = drawn_tree()
    assert {name for _, name, _, _ in drawn} == {cls.__name__ for cls in error_classes()}
    parents: list[str] = []
    for depth, name, exit_code, code in drawn:
        cls = getattr(exceptions, name)
        del parents[depth:]
        if parents:
            assert cls.__bases__ == (getattr(exceptions, parents[-1]),), name
        assert (cls.exit_code, cls.code) == (exit_code, code), name
        parents.append(name)


def test_the_exit_tables_come_from_the_classes() -> None:
    for cls in error_classes():
        assert EXIT_CODE_BY_CODE[cls.code] == cls.exit_code
        assert cli.EXIT_BY_CODE[cls.code] == cls.exit_code
        if cls.exit_code != TapSalesforceError.exit_code:
            # Back from an exit code: the most general error that has it.
            general = getattr(exceptions, _class_of(CODE_BY_EXIT_CODE[cls.exit_code]))
            assert issubclass(cls, general)
    assert runner.EXIT_CODES is CODE_BY_EXIT_CODE
    assert TapSalesforceError.exit_code not in CODE_BY_EXIT_CODE


def _class_of(code: str) -> str:
    (name,) = (cls.__name__ for cls in error_classes() if cls.code == code)
    return name


def test_the_readme_documents_each_exit_code_as_the_classes_have_it() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d+) \| ([^|]*) \|", readme, flags=re.MULTILINE)
    documented = {
        code: int(exit_code) for exit_code, codes in rows for code in re.findall(r"`(\w+)`", codes)
    }
    assert documented
    for code, exit_code in documented.items():
        assert EXIT_CODE_BY_CODE[code] == exit_code, code


@pytest.mark.parametrize("as_json", [False, True])
def test_report_writes_one_line_and_returns_the_exit_code(*, as_json: bool) -> None:
    out = io.StringIO()
    assert report("prog", ConfigError("two\nlines."), out, as_json=as_json) == 2
    assert out.getvalue().count("\n") == 1
    expected = (
        '{"error": {"code": "config_error", "message": "two lines."}}\n'
        if as_json
        else "prog: error: two lines.\n"
    )
    assert out.getvalue() == expected
