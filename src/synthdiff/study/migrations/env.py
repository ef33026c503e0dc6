"""Alembic environment: runs on the connection synthdiff passes in ``config.attributes``."""

from alembic import context

from synthdiff.study._models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
