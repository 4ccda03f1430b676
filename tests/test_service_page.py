"""The status page as a person sees it: Debian's Chromium, headless, driven by Selenium."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tap_salesforce_accounts.hook import page
from tests.hook_fixtures import (  # noqa: F401  (fixtures)
    fixture_emu,
    fixture_emulator,
    hook_config,
)
from tests.service_fixtures import ServiceProcess, write_config

if TYPE_CHECKING:
    from collections.abc import Iterator

    from selenium.webdriver.remote.webdriver import WebDriver

    from tests.emulator import Emulator

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# Headless, and nothing that would reach the internet on its own.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@pytest.fixture(scope="module", name="browser")
def fixture_browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    """Headless Chromium with a fresh profile (installed by .ci/run with apt)."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        reason = "the page test needs Debian's chromium and chromium-driver packages"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from selenium import webdriver  # noqa: PLC0415
    from selenium.webdriver.chrome.service import Service  # noqa: PLC0415

    profile = tmp_path_factory.mktemp("chromium-profile")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def test_page_after_a_good_and_a_failed_lookup(
    browser: WebDriver, emu: Emulator, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By  # noqa: PLC0415

    config = hook_config(emu.url, tmp_path, hook_integration_id="cancel-flow")
    with ServiceProcess(write_config(tmp_path, config)) as service:
        assert service.get("/v1/accounts/CUST-000123").status_code == 200
        emu.configure(fail="503:1")
        assert service.get("/v1/accounts/CUST-000124").status_code == 503
        emu.configure(fail="")
        browser.get(service.url + "/")

        assert browser.title == "Salesforce Accounts hook: cancel-flow"
        heading = browser.find_element(By.TAG_NAME, "h1")
        assert heading.text == "Salesforce Accounts hook: cancel-flow ready"
        last_success = browser.find_element(By.ID, "last-success").text
        last_failure = browser.find_element(By.ID, "last-failure").text
        assert last_success.startswith("20")
        assert last_failure.startswith("20")
        assert last_failure > last_success
        last_error = browser.find_element(By.ID, "last-error").text
        assert last_error.startswith("unavailable: ")
        assert browser.find_element(By.ID, "successes").text == "1"
        assert browser.find_element(By.ID, "failures").text == "1"

        rows = browser.find_elements(By.CSS_SELECTOR, "#history tr")
        cells = [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")] for row in rows[1:]]
        assert [row[1] for row in cells] == ["error", "ok"]
        assert cells[0][5].startswith("unavailable: ")
        assert cells[1][5] == ""
        assert "CUST-000123" not in browser.page_source

        bars = browser.find_elements(By.CSS_SELECTOR, "#latency svg rect.bar")
        assert len(bars) == 2
        for bar in bars:
            assert bar.is_displayed()
            assert bar.size["height"] > 0
        colours = [bar.get_attribute("fill") for bar in bars]
        assert colours == ["#2e7d32", "#c62828"]  # oldest (ok) first, then the error

        # Nothing on the page asked for anything but the page itself.
        resources = browser.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)"
        )
        assert resources == []


def test_page_escapes_what_it_shows() -> None:
    status = {
        "integration_id": "<b>x</b>",
        "last_success_at": None,
        "last_failure_at": "2026-12-01T00:00:00.000Z",
        "last_error": {"code": "api_error", "message": "<script>alert(1)</script>"},
        "successes": 0,
        "failures": 1,
        "store": "sqlite:///h.db",
    }
    history = [
        {
            "at": "2026-12-01T00:00:00.000Z",
            "status": "error",
            "duration_ms": 12.0,
            "salesforce_calls": 1,
            "host": "h",
            "error": {"code": "api_error", "message": "<script>alert(1)</script>"},
        }
    ]
    text = page.render(status, history, ready=False)
    assert "<script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;b&gt;x&lt;/b&gt;" in text
    assert "not ready" in text
    # Nothing to fetch: no URL but the SVG namespace.
    assert text.replace("http://www.w3.org/2000/svg", "").count("http") == 0
