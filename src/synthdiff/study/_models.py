"""The study's tables (SQLAlchemy 2.0 ORM). One database holds one study.

Timestamps are naive UTC datetimes (SQLite keeps no time zone); ``utcnow()`` makes them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "Answer",
    "Assignment",
    "Base",
    "Invitation",
    "LoginFailure",
    "Pair",
    "Participant",
    "Study",
    "WebSession",
    "username_key",
    "utcnow",
]


def utcnow() -> datetime:
    """Now, as the naive UTC datetime every table stores."""
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Study(Base):
    __tablename__ = "study"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    question: Mapped[str] = mapped_column(String(16))
    prompt: Mapped[str] = mapped_column(Text)
    images_root: Mapped[str] = mapped_column(Text)
    answers_per_pair: Mapped[int] = mapped_column(Integer)
    trap_rate: Mapped[float] = mapped_column(Float)
    reservation_seconds: Mapped[int] = mapped_column(Integer)
    leaderboard: Mapped[bool] = mapped_column(Boolean)
    reliability_threshold: Mapped[float] = mapped_column(Float)
    min_traps: Mapped[int] = mapped_column(Integer)
    min_response_ms: Mapped[int] = mapped_column(Integer)
    max_answers_per_participant: Mapped[int | None] = mapped_column(Integer, nullable=True)
    invitation_required: Mapped[bool] = mapped_column(Boolean)
    secret_key: Mapped[str] = mapped_column(String(128))
    seed: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime)


def _username_key(context: DefaultExecutionContext) -> str:
    return username_key(context.get_current_parameters()["username"])


def username_key(username: str) -> str:
    """The form of a user name that must be unique: names may use ASCII letters only, so lower case."""
    return username.lower()


class Participant(Base):
    __tablename__ = "participant"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    # One person, one name whatever its case: "Ann" beside "ann", or "ADMIN" beside the admin, would
    # read as one person. The service checks first for a clear message; the constraint also holds when
    # two sign-ups race. A column rather than an index on lower(username), which SQLite's reflection
    # (and so Alembic's batch migrations there) would not see.
    username_key: Mapped[str] = mapped_column(String(64), unique=True, default=_username_key)
    password_hash: Mapped[str] = mapped_column(String(256))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    excluded: Mapped[bool] = mapped_column(Boolean, default=False)
    invitation_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Invitation(Base):
    __tablename__ = "invitation"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    used_by: Mapped[int | None] = mapped_column(ForeignKey("participant.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class Pair(Base):
    __tablename__ = "pair"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    image_a: Mapped[str] = mapped_column(Text)
    image_b: Mapped[str] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(Text, nullable=True)
    condition_a: Mapped[str | None] = mapped_column(String(200), nullable=True)
    condition_b: Mapped[str | None] = mapped_column(String(200), nullable=True)
    trap_answer: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # Answers so far, kept in step with the answer table in the same transactions (choosing the
    # next pair then needs no scan of every assignment).
    answers: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Assignment(Base):
    """A pair reserved for one participant: shown once, answered at most once."""

    __tablename__ = "assignment"
    __table_args__ = (
        UniqueConstraint("participant_id", "pair_id", name="uq_assignment_participant_pair"),
        Index("ix_assignment_open", "answered", "expires_at", "pair_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"))
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id"))
    shown_order: Mapped[str] = mapped_column(String(2))
    issued_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    answered: Mapped[bool] = mapped_column(Boolean, default=False)


class Answer(Base):
    __tablename__ = "answer"
    __table_args__ = (UniqueConstraint("participant_id", "pair_id", name="uq_answer_participant_pair"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id"), unique=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id"), index=True)
    answer: Mapped[str] = mapped_column(String(16))
    shown_order: Mapped[str] = mapped_column(String(2))
    response_ms: Mapped[int] = mapped_column(Integer)
    is_trap: Mapped[bool] = mapped_column(Boolean)
    trap_correct: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    points: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class WebSession(Base):
    __tablename__ = "web_session"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class LoginFailure(Base):
    __tablename__ = "login_failure"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    ip: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
