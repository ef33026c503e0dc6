"""scripts/realness_familiarity.py's familiarity check (the familiarity round; not shipped): k-th
nearest-neighbour distances, the weighted quantile, and a threshold chosen by leave-one-source-out that
flags a new kind of image but not a new source of a familiar kind."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from synthdiff.realness._data import LabelledImage
from tests.scripts.conftest import load_script

familiarity = load_script("realness_familiarity")
Familiarity, fit_familiarity = familiarity.Familiarity, familiarity.fit_familiarity
unit_rows, weighted_quantile = familiarity.unit_rows, familiarity.weighted_quantile


def test_weighted_quantile_follows_the_weights() -> None:
    values = np.array([4.0, 1.0, 3.0, 2.0])
    assert weighted_quantile(values, np.ones(4), 0.5) == 2.0
    assert weighted_quantile(values, np.ones(4), 0.75) == 3.0
    assert weighted_quantile(values, np.ones(4), 1.0) == 4.0
    # Almost all the weight on the largest value: every quantile above 1 % lands on it.
    assert weighted_quantile(values, np.array([97.0, 1.0, 1.0, 1.0]), 0.05) == 4.0
    with pytest.raises(ValueError, match="non-negative weights"):
        weighted_quantile(values, np.ones(3), 0.5)
    with pytest.raises(ValueError, match="0 < q <= 1"):
        weighted_quantile(values, np.ones(4), 0.0)


def test_scores_are_the_distance_to_the_kth_nearest_reference_row() -> None:
    reference = np.eye(4, dtype=np.float32)  # four unit rows, pairwise sqrt(2) apart
    check = Familiarity(reference, k=2, threshold=1.0)
    query = np.array([[1.0, 0.0, 0.0, 0.0]], np.float32)
    # Nearest: itself (0); second nearest: any other axis, sqrt(2) away.
    np.testing.assert_allclose(check.scores(query), [np.sqrt(2)], atol=1e-6)
    assert check.unfamiliar(query).tolist() == [True]
    assert Familiarity(reference, k=1, threshold=1.0).unfamiliar(query).tolist() == [False]
    # k larger than the reference: the farthest row.
    np.testing.assert_allclose(
        Familiarity(reference, k=10, threshold=1.0).scores(query), [np.sqrt(2)], atol=1e-6
    )


def test_unit_rows_standardise_then_normalise() -> None:
    rows = np.array([[1.0, 10.0], [3.0, 30.0]])
    unit = unit_rows(rows, rows.mean(0), rows.var(0), eps=0.0)
    np.testing.assert_allclose(
        unit, [[-np.sqrt(0.5), -np.sqrt(0.5)], [np.sqrt(0.5), np.sqrt(0.5)]], atol=1e-6
    )


def _images(counts: dict[str, tuple[int, int]]) -> list[LabelledImage]:
    return [
        LabelledImage(Path(f"/{name}/{i}.png"), label, name)
        for name, (label, count) in counts.items()
        for i in range(count)
    ]


def test_the_threshold_admits_a_new_source_of_a_familiar_kind_and_flags_a_new_kind() -> None:
    """Two kinds of image, each a cloud in its own half of the space; each kind comes in several
    sources (small offsets). A held-back source of a known kind stays under the threshold; points in
    directions no source used lie above it."""
    rng = np.random.default_rng(0)
    dim, variants = 16, 3
    kinds = {0: np.r_[np.ones(dim // 2), np.zeros(dim // 2)], 1: np.r_[np.zeros(dim // 2), np.ones(dim // 2)]}

    def source_rows(kind: int, count: int) -> np.ndarray:
        centre = 3.0 * kinds[kind] + 0.3 * rng.normal(size=dim)
        return centre + 0.3 * rng.normal(size=(count, variants, dim))

    counts = {f"real{i}": (0, 12) for i in range(4)} | {f"synthetic{i}": (1, 12) for i in range(4)}
    images = _images(counts)
    embeddings = np.concatenate([source_rows(label, count) for label, count in counts.values()])
    flat = embeddings.reshape(-1, dim)
    mean, variance = flat.mean(0), flat.var(0)
    check = fit_familiarity(embeddings, images, mean, variance, k=3, quantile=0.95)
    assert check.reference.shape == (len(images) * variants, dim)
    assert check.k == 3 and check.threshold > 0

    new_source = source_rows(0, 20)[:, 0]
    new_kind = 3.0 * np.r_[np.ones(dim // 4), -np.ones(dim // 4), np.ones(dim // 4), -np.ones(dim // 4)]
    new_kind = new_kind + 0.3 * rng.normal(size=(20, dim))
    assert check.unfamiliar(unit_rows(new_source, mean, variance)).mean() <= 0.1
    assert check.unfamiliar(unit_rows(new_kind, mean, variance)).all()


def test_fit_familiarity_refuses_what_it_cannot_use() -> None:
    embeddings = np.zeros((4, 2, 3))
    with pytest.raises(ValueError, match="at least two sources"):
        fit_familiarity(embeddings, _images({"a": (0, 2), "b": (0, 2)})[:2] * 2, np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match="one embedding per image"):
        fit_familiarity(embeddings, _images({"a": (0, 2), "b": (1, 1)}), np.zeros(3), np.ones(3))
