"""Engines, transactions and schema migrations for the study database.

SQLite (the default) runs in WAL mode with ``synchronous=FULL``: a committed answer is on disk, so it
survives the server process being killed and the machine losing power. (``NORMAL`` measured no faster
under load here: the server is bound by Python, not by the disk.) Every write is one transaction; on
SQLite writes open with ``BEGIN IMMEDIATE`` (and one lock per process), on PostgreSQL the
pair-choosing transaction locks the study row, so two participants can never both fill a pair's last
slot.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DatabaseError
from sqlalchemy.orm import Session, sessionmaker

from synthdiff.errors import InvalidArgumentError, OutputError

__all__ = ["DEFAULT_DATABASE_URL", "Database", "normalise_url"]

DEFAULT_DATABASE_URL = "sqlite:///synthdiff-study.db"
_MIGRATIONS = Path(__file__).parent / "migrations"
_IMMEDIATE: contextvars.ContextVar[bool] = contextvars.ContextVar("synthdiff_study_immediate", default=False)


def normalise_url(url: str) -> str:
    """The SQLAlchemy URL to use: ``postgresql://`` means the psycopg 3 driver synthdiff installs."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InvalidArgumentError(
            f"Expected --database-url like sqlite:///study.db or postgresql://user@host/db, got {url!r}."
        ) from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise InvalidArgumentError(
            f"Expected a SQLite or PostgreSQL database URL, got {parsed.get_backend_name()!r}."
        )
    return parsed.render_as_string(hide_password=False)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN itself (pysqlite's own handling is lazy).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _IMMEDIATE.get() else "BEGIN")


class Database:
    """One study database: sessions for reading, serialised transactions for writing.

    Args:
        url: a SQLAlchemy URL (``sqlite:///path.db`` or ``postgresql://user:password@host/db``).
    """

    def __init__(self, url: str = DEFAULT_DATABASE_URL) -> None:
        self.url = normalise_url(url)
        #: For messages: the URL with any password masked.
        self.display_url = make_url(self.url).render_as_string(hide_password=True)
        self.is_sqlite = self.url.startswith("sqlite")
        if self.is_sqlite:
            self.engine = create_engine(self.url, connect_args={"check_same_thread": False})
            _configure_sqlite(self.engine)
        else:
            self.engine = create_engine(self.url, pool_size=10, max_overflow=20, pool_pre_ping=True)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time anyway; queueing on a lock beats its busy-wait polling.
        self._write_lock: Any = threading.Lock() if self.is_sqlite else nullcontext()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for queries; nothing it does is committed."""
        # Closing rolls the transaction back; loaded objects stay readable (detached, not expired).
        token = _IMMEDIATE.set(False)
        try:
            with self._sessions() as session:
                yield session
        finally:
            _IMMEDIATE.reset(token)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back entirely on an exception."""
        with self._write_lock:
            token = _IMMEDIATE.set(True)
            try:
                with self._sessions.begin() as session:
                    yield session
            finally:
                _IMMEDIATE.reset(token)

    def migrate(self) -> None:
        """Bring the schema to the newest revision (Alembic; safe to run on every start)."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        try:
            with self.engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except DatabaseError as error:  # OperationalError (cannot open) or another file than a database
            raise self._cannot_open(error) from None

    def _cannot_open(self, error: DatabaseError) -> OutputError:
        reason = " ".join(str(error.orig).split())  # the driver's text, on one line
        stop = "" if reason.endswith((".", "?", "!")) else "."
        return OutputError(
            f"Expected a database synthdiff can open at {self.display_url!r}, but it failed: {reason}{stop} "
            "Fix: check the path or the server, user and password in --database-url."
        )

    def has_schema(self) -> bool:
        """Whether the study tables exist (``synthdiff study init`` has run).

        Raises:
            OutputError: the database is a file that is not a database, or cannot be reached.
        """
        database = make_url(self.url).database or ""
        on_disk = database not in ("", ":memory:") and not database.startswith("file:")
        if self.is_sqlite and on_disk and not Path(database).is_file():
            return False  # connecting would leave an empty database file behind (a mistyped path)
        try:
            return inspect(self.engine).has_table("study")
        except DatabaseError as error:
            # A file that is not a database (an image named by mistake), or a server that cannot be
            # reached (OperationalError): not "no study there", which would send the user to init.
            raise self._cannot_open(error) from None

    def require_schema(self) -> None:
        """Raise a clear error unless ``synthdiff study init`` made this database."""
        if not self.has_schema():
            raise InvalidArgumentError(
                f"Expected a study database at {self.display_url!r}, found none. "
                "Fix: run `synthdiff study init`."
            )

    def dispose(self) -> None:
        self.engine.dispose()
