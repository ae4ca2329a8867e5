"""``fetch_raw_data`` against a local HTTP server on 127.0.0.1 (never the internet)."""

import functools
import http.server
import io
import shutil
import tarfile
import threading

import numpy as np
import pytest

from assoc.data import load_dataset
from assoc.data.fetch import extract_recordings, fetch_raw_data
from assoc.data.mnist import MNIST_FILES
from assoc.errors import DataError

pytestmark = pytest.mark.data

ARCHIVE_ROOT = "free-spoken-digit-dataset-1.0.10"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture
def serve(tmp_path):
    """Serve a folder over HTTP on 127.0.0.1 and return its base URL."""
    servers = []

    def start(root):
        handler = functools.partial(_QuietHandler, directory=str(root))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def fsdd_archive(raw_data_dir, tmp_path_factory):
    """An uncompressed tar of the recordings, laid out like FSDD's GitHub archive."""
    path = tmp_path_factory.mktemp("archive") / "fsdd.tar"
    with tarfile.open(path, "w") as bundle:
        bundle.add(raw_data_dir / "fsdd" / "README.md", arcname=f"{ARCHIVE_ROOT}/README.md")
        bundle.add(raw_data_dir / "fsdd" / "recordings", arcname=f"{ARCHIVE_ROOT}/recordings")
    return path


def _server_root(tmp_path, raw_data_dir, fsdd_archive):
    root = tmp_path / "served"
    (root / "mnist").mkdir(parents=True)
    for file_name, _ in MNIST_FILES.values():
        (root / "mnist" / file_name).symlink_to(raw_data_dir / "mnist" / file_name)
    (root / "fsdd.tar").symlink_to(fsdd_archive)
    return root


def test_fetch_from_loopback(raw_data_dir, fsdd_archive, cache_dir, serve, tmp_path, monkeypatch):
    url = serve(_server_root(tmp_path, raw_data_dir, fsdd_archive))
    calls = []
    target = fetch_raw_data(
        mnist_urls=(f"{url}/mnist/",), fsdd_url=f"{url}/fsdd.tar", progress=lambda *call: calls.append(call)
    )

    assert target == cache_dir
    for file_name, _ in MNIST_FILES.values():
        assert (cache_dir / "mnist" / file_name).read_bytes() == (raw_data_dir / "mnist" / file_name).read_bytes()
    assert len(list((cache_dir / "fsdd" / "recordings").glob("*.wav"))) == 3000
    assert (cache_dir / "fsdd" / "README.md").is_file()
    assert calls[-1][0] == calls[-1][1]
    assert not [path.name for path in cache_dir.rglob("*.tmp*")]

    # The fetched folder is the default raw data directory.
    monkeypatch.delenv("ASSOC_DATA_DIR", raising=False)
    splits = load_dataset("avmnist", limit=5)
    assert len(splits["test"]) == 5


def test_fetch_env_urls_and_skip_present(raw_data_dir, fsdd_archive, cache_dir, serve, tmp_path, monkeypatch):
    url = serve(_server_root(tmp_path, raw_data_dir, fsdd_archive))
    monkeypatch.setenv("ASSOC_MNIST_URL", f"{url}/mnist/")
    monkeypatch.setenv("ASSOC_FSDD_URL", f"{url}/fsdd.tar")
    fetch_raw_data()
    first_mtime = (cache_dir / "mnist" / "t10k-labels-idx1-ubyte.gz").stat().st_mtime_ns

    # Intact files are kept; the second fetch downloads nothing (the URLs now fail).
    monkeypatch.setenv("ASSOC_MNIST_URL", "http://127.0.0.1:9/")
    monkeypatch.setenv("ASSOC_FSDD_URL", "http://127.0.0.1:9/fsdd.tar")
    fetch_raw_data()
    assert (cache_dir / "mnist" / "t10k-labels-idx1-ubyte.gz").stat().st_mtime_ns == first_mtime


def test_fetch_checksum_mismatch(raw_data_dir, cache_dir, serve, tmp_path):
    root = tmp_path / "served"
    (root / "mnist").mkdir(parents=True)
    for file_name, _ in MNIST_FILES.values():
        shutil.copyfile(raw_data_dir / "mnist" / file_name, root / "mnist" / file_name)
    damaged = root / "mnist" / "train-labels-idx1-ubyte.gz"
    content = bytearray(damaged.read_bytes())
    content[100] ^= 0xFF
    damaged.write_bytes(bytes(content))
    url = serve(root)

    with pytest.raises(DataError, match=r"SHA-256 mismatch for train-labels-idx1-ubyte\.gz.*expected 3552534a"):
        fetch_raw_data(mnist_urls=(f"{url}/mnist/",), fsdd_url=f"{url}/missing.tar")
    assert not (cache_dir / "mnist" / "train-labels-idx1-ubyte.gz").exists()
    assert not list((cache_dir / "mnist").glob("*.tmp"))


def test_fetch_unreachable_source(cache_dir):
    with pytest.raises(DataError, match=r"Could not fetch train-images-idx3-ubyte\.gz.*Set ASSOC_MNIST_URL"):
        fetch_raw_data(mnist_urls=("http://127.0.0.1:9/",), fsdd_url="http://127.0.0.1:9/x.tar")


def test_fetch_incomplete_archive(raw_data_dir, cache_dir, serve, tmp_path):
    root = _server_root(tmp_path, raw_data_dir, tmp_path / "unused")
    (root / "fsdd.tar").unlink()
    with tarfile.open(root / "fsdd.tar", "w") as bundle:
        source = raw_data_dir / "fsdd" / "recordings" / "0_george_0.wav"
        bundle.add(source, arcname=f"{ARCHIVE_ROOT}/recordings/0_george_0.wav")
    url = serve(root)
    with pytest.raises(DataError, match=r"contains 1 recordings; expected 3000"):
        fetch_raw_data(mnist_urls=(f"{url}/mnist/",), fsdd_url=f"{url}/fsdd.tar")
    assert not (cache_dir / "fsdd" / "recordings").exists()


def _tar_with(tmp_path, members):
    path = tmp_path / "evil.tar"
    with tarfile.open(path, "w") as bundle:
        for name, kind in members:
            info = tarfile.TarInfo(name)
            if kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = "/etc/passwd"
                bundle.addfile(info)
            else:
                info.size = 4
                bundle.addfile(info, io.BytesIO(b"RIFF"))
    return path


@pytest.mark.parametrize(
    "member",
    [f"{ARCHIVE_ROOT}/recordings/../../0_x_0.wav", "/tmp/recordings/0_x_0.wav", "../recordings/0_x_0.wav"],
)
def test_extract_rejects_escaping_paths(tmp_path, member):
    archive = _tar_with(tmp_path, [(member, "file")])
    with pytest.raises(DataError, match=r"Unsafe path .* in the FSDD archive"):
        extract_recordings(archive, tmp_path / "out")
    assert not (tmp_path / "0_x_0.wav").exists()


def test_extract_skips_links(tmp_path):
    members = [(f"{ARCHIVE_ROOT}/recordings/1_x_0.wav", "symlink"), (f"{ARCHIVE_ROOT}/recordings/2_x_0.wav", "file")]
    archive = _tar_with(tmp_path, members)
    extract_recordings(archive, tmp_path / "out")
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["2_x_0.wav"]
    assert not (tmp_path / "out" / "1_x_0.wav").is_symlink()


def test_extract_rejects_non_archive(tmp_path):
    path = tmp_path / "page.html"
    path.write_bytes(b"<html>not found</html>" + bytes(np.zeros(600, dtype=np.uint8)))
    with pytest.raises(DataError, match=r"not a tar or zip archive"):
        extract_recordings(path, tmp_path / "out")
