"""End to end in a real headless Chromium: sign up, answer pairs with the keyboard, check the admin
page and the export."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import httpx2 as httpx
import pytest

from synthdiff.study import StudySettings, create_study
from tests._chromium import chromium_driver

from .conftest import free_port, serve, write_pairs

pytestmark = [pytest.mark.browser, pytest.mark.slow]


# Read in one script, so the page cannot change between finding an element and reading it (a
# find_element followed by get_attribute raced with the navigation after an answer).
_STATE_SCRIPT = """
const field = document.querySelector("#answer-form input[name=assignment_id]");
const widths = ["left-image", "right-image"].map(id => {
  const image = document.getElementById(id);
  return image ? image.naturalWidth : 0;
});
return {assignment: field ? field.value : null, widths: widths};
"""


def _page_state(driver) -> dict:  # type: ignore[no-untyped-def,type-arg]
    return driver.execute_script(_STATE_SCRIPT)  # type: ignore[no-any-return]


def test_sign_up_answer_with_keys_and_export(tmp_path: Path, images: tuple[Path, list[str]]) -> None:
    from selenium.common.exceptions import JavascriptException, StaleElementReferenceException
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    root, names = images
    url = f"sqlite:///{tmp_path / 'study.db'}"
    created = create_study(
        write_pairs(tmp_path / "pairs.csv", names, 3), "yesno", root, database_url=url,
        settings=StudySettings(min_response_ms=0), seed=3,
    )  # fmt: skip
    port = free_port()
    server = serve(url, port, tmp_path / "server.log")
    base = f"http://127.0.0.1:{port}"
    driver = chromium_driver()
    # a script or an element lookup caught mid-navigation is retried, not failed
    wait = WebDriverWait(driver, 20, ignored_exceptions=(JavascriptException, StaleElementReferenceException))
    try:
        driver.get(f"{base}/signup")
        driver.find_element(By.ID, "username").send_keys("ann")
        driver.find_element(By.ID, "password").send_keys("correct horse")
        driver.find_element(By.ID, "submit").click()
        keys = {"y": "yes", "n": "no"}
        pressed = []
        for key in ("y", "n", "y"):
            assignment = wait.until(lambda d: _page_state(d)["assignment"])
            # both images served under the CSP and decoded by the browser, on this same page
            wait.until(lambda d, a=assignment: _page_state(d) == {"assignment": a, "widths": [16, 16]})
            ActionChains(driver).send_keys(key).perform()
            wait.until(lambda d, a=assignment: _page_state(d)["assignment"] != a)
            pressed.append(keys[key])
        assert "no more pairs" in wait.until(lambda d: d.find_element(By.ID, "done")).text
        driver.find_element(By.CSS_SELECTOR, "header button").click()  # log out
        wait.until(lambda d: d.current_url.endswith("/login"))
        driver.find_element(By.ID, "username").send_keys("admin")
        driver.find_element(By.ID, "password").send_keys(created.admin_password)
        driver.find_element(By.ID, "submit").click()
        wait.until(lambda d: d.current_url.endswith("/admin"))
        assert driver.find_element(By.ID, "answer-count").text == "3"
        assert "ann" in driver.find_element(By.ID, "participants").text
        cookies = {c["name"]: c["value"] for c in driver.get_cookies()}
        export = httpx.get(f"{base}/admin/export/answers.csv", cookies=cookies)
    finally:
        driver.quit()
        server.kill()
        server.wait(timeout=30)
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert [row["answer"] for row in rows] == pressed
    assert all(row["participant"] == "ann" and int(row["response_ms"]) > 0 for row in rows)
    assert {row["shown_left"] + row["shown_right"] for row in rows} <= {"ab", "ba"}
