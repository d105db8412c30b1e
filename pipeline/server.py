"""A local, read-only SPARQL endpoint over a store, with a small web query page.

``GET /sparql?query=…`` and ``POST /sparql`` (form-encoded ``query=…`` or a raw
``application/sparql-query`` body) answer by the SPARQL 1.1 protocol: SELECT and ASK as
``application/sparql-results+json`` (default) or ``text/csv`` by the ``Accept`` header,
CONSTRUCT and DESCRIBE as ``text/turtle``. ``GET /`` is a self-contained HTML page (no CDN, no
external script) that posts the query with ``fetch`` and shows the rows as a table. There is no
update endpoint: an ``update=`` request is refused. The default graph is the merge of the loaded
graphs, which the store keeps (as in ``onisep-kg query``).
"""

from __future__ import annotations

import threading
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .errors import OnisepKgError
from .serialize import context
from .store import QueryError, QueryResult, Store, query_form

MAX_BODY = 1 << 20  # a query is text: 1 MiB is plenty
JSON = "application/sparql-results+json"
CSV = "text/csv"
TSV = "text/tab-separated-values"
TURTLE = "text/turtle"
_SELECT_TYPES = {JSON: JSON, "application/json": JSON, CSV: CSV, "*/*": JSON, "application/*": JSON}
_GRAPH_TYPES = {TURTLE: TURTLE, "application/x-turtle": TURTLE, "*/*": TURTLE, "text/*": TURTLE}
_FORMAT_PARAM = {"json": JSON, "csv": CSV, "turtle": TURTLE, "ttl": TURTLE}

DEFAULT_QUERY = """PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX okg: <https://w3id.org/onisep-kg/ontology#>
SELECT DISTINCT ?metier ?label ?rome WHERE {
  ?metier a okg:Metier ; skos:prefLabel ?label .
  OPTIONAL { ?metier okg:romeCode ?rome }
}
ORDER BY ?label
LIMIT 20"""


def negotiate(accept: str | None, form: str, fmt: str | None = None) -> str | None:
    """The media type to answer with, by ``format=`` or the ``Accept`` header; None: 406."""
    table = _GRAPH_TYPES if form in ("CONSTRUCT", "DESCRIBE") else _SELECT_TYPES
    if fmt:
        wanted = _FORMAT_PARAM.get(fmt.lower())
        return wanted if wanted in table.values() else None
    if not accept:
        return next(iter(table.values()))
    choices: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if media.lower() in table and q > 0:
            choices.append((-q, i, table[media.lower()]))
    return min(choices)[2] if choices else None


def render(result: QueryResult, media: str) -> bytes:
    if media == CSV:
        return result.to_csv()
    if media == TURTLE:
        return result.to_turtle(context())
    return result.to_json()


class SparqlHandler(BaseHTTPRequestHandler):
    """Answers ``/`` (the page) and ``/sparql`` (the endpoint); everything else is 404."""

    server: SparqlServer
    server_version = "onisep-kg"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if not self.server.quiet:
            super().log_message(format, *args)

    # -- routes ----------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802
        url = urllib.parse.urlsplit(self.path)
        if url.path in ("/", "/index.html"):
            self._send(HTTPStatus.OK, PAGE.encode("utf-8"), "text/html; charset=utf-8", page=True)
        elif url.path == "/sparql":
            params = urllib.parse.parse_qs(url.query, keep_blank_values=True)
            self._sparql(params)
        else:
            self._error(HTTPStatus.NOT_FOUND, f"no such page: {url.path}; the endpoint is /sparql")

    def do_POST(self) -> None:  # noqa: N802
        url = urllib.parse.urlsplit(self.path)
        if url.path != "/sparql":
            self._error(HTTPStatus.NOT_FOUND, f"no such endpoint: {url.path}; the endpoint is /sparql")
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"a request body must be under {MAX_BODY} bytes")
            return
        body = self.rfile.read(length)
        ctype = (self.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        params = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        if ctype == "application/sparql-query":
            params["query"] = [body.decode("utf-8", "replace")]
        elif ctype == "application/x-www-form-urlencoded":
            for key, values in urllib.parse.parse_qs(body.decode("utf-8", "replace")).items():
                params.setdefault(key, []).extend(values)
        elif ctype == "application/sparql-update":
            params["update"] = [""]
        else:
            self._error(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                "POST a form (application/x-www-form-urlencoded, query=…) or application/sparql-query",
            )
            return
        self._sparql(params)

    def do_PUT(self) -> None:  # noqa: N802
        self._read_only()

    do_DELETE = do_PUT  # noqa: N815
    do_PATCH = do_PUT  # noqa: N815

    # -- the endpoint ----------------------------------------------------------------------
    def _read_only(self) -> None:
        self._error(HTTPStatus.METHOD_NOT_ALLOWED, "this endpoint is read-only: no update, no graph store")

    def _sparql(self, params: dict[str, list[str]]) -> None:
        if "update" in params:
            self._read_only()
            return
        queries = params.get("query") or []
        if len(queries) != 1 or not queries[0].strip():
            self._error(HTTPStatus.BAD_REQUEST, "give exactly one query= parameter")
            return
        if "default-graph-uri" in params or "named-graph-uri" in params:
            self._error(HTTPStatus.BAD_REQUEST, "default-graph-uri and named-graph-uri are not supported")
            return
        sparql = queries[0]
        form = query_form(sparql)
        fmt = (params.get("format") or [None])[0]
        media = negotiate(self.headers.get("Accept"), form, fmt)
        if media is None:
            offered = "text/turtle" if form in ("CONSTRUCT", "DESCRIBE") else f"{JSON} or {CSV}"
            self._error(HTTPStatus.NOT_ACCEPTABLE, f"this answer is available as {offered}")
            return
        try:
            result = self.server.store.query(sparql)
            payload = render(result, media)
        except QueryError as exc:
            self._error(HTTPStatus.BAD_REQUEST, str(exc))
            return
        except OnisepKgError as exc:
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, str(exc))
            return
        self._send(HTTPStatus.OK, payload, f"{media}; charset=utf-8")

    def _error(self, status: HTTPStatus, message: str) -> None:
        self._send(status, (message + "\n").encode("utf-8"), "text/plain; charset=utf-8")

    def _send(self, status: HTTPStatus, payload: bytes, ctype: str, *, page: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Content-Type-Options", "nosniff")
        if status == HTTPStatus.METHOD_NOT_ALLOWED:
            self.send_header("Allow", "GET, POST")
        if page:
            self.send_header(
                "Content-Security-Policy",
                "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                "connect-src 'self'; form-action 'self'",
            )
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)


class SparqlServer(ThreadingHTTPServer):
    """A threading HTTP server bound to one store."""

    daemon_threads = True

    def __init__(
        self,
        store: Store,
        host: str = "127.0.0.1",
        port: int = 7878,
        *,
        quiet: bool = False,
    ):
        self.store = store
        self.quiet = quiet
        super().__init__((host, port), SparqlHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        shown = f"[{host}]" if ":" in str(host) else host
        return f"http://{shown}:{port}/"

    def start(self) -> threading.Thread:
        """Serve in a background thread (tests, notebooks); stop with :meth:`stop`."""
        thread = threading.Thread(target=self.serve_forever, name="onisep-kg-serve", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


PAGE = (
    """<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<title>onisep-kg — SPARQL</title>
<style>
 body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
 textarea { width: 100%; height: 14rem; font-family: ui-monospace, monospace; font-size: 0.9rem; }
 table { border-collapse: collapse; margin-top: 1rem; font-size: 0.9rem; }
 th, td { border: 1px solid #bbb; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
 th { background: #eee; }
 #status { margin-left: 1rem; color: #555; }
 pre { background: #f6f6f6; padding: 0.5rem; overflow: auto; }
 .error { color: #a00; white-space: pre-wrap; }
</style>
</head>
<body>
<h1>onisep-kg — SPARQL</h1>
<p>A read-only SPARQL 1.1 endpoint over the onisep-kg store: <code>/sparql</code>
(GET or POST <code>query=</code>; JSON or CSV results, Turtle for CONSTRUCT/DESCRIBE).
Each source file is a named graph; the default graph is their merge (each triple once), so
<code>GRAPH ?g { … }</code> is only needed to ask which file says what.</p>
<form id="form" method="post" action="/sparql">
<textarea id="query" name="query" spellcheck="false">"""
    + DEFAULT_QUERY.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    + """</textarea>
<p><button id="run" type="submit">Run</button>
<label><input type="checkbox" id="csv"> CSV</label><span id="status"></span></p>
</form>
<div id="results"></div>
<script>
"use strict";
const form = document.getElementById("form");
const out = document.getElementById("results");
const status = document.getElementById("status");
function cell(term) {
  const td = document.createElement("td");
  if (!term) return td;
  let text = term.value;
  if (term.type === "literal" && term["xml:lang"]) text += " @" + term["xml:lang"];
  if (term.type === "uri") {
    const code = document.createElement("code");
    code.textContent = text;
    td.appendChild(code);
  } else {
    td.textContent = text;
  }
  return td;
}
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  out.replaceChildren();
  status.textContent = "…";
  const started = performance.now();
  const csv = document.getElementById("csv").checked;
  const body = new URLSearchParams({ query: document.getElementById("query").value });
  try {
    const response = await fetch("/sparql", {
      method: "POST",
      headers: { "Accept": csv ? "text/csv" : "application/sparql-results+json, text/turtle;q=0.9" },
      body,
    });
    const type = response.headers.get("Content-Type") || "";
    const text = await response.text();
    const ms = Math.round(performance.now() - started);
    if (!response.ok) {
      const p = document.createElement("p");
      p.className = "error";
      p.textContent = text;
      out.appendChild(p);
      status.textContent = "error " + response.status;
      return;
    }
    if (type.startsWith("application/sparql-results+json")) {
      const data = JSON.parse(text);
      if ("boolean" in data) {
        const p = document.createElement("p");
        p.textContent = String(data.boolean);
        out.appendChild(p);
        status.textContent = ms + " ms";
        return;
      }
      const vars = data.head.vars;
      const table = document.createElement("table");
      const head = table.createTHead().insertRow();
      for (const v of vars) {
        const th = document.createElement("th");
        th.textContent = "?" + v;
        head.appendChild(th);
      }
      const tbody = table.createTBody();
      for (const binding of data.results.bindings) {
        const row = tbody.insertRow();
        for (const v of vars) row.appendChild(cell(binding[v]));
      }
      out.appendChild(table);
      status.textContent = data.results.bindings.length + " rows, " + ms + " ms";
    } else {
      const pre = document.createElement("pre");
      pre.textContent = text;
      out.appendChild(pre);
      status.textContent = ms + " ms";
    }
  } catch (err) {
    status.textContent = "error: " + err;
  }
});
</script>
</body>
</html>
"""
)
