"""A headless Chromium driven by Selenium, for the tests that click through pages."""

from __future__ import annotations

import shutil
from typing import Any

import pytest


def chromium_driver(width: int = 1200, height: int = 900) -> Any:
    """A Selenium Chrome driver on Debian's chromium and chromium-driver (fails the test without them)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if browser is None or driver_path is None:
        pytest.fail("Chromium and chromedriver are needed (make test installs Debian's chromium-driver).")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    size = f"--window-size={width},{height}"
    arguments = ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", size)
    for argument in arguments:
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
