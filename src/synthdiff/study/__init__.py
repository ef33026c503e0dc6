"""Human-judgment studies on image pairs: a web app that collects yes/no, two-alternative and rating
answers from participants, with trap pairs, reliability scores and exports (docs/study.md).

Needs the ``study`` extra: ``pip install 'synthdiff[study]'``.

Example:
    >>> from synthdiff.study import create_study, export_study  # doctest: +SKIP
    >>> created = create_study("pairs.csv", "yesno", "images/", database_url="sqlite:///study.db")
    >>> export_study("sqlite:///study.db", "exports/")
"""

from __future__ import annotations

from importlib.util import find_spec

from synthdiff.errors import InvalidArgumentError, MissingDependencyError

__all__ = [
    "QUESTIONS",
    "Database",
    "ExportResult",
    "PairRow",
    "StudyCreated",
    "StudyService",
    "StudySettings",
    "add_invitations",
    "bradley_terry",
    "create_app",
    "create_study",
    "export_study",
    "mean_interval",
    "read_pairs",
    "wilson_interval",
]

_REQUIRED = {"fastapi": "fastapi", "sqlalchemy": "sqlalchemy", "alembic": "alembic", "argon2": "argon2-cffi"}
_missing = [package for module, package in _REQUIRED.items() if find_spec(module) is None]
if _missing:
    raise MissingDependencyError(
        f"synthdiff.study needs {', '.join(_missing)}. Fix: pip install 'synthdiff[study]'."
    )

from synthdiff.study._aggregate import bradley_terry, mean_interval, wilson_interval  # noqa: E402
from synthdiff.study._app import create_app  # noqa: E402
from synthdiff.study._db import Database  # noqa: E402
from synthdiff.study._export import ExportResult, export_study  # noqa: E402
from synthdiff.study._pairs import QUESTIONS, PairRow, read_pairs  # noqa: E402
from synthdiff.study._service import StudyService  # noqa: E402
from synthdiff.study._setup import StudyCreated, StudySettings, create_study  # noqa: E402


def add_invitations(database_url: str, count: int) -> list[str]:
    """Make ``count`` new invitation codes (from then on, signing up needs one).

    Raises:
        InvalidArgumentError: ``count`` under 1; no study in that database (a mistyped URL leaves no
            empty file behind).
        OutputError: the database cannot be opened, or is a file that is not a database.
    """
    if count < 1:
        raise InvalidArgumentError(f"Expected --count >= 1 invitation code, got {count}.")
    database = Database(database_url)
    try:
        database.require_schema()
        return StudyService(database).add_invitations(count)
    finally:
        database.dispose()
