"""Studies on Dask, for real: a LocalCluster of two processes gives the same results as one
process; the real `dask scheduler` and `dask worker` programs on 127.0.0.1 run a study, one
worker killed with SIGKILL in the middle, and `--resume` completes what it lost.

Small networks on data subsets keep these tests to about a minute on two cores.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import invoke, validate
from distributed import Client

from mlp_compare.frameworks import names
from mlp_numpy.weights import load_weights

QUICK = (Path(__file__).parents[1] / "src/mlp_compare/experiments/quick.toml").read_text()
TIMINGS = {"seconds_training", "seconds_wall", "cpu_seconds", "seconds_per_epoch"}
TIMINGS |= {"steps_per_second"}
DASK = Path(sys.executable).parent / "dask"


def small_study(folder: Path) -> Path:
    """The quick experiment on 1 000 images, two variants, one epoch."""
    text = QUICK.replace("train_size = 5000", "train_size = 1000").replace(
        "epochs = 2", "epochs = 1"
    )
    text += '\n[[variants]]\nname = "adam"\n\n[[variants]]\nname = "sgd"\n'
    text += 'set.training.optimizer = { name = "sgd", momentum = 0.9 }\n'
    text += 'set.training.schedule = { name = "constant", lr = 0.05 }\n'
    path = folder / "small.toml"
    path.write_text(text)
    return path


def comparable(document: dict) -> dict:
    """Everything a study records except its timings and where its runs ran."""
    (experiment,) = document["experiments"]
    runs = []
    for run in experiment["runs"]:
        kept = {
            k: v for k, v in run.items() if k not in ("started", "worker", "metrics", "history")
        }
        kept["metrics"] = {k: v for k, v in (run["metrics"] or {}).items() if k not in TIMINGS}
        kept["history"] = [{k: v for k, v in h.items() if k != "seconds"} for h in run["history"]]
        runs.append(kept)
    return {
        "runs": runs,
        "equivalence": experiment["equivalence"],
        "best_weights": experiment["best_weights"],
    }


def test_two_workers_give_the_results_of_one_process(tmp_path: Path) -> None:
    study = small_study(tmp_path)
    folders = {}
    for name, options in (("sequential", []), ("workers", ["--workers", "2"])):
        folders[name] = tmp_path / name
        args = ["run", "-d", "cpu", "-e", str(study), "--equivalence-steps", "3", *options]
        result = invoke(*args, "--out", str(folders[name]), "--quiet")
        assert result.exit_code == 0, result.output
    one, two = (json.loads((f / "results.json").read_text()) for f in folders.values())
    for document in (one, two):
        validate(document)
    # 2 variants × (every framework + the reference under TensorFlow's conventions)
    assert len(one["experiments"][0]["runs"]) == 2 * (len(names()) + 1)
    assert all(r["status"] == "ok" for r in two["experiments"][0]["runs"])
    assert comparable(one) == comparable(two)
    path = one["experiments"][0]["best_weights"]["path"]
    kept = [load_weights(folder / path) for folder in folders.values()]
    assert kept[0].network == kept[1].network and kept[0].producer == kept[1].producer
    for a, b in zip(kept[0].layers, kept[1].layers, strict=True):
        assert np.array_equal(a.weight, b.weight) and np.array_equal(a.bias, b.bias)
    (session,) = two["sessions"]
    assert session["executor"]["kind"] == "local" and session["executor"]["workers"] == 2
    assert session["executor"]["cores"] in ([[0], [1]], None)
    workers = {r["worker"]["pid"] for r in two["experiments"][0]["runs"]}
    assert os.getpid() not in workers  # the runs trained in the workers, not in this process
    assert {r["worker"]["pid"] for r in one["experiments"][0]["runs"]} == {os.getpid()}
    report = (folders["workers"] / "report.md").read_text()
    assert "measured on 2 Dask workers on this machine, 1 thread each" in report


def test_local_workers_keep_glibcs_malloc_defaults() -> None:
    """Dask's nannies set MALLOC_TRIM_THRESHOLD_, which made every step's large arrays be
    mapped anew (SGD runs 2.2 × slower in a worker): the study's workers start without it,
    with Dask's other settings (one thread for every BLAS) kept."""
    from mlp_compare.cluster import DaskExecutor

    executor = DaskExecutor.local(workers=1, threads=1)
    try:
        environments = executor.client.run(lambda: dict(os.environ)).values()
    finally:
        executor.close()
    for environment in environments:
        assert "MALLOC_TRIM_THRESHOLD_" not in environment
        assert environment["OPENBLAS_NUM_THREADS"] == "1"


def test_workers_without_dask_say_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # an installation without Dask
    monkeypatch.delitem(sys.modules, "mlp_compare.cluster", raising=False)
    args = ["run", "-f", "numpy", "-d", "cpu", "-e", "quick", "--epochs", "1", "--quiet"]
    result = invoke(*args, "--workers", "2", "--out", str(tmp_path / "dask"))
    assert result.exit_code == 1
    assert "--workers runs the study on Dask, which is not installed" in result.output
    assert "pip install 'mlp-compare[dask]'" in result.output
    result = invoke(*args, "--out", str(tmp_path / "plain"))  # the default needs no Dask
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "plain/results.json").read_text())["status"] == "complete"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def numpy_study(folder: Path) -> Path:
    """Six NumPy runs of a few seconds each: 784-256-10 on 20 000 images, batch 16."""
    text = QUICK.replace('train = "stratified"', 'train = "first"')
    text = text.replace("train_size = 5000", "train_size = 20000")
    text = text.replace("layers = [784, 32, 10]", "layers = [784, 256, 10]")
    text = text.replace("batch_size = 64", "batch_size = 16").replace(
        "[experiment]", '[experiment]\nseeds = "0-1"'
    )
    text += '\n[[variants]]\nname = "adam"\n\n[[variants]]\nname = "sgd"\n'
    text += 'set.training.optimizer = { name = "sgd", momentum = 0.9 }\n'
    text += '\n[[variants]]\nname = "small-batch"\nset.training.batch_size = 8\n'
    path = folder / "numpy.toml"
    path.write_text(text)
    return path


def test_a_killed_worker_is_recorded_and_resume_completes_the_study(tmp_path: Path) -> None:
    """`dask scheduler` (no retries: a task whose worker dies fails) and two `dask worker`s."""
    assert DASK.is_file(), f"{DASK}: the dask command line is missing (mlp-compare[dask])"
    address = f"tcp://127.0.0.1:{free_port()}"
    env = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0"}
    logs = tmp_path / "logs"
    logs.mkdir()
    processes: dict[str, subprocess.Popen] = {}

    def start(name: str, *args: str) -> None:
        log = (logs / f"{name}.log").open("w")
        processes[name] = subprocess.Popen([str(DASK), *args], stdout=log, stderr=log, env=env)

    port = address.rsplit(":", 1)[1]
    start("scheduler", "scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard")
    try:
        for name in ("w0", "w1"):
            start(name, "worker", address, "--name", name, "--nthreads", "1", "--no-nanny",
                  "--no-dashboard", "--host", "127.0.0.1")  # fmt: skip
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
            out = tmp_path / "run"
            command = [sys.executable, "-m", "mlp_compare", "run", "-f", "numpy", "-d", "cpu"]
            command += ["-e", str(numpy_study(tmp_path)), "--equivalence-steps", "0"]
            study = subprocess.Popen(
                [*command, "--scheduler", address, "--out", str(out)],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            killed = kill_a_busy_worker(client, processes, out, study)
            output, _ = study.communicate(timeout=120)
        assert study.returncode == 1, output  # a run failed
        assert "run(s) failed" in output and f"--resume {out}" in output
        document = json.loads((out / "results.json").read_text())
        validate(document)
        runs = document["experiments"][0]["runs"]
        assert len(runs) == 6  # 3 variants × 2 seeds: every run is recorded
        failed = [r for r in runs if r["status"] == "failed"]
        assert failed, "the killed worker's task should have failed"
        for run in runs:
            assert run["status"] in ("ok", "failed"), run
        for run in failed:
            assert run["reason"].startswith("KilledWorker: "), run["reason"]
        finished = {(r["variant"], r["seed"]) for r in runs if r["status"] == "ok"}
        assert not any(r["worker"] and r["worker"]["name"] == killed for r in failed)
        assert len(list((out / "tasks").rglob("*.json"))) == 6
        lines = [line for line in output.splitlines() if line.startswith("[")]
        assert len(lines) == 6 and "failed" in output  # one plain line per finished task

        result = subprocess.run(
            [sys.executable, "-m", "mlp_compare", "run", "--resume", str(out), "--scheduler",
             address, "--quiet"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        document = json.loads((out / "results.json").read_text())
        runs = document["experiments"][0]["runs"]
        assert [r["status"] for r in runs] == ["ok"] * 6
        assert {(r["variant"], r["seed"]) for r in runs} >= finished
        first, second = document["sessions"]
        assert first["tasks"] == 6
        assert second["tasks"] == len(failed)  # only what the first session lost ran again
        assert second["executor"]["kind"] == "scheduler"
        assert document["status"] == "complete"
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def kill_a_busy_worker(
    client: Client, processes: dict[str, subprocess.Popen], out: Path, study: subprocess.Popen
) -> str:
    """SIGKILL a worker while it trains a run, once a first run has finished; its name."""
    deadline = time.monotonic() + 90
    while not list((out / "tasks").rglob("*.json")):
        assert study.poll() is None, study.communicate()
        assert time.monotonic() < deadline, "no task finished in 90 s"
        time.sleep(0.1)
    names = {address: info["name"] for address, info in client.scheduler_info()["workers"].items()}
    while True:
        busy = [names[address] for address, keys in client.processing().items() if keys]
        if busy:
            processes[busy[0]].send_signal(signal.SIGKILL)
            processes[busy[0]].wait(timeout=10)
            return busy[0]
        assert study.poll() is None, "the study ended before a worker could be killed"
        assert time.monotonic() < deadline, "no worker was busy"
        time.sleep(0.05)
