"""The compare report opens in headless Chromium, offline, with every image decoded and no script error."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from synthdiff import compare

pytestmark = pytest.mark.browser

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is required in CI (scripts/install-system-deps.sh installs it)")
        pytest.skip("Chromium is not installed; run scripts/install-system-deps.sh")
    return found


def test_report_opens_without_errors(tmp_path: Path, example_pair: tuple[Path, Path]) -> None:
    page = compare(*example_pair).save_report(tmp_path / "report")
    browser = _chromium()
    run = subprocess.run(
        [
            browser,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    body = re.search(r"<body[^>]*>", run.stdout)
    assert body is not None, run.stdout[:500]
    # The page's own script marks the body once it has run and every image has loaded.
    assert 'data-ready="1"' in body.group(0)
    assert 'data-broken-images="0"' in body.group(0)
    console_errors = [line for line in run.stderr.splitlines() if "CONSOLE" in line and "Uncaught" in line]
    assert console_errors == []
    screenshot = tmp_path / "shot.png"
    subprocess.run(
        [
            browser,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1280,1600",
            f"--screenshot={screenshot}",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert screenshot.stat().st_size > 10_000
