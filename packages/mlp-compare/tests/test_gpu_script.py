"""The GPU script (`nox -s gpu`) on a machine without a GPU: one line that says so, status 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu.py"


def test_without_a_gpu_it_says_so_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OUT": str(tmp_path / "out")}
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--framework", "torch"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == "no GPU visible: torch: torch sees no GPU\n"
    assert not (tmp_path / "out").exists()  # nothing written: nothing ran
