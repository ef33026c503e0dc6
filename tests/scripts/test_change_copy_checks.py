"""scripts/change_copy_checks.py: marked pixels in regions where a pair is the same picture."""

from __future__ import annotations

import numpy as np

from .conftest import load_script

checks = load_script("change_copy_checks")


class _Maps:
    def __init__(self, masks: dict[str, np.ndarray]) -> None:
        self.masks = masks

    def changed(self, name: str) -> np.ndarray:
        return self.masks[name]


def test_only_regions_identical_everywhere_count_as_in_identical_regions() -> None:
    same = np.ones((8, 10), dtype=bool)
    same[5:, 6:] = False  # the pair differs in the lower right corner only
    texture = np.zeros((8, 10), dtype=bool)
    texture[0:2, 0:2] = True  # 4 pixels, all identical: counted
    texture[4:7, 5:8] = True  # 9 pixels reaching into the differing corner: not counted
    reflection = np.zeros((8, 10), dtype=bool)
    reflection[6:8, 8:10] = True  # 4 pixels where the pair differs: not counted
    maps = _Maps({"texture": texture, "reflection": reflection})
    assert checks.marked_in_identical_regions(maps, ["texture", "reflection"], same) == (17, 4)
    assert checks.marked_in_identical_regions(maps, ["reflection"], np.ones((8, 10), dtype=bool)) == (4, 4)
