#!/usr/bin/env bash
# The GPU checks of mlp-jax, in one run of under 5 minutes on a machine with a CUDA GPU and
# JAX's CUDA build (pip install "jax[cuda12]"):
#   1. the float64 training parity with mlp-numpy (the conformance suite's), on the GPU;
#   2. the rest of the tests, on the GPU;
#   3. the epoch benchmark at batch 64 and 1024, one compiled call per step and scanned.
#
#   MNIST_MIRROR=/path/to/mnist bash packages/mlp-jax/benchmarks/gpu.sh
#
# From the repository root, on the machine's own Python and packages: the checks are
# packages/mlp-compare/benchmarks/gpu.py's for jax alone (`nox -s gpu` runs them for every
# framework, with mlp-compare's runs). PYTHON picks the interpreter; the output is also
# written to $OUT/gpu.txt when OUT is set.
set -euo pipefail
cd "$(dirname "$0")/../../.."
exec "${PYTHON:-python}" packages/mlp-compare/benchmarks/gpu.py --framework jax --no-compare "$@"
