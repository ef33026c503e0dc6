"""The batch page in headless Chromium: clicking a column heading sorts the pairs, failed pairs last."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from synthdiff.diff import pairs_from_folders, run_batch
from tests._chromium import chromium_driver
from tests.conftest import EXAMPLES

pytestmark = [pytest.mark.browser, pytest.mark.slow]

_ORDER = (
    "return Array.from(document.querySelectorAll('#pairs tbody tr')).map(r => r.cells[1].textContent.trim());"
)


def test_clicking_a_heading_sorts_the_rows(tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    reference, test = tmp_path / "ref", tmp_path / "test"
    reference.mkdir()
    test.mkdir()
    for name in ("wrong-light", "wrong-roughness", "shifted-texture"):
        shutil.copy(EXAMPLES / name / "reference.png", reference / f"{name}.png")
        shutil.copy(EXAMPLES / name / "test.png", test / f"{name}.png")
    shutil.copy(EXAMPLES / "wrong-light" / "reference.png", reference / "broken.png")
    (test / "broken.png").write_bytes(b"not an image")
    result = run_batch(pairs_from_folders(reference, test)[0], tmp_path / "out", fast=True)
    ssim = {row["id"]: row["ssim"] for row in result.rows if row["status"] == "ok"}
    ascending = sorted(ssim, key=lambda name: ssim[name])

    driver = chromium_driver()
    try:
        driver.get((tmp_path / "out" / "index.html").as_uri())
        assert driver.execute_script(_ORDER) == ["broken", *sorted(ssim)]  # input order
        heading = next(h for h in driver.find_elements(By.CSS_SELECTOR, "#pairs th") if h.text == "ssim")
        heading.click()
        assert driver.execute_script(_ORDER) == [*ascending, "broken"]
        assert heading.get_attribute("aria-sort") == "ascending"
        heading.click()
        assert driver.execute_script(_ORDER) == [*reversed(ascending), "broken"]
        assert driver.get_log("browser") == []  # no script error
    finally:
        driver.quit()
