"""``synthdiff study`` commands, and a real server process killed mid-study."""

from __future__ import annotations

import json
import os
import signal
import socket
from pathlib import Path

import httpx2 as httpx
import pytest
from typer.testing import CliRunner

from synthdiff.cli import app

from .conftest import assignment_of, csrf_of, free_port, serve, write_pairs

runner = CliRunner()


def _init(tmp_path: Path, images: tuple[Path, list[str]], *extra: str) -> tuple[str, str]:
    root, names = images
    url = f"sqlite:///{tmp_path / 'study.db'}"
    pairs = write_pairs(tmp_path / "pairs.csv", names, 4, traps=1)
    result = runner.invoke(
        app,
        ["study", "init", "--pairs", str(pairs), "--question", "yesno", "--images-root", str(root),
         "--database-url", url, "--seed", "1", *extra],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    password = result.output.split("admin password: ")[1].split()[0]
    return url, password


def test_init_prints_generated_admin_credentials(tmp_path: Path, images: tuple[Path, list[str]]) -> None:
    url, password = _init(tmp_path, images, "--invitations", "2")
    assert len(password) >= 16
    (tmp_path / "second").mkdir()
    _, other_password = _init(tmp_path / "second", images)
    assert other_password != password  # generated per study, never a built-in default
    again = runner.invoke(
        app, ["study", "init", "--pairs", str(tmp_path / "pairs.csv"), "--question", "yesno",
              "--images-root", str(images[0]), "--database-url", url],
    )  # fmt: skip
    assert again.exit_code == 2 and "already holds a study" in again.output
    assert "Traceback" not in again.output


def test_init_rejects_bad_pairs_files(tmp_path: Path, images: tuple[Path, list[str]]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("pair_id,image_a,image_b\np1,../../etc/passwd,img000.png\n")
    result = runner.invoke(
        app, ["study", "init", "--pairs", str(bad), "--question", "yesno", "--images-root", str(images[0]),
              "--database-url", f"sqlite:///{tmp_path / 's.db'}"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "line 2: '../../etc/passwd' is outside the images root" in result.output.replace("\n", "")
    unknown = runner.invoke(
        app, ["study", "init", "--pairs", str(bad), "--question", "best-of-3",
              "--images-root", str(images[0])],
    )  # fmt: skip
    assert unknown.exit_code == 2 and "yesno, 2afc, rating" in unknown.output


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--answers-per-pair", "0", "Expected --answers-per-pair >= 1, got 0."),
        ("--trap-rate", "1", "Expected --trap-rate in [0, 1), got 1.0."),
        ("--reservation-minutes", "0", "Expected --reservation-minutes between 0 and 1440, got 0.0."),
        ("--reliability-threshold", "1.5", "Expected --reliability-threshold in [0, 1], got 1.5."),
        ("--min-traps", "-1", "Expected --min-traps >= 0, got -1."),
        ("--min-response-ms", "-5", "Expected --min-response-ms >= 0, got -5."),
        ("--max-answers", "0", "Expected --max-answers >= 1 (or none, no cap), got 0."),
        ("--invitations", "-2", "Expected --invitations >= 0, got -2."),
    ],
)
def test_init_refuses_settings_out_of_range_and_creates_nothing(
    tmp_path: Path, images: tuple[Path, list[str]], option: str, value: str, message: str
) -> None:
    pairs = write_pairs(tmp_path / "pairs.csv", images[1], 4, traps=1)
    database = tmp_path / "study.db"
    result = runner.invoke(
        app,
        ["study", "init", "--pairs", str(pairs), "--question", "yesno", "--images-root", str(images[0]),
         "--database-url", f"sqlite:///{database}", option, value],
    )  # fmt: skip
    assert result.exit_code == 2 and message in result.output
    assert not database.exists()


def test_export_and_invite_commands(tmp_path: Path, images: tuple[Path, list[str]]) -> None:
    url, _ = _init(tmp_path, images)
    invite = runner.invoke(app, ["study", "invite", "--count", "3", "--database-url", url])
    assert invite.exit_code == 0 and len(invite.output.split()) == 3
    for count in ("0", "-1"):  # these printed nothing and made no code, without a word
        none = runner.invoke(app, ["study", "invite", "--count", count, "--database-url", url])
        assert none.exit_code == 2 and f"Expected --count >= 1 invitation code, got {count}." in none.output
    result = runner.invoke(app, ["study", "export", "--out", str(tmp_path / "out"), "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "0 answers, 4 pairs" in result.output
    document = json.loads((tmp_path / "out" / "aggregates.json").read_text())
    assert document["schema_version"] == "1.0" and len(document["pairs"]) == 4
    missing = runner.invoke(app, ["study", "export", "-o", str(tmp_path / "x"), "--database-url",
                                  f"sqlite:///{tmp_path / 'nothing.db'}"])  # fmt: skip
    assert missing.exit_code == 2 and "study init" in missing.output
    assert not (tmp_path / "nothing.db").exists(), "a mistyped database path must not leave a file behind"
    # invite did not check (a traceback, and an empty nothing.db left behind).
    missing = runner.invoke(
        app, ["study", "invite", "--database-url", f"sqlite:///{tmp_path / 'nothing.db'}"]
    )
    assert missing.exit_code == 2 and "study init" in missing.output
    assert not (tmp_path / "nothing.db").exists()
    for resamples in ("1", "-1"):  # -1 was a numpy error in a 2AFC study's bootstrap
        result = runner.invoke(
            app,
            ["study", "export", "-o", str(tmp_path / "r"), "--database-url", url, "--resamples", resamples],
        )
        assert result.exit_code == 2 and "--resamples of at least 2 (the 2AFC" in result.output
    # A server that cannot be reached is said so: "no study there, run init" sent the user the wrong way.
    unreachable = f"postgresql://nobody@127.0.0.1:{free_port()}/db"
    for command in (["invite"], ["export", "-o", str(tmp_path / "z")]):
        result = runner.invoke(app, ["study", *command, "--database-url", unreachable])
        assert result.exit_code == 2 and "can open at" in result.output and "study init" not in result.output
        assert "Connection refused" in result.output.replace("\n", " "), result.output
    # A file that is not a database (an image named by mistake) is said so, and left as it was.
    image = images[0] / images[1][0]
    kept = image.read_bytes()
    for command in (["invite"], ["export", "-o", str(tmp_path / "y")], ["serve"]):
        result = runner.invoke(app, ["study", *command, "--database-url", f"sqlite:///{image}"])
        assert result.exit_code == 2 and "file is not a database" in result.output, command
    assert image.read_bytes() == kept


def test_serve_refuses_a_busy_port_or_a_foreign_host_before_it_says_it_serves(
    tmp_path: Path, images: tuple[Path, list[str]]
) -> None:
    url, _ = _init(tmp_path, images)
    port = free_port()
    with socket.socket() as holder:  # another program listening there
        holder.bind(("127.0.0.1", port))
        holder.listen()
        result = runner.invoke(app, ["study", "serve", "--database-url", url, "--port", str(port)])
    assert result.exit_code == 2 and "Serving" not in result.output
    assert f"Expected to listen on 127.0.0.1:{port}, but cannot (Address already in use)" in result.output
    assert f"Fix: pass another --port, such as {port + 1}." in result.output
    for host in (
        "no.such.host.invalid",
        "192.0.2.1",
    ):  # a name that does not resolve; another machine's address
        result = runner.invoke(app, ["study", "serve", "--database-url", url, "--host", host])
        assert (
            result.exit_code == 2
            and f"Expected --host to be an address of this machine, got {host!r}" in result.output
        )
    result = runner.invoke(app, ["study", "serve", "--database-url", url, "--port", "70000"])
    assert result.exit_code == 2 and "--port from 1 to 65535, got 70000" in result.output


@pytest.mark.slow
def test_answers_survive_a_killed_server(tmp_path: Path, images: tuple[Path, list[str]]) -> None:
    url, _ = _init(tmp_path, images)
    port = free_port()
    server = serve(url, port, tmp_path / "server.log")
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, follow_redirects=True) as client:
            token = csrf_of(client.get("/signup").text)
            client.post("/signup", data={"username": "ann", "password": "correct horse", "csrf_token": token})
            for _ in range(3):
                assignment = assignment_of(client.get("/next").text)
                response = client.post(
                    "/answer", data={"assignment_id": assignment, "choice": "yes", "csrf_token": token}
                )
                assert response.status_code == 200
            pending = assignment_of(client.get("/next").text)  # reserved, not answered
            server.send_signal(signal.SIGKILL)
            server.wait(timeout=30)
            server = serve(url, port, tmp_path / "server.log")
            # The session, the three answers and the reservation all survived.
            assert assignment_of(client.get("/next").text) == pending
            client.post("/answer", data={"assignment_id": pending, "choice": "no", "csrf_token": token})
    finally:
        server.kill()
        server.wait(timeout=30)
    result = runner.invoke(app, ["study", "export", "-o", str(tmp_path / "out"), "--database-url", url])
    rows = (tmp_path / "out" / "answers.csv").read_text().strip().splitlines()
    assert result.exit_code == 0 and len(rows) == 1 + 4
    assert os.path.getsize(tmp_path / "study.db") > 0
