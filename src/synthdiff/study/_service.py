"""What the study server does, independent of HTTP: accounts, sessions, choosing and reserving
pairs, recording answers, reliability, points. The web app is a thin shell over :class:`StudyService`.
"""

from __future__ import annotations

import random
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from synthdiff.errors import SynthdiffError
from synthdiff.study._db import Database
from synthdiff.study._models import (
    Answer,
    Assignment,
    Invitation,
    LoginFailure,
    Pair,
    Participant,
    Study,
    WebSession,
    username_key,
    utcnow,
)
from synthdiff.study._pairs import trap_is_correct, valid_answers
from synthdiff.study._security import (
    check_password_rules,
    check_username_rules,
    dummy_verify,
    hash_password,
    hash_token,
    new_token,
    verify_password,
)

__all__ = [
    "AlreadyAnsweredError",
    "AssignmentView",
    "ParticipantStats",
    "ReservationExpiredError",
    "StudyRequestError",
    "StudyService",
]

SESSION_DAYS = 7
LOGIN_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USERNAME = 5
MAX_FAILURES_PER_ADDRESS = 30


class StudyRequestError(SynthdiffError, ValueError):
    """A request the study cannot honour; ``status`` is the HTTP status the web app answers with."""

    status = 400


class NotLoggedInError(StudyRequestError):
    status = 401


class ForbiddenError(StudyRequestError):
    status = 403


class UnknownError(StudyRequestError):
    status = 404


class AlreadyAnsweredError(StudyRequestError):
    status = 409


class ReservationExpiredError(StudyRequestError):
    status = 409


class TooManyAttemptsError(StudyRequestError):
    status = 429


@dataclass(frozen=True)
class AssignmentView:
    """A reserved pair as the answer page shows it: images by position, not by name."""

    id: int
    question: str
    prompt: str
    has_reference: bool
    expires_at: datetime
    left: str  # "a" or "b"
    right: str


@dataclass(frozen=True)
class ParticipantStats:
    id: int
    username: str
    answers: int
    traps: int
    traps_correct: int
    reliability: float | None
    flagged: bool
    excluded: bool
    points: int
    median_response_ms: float | None


def _study(session: Session) -> Study:
    study = session.scalar(select(Study))
    if study is None:
        raise UnknownError("Expected a study in this database. Fix: run `synthdiff study init` first.")
    return study


def _name_taken(username: str, taken: str | None) -> AlreadyAnsweredError:
    spelled = "" if taken in (None, username) else f" (as {taken!r})"
    return AlreadyAnsweredError(f"The user name {username!r} is taken{spelled}. Fix: choose another.")


def _completion(session: Session, answers_per_pair: int) -> float:
    """Share of the wanted non-trap answers given, each pair counting up to ``answers_per_pair``."""
    k = answers_per_pair
    filled, pairs = session.execute(
        select(
            func.coalesce(func.sum(case((Pair.answers > k, k), else_=Pair.answers)), 0), func.count()
        ).where(Pair.trap_answer.is_(None))
    ).one()
    return float(filled) / (pairs * k) if pairs else 1.0


class StudyService:
    """The study's rules, enforced on the server.

    Args:
        database: the study database (already migrated and initialised).
        rng: chooses pairs, left/right order and traps; seeded from the study unless given.
    """

    def __init__(self, database: Database, rng: random.Random | None = None) -> None:
        self.db = database
        with self.db.read() as session:
            study = _study(session)
            self.study_id = study.id
            self.secret_key = study.secret_key
            self._rng = rng or random.Random(study.seed)
        self._completion: tuple[float, float] | None = None

    def study(self) -> Study:
        with self.db.read() as session:
            return _study(session)

    # ----------------------------------------------------------------------------------------- accounts

    def signup(self, username: str, password: str, invitation: str | None = None) -> str:
        """Create a participant and return a new session token."""
        check_username_rules(username)
        check_password_rules(password)
        password_hash = hash_password(password)  # slow on purpose: outside the write transaction
        with self.db.write() as session:
            study = _study(session)
            code = (invitation or "").strip() or None
            if study.invitation_required:
                found = session.get(Invitation, code) if code else None
                if found is None or found.used_by is not None:
                    raise ForbiddenError(
                        "Expected a valid, unused invitation code: this study is by invitation only."
                    )
            # Names differing only in case would read as one person (an "ADMIN" beside the admin).
            taken = session.scalar(
                select(Participant.username).where(Participant.username_key == username_key(username))
            )
            if taken is not None:
                raise _name_taken(username, taken)
            participant = Participant(
                username=username,
                password_hash=password_hash,
                is_admin=False,
                excluded=False,
                invitation_code=code if study.invitation_required else None,
                created_at=utcnow(),
            )
            session.add(participant)
            try:
                session.flush()
            except IntegrityError:  # the same name signed up in another transaction since the check
                raise _name_taken(username, None) from None
            if study.invitation_required and code:
                session.execute(
                    update(Invitation)
                    .where(Invitation.code == code)
                    .values(used_by=participant.id, used_at=utcnow())
                )
            return self._new_session(session, participant.id)

    def login(self, username: str, password: str, address: str) -> str:
        """Check a password and return a new session token; repeated failures are refused for a while."""
        now = utcnow()
        # Names are one person whatever their case (see signup): "Ann" logs in as "ann" too, and failed
        # attempts count against the name in every case.
        key = username_key(username)[:64]
        with self.db.read() as session:
            since = now - LOGIN_WINDOW
            by_name = session.scalar(
                select(func.count()).where(LoginFailure.username == key, LoginFailure.at > since)
            )
            by_address = session.scalar(
                select(func.count()).where(LoginFailure.ip == address[:64], LoginFailure.at > since)
            )
            participant = session.scalar(select(Participant).where(Participant.username_key == key))
        if (by_name or 0) >= MAX_FAILURES_PER_USERNAME or (by_address or 0) >= MAX_FAILURES_PER_ADDRESS:
            raise TooManyAttemptsError("Too many failed logins. Fix: wait 15 minutes and try again.")
        if participant is None:
            dummy_verify(password)
            ok = False
        else:
            ok = verify_password(participant.password_hash, password)
        with self.db.write() as session:
            # failures older than the window no longer count: drop them, so the table stays small
            session.execute(delete(LoginFailure).where(LoginFailure.at <= now - LOGIN_WINDOW))
            if not ok or participant is None:
                session.add(LoginFailure(username=key, ip=address[:64], at=now))
                failed = True
            else:
                failed = False
                token = self._new_session(session, participant.id)
        if failed:
            raise NotLoggedInError("Unknown user name or wrong password.")
        return token

    def _new_session(self, session: Session, participant_id: int) -> str:
        token = new_token()
        now = utcnow()
        # the participant's expired sessions are of no use: drop them as a new one starts
        expired = (WebSession.participant_id == participant_id) & (WebSession.expires_at <= now)
        session.execute(delete(WebSession).where(expired))
        session.add(
            WebSession(
                token_hash=hash_token(token),
                participant_id=participant_id,
                created_at=now,
                expires_at=now + timedelta(days=SESSION_DAYS),
            )
        )
        return token

    def session_participant(self, token: str | None) -> Participant | None:
        """The participant a session cookie belongs to, or None (unknown or expired)."""
        if not token:
            return None
        with self.db.read() as session:
            return session.scalar(
                select(Participant)
                .join(WebSession, WebSession.participant_id == Participant.id)
                .where(WebSession.token_hash == hash_token(token), WebSession.expires_at > utcnow())
            )

    def logout(self, token: str) -> None:
        with self.db.write() as session:
            session.execute(delete(WebSession).where(WebSession.token_hash == hash_token(token)))

    def add_invitations(self, count: int) -> list[str]:
        codes = [secrets.token_urlsafe(9) for _ in range(count)]
        with self.db.write() as session:
            session.add_all(Invitation(code=code, created_at=utcnow()) for code in codes)
            if codes:
                session.execute(update(Study).values(invitation_required=True))
        return codes

    # -------------------------------------------------------------------------------------- answering

    def next_assignment(self, participant: Participant) -> AssignmentView | None:
        """The pair this participant should answer now (reserved for them), or None when done.

        An open reservation is returned again (a reload does not use up pairs). Otherwise a trap pair
        comes with probability ``trap_rate``, else a random pair with fewer than ``answers_per_pair``
        answers and live reservations that this participant has not been shown.
        """
        if participant.is_admin:
            raise ForbiddenError("The admin account does not answer pairs. Fix: sign up as a participant.")
        now = utcnow()
        with self.db.write() as session:
            # Locks the study row on PostgreSQL (SQLite's BEGIN IMMEDIATE already serialises writers).
            study = session.scalar(select(Study).with_for_update())
            if study is None:
                raise UnknownError("Expected a study in this database.")
            if session.scalar(select(Participant.excluded).where(Participant.id == participant.id)):
                raise ForbiddenError("Your account was excluded from this study by its administrator.")
            open_one = session.scalar(
                select(Assignment).where(
                    Assignment.participant_id == participant.id,
                    Assignment.answered.is_(False),
                    Assignment.expires_at > now,
                )
            )
            if open_one is not None:
                return self._view(study, open_one, session)
            if study.max_answers_per_participant is not None:
                answered = session.scalar(
                    select(func.count()).where(
                        Answer.participant_id == participant.id, Answer.is_trap.is_(False)
                    )
                )
                if (answered or 0) >= study.max_answers_per_participant:
                    return None
            seen = select(Assignment.pair_id).where(Assignment.participant_id == participant.id)
            reserved = (
                select(Assignment.pair_id, func.count().label("n"))
                .where(Assignment.answered.is_(False), Assignment.expires_at > now)
                .group_by(Assignment.pair_id)
                .subquery()
            )
            regular = list(
                session.scalars(
                    select(Pair.id)
                    .outerjoin(reserved, reserved.c.pair_id == Pair.id)
                    .where(
                        Pair.trap_answer.is_(None),
                        Pair.answers + func.coalesce(reserved.c.n, 0) < study.answers_per_pair,
                        Pair.id.not_in(seen),
                    )
                    .order_by(Pair.id)
                )
            )
            if not regular:
                return None
            pair_id = None
            if self._rng.random() < study.trap_rate:
                traps = list(
                    session.scalars(
                        select(Pair.id)
                        .where(Pair.trap_answer.is_not(None), Pair.id.not_in(seen))
                        .order_by(Pair.id)
                    )
                )
                if traps:
                    pair_id = self._rng.choice(traps)
            if pair_id is None:
                pair_id = self._rng.choice(regular)
            assignment = Assignment(
                participant_id=participant.id,
                pair_id=pair_id,
                shown_order=self._rng.choice(("ab", "ba")),
                issued_at=now,
                expires_at=now + timedelta(seconds=study.reservation_seconds),
                answered=False,
            )
            session.add(assignment)
            session.flush()
            return self._view(study, assignment, session)

    def _view(self, study: Study, assignment: Assignment, session: Session) -> AssignmentView:
        pair = session.get(Pair, assignment.pair_id)
        has_reference = pair is not None and pair.reference is not None
        return AssignmentView(
            id=assignment.id,
            question=study.question,
            prompt=study.prompt,
            has_reference=has_reference,
            expires_at=assignment.expires_at,
            left=assignment.shown_order[0],
            right=assignment.shown_order[1],
        )

    def image_path(self, participant: Participant, assignment_id: int, slot: str) -> str:
        """The stored path (relative to the images root) of one image of the participant's own pair."""
        with self.db.read() as session:
            assignment = session.get(Assignment, assignment_id)
            if assignment is None or assignment.participant_id != participant.id:
                raise UnknownError(f"No pair {assignment_id} was shown to you.")
            pair = session.get(Pair, assignment.pair_id)
            assert pair is not None
            if slot == "reference" and pair.reference is not None:
                return pair.reference
            if slot in ("left", "right"):
                name = assignment.shown_order[0 if slot == "left" else 1]
                return pair.image_a if name == "a" else pair.image_b
        raise UnknownError(f"Expected an image slot left, right or reference, got {slot!r}.")

    def submit_answer(self, participant: Participant, assignment_id: int, choice: str) -> Answer:
        """Record one answer in one transaction.

        ``choice``: ``yes``/``no``, ``left``/``right`` (2AFC; stored as the image chosen, ``a``/``b``)
        or ``1``-``5``. The response time is measured here, from when the pair was handed out.

        Raises:
            UnknownError: the assignment does not exist or belongs to someone else.
            AlreadyAnsweredError: it was answered already (a double submission).
            ReservationExpiredError: the reservation ran out; the pair may have gone to someone else.
            StudyRequestError: the answer is not one the question allows.
        """
        now = utcnow()
        with self.db.write() as session:
            study = _study(session)
            assignment = session.get(Assignment, assignment_id)
            if assignment is None or assignment.participant_id != participant.id:
                raise UnknownError(f"No pair {assignment_id} was shown to you.")
            if assignment.answered:
                raise AlreadyAnsweredError("This pair was answered already; your first answer counts.")
            if assignment.expires_at < now:
                raise ReservationExpiredError(
                    f"This pair was reserved for you for {study.reservation_seconds // 60} minutes and the "
                    "time ran out, so the answer was not recorded. Here is a new pair."
                )
            if study.question == "2afc":
                if choice not in ("left", "right"):
                    raise StudyRequestError(f"Expected the answer left or right, got {choice!r}.")
                answer = assignment.shown_order[0 if choice == "left" else 1]
            else:
                answer = choice
                if answer not in valid_answers(study.question):
                    raise StudyRequestError(
                        f"Expected one of {', '.join(valid_answers(study.question))}, got {choice!r}."
                    )
            pair = session.get(Pair, assignment.pair_id)
            assert pair is not None
            response_ms = int((now - assignment.issued_at).total_seconds() * 1000)
            is_trap = pair.trap_answer is not None
            correct = trap_is_correct(study.question, pair.trap_answer, answer) if pair.trap_answer else None
            points = (2 if correct else 0) if is_trap else 1 if response_ms >= study.min_response_ms else 0
            # Guarded update: a concurrent duplicate of this request finds answered already set.
            claimed = session.execute(
                update(Assignment)
                .where(and_(Assignment.id == assignment.id, Assignment.answered.is_(False)))
                .values(answered=True)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                raise AlreadyAnsweredError("This pair was answered already; your first answer counts.")
            row = Answer(
                assignment_id=assignment.id,
                participant_id=participant.id,
                pair_id=pair.id,
                answer=answer,
                shown_order=assignment.shown_order,
                response_ms=response_ms,
                is_trap=is_trap,
                trap_correct=correct,
                points=points,
                created_at=now,
            )
            session.add(row)
            session.execute(update(Pair).where(Pair.id == pair.id).values(answers=Pair.answers + 1))
            try:
                session.flush()
            except IntegrityError:
                raise AlreadyAnsweredError(
                    "This pair was answered already; your first answer counts."
                ) from None
            return row

    # ------------------------------------------------------------------------------------ monitoring

    def participant_stats(self) -> list[ParticipantStats]:
        """Per participant: answers, trap accuracy, reliability flag, points (admins left out)."""
        with self.db.read() as session:
            study = _study(session)
            rows = session.execute(
                select(
                    Answer.participant_id,
                    Answer.is_trap,
                    Answer.trap_correct,
                    Answer.points,
                    Answer.response_ms,
                )
            ).all()
            people = session.scalars(select(Participant).where(Participant.is_admin.is_(False))).all()
        per: dict[int, list[tuple[bool, bool | None, int, int]]] = {p.id: [] for p in people}
        for participant_id, is_trap, correct, points, response_ms in rows:
            per.setdefault(participant_id, []).append((is_trap, correct, points, response_ms))
        stats = []
        for person in people:
            answers = per.get(person.id, [])
            traps = [a for a in answers if a[0]]
            right = sum(1 for a in traps if a[1])
            reliability = right / len(traps) if traps else None
            flagged = (
                len(traps) >= study.min_traps
                and reliability is not None
                and reliability < study.reliability_threshold
            )
            times = sorted(a[3] for a in answers)
            stats.append(
                ParticipantStats(
                    id=person.id,
                    username=person.username,
                    answers=sum(1 for a in answers if not a[0]),
                    traps=len(traps),
                    traps_correct=right,
                    reliability=reliability,
                    flagged=flagged,
                    excluded=person.excluded,
                    points=sum(a[2] for a in answers),
                    median_response_ms=float(times[len(times) // 2]) if times else None,
                )
            )
        return stats

    def progress(self) -> dict[str, object]:
        """Answers per pair (from the pairs' answer counters) and the study's completion."""
        with self.db.read() as session:
            study = _study(session)
            rows = session.execute(select(Pair.key, Pair.answers, Pair.trap_answer).order_by(Pair.key)).all()
            completion = _completion(session, study.answers_per_pair)
        traps = sum(1 for _, _, trap in rows if trap is not None)
        return {
            "pairs": len(rows) - traps,
            "trap_pairs": traps,
            "answers_per_pair": study.answers_per_pair,
            "answers": sum(n for _, n, _ in rows),
            "completion": completion,
            "per_pair": {key: n for key, n, _ in rows},
        }

    def completion(self) -> float:
        """:func:`_completion`, cached for 2 s, as every answer page shows it."""
        now = time.monotonic()
        if self._completion is not None and now - self._completion[0] < 2.0:
            return self._completion[1]
        with self.db.read() as session:
            value = _completion(session, _study(session).answers_per_pair)
        self._completion = (now, value)
        return value

    def participant_progress(self, participant: Participant) -> tuple[int, int]:
        """(answers given, points) for one participant."""
        with self.db.read() as session:
            answered, points = session.execute(
                select(func.count(Answer.id), func.coalesce(func.sum(Answer.points), 0)).where(
                    Answer.participant_id == participant.id
                )
            ).one()
        return int(answered), int(points)

    def leaderboard(self, limit: int = 20) -> list[tuple[str, int]]:
        """(user name, points), best first; excluded and flagged participants are left off."""
        if not self.study().leaderboard:
            raise UnknownError("This study has no leaderboard.")
        board = [(s.username, s.points) for s in self.participant_stats() if not (s.flagged or s.excluded)]
        board.sort(key=lambda item: (-item[1], item[0]))
        return board[:limit]

    def set_excluded(self, participant_id: int, excluded: bool) -> None:
        with self.db.write() as session:
            person = session.get(Participant, participant_id)
            if person is None or person.is_admin:
                raise UnknownError(f"No participant {participant_id}.")
            person.excluded = excluded
