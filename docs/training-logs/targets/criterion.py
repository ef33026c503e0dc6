"""Print the figures of docs/training-logs/targets-rule.md from change_visibility.py --stored reports."""
import json
import sys

SINGLE = ["illumination", "reflection", "texture", "transparency"]
for path in sys.argv[1:]:
    r = json.load(open(path))["shipped"]
    own = {f: r["change_f1_by_set"][f][f] for f in SINGLE}
    everything = r["change_f1_by_set"]["all"]
    print(
        f"{path}: weakest own-set F1 {min(own.values()):.4f} ({min(own, key=own.get)}), "
        f"mean {sum(own.values()) / 4:.4f}; own {', '.join(f'{f} {v:.3f}' for f, v in own.items())}; "
        f"all mean {sum(everything.values()) / 4:.4f} ({', '.join(f'{v:.3f}' for v in everything.values())}); "
        f"wrong feature {r['mean_wrong_feature_rate']:.4f}; unchanged marked {r['unchanged_false_positive_rate']:.6f}; "
        f"pooled {r['pooled_mean_change_f1']:.4f}"
    )
