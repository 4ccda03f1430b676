"""Bulk API 2.0 refused at job creation: REST reads instead; a selection neither fits is named."""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING

import pytest

from tap_salesforce_accounts import schema, streams
from tap_salesforce_accounts.exceptions import SalesforceAPIError
from tap_salesforce_accounts.tap import TapSalesforceAccounts
from tap_salesforce_accounts.writer import SingerJsonlWriter
from tests.helpers import raw_query, records, run_tap, tap_config

if TYPE_CHECKING:
    from pathlib import Path

    from tests.emulator import Emulator


def kinds(emulator: Emulator) -> list[str]:
    return [r["kind"] for r in emulator.requests()]


@pytest.mark.parametrize("api_type", ["bulk", "auto"])
@pytest.mark.parametrize(
    "refusal", ["API_DISABLED_FOR_ORG", "FUNCTIONALITY_NOT_ENABLED", "INSUFFICIENT_ACCESS"]
)
def test_refused_bulk_reads_over_rest_with_a_warning(
    api_type: str, refusal: str, fresh_emulator: Emulator, tmp_path: Path
) -> None:
    fresh_emulator.configure(bulk_refusal=refusal)
    config = tap_config(fresh_emulator.url, tmp_path / "cache", api_type=api_type, bulk_threshold=0)
    result = run_tap(config, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "refused the query job" in line]
    assert len(warnings) == 1
    assert refusal in warnings[0]
    assert "reading over REST instead" in warnings[0]
    expected = {r["Id"] for r in raw_query(fresh_emulator.url, "SELECT Id FROM Account")}
    assert {r["Id"] for r in records(result.stdout)} == expected
    assert kinds(fresh_emulator).count("bulk_create") == 1
    assert fresh_emulator.config()["bulk_jobs"] == 0


def test_a_field_bulk_rejects_is_read_over_rest(
    fresh_emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Bulk's rules can be wider than the tap knows: here a base64 field reaches the job.
    def with_base64(
        description: schema.ObjectDescription, fields: list[str]
    ) -> tuple[list[str], list[str]]:
        del description
        return list(fields), []

    monkeypatch.setattr(schema, "bulk_select_fields", with_base64)
    out = io.BytesIO()
    tap = TapSalesforceAccounts(
        config=tap_config(fresh_emulator.url, tmp_path / "cache", api_type="bulk"),
        message_writer=SingerJsonlWriter(out),
    )
    tap.run()
    got = records(out.getvalue().decode())
    assert len(got) == 297
    assert any(r.get("Logo__c") for r in got)  # read over REST, blob URL included
    creates = [r for r in fresh_emulator.requests() if r["kind"] == "bulk_create"]
    assert [r["status"] for r in creates] == [400]


def test_a_selection_too_wide_for_rest_and_refused_by_bulk_names_what_to_deselect(
    fresh_emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An org with hundreds of custom fields: here the URI limit shrinks instead.
    monkeypatch.setattr(streams, "MAX_URL_LENGTH", 1500)
    fresh_emulator.configure(bulk_refusal="API_DISABLED_FOR_ORG")
    tap = TapSalesforceAccounts(
        config=tap_config(fresh_emulator.url, tmp_path / "cache"),
        message_writer=SingerJsonlWriter(io.BytesIO()),
    )
    with pytest.raises(SalesforceAPIError) as caught:
        tap.run()
    message = caught.value.message
    assert caught.value.exit_code == 10
    assert "\n" not in message
    assert "API_DISABLED_FOR_ORG" in message
    match = re.search(r"deselect these (\d+) fields in the catalog: (.+)\.$", message)
    assert match is not None, message
    named = match.group(2).split(", ")
    assert len(named) == int(match.group(1))
    assert "Id" not in named
    assert "SystemModstamp" not in named
    assert kinds(fresh_emulator).count("bulk_create") == 1

    # Deselecting exactly those fields is enough: REST reads the rest.
    catalog = tap.catalog_dict
    for entry in catalog["streams"][0]["metadata"]:
        breadcrumb = entry["breadcrumb"]
        if breadcrumb and breadcrumb[-1] in named:
            entry["metadata"]["selected"] = False
    fresh_emulator.reset_log()
    out = io.BytesIO()
    narrower = TapSalesforceAccounts(
        config=tap_config(fresh_emulator.url, tmp_path / "cache"),
        catalog=catalog,
        message_writer=SingerJsonlWriter(out),
    )
    narrower.run()
    assert len(records(out.getvalue().decode())) == 297
    assert "bulk_create" not in kinds(fresh_emulator)
