"""Downloading model files when the user asks: resumable, verified, never half-written.

A download writes ``<dest>.part`` and renames it onto ``dest`` only after every check passed. A cut
connection or a cancel keeps the ``.part`` file, and the next call resumes it with an HTTP ``Range``
request; a checksum or file-format mismatch deletes it. ``dest`` is never touched before the
rename, so an existing file survives a failed download.

Standard library only: the plugin runs it in a background task, and the backend may use it too.
Proxies come from the usual ``http_proxy`` / ``https_proxy`` variables (``urllib``'s defaults).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import struct
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

PART_SUFFIX = ".part"
CHUNK_BYTES = 1 << 20
GGUF_MAGIC = b"GGUF"
USER_AGENT = "LandFuse-downloader"

Progress = Callable[[int, "int | None"], None]  # (bytes done, total bytes or None)


class DownloadError(Exception):
    """A download failed; the message says why and whether running it again resumes it."""


class DownloadCancelledError(DownloadError):
    """The user cancelled; the ``.part`` file is kept so that the next attempt resumes."""


def part_path(dest: str | os.PathLike) -> Path:
    """Where a download of ``dest`` is written until it is complete and verified."""
    dest = Path(dest)
    return dest.with_name(dest.name + PART_SUFFIX)


def download(
    url: str,
    dest: str | os.PathLike,
    *,
    sha256: str | None = None,
    gguf_architectures: tuple[str, ...] = (),
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    timeout_s: float = 30.0,
) -> Path:
    """Download ``url`` to ``dest`` (resuming an earlier ``.part``) and return ``dest``.

    sha256: expected hex digest of the whole file, checked before the rename.
    gguf_architectures: when given, the file must be a GGUF model whose ``general.architecture`` is
        one of these (e.g. ``("phi3",)``).
    progress(done, total) is called after every chunk; ``cancelled()`` is polled as often.
    Raises ``DownloadError`` (``DownloadCancelledError`` on cancel) with an actionable message.
    """
    dest = Path(dest)
    part = part_path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    done = _hash_existing(part, digest)
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    if done:
        request.add_header("Range", f"bytes={done}-")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            done, total = _start(response, part, done)
            if not done:  # the server sends the file from its start: restart the running hash
                digest = hashlib.sha256()
            with part.open("ab") as out:
                while True:
                    if cancelled is not None and cancelled():
                        raise DownloadCancelledError(f"download of {dest.name} cancelled; start it again to resume")
                    chunk = response.read(CHUNK_BYTES)
                    if not chunk:
                        break
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(done, total)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and done:  # the part may already be whole: verify it below
            total = _range_total(exc.headers.get("Content-Range")) or done
        else:
            raise DownloadError(f"the server refused {url}: HTTP {exc.code} {exc.reason}") from exc
    except DownloadCancelledError:
        raise
    except (OSError, http.client.HTTPException) as exc:
        raise DownloadError(
            f"the download of {dest.name} was cut after {done:,} bytes ({exc}); run it again to resume"
        ) from exc
    if total is not None and done != total:
        raise DownloadError(
            f"the download of {dest.name} stopped after {done:,} of {total:,} bytes; run it again to resume"
        )
    _verify(part, digest.hexdigest(), sha256, gguf_architectures)
    os.replace(part, dest)
    return dest


def _hash_existing(part: Path, digest) -> int:
    """Feed an earlier ``.part`` into ``digest``; returns its size in bytes (0 when there is none)."""
    if not part.is_file():
        return 0
    size = 0
    with part.open("rb") as existing:
        while chunk := existing.read(CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    return size


def _start(response, part: Path, done: int) -> tuple[int, int | None]:
    """Bytes already in ``part`` that the response continues, and the whole file's size when known.

    A server that ignores ``Range`` answers 200 with the whole file: the part restarts from zero.
    """
    length = response.headers.get("Content-Length")
    if response.status == 206:
        start = _range_start(response.headers.get("Content-Range"))
        if start != done:
            raise DownloadError(f"the server resumed at byte {start} instead of {done}; delete {part.name} and retry")
        return done, _range_total(response.headers.get("Content-Range"))
    part.unlink(missing_ok=True)
    return 0, int(length) if length else None


def _range_start(header: str | None) -> int | None:
    match = re.match(r"bytes (\d+)-", header or "")
    return int(match.group(1)) if match else None


def _range_total(header: str | None) -> int | None:
    match = re.search(r"/(\d+)$", header or "")
    return int(match.group(1)) if match else None


def _verify(part: Path, actual_sha256: str, sha256: str | None, architectures: tuple[str, ...]) -> None:
    """Delete ``part`` and raise ``DownloadError`` unless it has the expected digest and format."""
    problem = None
    if sha256 and actual_sha256.lower() != sha256.strip().lower():
        problem = f"its SHA-256 is {actual_sha256}, expected {sha256.strip().lower()}"
    elif architectures:
        try:
            architecture = gguf_architecture(part)
        except ValueError as exc:
            problem = str(exc)
        else:
            if architecture not in architectures:
                problem = f"it is a GGUF model of architecture {architecture!r}, expected {' or '.join(architectures)}"
    if problem:
        part.unlink(missing_ok=True)
        raise DownloadError(f"the downloaded file was rejected: {problem}; nothing was saved")


# GGUF metadata value types (ggml's gguf.h) and the struct format of the fixed-size ones.
_GGUF_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_GGUF_STRING, _GGUF_ARRAY = 8, 9
_GGUF_MAX_KEYS = 10_000


def gguf_architecture(path: str | os.PathLike) -> str:
    """``general.architecture`` of a GGUF file (``"phi3"``, ``"llama"`` ...), read from its header only.

    Raises ``ValueError`` when the file is not a GGUF model or has no architecture entry.
    """
    with open(path, "rb") as stream:
        if stream.read(4) != GGUF_MAGIC:
            raise ValueError("it is not a GGUF model file (wrong magic bytes)")
        version, _tensors, keys = struct.unpack("<IQQ", _read(stream, 20))
        if version not in (2, 3):
            raise ValueError(f"it is a GGUF file of unsupported version {version}")
        for _ in range(min(keys, _GGUF_MAX_KEYS)):
            key = _read_string(stream)
            kind = struct.unpack("<I", _read(stream, 4))[0]
            if key == "general.architecture" and kind == _GGUF_STRING:
                return _read_string(stream)
            _skip_value(stream, kind)
    raise ValueError("its GGUF header has no general.architecture entry")


def _read(stream, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise ValueError("its GGUF header is truncated")
    return data


def _read_string(stream) -> str:
    (length,) = struct.unpack("<Q", _read(stream, 8))
    return _read(stream, length).decode("utf-8", errors="replace")


def _skip_value(stream, kind: int) -> None:
    if kind in _GGUF_SCALARS:
        _read(stream, struct.calcsize(_GGUF_SCALARS[kind]))
    elif kind == _GGUF_STRING:
        _read_string(stream)
    elif kind == _GGUF_ARRAY:
        item_kind, count = struct.unpack("<IQ", _read(stream, 12))
        if item_kind in _GGUF_SCALARS:
            stream.seek(count * struct.calcsize(_GGUF_SCALARS[item_kind]), os.SEEK_CUR)
        else:
            for _ in range(count):
                _skip_value(stream, item_kind)
    else:
        raise ValueError(f"its GGUF header holds an unknown value type {kind}")
