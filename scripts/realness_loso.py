"""Leave-one-source-out evaluation of the realness classifier, and the final model trained on all sources.

Every source folder under DATA/real and DATA/synthetic (or a group of them given with --group) is held
out in turn: a model is trained on all the other sources (its own train/val split, selection and
calibration on that val split only) and scores the held-out images. The out-of-source scores of all
folds are then pooled: accuracy at the calibrated threshold, AUC, ECE and the accuracy drop under JPEG
quality 75, overall and per source. Several cue sets can be compared; the one to ship is chosen by the
mean validation loss of its folds (never by the held-out scores), then trained on every source.

Resumable: a fold whose OUT/CUES/FOLD/fold.json exists is read back, not trained again. Stopping the
script (Ctrl-C, or kill) stops the folds in progress with it, so a restarted run never trains beside
them. With --archive DIR each finished fold's record (its per-image scores, a few kilobytes) is also copied to
DIR/CUES/FOLD.json and read back from there, so a run spread over several sessions survives the loss
of OUT: keep DIR in the repository (docs/training-logs/...) and commit it as folds finish.

    python scripts/realness_loso.py --data data/realness --out runs/loso --cues fourier \\
        --cues fourier,rgb,residual --group skimage,matplotlib --group exam-scene,opencv-renders --final
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import signal
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
import yaml

from synthdiff._device import resolve_device
from synthdiff.realness import load_realness_model
from synthdiff.realness._data import list_source
from synthdiff.realness._evaluate import ImageResult, evaluate_images, summarise_results
from synthdiff.realness._image_head import EmbeddingCache
from synthdiff.realness._registry import RealnessSettings, create_model
from synthdiff.realness._train import load_realness_config, train_realness
from synthdiff.realness._tune import TrunkCache


def _sources(data: Path) -> dict[str, tuple[str, Path]]:
    found = {}
    for label in ("real", "synthetic"):
        for folder in sorted(p for p in (data / label).iterdir() if p.is_dir()):
            found[folder.name] = (label, folder)
    return found


def _train_fold(job: dict[str, Any]) -> dict[str, Any]:
    """Train on ``job['train']`` sources and score ``job['test']`` sources (in a worker process)."""
    # Folds that run at once share the cores: more threads than cores makes PyTorch's CPU kernels
    # wait on each other (seen here: two folds of 2 threads each on 2 cores ran far below half speed).
    torch.set_num_threads(job["threads"])
    out = Path(job["out"])
    overrides = {
        "real": [f"{n}={p}" for n, (label, p) in job["train"].items() if label == "real"],
        "synthetic": [f"{n}={p}" for n, (label, p) in job["train"].items() if label == "synthetic"],
        "cues": job["cues"],
        "epochs": job["epochs"],
        "samples_per_epoch": job["samples"],
        "loader_workers": job["workers"],
        "seed": job["seed"],
        **job["extra"],
    }
    config = load_realness_config(None, overrides)
    result = train_realness(config, out)
    record: dict[str, Any] = {
        "fold": job["fold"],
        "cues": job["cues"],
        "best_epoch": result.best_epoch,
        "val_loss": result.best_loss,
        "seconds": result.seconds,
    }
    if job["test"]:
        model = load_realness_model(out / "best.pt", device=job["device"])
        images = [img for n, (label, p) in job["test"].items() for img in list_source(p, label, n)]
        evaluation = evaluate_images(model, images)
        record["images"] = [asdict(r) for r in evaluation.images]
    (out / "fold.json").write_text(json.dumps(record, indent=1))
    return record


def _ordered_units(
    folds: list[list[str]], final: bool, run_first: list[str]
) -> list[tuple[str, list[str] | None]]:
    """The folds (named by their sources, a,b) and, with ``final``, the final model (named final, with
    no fold), in training order: those named in ``run_first`` first, in the order given, then the
    rest in their own order, the final model last."""
    units: list[tuple[str, list[str] | None]] = [(",".join(fold), fold) for fold in folds]
    units += [("final", None)] if final else []
    if unknown := set(run_first) - {name for name, _ in units}:
        raise SystemExit(
            f"Expected --run-first folds from {' / '.join(name for name, _ in units)}, got {sorted(unknown)}."
        )
    rank = {name: k for k, name in enumerate(run_first)}
    return sorted(units, key=lambda unit: rank.get(unit[0], len(rank)))  # stable: the rest keep order


def _archived(job: dict[str, Any], archive: Path | None) -> Path | None:
    """Where ``job``'s record is archived; None without an archive or for the final model, whose
    checkpoint (not kept in the archive) is needed afterwards."""
    if archive is None or job["fold"] == "final":
        return None
    return archive / "-".join(job["cues"]) / f"{job['fold']}.json"


def _finished(job: dict[str, Any], archive: Path | None) -> dict[str, Any] | None:
    """The record of a fold finished earlier, from OUT or else from the archive; None if not run yet."""
    for path in (Path(job["out"]) / "fold.json", _archived(job, archive)):
        if path is not None and path.is_file():
            record: dict[str, Any] = json.loads(path.read_text())
            if record.get("fold") != job["fold"] or record.get("cues") != job["cues"]:
                raise SystemExit(
                    f"Expected the record of fold {job['fold']} with cues {job['cues']} in {path}, found "
                    f"fold {record.get('fold')} with cues {record.get('cues')}. Fix: move that file away."
                )
            return record
    return None


def _archive(record: dict[str, Any], job: dict[str, Any], archive: Path | None) -> None:
    if (path := _archived(job, archive)) is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record, indent=1) + "\n")


def _embed_all(sources: dict[str, tuple[str, Path]], args: argparse.Namespace, cues: list[str]) -> None:
    """Fill the shared embedding cache once, in this process, before the folds start: folds that run
    in parallel would otherwise each embed the same images (head ``images`` only)."""
    model = create_model(args.model, RealnessSettings(tuple(cues), args.crop, args.max_patches))
    network = model.net.to(resolve_device(args.device)).eval()
    # A fine-tuned model caches its frozen trunk's maps (the embeddings depend on each fold's tuning).
    tuned = getattr(network, "tail", None) is not None
    cache = (TrunkCache if tuned else EmbeddingCache)(args.out / "embeddings", args.crop, args.max_patches)
    images = [image for name, (label, path) in sources.items() for image in list_source(path, label, name)]
    for k, image in enumerate(images, 1):
        cache.get(network, image)  # type: ignore[arg-type]
        if k % 50 == 0 or k == len(images):
            print(f"embedded {k} / {len(images)} images", flush=True)


def _table(summary: dict[str, Any]) -> list[str]:
    def pct(v: float | None) -> str:
        return "-" if v is None else f"{100 * v:.1f} %"

    lines = ["| source | class | images | accuracy | log loss | accuracy after JPEG 75 | mean p(synthetic) |",
             "| --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for name, row in summary["per_source"].items():
        lines.append(
            f"| {name} | {row['label']} | {row['images']} | {pct(row['accuracy'])} | {row['log_loss']:.3f} | "
            f"{pct(row['accuracy_jpeg75'])} | {row['mean_probability_synthetic']:.3f} |"
        )
    low, high = summary["accuracy_interval"] or (None, None)
    auc_low, auc_high = summary["auc_interval"] or (None, None)
    ece_low, ece_high = summary.get("ece_interval") or (float("nan"), float("nan"))
    lines += [
        "",
        f"Pooled over {summary['images']} held-out images ({summary['real']} real, {summary['synthetic']} "
        f"synthetic): accuracy {pct(summary['accuracy'])} [{pct(low)}, {pct(high)}], AUC "
        f"{summary['auc']:.3f} [{auc_low:.3f}, {auc_high:.3f}], ECE {summary['ece']:.3f} "
        f"[{ece_low:.3f}, {ece_high:.3f}], log loss {summary['log_loss']:.3f}, accuracy after "
        f"JPEG 75 {pct(summary['accuracy_jpeg75'])} "
        f"(drop {100 * summary['accuracy_drop_jpeg75']:.1f} points).",
    ]
    return lines


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def run_folds(
    worker: Callable[[dict[str, Any]], dict[str, Any]],
    jobs: list[dict[str, Any]],
    processes: int,
    on_result: Callable[[dict[str, Any], dict[str, Any]], None],
) -> None:
    """Run ``worker`` on every job in ``processes`` spawned processes; ``on_result(record, job)`` in order.

    Stopping this process (Ctrl-C, or SIGTERM from ``kill``) stops the folds in progress too: a fold
    left running would go on writing into OUT while a restarted run trains the same fold.
    """
    # Not multiprocessing.Pool: its daemonic workers may not start data-loader processes.
    pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"))
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        for record, job in zip(pool.map(worker, jobs), jobs, strict=True):
            on_result(record, job)
    except BaseException:
        # The executor has no public way to stop a running task; its worker processes are stopped here.
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.terminate()
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
        pool.shutdown(wait=True, cancel_futures=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=Path("data/realness"))
    parser.add_argument("--out", type=Path, default=Path("runs/loso"))
    parser.add_argument("--cues", action="append", help="comma-separated cue set (repeatable)")
    parser.add_argument("--group", action="append", default=[], help="sources held out together: a,b")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--samples", type=int, default=8192, help="crops per epoch")
    parser.add_argument("--jobs", type=int, default=1, help="folds trained at once")
    parser.add_argument("--workers", type=int, default=2, help="data-loader processes per fold")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--final", action="store_true", help="then train the chosen cues on every source")
    parser.add_argument("--model", default="realness-cnn")
    parser.add_argument("--crop", type=int, default=64)
    parser.add_argument("--max-patches", type=int, default=96)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--head", default="crops", help="crops or images (see RealnessTrainConfig)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any other training setting, as YAML (repeatable): --set precision=bfloat16",
    )
    parser.add_argument(
        "--pool",
        action="append",
        default=[],
        help="also pool the held-out scores of only these sources: a,b,c (repeatable)",
    )
    parser.add_argument(
        "--archive",
        type=Path,
        help="also keep each finished fold's record here and read finished folds back from it",
    )
    parser.add_argument(
        "--run-first",
        action="append",
        default=[],
        metavar="FOLD",
        help="train these folds (a held-out source or group name a,b, or final for the final model) before "
        "the others (repeatable); each is trained independently, so the order changes when results "
        "arrive, not what they are",
    )
    args = parser.parse_args()

    sources = _sources(args.data)
    for subset in args.pool:  # checked before any fold trains, not after
        if unknown := set(subset.split(",")) - set(sources):
            raise SystemExit(f"Expected --pool sources from {', '.join(sources)}, got {sorted(unknown)}.")
    grouped = {name for group in args.group for name in group.split(",")}
    folds = [group.split(",") for group in args.group] + [[n] for n in sources if n not in grouped]
    units = _ordered_units(folds, args.final, args.run_first)
    folds = [fold for _, fold in units if fold is not None]
    cue_sets = [c.split(",") for c in (args.cues or ["fourier"])]
    extra = {
        "model": args.model,
        "crop": args.crop,
        "max_patches": args.max_patches,
        "learning_rate": args.learning_rate,
        "head": args.head,
        "embedding_cache": str(args.out / "embeddings"),  # shared by the folds (head: images)
    }
    for setting in args.set:
        key, separator, value = setting.partition("=")
        if not separator:
            raise SystemExit(f"Expected --set KEY=VALUE, got {setting!r}.")
        extra[key.strip().replace("-", "_")] = yaml.safe_load(value)
    load_realness_config(None, {"real": ["."], "synthetic": ["."], **extra})  # bad settings fail now

    def job(cues: list[str], fold: str, train: dict[str, Any], test: dict[str, Any]) -> dict[str, Any]:
        return {
            "fold": fold,
            "cues": cues,
            "out": str(args.out / "-".join(cues) / fold),
            "train": train,
            "test": test,
            "epochs": args.epochs,
            "samples": args.samples,
            "workers": args.workers,
            "seed": args.seed,
            "device": args.device,
            "threads": max(1, (os.cpu_count() or 1) // args.jobs),
            "extra": extra,
        }

    jobs = [
        job(cues, "final", sources, {})  # trained alongside the folds; the chosen one is kept afterwards
        if fold is None
        else job(
            cues,
            "__".join(fold),
            {n: s for n, s in sources.items() if n not in fold},
            {n: sources[n] for n in fold},
        )
        for cues in cue_sets
        for _, fold in units
    ]
    done = {}
    pending = []
    for job in jobs:  # resumable: finished folds are read back
        if (record := _finished(job, args.archive)) is not None:
            done[job["out"]] = record
            _archive(record, job, args.archive)
        else:
            pending.append(job)
    if pending and args.head == "images":
        for cues in cue_sets:
            _embed_all(sources, args, cues)

    def finished(record: dict[str, Any], job: dict[str, Any]) -> None:
        done[job["out"]] = record
        _archive(record, job, args.archive)
        print(f"{'-'.join(job['cues'])} / {job['fold']}: val loss {record['val_loss']:.4f}", flush=True)

    run_folds(_train_fold, pending, args.jobs, finished)

    report: dict[str, Any] = {"folds": ["__".join(f) for f in folds], "cue_sets": {}}
    lines = ["# Leave-one-source-out results", ""]
    for cues in cue_sets:
        tag = "-".join(cues)
        records = [done[j["out"]] for j in jobs if j["cues"] == cues and j["fold"] != "final"]
        results = [ImageResult(**image) for r in records for image in r["images"]]
        summary = summarise_results(results)
        mean_val = sum(r["val_loss"] for r in records) / len(records)
        report["cue_sets"][tag] = {"mean_val_loss": mean_val, "summary": summary, "folds": records}
        lines += [
            f"## cues: {tag} (mean validation loss over folds {mean_val:.4f})",
            "",
            *_table(summary),
            "",
        ]
        for subset in args.pool:
            names = set(subset.split(","))
            part = summarise_results([r for r in results if r.source in names])
            report["cue_sets"][tag][f"pool:{subset}"] = part
            auc = "n/a (one class)" if part["auc"] is None else f"{part['auc']:.3f}"
            lines += [
                f"Only {', '.join(sorted(names))}: {part['images']} images, accuracy "
                f"{100 * part['accuracy']:.1f} %, log loss {part['log_loss']:.3f}, AUC {auc}, "
                f"ECE {part['ece']:.3f}.",
                "",
            ]
    chosen = min(report["cue_sets"], key=lambda t: report["cue_sets"][t]["mean_val_loss"])
    report["chosen"] = chosen
    lines.append(f"Chosen by mean validation loss (not by the held-out scores): **{chosen}**.")
    args.out.mkdir(parents=True, exist_ok=True)
    for fold in report["cue_sets"].values():
        for record in fold["folds"]:
            record.pop("images", None)
    (args.out / "loso.json").write_text(json.dumps(report, indent=1))
    (args.out / "loso.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    if args.final:
        final = args.out / chosen / "final"
        shutil.copyfile(final / "best.pt", args.out / "final.pt")
        record = done[str(final)]
        print(
            f"final ({chosen}): val loss {record['val_loss']:.4f}, epoch {record['best_epoch']} -> final.pt"
        )


if __name__ == "__main__":
    main()
