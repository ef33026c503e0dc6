"""Does a change detector gain from ignoring pixels where the two images do not differ? (visibility gate)

Every rendering-feature change the labels count is a visible change of the picture (docs/labels.md:
texture counts where the surface colour changed by more than 0.05, reflection where the glossy light
changed, ...), but the detectors' change maps spill a pixel or two past the edges of what changed. The
gate sets a feature's change probability to zero wherever the largest channel difference between the
two images is at most ``tau``. It is symmetric in the two inputs, so swap consistency is kept, and by
itself it can only remove changed pixels (thresholds re-tuned with it can still move false alarms
either way).

For every ``tau`` tried, the change thresholds are re-tuned on the chosen split and the model is scored at
them with ``synthdiff``'s own evaluation (the numbers are those of ``synthdiff eval change``). Use the
validation split to choose; the test split only to score a choice fixed beforehand (``--tau`` with
``--thresholds``: a val report of this script, whose run at that ``tau`` gives the thresholds).

    python scripts/change_visibility.py --model fresunet --data data/change/texture --split val \\
        -o runs/visibility/fresunet-texture-val.json

Also: ``--gate texture=0.03,...`` runs one gate with a tau per feature; ``--choose REPORT`` prints each
feature's best tau from a val report's runs; ``--budget RATE --none-data DIR`` chooses each feature's
tau and threshold for F1 under a false-alarm budget on unchanged pairs and scores the choice against
the model as shipped; ``--in-progress`` reads a complete split of a dataset still being generated.
The detector runs once per input whatever the number of gates (its outputs are kept in memory, about
3 MB per pair). The rounds decided with it: docs/models.md (visibility gate).
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from synthdiff.change._data import ChangePairs
from synthdiff.change._evaluate import POOLED, evaluate, tune_thresholds
from synthdiff.change._models import ChangeOutput
from synthdiff.change._registry import load_checkpoint

TAUS = (0.0, 0.01, 0.02, 0.03, 0.05)
SINGLE = ("illumination", "reflection", "texture", "transparency")


@torch.no_grad()
def change_histograms(
    model: nn.Module,
    data: ChangePairs,
    *,
    batch_size: int = 8,
    device: torch.device | None = None,
    bins: int = 100,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per feature (rows), the counts of changed and of unchanged pixels by change-probability bin."""
    device = device or torch.device("cpu")
    model.eval()
    count = len(data.features)
    positives = torch.zeros(count, bins, dtype=torch.float64)
    negatives = torch.zeros(count, bins, dtype=torch.float64)
    for batch in DataLoader(data, batch_size=batch_size, shuffle=False):
        probability = model(batch["reference"].to(device), batch["test"].to(device)).probabilities().change
        index = (probability * bins).long().clamp_(0, bins - 1).cpu()
        changed = batch["change"] > 0.5
        for f in range(count):
            positives[f] += torch.bincount(index[:, f][changed[:, f]], minlength=bins).double()
            negatives[f] += torch.bincount(index[:, f][~changed[:, f]], minlength=bins).double()
    return positives, negatives


def f1_by_threshold(positives: torch.Tensor, negatives: torch.Tensor) -> torch.Tensor:
    """Change F1 (last axis) at thresholds 1/bins ... (bins-1)/bins, from :func:`change_histograms`:
    predicting "changed" for bins >= k, true/false positives are the counts from bin k upwards."""
    true_pos = positives.flip(-1).cumsum(-1).flip(-1)[..., 1:]
    false_pos = negatives.flip(-1).cumsum(-1).flip(-1)[..., 1:]
    false_neg = positives.sum(-1, keepdim=True) - true_pos
    return 2 * true_pos / (2 * true_pos + false_pos + false_neg).clamp(min=1)


class VisibilityGate(nn.Module):
    """A change detector whose change logits are pushed to -inf-like where the images are (nearly) equal.

    Args:
        detector: the wrapped model (``model(reference, test) -> ChangeOutput``).
        tau: per feature (in the detector's output order), the largest channel difference that still
            counts as "no visible change"; 0 keeps every pixel whose difference is above 0.
    """

    def __init__(self, detector: nn.Module, tau: list[float]) -> None:
        super().__init__()
        self.detector = detector
        self.register_buffer("tau", torch.tensor(tau, dtype=torch.float32).view(1, -1, 1, 1))

    def forward(self, reference: torch.Tensor, test: torch.Tensor) -> ChangeOutput:
        output = self.detector(reference, test)
        difference = (reference - test).abs().amax(dim=1, keepdim=True)  # (B, 1, H, W)
        hidden = difference <= self.tau  # (B, F, H, W)
        change = output.change.masked_fill(hidden, -30.0)  # sigmoid(-30) ~ 1e-13
        return ChangeOutput(output.seg_ref, output.seg_test, change)


class CachedDetector(nn.Module):
    """The wrapped detector's outputs, remembered by input: every gate tried reads one forward pass.

    The key is a hash of the two input batches, so the same batches (same data, order and batch size,
    as in :func:`tune_thresholds` and :func:`evaluate`) reuse the stored outputs; about 3 MB per
    256x256 pair with four features.
    """

    def __init__(self, detector: nn.Module) -> None:
        super().__init__()
        self.detector = detector
        self.outputs: dict[bytes, ChangeOutput] = {}

    def forward(self, reference: torch.Tensor, test: torch.Tensor) -> ChangeOutput:
        key = hashlib.sha1(reference.detach().cpu().numpy().tobytes())
        key.update(test.detach().cpu().numpy().tobytes())
        digest = key.digest()
        if digest not in self.outputs:
            self.outputs[digest] = self.detector(reference, test)
        return self.outputs[digest]


def parse_gate(text: str, features: list[str]) -> list[float]:
    """``"texture=0.03,transparency=0.01"`` -> one tau per feature in model order (0 where unnamed)."""
    taus = dict.fromkeys(features, 0.0)
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, value = item.partition("=")
        if name not in taus:
            raise SystemExit(f"--gate names {name!r}; the model's features are {', '.join(features)}.")
        try:
            taus[name] = float(value)
        except ValueError:
            raise SystemExit(f"--gate: expected FEATURE=TAU, got {item!r}.") from None
    return [taus[name] for name in features]


def choose_per_feature(runs: list[dict[str, Any]]) -> dict[str, float]:
    """Per feature, the tau of the single-tau runs with the highest pooled change F1 of that feature
    (ties: the smaller tau). A feature's gate and threshold touch only its own channel, so together
    these give the highest pooled mean over the runs' combinations."""
    single = sorted((run for run in runs if isinstance(run["tau"], float | int)), key=lambda r: r["tau"])
    chosen: dict[str, float] = {}
    for name in single[0]["pooled_change_f1"]:
        best = max(single, key=lambda run: (run["pooled_change_f1"][name] or 0.0, -run["tau"]))
        chosen[name] = float(best["tau"])
    return chosen


def budget_histograms(
    model: nn.Module, data: ChangePairs, unchanged: ChangePairs
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """What :func:`budgeted_choice` reads for one model: the positive and negative change histograms on
    ``data`` and the negative ones on the ``unchanged`` pairs (:func:`change_histograms`)."""
    return (*change_histograms(model, data), change_histograms(model, unchanged)[1])


def budgeted_choice(
    per_tau: dict[float, tuple[torch.Tensor, torch.Tensor, torch.Tensor]], features: list[str], budget: float
) -> dict[str, tuple[float, float]]:
    """Per feature, the (tau, threshold) with the highest F1 among those whose false-positive pixel
    rate on unchanged pairs is at most ``budget`` (ties: smaller tau, then threshold nearer 0.5).

    Args:
        per_tau: for each tau, the histograms of :func:`change_histograms` on the F1 data (positives,
            negatives) and the negatives on the unchanged pairs; threshold k/bins marks bins >= k,
            as :func:`tune_thresholds` does.

    Raises:
        SystemExit: no threshold of some feature keeps within the budget.
    """
    chosen: dict[str, tuple[float, float]] = {}
    for f, name in enumerate(features):
        best: tuple[tuple[float, float, float], float, float] | None = None
        for tau in sorted(per_tau):
            positives, negatives, unchanged = (h[f] for h in per_tau[tau])
            bins = positives.numel()
            f1 = f1_by_threshold(positives, negatives)
            alarms = unchanged.flip(0).cumsum(0).flip(0)[1:] / unchanged.sum().clamp(min=1)
            for k in range(bins - 1):
                threshold = round((k + 1) / bins, 4)
                key = (float(f1[k]), -tau, -abs(threshold - 0.5))
                if float(alarms[k]) <= budget and (best is None or key > best[0]):
                    best = (key, tau, threshold)
        if best is None:
            raise SystemExit(f"No threshold keeps {name}'s false alarms within {budget}.")
        chosen[name] = (best[1], best[2])
    return chosen


def _scores(result: Any, features: list[str]) -> dict[str, Any]:
    """Per dataset feature: its own change F1, precision and recall; and the pooled mean change F1."""
    out: dict[str, Any] = {"pooled_mean_change_f1": result.mean_change_f1()}
    # Each feature's change F1 over every pair together (the pooled mean is their mean).
    out["pooled_change_f1"] = {name: result.scores[POOLED]["change"][name]["f1"] for name in features}
    for group, maps in result.scores.items():
        if group in features:
            out[group] = {k: maps["change"][group][k] for k in ("f1", "precision", "recall")}
    # Every group's change F1 per feature (the mixed and all sets too), as `eval change` tables them.
    out["change_f1_by_set"] = {
        group: {name: maps["change"][name]["f1"] for name in features}
        for group, maps in result.scores.items()
    }
    out["none_false_positive_rate"] = result.none_false_positive_rate
    # On a set that changes one feature, pixels marked changed for another: naming the wrong feature.
    # The mean over every (set, other feature) pair of the single-feature sets present (stage 4's measure).
    rates = [
        result.scores[group]["change"][other]["false_positive_rate"]
        for group in SINGLE
        if group in result.scores and group in features
        for other in SINGLE
        if other != group and other in features
    ]
    rates = [r for r in rates if r is not None]
    out["mean_wrong_feature_rate"] = sum(rates) / len(rates) if rates else None
    return out


def _fixed_thresholds(path: Path, gates: list[Any]) -> dict[str, float]:
    """Thresholds to score at: a JSON {feature: threshold}, or a val report of this script, from which
    the run of the one gate given (``--tau`` or ``--gate``) is taken."""
    stored = json.loads(path.read_text())
    if "runs" not in stored:
        return {str(k): float(v) for k, v in stored.items()}
    if len(gates) != 1:
        raise SystemExit("Expected exactly one --tau or --gate with a val report as --thresholds.")
    for run in stored["runs"]:
        if run["tau"] == gates[0] or (
            isinstance(run["tau"], float | int)
            and isinstance(gates[0], float | int)
            and abs(run["tau"] - gates[0]) < 1e-12
        ):
            return {str(k): float(v) for k, v in run["thresholds"].items()}
    raise SystemExit(f"{path} has no run with tau {gates[0]}.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="fresunet", help="shipped model name or checkpoint")
    parser.add_argument("--data", type=Path, action="append", required=True, help="dataset folder (repeat)")
    parser.add_argument("--split", default="val", choices=("val", "test"))
    parser.add_argument("--tau", type=float, action="append", help=f"gates to try (default: {TAUS})")
    parser.add_argument(
        "--gate", help="one gate with a tau per feature, e.g. texture=0.03,transparency=0.01 (others 0)"
    )
    parser.add_argument(
        "--choose", type=Path, help="print the per-feature gate chosen from this val report, and stop"
    )
    parser.add_argument(
        "--thresholds", type=Path, help="JSON {feature: threshold}: score at these, no tuning"
    )
    parser.add_argument(
        "--in-progress",
        action="store_true",
        help="read the split from a dataset still being generated, once that split is complete",
    )
    parser.add_argument(
        "--budget",
        type=float,
        help="choose each feature's tau and threshold for F1 with at most this share of the pixels of "
        "--none-data marked changed (e.g. 0.00025)",
    )
    parser.add_argument(
        "--none-data", type=Path, action="append", help="unchanged pairs for --budget (repeat)"
    )
    parser.add_argument(
        "--stored",
        action="store_true",
        help="only score the model at its stored thresholds, no gate and no tuning (with --none-data: "
        "also its false alarms there); for a decision set nothing may be tuned on",
    )
    parser.add_argument(
        "--tta", default=None, help="test-time views (none, flip, flips, dihedral; default the checkpoint's)"
    )
    parser.add_argument("-o", "--out", type=Path)
    args = parser.parse_args()
    if args.choose:
        chosen = choose_per_feature(json.loads(args.choose.read_text())["runs"])
        print(",".join(f"{name}={tau:g}" for name, tau in chosen.items()))
        return
    if args.out is None:
        parser.error("-o/--out is required")
    if args.gate and args.tau:
        parser.error("give --tau or --gate, not both")
    torch.set_num_threads(2)
    detector, metadata = load_checkpoint(args.model, views=args.tta)
    features = list(metadata["features"])
    data = ChangePairs(args.data, args.split, features, cache=True, in_progress=args.in_progress)
    # Each run: a tau for every feature (a number) or per feature (a dict, from --gate).
    gates: list[Any] = (
        [dict(zip(features, parse_gate(args.gate, features), strict=True))] if args.gate else args.tau or TAUS
    )
    cached = CachedDetector(detector).eval()
    if args.budget is not None or args.stored:
        _budget_round(args, cached, metadata, data)
        return
    fixed = _fixed_thresholds(args.thresholds, gates) if args.thresholds else None
    report: dict[str, Any] = {"model": str(args.model), "split": args.split, "pairs": len(data), "runs": []}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for gate in gates:
        taus = [gate[name] for name in features] if isinstance(gate, dict) else [gate] * len(features)
        model = VisibilityGate(cached, taus).eval()
        thresholds = fixed or tune_thresholds(model, data)
        scores = _scores(evaluate(model, data, change_thresholds=thresholds), features)
        report["runs"].append({"tau": gate, "thresholds": thresholds, **scores})
        args.out.write_text(json.dumps(report, indent=1))  # after every run: an interruption keeps them
        shown = {
            k: round(v["f1"], 4) for k, v in scores.items() if isinstance(v, dict) and v.get("f1") is not None
        }
        print(f"tau {gate}: pooled mean change F1 {scores['pooled_mean_change_f1']:.4f}; {shown}", flush=True)
    if not fixed:  # the stored thresholds, without a gate, for reference
        scores = _scores(
            evaluate(
                cached,
                data,
                change_thresholds=metadata["thresholds"],
                change_low_thresholds=metadata["low_thresholds"],
                change_min_area=metadata["min_area"],
            ),
            features,
        )
        report["stored_thresholds_no_gate"] = scores
        print(f"stored thresholds, no gate: pooled mean change F1 {scores['pooled_mean_change_f1']:.4f}")
    args.out.write_text(json.dumps(report, indent=1))


def _budget_round(
    args: argparse.Namespace, cached: nn.Module, metadata: dict[str, Any], data: ChangePairs
) -> None:
    """Choose a gate and thresholds under a false-alarm budget; score them and the shipped model.

    With ``--stored``, only the model as shipped is scored (no gate, no tuning on this split)."""
    if not args.none_data:
        raise SystemExit("--budget and --stored need --none-data (unchanged pairs, for their false alarms).")
    features = list(metadata["features"])
    unchanged = ChangePairs(args.none_data, args.split, features, cache=True, in_progress=args.in_progress)
    # The model as stored: its thresholds and, where it has them, their low ones (hysteresis).
    runs: list[tuple[str, nn.Module, Any, Any]] = [
        ("shipped", cached, metadata["thresholds"], metadata["low_thresholds"])
    ]
    if args.stored:
        _score_runs(args, runs, data, unchanged, features, {}, metadata["min_area"])
        return
    per_tau = {}
    for tau in args.tau or TAUS:
        model = VisibilityGate(cached, [tau] * len(features)).eval()
        per_tau[tau] = budget_histograms(model, data, unchanged)
    chosen = budgeted_choice(per_tau, features, args.budget)
    gate = {name: tau for name, (tau, _) in chosen.items()}
    thresholds = {name: threshold for name, (_, threshold) in chosen.items()}
    runs.append(
        ("chosen", VisibilityGate(cached, [gate[name] for name in features]).eval(), thresholds, None)
    )
    _score_runs(args, runs, data, unchanged, features, gate, metadata["min_area"])


def _score_runs(
    args: argparse.Namespace,
    runs: list[tuple[str, nn.Module, Any, Any]],
    data: ChangePairs,
    unchanged: ChangePairs,
    features: list[str],
    gate: dict[str, float],
    min_area: int = 0,
) -> None:
    """Score each (name, model, thresholds, low thresholds or None) on the pairs and on the unchanged
    pairs, with the checkpoint's ``min_area`` (its masks drop changed regions of fewer pixels); print
    and save."""
    report: dict[str, Any] = {"model": str(args.model), "split": args.split, "pairs": len(data)}
    report["tta"] = args.tta or "the checkpoint's"
    report["budget"], report["unchanged_pairs"] = args.budget, len(unchanged)
    for key, model, at, low in runs:
        masks = {"change_thresholds": at, "change_low_thresholds": low, "change_min_area": min_area}
        scores = _scores(evaluate(model, data, **masks), features)
        alarms = evaluate(model, unchanged, **masks).none_false_positive_rate
        report[key] = {"tau": gate if key == "chosen" else 0, "thresholds": at, **scores}
        if low is not None and low != at:
            report[key]["low_thresholds"] = low
        report[key]["unchanged_false_positive_rate"] = alarms
        if min_area > 1:
            report[key]["min_area"] = min_area
        shown = {
            k: round(v["f1"], 4) for k, v in scores.items() if isinstance(v, dict) and v.get("f1") is not None
        }
        print(
            f"{key}: gate {report[key]['tau']}, thresholds {at}: pooled mean change F1 "
            f"{scores['pooled_mean_change_f1']:.4f}; {shown}; "
            f"wrong feature {scores['mean_wrong_feature_rate']:.4f}; "
            f"unchanged pairs marked {alarms:.6f}",
            flush=True,
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
