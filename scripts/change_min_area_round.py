"""Stage 25m: the shipped change model with small changed specks removed, scored against itself.

For each pair of the fresh decision sets of the given seeds (``scripts/make_fresh_val_data.sh``), the model
runs once at its stored thresholds; its per-feature change masks are then scored as they are (the shipped
model) and with every 8-connected changed component of fewer than ``--min-area`` pixels removed (the
candidate). The figures are those of ``scripts/change_round_conditions.py`` (the weakest and the mean of the
four own-set change F1s, the mean F1 over the four features on the ``all`` pairs, the mean wrong-feature
rate, the share of the unchanged pairs' pixels marked, texture F1 on the object-only texture pairs), pixel
counts pooled over every set of every seed as ``eval change`` pools them, and its conditions are checked
under ``--rule``.

With ``--min-area 0`` both columns are the shipped model; on seeds 197 + 199 its figures equal those of the
official round pipeline (``scripts/change_round_decision.sh``, docs/training-logs/stage24v/): the shipped
column is the same model at the same thresholds, only counted here instead of through ``eval change``.

    python scripts/change_min_area_round.py --seeds 211,223 --min-area 64 --rule noise --out runs/stage25m
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from change_round_conditions import SINGLE, conditions, table  # scripts/ is on sys.path

from synthdiff.change import remove_specks
from synthdiff.change._data import PairRecord, _image, _mask
from synthdiff.change._infer import predict_maps
from synthdiff.change._registry import load_checkpoint

SETS = ("texture", "illumination", "transparency", "reflection-v2", "all-v2", "none")


class Counts:
    """Pooled pixel counts per (set, feature): true and false positives, false negatives, true negatives."""

    def __init__(self) -> None:
        self.cells: dict[tuple[str, str], np.ndarray] = {}
        self.unchanged_marked = 0
        self.unchanged_pixels = 0

    def add(self, group: str, feature: str, marked: np.ndarray, label: np.ndarray) -> None:
        cell = self.cells.setdefault((group, feature), np.zeros(4, np.int64))
        cell += [
            (marked & label).sum(),
            (marked & ~label).sum(),
            (~marked & label).sum(),
            (~marked & ~label).sum(),
        ]

    def f1(self, group: str, feature: str) -> float:
        tp, fp, fn, _ = self.cells[(group, feature)]
        return float(2 * tp / (2 * tp + fp + fn)) if tp else 0.0

    def false_positive_rate(self, group: str, feature: str) -> float:
        _, fp, _, tn = self.cells[(group, feature)]
        return float(fp / (fp + tn))

    def figures(self) -> dict[str, float]:
        own = [self.f1(name, name) for name in SINGLE]
        wrong = [
            self.false_positive_rate(group, other) for group in SINGLE for other in SINGLE if other != group
        ]
        return {
            "weakest": min(own),
            "mean": sum(own) / len(own),
            "all": sum(self.f1("all", name) for name in SINGLE) / len(SINGLE),
            "wrong": sum(wrong) / len(wrong),
            "unchanged": self.unchanged_marked / self.unchanged_pixels,
            "object_texture": self.f1("texture/object", "texture"),
        }

    def own_and_all(self) -> dict[str, dict[str, float]]:
        return {
            group: {name: round(self.f1(group, name), 4) for name in SINGLE} for group in (*SINGLE, "all")
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", required=True, help="comma-separated seeds of the fresh decision sets")
    parser.add_argument("--min-area", type=int, required=True, help="the candidate's smallest kept component")
    parser.add_argument("--rule", default="noise", help="whose conditions (change_round_conditions.py)")
    parser.add_argument("--model", default="fresunet-wide", help="the shipped model (name or checkpoint)")
    parser.add_argument("--data", type=Path, default=Path("data/change"))
    parser.add_argument("--out", type=Path, required=True, help="folder for the JSON figures and the table")
    args = parser.parse_args()
    torch.set_num_threads(2)
    model, metadata = load_checkpoint(args.model, device="cpu")
    features = list(metadata["features"])
    shipped, candidate = Counts(), Counts()
    seeds = args.seeds.split(",")
    removal_seconds: list[float] = []
    for seed in seeds:
        for name in SETS:
            root = args.data / f"fresh{seed}-{name}"
            group = name.split("-")[0]
            for line in (root / "manifest.jsonl").read_text().splitlines():
                record = json.loads(line)
                reference = _image(root / record["reference"]).astype(np.float32) / 255
                test = _image(root / record["test"]).astype(np.float32) / 255
                maps = predict_maps(
                    model,
                    features,
                    reference,
                    test,
                    threshold=metadata["thresholds"],
                    low_threshold=metadata["low_thresholds"],
                )
                masks = {f: maps.changed(f) for f in features}
                started = time.perf_counter()
                pruned = {f: remove_specks(m, args.min_area) for f, m in masks.items()}
                removal_seconds.append(time.perf_counter() - started)
                if group == "none":
                    for counts, chosen in ((shipped, masks), (candidate, pruned)):
                        counts.unchanged_marked += int(np.logical_or.reduce(list(chosen.values())).sum())
                        counts.unchanged_pixels += reference.shape[0] * reference.shape[1]
                    continue
                scored = SINGLE if group == "all" else (group,)
                groups = [group]
                if group == "texture" and PairRecord(root, record).place == "object":
                    groups.append("texture/object")
                for feature in scored:
                    label = _mask(root / record["labels"]["change"][feature])
                    for where in groups:
                        shipped.add(where, feature, masks[feature], label)
                        candidate.add(where, feature, pruned[feature], label)
                if group in SINGLE:  # wrong-feature marks: the other features on a single-feature set
                    for other in SINGLE:
                        if other != group:
                            label = _mask(root / record["labels"]["change"][other])
                            shipped.add(group, other, masks[other], label)
                            candidate.add(group, other, pruned[other], label)
            print(f"scored fresh{seed}-{name}", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    tag = f"stage25m (min area {args.min_area})"
    result = {
        "seeds": seeds,
        "min_area": args.min_area,
        "thresholds": metadata["thresholds"],
        "shipped": {"figures": shipped.figures(), "change_f1_by_set": shipped.own_and_all()},
        "candidate": {"figures": candidate.figures(), "change_f1_by_set": candidate.own_and_all()},
        "removal_ms_per_pair": {
            "median": 1000 * statistics.median(removal_seconds),
            "max": 1000 * max(removal_seconds),
            "pairs": len(removal_seconds),
        },
    }
    stem = f"fresh{'+'.join(seeds)}-min-area-{args.min_area}"
    (args.out / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n")
    median_ms = result["removal_ms_per_pair"]["median"]
    text = table(conditions(shipped.figures(), candidate.figures(), args.rule), tag)
    text += (
        f"\n(7) removing the specks: median {median_ms:.2f} ms per pair over {len(removal_seconds)} pairs "
        f"(bar 5 ms): {'holds' if median_ms <= 5.0 else 'does not hold'}."
    )
    (args.out / f"{stem}-decision.md").write_text(text + "\n")
    print(json.dumps({k: result[k]["figures"] for k in ("shipped", "candidate")}, indent=2))
    print(text)


if __name__ == "__main__":
    main()
