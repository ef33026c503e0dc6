"""The Alembic migrations build exactly the schema the models describe (no drift)."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from synthdiff.errors import InvalidArgumentError
from synthdiff.study import Database
from synthdiff.study._models import Base


def test_migrations_match_the_models(database_url: str) -> None:
    database = Database(database_url)
    try:
        database.migrate()
        database.migrate()  # a second run is a no-op
        with database.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert differences == []
        assert database.has_schema()
    finally:
        database.dispose()


def _database_at_0001(database_url: str, names: list[str]) -> Database:
    from alembic import command
    from alembic.config import Config

    from synthdiff.study._db import _MIGRATIONS

    database = Database(database_url)
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        for name in names:
            connection.execute(
                text(
                    "INSERT INTO participant (username, password_hash, is_admin, excluded, created_at) "
                    "VALUES (:name, 'x', false, false, CURRENT_TIMESTAMP)"
                ),
                {"name": name},
            )
    return database


def test_an_older_database_gets_its_name_keys(database_url: str) -> None:
    database = _database_at_0001(database_url, ["admin", "Ann", "bob"])
    try:
        database.migrate()
        with database.engine.connect() as connection:
            keys = connection.execute(text("SELECT username, username_key FROM participant")).all()
        assert sorted(keys) == [("Ann", "ann"), ("admin", "admin"), ("bob", "bob")]
    finally:
        database.dispose()


def test_an_older_database_with_names_differing_in_case_is_refused_clearly(database_url: str) -> None:
    database = _database_at_0001(database_url, ["admin", "Ann", "ann", "ANN", "Bob", "bob", "carol"])
    try:
        with pytest.raises(
            InvalidArgumentError,
            match=r"holds 'ann' \(3 spellings\), 'bob' \(2 spellings\)\. Fix: rename all but one",
        ):
            database.migrate()
        with database.engine.connect() as connection:  # nothing changed: still at 0001, all seven there
            assert connection.execute(text("SELECT count(*) FROM participant")).scalar() == 7
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0001"
    finally:
        database.dispose()
