"""Study fixtures: tiny image folders, pairs files, and a database on SQLite or (when CI provides one)
PostgreSQL."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import numpy as np
import pytest
from PIL import Image

pytest.importorskip("fastapi", reason="the study extra is part of the test set-up (make test)")

POSTGRES_ENV = "SYNTHDIFF_TEST_POSTGRES_URL"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ASSIGNMENT = re.compile(r'name="assignment_id" value="(\d+)"')


def make_images(root: Path, count: int) -> list[str]:
    """``count`` distinct 16x16 PNGs under ``root``; returns their names."""
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    names = []
    for index in range(count):
        name = f"img{index:03d}.png"
        Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(root / name)
        names.append(name)
    return names


def write_pairs(
    path: Path,
    images: list[str],
    pairs: int,
    traps: int = 0,
    question: str = "yesno",
    trap_answer: str = "no",
) -> Path:
    """A pairs CSV with ``pairs`` regular pairs and ``traps`` trap pairs."""
    header = "pair_id,reference,image_a,image_b,condition_a,condition_b,trap_answer"
    lines = [header]
    for index in range(pairs + traps):
        a, b = images[index % len(images)], images[(index + 1) % len(images)]
        trap = trap_answer if index >= pairs else ""
        reference = images[-1] if question == "2afc" else ""
        conditions = ("method-x", "method-y") if question == "2afc" else ("", "")
        lines.append(f"p{index:03d},{reference},{a},{b},{conditions[0]},{conditions[1]},{trap}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a new PostgreSQL database dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'study.db'}"
        return
    server = os.environ.get(POSTGRES_ENV)
    if not server:
        pytest.skip(f"PostgreSQL tests run when {POSTGRES_ENV} is set (.ci/run sets it).")
    import psycopg

    name = f"synthdiff_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = server.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        _drop_database(server, name)


def _drop_database(server: str, name: str) -> None:
    """Drop a test database, retrying for a while if another role's session is still in it.

    ``WITH (FORCE)`` ends the test role's own sessions, but not an autovacuum worker that has just
    connected to the new database (it belongs to the server's superuser: "must be a member of the role
    whose process is being terminated"); such a worker is done within moments on a database this small.
    """
    import psycopg

    deadline = time.monotonic() + 30
    while True:
        try:
            with psycopg.connect(server, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except (psycopg.errors.InsufficientPrivilege, psycopg.errors.ObjectInUse):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@pytest.fixture
def images(tmp_path: Path) -> tuple[Path, list[str]]:
    root = tmp_path / "images"
    return root, make_images(root, 8)


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def assignment_of(html: str) -> int | None:
    match = ASSIGNMENT.search(html)
    return int(match.group(1)) if match else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as handle:
        process = subprocess.Popen(
            [sys.executable, "-c", "from synthdiff.cli import main; main()", "study", "serve",
             "--database-url", url, "--port", str(port)],
            stdout=subprocess.DEVNULL, stderr=handle,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError(f"the server did not start: {log.read_text()!r}")
