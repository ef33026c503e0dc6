"""Every route of the study web app, and its security cases (SQLite; the rules themselves are tested
on both databases in test_service.py)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from synthdiff.errors import InvalidArgumentError
from synthdiff.study import StudySettings, create_app, create_study
from synthdiff.study import _app as app_module

from .conftest import assignment_of, csrf_of, write_pairs

PASSWORD = "correct horse"


@pytest.fixture
def study(tmp_path: Path, images: tuple[Path, list[str]]) -> tuple[str, str]:
    """(database URL, admin password) of a yes/no study with 4 pairs and a trap."""
    root, names = images
    url = f"sqlite:///{tmp_path / 'study.db'}"
    created = create_study(
        write_pairs(tmp_path / "pairs.csv", names, 4, traps=1),
        "yesno",
        root,
        database_url=url,
        settings=StudySettings(leaderboard=True, min_response_ms=0, answers_per_pair=2),
        seed=0,
    )
    return url, created.admin_password


@pytest.fixture
def client(study: tuple[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(study[0])) as test_client:
        yield test_client


def _signup(client: TestClient, username: str = "ann") -> str:
    token = csrf_of(client.get("/signup").text)
    response = client.post("/signup", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 200 and response.url.path == "/next"
    return token


def _admin(client: TestClient, password: str) -> str:
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"username": "admin", "password": password, "csrf_token": token})
    assert response.url.path == "/admin"
    return token


def test_pages_for_visitors(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    for path in ("/next", "/admin", "/leaderboard", "/assignments/1/left", "/admin/export/answers.csv"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/login", path
    assert "Sign up" in client.get("/signup").text
    assert client.get("/static/study.js").status_code == 200
    for hidden in ("/docs", "/openapi.json", "/redoc"):
        assert client.get(hidden).status_code == 404


def test_security_headers_and_cookies(client: TestClient) -> None:
    response = client.get("/login")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "httponly" in response.headers["set-cookie"].lower()
    token = csrf_of(response.text)
    signup = client.post(
        "/signup", data={"username": "ann", "password": PASSWORD, "csrf_token": token}, follow_redirects=False
    )
    cookie = signup.headers["set-cookie"].lower()
    assert "synthdiff_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie


def test_images_are_served_with_their_type_even_without_the_systems_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Python's own table lacks WebP: without /etc/mime.types WebP went out as application/octet-stream.
    root = tmp_path / "images"
    root.mkdir()
    pixels = np.random.default_rng(1).integers(0, 255, (16, 16, 3), dtype=np.uint8)
    for name in ("a.webp", "b.avif"):
        Image.fromarray(pixels).save(root / name)
    (tmp_path / "pairs.csv").write_text("pair_id,image_a,image_b\np1,a.webp,b.avif\n")
    url = f"sqlite:///{tmp_path / 'study.db'}"
    create_study(tmp_path / "pairs.csv", "yesno", root, database_url=url, seed=0)
    monkeypatch.setattr("starlette.responses.guess_type", lambda *args, **kwargs: (None, None))
    with TestClient(create_app(url)) as client:
        _signup(client)
        assignment = assignment_of(client.get("/next").text)
        served = {
            client.get(f"/assignments/{assignment}/{side}").headers["content-type"]
            for side in ("left", "right")
        }
    assert served == {"image/webp", "image/avif"}


def test_secure_cookies_when_asked(study: tuple[str, str]) -> None:
    with TestClient(create_app(study[0], secure_cookies=True), base_url="https://testserver") as client:
        assert "secure" in client.get("/login").headers["set-cookie"].lower()


def test_answering_in_the_browser_flow(client: TestClient) -> None:
    token = _signup(client)
    page = client.get("/next")
    assignment = assignment_of(page.text)
    assert assignment is not None and 'data-keys="y"' in page.text
    assert assignment_of(client.get("/next").text) == assignment  # a reload keeps the reservation
    left = client.get(f"/assignments/{assignment}/left")
    assert left.status_code == 200 and left.headers["content-type"] == "image/png"
    assert client.get(f"/assignments/{assignment}/reference").status_code == 404  # yes/no has none
    assert client.get(f"/assignments/{assignment}/middle").status_code == 404
    response = client.post(
        "/answer", data={"assignment_id": assignment, "choice": "yes", "csrf_token": token}
    )
    assert response.status_code == 200 and response.url.path == "/next"
    again = client.post(
        "/answer",
        data={"assignment_id": assignment, "choice": "no", "csrf_token": token},
        follow_redirects=False,
    )
    assert again.status_code == 409 and "first answer counts" in again.text
    bad = client.post("/answer", data={"assignment_id": 99999, "choice": "yes", "csrf_token": token})
    assert bad.status_code == 404
    # Malformed forms and unknown addresses get the app's page, not FastAPI's JSON.
    malformed = client.post("/answer", data={"assignment_id": "x", "choice": "yes", "csrf_token": token})
    assert malformed.status_code == 400 and "incomplete or malformed" in malformed.text
    assert "text/html" in malformed.headers["content-type"]
    missing = client.post("/answer", data={"choice": "yes", "csrf_token": token})
    assert missing.status_code == 400 and "incomplete or malformed" in missing.text
    nowhere = client.get("/no-such-page")
    assert nowhere.status_code == 404 and "There is no page at this address." in nowhere.text
    wrong_method = client.delete("/next")
    assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "GET"
    answered = 1
    while (assignment := assignment_of(client.get("/next").text)) is not None:
        client.post("/answer", data={"assignment_id": assignment, "choice": "no", "csrf_token": token})
        answered += 1
    assert 4 <= answered <= 5 and "no more pairs" in client.get("/next").text  # 4 pairs, maybe the trap
    board = client.get("/leaderboard")
    assert board.status_code == 200 and "ann" in board.text


def test_forms_need_the_csrf_token(client: TestClient, study: tuple[str, str]) -> None:
    client.get("/login")
    forged = {"username": "ann", "password": PASSWORD, "csrf_token": "0" * 64}
    for path in ("/signup", "/login"):
        assert client.post(path, data=forged).status_code == 403
        assert client.post(path, data={"username": "ann", "password": PASSWORD}).status_code == 403
    token = _signup(client)
    assignment = assignment_of(client.get("/next").text)
    assert client.post("/answer", data={"assignment_id": assignment, "choice": "yes"}).status_code == 403
    assert client.post("/logout", data={}).status_code == 403
    # A token from another browser (another nonce cookie) is refused too.
    with TestClient(create_app(study[0])) as other:
        other_token = csrf_of(other.get("/login").text)
    assert other_token != token
    refused = client.post(
        "/answer", data={"assignment_id": assignment, "choice": "yes", "csrf_token": other_token}
    )
    assert refused.status_code == 403


def test_participants_only_see_their_own_images(client: TestClient, study: tuple[str, str]) -> None:
    _signup(client, "ann")
    assignment = assignment_of(client.get("/next").text)
    with TestClient(create_app(study[0])) as other:
        _signup(other, "bob")
        assert other.get(f"/assignments/{assignment}/left").status_code == 404


def test_path_traversal_is_refused(
    client: TestClient, tmp_path: Path, images: tuple[Path, list[str]]
) -> None:
    _signup(client)
    assignment = assignment_of(client.get("/next").text)
    for path in (
        f"/assignments/{assignment}/..%2F..%2F..%2Fetc%2Fpasswd",
        f"/assignments/{assignment}/../../etc/passwd",
        "/static/..%2F_app.py",
        "/static/../_app.py",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "root:" not in response.text and "import" not in response.text
    # An image swapped for a link to a file outside the root after init is not served either.
    root, names = images
    secret = tmp_path / "secret.png"
    secret.write_bytes((root / names[0]).read_bytes())
    for name in names:
        (root / name).unlink()
        os.symlink(secret, root / name)
    assert client.get(f"/assignments/{assignment}/left").status_code == 403


def test_request_size_limit(client: TestClient) -> None:
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"username": "x" * 40_000, "password": "y", "csrf_token": token})
    assert response.status_code == 413

    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"a" * 1024

    streamed = client.post(
        "/login", content=chunks(), headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert streamed.status_code == 413


def test_ids_beyond_the_database_integers_are_malformed_requests(
    client: TestClient, study: tuple[str, str]
) -> None:
    # They reached the database, whose integer overflow was a 500.
    huge = str(2**70)
    token = _signup(client)
    for assignment in (huge, "0", "-1"):
        response = client.post(
            "/answer", data={"assignment_id": assignment, "choice": "yes", "csrf_token": token}
        )
        assert response.status_code == 400, assignment
    assert client.get(f"/assignments/{huge}/left").status_code == 400
    client.post("/logout", data={"csrf_token": token})
    token = _admin(client, study[1])
    response = client.post(f"/admin/participants/{huge}", data={"excluded": "1", "csrf_token": token})
    assert response.status_code == 400


def test_login_logout_and_rate_limit(client: TestClient) -> None:
    _signup(client)
    token = csrf_of(client.get("/next").text)
    assert client.post("/logout", data={"csrf_token": token}).url.path == "/login"
    assert client.get("/next", follow_redirects=False).status_code == 303
    token = csrf_of(client.get("/login").text)
    ok = client.post("/login", data={"username": "ann", "password": PASSWORD, "csrf_token": token})
    assert ok.url.path == "/next"
    statuses = [
        client.post(
            "/login", data={"username": "ann", "password": "wrong pass", "csrf_token": token}
        ).status_code
        for _ in range(6)
    ]
    assert statuses == [401] * 5 + [429]
    assert (
        "wait 15 minutes"
        in client.post("/login", data={"username": "ann", "password": PASSWORD, "csrf_token": token}).text
    )


def test_signup_errors_are_shown_on_the_form(client: TestClient) -> None:
    token = csrf_of(client.get("/signup").text)
    short = client.post("/signup", data={"username": "ann", "password": "short", "csrf_token": token})
    assert short.status_code == 400 and "8 to 256 characters" in short.text and 'value="ann"' in short.text
    _signup(client, "ann")
    with TestClient(client.app) as other:
        token = csrf_of(other.get("/signup").text)
        taken = other.post("/signup", data={"username": "ann", "password": PASSWORD, "csrf_token": token})
        assert taken.status_code == 409 and "taken" in taken.text


def test_admin_pages_and_exports(
    client: TestClient, study: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = _signup(client, "ann")
    for _ in range(3):
        assignment = assignment_of(client.get("/next").text)
        client.post("/answer", data={"assignment_id": assignment, "choice": "yes", "csrf_token": token})
    assert client.get("/admin").status_code == 403  # participants are not admins
    assert client.get("/admin/export/answers.csv").status_code == 403
    with TestClient(client.app) as admin:
        token = _admin(admin, study[1])
        page = admin.get("/admin")
        assert page.status_code == 200 and "ann" in page.text and 'id="answer-count">3<' in page.text
        assert admin.get("/next", follow_redirects=False).headers["location"] == "/admin"
        csv = admin.get("/admin/export/answers.csv")
        assert csv.headers["content-disposition"] == 'attachment; filename="answers.csv"'
        lines = csv.text.strip().splitlines()
        assert lines[0].startswith("participant,pair_id,question,shown_left,shown_right,answer,response_ms")
        assert len(lines) == 4
        aggregates = json.loads(admin.get("/admin/export/aggregates.json").text)
        assert aggregates["question"] == "yesno" and sum(p["n"] for p in aggregates["pairs"]) <= 3
        unknown = admin.get("/admin/export/secrets.txt")
        assert unknown.status_code == 400 and "answers.csv" in unknown.text
        calls: list[bool] = []
        real_export = app_module.export_documents
        monkeypatch.setattr(
            app_module, "export_documents", lambda *a, **k: calls.append(True) or real_export(*a, **k)
        )
        # An unknown name is refused before the aggregates are computed.
        assert admin.get("/admin/export/secrets.txt").status_code == 400 and not calls
        assert admin.get("/admin/export/scale.csv").status_code == 400 and calls  # only for 2AFC studies
        monkeypatch.undo()
        people = admin.get("/admin").text
        participant_id = people.split('action="/admin/participants/')[1].split('"')[0]
        excluded = admin.post(
            f"/admin/participants/{participant_id}", data={"excluded": "1", "csrf_token": token}
        )
        assert excluded.url.path == "/admin" and "excluded" in excluded.text
        assert len(admin.get("/admin/export/answers.csv").text.strip().splitlines()) == 1
        assert len(admin.get("/admin/export/answers.csv?include_flagged=true").text.strip().splitlines()) == 4
        assert admin.post(f"/admin/participants/{participant_id}", data={"excluded": "1"}).status_code == 403
    assert client.get("/next").status_code == 403  # the excluded participant cannot go on


def test_app_needs_a_study(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="study init"):
        create_app(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(InvalidArgumentError, match="database URL"):
        create_app("mysql://somewhere/db")
