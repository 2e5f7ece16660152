"""Every package of the checkout builds a wheel that can be published: its requirements are
plain version ranges (no file:// or other direct reference, which PyPI refuses and which
work only on the machine that built the wheel), its version is its `__version__`, and its
metadata names authors, classifiers and URLs.

Wheels are built offline with `pip wheel --no-deps --no-build-isolation`, so hatchling must
be installed (the nox session installs it)."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from email.parser import HeaderParser
from pathlib import Path

import pytest

PACKAGES = Path(__file__).resolve().parents[2]
NAMES = ("mnist-data", "mlp-numpy", "mlp-torch", "mlp-tf", "mlp-jax", "mlp-compare")
SIBLING_RANGE = ">=0.1,<0.2"


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, zipfile.ZipFile]:
    folder = tmp_path_factory.mktemp("wheels")
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    command += ["--no-index", "--quiet", "--wheel-dir", str(folder)]
    result = subprocess.run(
        [*command, *(str(PACKAGES / name) for name in NAMES)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    built = {}
    for name in NAMES:
        (path,) = folder.glob(f"{name.replace('-', '_')}-*.whl")
        built[name] = zipfile.ZipFile(path)
    return built


def metadata(wheel: zipfile.ZipFile):
    (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    return HeaderParser().parsestr(wheel.read(name).decode("utf-8"))


def source_version(name: str) -> str:
    init = PACKAGES / name / "src" / name.replace("-", "_") / "__init__.py"
    match = re.search(r'^__version__ = "([^"]+)"$', init.read_text(), flags=re.MULTILINE)
    assert match, f"{init}: no __version__"
    return match.group(1)


@pytest.mark.parametrize("name", NAMES)
def test_the_wheel_requires_nothing_by_direct_reference(wheels, name):
    requirements = metadata(wheels[name]).get_all("Requires-Dist") or []
    assert requirements, name
    for requirement in requirements:
        assert "@" not in requirement and "file:" not in requirement, requirement
    for sibling in NAMES:
        for requirement in requirements:
            if re.match(rf"{sibling}\b(?!-)", requirement):
                assert requirement.split(";")[0].strip() in (
                    f"{sibling}{SIBLING_RANGE}",
                    f"{sibling}<0.2,>=0.1",  # the order the metadata writer may choose
                ), requirement


@pytest.mark.parametrize("name", NAMES)
def test_the_wheel_has_one_version_and_full_metadata(wheels, name):
    meta = metadata(wheels[name])
    assert meta["Name"] == name
    assert meta["Version"] == source_version(name)
    pyproject = (PACKAGES / name / "pyproject.toml").read_text()
    assert re.search(r"^version\s*=", pyproject, flags=re.MULTILINE) is None  # only __init__
    assert meta["Author"] and meta["License-Expression"] == "MIT"
    classifiers = meta.get_all("Classifier") or []
    assert "Programming Language :: Python :: 3.11" in classifiers
    assert "Typing :: Typed" in classifiers
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL") or [])
    assert {"Homepage", "Source", "Issues"} <= set(urls)
    package = name.replace("-", "_")
    assert f"{package}/py.typed" in wheels[name].namelist()
