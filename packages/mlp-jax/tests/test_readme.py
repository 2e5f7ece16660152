"""The README's binary classifier and regression network: the example runs as it is and
prints what the README shows, to the rounding another CPU's arithmetic may move."""

import re
from pathlib import Path

import numpy as np
import pytest

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
LINES = re.compile(
    r"test accuracy ([\d.]+)% \[([01 ]+)\]\ntest R² ([\d.]+) \[([-\d. ]+)\]\n", re.MULTILINE
)


def numbers(output: str) -> tuple[float, list[int], float, np.ndarray]:
    found = LINES.fullmatch(output)
    assert found, output
    accuracy, classes, r2, values = found.groups()
    return (
        float(accuracy),
        [int(c) for c in classes.split()],
        float(r2),
        np.array(values.split(), float),
    )


def test_the_binary_and_regression_example_prints_what_the_readme_shows(capsys):
    section = README.split("## Binary classifiers and regression\n", 1)[1]
    code, shown = re.findall(r"```(?:python)?\n(.*?)```", section, flags=re.DOTALL)[:2]
    exec(compile(code, "README.md", "exec"), {})
    accuracy, classes, r2, values = numbers(capsys.readouterr().out)
    want_accuracy, want_classes, want_r2, want_values = numbers(shown)
    assert accuracy == pytest.approx(want_accuracy, abs=1.0) and accuracy > 95
    assert classes == want_classes and 0 < sum(classes) < len(classes)
    assert r2 == pytest.approx(want_r2, abs=0.005) and r2 > 0.95
    np.testing.assert_allclose(values, want_values, atol=0.02)
