"""Creating a study: database schema, pairs, settings, the admin account, invitation codes."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from synthdiff.errors import InvalidArgumentError, OutputError
from synthdiff.study._db import DEFAULT_DATABASE_URL, Database
from synthdiff.study._models import Pair, Participant, Study, utcnow
from synthdiff.study._pairs import QUESTIONS, read_pairs
from synthdiff.study._security import hash_password
from synthdiff.study._service import StudyService

__all__ = ["ADMIN_USERNAME", "StudyCreated", "StudySettings", "create_study"]

ADMIN_USERNAME = "admin"


@dataclass(frozen=True)
class StudySettings:
    """How a study runs. Every rule is enforced by the server.

    Attributes:
        answers_per_pair: K, answers wanted per (non-trap) pair; pairs with K answers or live
            reservations are no longer handed out.
        trap_rate: chance that the next pair is a trap pair (while the participant has unseen traps).
        reservation_minutes: how long a handed-out pair stays reserved for its participant.
        leaderboard: show points and a leaderboard.
        reliability_threshold: trap accuracy below which a participant is flagged ...
        min_traps: ... once they have answered at least this many traps.
        min_response_ms: answers faster than this earn no points (they are still recorded).
        max_answers_per_participant: a cap per participant (None: no cap).
    """

    answers_per_pair: int = 5
    trap_rate: float = 0.1
    reservation_minutes: float = 5.0
    leaderboard: bool = False
    reliability_threshold: float = 0.7
    min_traps: int = 3
    min_response_ms: int = 500
    max_answers_per_participant: int | None = None

    def check(self) -> None:
        if self.answers_per_pair < 1:
            raise InvalidArgumentError(f"Expected --answers-per-pair >= 1, got {self.answers_per_pair}.")
        if not 0.0 <= self.trap_rate < 1.0:
            raise InvalidArgumentError(f"Expected --trap-rate in [0, 1), got {self.trap_rate}.")
        if not 0.0 < self.reservation_minutes <= 24 * 60:
            raise InvalidArgumentError(
                f"Expected --reservation-minutes between 0 and 1440, got {self.reservation_minutes}."
            )
        if not 0.0 <= self.reliability_threshold <= 1.0:
            raise InvalidArgumentError(
                f"Expected --reliability-threshold in [0, 1], got {self.reliability_threshold}."
            )
        if self.min_traps < 0:
            raise InvalidArgumentError(f"Expected --min-traps >= 0, got {self.min_traps}.")
        if self.min_response_ms < 0:
            raise InvalidArgumentError(f"Expected --min-response-ms >= 0, got {self.min_response_ms}.")
        if self.max_answers_per_participant is not None and self.max_answers_per_participant < 1:
            raise InvalidArgumentError(
                f"Expected --max-answers >= 1 (or none, no cap), got {self.max_answers_per_participant}."
            )


@dataclass(frozen=True)
class StudyCreated:
    """What ``create_study`` made. The admin password is shown once and stored only as a hash."""

    database_url: str
    name: str
    question: str
    pairs: int
    trap_pairs: int
    admin_username: str
    admin_password: str
    invitation_codes: list[str] = field(default_factory=list)


def create_study(
    pairs_csv: str | os.PathLike[str],
    question: str,
    images_root: str | os.PathLike[str],
    *,
    database_url: str = DEFAULT_DATABASE_URL,
    name: str | None = None,
    prompt: str | None = None,
    settings: StudySettings | None = None,
    invitations: int = 0,
    seed: int | None = None,
) -> StudyCreated:
    """Create a study in a new database (or an empty one) from a pairs CSV.

    Args:
        pairs_csv: the pairs file (columns in :func:`synthdiff.study.read_pairs`).
        question: ``yesno``, ``2afc`` or ``rating``.
        images_root: the only folder images are served from.
        database_url: ``sqlite:///file.db`` (default ``synthdiff-study.db`` here) or a PostgreSQL URL.
        invitations: make this many invitation codes; with any, sign-up needs one.
        seed: seeds the choice of pairs, sides and traps (random when None; recorded).

    Raises:
        InvalidArgumentError: a bad pairs file or setting.
        OutputError: the database already holds a study.
    """
    settings = settings or StudySettings()
    settings.check()
    if invitations < 0:
        raise InvalidArgumentError(f"Expected --invitations >= 0, got {invitations}.")
    if question not in QUESTIONS:
        raise InvalidArgumentError(f"Expected --question among {', '.join(QUESTIONS)}, got {question!r}.")
    rows = read_pairs(pairs_csv, question, images_root)
    database = Database(database_url)
    try:
        database.migrate()
        admin_password = secrets.token_urlsafe(12)
        with database.write() as session:
            if session.scalar(select(Study.id)) is not None:
                raise OutputError(
                    f"Expected an empty database, but {database_url!r} already holds a study. "
                    "Fix: use another --database-url (one database per study)."
                )
            study_name = name or Path(pairs_csv).stem
            session.add(
                Study(
                    name=study_name,
                    question=question,
                    prompt=prompt or QUESTIONS[question],
                    images_root=str(Path(images_root).resolve()),
                    answers_per_pair=settings.answers_per_pair,
                    trap_rate=settings.trap_rate,
                    reservation_seconds=round(settings.reservation_minutes * 60),
                    leaderboard=settings.leaderboard,
                    reliability_threshold=settings.reliability_threshold,
                    min_traps=settings.min_traps,
                    min_response_ms=settings.min_response_ms,
                    max_answers_per_participant=settings.max_answers_per_participant,
                    invitation_required=False,
                    secret_key=secrets.token_hex(32),
                    seed=seed if seed is not None else secrets.randbelow(2**31),
                    created_at=utcnow(),
                )
            )
            session.add_all(
                Pair(
                    key=row.key,
                    image_a=row.image_a,
                    image_b=row.image_b,
                    reference=row.reference,
                    condition_a=row.condition_a,
                    condition_b=row.condition_b,
                    trap_answer=row.trap_answer,
                )
                for row in rows
            )
            session.add(
                Participant(
                    username=ADMIN_USERNAME,
                    password_hash=hash_password(admin_password),
                    is_admin=True,
                    excluded=False,
                    created_at=utcnow(),
                )
            )
        codes = StudyService(database).add_invitations(invitations) if invitations else []
    finally:
        database.dispose()
    return StudyCreated(
        database_url=database_url,
        name=study_name,
        question=question,
        pairs=sum(1 for row in rows if row.trap_answer is None),
        trap_pairs=sum(1 for row in rows if row.trap_answer is not None),
        admin_username=ADMIN_USERNAME,
        admin_password=admin_password,
        invitation_codes=codes,
    )
