"""How many threads NumPy's matrix products (its BLAS library) use, through threadpoolctl.

Training runs on DEFAULT_THREADS = 1 BLAS thread unless told otherwise: by
`train(..., threads=n)` for one training, or by `set_blas_threads(n)` for everything
after it. The products of these networks are small (a step of 784-128-64-10 at batch
64 multiplies at most 64 × 784 by 784 × 128): on an idle 2-core machine a second thread
made an epoch at most about 1.6 × faster, but when other programs take the cores, the
threads of a product wait for each other and training ran 5 to 28 × slower than on one
thread. The measurements are in benchmarks/README.md.

threadpoolctl finds the BLAS library NumPy loaded (OpenBLAS, MKL or BLIS) and sets its
thread count; `train` sets it with `threadpoolctl.threadpool_limits`, which restores
the previous count when training ends.
"""

from __future__ import annotations

from threadpoolctl import threadpool_info, threadpool_limits

DEFAULT_THREADS = 1
_chosen: int | None = None  # the count set by set_blas_threads, if it was called


def _check(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"threads: the number of BLAS threads must be an integer ≥ 1, got {n!r}")
    return n


def set_blas_threads(n: int) -> None:
    """Use `n` BLAS threads from now on, in `train` too (unless its `threads` says otherwise)."""
    global _chosen
    threadpool_limits(limits=_check(n), user_api="blas")
    _chosen = n


def blas_threads() -> int:
    """The number of threads NumPy's BLAS uses now (the most of any BLAS library loaded)."""
    counts = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
    if not counts:
        raise RuntimeError("blas_threads: threadpoolctl found no BLAS library in this process")
    return max(counts)


def training_threads(n: int | None = None) -> int:
    """The BLAS threads a training uses: `n` when given, else the count last set by
    `set_blas_threads`, else DEFAULT_THREADS."""
    if n is not None:
        return _check(n)
    return DEFAULT_THREADS if _chosen is None else _chosen
