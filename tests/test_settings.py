"""The settings: ``meltano.yml`` declares what ``--about`` shows; one reader for numbers."""

from __future__ import annotations

import json
import re
import subprocess
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from tap_salesforce_accounts.exceptions import ConfigError
from tap_salesforce_accounts.hook.session import HookSettings
from tap_salesforce_accounts.settings import (
    DEFAULT_BULK_THRESHOLD,
    DEFAULT_INTEGRATION_ID,
    DEFAULT_LOOKUP_TIMEOUT,
    DEFAULT_STALE_MAX_AGE,
    SDK_SETTING_NAMES,
    SETTING_NAMES,
    TAP_SETTING_NAMES,
    read_number,
)
from tests.helpers import ROOT, TAP, records, run_tap

if TYPE_CHECKING:
    from pathlib import Path


def about_settings() -> dict[str, dict[str, Any]]:
    result = subprocess.run(
        [str(TAP), "--about", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    properties: dict[str, dict[str, Any]] = json.loads(result.stdout)["settings"]["properties"]
    return properties


def meltano_settings() -> dict[str, dict[str, Any]]:
    project = yaml.safe_load((ROOT / "meltano.yml").read_text(encoding="utf-8"))
    (extractor,) = (
        plugin
        for plugin in project["plugins"]["extractors"]
        if plugin["name"] == "tap-salesforce-accounts"
    )
    return {setting["name"]: setting for setting in extractor["settings"]}


def meltano_kind(prop: dict[str, Any]) -> str:
    """The Meltano ``kind`` a JSON-schema property of ``--about`` maps to."""
    if "enum" in prop:
        return "options"
    (kind,) = (t for t in prop["type"] if t != "null")
    if kind == "string" and prop.get("format") == "date-time":
        return "date_iso8601"
    return "decimal" if kind == "number" else str(kind)


def test_meltano_yml_declares_the_tap_settings_as_about_shows_them() -> None:
    about = about_settings()
    meltano = meltano_settings()
    assert set(about) == SETTING_NAMES
    # Every setting of the tap's own is in meltano.yml; of the SDK's, those worth a label.
    assert set(meltano) - SDK_SETTING_NAMES == TAP_SETTING_NAMES
    assert set(meltano) <= set(about)
    for name, declared in meltano.items():
        shown = about[name]
        assert declared["kind"] == meltano_kind(shown), name
        assert declared.get("sensitive", False) == shown.get("secret", False), name
        assert declared.get("value") == shown.get("default"), name
        if declared["kind"] == "options":
            assert [o["value"] for o in declared["options"]] == shown["enum"], name


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, 7.0, id="null-is-the-default"),
        pytest.param("30", 30.0, id="text-from-an-environment-variable"),
        pytest.param(" 2.5 ", 2.5, id="text-with-spaces"),
        pytest.param(100, 100.0, id="the-upper-bound"),
        pytest.param(0.001, 0.001, id="just-above-the-lower-bound"),
    ],
)
def test_read_number_takes(value: object, expected: float) -> None:
    assert read_number({"n": value}, "n", 7.0, low=0, high=100) == expected


def test_read_number_without_the_key_is_the_default() -> None:
    assert read_number({}, "n", None, low=0) is None
    assert read_number({}, "n", 3, low=0, low_inclusive=True, whole=True) == 3


@pytest.mark.parametrize(
    ("value", "words"),
    [
        pytest.param("soon", "n must be a number in (0, 100], not 'soon'", id="text"),
        pytest.param(True, "must be a number", id="a-boolean"),
        pytest.param([1], "must be a number", id="a-list"),
        pytest.param("nan", "must be a number", id="nan"),
        pytest.param(float("inf"), "must be a number", id="infinity"),
        pytest.param(0, "n 0 is out of range: use a number in (0, 100]", id="the-open-bound"),
        pytest.param(100.5, "out of range", id="above-the-upper-bound"),
    ],
)
def test_read_number_refuses(value: object, words: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(words)):
        read_number({"n": value}, "n", 7.0, low=0, high=100)


def test_read_number_whole_and_inclusive() -> None:
    assert read_number({"n": 0}, "n", 5, low=0, low_inclusive=True, whole=True) == 0
    with pytest.raises(
        ConfigError, match=re.escape("n must be a whole number of 0 or more, not 2.5")
    ):
        read_number({"n": 2.5}, "n", 5, low=0, low_inclusive=True, whole=True)
    with pytest.raises(ConfigError, match="use a whole number of 0 or more"):
        read_number({"n": -1}, "n", 5, low=0, low_inclusive=True, whole=True)


def test_null_hook_settings_take_their_defaults() -> None:
    settings = HookSettings.from_config(
        dict.fromkeys(
            (
                "lookup_timeout_seconds",
                "stale_max_age_seconds",
                "stale_fallback",
                "hook_integration_id",
                "index_field",
            )
        )
    )
    assert settings.lookup_timeout == DEFAULT_LOOKUP_TIMEOUT
    assert settings.stale_max_age == DEFAULT_STALE_MAX_AGE
    assert settings.stale_fallback is False
    assert settings.integration_id == DEFAULT_INTEGRATION_ID
    assert settings.index_field == "Id"


def test_a_null_bulk_threshold_is_the_default(config: dict[str, Any], tmp_path: Path) -> None:
    result = run_tap({**config, "api_type": "auto", "bulk_threshold": None}, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"REST (threshold {DEFAULT_BULK_THRESHOLD})" in result.stderr
    assert records(result.stdout)
