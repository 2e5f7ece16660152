"""The README's binary classifier and regression network: the example runs as it is and
prints what the README shows, to the rounding another CPU's arithmetic may move."""

from pathlib import Path

from mlp_numpy.testing import check_readme_tasks_example

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_binary_and_regression_example_prints_what_the_readme_shows(capsys):
    check_readme_tasks_example(README, capsys)
