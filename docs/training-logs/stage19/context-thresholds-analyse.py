# Reads context-thresholds-explore.py's counts: python docs/training-logs/stage19/context-thresholds-analyse.py OUT.npy
import sys, json
import numpy as np
h = np.load(sys.argv[1]); meta = json.load(open(sys.argv[1] + ".json"))
features, kinds, th = meta["features"], meta["kinds"], meta["thresholds"]
BUDGET = 0.00025
# cumulative from the top: marked count for threshold k = bins >= k
cum = h[..., ::-1].cumsum(-1)[..., ::-1]  # cum[..., k] = sum bins >= k
none = kinds.index("none"); allk = kinds.index("all")
def f1(tp, fp, p):
    return 2 * tp / (2 * tp + fp + (p - tp)) if (2 * tp + fp + p - tp) else 0.0
for f, name in enumerate(features):
    if name == "illumination":
        continue
    own = kinds.index(name)
    changed = [k for k in range(len(kinds)) if k != none]
    best = {}
    for mode in ("single", "context"):
        top = None
        for t0 in range(1, 100):
            for t1 in (range(1, 100) if mode == "context" else [t0]):
                ts = (t0, t1)
                def marked(k, l):
                    return sum(cum[k, f, c, l, ts[c]] for c in (0, 1))
                npix = h[none, f].sum()
                alarm = (marked(none, 0) + marked(none, 1)) / npix
                if alarm > BUDGET:
                    continue
                tp = sum(marked(k, 1) for k in changed); fp = sum(marked(k, 0) for k in changed)
                p = sum(h[k, f, :, 1].sum() for k in changed)
                pooled = f1(tp, fp, p)
                if top is None or pooled > top[0]:
                    own_f1 = f1(marked(own, 1), marked(own, 0), h[own, f, :, 1].sum())
                    all_f1 = f1(marked(allk, 1), marked(allk, 0), h[allk, f, :, 1].sum())
                    others = [kinds.index(o) for o in features if o != name]
                    wrong = sum(marked(k, 0) for k in others) / sum(h[k, f].sum() for k in others)
                    top = (pooled, ts, own_f1, all_f1, wrong, alarm)
        best[mode] = top
    for mode, (pooled, ts, own_f1, all_f1, wrong, alarm) in best.items():
        print(f"{name:13s} {mode:8s} t={ts[0]/100:.2f}/{ts[1]/100:.2f} pooled {pooled:.4f} own {own_f1:.4f} all {all_f1:.4f} wrong {100*wrong:.2f} % none {100*alarm:.4f} %")
