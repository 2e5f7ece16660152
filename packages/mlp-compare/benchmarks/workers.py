"""Does `mlp-compare run --workers 2` finish a CPU-bound study sooner than one process?

    python benchmarks/workers.py [--workers 2] [--frameworks numpy] [--repeats 1]

Runs one study of 20 training runs (784-256-10 on 30 000 MNIST images, batch 16, 4 epochs;
Adam and momentum SGD, 10 seeds each; one thread per framework; a few seconds each, so that
starting the workers, a few seconds, is small beside the study) twice in this invocation:
`mlp-compare run` in one process, then with `--workers N`, and prints each one's wall time
(the whole command, as a user waits for it, and the study's own session time from
results.json), their ratio (the goal on a 2-core machine: ≤ 0.65 with 2 workers), the CPU
model and the load average before each. With `--repeats R` it alternates the two R times and
prints every ratio and their spread. The results of both must be the same runs with the same
accuracies; the script checks it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STUDY = """
[experiment]
name = "workers-benchmark"
title = "784-256-10 on 30 000 images, 4 epochs: 20 CPU-bound runs"
seeds = "0-9"

[data]
train = "first"
train_size = 30000
test = "first"
test_size = 2000

[network]
layers = [784, 256, 10]

[training]
batch_size = 16
epochs = 4

[training.optimizer]
name = "adam"

[training.schedule]
name = "constant"
lr = 0.001

[[variants]]
name = "adam"

[[variants]]
name = "momentum"
set.training.optimizer = { name = "sgd", momentum = 0.9 }
set.training.schedule = { name = "constant", lr = 0.01 }
"""


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def run(study: Path, out: Path, frameworks: str, options: list[str]) -> tuple[float, dict]:
    """One `mlp-compare run` of the study: its wall time and results."""
    command = [sys.executable, "-m", "mlp_compare", "run", "-e", str(study), "-d", "cpu"]
    command += ["-f", frameworks, "--equivalence-steps", "0", "--out", str(out), "--quiet"]
    start = time.perf_counter()
    subprocess.run([*command, *options], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start, json.loads((out / "results.json").read_text())


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f} (1 min), {five:.2f} (5 min)"


def accuracies(results: dict) -> list[tuple[str, str, int, float]]:
    return [
        (r["variant"], r["framework"], r["seed"], r["metrics"]["final_test_accuracy"])
        for e in results["experiments"]
        for r in e["runs"]
        if r["status"] == "ok"
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--frameworks", default="numpy", help="as -f of mlp-compare run")
    parser.add_argument("--repeats", type=int, default=1, help="alternate both this many times")
    args = parser.parse_args()
    print(f"{cpu_model()}, {os.cpu_count()} logical cores")
    ratios = []
    with tempfile.TemporaryDirectory() as folder:
        study = Path(folder) / "study.toml"
        study.write_text(STUDY)
        for repeat in range(args.repeats):
            times = {}
            found = {}
            for name, options in (("one process", []), (f"{args.workers} workers", [
                "--workers", str(args.workers)
            ])):  # fmt: skip
                before = load()
                out = Path(folder) / f"{repeat}-{name.replace(' ', '-')}"
                wall, results = run(study, out, args.frameworks, options)
                (session,) = results["sessions"]
                runs = len(accuracies(results))
                print(
                    f"  {name:<12} {wall:6.1f} s for the command, {session['wall_seconds']:6.1f} s "
                    f"for the study's {runs} runs ({before} before)"
                )
                times[name], found[name] = wall, accuracies(results)
            one, many = times.values()
            if found["one process"] != found[f"{args.workers} workers"]:
                raise SystemExit("the two executors gave different results")
            ratios.append(many / one)
            print(f"ratio {ratios[-1]:.2f} (goal ≤ 0.65 with 2 workers on 2 cores)")
    if len(ratios) > 1:
        print(f"ratios over {len(ratios)} repeats: {min(ratios):.2f}–{max(ratios):.2f}")
    print(load() + " after")


if __name__ == "__main__":
    main()
