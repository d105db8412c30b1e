"""A loopback HTTP server that records every request it gets: what the no-fetch tests point URLs
at, so that "nothing was fetched" is seen (an empty request list), not assumed.

It answers anything: a JSON-LD context for a path holding ``context`` or ending in ``.jsonld``,
else an XML entity declaration (what an external DTD or entity would fetch).
"""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
from collections.abc import Iterator


class Counting(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []  # the paths asked for since the server started

    def do_GET(self) -> None:  # noqa: N802
        type(self).requests.append(self.path)
        if "context" in self.path or self.path.endswith(".jsonld"):
            body = json.dumps({"@context": {"name": "http://example.org/LEAKED-name"}}).encode()
            ctype = "application/ld+json"
        else:
            body, ctype = b'<!ENTITY leak "LEAKED">', "application/xml-dtd"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def counting_server() -> Iterator[str]:
    """Start the server (its request list emptied); yields its base URL."""
    Counting.requests = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
