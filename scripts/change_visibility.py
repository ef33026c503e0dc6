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
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from synthdiff.change._data import ChangePairs
from synthdiff.change._evaluate import evaluate, tune_thresholds
from synthdiff.change._models import ChangeOutput
from synthdiff.change._registry import load_checkpoint

TAUS = (0.0, 0.01, 0.02, 0.03, 0.05)
SINGLE = ("illumination", "reflection", "texture", "transparency")


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


def _scores(result: Any, features: list[str]) -> dict[str, Any]:
    """Per dataset feature: its own change F1, precision and recall; and the pooled mean change F1."""
    out: dict[str, Any] = {"pooled_mean_change_f1": result.mean_change_f1()}
    # Each feature's change F1 over every pair together (the pooled mean is their mean).
    out["pooled_change_f1"] = {name: result.scores["pooled"]["change"][name]["f1"] for name in features}
    for group, maps in result.scores.items():
        if group in features:
            out[group] = {k: maps["change"][group][k] for k in ("f1", "precision", "recall")}
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


def _fixed_thresholds(path: Path, taus: list[float] | None) -> dict[str, float]:
    """Thresholds to score at: a JSON {feature: threshold}, or a val report of this script, from which
    the run of the one ``--tau`` given is taken."""
    stored = json.loads(path.read_text())
    if "runs" not in stored:
        return {str(k): float(v) for k, v in stored.items()}
    if not taus or len(taus) != 1:
        raise SystemExit("Expected exactly one --tau with a val report as --thresholds.")
    for run in stored["runs"]:
        if abs(run["tau"] - taus[0]) < 1e-12:
            return {str(k): float(v) for k, v in run["thresholds"].items()}
    raise SystemExit(f"{path} has no run with tau {taus[0]}.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="fresunet", help="shipped model name or checkpoint")
    parser.add_argument("--data", type=Path, action="append", required=True, help="dataset folder (repeat)")
    parser.add_argument("--split", default="val", choices=("val", "test"))
    parser.add_argument("--tau", type=float, action="append", help=f"gates to try (default: {TAUS})")
    parser.add_argument(
        "--thresholds", type=Path, help="JSON {feature: threshold}: score at these, no tuning"
    )
    parser.add_argument(
        "--in-progress",
        action="store_true",
        help="read the split from a dataset still being generated, once that split is complete",
    )
    parser.add_argument("-o", "--out", type=Path, required=True)
    args = parser.parse_args()
    torch.set_num_threads(2)
    detector, metadata = load_checkpoint(args.model)
    features = list(metadata["features"])
    data = ChangePairs(args.data, args.split, features, cache=True, in_progress=args.in_progress)
    fixed = _fixed_thresholds(args.thresholds, args.tau) if args.thresholds else None
    report: dict[str, Any] = {"model": str(args.model), "split": args.split, "pairs": len(data), "runs": []}
    for tau in args.tau or TAUS:
        model = VisibilityGate(detector, [tau] * len(features)).eval()
        thresholds = fixed or tune_thresholds(model, data)
        scores = _scores(evaluate(model, data, change_thresholds=thresholds), features)
        report["runs"].append({"tau": tau, "thresholds": thresholds, **scores})
        shown = {
            k: round(v["f1"], 4) for k, v in scores.items() if isinstance(v, dict) and v["f1"] is not None
        }
        print(f"tau {tau}: pooled mean change F1 {scores['pooled_mean_change_f1']:.4f}; {shown}", flush=True)
    if not fixed:  # the stored thresholds, without a gate, for reference
        scores = _scores(evaluate(detector, data, change_thresholds=metadata.get("thresholds")), features)
        report["stored_thresholds_no_gate"] = scores
        print(f"stored thresholds, no gate: pooled mean change F1 {scores['pooled_mean_change_f1']:.4f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
