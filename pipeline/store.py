"""Triplestores: an embedded persistent store (pyoxigraph) and any SPARQL 1.1 server.

Both stores have one interface:

* :meth:`Store.load` puts each source file's graph in its own named graph. Loading is
  idempotent: a metadata graph (:data:`META_GRAPH`) records, per named graph, its source files
  (name and SHA-256), the SHA-256 of the graph's content and when it was loaded. A graph whose
  source and content are unchanged is skipped; a changed one is replaced (drop + insert in one
  transaction in the embedded store; one ``PUT`` on a server); a graph that is no longer in the
  input is removed. The loading time lives in the metadata graph only, never in a data graph.
* The **default graph is the RDF merge of the loaded graphs**, kept up to date by
  :meth:`Store.load`: a triple that several source files state (a ROME label, a formation's
  name) is in it once, so ``COUNT`` and joins see each fact once, and a query needs no
  ``GRAPH ?g``. (A "union default graph" would not do: Oxigraph 0.5 answers a triple once per
  graph holding it, which multiplies rows and made joins over shared nodes run for minutes;
  see docs/decisions/0009-merged-default-graph.md.) When a graph is replaced or removed, its
  triples leave the merge unless another data graph still states them.
* :meth:`Store.query` runs SPARQL with parameters bound safely: through pyoxigraph's
  ``substitutions`` in the embedded store, through a ``VALUES`` block built from N-Triples-escaped
  RDF terms for a server. User text is never pasted into a query.

The remote store speaks the SPARQL 1.1 Graph Store HTTP Protocol (load), SPARQL 1.1 Update (to
keep the merged default graph) and the SPARQL 1.1 protocol (query) with :mod:`urllib` only. It
talks to the URLs the user gave and nothing else: no proxy from the environment, no redirect
followed. Credentials come from the environment
(``ONISEP_KG_USER`` / ``ONISEP_KG_PASSWORD``, HTTP basic) and are redacted from every message.
"""

from __future__ import annotations

import abc
import base64
import contextlib
import csv
import hashlib
import io
import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import pyoxigraph as ox
from rdflib import Literal as RdfLiteral
from rdflib import URIRef
from rdflib.term import Node

from .errors import OnisepKgError
from .serialize import _ox

META_GRAPH = "https://w3id.org/onisep-kg/id/graph/meta"
DEFAULT_STORE = Path("output/store")
DEFAULT_TRIG = Path("output/onisep-kg.trig")
TRIG_NAME = "onisep-kg.trig"
USER_ENV = "ONISEP_KG_USER"
PASSWORD_ENV = "ONISEP_KG_PASSWORD"

OKG = "https://w3id.org/onisep-kg/ontology#"
PROV_DERIVED_FROM = "http://www.w3.org/ns/prov#wasDerivedFrom"
PROV_ENTITY = "http://www.w3.org/ns/prov#Entity"
DCT_MODIFIED = "http://purl.org/dc/terms/modified"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD = "http://www.w3.org/2001/XMLSchema#"
FILE_NAME = OKG + "fileName"
SHA256 = OKG + "sha256"
CONTENT_SHA256 = "https://schema.org/sha256"  # of the graph content (schema:sha256)
SOURCE_BASE = "https://w3id.org/onisep-kg/id/source/"
GRAPH_NAMESPACE = META_GRAPH.rsplit("/", 1)[0] + "/"
BATCH_QUADS = 200_000  # new graphs are bulk-loaded this many quads at a time
MERGE_BATCH = 500  # graphs added to a server's merged default graph per update request

Term = ox.NamedNode | ox.BlankNode | ox.Literal
BindingValue = str | int | float | bool | Decimal | datetime | date | ox.NamedNode | ox.Literal | Node


# -- errors ---------------------------------------------------------------------------------
class StoreError(OnisepKgError):
    """A store cannot be opened, loaded or queried."""


class StoreLockedError(StoreError):
    """The store directory is open in another process (pyoxigraph allows one writer)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(
            f"the store {path} is locked: another process is using it (a load, a serve or a query "
            "still running?); stop it or use another --store directory. Nothing was written."
        )


class RemoteStoreError(StoreError):
    """A SPARQL server refused or failed a request. The message never holds credentials."""


class QueryError(StoreError):
    """A SPARQL query is invalid, or a parameter cannot be bound."""


# -- RDF terms and safe binding ---------------------------------------------------------------
_LANG = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")
_VARNAME = re.compile(r"^[A-Za-z_\u00C0-\uFFFF][A-Za-z0-9_\u00B7\u00C0-\uFFFF]*$")
_IRI_FORBIDDEN = set('<>"{}|^`\\') | {chr(c) for c in range(0x21)}
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def to_term(value: BindingValue) -> ox.NamedNode | ox.Literal:
    """A Python value as an RDF term: ``str`` is a plain literal (never an IRI, never SPARQL).

    IRIs are given as :class:`pyoxigraph.NamedNode` or :class:`rdflib.URIRef`; ``int``,
    ``float``, ``Decimal``, ``bool``, ``date`` and ``datetime`` become typed literals.
    """
    if isinstance(value, (ox.NamedNode, ox.Literal)):
        return value
    if isinstance(value, ox.BlankNode) or type(value).__name__ == "BNode":
        raise QueryError("a blank node cannot be bound as a parameter; give an IRI or a literal")
    if isinstance(value, (URIRef, RdfLiteral)):
        try:
            return _ox(value)  # type: ignore[no-any-return]
        except ValueError as exc:
            raise QueryError(f"not a valid RDF term: {exc}") from None
    if isinstance(value, bool):
        return ox.Literal("true" if value else "false", datatype=ox.NamedNode(XSD + "boolean"))
    if isinstance(value, int):
        return ox.Literal(str(value), datatype=ox.NamedNode(XSD + "integer"))
    if isinstance(value, float):
        return ox.Literal(repr(value), datatype=ox.NamedNode(XSD + "double"))
    if isinstance(value, Decimal):
        return ox.Literal(str(value), datatype=ox.NamedNode(XSD + "decimal"))
    if isinstance(value, datetime):
        return ox.Literal(value.isoformat(), datatype=ox.NamedNode(XSD + "dateTime"))
    if isinstance(value, date):
        return ox.Literal(value.isoformat(), datatype=ox.NamedNode(XSD + "date"))
    if isinstance(value, str):
        return ox.Literal(value)
    raise QueryError(f"cannot bind a {type(value).__name__} as an RDF term")


def _escape(text: str) -> str:
    out = []
    for ch in text:
        esc = _ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return "".join(out)


def _iri(value: str) -> str:
    if not value or any(ch in _IRI_FORBIDDEN for ch in value):
        raise QueryError('not a valid IRI: it contains a space, a control character or one of <>"{}|^`\\')
    return f"<{value}>"


def sparql_term(term: Term) -> str:
    """The term in N-Triples syntax (also valid SPARQL): IRIs checked, literals escaped."""
    if isinstance(term, ox.NamedNode):
        return _iri(term.value)
    if isinstance(term, ox.Literal):
        text = f'"{_escape(term.value)}"'
        if getattr(term, "direction", None) is not None:
            raise QueryError("literals with a base direction cannot be bound")
        if term.language:
            if not _LANG.match(term.language):
                raise QueryError(f"not a valid language tag: {term.language!r}")
            return f"{text}@{term.language}"
        if term.datatype.value != XSD + "string":
            return f"{text}^^{_iri(term.datatype.value)}"
        return text
    raise QueryError("only IRIs and literals can be bound as parameters")


def _check_bindings(bindings: Mapping[str, BindingValue] | None) -> dict[str, ox.NamedNode | ox.Literal]:
    checked: dict[str, ox.NamedNode | ox.Literal] = {}
    for name, value in (bindings or {}).items():
        var = name[1:] if name[:1] in "?$" else name
        if not _VARNAME.match(var):
            raise QueryError(f"not a SPARQL variable name: {name!r}")
        checked[var] = to_term(value)
    return checked


# A small SPARQL lexer: enough to find the query's variables and the brace that opens its WHERE
# clause without being fooled by strings, IRIs or comments.
_TOKEN = re.compile(
    r"""
      (?P<ws>\s+)
    | (?P<comment>\#[^\n]*)
    | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
                 |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
    | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    | (?P<var>[?$][A-Za-z0-9_\u00B7\u00C0-\uFFFF]+)
    | (?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
    | (?P<word>[A-Za-z_\u00C0-\uFFFF][A-Za-z0-9_.\-\u00B7\u00C0-\uFFFF]*(?::[^\s{}()<>;,"']*)?
              |:[^\s{}()<>;,"']*)
    | (?P<open>\{)
    | (?P<close>\})
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class _Shape:
    form: str  # SELECT, CONSTRUCT, DESCRIBE or ASK
    variables: frozenset[str]
    where_brace: int | None  # index just after the "{" that opens the WHERE group
    short_construct: bool


def _shape(sparql: str) -> _Shape:
    depth = 0
    form = ""
    variables: set[str] = set()
    saw_where = False
    first_brace: int | None = None
    where_brace: int | None = None
    for m in _TOKEN.finditer(sparql):
        kind = m.lastgroup
        if kind == "var":
            variables.add(m.group()[1:])
        elif kind == "word" and depth == 0:
            word = m.group().upper()
            if not form and word in ("SELECT", "CONSTRUCT", "DESCRIBE", "ASK"):
                form = word
            elif word == "WHERE":
                saw_where = True
        elif kind == "open":
            if depth == 0:
                if first_brace is None:
                    first_brace = m.end()
                if where_brace is None and (saw_where or form != "CONSTRUCT"):
                    where_brace = m.end()
            depth += 1
        elif kind == "close":
            depth -= 1
    short = form == "CONSTRUCT" and where_brace is not None and where_brace == first_brace
    return _Shape(form, frozenset(variables), where_brace, short)


def query_form(sparql: str) -> str:
    """``SELECT``, ``CONSTRUCT``, ``DESCRIBE`` or ``ASK`` (empty string when none is found)."""
    return _shape(sparql).form


def bind_values(sparql: str, bindings: Mapping[str, BindingValue]) -> str:
    """The query with its parameters bound by a ``VALUES`` block of escaped RDF terms.

    The block opens the query's WHERE group, so that FILTERs and BINDs see the values (a
    trailing ``VALUES`` would join only after them). The short ``CONSTRUCT WHERE { … }`` form,
    which admits only triple patterns, gets a trailing ``VALUES`` instead. Each value is an
    IRI or a literal in N-Triples syntax: a value can never end the string it sits in.
    """
    terms = _check_bindings(bindings)
    if not terms:
        return sparql
    shape = _shape(sparql)
    missing = sorted(set(terms) - shape.variables)
    if missing:
        raise QueryError(f"the query has no variable {', '.join('?' + v for v in missing)} to bind")
    names = list(terms)
    block = (
        f"VALUES ({' '.join('?' + n for n in names)}) "
        f"{{ ({' '.join(sparql_term(terms[n]) for n in names)}) }}"
    )
    if shape.short_construct:
        return f"{sparql}\n{block}\n"
    if shape.where_brace is None:
        raise QueryError("cannot find the query's WHERE clause to bind parameters in")
    return f"{sparql[: shape.where_brace]} {block}\n{sparql[shape.where_brace :]}"


# -- query results --------------------------------------------------------------------------
@dataclass(slots=True)
class QueryResult:
    """A query's answer, the same from every store: rows, a boolean, or triples."""

    kind: Literal["select", "ask", "graph"]
    variables: list[str] = field(default_factory=list)
    rows: list[tuple[Term | None, ...]] = field(default_factory=list)
    boolean: bool | None = None
    triples: list[ox.Triple] = field(default_factory=list)

    @classmethod
    def from_oxigraph(cls, result: Any) -> QueryResult:
        if isinstance(result, ox.QueryBoolean):
            return cls("ask", boolean=bool(result))
        if isinstance(result, ox.QuerySolutions):
            variables = [v.value for v in result.variables]
            rows = [tuple(solution[i] for i in range(len(variables))) for solution in result]
            return cls("select", variables=variables, rows=rows)
        return cls("graph", triples=[t.triple if isinstance(t, ox.Quad) else t for t in result])

    def __len__(self) -> int:
        return len(self.rows) if self.kind == "select" else len(self.triples) if self.kind == "graph" else 1

    def values(self) -> list[dict[str, str | None]]:
        """Rows as ``{variable: value}`` with each term's lexical value (None when unbound)."""
        names = self.variables
        return [{v: _value(t) for v, t in zip(names, row, strict=True)} for row in self.rows]

    def to_json(self) -> bytes:
        """SPARQL 1.1 Query Results JSON (``application/sparql-results+json``)."""
        if self.kind == "graph":
            raise QueryError("a CONSTRUCT or DESCRIBE result is a graph: ask for Turtle")
        if self.kind == "ask":
            doc: dict[str, Any] = {"head": {}, "boolean": bool(self.boolean)}
        else:
            names = self.variables
            bindings = [
                {v: _json_term(t) for v, t in zip(names, row, strict=True) if t is not None}
                for row in self.rows
            ]
            doc = {"head": {"vars": self.variables}, "results": {"bindings": bindings}}
        return json.dumps(doc, ensure_ascii=False).encode("utf-8")

    def to_csv(self) -> bytes:
        """SPARQL 1.1 Query Results CSV (``text/csv``): lexical values, CRLF line ends."""
        if self.kind == "graph":
            raise QueryError("a CONSTRUCT or DESCRIBE result is a graph: ask for Turtle")
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")
        if self.kind == "ask":
            writer.writerow(["boolean"])
            writer.writerow(["true" if self.boolean else "false"])
        else:
            writer.writerow(self.variables)
            for row in self.rows:
                writer.writerow(["" if t is None else _csv_value(t) for t in row])
        return buf.getvalue().encode("utf-8")

    def to_turtle(self, prefixes: Mapping[str, str] | None = None) -> bytes:
        if self.kind != "graph":
            raise QueryError("only a CONSTRUCT or DESCRIBE result can be written as Turtle")
        return ox.serialize(self.triples, format=ox.RdfFormat.TURTLE, prefixes=dict(prefixes or {}))  # type: ignore[no-any-return]


def _value(term: Term | None) -> str | None:
    return None if term is None else term.value


def _json_term(term: Term) -> dict[str, str]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD + "string":
            out["datatype"] = term.datatype.value
        return out
    return {"type": "triple", "value": str(term)}


def _csv_value(term: Term) -> str:
    return f"_:{term.value}" if isinstance(term, ox.BlankNode) else term.value


# -- graphs to load -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SourceFile:
    """A source file a named graph was derived from."""

    file_name: str
    sha256: str


TripleLike = ox.Triple | ox.Quad | tuple[Any, Any, Any]


@dataclass(frozen=True, slots=True)
class GraphInput:
    """One named graph to load: its IRI, its triples (or serialized bytes) and its source file.

    ``data`` is either an iterable of triples (pyoxigraph ``Triple``/``Quad`` or rdflib
    3-tuples) or bytes in ``format`` (N-Triples by default; any triple format pyoxigraph
    reads). ``file_name``/``sha256`` name the source file; a graph derived from several files
    lists the others in ``more_sources``.
    """

    iri: str
    data: bytes | Iterable[TripleLike]
    file_name: str
    sha256: str
    format: ox.RdfFormat = ox.RdfFormat.N_TRIPLES
    more_sources: tuple[SourceFile, ...] = ()

    @property
    def sources(self) -> tuple[SourceFile, ...]:
        return tuple(sorted({SourceFile(self.file_name, self.sha256), *self.more_sources}, key=_src_key))


def _src_key(s: SourceFile) -> tuple[str, str]:
    return (s.sha256, s.file_name)


@dataclass(slots=True)
class _Prepared:
    iri: str
    sources: tuple[SourceFile, ...]
    lines: list[str]  # distinct N-Triples statements, sorted, without the final " ."
    digest: str
    triples: list[ox.Triple] = field(default_factory=list)


def _triple(item: TripleLike) -> ox.Triple:
    if isinstance(item, ox.Triple):
        return item
    if isinstance(item, ox.Quad):
        return item.triple
    s, p, o = item
    return ox.Triple(
        *(t if isinstance(t, (ox.NamedNode, ox.BlankNode, ox.Literal)) else _ox(t) for t in (s, p, o))
    )


def _prepare(graph: GraphInput) -> _Prepared:
    try:
        ox.NamedNode(graph.iri)
    except ValueError as exc:
        raise StoreError(f"not a valid graph IRI: {graph.iri!r} ({exc})") from None
    if graph.iri == META_GRAPH:
        raise StoreError(f"{META_GRAPH} is the metadata graph; a data graph cannot use that IRI")
    if isinstance(graph.data, (bytes, bytearray)):
        try:
            quads = list(ox.parse(bytes(graph.data), format=graph.format))
        except SyntaxError as exc:
            raise StoreError(f"{graph.file_name}: cannot read the graph {graph.iri}: {exc}") from None
        triples = [q.triple for q in quads]
    else:
        triples = [_triple(t) for t in graph.data]
    lines = sorted({str(t) for t in triples})
    digest = hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
    return _Prepared(graph.iri, graph.sources, lines, digest, triples)


def _ntriples(lines: Sequence[str]) -> str:
    return "".join(f"{line} .\n" for line in lines)


@dataclass(frozen=True, slots=True)
class GraphRecord:
    """What the metadata graph says of one loaded named graph."""

    iri: str
    digest: str
    sources: tuple[SourceFile, ...]
    loaded_at: str | None


def _meta_lines(p: _Prepared, when: str) -> list[str]:
    g = _iri(p.iri)
    lines = [
        f"{g} <{RDF_TYPE}> <{PROV_ENTITY}>",
        f'{g} <{CONTENT_SHA256}> "{p.digest}"',
        f'{g} <{DCT_MODIFIED}> "{when}"^^<{XSD}dateTime>',
    ]
    for s in p.sources:
        src = _iri(SOURCE_BASE + s.sha256) if re.fullmatch(r"[0-9a-f]{64}", s.sha256) else None
        if src is None:
            raise StoreError(f"{s.file_name}: not a SHA-256 digest: {s.sha256!r}")
        lines += [
            f"{g} <{PROV_DERIVED_FROM}> {src}",
            f'{src} <{FILE_NAME}> "{_escape(s.file_name)}"',
            f'{src} <{SHA256}> "{s.sha256}"',
        ]
    return lines


_RECORDS_QUERY = f"""
SELECT ?g ?digest ?when ?file ?sha WHERE {{ GRAPH <{META_GRAPH}> {{
  ?g <{CONTENT_SHA256}> ?digest .
  OPTIONAL {{ ?g <{DCT_MODIFIED}> ?when }}
  OPTIONAL {{ ?g <{PROV_DERIVED_FROM}> ?src . ?src <{FILE_NAME}> ?file ; <{SHA256}> ?sha }}
}} }}"""

_ANY_DEFAULT_QUERY = "ASK { ?s ?p ?o }"

_MERGED_COUNT_QUERY = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def _unmerge(iri: str) -> str:
    """The update taking out of the merge the triples that only the graph ``iri`` states."""
    g = _iri(iri)
    return (
        f"DELETE {{ ?s ?p ?o }} WHERE {{ GRAPH {g} {{ ?s ?p ?o }} FILTER NOT EXISTS {{ "
        f"GRAPH ?h {{ ?s ?p ?o }} FILTER(?h != {g} && ?h != <{META_GRAPH}>) }} }}"
    )


_COUNT_QUERY = f"""
SELECT (COUNT(*) AS ?n) WHERE {{
  GRAPH <{META_GRAPH}> {{ ?g <{CONTENT_SHA256}> ?digest }}
  GRAPH ?g {{ ?s ?p ?o }}
}}"""


def _records(result: QueryResult) -> dict[str, GraphRecord]:
    digests: dict[str, str] = {}
    whens: dict[str, str | None] = {}
    sources: dict[str, set[SourceFile]] = {}
    for row in result.values():
        g = row["g"]
        assert g is not None
        digests[g] = row["digest"] or ""
        whens[g] = row.get("when")
        sources.setdefault(g, set())
        if row.get("sha") is not None:
            sources[g].add(SourceFile(row["file"] or "", row["sha"] or ""))
    return {g: GraphRecord(g, digests[g], tuple(sorted(sources[g], key=_src_key)), whens[g]) for g in digests}


# -- the load report ------------------------------------------------------------------------
@dataclass(slots=True)
class LoadReport:
    """What a load did, graph by graph, and the quads in the loaded graphs afterwards."""

    loaded: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    quads: int = 0
    quads_written: int = 0
    triples: int = 0
    merge_rebuilt: bool = False
    seconds: float = 0.0

    def summary(self) -> str:
        rebuilt = " (rebuilt from every graph)" if self.merge_rebuilt else ""
        return (
            f"graphs: {len(self.loaded)} loaded, {len(self.replaced)} replaced, "
            f"{len(self.skipped)} skipped (unchanged), {len(self.removed)} removed\n"
            f"quads: {self.quads} in the loaded graphs ({self.quads_written} written) "
            f"in {self.seconds:.1f} s\n"
            f"default graph: {self.triples} distinct triples, the merge of the loaded graphs{rebuilt}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "loaded": len(self.loaded),
            "replaced": len(self.replaced),
            "skipped": len(self.skipped),
            "removed": len(self.removed),
            "quads": self.quads,
            "quads_written": self.quads_written,
            "triples": self.triples,
            "merge_rebuilt": self.merge_rebuilt,
            "seconds": round(self.seconds, 3),
        }


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- the interface --------------------------------------------------------------------------
class Store(abc.ABC):
    """What every store offers: idempotent :meth:`load` and parameterised :meth:`query`."""

    description = "store"

    @abc.abstractmethod
    def query(self, sparql: str, *, bindings: Mapping[str, BindingValue] | None = None) -> QueryResult:
        """Run ``sparql`` with ``bindings`` bound safely (see the module docstring).

        The default graph is the merge of the loaded graphs (the single graph of
        ``onisep-kg.ttl``); ``GRAPH ?g { … }`` matches one source file's graph.
        """

    @abc.abstractmethod
    def update(self, sparql: str) -> None:
        """Run a SPARQL 1.1 Update (the store's own maintenance: never with user text)."""

    def has_merge(self) -> bool:
        """Whether the default graph holds anything (the merge of the loaded graphs)."""
        return bool(self.query(_ANY_DEFAULT_QUERY).boolean)

    def rebuild_merge(self) -> None:
        """Recompute the default graph as the merge of every data graph (the metadata graph aside).

        :meth:`load` calls it when graphs are recorded but the default graph is empty: a store
        loaded before the merge was kept, or one whose merge was dropped by hand.
        """
        self.update(
            f"DROP SILENT DEFAULT ;\nINSERT {{ ?s ?p ?o }} WHERE {{ GRAPH ?g {{ ?s ?p ?o }} "
            f"FILTER(?g != <{META_GRAPH}>) }}"
        )

    def records(self) -> dict[str, GraphRecord]:
        """Per named graph loaded by :meth:`load`: what the metadata graph records."""
        return _records(self.query(_RECORDS_QUERY))

    def quad_count(self) -> int:
        """Quads in the named graphs that :meth:`load` loaded (the metadata graph excluded)."""
        return self._count(_COUNT_QUERY)

    def triple_count(self) -> int:
        """Distinct triples of the merged default graph."""
        return self._count(_MERGED_COUNT_QUERY)

    def _count(self, sparql: str) -> int:
        rows = self.query(sparql).rows
        return int(rows[0][0].value) if rows and rows[0][0] is not None else 0

    def load(
        self, graphs: Iterable[GraphInput], *, remove_missing: bool = True, now: str | None = None
    ) -> LoadReport:
        """Load each graph into its own named graph, skipping those whose content is unchanged.

        With ``remove_missing`` (the default), a graph recorded by an earlier load (or left in
        the ``id/graph/`` namespace by an interrupted one) and absent from ``graphs`` is removed.
        ``now`` (``xsd:dateTime``) is the loading time recorded in the metadata graph; the
        current UTC time by default.
        """
        started = time.perf_counter()
        when = now or _now()
        report = LoadReport()
        known = self.records()
        present = self._graph_names()
        if known and not self.has_merge():
            self.rebuild_merge()
            report.merge_rebuilt = True
        seen: set[str] = set()
        batch: list[_Prepared] = []
        batch_quads = 0
        for graph in graphs:
            if graph.iri in seen:
                raise StoreError(f"the graph {graph.iri} is given twice; expected one per source file")
            seen.add(graph.iri)
            prepared = _prepare(graph)
            record = known.get(graph.iri)
            exists = graph.iri in present
            unchanged = record is not None and (record.digest, record.sources) == (
                prepared.digest,
                prepared.sources,
            )
            if record is None and not exists:  # new: written in batches
                batch.append(prepared)
                batch_quads += len(prepared.lines)
                report.loaded.append(graph.iri)
                if batch_quads >= BATCH_QUADS:
                    self._add_new(batch, when)
                    batch, batch_quads = [], 0
            elif exists and unchanged:
                report.skipped.append(graph.iri)
                continue
            else:
                self._replace(prepared, when)
                report.replaced.append(graph.iri)
            report.quads_written += len(prepared.lines)
        if batch:
            self._add_new(batch, when)
        if remove_missing:
            # Recorded graphs, and graphs in our graph namespace that no record describes (left
            # by an interrupted load), that the input no longer has.
            ours = {g for g in present if g.startswith(GRAPH_NAMESPACE) and g != META_GRAPH}
            report.removed = sorted((set(known) | ours) - seen)
            self._remove(report.removed)
        if report.loaded or report.replaced or report.removed:
            self._finish(known, set(report.removed), when)
        report.quads = self.quad_count()
        report.triples = self.triple_count()
        report.seconds = time.perf_counter() - started
        return report

    # the parts each store implements
    @abc.abstractmethod
    def _graph_names(self) -> set[str]:
        """The named graphs the store holds (the metadata graph aside)."""

    @abc.abstractmethod
    def _add_new(self, graphs: Sequence[_Prepared], when: str) -> None:
        """Write graphs that are not in the store yet, with their records."""
        for graph in graphs:
            self._replace(graph, when)

    @abc.abstractmethod
    def _replace(self, graph: _Prepared, when: str) -> None:
        """Replace one graph and its record."""

    @abc.abstractmethod
    def _remove(self, iris: Sequence[str]) -> None:
        """Drop these graphs and their records."""

    def _finish(self, known: dict[str, GraphRecord], removed: set[str], when: str) -> None:  # noqa: B027
        """Called once the data graphs are written (the remote store writes its metadata here)."""

    def close(self) -> None:  # noqa: B027 (a hook: nothing to release by default)
        """Release the store (the embedded store closes its files; a remote one has nothing)."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- the embedded store ---------------------------------------------------------------------
def _is_lock_error(exc: OSError) -> bool:
    text = str(exc).lower()
    return "lock" in text and (
        "resource temporarily unavailable" in text or "lock hold" in text or "no locks" in text
    )


class EmbeddedStore(Store):
    """A persistent on-disk pyoxigraph store (one writer process at a time)."""

    def __init__(self, path: Path | str = DEFAULT_STORE, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.description = f"store {self.path}"
        try:
            if read_only:
                if not (self.path / "CURRENT").is_file():
                    raise StoreError(f"no store in {self.path}: load one first (onisep-kg load --store DIR)")
                self._store = ox.Store.read_only(str(self.path))
            else:
                self.path.mkdir(parents=True, exist_ok=True)
                self._store = ox.Store(str(self.path))
        except OSError as exc:
            if _is_lock_error(exc):
                raise StoreLockedError(self.path) from None
            raise StoreError(f"cannot open the store {self.path}: {exc}") from None

    @property
    def oxigraph(self) -> ox.Store:
        """The underlying :class:`pyoxigraph.Store`."""
        return self._store

    def query(self, sparql: str, *, bindings: Mapping[str, BindingValue] | None = None) -> QueryResult:
        terms = _check_bindings(bindings)
        if terms:
            missing = sorted(set(terms) - _shape(sparql).variables)
            if missing:
                raise QueryError(f"the query has no variable {', '.join('?' + v for v in missing)} to bind")
        substitutions = {ox.Variable(name): term for name, term in terms.items()}
        try:
            result = self._store.query(sparql, substitutions=substitutions or None)
            return QueryResult.from_oxigraph(result)
        except SyntaxError as exc:
            raise QueryError(f"invalid SPARQL: {exc}") from None
        except RuntimeError as exc:
            if "SELECT projection" in str(exc):
                raise QueryError(
                    f"{exc}: the embedded store binds only variables that the SELECT clause names "
                    "(write SELECT ?a ?b …, not SELECT *)"
                ) from None
            raise QueryError(str(exc)) from None
        except OSError as exc:
            raise StoreError(f"cannot read the store {self.path}: {exc}") from None

    def update(self, sparql: str) -> None:
        self._write(lambda: self._store.update(sparql))

    def _graph_names(self) -> set[str]:
        return {g.value for g in self._store.named_graphs() if isinstance(g, ox.NamedNode)}

    def _meta_delete(self, g: str) -> str:
        return (
            f"DELETE {{ GRAPH <{META_GRAPH}> {{ ?src ?sp ?so }} }} WHERE {{ GRAPH <{META_GRAPH}> {{ "
            f"<{g}> <{PROV_DERIVED_FROM}> ?src . ?src ?sp ?so . "
            f"FILTER NOT EXISTS {{ ?other <{PROV_DERIVED_FROM}> ?src FILTER(?other != <{g}>) }} }} }} ;\n"
            f"DELETE WHERE {{ GRAPH <{META_GRAPH}> {{ <{g}> ?p ?o }} }} ;\n"
        )

    def _add_new(self, graphs: Sequence[_Prepared], when: str) -> None:
        # The bulk loader is twice as fast as a transaction but not atomic, so the data goes
        # first and the records after, in one transaction: a load interrupted in between leaves
        # graphs without a record, which the next load replaces (or removes) whole.
        def data() -> Iterator[ox.Quad]:
            default = ox.DefaultGraph()
            merged: set[ox.Triple] = set()  # the merge is a set: a shared triple is written once
            for graph in graphs:
                name = ox.NamedNode(graph.iri)
                for t in graph.triples:
                    yield ox.Quad(t.subject, t.predicate, t.object, name)
                    if t not in merged:
                        merged.add(t)
                        yield ox.Quad(t.subject, t.predicate, t.object, default)

        meta = ox.NamedNode(META_GRAPH)
        records = [
            ox.Quad(t.subject, t.predicate, t.object, meta)
            for graph in graphs
            for t in self._parse(_meta_lines(graph, when))
        ]
        self._write(lambda: self._store.bulk_extend(data()))
        self._write(lambda: self._store.extend(records))

    def _replace(self, graph: _Prepared, when: str) -> None:
        g = _iri(graph.iri)
        update = (
            f"{_unmerge(graph.iri)} ;\nDROP SILENT GRAPH {g} ;\n{self._meta_delete(graph.iri)}"
            f"INSERT DATA {{ GRAPH {g} {{\n{_ntriples(graph.lines)}}}\n"
            f"GRAPH <{META_GRAPH}> {{\n{_ntriples(_meta_lines(graph, when))}}} }} ;\n"
            f"ADD SILENT {g} TO DEFAULT"
        )
        self.update(update)  # one transaction: unmerge, drop, insert, record, merge

    @staticmethod
    def _parse(lines: Sequence[str]) -> list[ox.Triple]:
        return [q.triple for q in ox.parse(_ntriples(lines).encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)]

    def _remove(self, iris: Sequence[str]) -> None:
        for iri in iris:
            self.update(f"{_unmerge(iri)} ;\n{self._meta_delete(iri)}DROP SILENT GRAPH {_iri(iri)}")

    def _write(self, action: Any) -> None:
        try:
            action()
        except OSError as exc:
            raise StoreError(f"cannot write the store {self.path}: {exc}") from None

    def close(self) -> None:
        store = getattr(self, "_store", None)
        if store is not None:
            if not self.read_only:
                with contextlib.suppress(OSError):
                    store.flush()
            self._store = None  # type: ignore[assignment]
            del store  # pyoxigraph releases the lock when the last reference goes


# -- the remote store -----------------------------------------------------------------------
SERVER_KINDS = ("oxigraph", "fuseki", "graphdb", "virtuoso")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a SPARQL server answers queries and takes graphs (Graph Store Protocol)."""

    query_url: str
    gsp_url: str
    server: str = "oxigraph"
    update_url: str | None = None

    @classmethod
    def for_server(
        cls,
        endpoint: str | None,
        server: str = "oxigraph",
        *,
        query_url: str | None = None,
        gsp_url: str | None = None,
        update_url: str | None = None,
    ) -> Endpoint:
        """The URLs of ``server`` (see docs/stores.md) under the base URL ``endpoint``.

        Query, Graph Store and update URLs: oxigraph ``BASE/query``, ``BASE/store``,
        ``BASE/update``; fuseki (base ``…/ds``) ``BASE/sparql``, ``BASE/data``, ``BASE/update``;
        graphdb (base ``…/repositories/<id>``) ``BASE``, ``BASE/rdf-graphs/service``,
        ``BASE/statements``; virtuoso ``BASE/sparql``, ``BASE/sparql-graph-crud``,
        ``BASE/sparql``. ``query_url`` / ``gsp_url`` / ``update_url`` override each; with all
        three, ``endpoint`` may be None.
        """
        if server not in _PRESETS:
            raise StoreError(f"unknown server kind {server!r}; expected one of {', '.join(SERVER_KINDS)}")
        if endpoint is None:
            if query_url is None or gsp_url is None or update_url is None:
                raise StoreError("give --endpoint, or all of --query-url, --gsp-url and --update-url")
            return cls(_check_url(query_url), _check_url(gsp_url), server, _check_url(update_url))
        base = _check_url(endpoint).rstrip("/")
        suffixes = _PRESETS[server]
        for suffix in suffixes:  # a full query, GSP or update URL given as the base
            if suffix and base.endswith(suffix):
                base = base[: -len(suffix)]
                break
        q_suffix, g_suffix, u_suffix = suffixes
        return cls(
            _check_url(query_url) if query_url else base + q_suffix,
            _check_url(gsp_url) if gsp_url else base + g_suffix,
            server,
            _check_url(update_url) if update_url else base + u_suffix,
        )


# Query, Graph Store Protocol and SPARQL Update URLs under each server's base URL.
_PRESETS = {
    "oxigraph": ("/query", "/store", "/update"),
    "fuseki": ("/sparql", "/data", "/update"),
    "graphdb": ("", "/rdf-graphs/service", "/statements"),
    "virtuoso": ("/sparql", "/sparql-graph-crud", "/sparql"),
}


def _check_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StoreError(f"not an http(s) URL: {redact_url(url)!r}")
    if parts.username is not None or parts.password is not None:
        raise StoreError(
            f"credentials do not belong in the URL {redact_url(url)}: set {USER_ENV} and {PASSWORD_ENV}"
        )
    if parts.fragment:
        raise StoreError(f"a SPARQL endpoint URL has no fragment: {redact_url(url)}")
    return url


def redact_url(url: str) -> str:
    """The URL with any user:password part replaced by ``***``."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    if "@" in parts.netloc:
        host = parts.netloc.rsplit("@", 1)[1]
        parts = parts._replace(netloc=f"***@{host}")
    return urllib.parse.urlunsplit(parts)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None  # a redirect is reported as an error, never followed with our credentials


class RemoteStore(Store):
    """A SPARQL 1.1 server: Graph Store HTTP Protocol to load, SPARQL protocol to query.

    Credentials: ``user``/``password``, else ``ONISEP_KG_USER``/``ONISEP_KG_PASSWORD``. They are
    sent as HTTP basic authentication, only to the URLs of ``endpoint``, and never appear in a
    message, an exception or ``repr``.
    """

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        user: str | None = None,
        password: str | None = None,
        timeout: float = 120.0,
        workers: int = 2,
    ) -> None:
        self.endpoint = endpoint
        self.description = f"server {endpoint.query_url}"
        self.timeout = timeout
        self.workers = workers
        user = user if user is not None else os.environ.get(USER_ENV)
        password = password if password is not None else os.environ.get(PASSWORD_ENV)
        self.__secrets: list[str] = []
        self.__auth: str | None = None
        if user is not None or password is not None:
            token = base64.b64encode(f"{user or ''}:{password or ''}".encode()).decode("ascii")
            self.__auth = f"Basic {token}"
            self.__secrets = [s for s in (token, password, f"{user or ''}:{password or ''}") if s]
        # No proxy from the environment, no redirect: requests go to the given URLs only.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())

    def __repr__(self) -> str:
        auth = ", with credentials" if self.__auth else ""
        return f"RemoteStore({self.endpoint.query_url!r}, gsp={self.endpoint.gsp_url!r}{auth})"

    def redact(self, text: str) -> str:
        """``text`` with the password and the authorization token replaced by ``***``."""
        for secret in sorted(self.__secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text

    def _request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        content_type: str | None = None,
        accept: str | None = None,
        ok_missing: bool = False,
    ) -> tuple[bytes, str]:
        request = urllib.request.Request(url, data=body, method=method)
        if content_type:
            request.add_header("Content-Type", content_type)
        if accept:
            request.add_header("Accept", accept)
        if self.__auth:
            request.add_unredirected_header("Authorization", self.__auth)
        shown = redact_url(url.split("?", 1)[0])
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return response.read(), response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            if ok_missing and exc.code == 404:
                return b"", ""
            try:
                detail = exc.read(2000).decode("utf-8", "replace").strip()
            except OSError:
                detail = ""
            hint = ""
            if exc.code in (401, 403):
                hint = f" (check {USER_ENV} / {PASSWORD_ENV} and the user's rights)"
            elif 300 <= exc.code < 400:
                hint = " (the server redirects: give the final URL; redirects are not followed)"
            message = f"{method} {shown}: HTTP {exc.code} {exc.reason}{hint}"
            if detail:
                message += f": {detail[:500]}"
            raise RemoteStoreError(self.redact(message)) from None
        except urllib.error.URLError as exc:
            raise RemoteStoreError(self.redact(f"{method} {shown}: cannot connect: {exc.reason}")) from None
        except (TimeoutError, OSError) as exc:
            raise RemoteStoreError(self.redact(f"{method} {shown}: {exc}")) from None

    def query(self, sparql: str, *, bindings: Mapping[str, BindingValue] | None = None) -> QueryResult:
        text = bind_values(sparql, bindings) if bindings else sparql
        body = urllib.parse.urlencode({"query": text}).encode("ascii")
        data, ctype = self._request(
            "POST",
            self.endpoint.query_url,
            body=body,
            content_type="application/x-www-form-urlencoded",
            accept="application/sparql-results+json, application/n-triples;q=0.9, text/turtle;q=0.8",
        )
        media = ctype.split(";", 1)[0].strip().lower()
        try:
            results_format = ox.QueryResultsFormat.from_media_type(media) if media else None
            if results_format is not None:
                return QueryResult.from_oxigraph(ox.parse_query_results(data, format=results_format))
            rdf_format = ox.RdfFormat.from_media_type(media) if media else None
            if rdf_format is not None:
                return QueryResult.from_oxigraph(ox.parse(data, format=rdf_format))
        except SyntaxError as exc:
            raise RemoteStoreError(f"{self.endpoint.query_url}: unreadable {media} answer: {exc}") from None
        raise RemoteStoreError(f"{self.endpoint.query_url}: unexpected answer type {media or 'none'}")

    def update(self, sparql: str) -> None:
        url = self.endpoint.update_url
        if url is None:
            raise RemoteStoreError(
                f"{self.endpoint.query_url}: no SPARQL Update URL; give --update-url (the store keeps "
                "the merge of the graphs in the default graph through SPARQL Update)"
            )
        body = urllib.parse.urlencode({"update": sparql}).encode("utf-8")
        self._request("POST", url, body=body, content_type="application/x-www-form-urlencoded")

    def _gsp(self, iri: str) -> str:
        sep = "&" if "?" in self.endpoint.gsp_url else "?"
        return f"{self.endpoint.gsp_url}{sep}{urllib.parse.urlencode({'graph': iri})}"

    def _graph_names(self) -> set[str]:
        result = self.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }")
        return {row[0].value for row in result.rows if isinstance(row[0], ox.NamedNode)}

    def _put(self, graph: _Prepared, when: str) -> None:
        # PUT replaces the graph whole (SPARQL 1.1 GSP §5.3); N-Triples is Turtle, which every
        # server takes.
        body = _ntriples(graph.lines).encode("utf-8")
        self._request("PUT", self._gsp(graph.iri), body=body, content_type="text/turtle; charset=utf-8")
        self._loaded[graph.iri] = _meta_lines(graph, when)

    def _merge(self, iris: Sequence[str]) -> None:
        for start in range(0, len(iris), MERGE_BATCH):
            batch = iris[start : start + MERGE_BATCH]
            self.update(" ;\n".join(f"ADD SILENT {_iri(iri)} TO DEFAULT" for iri in batch))

    def _replace(self, graph: _Prepared, when: str) -> None:
        # Not one transaction on a server: unmerge, PUT, merge. The record is written last (in
        # _finish), so an interrupted load replaces this graph again, each step idempotent.
        self.update(_unmerge(graph.iri))
        self._put(graph, when)
        self._merge([graph.iri])

    def _add_new(self, graphs: Sequence[_Prepared], when: str) -> None:
        # A few PUTs at a time: the server parses and writes one while we send the next.
        if self.workers <= 1:
            for graph in graphs:
                self._put(graph, when)
        else:
            with ThreadPoolExecutor(self.workers) as pool:
                for _ in pool.map(lambda g: self._put(g, when), graphs):
                    pass
        self._merge([g.iri for g in graphs])

    def _remove(self, iris: Sequence[str]) -> None:
        for iri in iris:
            self.update(_unmerge(iri))
            self._request("DELETE", self._gsp(iri), ok_missing=True)

    def load(
        self, graphs: Iterable[GraphInput], *, remove_missing: bool = True, now: str | None = None
    ) -> LoadReport:
        self._loaded: dict[str, list[str]] = {}
        return super().load(graphs, remove_missing=remove_missing, now=now)

    def _finish(self, known: dict[str, GraphRecord], removed: set[str], when: str) -> None:  # noqa: B027
        """PUT the whole metadata graph last: an interrupted load re-does its graphs next time."""
        lines: list[str] = []
        for iri, record in known.items():
            if iri not in removed and iri not in self._loaded:  # skipped or kept: record as it was
                kept = _Prepared(iri, record.sources, [], record.digest)
                lines += _meta_lines(kept, record.loaded_at or when)
        for meta in self._loaded.values():
            lines += meta
        body = _ntriples(sorted(set(lines))).encode("utf-8")
        self._request("PUT", self._gsp(META_GRAPH), body=body, content_type="text/turtle; charset=utf-8")


# -- inputs ---------------------------------------------------------------------------------
def read_dataset(path: Path) -> list[GraphInput]:
    """The named graphs of a TriG or N-Quads file, each with the source files its PROV-O names.

    A graph's sources are the ``<graph> prov:wasDerivedFrom ?src`` nodes of the graph itself,
    with their ``okg:fileName`` and ``okg:sha256``. A graph that names none, or triples outside
    any named graph, make the file unusable: the store could not tell when to skip them.
    """
    fmt = ox.RdfFormat.N_QUADS if path.suffix.lower() in (".nq", ".nquads") else ox.RdfFormat.TRIG
    graphs: dict[str, list[ox.Triple]] = {}
    try:
        for quad in ox.parse(path=str(path), format=fmt):
            if not isinstance(quad.graph_name, ox.NamedNode):
                raise StoreError(
                    f"{path}: triples outside a named graph; expected one named graph per source"
                )
            graphs.setdefault(quad.graph_name.value, []).append(quad.triple)
    except SyntaxError as exc:
        raise StoreError(f"{path}: not readable as {fmt.name}: {exc}") from None
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror or exc}") from None
    inputs: list[GraphInput] = []
    for iri in sorted(graphs):
        triples = graphs[iri]
        sources = _sources_of(iri, triples)
        if not sources:
            raise StoreError(
                f"{path}: the graph {iri} has no provenance (<graph> prov:wasDerivedFrom a source file "
                "with okg:fileName and okg:sha256)"
            )
        first, *more = sources
        inputs.append(GraphInput(iri, triples, first.file_name, first.sha256, more_sources=tuple(more)))
    return inputs


def _sources_of(iri: str, triples: Sequence[ox.Triple]) -> list[SourceFile]:
    src_nodes = {
        t.object
        for t in triples
        if t.predicate.value == PROV_DERIVED_FROM
        and isinstance(t.subject, ox.NamedNode)
        and t.subject.value == iri
    }
    names: dict[Any, str] = {}
    hashes: dict[Any, str] = {}
    for t in triples:
        if t.subject in src_nodes:
            if t.predicate.value == FILE_NAME:
                names[t.subject] = t.object.value
            elif t.predicate.value == SHA256:
                hashes[t.subject] = t.object.value
    return sorted((SourceFile(names.get(n, ""), hashes[n]) for n in src_nodes if n in hashes), key=_src_key)


def dataset_path(path: Path) -> Path:
    """A TriG/N-Quads file, or an ingest output folder holding ``onisep-kg.trig``."""
    if path.is_dir():
        candidate = path / TRIG_NAME
        if not candidate.is_file():
            raise StoreError(f"{path} holds no {TRIG_NAME}: run onisep-kg ingest --out {path} first")
        return candidate
    if not path.is_file():
        raise StoreError(f"no such file: {path} (run onisep-kg ingest first)")
    return path


def load_ingest_output(
    out_dir: Path, store: Store | Path | str, *, remove_missing: bool = True
) -> LoadReport:
    """Load what ``ingest`` wrote in ``out_dir`` (its ``onisep-kg.trig``) into ``store``.

    ``store`` is an open store, or the directory of an embedded store (opened and closed here;
    open it before a long ingest instead, so that a locked store fails first).
    """
    if isinstance(store, (str, Path)):
        with EmbeddedStore(store) as opened:
            return load_ingest_output(out_dir, opened, remove_missing=remove_missing)
    return store.load(read_dataset(dataset_path(out_dir)), remove_missing=remove_missing)


def open_store(
    store_dir: Path | None = None,
    *,
    endpoint: str | None = None,
    server: str = "oxigraph",
    query_url: str | None = None,
    gsp_url: str | None = None,
    update_url: str | None = None,
    read_only: bool = False,
    timeout: float = 120.0,
) -> Store:
    """The embedded store in ``store_dir`` (default ``output/store``), or the server at ``endpoint``.

    A server is chosen by ``endpoint`` (a base URL, see :meth:`Endpoint.for_server`) or by both
    ``query_url``, ``gsp_url`` and ``update_url``; its credentials come from the environment.
    """
    if any(url is not None for url in (endpoint, query_url, gsp_url, update_url)):
        if store_dir is not None:
            raise StoreError("give either a store directory or an endpoint, not both")
        target = Endpoint.for_server(
            endpoint, server, query_url=query_url, gsp_url=gsp_url, update_url=update_url
        )
        return RemoteStore(target, timeout=timeout)
    return EmbeddedStore(store_dir or DEFAULT_STORE, read_only=read_only)
