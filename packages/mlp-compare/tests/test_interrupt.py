"""Ctrl-C: SIGINT to a running `mlp-compare run` keeps what finished in a valid results.json."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import validate

QUICK = (Path(__file__).parents[1] / "src/mlp_compare/experiments/quick.toml").read_text()
TWO_RUNS = """
[[variants]]
name = "short"
set.training.epochs = 1

[[variants]]
name = "long"
set.training.epochs = 1000
"""


def test_sigint_stops_cleanly_and_keeps_finished_runs(tmp_path: Path) -> None:
    experiment = tmp_path / "two.toml"
    experiment.write_text(QUICK + TWO_RUNS)
    out = tmp_path / "run"
    command = [sys.executable, "-m", "mlp_compare", "run", "-f", "numpy", "-d", "cpu"]
    command += ["-e", str(experiment), "--out", str(out), "--quiet", "--equivalence-steps", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not _short_run_finished(out / "results.json"):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the first run did not finish in 120 s"
            time.sleep(0.2)
        time.sleep(1.0)  # the long run is training now
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
    assert process.returncode == 130, stderr
    assert "Interrupted: 1 finished runs kept in" in stderr
    document = json.loads((out / "results.json").read_text())
    validate(document)
    assert document["status"] == "interrupted"
    short, long = document["experiments"][0]["runs"]
    assert short["status"] == "ok" and short["metrics"]["epochs"] == 1
    assert long["status"] == "interrupted"
    assert 1 <= len(long["history"]) < 1000
    assert "interrupted" in (out / "report.md").read_text()
    assert not list(out.glob(".*.tmp"))  # no half-written file left behind


def _short_run_finished(path: Path) -> bool:
    try:
        document = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return False
    experiments = document["experiments"]
    return bool(experiments) and any(r["status"] == "ok" for r in experiments[0]["runs"])
