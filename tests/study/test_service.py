"""The study's rules, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from synthdiff.errors import InvalidArgumentError, OutputError
from synthdiff.study import Database, StudyService, StudySettings, create_study, export_study
from synthdiff.study._models import Answer, Assignment, LoginFailure, Participant, WebSession, utcnow
from synthdiff.study._service import (
    AlreadyAnsweredError,
    ForbiddenError,
    NotLoggedInError,
    ReservationExpiredError,
    StudyRequestError,
    TooManyAttemptsError,
    UnknownError,
)

from .conftest import write_pairs

_OPEN: list[StudyService] = []


@pytest.fixture(autouse=True)
def _dispose_engines():
    yield
    while _OPEN:
        _OPEN.pop().db.dispose()


def _study(
    database_url: str,
    tmp_path: Path,
    images: tuple[Path, list[str]],
    pairs: int = 4,
    traps: int = 0,
    question: str = "yesno",
    invitations: int = 0,
    **settings: object,
) -> StudyService:
    root, names = images
    csv = write_pairs(
        tmp_path / "pairs.csv", names, pairs, traps, question, "a" if question == "2afc" else "no"
    )
    create_study(
        csv,
        question,
        root,
        database_url=database_url,
        settings=StudySettings(**settings),  # type: ignore[arg-type]
        invitations=invitations,
        seed=0,
    )
    service = StudyService(Database(database_url), rng=random.Random(0))
    _OPEN.append(service)
    return service


def _participant(service: StudyService, name: str) -> Participant:
    token = service.signup(name, "correct horse")
    person = service.session_participant(token)
    assert person is not None
    return person


def test_each_pair_gets_k_answers_and_nobody_sees_a_pair_twice(database_url, tmp_path, images) -> None:
    service = _study(database_url, tmp_path, images, pairs=3, answers_per_pair=2, min_response_ms=0)
    seen: dict[str, list[int]] = {}
    for name in ("ann", "bob", "cat"):
        person = _participant(service, name)
        while (view := service.next_assignment(person)) is not None:
            assert service.next_assignment(person) == view  # a reload shows the same reservation
            answer = service.submit_answer(person, view.id, "yes")
            seen.setdefault(name, []).append(answer.pair_id)
    assert all(len(set(pairs)) == len(pairs) for pairs in seen.values())
    with service.db.read() as session:
        counts = session.execute(select(Answer.pair_id, func.count()).group_by(Answer.pair_id)).all()
    assert sorted(n for _, n in counts) == [2, 2, 2]
    assert service.progress()["completion"] == 1.0
    assert service.completion() == 1.0


def test_reservations_hold_a_slot_until_they_expire(database_url, tmp_path, images) -> None:
    service = _study(database_url, tmp_path, images, pairs=1, answers_per_pair=1)
    ann, bob = _participant(service, "ann"), _participant(service, "bob")
    view = service.next_assignment(ann)
    assert view is not None
    assert service.next_assignment(bob) is None  # the only slot is reserved for ann
    with service.db.write() as session:
        session.execute(update(Assignment).values(expires_at=utcnow() - timedelta(seconds=1)))
    with pytest.raises(ReservationExpiredError, match="time ran out"):
        service.submit_answer(ann, view.id, "yes")
    assert service.next_assignment(bob) is not None  # freed by the expiry


def test_answers_are_checked(database_url, tmp_path, images) -> None:
    service = _study(database_url, tmp_path, images)
    ann, bob = _participant(service, "ann"), _participant(service, "bob")
    view = service.next_assignment(ann)
    assert view is not None
    with pytest.raises(StudyRequestError, match="Expected one of yes, no"):
        service.submit_answer(ann, view.id, "maybe")
    with pytest.raises(UnknownError, match="No pair"):
        service.submit_answer(bob, view.id, "yes")
    with pytest.raises(UnknownError, match="No pair"):
        service.submit_answer(ann, 999_999, "yes")
    service.submit_answer(ann, view.id, "no")
    with pytest.raises(AlreadyAnsweredError, match="first answer counts"):
        service.submit_answer(ann, view.id, "yes")
    with service.db.read() as session:
        assert session.scalars(select(Answer.answer)).all() == ["no"]


def test_2afc_stores_the_image_chosen_and_the_order_shown(database_url, tmp_path, images) -> None:
    service = _study(database_url, tmp_path, images, pairs=6, question="2afc")
    ann = _participant(service, "ann")
    orders = set()
    while (view := service.next_assignment(ann)) is not None:
        with pytest.raises(StudyRequestError, match="left or right"):
            service.submit_answer(ann, view.id, "a")
        answer = service.submit_answer(ann, view.id, "left")
        assert answer.answer == view.left  # the image shown on the left, a or b
        assert answer.shown_order == view.left + view.right
        orders.add(answer.shown_order)
    assert orders == {"ab", "ba"}  # both orders occur (seeded)


def test_response_time_is_measured_by_the_server(database_url, tmp_path, images) -> None:
    service = _study(database_url, tmp_path, images, min_response_ms=500)
    ann = _participant(service, "ann")
    quick = service.next_assignment(ann)
    assert quick is not None
    assert service.submit_answer(ann, quick.id, "yes").points == 0  # too fast to earn a point
    slow = service.next_assignment(ann)
    assert slow is not None
    with service.db.write() as session:
        session.execute(
            update(Assignment)
            .where(Assignment.id == slow.id)
            .values(issued_at=utcnow() - timedelta(seconds=3))
        )
    answer = service.submit_answer(ann, slow.id, "yes")
    assert 3000 <= answer.response_ms < 3000 + 5000
    assert answer.points == 1


def test_traps_reliability_flags_and_exports(database_url, tmp_path, images) -> None:
    service = _study(
        database_url,
        tmp_path,
        images,
        pairs=3,
        traps=4,
        trap_rate=0.99,
        min_traps=3,
        reliability_threshold=0.7,
        answers_per_pair=3,
    )
    careless, careful = _participant(service, "careless"), _participant(service, "careful")
    for person, trap_choice in ((careless, "yes"), (careful, "no")):
        while (view := service.next_assignment(person)) is not None:
            service.submit_answer(person, view.id, trap_choice)
    stats = {s.username: s for s in service.participant_stats()}
    assert stats["careless"].traps == 4 and stats["careless"].traps_correct == 0 and stats["careless"].flagged
    assert stats["careful"].reliability == 1.0 and not stats["careful"].flagged
    kept = export_study(database_url, tmp_path / "kept")
    everything = export_study(database_url, tmp_path / "all", include_flagged=True)
    assert kept.answers == 7 and everything.answers == 14
    text = (tmp_path / "all" / "answers.csv").read_text()
    assert text.count(",True,False,") == 4  # the careless participant's four failed traps


def test_points_leaderboard_and_exclusion(database_url, tmp_path, images) -> None:
    service = _study(database_url, tmp_path, images, pairs=4, leaderboard=True, min_response_ms=0)
    ann, bob = _participant(service, "ann"), _participant(service, "bob")
    for person, count in ((ann, 3), (bob, 1)):
        for _ in range(count):
            view = service.next_assignment(person)
            assert view is not None
            service.submit_answer(person, view.id, "yes")
    assert service.leaderboard() == [("ann", 3), ("bob", 1)]
    service.set_excluded(ann.id, True)
    assert service.leaderboard() == [("bob", 1)]
    with pytest.raises(ForbiddenError, match="excluded"):
        service.next_assignment(ann)
    with pytest.raises(UnknownError):
        service.set_excluded(999_999, True)


def test_leaderboard_off_and_answer_cap(database_url, tmp_path, images) -> None:
    service = _study(database_url, tmp_path, images, pairs=4, max_answers_per_participant=2)
    with pytest.raises(UnknownError, match="no leaderboard"):
        service.leaderboard()
    ann = _participant(service, "ann")
    answered = 0
    while (view := service.next_assignment(ann)) is not None:
        service.submit_answer(ann, view.id, "yes")
        answered += 1
    assert answered == 2


def test_sign_ups_of_one_name_in_several_cases_at_once_make_one_account(
    database_url, tmp_path, images, monkeypatch
) -> None:
    service = _study(database_url, tmp_path, images)
    spellings = ["carol", "Carol", "CAROL", "cArol", "caRol", "carOl"]
    start = threading.Barrier(len(spellings))
    outcomes: dict[str, str] = {}

    def sign_up(name: str) -> None:
        start.wait()
        try:
            service.signup(name, "correct horse")
            outcomes[name] = "made"
        except AlreadyAnsweredError as error:
            outcomes[name] = str(error)

    threads = [threading.Thread(target=sign_up, args=(name,)) for name in spellings]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == sorted(spellings)
    assert sum(outcome == "made" for outcome in outcomes.values()) == 1
    assert all("is taken" in outcome for outcome in outcomes.values() if outcome != "made")
    # The check before the insert can miss a sign-up that commits between the two; the constraint
    # then answers, with the same message rather than a server error.
    monkeypatch.setattr("synthdiff.study._service.username_key", lambda name: "(missed)")
    taken = r"^The user name 'CaRoL' is taken\. Fix: choose another\.$"
    with pytest.raises(AlreadyAnsweredError, match=taken):
        service.signup("CaRoL", "correct horse")
    with service.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Participant)) == 2  # the admin and one


def test_accounts_invitations_and_login_limits(database_url, tmp_path, images) -> None:
    service = _study(database_url, tmp_path, images, invitations=2)
    codes = service.add_invitations(2)
    with pytest.raises(ForbiddenError, match="invitation"):
        service.signup("ann", "correct horse")
    service.signup("ann", "correct horse", codes[0])
    with pytest.raises(ForbiddenError, match="invitation"):
        service.signup("bob", "correct horse", codes[0])  # already used
    with pytest.raises(AlreadyAnsweredError, match="taken"):
        service.signup("ann", "another one", codes[1])
    # One name whatever its case: an "ADMIN" or "Ann" would read as someone else.
    for other_case, owner in (("ADMIN", "admin"), ("Ann", "ann")):
        with pytest.raises(AlreadyAnsweredError, match=f"'{other_case}' is taken \\(as '{owner}'\\)"):
            service.signup(other_case, "correct horse", codes[1])
    with pytest.raises(InvalidArgumentError, match="user name"):
        service.signup("a", "correct horse")
    # The database holds the rule too, whatever wrote the row.
    with pytest.raises(IntegrityError), service.db.write() as session:
        session.add(Participant(username="aNN", password_hash="x", created_at=utcnow()))
    with pytest.raises(InvalidArgumentError, match="password"):
        service.signup("someone", "short")
    assert service.session_participant(service.login("ann", "correct horse", "10.0.0.1")) is not None
    # The name in another case is the same person: it logs in (it was "unknown user" before), and
    # failed attempts in any case count against the one name.
    logged_in = service.session_participant(service.login("ANN", "correct horse", "10.0.0.1"))
    assert logged_in is not None and logged_in.username == "ann"
    for spelling in ("ann", "Ann", "aNn", "ANN", "anN"):
        with pytest.raises(NotLoggedInError, match="wrong password"):
            service.login(spelling, "wrong guess", "10.0.0.1")
    with pytest.raises(TooManyAttemptsError, match="wait 15 minutes"):
        service.login("ann", "correct horse", "10.0.0.2")  # the right password, but locked for now
    with pytest.raises(NotLoggedInError):
        service.login("nobody", "correct horse", "10.0.0.3")
    assert service.session_participant("forged-token") is None


def test_admin_does_not_answer_and_sessions_end(database_url, tmp_path, images) -> None:
    service = _study(database_url, tmp_path, images)
    with service.db.read() as session:
        admin = session.scalar(select(Participant).where(Participant.is_admin.is_(True)))
    assert admin is not None
    with pytest.raises(ForbiddenError, match="admin"):
        service.next_assignment(admin)
    token = service.signup("ann", "correct horse")
    service.logout(token)
    assert service.session_participant(token) is None
    # an expired session is refused, and removed when its owner next logs in
    stale = service.login("ann", "correct horse", "10.0.0.1")
    with service.db.write() as session:
        session.execute(update(WebSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert service.session_participant(stale) is None
    fresh = service.login("ann", "correct horse", "10.0.0.1")
    with service.db.read() as session:
        assert session.scalar(select(func.count()).select_from(WebSession)) == 1
    assert service.session_participant(fresh) is not None


def test_old_login_failures_are_dropped(database_url, tmp_path, images) -> None:
    service = _study(database_url, tmp_path, images)
    service.signup("ann", "correct horse")
    with pytest.raises(NotLoggedInError):
        service.login("ann", "wrong guess", "10.0.0.1")
    with service.db.write() as session:
        session.execute(update(LoginFailure).values(at=utcnow() - timedelta(minutes=16)))
    service.login("ann", "correct horse", "10.0.0.1")
    with service.db.read() as session:
        assert session.scalar(select(func.count()).select_from(LoginFailure)) == 0


def test_one_study_per_database(database_url, tmp_path, images) -> None:
    _study(database_url, tmp_path, images)
    with pytest.raises(OutputError, match="already holds a study"):
        _study(database_url, tmp_path, images)


def test_concurrent_participants_never_overfill_a_pair(database_url, tmp_path, images) -> None:
    service = _study(database_url, tmp_path, images, pairs=5, answers_per_pair=3, min_response_ms=0)
    people = [_participant(service, f"user{i}") for i in range(8)]
    errors: list[BaseException] = []

    def answer_all(person: Participant) -> None:
        try:
            while (view := service.next_assignment(person)) is not None:
                service.submit_answer(person, view.id, "yes")
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=answer_all, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with service.db.read() as session:
        counts = [
            n for _, n in session.execute(select(Answer.pair_id, func.count()).group_by(Answer.pair_id))
        ]
    assert sorted(counts) == [3] * 5


def test_2afc_and_rating_exports(database_url, tmp_path, images) -> None:
    import json

    service = _study(
        database_url, tmp_path, images, pairs=4, question="2afc", answers_per_pair=3, min_response_ms=0
    )
    for name in ("ann", "bob", "cat"):
        person = _participant(service, name)
        while (view := service.next_assignment(person)) is not None:
            # Everyone prefers image a (method-x in conftest's pairs), whichever side it is on.
            service.submit_answer(person, view.id, "left" if view.left == "a" else "right")
    export_study(database_url, tmp_path / "out", resamples=200)
    document = json.loads((tmp_path / "out" / "aggregates.json").read_text())
    assert all(pair["proportion_a"] == 1.0 and pair["n"] == 3 for pair in document["pairs"])
    scale = {row["item"]: row for row in document["scale"]}
    assert scale["method-x"]["scale"] > scale["method-y"]["scale"]
    assert scale["method-x"]["comparisons"] == 12
    assert (tmp_path / "out" / "scale.csv").read_text().startswith("item,scale,ci_low,ci_high,comparisons")


def test_rating_aggregates(database_url, tmp_path, images) -> None:
    import json

    service = _study(database_url, tmp_path, images, pairs=2, question="rating", answers_per_pair=2)
    for name, rating in (("ann", "4"), ("bob", "2")):
        person = _participant(service, name)
        while (view := service.next_assignment(person)) is not None:
            service.submit_answer(person, view.id, rating)
    export_study(database_url, tmp_path / "out")
    pairs = json.loads((tmp_path / "out" / "aggregates.json").read_text())["pairs"]
    assert [(p["n"], p["mean"]) for p in pairs] == [(2, 3.0), (2, 3.0)]
    assert pairs[0]["ci_low"] < 3.0 < pairs[0]["ci_high"]
