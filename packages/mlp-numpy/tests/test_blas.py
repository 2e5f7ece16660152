"""Setting NumPy's BLAS thread count through the loaded OpenBLAS."""

import numpy as np
import pytest

import mlp_numpy
from mlp_numpy import blas
from mlp_numpy.blas import SubtractProduct


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


def operands(dtype, rows=7, m=5, n=9, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=s).astype(dtype) for s in ((m, n), (rows, m), (rows, n)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [0, 1, 4, 7])
def test_subtract_product_subtracts_the_product_of_the_first_k_rows(dtype, k):
    c, a, b = operands(dtype)
    want = c - a[:k].T @ b[:k]
    subtract = SubtractProduct(c, a, b)
    assert subtract.gemm is not None  # NumPy's OpenBLAS was found: the one-pass form runs
    subtract(k)
    np.testing.assert_allclose(c, want, rtol=1e-5 if dtype == np.float32 else 1e-13)


def test_subtract_product_without_openblas_gives_the_same_result(monkeypatch):
    c, a, b = operands(np.float64)
    c_numpy = c.copy()
    SubtractProduct(c, a, b)(7)
    monkeypatch.setattr(blas, "_gemm", lambda dtype: None)
    numpy_only = SubtractProduct(c_numpy, a, b)
    assert numpy_only.gemm is None
    numpy_only(7)
    np.testing.assert_allclose(c_numpy, c, rtol=1e-13)


def test_an_openblas_without_cblas_leaves_numpy_to_do_the_product(monkeypatch):
    monkeypatch.setattr(blas, "_openblas", lambda: blas._OpenBLAS(object(), "", ""))
    assert blas._gemm.__wrapped__(np.dtype(np.float32)) is None


def test_subtract_product_rejects_arrays_that_do_not_fit():
    c, a, b = operands(np.float64)
    with pytest.raises(ValueError, match="do not give"):
        SubtractProduct(c, a.T.copy(), b)
    with pytest.raises(ValueError, match="dtype float64"):
        SubtractProduct(c, a.astype(np.float32), b)
    with pytest.raises(ValueError, match="rows each"):
        SubtractProduct(c, a[:3], b)
    with pytest.raises(ValueError, match="C-contiguous"):
        SubtractProduct(np.asfortranarray(c), a, b)
    with pytest.raises(ValueError, match="0 ≤ k ≤ 7"):
        SubtractProduct(c, a, b)(8)
