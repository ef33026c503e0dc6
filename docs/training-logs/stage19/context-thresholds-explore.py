# Exploration on val only (decides nothing; stage19-rule.md): run from the repository root as
#   python docs/training-logs/stage19/context-thresholds-explore.py runs/stage18/stage18.pt OUT.npy
"""Exploration (val only): would a second threshold per feature, used where illumination is marked, help?"""
import sys, json
import numpy as np, torch
from pathlib import Path
from synthdiff.change._data import ChangePairs
from synthdiff.change._registry import load_checkpoint

model_name, out = sys.argv[1], sys.argv[2]
D = Path("data/change")
sets = [D / s for s in ("texture-v2", "illumination-v2", "transparency-v2", "reflection-v2", "all-v2")]
for seed in (79, 83):
    sets += [D / f"fresh{seed}-{n}" for n in ("texture", "illumination", "transparency", "reflection-v2", "all-v2")]
nones = [D / "none-v2", D / "none-seed7", D / "fresh79-none", D / "fresh83-none"]
torch.set_num_threads(2)
model, meta = load_checkpoint(model_name)
model.eval()
features = list(meta["features"])
th = meta["thresholds"]
F = len(features)
kinds = features + ["all", "none"]
# hist[kind, f, ctx, label, bin]
hist = np.zeros((len(kinds), F, 2, 2, 100), np.int64)
data = ChangePairs(sets + nones, "val", features)
with torch.inference_mode():
    for i in range(len(data)):
        item = data[i]
        kind = kinds.index(item["feature"]) if item["feature"] in kinds else None
        p = torch.sigmoid(model(item["reference"][None], item["test"][None]).change)[0].numpy()
        lab = item["change"].numpy() > 0.5
        illum = p[features.index("illumination")] > th["illumination"]
        bins = np.clip((p * 100).astype(np.int64), 0, 99)
        for f in range(F):
            for c in (0, 1):
                for l in (0, 1):
                    m = (illum == bool(c)) & (lab[f] == bool(l))
                    hist[kind, f, c, l] += np.bincount(bins[f][m], minlength=100)
        if i % 200 == 0:
            print(i, len(data), flush=True)
np.save(out, hist)
json.dump({"features": features, "kinds": kinds, "thresholds": th}, open(out + ".json", "w"))
