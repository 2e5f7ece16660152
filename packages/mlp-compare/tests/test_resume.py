"""Nothing lost: every finished task has its own record in the run folder, and `run --resume`
runs only the tasks without one (or whose record failed); one plain line per finished task
when the output is not a terminal, one progress bar on a terminal."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from conftest import invoke, validate
from records_factory import run as crafted_run
from rich.console import Console

from mlp_compare.display import ProgressDisplay

QUICK = (Path(__file__).parents[1] / "src/mlp_compare/experiments/quick.toml").read_text()
TWO_VARIANTS = """
[[variants]]
name = "adam"

[[variants]]
name = "from-adam"
init_from = "adam"
set.training.optimizer = { name = "sgd" }
"""


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """NumPy and PyTorch, two variants (the second starts from NumPy's first), one epoch."""
    folder = tmp_path_factory.mktemp("resume")
    experiment = folder / "two.toml"
    experiment.write_text(QUICK.replace("epochs = 2", "epochs = 1") + TWO_VARIANTS)
    out = folder / "run"
    args = ["run", "-f", "numpy,torch", "-d", "cpu", "-e", str(experiment)]
    result = invoke(*args, "--equivalence-steps", "2", "--out", str(out))
    assert result.exit_code == 0, result.output
    return experiment, out, result.output


def test_each_finished_task_has_its_own_record(study: tuple[Path, Path, str]) -> None:
    _, out, output = study
    document = validate(json.loads((out / "results.json").read_text()))
    (experiment,) = document.experiments
    records = sorted(p.name for p in (out / "tasks" / "quick").glob("*.json"))
    assert records == [
        "adam.numpy.cpu.json",
        "adam.torch.cpu.json",
        "equivalence.json",
        "from-adam.numpy.cpu.json",
        "from-adam.torch.cpu.json",
    ]
    for run in experiment.runs:
        name = f"{run.variant}.{run.framework}.cpu.json"
        assert json.loads((out / "tasks/quick" / name).read_text()) == run.model_dump(mode="json")
    # The runs that start from NumPy's `adam` have its weights, kept for a later --resume.
    assert (out / "weights/sources/quick/adam.numpy.cpu.safetensors").is_file()
    # Not a terminal: one plain line per finished task, with the count and the time left.
    lines = [line for line in output.splitlines() if line.startswith("[")]
    assert len(lines) == 5
    assert lines[0].startswith("[1/5, ") and "quick/adam numpy/cpu: ok, test " in lines[0]
    assert lines[-1].startswith("[5/5, 0:00 left] ")
    assert any("] quick: equivalence over 2 steps: done" in line for line in lines)


def test_resume_runs_only_what_is_missing_or_failed(
    study: tuple[Path, Path, str], tmp_path: Path
) -> None:
    _, out, _ = study
    copy = tmp_path / "copy"
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".safetensors"):
            target = copy / path.relative_to(out)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    before = json.loads((out / "results.json").read_text())["experiments"][0]["runs"]
    (copy / "tasks/quick/adam.torch.cpu.json").unlink()  # never recorded
    failed = copy / "tasks/quick/from-adam.numpy.cpu.json"
    record = json.loads(failed.read_text())
    record.update(status="failed", reason="RuntimeError: out of memory", metrics=None)
    failed.write_text(json.dumps(record))
    kept = (copy / "tasks/quick/from-adam.torch.cpu.json").read_text()

    result = invoke("run", "--resume", str(copy))
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("[")]
    assert len(lines) == 2, result.output  # the missing run and the failed one
    assert any("quick/adam torch/cpu: ok" in line for line in lines)
    assert any("quick/from-adam numpy/cpu: ok" in line for line in lines)
    assert (copy / "tasks/quick/from-adam.torch.cpu.json").read_text() == kept
    document = json.loads((copy / "results.json").read_text())
    assert document["status"] == "complete" and len(document["sessions"]) == 2
    assert document["sessions"][1]["tasks"] == 2
    assert document["sessions"][1]["command"] == f"mlp-compare run --resume {copy}"
    after = document["experiments"][0]["runs"]
    for a, b in zip(before, after, strict=True):  # the same numbers, in the same order
        assert a["metrics"]["final_test_accuracy"] == b["metrics"]["final_test_accuracy"]
        assert a["test_predictions"] == b["test_predictions"]
    assert "## Summary" in (copy / "report.md").read_text()


def test_resume_takes_the_plan_from_the_folder(study: tuple[Path, Path, str]) -> None:
    _, out, _ = study
    result = invoke("run", "--resume", str(out), "-e", "quick", "--epochs", "3")
    assert result.exit_code == 2
    expected = "--resume runs the study recorded in DIR as it was planned: drop --experiment"
    assert f"{expected}, --epochs" in result.output
    result = invoke("run", "--resume", str(out), "--workers", "2", "--scheduler", "tcp://x:1")
    assert result.exit_code == 2 and "give one of them" in result.output


def test_resume_of_a_folder_without_results(tmp_path: Path) -> None:
    result = invoke("run", "--resume", str(tmp_path))
    assert result.exit_code == 1
    assert f"--resume {tmp_path / 'results.json'}: no results.json here" in result.output


def test_a_terminal_gets_one_progress_bar_for_the_study() -> None:
    """done/total, the failures so far and the time left, in one bar."""
    screen = io.StringIO()
    display = ProgressDisplay(Console(file=screen, force_terminal=True, width=200))
    with display:
        display.start(3, 0)
        display.finished("quick/base numpy/cpu", crafted_run("numpy"), None)
        display.finished(
            "quick/base torch/cpu", crafted_run("torch", status="failed", reason="boom"), None
        )
        display.finished("quick: equivalence over 2 steps", None, None)
    text = screen.getvalue()
    assert "3/3" in text and "1 failed" in text and "ETA" in text
    assert "quick/base torch/cpu: failed: boom" in text
    assert text.count("study") >= 1
