"""The query page in a real browser: headless Debian Chromium, driven by Selenium through Debian's
chromedriver (nothing downloaded at test time), against ``kg-serve`` serving the seed build.

Opens ``/``, picks an example from the page's picker, runs it with YASGUI's run button and reads
the result table YASGUI draws."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select, WebDriverWait

from kg_builder.pipeline import BuildResult
from server.ui import DEFAULT_YASGUI_DIR, find_yasgui
from tests.conftest import in_ci
from tests.test_end_to_end import free_port

pytestmark = pytest.mark.slow

WAIT_SECONDS = 30  # an upper bound for slow CI machines, not a speed assertion
ACTIVE = ".tabPanel.active"
RESULT_ROWS = f"{ACTIVE} .yasr_results tbody tr"
SELECTED_TAB = '.tabsList [role="tab"][aria-selected="true"] span'


def _require(found: str | None, message: str) -> str:
    if found is None:
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture(scope="session")  # session: checked before the seed build is made
def chromium() -> tuple[str, str]:
    """Debian's chromium and chromedriver (``make test`` installs both)."""
    browser = shutil.which("chromium")
    driver = shutil.which("chromedriver")
    _require(browser, "Debian's chromium is not installed; 'make test' installs it")
    _require(driver, "Debian's chromium-driver is not installed; 'make test' installs it")
    assert browser is not None and driver is not None
    return browser, driver


@pytest.fixture(scope="session")
def yasgui_installed() -> None:
    _require(
        None if find_yasgui(DEFAULT_YASGUI_DIR) is None else "yes",
        "YASGUI is not in node_modules; 'make install' runs npm ci",
    )


@pytest.fixture(scope="module")
def live_server(seed_build: BuildResult, yasgui_installed: None) -> Iterator[str]:
    """``kg-serve`` (gunicorn) on a free port, serving the seed build."""
    port = free_port()
    out_dir = seed_build.release.root.parent.parent
    kg_serve = str(Path(sys.executable).with_name("kg-serve"))
    command = [kg_serve, "--out-dir", str(out_dir), "--port", str(port), "--workers", "2"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + WAIT_SECONDS
    try:
        while True:
            try:
                requests.get(f"{base}/sparql", timeout=5)
                break
            except requests.ConnectionError:
                if process.poll() is not None:
                    stderr = process.stderr.read().decode() if process.stderr else ""
                    raise RuntimeError(f"kg-serve exited: {stderr}") from None
                if time.monotonic() > deadline:
                    raise RuntimeError(f"kg-serve did not start within {WAIT_SECONDS} s") from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)
        if process.stderr:
            process.stderr.close()


@pytest.fixture(scope="module")
def browser(chromium: tuple[str, str]) -> Iterator[WebDriver]:
    binary, driver_path = chromium
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        "--no-first-run",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(WAIT_SECONDS)
    try:
        yield driver
    finally:
        driver.quit()


def open_page(browser: WebDriver, url: str) -> None:
    browser.get(url)
    browser.execute_script("window.localStorage.clear()")  # no tabs kept from an earlier test
    browser.get(url)
    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, f"{ACTIVE} .yasqe_queryButton")
    )


def run_example(browser: WebDriver, title: str) -> list[list[str]]:
    """Pick ``title`` in the page's picker, press YASGUI's run button, read the result cells."""
    Select(browser.find_element(By.ID, "example-picker")).select_by_visible_text(title)
    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda b: b.find_element(By.CSS_SELECTOR, SELECTED_TAB).text == title
    )
    browser.find_element(By.CSS_SELECTOR, f"{ACTIVE} .yasqe_queryButton").click()
    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, RESULT_ROWS)
    )
    return [
        [cell.text for cell in row.find_elements(By.CSS_SELECTOR, "td")]
        for row in browser.find_elements(By.CSS_SELECTOR, RESULT_ROWS)
    ]


def test_page_opens_an_example_in_a_tab_and_shows_its_rows(
    browser: WebDriver, live_server: str
) -> None:
    open_page(browser, f"{live_server}/")
    endpoint = browser.find_element(By.CSS_SELECTOR, f"{ACTIVE} input.autocomplete")
    assert endpoint.get_attribute("value") == f"{live_server}/sparql"
    rows = run_example(browser, "Conflicts and their parties")
    description = browser.find_element(By.ID, "example-description").text
    assert description.startswith("Each conflict with the States party to it")
    first = " ".join(rows[0])
    assert "Nagorno-Karabakh conflict" in first
    assert "Armenia" in first and "Azerbaijan" in first and "Minsk Group" in first
    assert len(rows) >= 4


def test_first_example_lists_the_participating_states(browser: WebDriver, live_server: str) -> None:
    open_page(browser, f"{live_server}/")
    browser.find_element(By.CSS_SELECTOR, f"{ACTIVE} .yasqe_queryButton").click()
    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, RESULT_ROWS)
    )
    summary = browser.find_element(By.CSS_SELECTOR, f"{ACTIVE} .yasr_response_chip").text
    assert summary.startswith("57 results")
    table = browser.find_element(By.CSS_SELECTOR, f"{ACTIVE} .yasr_results").text
    assert "Albania" in table and "Yerevan" in table
