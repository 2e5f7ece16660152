"""Setting NumPy's BLAS thread count through the loaded OpenBLAS."""

import numpy as np
import pytest

import mlp_numpy


def test_set_and_read_back_the_thread_count():
    before = mlp_numpy.blas_threads()
    try:
        mlp_numpy.set_blas_threads(1)
        assert mlp_numpy.blas_threads() == 1
        a = np.ones((64, 64), np.float32)
        assert (a @ a)[0, 0] == 64  # products still work on one thread
    finally:
        mlp_numpy.set_blas_threads(before)
    assert mlp_numpy.blas_threads() == before


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_bad_counts_are_rejected(bad):
    with pytest.raises(ValueError, match="number of BLAS threads"):
        mlp_numpy.set_blas_threads(bad)
