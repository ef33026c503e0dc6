"""Reading generated datasets: tensors, consistent augmentation, swaps, errors."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from synthdiff.change._data import ChangePairs, PairRecord, read_manifest
from synthdiff.errors import InvalidArgumentError, OutputError
from synthdiff.synth import LABEL_FEATURES

SIZE = 24


def fake_dataset(root: Path, pairs: int = 3) -> Path:
    """A dataset in generate's layout: the test image is the reference with a bright square; the
    texture change map marks that square, seg_ref marks the left half, seg_test the top half."""
    rng = np.random.default_rng(0)
    lines = []
    for index in range(pairs):
        pid = f"s00000_v{index:03d}"
        folder = root / "pairs" / pid
        folder.mkdir(parents=True)
        reference = rng.integers(0, 200, (SIZE, SIZE, 3), dtype=np.uint8)
        test = reference.copy()
        test[4:10, 12:20] = 255
        Image.fromarray(reference).save(folder / "reference.png")
        Image.fromarray(test).save(folder / "test.png")
        labels: dict[str, dict[str, str]] = {"seg_ref": {}, "seg_test": {}, "change": {}}
        for name in LABEL_FEATURES:
            maps = {key: np.zeros((SIZE, SIZE), np.uint8) for key in labels}
            if name == "texture":
                maps["change"][4:10, 12:20] = 255
                maps["seg_ref"][:, : SIZE // 2] = 255
                maps["seg_test"][: SIZE // 2] = 255
            for key, values in maps.items():
                Image.fromarray(values).save(folder / f"{key}_{name}.png")
                labels[key][name] = f"pairs/{pid}/{key}_{name}.png"
        lines.append(
            {
                "pair_id": pid,
                "feature": "texture",
                "split": "train" if index < pairs - 1 else "val",
                "reference": f"pairs/{pid}/reference.png",
                "test": f"pairs/{pid}/test.png",
                "labels": labels,
                "changes": [{"feature": "texture", "target": f"material:{('object1', 'ground')[index % 2]}"}],
            }
        )
    (root / "manifest.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    return root


def test_items_are_tensors_in_the_documented_layout(tmp_path: Path) -> None:
    data = ChangePairs([fake_dataset(tmp_path)], "train", ["texture", "illumination"])
    assert len(data) == 2
    item = data[0]
    assert item["reference"].shape == (3, SIZE, SIZE) and item["reference"].dtype == torch.float32
    assert item["change"].shape == (2, SIZE, SIZE)
    assert item["change"][0].sum() == 6 * 8 and item["change"][1].sum() == 0
    assert float(item["reference"].max()) <= 1.0
    assert item["pair_id"] == "s00000_v000" and item["feature"] == "texture"


def test_a_pairs_place_is_what_its_changes_touched() -> None:
    def place(*targets: str) -> str:
        return PairRecord(Path("."), {"pair_id": "p", "changes": [{"target": t} for t in targets]}).place

    assert place("material:object3", "material:ground", "material:object1") == "ground+object"
    assert place("light:light2") == "light" and place("world", "light:light1") == "light+world"
    assert place() == "none" and PairRecord(Path("."), {"pair_id": "p"}).place == "none"


def test_augmentation_moves_images_and_labels_together(tmp_path: Path) -> None:
    data = ChangePairs(
        [fake_dataset(tmp_path)], "train", ["texture"], augment=True, swap=0.5, crop=16, seed=3
    )
    for epoch in range(6):
        data.set_epoch(epoch)
        item = data[0]
        assert item["reference"].shape == (3, 16, 16)
        # The change map still marks exactly the pixels where the two images differ.
        differs = (item["reference"] - item["test"]).abs().amax(dim=0) > 0
        assert torch.equal(differs, item["change"][0] > 0)


def test_swap_exchanges_segmentations(tmp_path: Path) -> None:
    plain = ChangePairs([fake_dataset(tmp_path)], "train", ["texture"])[0]
    swapped = ChangePairs([tmp_path], "train", ["texture"], swap=1.0)[0]
    assert torch.equal(plain["reference"], swapped["test"])
    assert torch.equal(plain["seg_ref"], swapped["seg_test"])
    assert torch.equal(plain["change"], swapped["change"])


def test_bad_datasets_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=r"no manifest\.jsonl"):
        read_manifest(tmp_path)
    with pytest.raises(OutputError, match="does not exist"):
        read_manifest(tmp_path / "typo")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(OutputError, match="is a file"):
        read_manifest(tmp_path / "file.txt", "val", in_progress=True)
    root = fake_dataset(tmp_path / "broken")
    (root / "pairs" / "s00000_v000" / "test.png").unlink()
    with pytest.raises(OutputError, match=r"test\.png"):
        ChangePairs([root], "train", ["texture"])[0]
    (root / "pairs" / "s00000_v001" / "change_texture.png").write_bytes(b"\x89PNG\r\n\x1a\ncut short")
    with pytest.raises(OutputError, match=r"change_texture\.png' to be a readable PNG.*Fix: generate"):
        ChangePairs([root], "train", ["texture"])[1]
    with pytest.raises(
        InvalidArgumentError,
        match=r"test split of .*broken, found none \(pairs by split: train 2, val 1, test 0\)",
    ):
        ChangePairs([root], "test", ["texture"]).require_pairs()
    ChangePairs([root], "val", ["texture"]).require_pairs()  # one pair: enough
    (root / "manifest.jsonl").write_text("{not json\n")
    with pytest.raises(OutputError, match="line 1"):
        read_manifest(root)
    # Damaged bytes (a UnicodeDecodeError traceback before), and a dataset.json that is not UTF-8
    # counts as none (its options are what tells a dataset still growing).
    (root / "manifest.jsonl").write_bytes(b'{"pair_id": "a"}\n{"pair_id": "\xff"}\n')
    with pytest.raises(OutputError, match=r"UTF-8 dataset manifest at .*, but byte 30 \(line 2\)"):
        read_manifest(root)
    (root / "dataset.json").write_bytes(b'{"options": {"width": "\xff"}}')
    from synthdiff.change._data import smallest_recorded_side

    assert smallest_recorded_side([root]) is None


def test_a_dataset_being_grown_is_not_read_as_finished(tmp_path: Path) -> None:
    # A copy of a 3-pair dataset grown to 6 variants: its old manifest lists 3 of the 6 planned pairs.
    root = fake_dataset(tmp_path)
    finished = (root / "manifest.jsonl").read_text()
    (root / "progress.jsonl").write_text(finished)
    (root / "dataset.json").write_text(json.dumps({"options": {**IN_PROGRESS_OPTIONS, "variants": 6}}))
    with pytest.raises(OutputError, match=r"plans, but .* lists 3: the dataset is being grown"):
        read_manifest(root, "val")
    # --in-progress reads the journal instead, and it too holds only 1 of the 6 val pairs.
    with pytest.raises(OutputError, match=r"only 1 of 6 are"):
        read_manifest(root, "val", in_progress=True)
    (root / "dataset.json").write_text(json.dumps({"options": {**IN_PROGRESS_OPTIONS, "scenes": 3}}))
    assert len(read_manifest(root)) == 3  # a manifest listing every planned pair is finished


# The generate options of a fake dataset in progress: 1 val scene, 8 train.
IN_PROGRESS_OPTIONS = {"scenes": 10, "seed": 0, "variants": 1, "split": [0.8, 0.1, 0.1]}


def make_in_progress(root: Path) -> None:
    """Turn a finished fake dataset into one as generate leaves a run in progress: a journal (its last
    line cut short), no manifest yet, and the options of :data:`IN_PROGRESS_OPTIONS`."""
    journal = (root / "manifest.jsonl").read_text()
    (root / "manifest.jsonl").unlink()
    (root / "progress.jsonl").write_text(journal + journal.splitlines()[0][:30])
    (root / "dataset.json").write_text(json.dumps({"options": IN_PROGRESS_OPTIONS}))


def test_a_complete_split_of_a_dataset_in_progress_can_be_read(tmp_path: Path) -> None:
    root = fake_dataset(tmp_path)  # pairs 0 and 1 in train, pair 2 in val
    finished = {r.pair_id: r.record for r in read_manifest(root)}
    make_in_progress(root)
    options = IN_PROGRESS_OPTIONS

    val = read_manifest(root, "val", in_progress=True)
    assert [(r.pair_id, r.record) for r in val] == [("s00000_v002", finished["s00000_v002"])]
    assert len(ChangePairs([root], "val", ["texture"], in_progress=True)) == 1
    with pytest.raises(OutputError, match=r"only 2 of 8 are"):
        read_manifest(root, "train", in_progress=True)
    with pytest.raises(OutputError, match=r"no manifest\.jsonl"):
        read_manifest(root, "val")  # only on request
    (root / "dataset.json").write_text(json.dumps({"options": {**options, "variants": 2}}))
    with pytest.raises(OutputError, match=r"only 1 of 2 are"):
        read_manifest(root, "val", in_progress=True)
    (root / "dataset.json").unlink()
    with pytest.raises(OutputError, match=r"dataset\.json"):
        read_manifest(root, "val", in_progress=True)


@pytest.mark.blender
@pytest.mark.skipif(importlib.util.find_spec("bpy") is None, reason="the blender extra is not installed")
def test_reads_a_real_generated_dataset(tmp_path: Path) -> None:
    from synthdiff.synth import GenerateOptions, generate

    generate(
        GenerateOptions("mixed", scenes=1, variants=2, width=48, height=48, samples=4), tmp_path / "mixed"
    )
    data = ChangePairs([tmp_path / "mixed"], "train", list(LABEL_FEATURES))
    item = data[1]
    assert item["reference"].shape == (3, 48, 48)
    assert item["change"].shape == (5, 48, 48)
    changed = {name for name, plane in zip(LABEL_FEATURES, item["change"], strict=True) if plane.any()}
    assert changed <= {"illumination", "texture"}


def test_cached_items_equal_uncached_ones(tmp_path: Path) -> None:
    root = fake_dataset(tmp_path)
    plain = ChangePairs([root], "train", ["texture"], augment=True, crop=16, seed=5)
    cached = ChangePairs([root], "train", ["texture"], augment=True, crop=16, seed=5, cache=True)
    for epoch in range(3):
        plain.set_epoch(epoch)
        cached.set_epoch(epoch)
        for index in range(len(plain)):
            a, b = plain[index], cached[index]
            for key in ("reference", "test", "seg_ref", "seg_test", "change"):
                assert torch.equal(a[key], b[key])
    (root / "pairs" / "s00000_v000" / "test.png").unlink()
    assert cached[0]["pair_id"] == "s00000_v000"  # served from memory, the file is not read again
