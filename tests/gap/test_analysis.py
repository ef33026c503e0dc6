"""The analysis: same-source sets stay near their baseline, shifted sets do not; small N is explained;
PCA axes are shared."""

from __future__ import annotations

import numpy as np

from synthdiff.gap._analysis import deep_distances, shared_pca


def test_same_source_sets_sit_at_the_baseline_and_a_shift_stands_out() -> None:
    rng = np.random.default_rng(0)
    a, same = rng.normal(0, 1, (60, 16)), rng.normal(0, 1, (60, 16))
    shifted = rng.normal(0.8, 1, (60, 16))
    near = deep_distances(a, same, resamples=20)
    far = deep_distances(a, shifted, resamples=20)
    assert near["status"] == far["status"] == "computed"
    for name in ("frechet_distance", "kid"):
        low, high = near["metrics"][name]["baseline"]["interval"]
        assert low <= near["metrics"][name]["gap"]["median"] <= high
        assert far["metrics"][name]["gap"]["interval"][0] > high
        assert far["metrics"][name]["gap_above_baseline"] == 1.0
    assert far["metrics"]["precision"]["value"] < near["metrics"]["precision"]["value"]
    assert abs(near["classifier"]["auc"] - 0.5) < 0.15 < far["classifier"]["auc"] - 0.5
    low, high = far["classifier"]["interval"]
    assert low <= far["classifier"]["auc"] <= high


def test_too_few_images_are_stated_not_crashed_on() -> None:
    rng = np.random.default_rng(1)
    result = deep_distances(rng.normal(size=(4, 8)), rng.normal(size=(30, 8)))
    assert result["metrics"] == {} and "at least 10" in result["status"]
    partial = deep_distances(rng.normal(size=(11, 8)), rng.normal(size=(30, 8)), resamples=5)
    assert "precision" not in partial["metrics"] and "PRDC not computed" in partial["status"]
    assert "kid" in partial["metrics"]


def test_pca_is_fitted_on_the_union_so_both_sets_share_axes() -> None:
    rng = np.random.default_rng(2)
    a = rng.normal(0, 1, (50, 5))
    b = rng.normal(0, 1, (50, 5)) + np.array([5.0, 0, 0, 0, 0])
    projected_a, projected_b, explained = shared_pca(a, b)
    # The first shared axis is the direction that separates the sets.
    assert abs(projected_a[:, 0].mean() - projected_b[:, 0].mean()) > 4
    assert explained[0] > explained[1]
    # Projecting one set alone through the same call gives different axes than fitting per set would.
    both_a, _, _ = shared_pca(a, a)
    assert not np.allclose(np.abs(both_a[:, 0]), np.abs(projected_a[:, 0]))


def test_pca_of_identical_vectors_explains_nothing_without_dividing_by_zero() -> None:
    # One image in both sets: `gap one one` warned "invalid value encountered in divide".
    same = np.ones((1, 4))
    projected_a, projected_b, explained = shared_pca(same, same)
    assert explained == [0.0, 0.0] and np.all(projected_a == 0) and np.all(projected_b == 0)
