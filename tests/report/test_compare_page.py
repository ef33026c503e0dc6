"""compare's index.html: the slider/flicker viewer's size."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from synthdiff import compare
from synthdiff.errors import InvalidArgumentError
from synthdiff.report._compare_report import viewer_zoom


@pytest.mark.parametrize(
    ("size", "zoom"), [((64, 64), 10), ((64, 48), 10), ((300, 200), 2), ((641, 100), 1), ((1920, 1080), 1)]
)
def test_small_images_are_enlarged_by_a_whole_factor(size: tuple[int, int], zoom: int) -> None:
    assert viewer_zoom(*size) == zoom
    assert size[0] * zoom <= max(640, size[0]) and size[1] * zoom <= max(640, size[1])


def test_the_viewer_of_a_small_pair_is_enlarged(tmp_path: Path) -> None:
    # A 64x64 pair was shown 64 pixels wide while the panels below it filled their columns.
    image = np.random.default_rng(0).random((48, 64, 3), dtype=np.float32)
    compare(image, image, fast=True).save_report(tmp_path)
    page = (tmp_path / "index.html").read_text()
    assert ".viewer { position: relative; max-width: 100%; width: 640px; }" in page
    assert "Shown 10 times enlarged." in page


def test_the_brightness_card_says_whether_the_global_change_was_removed(tmp_path: Path) -> None:
    from synthdiff.io import load_image
    from tests.conftest import EXAMPLES

    reference = load_image(EXAMPLES / "wrong-light" / "reference.png").pixels
    brighter = np.clip(reference * 1.08, 0, 1)
    moved_light = load_image(EXAMPLES / "wrong-light" / "test.png").pixels
    roughness = load_image(EXAMPLES / "wrong-roughness" / "test.png").pixels
    # The moved light is no global gain (not removed); 8 % brighter is one (removed); the glossy sphere
    # changes no global brightness (gain 1, offset 0: it read "+0.0 %, removed before ...").
    for name, test, said in (
        ("moved-light", moved_light, "not removed"),
        ("brighter", brighter, "removed before the local comparison"),
        ("roughness", roughness, "no global change (gain and offset move no value by more than 0.5 %)"),
    ):
        result = compare(reference, test, fast=True)
        assert result.options["global_change_removed"] == (said != "not removed")
        page = result.save_report(tmp_path / name).read_text()
        assert f"<small>{said}</small>" in page


def test_boxes_are_drawn_on_8_bit_images_as_on_float_ones() -> None:
    # An 8-bit image was clipped to [0, 1] as if it were float: a white canvas with boxes.
    from synthdiff.report import draw_boxes

    image = np.random.default_rng(0).random((40, 50, 3), dtype=np.float32)
    boxes = [(2, 3, 20, 30)]
    eight = np.round(image * 255).astype(np.uint8)
    np.testing.assert_array_equal(draw_boxes(eight, boxes), draw_boxes(eight.astype(np.float32) / 255, boxes))
    # A grey HxW image is drawn on in colour (it came back HxW, the box in one channel's value), and NaN
    # is refused (it was drawn as 0 with a RuntimeWarning).
    grey = draw_boxes(image[..., 0], boxes)
    assert grey.shape == (40, 50, 3) and grey[3, 2].tolist() == [255, 40, 200]
    holed = image.copy()
    holed[5, 5, 0] = np.nan
    with pytest.raises(InvalidArgumentError, match="found 1 NaN or infinite"):
        draw_boxes(holed, boxes)


def test_a_heatmap_draws_missing_values_grey() -> None:
    from synthdiff.report import heatmap

    values = np.array([[0.0, np.nan], [1.0, np.inf]], np.float32)  # +inf is clipped to the last colour
    coloured = heatmap(values)
    assert coloured.dtype == np.uint8 and coloured[0, 1].tolist() == [128, 128, 128]
    assert coloured[1, 1].tolist() == coloured[1, 0].tolist()


def test_the_panels_encoded_on_threads_are_each_panel_in_order(tmp_path: Path) -> None:
    from synthdiff.io import encode_png
    from synthdiff.report import draw_boxes
    from synthdiff.report._compare_report import DIFFERENCE_SCALE, _panels
    from synthdiff.report._panels import heatmap
    from tests.conftest import EXAMPLES

    pair = EXAMPLES / "wrong-roughness"
    result = compare(pair / "reference.png", pair / "test.png", change_model="fresunet-wide")
    assert result.flip_map is not None and result.feature_maps is not None and result.regions
    panels = _panels(result)
    features = [f"feature_{name}.png" for name in result.feature_maps.features]
    assert list(panels) == [
        "reference.png",
        "test.png",
        "difference.png",
        "ssim.png",
        "boxes_reference.png",
        "boxes_test.png",
        "flip.png",
        *features,
    ]
    boxes = [region.box_test for region in result.regions]
    assert panels["boxes_test.png"] == encode_png(draw_boxes(result.test_original, boxes))
    assert panels["difference.png"] == encode_png(
        heatmap(result.difference, vmax=DIFFERENCE_SCALE, colormap="inferno")
    )
    texture = result.feature_maps.change["texture"]
    assert panels["feature_texture.png"] == encode_png(heatmap(texture, vmax=1.0, colormap="magma"))
