"""Pool generated change datasets into one training folder, whatever split their pairs were made for.

A decision set is spent once it has decided its round (docs/models.md); its scenes can then serve as
training scenes. This writes OUT with a manifest whose pairs are those of the sources' SPLIT, marked as
``train``, each pair's files reached through a link to its source folder (nothing is copied), so that
``synthdiff train change --data OUT`` trains on them. Pair ids are prefixed with the source's name, so
two sources with the same scene numbers do not collide.

    python scripts/pool_change_sets.py --out data/change/spent-texture --split val \
        data/change/fresh41-texture data/change/fresh43-texture ...
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

LINK_FIELDS = ("reference", "test")


def _prefixed(value: Any, prefix: str) -> Any:
    """A manifest value with every relative file path in it (a string naming a file) put under prefix."""
    if isinstance(value, str):
        return f"{prefix}/{value}"
    if isinstance(value, dict):
        return {key: _prefixed(item, prefix) for key, item in value.items()}
    if isinstance(value, list):
        return [_prefixed(item, prefix) for item in value]
    return value


def pool(sources: list[Path], out: Path, split: str) -> int:
    """Write the pooled folder; returns the number of pairs."""
    if out.exists():
        sys.exit(f"Expected a new folder for --out, got the existing {out}. Fix: remove it or pick another.")
    infos = []
    for source in sources:
        manifest, info = source / "manifest.jsonl", source / "dataset.json"
        if not manifest.is_file() or not info.is_file():
            sys.exit(
                f"Expected a finished dataset (manifest.jsonl, dataset.json) in {source}. "
                "Fix: let generate finish."
            )
        infos.append(json.loads(info.read_text()))
    versions = {str(info.get("labels_version", "1")) for info in infos}
    features = {info["options"]["feature"] for info in infos}
    if len(versions) != 1 or len(features) != 1:
        sys.exit(
            f"Expected sources of one feature and one labels version, got features {sorted(features)} "
            f"and versions {sorted(versions)}."
        )
    if len({source.name for source in sources}) != len(sources):
        sys.exit("Expected sources with distinct folder names (they prefix the pair ids).")
    lines = []
    for source in sources:
        for line in (source / "manifest.jsonl").read_text().splitlines():
            record = json.loads(line)
            if record["split"] != split:
                continue
            record["pair_id"] = f"{source.name}/{record['pair_id']}"
            record["scene_id"] = f"{source.name}/{record.get('scene_id', '')}"
            record["split"] = "train"
            record["pooled_from"] = {"folder": str(source), "split": split}
            for field in LINK_FIELDS:
                record[field] = _prefixed(record[field], source.name)
            record["labels"] = _prefixed(record["labels"], source.name)
            lines.append(json.dumps(record, sort_keys=True))
    if not lines:
        sys.exit(f"Expected {split} pairs in the sources, found none.")
    out.mkdir(parents=True)
    for source in sources:
        (out / source.name).symlink_to(source.resolve(), target_is_directory=True)
    info = dict(infos[0])
    info["options"] = dict(info["options"], split=[1.0, 0.0, 0.0], seed=None, scenes=None)
    info["pooled"] = {"split": split, "sources": [str(source) for source in sources], "pairs": len(lines)}
    (out / "dataset.json").write_text(json.dumps(info, indent=2) + "\n")
    (out / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    return len(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sources", nargs="+", type=Path, help="dataset folders made by synthdiff generate")
    parser.add_argument("--out", type=Path, required=True, help="the pooled folder to write (must not exist)")
    parser.add_argument(
        "--split", default="val", choices=("train", "val", "test"), help="the sources' split to take"
    )
    args = parser.parse_args()
    count = pool(args.sources, args.out, args.split)
    print(f"{args.out}: {count} pairs from {len(args.sources)} folders, marked train")


if __name__ == "__main__":
    main()
