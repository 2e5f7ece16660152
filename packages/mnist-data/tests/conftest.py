"""Shared fixtures: the local mirror of the true files, and an HTTP mirror on 127.0.0.1."""

import hashlib
import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mnist_data.download import FILES, MIRROR_ENV, RemoteFile


@pytest.fixture(scope="session")
def mirror_dir() -> Path:
    """The folder of the four true files named by $MNIST_MIRROR; missing means failure, not skip."""
    entries = [m for m in os.environ.get(MIRROR_ENV, "").split(",") if m.strip()]
    assert entries, f"set {MIRROR_ENV} to a folder holding the four MNIST .gz files"
    folder = Path(entries[0])
    missing = [name for name in FILES if not (folder / name).is_file()]
    assert not missing, f"{MIRROR_ENV}={folder} lacks {missing}"
    return folder


def remote_file(name: str, content: bytes) -> RemoteFile:
    """A RemoteFile whose published size and checksums are those of `content`."""
    return RemoteFile(
        name, len(content), hashlib.md5(content).hexdigest(), hashlib.sha256(content).hexdigest()
    )


class Mirror:
    """An HTTP mirror whose first path segment says how it misbehaves.

    /good/NAME       the file
    /truncated/NAME  the first half of the file
    /flipped/NAME    the file with one bit of one byte flipped
    /missing/NAME    404
    /hang/NAME       accepts the request, then sends nothing
    /stall/NAME      headers and half the body, then nothing
    /together/NAME   waits until two clients ask, then sends both the file in 20 pieces
    """

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.requests: list[str] = []
        self.release = threading.Event()  # set at teardown so hanging handlers finish
        self.pair = threading.Barrier(2, timeout=20)
        mirror = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                mirror.requests.append(self.path)
                _, mode, name = self.path.split("/", 2)
                body = mirror.files.get(name)
                if body is None or mode == "missing":
                    self.send_error(404)
                    return
                if mode == "hang":
                    mirror.release.wait(30)
                    return
                if mode == "together":
                    try:
                        mirror.pair.wait()
                    except threading.BrokenBarrierError:
                        self.send_error(404, "the second client never came")
                        return
                if mode == "flipped":
                    body = body[:10] + bytes([body[10] ^ 1]) + body[11:]
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if mode == "truncated":
                    self.wfile.write(body[: len(body) // 2])
                    self.close_connection = True
                elif mode == "stall":
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    mirror.release.wait(30)
                elif mode == "together":
                    piece = -(-len(body) // 20)
                    for start in range(0, len(body), piece):
                        self.wfile.write(body[start : start + piece])
                        self.wfile.flush()
                        time.sleep(0.02)
                else:
                    self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __call__(self, mode: str) -> str:
        """The mirror URL for one behaviour."""
        return f"{self.url}/{mode}/"


@pytest.fixture
def http_mirror() -> Iterator[Mirror]:
    """A fresh HTTP mirror serving the files later put in its `files` dict."""
    mirror = Mirror({})
    thread = threading.Thread(target=mirror.server.serve_forever, daemon=True)
    thread.start()
    yield mirror
    mirror.release.set()
    mirror.server.shutdown()
    mirror.server.server_close()
