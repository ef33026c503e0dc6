"""The meshes scripts/make_engine_renders.py gives engines that take only triangles (LuxCore)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.scripts.conftest import load_script


@pytest.mark.parametrize("shape", ["sphere", "cube", "cylinder"])
def test_unit_meshes_are_outward_facing_and_fill_their_bounds(shape: str) -> None:
    vertices, triangles, normals, uvs = load_script("make_engine_renders").unit_mesh(shape, segments=16)
    assert triangles.min() == 0 and triangles.max() == len(vertices) - 1
    assert normals.shape == vertices.shape and uvs.shape == (len(vertices), 2)
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-6)
    assert (np.einsum("ij,ij->i", normals, vertices) > 0).all()  # every normal points away from the centre
    a, b, c = (vertices[triangles[:, k]] for k in range(3))
    faces = np.cross(b - a, c - a)
    real = np.linalg.norm(faces, axis=1) > 1e-9  # the caps' quads hold one empty triangle each
    centroids = (a + b + c)[real] / 3
    assert (np.einsum("ij,ij->i", faces[real], centroids) > 0).all()  # counter-clockwise seen from outside
    expected = {"sphere": (1.0, 1.0), "cube": (1.0, 1.0), "cylinder": (0.8, 1.0)}[shape]
    np.testing.assert_allclose(
        [np.abs(vertices[:, 0]).max(), np.abs(vertices[:, 2]).max()], expected, atol=1e-6
    )


def test_an_unknown_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="got 'cone'"):
        load_script("make_engine_renders").unit_mesh("cone")
