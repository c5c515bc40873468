"""A real HTTP file server on 127.0.0.1 for the download tests: ranges, and a gate that holds an answer midway."""

from __future__ import annotations

import http.server
import threading


class FileServer(http.server.ThreadingHTTPServer):
    """Serves ``files`` (name -> bytes) with ``Range`` support; logs each request's ``Range`` header.

    With ``hold_after`` set, the next answer sends that many bytes, then waits until :meth:`release` before
    sending the rest: a download is then certainly in flight while a test clicks Cancel.
    """

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files: dict[str, bytes] = {}
        self.requests: list[tuple[str, str | None]] = []
        self.hold_after: int | None = None
        self.gate = threading.Event()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/{name}"

    def release(self) -> None:
        self.gate.set()


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        server: FileServer = self.server
        name = self.path.lstrip("/")
        requested = self.headers.get("Range")
        server.requests.append((name, requested))
        data = server.files.get(name)
        if data is None:
            self.send_error(404)
            return
        start = int(requested.split("=")[1].rstrip("-")) if requested else 0
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        body = data[start:]
        hold, server.hold_after = server.hold_after, None
        if hold is not None:
            self.wfile.write(body[:hold])
            self.wfile.flush()
            server.gate.wait(60)
            body = body[hold:]
        self.wfile.write(body)
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args) -> None:
        pass


def serve() -> FileServer:
    """Start a server on a free port, in a daemon thread; call ``shutdown()`` and ``server_close()`` after."""
    server = FileServer()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
