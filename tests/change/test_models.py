"""Change-detection models: shapes at any size, exact swap symmetry, registry, checkpoints."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from synthdiff.change import MODELS, ChangeOutput, create_model, load_checkpoint, save_checkpoint
from synthdiff.errors import CheckpointError, InvalidArgumentError

TINY = [name for name in MODELS if name.endswith("-tiny")]
FEATURES = ["illumination", "texture"]


def pair(height: int, width: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(2, 3, height, width, generator=generator), torch.rand(
        2, 3, height, width, generator=generator
    )


@pytest.mark.parametrize("name", TINY)
@pytest.mark.parametrize(("height", "width"), [(64, 64), (37, 53)])
def test_outputs_have_the_input_size(name: str, height: int, width: int) -> None:
    model = create_model(name, FEATURES).eval()
    reference, test = pair(height, width)
    with torch.no_grad():
        output = model(reference, test)
    for logits in (output.seg_ref, output.seg_test, output.change):
        assert logits.shape == (2, len(FEATURES), height, width)
        assert torch.isfinite(logits).all()


@pytest.mark.parametrize("name", TINY)
def test_swapping_the_inputs_swaps_segmentations_and_keeps_the_change(name: str) -> None:
    model = create_model(name, FEATURES).eval()
    reference, test = pair(48, 40, seed=1)
    with torch.no_grad():
        forward, backward = model(reference, test), model(test, reference)
    torch.testing.assert_close(forward.change, backward.change, rtol=0, atol=1e-5)
    torch.testing.assert_close(forward.seg_ref, backward.seg_test, rtol=0, atol=1e-5)
    torch.testing.assert_close(forward.seg_test, backward.seg_ref, rtol=0, atol=1e-5)


def test_log_ratio_is_zero_for_equal_images_antisymmetric_and_flat_under_a_light_gain() -> None:
    from synthdiff.change import log_ratio

    reference, test = pair(8, 8, seed=3)
    assert torch.equal(log_ratio(reference, reference), torch.zeros_like(reference))
    torch.testing.assert_close(log_ratio(test, reference), -log_ratio(reference, test))
    # Twice the linear light on bright pixels: the ratio is log 2 wherever the floor is negligible.
    bright = 0.6 + 0.2 * reference  # sRGB 0.6-0.8, linear 0.32-0.60
    linear = ((bright + 0.055) / 1.055) ** 2.4
    doubled = (1.055 * (2 * linear) ** (1 / 2.4) - 0.055).clamp(max=1.0)  # above sRGB's linear toe
    inside = doubled < 1.0
    ratio = log_ratio(bright, doubled)
    expected = torch.log((2 * linear + 0.01) / (linear + 0.01))
    torch.testing.assert_close(ratio[inside], expected[inside], rtol=1e-4, atol=1e-4)
    assert (ratio[inside] - torch.log(torch.tensor(2.0))).abs().max() < 0.03


def test_growing_a_fresunet_refuses_what_would_change_its_answers() -> None:
    from synthdiff.change import FresUNet

    narrow = FresUNet(2, widths=(4, 8, 16))
    with pytest.raises(InvalidArgumentError, match="extends only by wider levels"):
        FresUNet(2, widths=(4, 8, 12)).grow_from(narrow)  # narrower coarsest level
    with pytest.raises(InvalidArgumentError, match="extends only by wider levels"):
        FresUNet(2, widths=(6, 8, 16)).grow_from(narrow)  # 6 = the input: no projection shortcut
    with pytest.raises(InvalidArgumentError, match="ratio inputs True"):
        FresUNet(2, widths=(4, 8, 16)).grow_from(FresUNet(2, widths=(4, 8, 16), ratio_inputs=True))
    with pytest.raises(InvalidArgumentError, match="extends only by wider levels"):
        FresUNet(3, widths=(4, 8, 16)).grow_from(narrow)


def test_probabilities_and_masks() -> None:
    logits = torch.tensor([[[[-3.0, 0.0, 3.0]]]])
    output = ChangeOutput(logits, logits, logits)
    assert torch.allclose(output.probabilities().change, torch.sigmoid(logits))
    assert output.masks().change.tolist() == [[[[False, False, True]]]]


@pytest.mark.parametrize("name", TINY)
def test_a_few_training_steps_lower_the_loss(name: str) -> None:
    torch.manual_seed(0)
    model = create_model(name, ["texture"]).train()
    reference, test = pair(32, 32, seed=2)
    target = torch.zeros(2, 1, 32, 32)
    target[:, :, 8:20, 8:20] = 1.0
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(15):
        output = model(reference, test)
        loss = F.binary_cross_entropy_with_logits(output.change, target)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]


def test_registry_errors_list_the_valid_names() -> None:
    with pytest.raises(InvalidArgumentError, match="fresunet, changestar"):
        create_model("unet", FEATURES)
    with pytest.raises(InvalidArgumentError, match="illumination, reflection"):
        create_model("fresunet-tiny", ["shadows"])
    with pytest.raises(InvalidArgumentError, match="each once"):
        create_model("fresunet-tiny", ["texture", "texture"])


def test_checkpoint_round_trip(tmp_path: Path) -> None:
    model = create_model("fresunet-tiny", FEATURES).eval()
    path = tmp_path / "model.pt"
    save_checkpoint(path, model, "fresunet-tiny", FEATURES, {"epochs": 3})
    loaded, metadata = load_checkpoint(path)
    assert metadata == {
        "model": "fresunet-tiny",
        "features": FEATURES,
        "config": {"epochs": 3},
        "views": "none",
        "thresholds": dict.fromkeys(FEATURES, 0.5),
        "low_thresholds": dict.fromkeys(FEATURES, 0.5),
        "min_area": 0,
        "train_size": None,
    }
    reference, test = pair(32, 32)
    with torch.no_grad():
        torch.testing.assert_close(loaded(reference, test).change, model(reference, test).change)


def test_bad_checkpoints_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="neither"):
        load_checkpoint(tmp_path / "missing.pt")
    with pytest.raises(
        CheckpointError, match="'realness-effnet', which is a model of another kind, for realness"
    ):
        load_checkpoint("realness-effnet")
    with pytest.raises(CheckpointError, match=r"weights do not ship.*train change --model fresunet-ratio"):
        load_checkpoint("fresunet-ratio")
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"\x80\x02not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot be read"):
        load_checkpoint(corrupt)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(1)}, other)
    with pytest.raises(CheckpointError, match="something else"):
        load_checkpoint(other)
    # The shipped realness model's file given where a change model goes: said so, with where it belongs.
    from importlib import resources

    from synthdiff._checkpoint import _FORMATS
    from synthdiff.change._registry import CHECKPOINT_FORMAT
    from synthdiff.realness import load_realness_model
    from synthdiff.realness._registry import CHECKPOINT_FORMAT as REALNESS_FORMAT

    assert _FORMATS == {"synthdiff.change": CHECKPOINT_FORMAT, "synthdiff.realness": REALNESS_FORMAT}
    realness_file = Path(str(resources.files("synthdiff.realness") / "weights" / "realness-cnn.pt"))
    with pytest.raises(
        CheckpointError, match=r"is a synthdiff-realness-model checkpoint, for realness, realness-bench and"
    ):
        load_checkpoint(realness_file)
    change_file = Path(str(resources.files("synthdiff.change") / "weights" / "fresunet.pt"))
    with pytest.raises(CheckpointError, match=r"is a synthdiff-change-model checkpoint, for detect"):
        load_realness_model(change_file)
    truncated = tmp_path / "truncated.pt"
    save_checkpoint(truncated, create_model("fresunet-tiny", FEATURES), "fresunet-tiny", FEATURES)
    truncated.write_bytes(truncated.read_bytes()[:200])
    with pytest.raises(CheckpointError, match="cannot be read"):
        load_checkpoint(truncated)
