"""Exports: every answer in long format, and per-pair aggregates (CSV and JSON)."""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from synthdiff.errors import InvalidArgumentError
from synthdiff.io import atomic_write_text, json_text
from synthdiff.study._aggregate import bradley_terry, mean_interval, wilson_interval
from synthdiff.study._db import Database
from synthdiff.study._models import Answer, Pair, Participant, Study
from synthdiff.study._service import StudyService

__all__ = [
    "ANSWER_COLUMNS",
    "EXPORT_SCHEMA_VERSION",
    "ExportResult",
    "aggregate_answers",
    "answer_rows",
    "export_study",
]

EXPORT_SCHEMA_VERSION = "1.0"
ANSWER_COLUMNS = [
    "participant",
    "pair_id",
    "question",
    "shown_left",
    "shown_right",
    "answer",
    "response_ms",
    "is_trap",
    "trap_correct",
    "points",
    "answered_at",
    "participant_reliability",
    "participant_flagged",
    "participant_excluded",
]


def answer_rows(database: Database, include_flagged: bool = False) -> list[dict[str, Any]]:
    """Every answer, one row each (long format), oldest first.

    Args:
        include_flagged: keep participants flagged as unreliable or excluded by the admin.
    """
    people = {s.id: s for s in StudyService(database).participant_stats()}
    with database.read() as session:
        study = session.scalar(select(Study))
        assert study is not None
        records = session.execute(
            select(Answer, Pair.key, Participant.username)
            .join(Pair, Pair.id == Answer.pair_id)
            .join(Participant, Participant.id == Answer.participant_id)
            .order_by(Answer.created_at, Answer.id)
        ).all()
    rows = []
    for answer, key, username in records:
        person = people.get(answer.participant_id)
        flagged = bool(person and person.flagged)
        excluded = bool(person and person.excluded)
        if (flagged or excluded) and not include_flagged:
            continue
        rows.append(
            {
                "participant": username,
                "pair_id": key,
                "question": study.question,
                "shown_left": answer.shown_order[0],
                "shown_right": answer.shown_order[1],
                "answer": answer.answer,
                "response_ms": answer.response_ms,
                "is_trap": answer.is_trap,
                "trap_correct": answer.trap_correct,
                "points": answer.points,
                "answered_at": answer.created_at.isoformat(timespec="milliseconds") + "Z",
                "participant_reliability": None if person is None else person.reliability,
                "participant_flagged": flagged,
                "participant_excluded": excluded,
            }
        )
    return rows


def aggregate_answers(
    database: Database, rows: list[dict[str, Any]], resamples: int = 1000, seed: int = 0
) -> dict[str, Any]:
    """Per-pair aggregates of non-trap answers, by question type (see docs/study.md)."""
    with database.read() as session:
        study = session.scalar(select(Study))
        assert study is not None
        pairs = session.scalars(select(Pair).where(Pair.trap_answer.is_(None)).order_by(Pair.id)).all()
    by_pair: dict[str, list[str]] = {pair.key: [] for pair in pairs}
    for row in rows:
        if not row["is_trap"] and row["pair_id"] in by_pair:
            by_pair[row["pair_id"]].append(row["answer"])
    per_pair = []
    for pair in pairs:
        answers = by_pair[pair.key]
        entry: dict[str, Any] = {"pair_id": pair.key, "n": len(answers)}
        if study.question in ("yesno", "2afc"):
            positive = "yes" if study.question == "yesno" else "a"
            hits = sum(1 for a in answers if a == positive)
            interval = wilson_interval(hits, len(answers))
            entry.update(
                {
                    f"count_{positive}": hits,
                    f"proportion_{positive}": hits / len(answers) if answers else None,
                    "ci_low": None if interval is None else interval[0],
                    "ci_high": None if interval is None else interval[1],
                }
            )
        else:
            values = [int(a) for a in answers]
            interval = mean_interval(values)
            entry.update(
                {
                    "mean": float(np.mean(values)) if values else None,
                    "sd": float(np.std(values, ddof=1)) if len(values) > 1 else None,
                    "ci_low": None if interval is None else interval[0],
                    "ci_high": None if interval is None else interval[1],
                }
            )
        per_pair.append(entry)
    result: dict[str, Any] = {"question": study.question, "level": 0.95, "pairs": per_pair}
    if study.question == "2afc":
        result["scale"] = _scale(pairs, rows, resamples, seed)
    return result


def _scale(pairs: Any, rows: list[dict[str, Any]], resamples: int, seed: int) -> list[dict[str, Any]]:
    """Bradley-Terry scale of the compared items (conditions, or images when no condition is given)."""
    item_of = {
        pair.key: (pair.condition_a or pair.image_a, pair.condition_b or pair.image_b) for pair in pairs
    }
    names = sorted({name for pair_items in item_of.values() for name in pair_items})
    index = {name: i for i, name in enumerate(names)}
    winners, losers = [], []
    for row in rows:
        if row["is_trap"] or row["pair_id"] not in item_of:
            continue
        a, b = item_of[row["pair_id"]]
        if a == b:
            continue
        won, lost = (a, b) if row["answer"] == "a" else (b, a)
        winners.append(index[won])
        losers.append(index[lost])
    if not names:
        return []
    w, lo = np.array(winners, np.int64), np.array(losers, np.int64)
    values = bradley_terry(w, lo, len(names))
    comparisons = (
        np.bincount(np.concatenate([w, lo]), minlength=len(names)) if w.size else np.zeros(len(names))
    )
    # One fit per resample for all items (percentile bootstrap over the comparisons).
    rng = np.random.default_rng(seed)
    draws = np.array(
        [
            bradley_terry(w[idx], lo[idx], len(names), iterations=200)
            for idx in rng.integers(0, w.size, (resamples if w.size else 0, w.size))
        ]
    ).reshape(-1, len(names))
    scale = []
    for i, name in enumerate(names):
        low, high = np.quantile(draws[:, i], [0.025, 0.975]) if len(draws) else (None, None)
        scale.append(
            {
                "item": name,
                "scale": float(values[i]),
                "ci_low": None if low is None else float(low),
                "ci_high": None if high is None else float(high),
                "comparisons": int(comparisons[i]),
            }
        )
    return scale


@dataclass(frozen=True)
class ExportResult:
    answers: int
    pairs: int
    files: list[Path] = field(default_factory=list)


def to_csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row[k] for k in columns})
    return buffer.getvalue()


def export_documents(
    database: Database, include_flagged: bool = False, resamples: int = 1000
) -> dict[str, str]:
    """The export files by name: answers.csv/json, aggregates.csv/json (and scale.csv for 2AFC)."""
    return _build_documents(database, include_flagged, resamples)[0]


def _build_documents(
    database: Database, include_flagged: bool, resamples: int
) -> tuple[dict[str, str], int, int]:
    """The export files by name, the number of answers and the number of pairs in them."""
    rows = answer_rows(database, include_flagged)
    aggregates = aggregate_answers(database, rows, resamples=resamples)
    header = {"schema_version": EXPORT_SCHEMA_VERSION, "include_flagged": include_flagged}
    documents = {
        "answers.csv": to_csv(rows, ANSWER_COLUMNS),
        "answers.json": json_text({**header, "answers": rows}, indent=1),
        "aggregates.json": json_text({**header, **aggregates}, indent=1),
    }
    pair_columns = list(aggregates["pairs"][0]) if aggregates["pairs"] else ["pair_id", "n"]
    documents["aggregates.csv"] = to_csv(aggregates["pairs"], pair_columns)
    if "scale" in aggregates:
        documents["scale.csv"] = to_csv(
            aggregates["scale"], ["item", "scale", "ci_low", "ci_high", "comparisons"]
        )
    return documents, len(rows), len(aggregates["pairs"])


def export_study(
    database_url: str, out_dir: str | os.PathLike[str], include_flagged: bool = False, resamples: int = 1000
) -> ExportResult:
    """Write the study's exports into ``out_dir`` (created if needed); files are replaced atomically.

    Raises:
        InvalidArgumentError: ``resamples`` under 2 (the scale's intervals span them); no study in the
            database.
        OutputError: the database cannot be opened.
    """
    if resamples < 2:
        raise InvalidArgumentError(
            f"Expected --resamples of at least 2 (the 2AFC scale's intervals span them), got {resamples}."
        )
    database = Database(database_url)
    try:
        database.require_schema()
        documents, answers, pairs = _build_documents(database, include_flagged, resamples)
    finally:
        database.dispose()
    files = [atomic_write_text(Path(out_dir) / name, text) for name, text in documents.items()]
    return ExportResult(answers=answers, pairs=pairs, files=files)
