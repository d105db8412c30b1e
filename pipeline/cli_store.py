"""``onisep-kg load`` and ``onisep-kg serve``: put the graph in a store, and query it over HTTP.

Registered on the main group by ``pipeline.cli`` (``main.add_command``). Like the rest of the
command line, these commands print one clear sentence on error and exit 2; credentials for a
remote store come from ``ONISEP_KG_USER`` / ``ONISEP_KG_PASSWORD`` and are never printed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .errors import OnisepKgError
from .ingest import display_path
from .store import (
    DEFAULT_STORE,
    DEFAULT_TRIG,
    PASSWORD_ENV,
    SERVER_KINDS,
    USER_ENV,
    EmbeddedStore,
    StoreError,
    dataset_path,
    open_store,
    read_dataset,
)

EXIT_OK, EXIT_UNUSABLE = 0, 2


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(EXIT_UNUSABLE)


def store_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--store DIR`` or ``--endpoint URL`` (+ ``--server``, ``--query-url``, ``--gsp-url``,
    ``--update-url``)."""
    options = [
        click.option(
            "--store",
            "store_dir",
            type=click.Path(file_okay=False, path_type=Path),
            default=None,
            help=f"Embedded store directory (default: {DEFAULT_STORE}).",
        ),
        click.option(
            "--endpoint",
            metavar="URL",
            default=None,
            help=(
                "Base URL of a SPARQL 1.1 server instead of the embedded store, e.g. "
                "http://127.0.0.1:7878 (oxigraph), http://host:3030/ds (fuseki), "
                "http://host:7200/repositories/ID (graphdb), http://host:8890 (virtuoso). "
                f"Credentials: {USER_ENV} / {PASSWORD_ENV}."
            ),
        ),
        click.option(
            "--server",
            type=click.Choice(SERVER_KINDS),
            default="oxigraph",
            show_default=True,
            help="Kind of server: gives the query, Graph Store and update URLs under --endpoint.",
        ),
        click.option(
            "--query-url", metavar="URL", default=None, help="SPARQL query URL (overrides --server)."
        ),
        click.option(
            "--gsp-url", metavar="URL", default=None, help="Graph Store Protocol URL (overrides --server)."
        ),
        click.option(
            "--update-url", metavar="URL", default=None, help="SPARQL Update URL (overrides --server)."
        ),
        click.option(
            "--timeout", type=float, default=120.0, show_default=True, help="Seconds per HTTP request."
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.command("load")
@click.argument("source", required=False, type=click.Path(path_type=Path))
@store_options
@click.option(
    "--keep-missing",
    is_flag=True,
    help="Keep graphs loaded earlier that SOURCE no longer has (default: remove them).",
)
def load_command(
    source: Path | None,
    store_dir: Path | None,
    endpoint: str | None,
    server: str,
    query_url: str | None,
    gsp_url: str | None,
    update_url: str | None,
    timeout: float,
    keep_missing: bool,
) -> None:
    """Load a TriG (one named graph per source file) into the store.

    SOURCE is a TriG or N-Quads file, or the folder ingest wrote (default: output/onisep-kg.trig).
    Each named graph is loaded with its provenance in the metadata graph: an unchanged graph is
    skipped, a changed one replaced, one no longer in SOURCE removed. The default graph is kept
    as the merge of the loaded graphs (each triple once), which queries see. Exit code 0; 2 when the
    input or the store is unusable (a store locked by another process, a server refusing).
    """
    try:
        path = dataset_path(source or DEFAULT_TRIG)
        with open_store(  # first: a locked store fails before the input is read
            store_dir,
            endpoint=endpoint,
            server=server,
            query_url=query_url,
            gsp_url=gsp_url,
            update_url=update_url,
            timeout=timeout,
        ) as store:
            if isinstance(store, EmbeddedStore):
                report = store.load_dataset(
                    path,
                    remove_missing=not keep_missing,
                    on_read=lambda count: click.echo(
                        f"loading {display_path(path)} ({count} graphs) into the {store.description}"
                    ),
                )
            else:
                graphs = read_dataset(path)
                click.echo(
                    f"loading {display_path(path)} ({len(graphs)} graphs) into the {store.description}"
                )
                report = store.load(graphs, remove_missing=not keep_missing)
    except OnisepKgError as exc:
        _fail(str(exc))
        return
    click.echo(report.summary())
    sys.exit(EXIT_OK)


@click.command("serve")
@click.option(
    "--store",
    "store_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_STORE,
    show_default=True,
    help="Embedded store directory to serve.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=7878, show_default=True, help="Port (0: any free port).")
@click.option("--quiet", is_flag=True, help="Do not log each request.")
def serve_command(store_dir: Path, host: str, port: int, quiet: bool) -> None:
    """Serve the store as a read-only SPARQL endpoint with a web query page.

    GET or POST /sparql with query= (SPARQL 1.1 protocol): SELECT and ASK answer JSON or CSV by
    the Accept header, CONSTRUCT and DESCRIBE Turtle. / is a query page. The default graph is
    the merge of the loaded graphs; GRAPH ?g { … } finds which source file says what. The
    store stays open (locked) until Ctrl-C.
    """
    from .server import SparqlServer

    try:
        if not (store_dir / "CURRENT").is_file():
            raise StoreError(f"no store in {store_dir}: load one first (onisep-kg load --store {store_dir})")
        store = EmbeddedStore(store_dir)
    except OnisepKgError as exc:
        _fail(str(exc))
        return
    try:
        httpd = SparqlServer(store, host, port, quiet=quiet)
    except OSError as exc:
        store.close()
        _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
        return
    quads = store.quad_count()
    graphs = len(store.records())
    if host not in ("127.0.0.1", "::1", "localhost"):
        click.echo(
            f"warning: listening on {host}: the store is readable by anyone who can reach it", err=True
        )
    click.echo(f"serving the {store.description} ({graphs} graphs, {quads} quads)")
    click.echo(f"query page: {httpd.url}  SPARQL endpoint: {httpd.url}sparql  (Ctrl-C to stop)", nl=True)
    sys.stdout.flush()
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        click.echo("stopped")
    finally:
        httpd.server_close()
        store.close()
