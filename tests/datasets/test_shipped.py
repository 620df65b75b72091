import numpy as np

from spectral_sheaf.datasets import load_spot
from spectral_sheaf.mesh import check_mesh, read_mesh


def test_spot_is_shipped_and_clean():
    V, F = load_spot()
    assert V.shape == (2930, 3)
    assert F.shape == (5856, 3)
    r = check_mesh(V, F)
    assert r.problems() == []
    assert r.is_closed
    assert r.euler_characteristic == 2


def test_spot_matches_the_shared_copy(shared_data):
    V, F = read_mesh(shared_data / "meshes" / "spot.obj")
    V2, F2 = load_spot()
    np.testing.assert_array_equal(V, V2)
    np.testing.assert_array_equal(F, F2)
