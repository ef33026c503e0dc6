"""Comparing many pairs: matched folders or a CSV, parallel workers, resumable, bad pairs skipped."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import multiprocessing
import os
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from synthdiff._journal import file_stamp, folder_lock, prepare_journal, read_journal
from synthdiff._pool import stop_pool
from synthdiff.errors import InvalidArgumentError, SynthdiffError
from synthdiff.io import atomic_write_text, csv_delimiter, json_text, list_images, output_folder
from synthdiff.io._tables import read_utf8_text

__all__ = [
    "BatchResult",
    "PairSpec",
    "feature_sentence",
    "pairs_from_csv",
    "pairs_from_folders",
    "pairs_from_reference",
    "run_batch",
]

#: Version of summary.json (1.1 added the change model's columns and index.html beside it; 1.2 each
#: pair's notes; 1.3 fills ``unmatched``, which was always empty before, and writes an infinite PSNR as
#: "inf" where 1.2 wrote null; 1.4 adds ``colour_shift`` and, for HDR pairs, ``exposure_change_ev``).
BATCH_SCHEMA_VERSION = "1.4"
#: How summary.csv joins a pair's notes in one cell (a note itself may hold ";" or ",").
NOTE_SEPARATOR = " | "
#: Version of batch-settings.json, which decides whether an earlier run's results are reused.
_SETTINGS_VERSION = "1.0"
_SUMMARY_METRICS = (
    "mae",
    "rmse",
    "psnr",
    "psnr_y",
    "ssim",
    "ms_ssim",
    "ciede2000",
    "flip",
    "local_mae",
    "changed_fraction",
)


@dataclass(frozen=True)
class PairSpec:
    """One pair to compare.

    Attributes:
        pair_id: unique name of the pair (the file stem for folders, the ``id`` column for CSVs).
        reference: path of the reference image.
        test: path of the test image.
    """

    pair_id: str
    reference: str
    test: str


@dataclass
class BatchResult:
    """Outcome of a batch run.

    Attributes:
        rows: one dict per pair (``id``, ``status`` ``ok`` or ``error``, metrics or ``error``).
        compared: pairs tried in this run, the ones that failed included (failed pairs are never resumed).
        resumed: pairs taken from an earlier, interrupted run.
        failed: pairs that could not be compared (their rows say why).
        unmatched: files that had no partner (folder mode).
        workers: the worker processes that ran: at most one per CPU core and per pair to compare.
    """

    rows: list[dict[str, Any]]
    compared: int = 0
    resumed: int = 0
    failed: int = 0
    unmatched: list[str] = field(default_factory=list)
    workers: int = 0


def _images(folder: Path, leave_out: Iterable[str | os.PathLike[str]] = ()) -> dict[str, list[Path]]:
    """The images under ``folder`` grouped by relative path without extension; those under
    ``leave_out`` (the other set's folder or the output folder, when they lie inside this one) are
    left out."""
    if not folder.is_dir():
        raise InvalidArgumentError(f"Expected a folder of images, got '{folder}'. Fix: check the path.")
    found: dict[str, list[Path]] = {}
    for path in list_images(folder, leave_out=leave_out):
        found.setdefault(path.relative_to(folder).with_suffix("").as_posix(), []).append(path)
    return found


def _named(key: str, files: list[Path]) -> dict[str, Path]:
    """Pair ids for the files of one name: the name itself, or name + extension when several share it."""
    if len(files) == 1:
        return {key: files[0]}
    return {key + file.suffix: file for file in files}


def _match(key: str, references: list[Path], tests: list[Path]) -> tuple[list[PairSpec], list[str]]:
    """Pairs among the files of one name in each folder, and the files left without a partner."""
    if len(references) == 1:  # one reference: every test file of that name is compared with it
        return [
            PairSpec(pair_id, str(references[0]), str(t)) for pair_id, t in _named(key, tests).items()
        ], []
    # Several references of one name: a test file is paired with the one of the same extension.
    by_suffix = {r.suffix.lower(): r for r in references}
    pairs, used = [], set()
    for test in tests:
        partner = by_suffix.get(test.suffix.lower())
        if partner is None or partner in used:
            continue
        pairs.append(PairSpec(key + test.suffix, str(partner), str(test)))
        used |= {partner, test}
    return pairs, sorted(str(f) for f in (*references, *tests) if f not in used)


def pairs_from_folders(
    reference_dir: str | os.PathLike[str],
    test_dir: str | os.PathLike[str],
    *,
    leave_out: Iterable[str | os.PathLike[str]] = (),
) -> tuple[list[PairSpec], list[str]]:
    """Match images in two folders by relative path without extension (``a/b.png`` with ``a/b.jpg``).

    Names that differ only in case (``Alice.PNG`` and ``alice.png``) match when no other file has that
    name in either folder. When one folder lies inside the other, its images are not read as part of
    the outer one; nor are those under ``leave_out`` (the batch's output folder, whose per-pair reports
    would otherwise be read as images on the next run) or hidden ones (see
    :func:`synthdiff.io.list_images`). Several files of one name in a folder lose nothing: with one
    reference of that name, each test file is compared with it (pair ids ``name.png``, ``name.jpg``);
    with several, files pair up by extension and the rest are listed as without a partner.

    Returns:
        The matched pairs, sorted by id, and the files that have no partner.

    Raises:
        InvalidArgumentError: a path is not a folder, both name one folder, or no file matches.
    """
    if Path(reference_dir).resolve() == Path(test_dir).resolve():
        raise InvalidArgumentError(
            f"Expected a folder of references and another of test images, got {str(reference_dir)!r} twice: "
            "every image would be compared with itself. Fix: pass the test images' folder second."
        )
    # A folder inside the other (tests under the references: renders/ and renders/students/) is not read
    # as part of it: its images would count again, without a partner.
    references = _images(Path(reference_dir), leave_out=[test_dir, *leave_out])
    tests = _images(Path(test_dir), leave_out=[reference_dir, *leave_out])
    # Names that match only when case is ignored, where that is unambiguous on both sides.
    folded_refs: dict[str, list[str]] = {}
    for key in set(references) - set(tests):
        folded_refs.setdefault(key.casefold(), []).append(key)
    folded_tests: dict[str, list[str]] = {}
    for key in set(tests) - set(references):
        folded_tests.setdefault(key.casefold(), []).append(key)
    renamed = {
        tests_keys[0]: refs_keys[0]
        for folded, tests_keys in folded_tests.items()
        if len(tests_keys) == 1 and len(refs_keys := folded_refs.get(folded, [])) == 1
    }
    tests = {renamed.get(key, key): files for key, files in tests.items()}
    pairs: list[PairSpec] = []
    unmatched: list[str] = []
    for key in sorted(set(references) | set(tests)):
        if key in references and key in tests:
            matched, left = _match(key, references[key], tests[key])
            pairs += matched
            unmatched += left
        else:
            unmatched += sorted(str(f) for f in references.get(key, tests.get(key, [])))
    if not pairs:
        raise InvalidArgumentError(
            f"No image in '{reference_dir}' has a partner of the same name in '{test_dir}' "
            f"({_count(references)} and {_count(tests)} images). Fix: name the pairs alike or pass --csv."
        )
    return sorted(pairs, key=lambda pair: pair.pair_id), sorted(unmatched)


def _count(groups: dict[str, list[Path]]) -> int:
    return sum(len(files) for files in groups.values())


def pairs_from_reference(
    reference: str | os.PathLike[str],
    test_dir: str | os.PathLike[str],
    *,
    leave_out: Iterable[str | os.PathLike[str]] = (),
) -> list[PairSpec]:
    """One reference against every image in a folder (an exam: the reference render and the students').

    Pair ids are the test images' relative paths without extension (with it where several files share a
    name, as ``alice.png`` and ``alice.jpg``); the reference itself is left out if it lies in the folder,
    and so are the images under ``leave_out`` (the output folder) and hidden ones.

    Raises:
        InvalidArgumentError: the reference is not a file, the folder is not a folder or holds no
            other image.
    """
    file = Path(reference)
    if not file.is_file():
        raise InvalidArgumentError(f"Expected a reference image file, got '{file}'. Fix: check the path.")
    itself = file.resolve()
    tests: dict[str, Path] = {}
    for key, files in _images(Path(test_dir), leave_out=leave_out).items():
        others = [f for f in files if f.resolve() != itself]
        if others:
            tests.update(_named(key, others))
    if not tests:
        raise InvalidArgumentError(
            f"Expected test images in '{test_dir}' besides the reference, found none. Fix: check the folder."
        )
    return [PairSpec(k, str(file), str(tests[k])) for k in sorted(tests)]


def pairs_from_csv(path: str | os.PathLike[str]) -> list[PairSpec]:
    """Read pairs from a CSV with columns ``reference`` and ``test`` (and optionally ``id``).

    Relative paths are taken relative to the CSV's folder. A row without an id is named by its test
    path without extension, cut to its last parts that no other row's test path ends with: ``ben``,
    or ``group-b/ben`` when another row's test is ``group-a/ben.png``.

    Raises:
        InvalidArgumentError: the file is missing, a column is missing, a row is incomplete or an
            id repeats; the message names the line.
    """
    file = Path(path)
    if not file.is_file():
        raise InvalidArgumentError(f"Pairs CSV not found: '{file}'. Fix: check the path.")
    text = read_utf8_text(file, "pairs CSV")
    reader = csv.DictReader(io.StringIO(text), delimiter=csv_delimiter(text))
    columns = {name.strip().lower() for name in (reader.fieldnames or [])}
    if not {"reference", "test"} <= columns:
        raise InvalidArgumentError(
            f"'{file}' needs a header with columns 'reference' and 'test' (optionally 'id'); found "
            f"{sorted(columns) or 'no header'}. Fix: add the header line 'id,reference,test'."
        )
    rows: list[tuple[int, dict[str, str]]] = []
    previous = reader.line_num
    for raw in reader:
        line = reader.line_num  # the file's line, blank lines and quoted line breaks counted
        # No path holds a line break: a field that does was opened by a quote never closed, and took in
        # the lines after it (reported as an empty test path on the last line before).
        if any("\n" in value or "\r" in value for value in raw.values() if isinstance(value, str)):
            through = f" through line {line}" if line > previous + 1 else ""
            raise InvalidArgumentError(
                f"'{file}' line {previous + 1}: a quote (\") is opened and not closed, so the field takes in "
                f"the line breaks after it{through}. Fix: close the quote, or remove it."
            )
        previous = line
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None}
        if None in raw:
            raise InvalidArgumentError(
                f"'{file}' line {line}: {len(raw) - 1 + len(raw[None])} fields, but the header names "
                f"{len(raw) - 1}. Fix: quote paths that hold the delimiter, or remove the extra fields."
            )
        if not row.get("reference") or not row.get("test"):
            missing = [name for name in ("reference", "test") if not row.get(name)]
            raise InvalidArgumentError(
                f"'{file}' line {line}: expected a reference and a test path; {' and '.join(missing)} "
                f"is empty. Fix: fill it in or delete the line."
            )
        rows.append((line, row))
    if not rows:
        raise InvalidArgumentError(f"'{file}' has a header but no pairs.")
    unnamed = [row["test"] for _, row in rows if not row.get("id")]
    derived = iter(_shortest_unique_names(unnamed, {row["id"] for _, row in rows if row.get("id")}))
    pairs: list[PairSpec] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        pair_id = row.get("id") or next(derived)
        if pair_id in seen:
            raise InvalidArgumentError(
                f"'{file}' line {line}: the pair id {pair_id!r} is also the id of line {seen[pair_id]}"
                f"{'' if row.get('id') else ' (named by its test image)'}. Fix: give each pair a unique 'id'."
            )
        seen[pair_id] = line
        resolve = lambda value: str(Path(value) if Path(value).is_absolute() else file.parent / value)  # noqa: E731
        pairs.append(PairSpec(pair_id, resolve(row["reference"]), resolve(row["test"])))
    return pairs


def _shortest_unique_names(paths: list[str], taken: set[str]) -> list[str]:
    """Each path without its extension, cut to the fewest last parts that tell it from the others and
    from the names ``taken``. Paths that differ only in their extension (``a.png``, ``a.exr``) keep it;
    paths that are the same throughout keep all their parts, and clash."""
    parts = [Path(path).with_suffix("").parts for path in paths]
    depth = [1] * len(parts)
    while True:
        names = ["/".join(each[-d:]) for each, d in zip(parts, depth, strict=True)]
        counts = Counter(names)
        clashing = [
            i
            for i, name in enumerate(names)
            if (counts[name] > 1 or name in taken) and depth[i] < len(parts[i])
        ]
        if not clashing:
            break
        for i in clashing:
            depth[i] += 1
    with_suffix = ["/".join(Path(path).parts[-d:]) for path, d in zip(paths, depth, strict=True)]
    counts, suffixed = Counter(names), Counter(with_suffix)
    return [
        with_suffix[i] if counts[name] > 1 and suffixed[with_suffix[i]] == 1 else name
        for i, name in enumerate(names)
    ]


def _safe_name(pair_id: str) -> str:
    """The folder name of a pair's report under ``reports/``: the id where it is a plain name, else the
    id with other characters replaced and a hash of the id added, so that two ids never share a folder
    (``a/b`` and ``a_b``) and none leads out of ``reports/`` (``..``)."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in pair_id)
    if safe == pair_id and safe.strip(".") and not safe.startswith("."):
        return safe
    return f"{safe.strip('.') or 'pair'}-{hashlib.sha256(pair_id.encode()).hexdigest()[:8]}"


def _stamps(pair: PairSpec) -> dict[str, list[int] | None]:
    return {"reference": file_stamp(pair.reference), "test": file_stamp(pair.test)}


def _compare_one(pair: PairSpec, options: dict[str, Any], report_dir: str | None) -> dict[str, Any]:
    """Worker: compare one pair; never raises for bad input (the row says what went wrong)."""
    from synthdiff.diff._compare import compare

    # Stamped before reading: a file replaced during the comparison is compared again on resume.
    row: dict[str, Any] = {
        "id": pair.pair_id,
        "reference": pair.reference,
        "test": pair.test,
        "files": _stamps(pair),
    }
    try:
        result = compare(pair.reference, pair.test, **options)
        if report_dir is not None:
            result.save_report(Path(report_dir) / _safe_name(pair.pair_id))
    except SynthdiffError as error:
        row.update(status="error", error=str(error))
        return row
    row["status"] = "ok"
    for name in _SUMMARY_METRICS:
        value = result.metrics.get(name)
        # An infinite PSNR (identical images) is the best score there is, written "inf" as in report.json.
        row[name] = (
            None
            if value is None or value != value
            else ("inf" if value == math.inf else None if value == -math.inf else round(value, 6))
        )
    row["regions"] = len(result.regions)
    change = result.global_change
    row["brightness_change"] = round(change.brightness_change, 5) if change.estimated else None
    row["exposure_change_ev"] = result.exposure_change_ev  # HDR pairs only
    row["colour_shift"] = change.colour_shift if change.is_significant else None
    row["alignment"] = result.registration.applied
    row["boxes"] = [list(region.box) for region in result.regions]
    row["notes"] = list(result.notes)
    if result.feature_maps is not None:
        summary = result.feature_maps.summary()  # one pass over the maps for fractions and regions
        fractions = {name: values["changed_fraction"] for name, values in summary["features"].items()}
        for name, fraction in fractions.items():
            row[f"change_{name}"] = fraction
        row["features_changed"] = feature_sentence(fractions)
        row["feature_regions"] = summary["regions"]
    return row


def feature_sentence(fractions: dict[str, float]) -> str:
    """ "illumination 12.3 %; texture 0.8 %": the features a change model marked on at least 0.05 % of
    the image (what rounds to 0.1 %), largest first; "none" if there are none."""
    marked = sorted(((f, n) for n, f in fractions.items() if f >= 0.0005), reverse=True)
    return "; ".join(f"{name} {100 * fraction:.1f} %" for fraction, name in marked) or "none"


def run_batch(
    pairs: Iterable[PairSpec],
    output: str | os.PathLike[str],
    *,
    workers: int = 1,
    reports: bool = False,
    restart: bool = False,
    progress: Callable[[int, int], None] | None = None,
    unmatched: Iterable[str] = (),
    **options: Any,
) -> BatchResult:
    """Compare many pairs, resumably.

    Each finished pair is appended to ``output/results.jsonl`` as it completes; a later run with the
    same settings skips the pairs already compared successfully (``restart=True`` starts over).
    At the end ``summary.csv``, ``summary.json`` and ``index.html`` (a sortable table that opens
    offline, linking to the per-pair reports) are written atomically.

    Args:
        pairs: the pairs to compare.
        output: output folder.
        workers: worker processes (1 = in this process); at most one per CPU core and per pair to
            compare are started, since each holds its own images and maps (a 4K pair peaks at about
            1.2 GB, docs/performance.md), so more would add memory, not speed.
        reports: also write a full report per pair under ``output/reports/ID/``.
        restart: ignore results of an earlier run.
        progress: called as ``progress(done, total)`` after every pair.
        unmatched: files left without a partner when the pairs were matched (the second value of
            :func:`pairs_from_folders`), listed in ``summary.json`` and the page so that nobody's
            render goes unnoticed.
        **options: keyword options of :func:`synthdiff.compare` (``fast``, ``align``,
            ``change_model``, ``device``, ...). With ``change_model`` each row also holds
            ``change_<feature>`` (the changed fraction of the image per rendering feature),
            ``features_changed`` (those above zero, largest first) and ``feature_regions``. Each
            worker loads the model once; on a GPU (``device`` ``auto`` or ``cuda``) every worker holds
            its own copy there, so one or two workers are usually enough.

    Returns:
        The rows of every pair, with counts.

    Raises:
        InvalidArgumentError: ``workers`` < 1, or the earlier run in ``output`` used other settings.
    """
    if workers < 1:
        raise InvalidArgumentError(f"Expected at least 1 worker, got {workers}.")
    pair_list = list(pairs)
    out = Path(output)
    # Where the change model runs does not change the results (to rounding), so it does not stop a resume.
    compared_with = {key: value for key, value in options.items() if key != "device"}
    if not options.get("change_model"):
        # Without a change model the option changes nothing: runs from before it existed still resume.
        compared_with.pop("change_native_size", None)
    settings = {"schema_version": _SETTINGS_VERSION, "options": compared_with, "reports": reports}
    output_folder(out, create=False, page="index.html")  # before the work: a bad place costs none
    with folder_lock(out, "batch"):
        journal = prepare_journal(
            out,
            "batch-settings.json",
            settings,
            restart,
            lambda previous: f"results of a run with other settings ({previous.get('options')})",
        )
        done = read_journal(journal, "id")
        wanted = {pair.pair_id: pair for pair in pair_list}
        # Pairs that failed before are tried again: the user may have fixed the file since. So are pairs
        # whose files are others now, or were changed since (a student's resubmitted render).
        done = {
            k: v
            for k, v in done.items()
            if k in wanted
            and v.get("status") == "ok"
            and (v.get("reference"), v.get("test")) == (wanted[k].reference, wanted[k].test)
            and v.get("files") == _stamps(wanted[k])
        }
        todo = [pair for pair in pair_list if pair.pair_id not in done]
        report_dir = str(out / "reports") if reports else None
        total = len(pair_list)
        finished = len(done)
        if progress:
            progress(finished, total)
        with journal.open("a", encoding="utf-8") as log:

            def record(row: dict[str, Any]) -> None:
                nonlocal finished
                done[row["id"]] = row
                log.write(json.dumps(row) + "\n")
                log.flush()
                finished += 1
                if progress:
                    progress(finished, total)

            workers = min(workers, len(todo), os.cpu_count() or 1)
            if workers <= 1:
                for pair in todo:
                    record(_compare_one(pair, options, report_dir))
            else:
                pool = ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context(options))
                try:
                    futures = [pool.submit(_compare_one, pair, options, report_dir) for pair in todo]
                    for future in as_completed(futures):
                        record(future.result())
                except BaseException:
                    # Ctrl-C: stop now, not after every queued pair (the journal keeps the rest).
                    stop_pool(pool)
                    raise
                pool.shutdown()

        rows = [done[pair.pair_id] for pair in pair_list]
        result = BatchResult(
            rows,
            compared=len(todo),
            resumed=total - len(todo),
            failed=sum(row["status"] != "ok" for row in rows),
            unmatched=list(unmatched),
            workers=max(workers, 1) if todo else 0,
        )
        _write_summaries(out, result, reports)
        return result


def _pool_context(options: dict[str, Any]) -> multiprocessing.context.BaseContext | None:
    """Workers are started fresh ("spawn") when they may run a model on a GPU: CUDA cannot be used in a
    process forked from one that has touched it. Otherwise the platform's default (fork on Linux), which
    starts workers in a fraction of the time.

    ``device="auto"`` with a PyTorch built without CUDA can only mean the CPU; the check reads how torch
    was built and does not initialise CUDA, so it is safe before forking.
    """
    device = options.get("device", "auto")
    if options.get("change_model") is None or device == "cpu":
        return None
    if device == "auto":
        import torch

        if not torch.backends.cuda.is_built():
            return None
    return multiprocessing.get_context("spawn")


def _write_summaries(out: Path, result: BatchResult, reports: bool) -> None:
    from synthdiff.report import render_batch_html

    feature_columns = list(dict.fromkeys(k for row in result.rows for k in row if k.startswith("change_")))
    exposure = any(row.get("exposure_change_ev") is not None for row in result.rows)  # any HDR pair
    columns = [
        "id",
        "status",
        *_SUMMARY_METRICS,
        "regions",
        "brightness_change",
        *(["exposure_change_ev"] if exposure else []),
        "colour_shift",
        *(["features_changed", *feature_columns] if feature_columns else []),
        "alignment",
        "notes",
        "reference",
        "test",
        "error",
    ]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in result.rows:
        cells = {k: ("" if row.get(k) is None else row.get(k)) for k in columns}
        cells["notes"] = NOTE_SEPARATOR.join(row.get("notes") or [])
        writer.writerow(cells)
    atomic_write_text(out / "summary.csv", buffer.getvalue())
    summary = {
        "schema_version": BATCH_SCHEMA_VERSION,
        **{k: v for k, v in asdict(result).items() if k != "rows"},
        "pairs": result.rows,
    }
    atomic_write_text(out / "summary.json", json_text(summary))
    links = {
        row["id"]: f"reports/{_safe_name(row['id'])}/index.html"
        for row in result.rows
        if reports and row["status"] == "ok"
    }
    atomic_write_text(out / "index.html", render_batch_html(summary, feature_columns, links))
