"""Check the time budgets of two shipped experiments on this machine, in one process each.

    python benchmarks/budgets.py [--threads N]

- `baseline` (the default of `mlp-compare run --all`): every framework on the CPU, the whole
  command within 300 s of wall time.
- `best`: at least 98.3% test accuracy in every framework, within 60 s of CPU time each
  (the process's CPU time over the training call, every thread counted).

Prints one line per framework and the verdicts. Wall times depend on what else the machine
runs; CPU times much less so.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(experiment: str, threads: int, out: Path) -> tuple[float, dict]:
    command = [sys.executable, "-m", "mlp_compare", "run", "-d", "cpu", "-e", experiment]
    command += ["--out", str(out), "--quiet", "--equivalence-steps", "0"]
    command += ["--threads", str(threads)]
    start = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - start, json.loads((out / "results.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="0: each framework's default")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        wall, baseline = run("baseline", args.threads, Path(folder) / "baseline")
        verdict = "ok" if wall <= 300 else "OVER"
        print(f"baseline: whole command {wall:.1f} s (budget 300 s): {verdict}")
        for r in baseline["experiments"][0]["runs"]:
            print(f"  {r['variant']:<9} {r['framework']:<6} {describe(r['metrics'])}")
        _, best = run("best", args.threads, Path(folder) / "best")
        for r in best["experiments"][0]["runs"]:
            m = r["metrics"]
            ok = m["final_test_accuracy"] >= 0.983 and m["cpu_seconds"] <= 60
            verdict = "ok" if ok else "MISSED"
            print(f"best {r['framework']:<6} {describe(m)} (≥ 98.30%, ≤ 60 s CPU): {verdict}")


def describe(m: dict) -> str:
    return (
        f"test {100 * m['final_test_accuracy']:.2f}%  "
        f"{m['seconds_wall']:.1f} s wall, {m['cpu_seconds']:.1f} s CPU"
    )


if __name__ == "__main__":
    main()
