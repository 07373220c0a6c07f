"""A small HTTP server on loopback that serves the guide to the Neo4j Browser.

Neo4j serves the Browser from one classpath folder of its jar, so a page cannot be added
beside it without repacking the Browser; the guide is served from here instead. The
Browser fetches ``:play`` URLs from the page (a cross-origin request, so the answer
carries ``Access-Control-Allow-Origin``) and only from hosts in the server setting
``browser.remote_content_hostname_allowlist``, whose default is
``guides.neo4j.com,localhost``: hence URLs on ``localhost``, which any Neo4j 5 allows
without a configuration change.

Examples
--------
>>> import urllib.request
>>> with GuideServer(port=0) as server:
...     with urllib.request.urlopen(server.url, timeout=10) as answer:
...         answer.headers["Access-Control-Allow-Origin"], b"<slide>" in answer.read()
('*', True)
"""

from __future__ import annotations

import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from epmt_graph.browser.guide import GUIDE_PATH, GuideSpec, guide_html
from epmt_graph.browser.style import STYLE_PATH, grass
from epmt_graph.errors import ServerError

__all__ = ["DEFAULT_GUIDE_PORT", "GuideServer"]

#: The guide server's default port.
DEFAULT_GUIDE_PORT = 7480


class GuideServer(ThreadingHTTPServer):
    """Serves the guide for ``spec`` at ``http://localhost:<port>/epmt-guide.html``, and
    the style at ``/epmt-graph.grass``.

    Parameters
    ----------
    spec : GuideSpec, optional
        The job the guide walks (default: the sample job 685000).
    port : int
        The port on 127.0.0.1; 0 picks a free one.

    Raises
    ------
    ServerError
        If the port cannot be bound.

    Notes
    -----
    ``serve_forever`` serves in the calling thread; as a context manager it serves from a
    background thread until the block ends.
    """

    daemon_threads = True

    def __init__(self, spec: GuideSpec | None = None, port: int = DEFAULT_GUIDE_PORT) -> None:
        page = ("text/html", guide_html(spec).encode())
        #: What is served, by path: content type and body.
        self.files = {GUIDE_PATH: page, "/": page, STYLE_PATH: ("text/plain", grass().encode())}
        try:
            super().__init__(("127.0.0.1", port), _GuideHandler)
        except (OSError, OverflowError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not a port number"
            raise ServerError(
                f"cannot serve the guide on 127.0.0.1:{port} ({reason}); "
                "choose another port with --guide-port"
            ) from exc
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The guide's URL, for ``:play``."""
        return f"http://localhost:{self.server_address[1]}{GUIDE_PATH}"

    @property
    def style_url(self) -> str:
        """The style's URL, for ``:style``."""
        return f"http://localhost:{self.server_address[1]}{STYLE_PATH}"

    def __enter__(self) -> GuideServer:
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.shutdown()
        if self._thread is not None:
            self._thread.join()
        self.server_close()


class _GuideHandler(BaseHTTPRequestHandler):
    server: GuideServer

    def do_OPTIONS(self) -> None:
        """Answer the CORS preflight that Chromium sends before fetching from another port."""
        self.send_response(HTTPStatus.NO_CONTENT)
        self._allow_cors()
        self.send_header("Access-Control-Allow-Methods", "GET")
        asked = self.headers.get("Access-Control-Request-Headers")
        if asked:
            self.send_header("Access-Control-Allow-Headers", asked)
        if self.headers.get("Access-Control-Request-Private-Network"):
            self.send_header("Access-Control-Allow-Private-Network", "true")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        found = self.server.files.get(self.path.split("?")[0])
        if found is None:
            served = " and ".join(path for path in self.server.files if path != "/")
            self.send_error(HTTPStatus.NOT_FOUND, f"only {served} are served here")
            return
        kind, body = found
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", f"{kind}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self._allow_cors()
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self.wfile.write(body)

    def _allow_cors(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the CLI prints what matters."""
