"""user names unique regardless of case

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 09:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from synthdiff.errors import InvalidArgumentError

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database made before this revision may hold names that differ only in case. The constraint
    # cannot hold over them, and renaming someone here would hide who answered what: say so instead.
    bind = op.get_bind()
    clashes = bind.execute(
        sa.text(
            "SELECT lower(username) AS name, count(*) AS n FROM participant "
            "GROUP BY lower(username) HAVING count(*) > 1 ORDER BY lower(username)"
        )
    ).all()
    if clashes:
        names = ", ".join(f"{row.name!r} ({row.n} spellings)" for row in clashes)
        raise InvalidArgumentError(
            f"Expected user names that differ in more than case, but this study database holds {names}. "
            "Fix: rename all but one spelling of each "
            "(UPDATE participant SET username = ... WHERE id = ...), then start synthdiff again."
        )
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.add_column(sa.Column("username_key", sa.String(length=64), nullable=True))
    bind.execute(sa.text("UPDATE participant SET username_key = lower(username)"))
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.alter_column("username_key", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint("uq_participant_username_key", ["username_key"])


def downgrade() -> None:
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.drop_constraint("uq_participant_username_key", type_="unique")
        batch_op.drop_column("username_key")
