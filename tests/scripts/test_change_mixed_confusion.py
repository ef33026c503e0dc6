"""scripts/change_mixed_confusion.py: how a detector's errors split on pairs where every feature changes."""

from __future__ import annotations

import numpy as np
import pytest

from tests.scripts.conftest import load_script

confusion = load_script("change_mixed_confusion")
FEATURES = ["illumination", "texture"]


def _pair() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A 1x12 strip: illumination labelled on pixels 0-5, texture on 4-7 (4-5 hold both).

    The model marks illumination on 0-5 and texture on 0-1 and 4 only: texture is missed on 5 (marked
    illumination there, which holds both labels), 6 and 7 (marked nothing; 7 is faint), and marked
    on 0-1, 3-4 px from its label and on the illumination label.
    """
    labels = np.zeros((2, 1, 12), dtype=bool)
    labels[0, 0, 0:6] = True
    labels[1, 0, 4:8] = True
    marked = np.zeros_like(labels)
    marked[0, 0, 0:6] = True
    marked[1, 0, [0, 1, 4]] = True
    difference = np.full((1, 12), 0.5, dtype=np.float32)
    difference[0, 7] = 0.01
    return marked, labels, difference


def test_texture_errors_split_by_where_they_fall() -> None:
    marked, labels, difference = _pair()
    row = confusion._zero_counts(FEATURES, "texture")
    confusion._count(row, 1, FEATURES, marked, labels, difference)
    figures = confusion._figures(row, "texture", FEATURES)
    assert figures["precision"] == pytest.approx(1 / 3)
    assert figures["recall"] == pytest.approx(1 / 4)
    assert figures["f1"] == pytest.approx(2 * 1 / (4 + 3))
    assert figures["labelled_also_other_label"] == pytest.approx(2 / 4)  # pixels 4 and 5
    assert figures["label_cover"] == pytest.approx(4 / 12)
    # Three missed: pixel 5 marked illumination where illumination is labelled, 6 and 7 marked nothing.
    assert figures["missed_marked_as"]["illumination"] == pytest.approx(1 / 3)
    assert figures["missed_marked_as_where_labelled"]["illumination"] == pytest.approx(1 / 3)
    assert figures["missed_marked_nothing"] == pytest.approx(2 / 3)
    assert figures["missed_faint"]["below 0.02"] == pytest.approx(1 / 3)
    # Two false marks (0 and 1), both on the illumination label, 3-4 px from texture's label at 4.
    assert figures["false_on_other_label"]["illumination"] == pytest.approx(1.0)
    assert figures["false_only_on_other_label"]["illumination"] == pytest.approx(1.0)
    assert figures["false_on_no_label"] == pytest.approx(0.0)
    assert figures["false_near_label"] == pytest.approx(1.0)
    assert figures["empty_label_pairs"] == 0


def test_illumination_found_whole_and_false_marks_counted_in_empty_pairs() -> None:
    marked, labels, difference = _pair()
    row = confusion._zero_counts(FEATURES, "illumination")
    confusion._count(row, 0, FEATURES, marked, labels, difference)
    assert confusion._figures(row, "illumination", FEATURES)["recall"] == pytest.approx(1.0)
    # A second pair with no texture label and one texture mark: a false alarm in an empty-label pair.
    empty_labels = np.zeros_like(labels)
    stray = np.zeros_like(marked)
    stray[1, 0, 11] = True
    texture = confusion._zero_counts(FEATURES, "texture")
    confusion._count(texture, 1, FEATURES, stray, empty_labels, difference)
    figures = confusion._figures(texture, "texture", FEATURES)
    assert figures["empty_label_pairs"] == 1
    assert figures["false_in_empty_label_pairs"] == pytest.approx(1.0)
    assert figures["false_on_no_label"] == pytest.approx(1.0)
    assert figures["recall"] is None
