"""The mnist-data command line, run in-process and, for the progress bar, on a terminal."""

import os
import pty
import subprocess
import sys

from click.testing import CliRunner

import mnist_data
from mnist_data import FILES, download
from mnist_data.cli import main


def test_download_then_info(tmp_path, mirror_dir):
    runner = CliRunner()
    fetched = runner.invoke(main, ["download", "--dir", str(tmp_path), "--mirror", str(mirror_dir)])
    assert fetched.exit_code == 0, fetched.output
    assert fetched.stdout.count("verified") == 4
    assert "[" not in fetched.stderr  # not a terminal: no progress bar
    assert sorted(os.listdir(tmp_path)) == sorted(FILES)

    described = runner.invoke(main, ["info", "--dir", str(tmp_path)])
    assert described.exit_code == 0, described.output
    for remote in FILES.values():
        assert f"{remote.sha256}  verified" in described.stdout
    assert "train: 60000 images, pixel mean 33.32" in described.stdout
    assert "0:5923 1:6742 2:5958 3:6131 4:5842 5:5421 6:5918 7:6265 8:5851 9:5949" in (
        described.stdout
    )
    assert "test: 10000 images" in described.stdout


def test_info_on_an_empty_cache_says_what_to_do(tmp_path):
    result = CliRunner().invoke(main, ["info", "--dir", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stdout.count("missing") == 4
    assert "mnist-data download" in result.stderr


def test_download_failure_is_a_clean_error(tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_MIRROR", raising=False)
    monkeypatch.setattr(download, "DEFAULT_MIRRORS", ())
    nowhere = tmp_path / "nowhere"
    arguments = ["download", "--dir", str(tmp_path), "--mirror", str(nowhere)]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 1
    assert f"{nowhere}: no such file" in result.stderr
    assert "Traceback" not in result.output
    assert os.listdir(tmp_path) == []


def test_progress_bar_shows_on_a_terminal(tmp_path, mirror_dir):
    leader, follower = pty.openpty()
    command = [sys.executable, "-c", "from mnist_data.cli import main; main()"]
    command += ["download", "--dir", str(tmp_path), "--mirror", str(mirror_dir)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=follower)
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed: the process has exited
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert process.wait(timeout=60) == 0
    assert b"train-images-idx3-ubyte.gz" in shown and b"100%" in shown


def test_version_in_process_and_as_a_module():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"mnist-data, version {mnist_data.__version__}\n"
    module = subprocess.run(
        [sys.executable, "-m", "mnist_data", "--version"], capture_output=True, text=True
    )
    assert module.returncode == 0, module.stderr
    assert module.stdout == result.stdout


def test_python_dash_m_runs_the_commands(tmp_path):
    module = subprocess.run(
        [sys.executable, "-m", "mnist_data", "info", "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert module.returncode == 1  # an empty cache
    assert module.stdout.count("missing") == 4
