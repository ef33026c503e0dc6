"""The Alembic migrations build exactly the schema the models describe (no drift)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

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
