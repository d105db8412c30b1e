"""``onisep-kg query``: run SPARQL (a string, a file or a named query of ``queries/``) on a store.

Registered on the main group by ``pipeline.cli`` (``main.add_command(query_command)``). Like the
rest of the command line, it prints one clear sentence on error and exits 2: unknown query name,
missing or unknown parameter, bad IRI or number, SPARQL syntax error, unusable store or file.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from . import queries as Q
from .errors import OnisepKgError

EXIT_OK, EXIT_UNUSABLE = 0, 2
# The embedded store that `onisep-kg load` fills (pipeline.store.DEFAULT_STORE).
DEFAULT_STORE = Path("output/store")
_NAME_LIKE = r"[A-Za-z0-9][A-Za-z0-9_.-]*"


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(EXIT_UNUSABLE)


def _looks_like_name(text: str) -> bool:
    return re.fullmatch(_NAME_LIKE, text.strip()) is not None


def _choose_query(query: str | None, file: str | None, name: str | None, folder: Path | None) -> Q.NamedQuery:
    given = [x for x in (query, file, name) if x is not None]
    if len(given) != 1:
        raise Q.QueryError(
            "give exactly one query: a SPARQL string, --file FILE or --name NAME (see --list)"
            if given
            else "no query given: pass a SPARQL string, --file FILE or --name NAME (see --list)"
        )
    if name is not None:
        return Q.load_query(name, folder)
    if file is not None:
        if file == "-":
            return Q.parse_query(sys.stdin.read(), "stdin")
        path = Path(file)
        if not path.is_file():
            raise Q.QueryError(f"no query file {file}")
        return Q.load_file(path)
    assert query is not None
    if _looks_like_name(query):  # `onisep-kg query search-metiers -p text=…`
        return Q.load_query(query, folder)
    return Q.parse_query(query, "query")


def _values(assignments: tuple[str, ...]) -> dict[str, str]:
    values: dict[str, str] = {}
    for assignment in assignments:
        name, value = Q.split_assignment(assignment)
        if name in values:
            raise Q.ParameterError(f"the parameter {name} is given twice")
        values[name] = value
    return values


def _open(store_dir: Path | None, graphs: tuple[Path, ...]):  # type: ignore[no-untyped-def]
    if graphs and store_dir is not None:
        raise Q.QueryError("give --store DIR or --graph FILE, not both")
    if graphs:
        missing = [str(g) for g in graphs if not g.is_file()]
        if missing:
            raise Q.QueryError(f"no graph file {missing[0]}")
        return Q.load_graph_files(graphs)
    return Q.open_store(store_dir or DEFAULT_STORE)


def _write(data: bytes) -> None:
    """Write the answer's bytes as they are (CSV keeps its CRLF line ends)."""
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(data.decode("utf-8"))
        return
    sys.stdout.flush()
    buffer.write(data)
    buffer.flush()


@click.command("query")
@click.argument("query", required=False)
@click.option("--file", "-f", "file", metavar="FILE", help="Read the query from FILE ('-': standard input).")
@click.option(
    "--name", "-n", "name", metavar="NAME", help="Run the named query NAME of queries/ (see --list)."
)
@click.option(
    "--param",
    "-p",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="Bind the query's variable ?NAME to VALUE (repeatable). Typed as the query's header says.",
)
@click.option(
    "--store",
    "store_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"Embedded store directory, opened read-only (default: {DEFAULT_STORE}).",
)
@click.option(
    "--graph",
    "graphs",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Query these RDF files (.ttl, .trig, .nt, .nq, .jsonld) loaded in memory instead of a store.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", *Q.FORMATS]),
    default="auto",
    show_default=True,
    help="Output: table, csv, tsv or json (SPARQL results) for SELECT/ASK; turtle or ntriples for "
    "CONSTRUCT/DESCRIBE. auto: table, or turtle for a graph.",
)
@click.option("--list", "list_only", is_flag=True, help="List the named queries and their parameters.")
@click.option(
    "--queries-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    hidden=True,
    help="Folder of named queries (default: the shipped queries/).",
)
def query_command(
    query: str | None,
    file: str | None,
    name: str | None,
    params: tuple[str, ...],
    store_dir: Path | None,
    graphs: tuple[Path, ...],
    fmt: str,
    list_only: bool,
    queries_dir: Path | None,
) -> None:
    """Run a SPARQL query: QUERY (SPARQL text, or the name of a named query), --file or --name.

    Parameters are bound as RDF terms, never pasted into the query: a value is always taken as a
    plain value. The default graph is the merge of every graph of the store (each triple once).

    \b
    Examples:
      onisep-kg query --list
      onisep-kg query formations-for-metier --param metier=MET.799
      onisep-kg query --name search-metiers -p text=developpeuse --format csv
      onisep-kg query 'SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }' --graph output/onisep-kg.ttl

    Exit code: 0 answered; 2 the query could not run (unknown name, missing or bad parameter,
    SPARQL syntax error, unusable store).
    """
    try:
        if list_only:
            named = Q.list_queries(queries_dir)
            if not named:
                raise Q.QueryError(f"no named query in {queries_dir or Q.queries_dir()}")
            click.echo(f"{len(named)} named queries in {queries_dir or Q.queries_dir()}:\n")
            click.echo("\n".join(Q.describe(q) for q in named), nl=False)
            sys.exit(EXIT_OK)
        chosen = _choose_query(query, file, name, queries_dir)
        bindings = Q.bind(chosen, _values(params))
        store = _open(store_dir, graphs)
        result = Q.run(store, chosen, bindings)
        output = Q.render(result, Q.default_format(result) if fmt == "auto" else fmt, chosen.prefixes)
    except OnisepKgError as exc:
        _fail(str(exc))
        return
    _write(output)
    sys.exit(EXIT_OK)
