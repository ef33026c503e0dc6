"""Options, scene descriptions and splits (no Blender)."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from synthdiff.errors import InvalidArgumentError, MissingDependencyError, SceneError
from synthdiff.synth import FEATURES, GenerateOptions, _generate, describe_scene, parse_size, texture_images


def test_parse_size() -> None:
    assert parse_size("256") == (256, 256)
    assert parse_size("320x240") == (320, 240)
    assert parse_size(64) == (64, 64)
    for bad in ("0", "abc", "5000", "-3", "12x0"):
        with pytest.raises(InvalidArgumentError, match="--size"):
            parse_size(bad)


def test_unknown_feature_lists_the_valid_ones() -> None:
    with pytest.raises(InvalidArgumentError, match="illumination, reflection, texture"):
        GenerateOptions(feature="shadows")


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("scenes", 0, "--scenes"),
        ("variants", -1, "--variants"),
        ("samples", 0, "--samples"),
        ("seed", -2, "--seed"),
    ],
)
def test_out_of_range_numbers(field: str, value: int, match: str) -> None:
    with pytest.raises(InvalidArgumentError, match=match):
        GenerateOptions(feature="texture", **{field: value})


def test_size_zero_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="--size"):
        GenerateOptions(feature="texture", width=0, height=0)


def test_missing_scene_file(tmp_path: Path) -> None:
    with pytest.raises(SceneError, match="does not exist"):
        GenerateOptions(feature="texture", scene_file=str(tmp_path / "exam.blend"))


def test_scene_file_that_is_not_a_blend_file(tmp_path: Path) -> None:
    fake = tmp_path / "exam.blend"
    fake.write_text("not a scene")
    with pytest.raises(SceneError, match="not one"):
        GenerateOptions(feature="texture", scene_file=str(fake))


@pytest.mark.parametrize("split", [(0.5, 0.5, 0.5), (0.8, 0.1, -0.1), (0.9, 0.1)])
def test_bad_split(split: tuple[float, ...]) -> None:
    with pytest.raises(
        InvalidArgumentError, match=r"--split as three fractions train,val,test, each 0 or more"
    ):
        GenerateOptions(feature="none", split=split)


def test_every_feature_is_accepted() -> None:
    for feature in FEATURES:
        assert GenerateOptions(feature=feature).feature == feature


def test_scene_descriptions_are_reproducible_and_plausible() -> None:
    images = texture_images()
    first = describe_scene(7, 3, images)
    assert first == describe_scene(7, 3, images)
    assert first != describe_scene(7, 4, images)
    for index in range(20):
        scene = describe_scene(0, index, images)
        assert 3 <= len(scene["objects"]) <= 8
        assert 1 <= len(scene["lights"]) <= 3
        textured = [o for o in scene["objects"] if o["material"]["texture"]] + (
            [1] if scene["ground"]["material"]["texture"] else []
        )
        assert textured, "every scene has something textured (the texture feature needs it)"
        footprints = [(o["location"][0], o["location"][1], 0.75 * o["scale"]) for o in scene["objects"]]
        for i, (x, y, r) in enumerate(footprints):
            for x2, y2, r2 in footprints[i + 1 :]:
                assert math.hypot(x - x2, y - y2) > r + r2, "objects overlap"


def test_splits_are_by_scene_and_cover_every_split() -> None:
    splits = _generate.assign_splits(10, 0, (0.8, 0.1, 0.1))
    assert splits.count("train") == 8 and splits.count("val") == 1 and splits.count("test") == 1
    assert splits == _generate.assign_splits(10, 0, (0.8, 0.1, 0.1))
    assert _generate.assign_splits(3, 5, (0.8, 0.1, 0.1)).count("train") == 1
    assert _generate.assign_splits(1, 0, (0.8, 0.1, 0.1)) == ["train"]
    assert _generate.assign_splits(6, 1, (0.0, 0.0, 1.0)) == ["test"] * 6  # a test-only dataset
    assert _generate.assign_splits(6, 1, (0.0, 0.5, 0.5)).count("train") == 0


def test_evaluation_scenes_render_first() -> None:
    splits = ["train", "test", "train", "val", "train", "val", "test"]
    order = _generate.render_order(splits)
    assert order == [3, 5, 1, 6, 0, 2, 4]
    assert sorted(order) == list(range(len(splits)))  # every scene once
    assert _generate.render_order([]) == []


def test_wrong_python_version_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_generate, "BPY_PYTHON", (3, 99))
    with pytest.raises(MissingDependencyError, match=r"Python 3\.99 only.*pip install"):
        _generate.check_blender()


def test_missing_bpy_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    real = _generate.importlib.util.find_spec
    monkeypatch.setattr(
        _generate.importlib.util, "find_spec", lambda name, *a: None if name == "bpy" else real(name, *a)
    )
    with pytest.raises(MissingDependencyError, match=r"synthdiff\[blender\]"):
        _generate.check_blender()


def test_importing_synthdiff_does_not_import_blender() -> None:
    code = "import sys, synthdiff, synthdiff.synth, synthdiff.cli; print('bpy' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_a_damaged_journal_or_dataset_record_is_read_past_not_raised(tmp_path: Path) -> None:
    # Bytes that are not UTF-8 raised UnicodeDecodeError on resume; now their line is one more pair to
    # render again, and a damaged dataset.json is written anew like one that is not JSON.
    journal = tmp_path / "progress.jsonl"
    journal.write_bytes(b'{"pair_id": "s00000_v000", "split": "train"}\n{"pair_id": "s0\xff"}\n{}\n7\n')
    assert list(_generate._read_journal(journal)) == ["s00000_v000"]
    (tmp_path / "dataset.json").write_bytes(b'{"options": {"seed": "\xff"}}')
    _generate._check_settings(tmp_path, {"options": {"seed": 0}})


def test_the_view_transform_is_checked_and_recorded_only_when_chosen() -> None:
    from synthdiff.synth import VIEW_TRANSFORMS

    assert VIEW_TRANSFORMS == ("AgX", "Standard", "Filmic", "Khronos PBR Neutral", "mixed")
    with pytest.raises(InvalidArgumentError, match=r"--view-transform to be one of AgX, Standard.*got 'agx'"):
        GenerateOptions(feature="texture", view_transform="agx")
    # The default leaves dataset.json as it was before the option, so such datasets still resume.
    assert "view_transform" not in GenerateOptions(feature="texture").to_dict()
    assert GenerateOptions(feature="texture", view_transform="mixed").to_dict()["view_transform"] == "mixed"
