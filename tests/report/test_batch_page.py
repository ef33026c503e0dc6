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


def _example_folders(tmp_path: Path) -> tuple[Path, Path]:
    """Folders of references and test images holding the bundled example pairs, matched by name."""
    reference, test = tmp_path / "ref", tmp_path / "test"
    reference.mkdir()
    test.mkdir()
    for name in ("wrong-light", "wrong-roughness", "shifted-texture"):
        shutil.copy(EXAMPLES / name / "reference.png", reference / f"{name}.png")
        shutil.copy(EXAMPLES / name / "test.png", test / f"{name}.png")
    return reference, test


def test_clicking_a_heading_sorts_the_rows(tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    reference, test = _example_folders(tmp_path)
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


def test_a_wide_table_scrolls_in_its_box_with_the_pairs_in_view(tmp_path: Path) -> None:
    # With the change model's columns the page was wider than a 1400-pixel window and scrolled
    # sideways, the names of the pairs out of view; each row was as tall as all its notes.
    reference, test = _example_folders(tmp_path)
    result = run_batch(pairs_from_folders(reference, test)[0], tmp_path / "out", change_model="fresunet-wide")
    assert any(len(row["notes"]) > 1 for row in result.rows)  # a row with several notes to fold

    driver = chromium_driver(width=1400, height=900)
    try:
        driver.get((tmp_path / "out" / "index.html").as_uri())
        page = "return [document.documentElement.scrollWidth, document.documentElement.clientWidth];"
        scroll_width, client_width = driver.execute_script(page)
        assert scroll_width <= client_width
        box = "var b = document.querySelector('.table-box'); return [b.scrollWidth, b.clientWidth];"
        inner_width, box_width = driver.execute_script(box)
        assert inner_width > box_width  # the table itself is wider than the window
        name = "return document.querySelector('#pairs tbody td.pair').getBoundingClientRect().left;"
        before = driver.execute_script(name)
        driver.execute_script("document.querySelector('.table-box').scrollLeft = 10000;")
        assert driver.execute_script(name) == before  # the pair column stays in view
        heights = "return Array.from(document.querySelectorAll('#pairs tbody tr')).map(r => r.offsetHeight);"
        assert max(driver.execute_script(heights)) < 80  # notes folded: no row as tall as its notes
        assert driver.get_log("browser") == []
    finally:
        driver.quit()
