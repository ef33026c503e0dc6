"""``gap`` end to end: same-source sets sit at their baseline, photos vs renders stand apart, the cache
is reused, and odd folders (mixed sizes, empty, one image, unreadable files) are handled."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from synthdiff.cli import app
from synthdiff.errors import InvalidArgumentError
from synthdiff.gap import gap
from synthdiff.io import save_exr, save_png
from tests.conftest import photo, to_uint8


def noisy_photos(folder: Path, count: int, seed: int) -> Path:
    """Textured 'photos' of mixed sizes: random smooth colour fields plus sensor-like noise."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for index in range(count):
        height, width = (48, 64) if index % 2 else (64, 56)
        rows, cols = np.mgrid[0:height, 0:width] / 64.0
        base = np.stack([rows * rng.random(), cols * rng.random(), np.full_like(rows, rng.random())], axis=-1)
        pixels = np.clip(base + rng.normal(0, 0.1, base.shape), 0, 1)
        Image.fromarray((pixels * 255).astype(np.uint8)).save(folder / f"{index:03d}.png")
    return folder


def flat_renders(folder: Path, count: int, seed: int) -> Path:
    """Clean 'renders': flat-shaded discs on a gradient, no noise."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:56, 0:56]
    for index in range(count):
        pixels = np.zeros((56, 56, 3))
        pixels[...] = rows[..., None] / 112.0
        centre = rng.integers(10, 46, 2)
        pixels[(rows - centre[0]) ** 2 + (cols - centre[1]) ** 2 < 150] = rng.random(3)
        Image.fromarray((pixels * 255).astype(np.uint8)).save(folder / f"{index:03d}.png")
    return folder


def test_same_source_is_within_baseline_and_renders_are_far_from_photos(tmp_path: Path) -> None:
    photos = noisy_photos(tmp_path / "photos", 24, seed=0)
    more_photos = noisy_photos(tmp_path / "more", 24, seed=1)
    renders = flat_renders(tmp_path / "renders", 24, seed=2)
    cache = tmp_path / "cache"
    near = gap(photos, more_photos, cache_dir=cache, resamples=20).to_dict()
    far = gap(photos, renders, cache_dir=cache, resamples=20).to_dict()
    kid_near, kid_far = near["deep_features"]["metrics"]["kid"], far["deep_features"]["metrics"]["kid"]
    low, high = kid_near["baseline"]["interval"]
    assert kid_near["gap"]["interval"][0] <= high and kid_near["gap"]["interval"][1] >= low  # overlap
    assert kid_far["gap"]["interval"][0] > kid_far["baseline"]["interval"][1]
    assert far["deep_features"]["classifier"]["auc"] > 0.9
    assert far["frequency"]["high_frequency_difference"] < near["frequency"]["high_frequency_difference"]
    assert far["cache"]["records_reused"] == 24  # the photos' records came from the first run
    # A damaged cache file costs a re-measurement, not an image reported unreadable.
    for damaged in cache.rglob("*.npz"):
        damaged.write_bytes(b"PK\x03\x04 cut short")
    again = gap(photos, renders, cache_dir=cache, resamples=20).to_dict()
    assert again["inventory"]["a"]["unreadable"] == [] and again["inventory"]["b"]["unreadable"] == []
    assert again["cache"]["records_reused"] == 0
    assert again["deep_features"]["metrics"] == far["deep_features"]["metrics"]
    assert near["inventory"]["a"]["distinct_resolutions"] == 2
    assert len(far["ranking"]["b_least_like_a"]) == 8


def test_cli_writes_the_report_and_lists_unreadable_files(tmp_path: Path) -> None:
    photos = noisy_photos(tmp_path / "photos", 12, seed=3)
    renders = flat_renders(tmp_path / "renders", 12, seed=4)
    (renders / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    # A 16-bit PNG and a linear HDR OpenEXR file are read at full precision (HDR tone-mapped).
    ramp = np.linspace(0, 1, 64 * 48, dtype=np.float32).reshape(48, 64)
    save_png(renders / "deep.png", np.repeat(ramp[..., None], 3, axis=2), bit_depth=16)
    save_exr(renders / "light.exr", np.repeat(4.0 * ramp[..., None], 3, axis=2))
    result = CliRunner().invoke(
        app,
        ["gap", str(photos), str(renders), "-o", str(tmp_path / "out"), "--names", "photos,renders",
         "--cache-dir", str(tmp_path / "cache"), "--resamples", "5"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "gap.json").read_text())
    assert report["schema_version"] == "1.3" and report["sets"]["b"]["name"] == "renders"
    assert report["shared_images"] == 0 and report["near_identical"]["count"] == 0 and report["notes"] == []
    assert [report["near_identical_within"][key]["count"] for key in "ab"] == [0, 0]
    low, high = report["deep_features"]["classifier"]["interval"]
    assert (
        f"classifier AUC {report['deep_features']['classifier']['auc']:.3f} [{low:.3f}, {high:.3f}]"
        in result.output
    )
    assert [u["path"] for u in report["inventory"]["b"]["unreadable"]] == [str(renders / "broken.png")]
    inventory = report["inventory"]["b"]
    assert inventory["images"] == 14 and inventory["hdr"] == 1 and inventory["bit_depths"]["16"] >= 1
    html = (tmp_path / "out" / "index.html").read_text()
    assert "data:image/png;base64," in html and "broken.png" in html
    # Counts by kind read "png: 12", not a Python dict; sizes read WxH.
    assert "png: " in html and " bits: " in html and "{&#39;" not in html and "{'" not in html
    # The status shows only when something was not computed (the paragraph began "computed.").
    assert report["deep_features"]["status"] == "computed" and ">computed. " not in html
    width, height = inventory["median_size"]
    assert f"<td>{width}x{height}</td>" in html
    for name in ("histograms.png", "spectra.png", "embeddings.png", "distances.png"):
        assert (tmp_path / "out" / name).is_file()
    # Both rankings are listed under the sets' names (only B's was, as "renders images least like photos").
    for own, other, key in (("renders", "photos", "b_least_like_a"), ("photos", "renders", "a_least_like_b")):
        assert f"<th>{own}: the images least like {other}</th>" in html
        assert all(f"<code>{item['path']}</code>" in html for item in report["ranking"][key])


def test_files_in_both_sets_are_counted_and_explained(tmp_path: Path) -> None:
    # A set against itself: the classifier's AUC fell to 0.035 with nothing to say why.
    photos = noisy_photos(tmp_path / "photos", 12, seed=7)
    mixed = noisy_photos(tmp_path / "mixed", 12, seed=8)
    for name in sorted(p.name for p in photos.iterdir())[:5]:
        (mixed / f"copy-{name}").write_bytes((photos / name).read_bytes())
    report = gap(photos, mixed, cache_dir=tmp_path / "cache", resamples=5).to_dict()
    assert report["shared_images"] == 5
    assert report["notes"] == [
        "5 images of B are also in A (the same file content): every measure but the classifier (which holds "
        "copies of a picture out together) counts them as different images, so the sets look more alike "
        "than they are."
    ]
    # A set against itself: the classifier cannot tell them apart (AUC 0.035 before copies were held out
    # together: each held-out copy was scored by a model trained on its twin under the other label).
    itself = gap(photos, photos, cache_dir=tmp_path / "cache", resamples=5).to_dict()
    assert itself["deep_features"]["classifier"]["auc"] == 0.5
    page = (tmp_path / "out").joinpath("index.html")
    gap(photos, mixed, cache_dir=tmp_path / "cache", resamples=5).save(tmp_path / "out")
    assert 'also in the other set (same file content)</td><td colspan="2">5</td>' in page.read_text()


def test_re_encoded_and_resized_copies_are_found_as_near_identical(tmp_path: Path) -> None:
    """Real photos (scikit-image's): a copy, JPEG 75 copies and half-size copies are near-identical to
    their originals; other photos are not."""
    originals, others = ["astronaut", "chelsea", "coffee", "rocket", "camera"], ["brick", "grass", "coins"]
    photos, mixed, distinct = (tmp_path / name for name in ("photos", "mixed", "distinct"))
    for folder in (photos, mixed, distinct):
        folder.mkdir()
    for name in originals + others:
        image = Image.fromarray(to_uint8(photo(name)))
        image.thumbnail((256, 256), Image.Resampling.LANCZOS)  # smaller files, a faster test
        image.save((photos if name in originals else distinct) / f"{name}.png")
    (mixed / "copy.png").write_bytes((photos / "astronaut.png").read_bytes())
    for name in ("chelsea", "coffee"):
        with Image.open(photos / f"{name}.png") as image:
            image.save(mixed / f"q75-{name}.jpg", quality=75)
            image.resize((image.width // 2, image.height // 2), Image.Resampling.LANCZOS).save(
                mixed / f"half-{name}.png"
            )
    for path in distinct.iterdir():
        (mixed / path.name).write_bytes(path.read_bytes())
    report = gap(photos, mixed, cache_dir=tmp_path / "cache", resamples=5).to_dict()
    near = report["near_identical"]
    assert report["shared_images"] == 1 and near["count"] == 5, near
    assert near["pairs"][0] == {"a": str(photos / "astronaut.png"), "b": str(mixed / "copy.png"), "rms": 0.0}
    partners = {Path(pair["b"]).name: Path(pair["a"]).stem for pair in near["pairs"]}
    assert partners == {
        "copy.png": "astronaut",
        "q75-chelsea.jpg": "chelsea",
        "half-chelsea.png": "chelsea",
        "q75-coffee.jpg": "coffee",
        "half-coffee.png": "coffee",
    }
    assert report["notes"][1].startswith("4 more images of B are near-identical to one in A")
    assert gap(photos, distinct, cache_dir=tmp_path / "cache", resamples=5).to_dict()["near_identical"] == {
        "count": 0,
        "max_rms": 3.0,
        "pairs": [],
    }


def test_a_picture_that_differs_only_beside_its_centre_square_or_is_cropped_is_not_near_identical(
    tmp_path: Path,
) -> None:
    """The centre square alone called these the same picture (scripts/gap_near_identical_measure.py:
    centre 0.3-2.0 apart for chelsea and coffee); their whole frames differ."""
    photos, edited = tmp_path / "photos", tmp_path / "edited"
    photos.mkdir()
    edited.mkdir()
    for name in ("chelsea", "coffee"):
        pixels = to_uint8(photo(name))
        Image.fromarray(pixels).save(photos / f"{name}.png")
        side = (pixels.shape[1] - pixels.shape[0]) // 2  # the columns beside the centre square
        beside = pixels.copy()
        beside[:, :side] = 255 - beside[:, :side]
        beside[:, -side:] = 255 - beside[:, -side:]
        Image.fromarray(beside).save(edited / f"{name}-beside.png")
        Image.fromarray(pixels[:, side:-side]).save(edited / f"{name}-square.png")
    Image.fromarray(to_uint8(photo("chelsea"))).save(edited / "chelsea-copy.jpg", quality=75)
    near = gap(photos, edited, cache_dir=tmp_path / "cache", resamples=5).to_dict()["near_identical"]
    assert near["count"] == 1 and Path(near["pairs"][0]["b"]).name == "chelsea-copy.jpg"


def test_copies_within_a_set_are_found_and_noted(tmp_path: Path) -> None:
    photos, renders = (
        noisy_photos(tmp_path / "photos", 8, seed=11),
        flat_renders(tmp_path / "renders", 8, seed=12),
    )
    (renders / "zz-copy.png").write_bytes((renders / "002.png").read_bytes())
    with Image.open(renders / "005.png") as image:
        image.save(renders / "zz-q90.jpg", quality=90)
    report = gap(photos, renders, names=("photos", "renders"), cache_dir=tmp_path / "cache", resamples=5)
    within = report.to_dict()["near_identical_within"]
    assert within["a"]["count"] == 0
    assert within["b"]["count"] == 2
    found = {(Path(pair["earlier"]).name, Path(pair["later"]).name) for pair in within["b"]["pairs"]}
    assert found == {("002.png", "zz-copy.png"), ("005.png", "zz-q90.jpg")}
    assert within["b"]["pairs"][0]["rms"] == 0.0  # the exact copy is the closest
    report.save(tmp_path / "out")
    page = (tmp_path / "out" / "index.html").read_text()
    assert "near-identical to an earlier one of the same set</td><td>0</td><td>2</td>" in page
    assert report.to_dict()["notes"] == [
        "2 images of renders are near-identical to an earlier one of renders (gap.json lists them under "
        "near_identical_within): a set holding copies is less varied than its size says, and every measure "
        "counts each copy as another image."
    ]


@pytest.mark.parametrize("names", ["photos", "photos,", "a,b,c", "photos,photos"])
def test_names_must_be_two_different_ones(tmp_path: Path, names: str) -> None:
    # Two sets of one name ("photos,photos") made a report in which every "photos" was ambiguous.
    result = CliRunner().invoke(
        app, ["gap", str(tmp_path), str(tmp_path), "-o", str(tmp_path / "o"), "--names", names]
    )
    assert (
        result.exit_code == 2
        and f"Expected --names as two different names A,B, got '{names}'" in result.output
    )


def test_a_set_inside_the_other_is_not_part_of_it(tmp_path: Path) -> None:
    # photos/ with renders/ inside: the renders were read into A as well (every one "also in A").
    photos = noisy_photos(tmp_path / "photos", 6, seed=21)
    renders = flat_renders(photos / "renders", 6, seed=22)
    report = gap(photos, renders, cache_dir=tmp_path / "cache", resamples=5).to_dict()
    assert report["inventory"]["a"]["images"] == 6 and report["shared_images"] == 0
    only = tmp_path / "only"
    flat_renders(only / "inner", 3, seed=23)
    with pytest.raises(
        InvalidArgumentError, match=r"images in '.*only' besides those of '.*inner' inside it"
    ):
        gap(only, only / "inner", cache_dir=tmp_path / "cache")


def test_the_report_and_cache_inside_a_set_are_not_read_as_its_images(tmp_path: Path) -> None:
    photos = noisy_photos(tmp_path / "photos", 6, seed=31)
    renders = flat_renders(tmp_path / "renders", 6, seed=32)
    (photos / "._0.png").write_bytes(b"macOS metadata, no image")  # hidden: skipped, not "unreadable"
    args = ["gap", str(photos), str(renders), "--resamples", "5"]
    args += ["-o", str(photos / "report"), "--cache-dir", str(renders / "cache")]
    for _ in range(2):  # the second run finds the first one's plots and cache records in the sets
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        assert "A: 6 images, 0 unreadable" in result.output and "B: 6 images, 0 unreadable" in result.output
    assert any((photos / "report").rglob("*.png")) and any((renders / "cache").rglob("*"))


def test_bad_counts_are_refused(tmp_path: Path) -> None:
    photos = noisy_photos(tmp_path / "photos", 2, seed=9)
    with pytest.raises(InvalidArgumentError, match="--max-images of at least 1"):
        gap(photos, photos, max_images=0, cache_dir=tmp_path / "cache")
    with pytest.raises(InvalidArgumentError, match="--resamples of at least 2"):
        gap(photos, photos, resamples=0, cache_dir=tmp_path / "cache")
    with pytest.raises(
        InvalidArgumentError, match="--seed of 0 or more, got -1"
    ):  # numpy's ValueError before
        gap(photos, photos, seed=-1, cache_dir=tmp_path / "cache")


def test_small_empty_and_missing_folders_are_explained(tmp_path: Path) -> None:
    photos = noisy_photos(tmp_path / "photos", 12, seed=5)
    one = noisy_photos(tmp_path / "one", 1, seed=6)
    report = gap(photos, one, cache_dir=tmp_path / "cache", resamples=5).to_dict()
    assert report["deep_features"]["metrics"] == {} and "at least 10" in report["deep_features"]["status"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidArgumentError, match="found none"):
        gap(photos, tmp_path / "empty", cache_dir=tmp_path / "cache")
    with pytest.raises(InvalidArgumentError, match="not a folder"):
        gap(photos, tmp_path / "missing", cache_dir=tmp_path / "cache")
    result = CliRunner().invoke(app, ["gap", str(photos), str(tmp_path / "empty"), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2 and "found none" in result.output
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "a.png").write_bytes(b"not an image")
    arguments = ["gap", str(photos), str(tmp_path / "broken"), "-o", str(tmp_path / "b")]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 2 and "no readable images in B" in result.output
    listed = json.loads((tmp_path / "b" / "gap.json").read_text())["inventory"]["b"]["unreadable"]
    assert [u["path"] for u in listed] == [str(tmp_path / "broken" / "a.png")]


def test_an_interrupted_gap_says_its_reading_is_kept_and_a_rerun_reuses_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import synthdiff.gap

    photos = noisy_photos(tmp_path / "photos", 10, seed=1)
    renders = flat_renders(tmp_path / "renders", 10, seed=2)
    arguments = ["gap", str(photos), str(renders), "-o", str(tmp_path / "out"), "--resamples", "5"]
    arguments += ["--cache-dir", str(tmp_path / "cache")]

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(synthdiff.gap, "gap", interrupted)
        result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 130
    assert (
        "interrupted: run the same command again to resume from the images read so far, which are cached "
        f"in {tmp_path / 'cache'}" in result.output
    )
    assert CliRunner().invoke(app, arguments).exit_code == 0
    result = CliRunner().invoke(app, arguments)
    assert (
        result.exit_code == 0
        and f"measurements of 20 images reused from the cache in {tmp_path / 'cache'}" in result.output
    )
