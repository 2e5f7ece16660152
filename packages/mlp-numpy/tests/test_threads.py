"""BLAS threads through threadpoolctl: the default, the override, and bad counts."""

import numpy as np
import pytest

import mlp_numpy
from mlp_numpy import threads
from mlp_numpy.spec import ModelSpec, Network, Training


def test_set_blas_threads_sets_the_count():
    before = mlp_numpy.blas_threads()
    try:
        mlp_numpy.set_blas_threads(1)
        assert mlp_numpy.blas_threads() == 1
        assert threads.training_threads() == 1
        mlp_numpy.set_blas_threads(2)
        assert mlp_numpy.blas_threads() == 2
        assert threads.training_threads() == 2
        assert threads.training_threads(1) == 1
    finally:
        mlp_numpy.set_blas_threads(before)
        threads._chosen = None


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_bad_thread_counts_are_refused(bad):
    with pytest.raises(ValueError, match="number of BLAS threads must be an integer ≥ 1"):
        mlp_numpy.set_blas_threads(bad)
    with pytest.raises(ValueError, match="number of BLAS threads"):
        threads.training_threads(bad)


@pytest.mark.parametrize(("given", "want"), [(None, threads.DEFAULT_THREADS), (2, 2)])
def test_training_runs_on_the_chosen_threads_and_restores_the_count(given, want):
    rng = np.random.default_rng(0)
    x, labels = rng.normal(size=(20, 4)), rng.integers(0, 2, size=20)
    spec = ModelSpec(Network(layers=(4, 3, 2)), training=Training(epochs=2, batch_size=8))
    seen = []
    before = mlp_numpy.blas_threads()
    mlp_numpy.train(
        spec, x, labels, threads=given, progress=lambda _: seen.append(mlp_numpy.blas_threads())
    )
    assert seen == [want, want]
    assert mlp_numpy.blas_threads() == before
