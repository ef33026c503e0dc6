"""Training and evaluation on a tiny fake dataset: the loss falls, runs resume, configs are checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml
from torch import nn

from synthdiff._journal import folder_lock
from synthdiff.change import (
    MODELS,
    ChangeOutput,
    ChangePairs,
    evaluate,
    load_checkpoint,
    load_config,
    train_change,
    tune_thresholds,
)
from synthdiff.change._train import place_multipliers, sampling_weights
from synthdiff.errors import CheckpointError, InvalidArgumentError, OutputError
from tests.change.test_data import SIZE, fake_dataset


def config_for(data: Path, **changes: object) -> dict[str, object]:
    values: dict[str, object] = {
        "data": [str(data)],
        "model": "fresunet-tiny",
        "features": ["texture"],
        "epochs": 3,
        "batch_size": 2,
        "learning_rate": 1e-2,
        "crop": 0,
        "loader_workers": 0,
        "device": "cpu",
    }
    values.update(changes)
    return values


def test_training_lowers_the_loss_and_selects_on_validation(tmp_path: Path) -> None:
    data = fake_dataset(tmp_path / "data", pairs=6)
    config = load_config(None, config_for(data, epochs=6))
    result = train_change(config, tmp_path / "run")
    history = [json.loads(line) for line in (tmp_path / "run" / "history.jsonl").read_text().splitlines()]
    assert len(history) == 6 == len(result.history)
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert result.best_score == pytest.approx(max(h["val_change_f1"] for h in history), abs=1e-5)
    model, metadata = load_checkpoint(tmp_path / "run" / "best.pt")
    assert metadata["config"]["epoch"] == result.best_epoch
    assert metadata["thresholds"] == result.thresholds and 0.0 < result.thresholds["texture"] < 1.0
    # The size of the training images is kept: the tools run larger pairs scaled down to it.
    assert metadata["train_size"] == 24  # fake_dataset's images
    assert yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())["model"] == "fresunet-tiny"
    scores = evaluate(model, ChangePairs([data], "val", ["texture"]), check_swap=True)
    assert scores.swap_iou == pytest.approx(1.0)
    assert scores.pairs == {"texture": 1}


def test_bfloat16_training_lowers_the_loss_and_keeps_float32_weights(tmp_path: Path) -> None:
    data = fake_dataset(tmp_path / "data", pairs=6)
    config = load_config(None, config_for(data, epochs=6, precision="bfloat16"))
    result = train_change(config, tmp_path / "run")
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    model, metadata = load_checkpoint(tmp_path / "run" / "best.pt")
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert metadata["config"]["precision"] == "bfloat16"
    with pytest.raises(InvalidArgumentError, match="precision float32 or bfloat16"):
        load_config(None, config_for(data, precision="float16"))


def test_dataset_weights_set_each_datasets_share_of_the_draws_whatever_its_size(tmp_path: Path) -> None:
    index = [0] * 10 + [1] * 30 + [2] * 5
    weights = sampling_weights(index, [1.0, 1.0, 2.0])
    shares = [sum(w for w, k in zip(weights, index, strict=True) if k == d) for d in range(3)]
    assert shares == pytest.approx([0.25, 0.25, 0.5])
    small, large = (
        fake_dataset(tmp_path / "small", pairs=6),
        fake_dataset(tmp_path / "large", pairs=9),
    )
    assert ChangePairs([small, large], "train", ["texture"]).dataset_index.count(1) > 0
    settings = {**config_for(small, data_weights=[3, 1], epochs=2), "data": [str(small), str(large)]}
    config = load_config(None, settings)
    result = train_change(config, tmp_path / "run")  # the weighted sampler runs end to end
    assert len(result.history) == 2
    seen: list[int] = []
    short = load_config(None, {**settings, "epoch_pairs": 4, "epochs": 1})
    train_change(short, tmp_path / "short", on_step=lambda e, step, steps, r: seen.append(steps))
    assert seen == [2, 2]  # 4 weighted draws in batches of 2, not the 13 training pairs
    subset: list[int] = []
    unweighted = load_config(None, config_for(large, epoch_pairs=4, epochs=1))
    train_change(unweighted, tmp_path / "subset", on_step=lambda e, step, steps, r: subset.append(steps))
    assert subset == [2, 2]  # 4 of its 8 training pairs
    with pytest.raises(InvalidArgumentError, match="epoch_pairs >= 0"):
        load_config(None, config_for(small, epoch_pairs=-1))
    with pytest.raises(InvalidArgumentError, match="one positive data_weights entry per data folder"):
        load_config(None, config_for(small, data_weights=[1, 1]))
    with pytest.raises(InvalidArgumentError, match="data_weights"):
        load_config(None, config_for(small, data_weights=[0]))


def test_place_weights_move_draws_within_a_dataset_and_name_what_they_match(tmp_path: Path) -> None:
    index = [0] * 4 + [1] * 6
    multipliers = [4.0, 1.0, 1.0, 1.0] + [1.0] * 6
    weights = sampling_weights(index, [], multipliers)
    assert sum(weights[:4]) == pytest.approx(0.4) and sum(weights[4:]) == pytest.approx(0.6)  # sizes kept
    assert weights[0] == pytest.approx(4 * weights[1])
    assert sampling_weights(index, [1.0, 3.0], multipliers)[0] == pytest.approx(0.25 * 4 / 7)
    data = fake_dataset(tmp_path / "data", pairs=7)  # training pairs alternate object and ground textures
    pairs = ChangePairs([data], "train", ["texture"]).pairs
    assert [p.place for p in pairs[:2]] == ["object", "ground"]
    assert place_multipliers(pairs, {"texture/object": 3.0})[:2] == [3.0, 1.0]
    with pytest.raises(InvalidArgumentError, match="got texture/light; these pairs have"):
        place_multipliers(pairs, {"texture/light": 2.0})
    config = load_config(None, config_for(data, place_weights={"texture/object": 3.0}, dice="pair", epochs=2))
    assert len(train_change(config, tmp_path / "run").history) == 2  # weighted draws, per-pair Dice
    with pytest.raises(InvalidArgumentError, match="FEATURE/PLACE"):
        load_config(None, config_for(data, place_weights={"object": 3.0}))
    with pytest.raises(InvalidArgumentError, match="FEATURE/PLACE"):
        load_config(None, config_for(data, place_weights={"texture/object": 0}))
    with pytest.raises(InvalidArgumentError, match="dice batch or pair"):
        load_config(None, config_for(data, dice="image"))


def test_a_run_folder_another_run_is_writing_is_refused(tmp_path: Path) -> None:
    data = fake_dataset(tmp_path / "data", pairs=4)
    config = load_config(None, config_for(data))
    refused = pytest.raises(OutputError, match="no other train change run to be writing")
    with folder_lock(tmp_path / "run", "train change"), refused:
        train_change(config, tmp_path / "run")
    assert not (tmp_path / "run" / "config.yaml").exists()  # refused before writing anything


def test_interrupted_training_resumes_after_the_last_finished_epoch(tmp_path: Path) -> None:
    data = fake_dataset(tmp_path / "data", pairs=4)
    config = load_config(None, config_for(data))

    def stop_in_second_epoch(epoch: int, step: int, steps: int, running: dict[str, float]) -> None:
        if epoch == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_change(config, tmp_path / "run", on_step=stop_in_second_epoch)
    assert len((tmp_path / "run" / "history.jsonl").read_text().splitlines()) == 1
    # A damaged run state is named, with the fix, not a torch traceback.
    state = tmp_path / "run" / "last.pt"
    kept = state.read_bytes()
    state.write_bytes(kept[: len(kept) // 2])
    with pytest.raises(OutputError, match=r"last\.pt' to resume it, but it cannot be read .*Fix: delete it"):
        train_change(config, tmp_path / "run")
    state.write_bytes(kept)
    # a run made before a setting existed (no data_weights in its config.yaml) still resumes
    saved = tmp_path / "run" / "config.yaml"
    older = {k: v for k, v in yaml.safe_load(saved.read_text()).items() if k != "data_weights"}
    saved.write_text(yaml.safe_dump(older))
    result = train_change(config, tmp_path / "run")
    epochs = [h["epoch"] for h in result.history]
    assert epochs == [0, 1, 2]

    other = load_config(None, config_for(data, learning_rate=1e-3))
    with pytest.raises(OutputError, match="these differ: learning_rate"):
        train_change(other, tmp_path / "run")


def test_config_file_flags_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("epochs: 7\nbatch_size: 4\n")
    config = load_config(path, {"data": ["d"], "batch_size": 2})
    assert config.epochs == 7 and config.batch_size == 2
    path.write_text("epochs: 7\nlearning_rte: 1\n")
    for bad, message in (
        ({"learning_rate": 0.0}, "learning_rate > 0"),
        ({"weight_decay": -1.0}, "weight_decay >= 0"),
        ({"crop": -5}, "crop >= 0"),  # a RuntimeError from torch before
        ({"loader_workers": -1}, "loader_workers >= 0"),  # a ValueError from torch before
        ({"seed": -3}, "seed >= 0"),
        ({"change_weight": 0.0}, "change_weight > 0"),
    ):
        with pytest.raises(InvalidArgumentError, match=message):
            load_config(None, {"data": ["d"], **bad})
    with pytest.raises(InvalidArgumentError, match="learning_rte"):
        load_config(path, {"data": ["d"]})
    with pytest.raises(InvalidArgumentError, match="--features"):
        load_config(None, {"data": ["d"], "features": ["shadows"]})
    with pytest.raises(InvalidArgumentError, match="--data"):
        load_config(None, {})
    # The model name is checked before any data are read (here there are none).
    with pytest.raises(InvalidArgumentError, match=r"model name from fresunet.*got 'fresunet-huge'"):
        load_config(None, {"data": ["missing"], "model": "fresunet-huge"})
    data = fake_dataset(tmp_path / "no-val", pairs=1)  # its only pair is in val
    with pytest.raises(InvalidArgumentError, match=r"train and val pairs.*--split"):
        train_change(load_config(None, config_for(data)), tmp_path / "run")
    # That run stopped before its first epoch, so its folder takes the corrected command.
    good = fake_dataset(tmp_path / "good", pairs=4)
    train_change(load_config(None, config_for(good, epochs=1)), tmp_path / "run")
    assert (tmp_path / "run" / "best.pt").is_file()
    with pytest.raises(CheckpointError, match=r"training run's state \(last.pt.*use best.pt"):
        load_checkpoint(tmp_path / "run" / "last.pt")
    model, _ = load_checkpoint(tmp_path / "run" / "best.pt")
    with pytest.raises(InvalidArgumentError, match="split from train, val, test, got 'tset'"):
        ChangePairs([good], "tset", ["texture"])
    for bad in ({"threshold": 1.5}, {"change_thresholds": {"texture": -0.1}}):
        with pytest.raises(InvalidArgumentError, match=r"between 0 and 1, got (1.5|-0.1 for texture)"):
            evaluate(model, ChangePairs([good], "val", ["texture"]), **bad)  # type: ignore[arg-type]
    with pytest.raises(OutputError, match="these differ: data"):  # now it holds a run
        train_change(load_config(None, config_for(data, epochs=1)), tmp_path / "run")


def test_a_dataset_named_twice_or_a_crop_larger_than_its_images_is_refused(tmp_path: Path) -> None:
    data = fake_dataset(tmp_path / "data", pairs=4)
    twice = {**config_for(data), "data": [str(data), f"{tmp_path}/./data"]}
    with pytest.raises(InvalidArgumentError, match=r"each dataset folder once.*would count twice"):
        train_change(load_config(None, twice), tmp_path / "run")
    # Checked before any pair is loaded (in a loader worker the error came wrapped in a traceback).
    (data / "dataset.json").write_text(json.dumps({"options": {"width": SIZE, "height": SIZE}}))
    with pytest.raises(
        InvalidArgumentError, match=rf"--crop at most {SIZE} \(the images of .* are 24x24\), got 32"
    ):
        ChangePairs([data], "train", ["texture"], crop=32)


def test_the_default_crop_fits_the_smallest_dataset_and_a_crop_asked_for_is_kept(tmp_path: Path) -> None:
    small = fake_dataset(tmp_path / "small", pairs=4)
    (small / "dataset.json").write_text(json.dumps({"options": {"width": 40, "height": SIZE}}))
    large = tmp_path / "large"
    large.mkdir()
    (large / "dataset.json").write_text(json.dumps({"options": {"width": 512, "height": 384}}))
    defaults = {k: v for k, v in config_for(small).items() if k != "crop"}
    # 192 by default; 24x40 renders train on 24-pixel squares whatever else is pooled with them.
    assert load_config(None, {**defaults, "data": [str(large)]}).crop == 192
    assert load_config(None, {**defaults, "data": [str(large), str(small)]}).crop == SIZE
    assert load_config(None, {**defaults, "data": [str(tmp_path / "no-such-set")]}).crop == 192
    train_change(load_config(None, {**defaults, "epochs": 1}), tmp_path / "run")
    assert yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())["crop"] == SIZE
    # Asked for, on the command line or in a file, it is kept as asked (and refused when too large).
    assert load_config(None, {**defaults, "crop": 16}).crop == 16
    (tmp_path / "crop.yaml").write_text("crop: 32\n")
    assert load_config(tmp_path / "crop.yaml", defaults).crop == 32
    with pytest.raises(InvalidArgumentError, match=rf"--crop at most {SIZE} .* got 32"):
        train_change(load_config(tmp_path / "crop.yaml", defaults), tmp_path / "run-32")


def test_frozen_encoder_stays_unchanged(tmp_path: Path) -> None:
    import torch

    data = fake_dataset(tmp_path / "data", pairs=4)
    config = load_config(None, config_for(data, model="changestar-tiny", epochs=1, freeze_encoder=True))
    train_change(config, tmp_path / "run")
    model, _ = load_checkpoint(tmp_path / "run" / "best.pt")
    untrained = load_config(None, config_for(data, model="changestar-tiny"))
    from synthdiff.change import create_model

    torch.manual_seed(untrained.seed)
    fresh = create_model("changestar-tiny", ["texture"])
    for (name, trained), (_, initial) in zip(
        model.encoder.state_dict().items(), fresh.encoder.state_dict().items(), strict=True
    ):
        assert torch.equal(trained, initial), name
    with pytest.raises(InvalidArgumentError, match="pretrained encoder"):
        train_change(load_config(None, config_for(data, freeze_encoder=True)), tmp_path / "run2")


@pytest.mark.parametrize(
    "larger", ["fresunet-deep-tiny", "fresunet-attention-tiny", "fresunet-ratio-tiny", "fresunet-wide-tiny"]
)
def test_a_larger_model_warm_starts_from_a_smaller_one_with_the_same_answers(
    tmp_path: Path, larger: str
) -> None:
    from synthdiff.change import create_model
    from synthdiff.change._train import _warm_start

    data = fake_dataset(tmp_path / "data", pairs=4)
    train_change(load_config(None, config_for(data, epochs=1)), tmp_path / "small")
    small, _ = load_checkpoint(tmp_path / "small" / "best.pt")
    small_path = str(tmp_path / "small" / "best.pt")
    config = load_config(None, config_for(data, model=larger, init=small_path))
    deep = create_model(larger, ["texture"])
    before = {name: tensor.clone() for name, tensor in deep.state_dict().items()}
    _warm_start(deep, config)
    changed = [name for name, tensor in deep.state_dict().items() if not torch.equal(tensor, before[name])]
    assert changed and all(name in small.state_dict() for name in changed)
    if larger == "fresunet-ratio-tiny":  # the log-ratio channels' weights start at zero
        first = deep.state_dict()["encoders.0.body.0.weight"]
        assert first.shape[1] == 9 and not first[:, 6:].any() and first[:, :6].any()
    if larger == "fresunet-wide-tiny":  # new channels keep random weights in, and are read with zeros
        second = deep.state_dict()["encoders.1.body.0.weight"]  # (12, 8, 3, 3) from (8, 4, 3, 3)
        assert second[8:].std() > 0 and not second[:8, 4:].any()
        assert torch.equal(second[:8, :4], small.state_dict()["encoders.1.body.0.weight"])
    reference, test = torch.rand(2, 1, 3, 20, 28, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.allclose(deep.eval()(reference, test).change, small(reference, test).change, atol=1e-6)
    train_change(config, tmp_path / "deep")  # and trains from there

    changestar = load_config(None, config_for(data, model="changestar-tiny", epochs=1))
    train_change(changestar, tmp_path / "changestar")
    misfit = config_for(data, init=str(tmp_path / "changestar" / "best.pt"))
    with pytest.raises(InvalidArgumentError, match="do not fit"):
        train_change(load_config(None, misfit), tmp_path / "misfit")
    other_features = config_for(data, features=["illumination"], init=small_path)
    with pytest.raises(InvalidArgumentError, match="for \\['illumination'\\]"):
        train_change(load_config(None, other_features), tmp_path / "other")


class _Scripted(nn.Module):
    """Change probability 0.8 where the test image differs (the fake dataset's square), 0.615 on a
    decoy band of unchanged pixels, 0.1 elsewhere; for every feature."""

    def forward(self, reference: torch.Tensor, test: torch.Tensor) -> ChangeOutput:
        differs = (test - reference).abs().amax(1, keepdim=True) > 0
        probability = torch.full_like(differs, 0.1, dtype=torch.float32)
        probability[:, :, 12:16] = 0.615
        probability[differs] = 0.8
        logits = torch.logit(probability).expand(-1, 2, -1, -1)
        return ChangeOutput(logits, logits, logits)


def test_tuned_thresholds_separate_the_changed_pixels_and_prefer_values_near_one_half(tmp_path: Path) -> None:
    data = ChangePairs([fake_dataset(tmp_path / "data", pairs=3)], "train", ["texture", "illumination"])
    thresholds = tune_thresholds(_Scripted(), data)
    # Any threshold in [0.615, 0.8) gives F1 = 1; the one nearest 0.5 on the 0.01 grid is 0.62.
    assert thresholds["texture"] == pytest.approx(0.62)
    assert thresholds["illumination"] == 0.5  # no changed pixels to tune on
    scores = evaluate(_Scripted(), data, change_thresholds=thresholds)
    assert scores.scores["pooled"]["change"]["texture"]["f1"] == pytest.approx(1.0)
    at_half = evaluate(_Scripted(), data).scores["pooled"]["change"]["texture"]["f1"]
    assert at_half is not None and at_half < 0.9  # at 0.5 the decoy band counts as changed


def test_a_dataset_of_feature_all_is_its_own_group_not_the_pooled_one(tmp_path: Path) -> None:
    data = fake_dataset(tmp_path / "data", pairs=3)
    manifest = data / "manifest.jsonl"
    manifest.write_text(manifest.read_text().replace('"feature": "texture"', '"feature": "all"'))
    scores = evaluate(_Scripted(), ChangePairs([data], "train", ["texture"]))
    assert scores.pairs == {"all": 2}
    assert scores.scores["all"] == scores.scores["pooled"]  # the same pairs, counted once in each


def test_scores_by_place_show_a_kind_of_change_the_pooled_scores_hide(tmp_path: Path) -> None:
    import shutil

    data = fake_dataset(tmp_path / "data", pairs=5)  # train pairs 0 and 2 change objects, 1 and 3 the ground
    for pid in ("s00000_v001", "s00000_v003"):  # the ground changes become invisible: the model misses them
        shutil.copy(data / "pairs" / pid / "reference.png", data / "pairs" / pid / "test.png")
    result = evaluate(_Scripted(), ChangePairs([data], "train", ["texture", "illumination"]))
    assert sorted(result.by_place) == ["texture/ground", "texture/object"]
    found, missed = result.by_place["texture/object"], result.by_place["texture/ground"]
    assert found["pairs"] == missed["pairs"] == 2
    assert found["change"]["recall"] == 1.0 and missed["change"]["recall"] == 0.0
    assert result.scores["texture"]["change"]["texture"]["recall"] == pytest.approx(0.5)
    assert result.to_dict()["by_place"] == result.by_place


def test_the_positive_weight_cap_sets_where_a_rare_change_tips_over() -> None:
    import torch

    from synthdiff.change._metrics import balanced_loss

    target = torch.zeros(1, 1, 10, 10)
    target[0, 0, 0, :2] = 1.0  # 2 % of the pixels changed
    grid = torch.linspace(-10.0, 10.0, 401)

    def best_constant_logit(cap: float) -> float:
        losses = [float(balanced_loss(torch.full_like(target, float(z)), target, cap)) for z in grid]
        return float(grid[losses.index(min(losses))])

    # With the full balancing weight (49 = negatives / positives here) both classes weigh the same, so
    # the best constant guess sits at probability 0.5; a lower cap moves it towards "unchanged".
    assert abs(best_constant_logit(50.0)) < 0.1
    assert best_constant_logit(1.0) < best_constant_logit(5.0) < -1.0
    with pytest.raises(InvalidArgumentError, match="max_pos_weight >= 1"):
        load_config(None, {"data": ["d"], "max_pos_weight": 0.5})


def test_per_pair_dice_counts_a_small_change_as_much_as_a_large_one() -> None:
    import torch

    from synthdiff.change._metrics import balanced_loss

    target = torch.zeros(2, 1, 16, 16)
    target[0, 0, :12] = 1.0  # a floor: 192 pixels, found
    target[1, 0, 0, :4] = 1.0  # one object's faces: 4 pixels, missed
    logits = torch.where(target[:1].bool(), 20.0, -20.0).expand(2, -1, -1, -1).clone()
    logits[1] = -20.0
    # The cross-entropy is the same in both modes, so the difference is the Dice terms': pooled over the
    # batch the miss costs 1 % of Dice (1 - 385/389); per pair, the mean of 0 and 1 - 1/5.
    pair, batch = (float(balanced_loss(logits, target, dice=mode)) for mode in ("pair", "batch"))
    assert pair - batch == pytest.approx(0.5 * (1 - 1 / 5) - (1 - 385 / 389), abs=1e-4)
    single = float(balanced_loss(logits[:1], target[:1], dice="pair"))  # one pair: the modes agree
    assert single == pytest.approx(float(balanced_loss(logits[:1], target[:1], dice="batch")))
    with pytest.raises(InvalidArgumentError, match="dice batch or pair"):
        balanced_loss(logits, target, dice="image")


def test_the_attribution_weight_stresses_pixels_where_another_feature_changed() -> None:
    import torch

    from synthdiff.change import attribution_weights, balanced_loss, change_loss
    from synthdiff.change._models import ChangeOutput

    target = torch.zeros(1, 3, 1, 4)
    target[0, 0] = torch.tensor([1.0, 1.0, 0.0, 0.0])  # light changed on the first two pixels
    target[0, 1] = torch.tensor([0.0, 1.0, 0.0, 0.0])  # texture too, on the second
    weights = attribution_weights(target, 3.0)[0, :, 0]
    # Light: only the second pixel has another change. Texture and the third feature: where light changed.
    assert weights.tolist() == [[1.0, 3.0, 1.0, 1.0], [3.0, 3.0, 1.0, 1.0], [3.0, 3.0, 1.0, 1.0]]
    # Missing the texture change under the light change costs more with the weight; the segmentation maps
    # are not weighted, so the difference is the change term's alone.
    logits = torch.where(target.bool(), 8.0, -8.0)
    logits[0, 1, 0, 1] = -8.0
    batch = {"change": target, "seg_ref": target, "seg_test": target}
    output = ChangeOutput(logits, logits, logits)
    plain, _ = change_loss(output, batch, 0.5, 1.0, 50.0)
    stressed, _ = change_loss(output, batch, 0.5, 1.0, 50.0, attribution_weight=3.0)
    plain_change = balanced_loss(logits, target, 50.0)
    stressed_change = balanced_loss(logits, target, 50.0, pixel_weight=attribution_weights(target, 3.0))
    assert float(stressed - plain) == pytest.approx(float(stressed_change - plain_change))
    assert float(stressed_change) > float(plain_change)
    with pytest.raises(InvalidArgumentError, match="positive attribution weight"):
        attribution_weights(target, 0.0)
    with pytest.raises(InvalidArgumentError, match="positive attribution_weight"):
        load_config(None, {"data": ["d"], "attribution_weight": -1.0})


@pytest.mark.parametrize(
    "path", sorted((Path(__file__).parents[2] / "configs").glob("change-*.yaml")), ids=lambda p: p.name
)
def test_every_shipped_training_config_is_valid(path: Path) -> None:
    config = load_config(path, {})
    assert config.model in MODELS and not config.model.endswith("-tiny")
    assert config.data and all(folder.startswith("data/change/") for folder in config.data)
    assert not config.data_weights or len(config.data_weights) == len(config.data)


def test_none_pairs_say_which_unchanged_pairs_carry_the_false_alarms(tmp_path: Path) -> None:
    from synthdiff.change._report import markdown_table

    data = fake_dataset(tmp_path / "unchanged", pairs=4)  # train pairs 0-2
    manifest = data / "manifest.jsonl"
    manifest.write_text(manifest.read_text().replace('"feature": "texture"', '"feature": "none"'))
    identical = data / "pairs" / "s00000_v001"
    (identical / "test.png").write_bytes((identical / "reference.png").read_bytes())
    features = ["texture", "illumination"]  # _Scripted marks both alike
    thresholds = dict.fromkeys(features, 0.7)
    result = evaluate(_Scripted(), ChangePairs([data], "train", features), change_thresholds=thresholds)
    square = 6 * 8 / SIZE**2  # the fake dataset's bright square, which _Scripted marks at 0.8
    assert result.none_pairs["unchanged/s00000_v000"] == {
        "marked": pytest.approx(square),
        "pixels": SIZE**2,
        "by_feature": {"texture": pytest.approx(square), "illumination": pytest.approx(square)},
    }
    assert result.none_pairs["unchanged/s00000_v001"]["marked"] == 0.0
    assert result.none_false_positive_rate == pytest.approx(2 * square / 3)
    worst = result.worst_none_pairs()
    assert [pair_id for pair_id, _ in worst] == ["unchanged/s00000_v000", "unchanged/s00000_v002"]
    assert list(result.to_dict()["none_pairs"])[-1] == "unchanged/s00000_v001"
    table = markdown_table(result, {"model": "scripted", "features": features}, "train")
    assert table.splitlines()[-1] == (
        "The 2 `none` pairs with most marked pixels carry 100.000 % of them: "
        f"unchanged/s00000_v000 {100 * square:.3f} % (texture, illumination); "
        f"unchanged/s00000_v002 {100 * square:.3f} % (texture, illumination)."
    )
