"""Many hosts: two service instances on one PostgreSQL status store show one status and one
history."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.hook_fixtures import (  # noqa: F401  (fixtures)
    fixture_emu,
    fixture_emulator,
    fixture_pg_server,
    fixture_pg_url,
    hook_config,
)
from tests.service_fixtures import ServiceProcess, write_config

if TYPE_CHECKING:
    from pathlib import Path

    from tests.emulator import Emulator

pytestmark = pytest.mark.postgres


def test_two_instances_share_one_status(emu: Emulator, pg_url: str, tmp_path: Path) -> None:
    config = hook_config(emu.url, tmp_path, hook_store_url=pg_url)
    first_config = write_config(tmp_path / "first", config)
    second_config = write_config(tmp_path / "second", config)
    with ServiceProcess(first_config) as first, ServiceProcess(second_config) as second:
        assert first.url != second.url
        # Each instance writes its syncs in the background, and history is in write order:
        # a status read after each lookup waits for that instance's write.
        assert first.get("/v1/accounts/CUST-000123").status_code == 200
        assert first.get("/v1/status").status_code == 200
        assert second.get("/v1/accounts/CUST-999999").status_code == 404
        assert second.get("/v1/status").status_code == 200
        emu.configure(fail="503:1")
        assert first.get("/v1/accounts/CUST-000124").status_code == 503
        assert first.get("/v1/status").status_code == 200
        emu.configure(fail="")

        for service in (first, second):
            history = service.get("/v1/history?limit=10").json()
            assert [entry["status"] for entry in history] == ["error", "not_found", "ok"]
            status = service.get("/v1/status").json()
            assert (status["successes"], status["failures"]) == (2, 1)
            assert status["last_error"]["code"] == "unavailable"
            assert status["store"].startswith("postgresql://")
            text = service.get("/").text
            assert text.count('class="bar"') == 3
