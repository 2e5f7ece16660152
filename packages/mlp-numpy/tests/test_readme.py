"""The README works where a package index shows it and where the package is installed:
every link is absolute and points to a file (and heading) of the repository, and its
examples run as they are, in an empty folder, needing nothing but the package and its
own dependencies."""

import ast
import json
import re
import subprocess
import sys
from importlib.metadata import distribution
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1]
ROOT = PACKAGE.parents[1]
README = (PACKAGE / "README.md").read_text(encoding="utf-8")
REPOSITORY = "https://github.com/mlp-mnist/mlp-mnist/"
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)


def slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    headings = re.findall(r"^#+ (.+)$", path.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return {slug(h) for h in headings}


def test_every_link_is_absolute_and_resolves_in_the_repository():
    links = LINK.findall(README)
    assert len(links) >= 10
    for link in links:
        assert link.startswith("https://"), f"{link}: not absolute, broken on a package index"
        if not link.startswith(REPOSITORY):
            continue
        place, _, anchor = link.removeprefix(REPOSITORY).partition("#")
        kind, branch, path = [*place.split("/", 2), "", ""][:3]
        assert (kind, branch) in (("blob", "main"), ("tree", "main")), link
        target = ROOT / path
        assert target.exists(), f"{link}: {path} is not in the repository"
        assert (kind == "tree") == target.is_dir(), f"{link}: blob for files, tree for folders"
        if anchor:
            assert anchor in anchors(target), f"{link}: no heading #{anchor} in {path}"


def test_the_slug_is_githubs():
    assert slug("Preprocessing (version 2)") == "preprocessing-version-2"
    assert slug("What a backend does for each task") == "what-a-backend-does-for-each-task"


def run(code: str, folder: Path) -> str:
    """`code` run by this Python in `folder`, isolated (-I: neither the folder nor
    PYTHONPATH is on the path, so mlp_numpy is the installed package)."""
    result = subprocess.run(
        [sys.executable, "-I", "-c", code], cwd=folder, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_first_example_needs_only_the_package_and_runs_as_it_is(tmp_path):
    first = python_blocks()[0]
    imported = set()
    for node in ast.walk(ast.parse(first)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported == {"numpy", "mlp_numpy"}  # the wheel and its dependencies
    lines = run(first, tmp_path).splitlines()
    accuracies = re.fullmatch(r"train accuracy ([\d.]+)%, test accuracy ([\d.]+)%", lines[0])
    assert accuracies and float(accuracies[2]) > 85, lines
    assert (tmp_path / "spirals.safetensors").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["spirals.safetensors"]


def test_outside_a_development_install_the_package_is_an_installed_copy(tmp_path):
    """In the test environments of CI (`nox -s tests`), mlp-numpy is installed from its
    wheel: the examples above then run on the installed copy, not on this checkout."""
    url = distribution("mlp-numpy").read_text("direct_url.json")
    if url and json.loads(url).get("dir_info", {}).get("editable"):
        pytest.skip("a development install (pip install -e) runs the checkout's own files")
    location = Path(run("import mlp_numpy; print(mlp_numpy.__file__)", tmp_path).strip())
    assert PACKAGE / "src" not in location.parents, location
    assert location.parent.parent.name == "site-packages", location


def test_the_binary_and_regression_examples_run(tmp_path):
    first, tasks = python_blocks()[:2]
    assert "task=" not in first and 'task="binary"' in tasks and 'task="regression"' in tasks
    output = run(first + tasks, tmp_path)
    binary = re.search(r"^test accuracy ([\d.]+)%$", output, flags=re.MULTILINE)
    regression = re.search(r"^test mean squared error ([\d.]+), R² ([\d.]+)$", output, re.M)
    assert binary and float(binary[1]) > 85, output
    assert regression and float(regression[2]) > 0.95, output


def test_the_spec_example_builds():
    spec_block = next(block for block in python_blocks() if block.lstrip().startswith("from"))
    namespace: dict = {}
    exec(spec_block.replace("ModelSpec(\n", "spec = ModelSpec(\n", 1), namespace)
    spec = namespace["spec"]
    assert spec.training.optimizer.momentum == 0.9 and spec.network.layers == (4, 16, 3)
