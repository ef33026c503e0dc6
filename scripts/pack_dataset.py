"""Pack generated datasets into one small archive, to train on another machine (docs/models.md).

A 256x256 dataset pair is about 110 KB as PNG; here the renders are re-encoded as JPEG (quality 95,
about 25 KB: lossy, the label maps stay lossless PNG) and only the chosen splits are kept, so the
training pairs of all the shipped models' datasets fit in a few tens of MB. The archive unpacks to
dataset folders that ``synthdiff train change --data`` reads as they are.

    python scripts/pack_dataset.py data/change/texture data/change/none --splits train,val \
        --max-variants 6 -o pack.tar.xz
    tar -xf pack.tar.xz -C somewhere/   # -> somewhere/texture, somewhere/none
"""

from __future__ import annotations

import argparse
import io
import json
import tarfile
from pathlib import Path

from PIL import Image


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


def _jpeg(path: Path, quality: int) -> bytes:
    with Image.open(path) as image:
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format="JPEG", quality=quality, subsampling=0)
        return buffer.getvalue()


def pack(folders: list[Path], out: Path, splits: set[str], max_variants: int | None, quality: int) -> None:
    with tarfile.open(out, "w:xz") as archive:
        for folder in folders:
            lines, written = [], set()
            for line in (folder / "manifest.jsonl").read_text().splitlines():
                record = json.loads(line)
                variant = int(record["pair_id"].rsplit("_v", 1)[1])
                if record["split"] not in splits or (max_variants is not None and variant >= max_variants):
                    continue
                for key in ("reference", "test"):
                    source = record[key]
                    record[key] = str(Path(source).with_suffix(".jpg"))
                    if record[key] not in written:
                        _add_bytes(archive, f"{folder.name}/{record[key]}", _jpeg(folder / source, quality))
                        written.add(record[key])
                for maps in record["labels"].values():
                    for path in maps.values():
                        if path not in written:
                            archive.add(folder / path, f"{folder.name}/{path}")
                            written.add(path)
                record["packed"] = {"jpeg_quality": quality}
                lines.append(json.dumps(record, sort_keys=True))
            _add_bytes(archive, f"{folder.name}/manifest.jsonl", ("\n".join(lines) + "\n").encode())
            print(f"{folder.name}: {len(lines)} pairs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("-o", "--out", type=Path, required=True)
    parser.add_argument("--splits", default="train,val")
    parser.add_argument("--max-variants", type=int, default=None, help="keep variants 0..N-1 of each scene")
    parser.add_argument("--quality", type=int, default=95)
    args = parser.parse_args()
    pack(args.folders, args.out, set(args.splits.split(",")), args.max_variants, args.quality)
    print(f"{args.out}: {args.out.stat().st_size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
