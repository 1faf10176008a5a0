"""Fixtures of the browser tests: the real service on a loopback port, driven by headless Chromium.

The service is the app of :func:`service.create_app` on its own temporary DATA_DIR, served by
werkzeug's threaded WSGI server in a thread of the test process, on a free port of 127.0.0.1.
Chromium is Debian's (``/usr/bin/chromium``) through Debian's ChromeDriver
(``/usr/bin/chromedriver``), with the flags this machine needs: no sandbox (root), no GPU, and
no background traffic (the network beyond loopback is closed and Chromium would keep trying).

When Chromium or ChromeDriver is missing the tests are skipped on a developer's machine and
*fail* when ``CI=true``: ``.ci/run`` installs both, and a CI run that never reached a browser
must not pass. Screenshots go to ``artifacts/browser/`` (git-ignored).
"""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pytest
from flask import Flask
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

from tests.http.live import fresh_app, serving

ROOT: Final = Path(__file__).resolve().parents[2]
ARTIFACTS: Final = ROOT / "artifacts" / "browser"
CHROMIUM: Final = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER: Final = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
#: What the machine notes ask for: root needs --no-sandbox; the closed network makes every
#: background connection fail, so those are switched off.
FLAGS: Final = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
DESKTOP: Final = (1280, 1000)


def _require_browser() -> None:
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if shutil.which(path) is None]
    if not missing:
        return
    message = f"{', '.join(missing)} not found; install Debian's chromium and chromium-driver"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (.ci/run does): CI must run the browser tests.")
    pytest.skip(f"{message}; browser tests skipped (they fail in CI).")


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """The service's app at default settings on a fresh DATA_DIR (whatever the environment)."""
    return fresh_app(tmp_path_factory.mktemp("browser-data"))


@pytest.fixture(scope="session")
def live_server(live_app: Flask) -> Iterator[str]:
    """Base URL of the service, served in a thread on a free loopback port."""
    with serving(live_app, "live-server") as base:
        yield base


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    """Headless Chromium with a fresh profile; one for the session (starting it takes seconds)."""
    _require_browser()
    options = Options()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.add_argument(f"--window-size={DESKTOP[0]},{DESKTOP[1]}")
    # Giving both paths keeps Selenium Manager (which would download a driver) out of it.
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def page(browser: webdriver.Chrome, live_server: str) -> Iterator[webdriver.Chrome]:
    """The editors' page, freshly loaded at desktop size."""
    emulate(browser, None)
    browser.get(f"{live_server}/")
    yield browser


def emulate(driver: webdriver.Chrome, size: tuple[int, int] | None) -> None:
    """Give the page a viewport of ``size`` CSS pixels (a phone), or undo that with None."""
    if size is None:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        return
    width, height = size
    metrics: dict[str, Any] = {
        "width": width, "height": height, "deviceScaleFactor": 2, "mobile": True,
    }
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)


def screenshot(driver: webdriver.Chrome, name: str, *, full_page: bool = True) -> Path:
    """Save ``artifacts/browser/NAME.png``: the whole page, or only what the viewport shows."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    if full_page:
        # DevTools can capture beyond the viewport; WebDriver's own screenshot cannot.
        shot = driver.execute_cdp_cmd(
            "Page.captureScreenshot", {"captureBeyondViewport": True, "fromSurface": True}
        )
        path.write_bytes(base64.b64decode(shot["data"]))
    else:
        driver.save_screenshot(str(path))
    return path
