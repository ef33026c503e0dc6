"""Average the weights of change-model checkpoints that share their start (a uniform "model soup").

    python scripts/average_checkpoints.py runs/a/best.pt runs/b/best.pt runs/c/best.pt -o runs/soup/soup.pt \
        --data data/change/texture-v2x6 ... --data-weights 1 1 1 1 0.2 0.5 --pairs 400

Every floating-point weight becomes the mean of the checkpoints' (Wortsman et al., "Model soups",
ICML 2022). A mean of weights does not have the mean of the networks' batch-norm statistics, so with
``--data`` they are re-estimated, as stochastic weight averaging does (Izmailov et al., UAI 2018): the
running statistics are reset and averaged over ``--pairs`` training pairs (drawn with ``--data-weights``
if given; no augmentation), with the weights untouched. Without ``--data`` the statistics are averaged
like the weights. The result is a checkpoint of the same model at thresholds 0.5; tune them on val
(``synthdiff eval change``, ``scripts/change_visibility.py --budget``) before scoring it anywhere else.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, RandomSampler, WeightedRandomSampler

from synthdiff.change import ChangePairs, load_checkpoint, save_checkpoint
from synthdiff.change._train import sampling_weights


def average_state_dicts(states: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The mean of each floating-point tensor; integer tensors (batch counts) from the first state.

    Raises:
        SystemExit: the states do not hold the same tensors with the same shapes.
    """
    keys = list(states[0])
    for state in states[1:]:
        if list(state) != keys or any(state[k].shape != states[0][k].shape for k in keys):
            raise SystemExit(
                "Expected checkpoints of the same model with the same tensors, got different ones."
            )
    return {
        key: (
            torch.stack([state[key].float() for state in states]).mean(0).to(states[0][key].dtype)
            if states[0][key].is_floating_point()
            else states[0][key].clone()
        )
        for key in keys
    }


@torch.no_grad()
def reestimate_batch_norm(model: nn.Module, loader: DataLoader[dict[str, Any]]) -> int:
    """Reset every batch-norm layer's running statistics and set them to their mean over ``loader``'s
    batches (cumulative average), leaving the weights as they are. Returns the number of pairs seen.

    What ``torch.optim.swa_utils.update_bn`` does, for a model that takes two images (it passes one)."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    seen = 0
    for batch in loader:
        model(batch["reference"], batch["test"])
        seen += len(batch["reference"])
    for m, momentum in zip(norms, momenta, strict=True):
        m.momentum = momentum
    model.eval()
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", type=Path, nargs="+")
    parser.add_argument("-o", "--out", type=Path, required=True)
    parser.add_argument("--data", type=Path, action="append", default=[], help="training folder (repeat)")
    parser.add_argument("--data-weights", type=float, nargs="+", default=[], help="share of draws per --data")
    parser.add_argument("--pairs", type=int, default=400, help="training pairs for the batch-norm statistics")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if len(args.checkpoints) < 2:
        parser.error("give at least two checkpoints")
    if args.data_weights and len(args.data_weights) != len(args.data):
        parser.error(f"expected one --data-weights entry per --data folder ({len(args.data)})")
    loaded = [load_checkpoint(path, views="none") for path in args.checkpoints]
    name, features = loaded[0][1]["model"], list(loaded[0][1]["features"])
    for path, (_, metadata) in zip(args.checkpoints, loaded, strict=True):
        if metadata["model"] != name or list(metadata["features"]) != features:
            parser.error(
                f"{path} holds {metadata['model']!r} for {metadata['features']}, not {name!r} for {features}"
            )
    model = loaded[0][0]
    model.load_state_dict(average_state_dicts([member.state_dict() for member, _ in loaded]))
    config: dict[str, Any] = dict(loaded[0][1]["config"])
    config["averaged_from"] = [str(path) for path in args.checkpoints]
    if args.data:
        torch.manual_seed(args.seed)
        pairs = ChangePairs(args.data, "train", features)
        generator = torch.Generator().manual_seed(args.seed)
        sampler: WeightedRandomSampler | RandomSampler = (
            WeightedRandomSampler(
                sampling_weights(pairs.dataset_index, args.data_weights), args.pairs, generator=generator
            )
            if args.data_weights
            else RandomSampler(pairs, num_samples=min(args.pairs, len(pairs)), generator=generator)
        )
        loader = DataLoader(pairs, batch_size=args.batch_size, sampler=sampler)
        seen = reestimate_batch_norm(model, loader)
        config["batch_norm_statistics"] = {
            "data": [str(folder) for folder in args.data],
            "data_weights": args.data_weights,
            "pairs": seen,
            "seed": args.seed,
        }
        print(f"batch-norm statistics re-estimated on {seen} training pairs")
    save_checkpoint(args.out, model, name, features, config=config)
    print(f"average of {len(loaded)} checkpoints of {name!r}: {args.out}")


if __name__ == "__main__":
    main()
