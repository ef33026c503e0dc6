"""Reading and checking a study's pairs file (CSV)."""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path

from synthdiff.errors import InvalidArgumentError
from synthdiff.io import IMAGE_SUFFIXES, csv_delimiter
from synthdiff.io._tables import read_utf8_text

__all__ = ["QUESTIONS", "PairRow", "read_pairs", "trap_is_correct", "valid_answers"]

QUESTIONS = {
    "yesno": "Is there a semantic change between these two images?",
    "2afc": "Which of the two images is closer to the reference?",
    "rating": "How similar are these two images? (1: completely different, 5: identical)",
}
_MAX_ERRORS = 10


@dataclass(frozen=True)
class PairRow:
    """One pair as stored: image paths relative to the images root."""

    key: str
    image_a: str
    image_b: str
    reference: str | None = None
    condition_a: str | None = None
    condition_b: str | None = None
    trap_answer: str | None = None


def valid_answers(question: str) -> tuple[str, ...]:
    """The answers stored for a question type (2AFC stores the image chosen, ``a`` or ``b``)."""
    if question == "yesno":
        return ("yes", "no")
    if question == "2afc":
        return ("a", "b")
    if question == "rating":
        return ("1", "2", "3", "4", "5")
    raise InvalidArgumentError(f"Expected a question type among {', '.join(QUESTIONS)}, got {question!r}.")


#: The image files a web browser shows as they are, which the study app can serve to participants, and
#: the content type each is served with: Python's own table lacks WebP, and a machine without
#: /etc/mime.types would serve such images as application/octet-stream.
IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".bmp": "image/bmp",
    ".gif": "image/gif",
}
BROWSER_SUFFIXES = tuple(IMAGE_TYPES)


def _relative_image(value: str, root: Path) -> str:
    """The path of an image under ``root`` (as stored), or a ValueError saying what is wrong."""
    path = Path(value)
    resolved = (path if path.is_absolute() else root / path).resolve()
    if not resolved.is_relative_to(root):
        raise ValueError(f"{value!r} is outside the images root")
    if not resolved.is_file():
        raise ValueError(f"{value!r} does not exist under the images root")
    suffix = resolved.suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        raise ValueError(f"{value!r} is not an image ({', '.join(IMAGE_SUFFIXES)})")
    if suffix not in BROWSER_SUFFIXES:
        # The app serves the files as they are; a browser would show a broken image to participants.
        raise ValueError(
            f"{value!r} is a {suffix} file, which web browsers cannot show ({', '.join(BROWSER_SUFFIXES)} "
            "can be shown); convert it to PNG first, and tone-map both images of an HDR pair alike "
            "(synthdiff.io.hdr_pair_to_display, then save_png)"
        )
    return resolved.relative_to(root).as_posix()


def read_pairs(
    path: str | os.PathLike[str], question: str, images_root: str | os.PathLike[str]
) -> list[PairRow]:
    """Read and check a pairs CSV.

    Columns: ``pair_id``, ``image_a``, ``image_b`` (required); ``reference`` (required for ``2afc``,
    optional otherwise, shown above the two images); ``condition_a`` / ``condition_b`` (optional: the
    method or setting behind each image, the items of the 2AFC scale); ``trap_answer`` (optional:
    marks a trap pair and gives its correct answer: ``yes``/``no``, ``a``/``b``, or a rating ``4`` or
    range ``4-5``). Image paths are relative to ``images_root`` (absolute ones must lie inside it).

    Raises:
        InvalidArgumentError: the file is missing or malformed, naming up to ten bad lines.
    """
    answers = valid_answers(question)
    root = Path(images_root).resolve()
    if not root.is_dir():
        raise InvalidArgumentError(f"Expected --images-root to be a folder, got {str(images_root)!r}.")
    source = Path(path)
    if not source.is_file():
        raise InvalidArgumentError(f"Expected a pairs CSV file, but {str(path)!r} does not exist.")
    last_line = 0
    text = read_utf8_text(source, "pairs CSV")  # often a spreadsheet's CSV in Latin-1 or UTF-16
    try:
        with io.StringIO(text, newline="") as handle:
            delimiter = csv_delimiter(handle.readline())
            handle.seek(0)
            reader = csv.DictReader(handle, delimiter=delimiter, strict=True)
            columns = [c.strip() for c in reader.fieldnames or []]
            required = ["pair_id", "image_a", "image_b"] + (["reference"] if question == "2afc" else [])
            missing = [c for c in required if c not in columns]
            if missing:
                raise InvalidArgumentError(
                    f"Expected the pairs file to have the columns {', '.join(required)}, but "
                    f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing (found: "
                    f"{', '.join(columns) or 'nothing'})."
                    + (
                        " A 2afc study asks which of the two images is closer to a reference. Fix: add a "
                        "reference column, or pass --question yesno or rating."
                        if missing == ["reference"]
                        else ""
                    )
                )
            raw_rows = []
            last_line = reader.line_num
            for row in reader:
                raw_rows.append(
                    (
                        {k.strip(): (v or "").strip() for k, v in row.items() if k},
                        reader.line_num,
                        row.get(None),
                    )
                )
                last_line = reader.line_num
    except csv.Error as error:
        # The record that failed starts on the line after the last one read.
        unclosed = " (a quote opened there is not closed)" if "end of data" in str(error) else ""
        raise InvalidArgumentError(
            f"Expected a well-formed CSV in {str(path)!r}: {error} in the record starting on line "
            f"{last_line + 1}{unclosed}. Fix: quote whole fields, and close each quote."
        ) from None

    rows: list[PairRow] = []
    errors: list[str] = []
    seen: set[str] = set()
    for row, line, extra in raw_rows:
        try:
            if extra:
                raise ValueError(
                    f"{len(row) + len(extra)} fields, but the header names {len(row)} (quote paths that "
                    "hold the delimiter)"
                )
            key = row.get("pair_id", "")
            if not key:
                raise ValueError("pair_id is empty")
            if len(key) > 200:
                raise ValueError("pair_id is longer than 200 characters")
            if key in seen:
                raise ValueError(f"pair_id {key!r} appears twice")
            seen.add(key)
            images = {}
            for column in ("image_a", "image_b", "reference"):
                value = row.get(column, "")
                if value:
                    images[column] = _relative_image(value, root)
                elif column != "reference" or question == "2afc":
                    raise ValueError(f"{column} is empty")
            trap = row.get("trap_answer") or None
            if trap is not None:
                trap = trap.lower()
                allowed = answers if question != "rating" else _rating_traps()
                if trap not in allowed:
                    raise ValueError(f"trap_answer {trap!r} is not one of {', '.join(allowed)}")
            rows.append(
                PairRow(
                    key=key,
                    image_a=images["image_a"],
                    image_b=images["image_b"],
                    reference=images.get("reference"),
                    condition_a=row.get("condition_a") or None,
                    condition_b=row.get("condition_b") or None,
                    trap_answer=trap,
                )
            )
        except ValueError as error:
            errors.append(f"line {line}: {error}")
    if errors:
        more = f" (and {len(errors) - _MAX_ERRORS} more)" if len(errors) > _MAX_ERRORS else ""
        raise InvalidArgumentError(
            f"Expected every row of {str(path)!r} to describe a valid pair, but: "
            + "; ".join(errors[:_MAX_ERRORS])
            + more
            + ". Fix these rows and run again."
        )
    if not any(row.trap_answer is None for row in rows):
        raise InvalidArgumentError(
            f"Expected at least one pair without a trap_answer in {str(path)!r}, found "
            f"{len(rows)} rows, all traps or none. Fix: add the pairs to be judged."
        )
    return rows


def _rating_traps() -> tuple[str, ...]:
    values = [str(v) for v in range(1, 6)]
    return (*values, *(f"{lo}-{hi}" for lo in range(1, 6) for hi in range(lo + 1, 6)))


def trap_is_correct(question: str, trap_answer: str, answer: str) -> bool:
    """Whether ``answer`` matches a trap's expected answer (a rating trap may be a range ``4-5``)."""
    if question == "rating" and "-" in trap_answer:
        low, high = (int(v) for v in trap_answer.split("-"))
        return low <= int(answer) <= high
    return answer == trap_answer
