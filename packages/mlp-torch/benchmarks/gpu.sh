#!/usr/bin/env bash
# The GPU checks of mlp-torch, in one run of under 5 minutes on a machine with a CUDA GPU:
#   1. the float64 training parity with mlp-numpy (the conformance suite), trained on cuda;
#   2. the rest of the tests, on cuda;
#   3. the epoch benchmark at batch 64 and 1024, eager and with
#      torch.compile(mode="reduce-overhead"), with torch.optim's default and fused optimizers.
#
#   MNIST_MIRROR=/path/to/mnist bash packages/mlp-torch/benchmarks/gpu.sh
#
# From the repository root, on the machine's own Python and packages: the checks are
# packages/mlp-compare/benchmarks/gpu.py's for torch alone (`nox -s gpu` runs them for every
# framework, with mlp-compare's runs). PYTHON picks the interpreter; the output is also
# written to $OUT/gpu.txt when OUT is set.
set -euo pipefail
cd "$(dirname "$0")/../../.."
exec "${PYTHON:-python}" packages/mlp-compare/benchmarks/gpu.py --framework torch --no-compare "$@"
