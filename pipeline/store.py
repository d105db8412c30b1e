"""Triplestores: an embedded persistent store (pyoxigraph) and any SPARQL 1.1 server.

Both stores have one interface:

* :meth:`Store.load` puts each source file's graph in its own named graph. Loading is
  idempotent: a metadata graph (:data:`META_GRAPH`) records, per named graph, its source files
  (name and SHA-256), the digest of the graph's content (:func:`graph_digest`) and when it was
  loaded. A graph whose source and content are unchanged is skipped; a changed one is replaced
  (its removed and added triples, the merge and its record in one transaction in the embedded
  store; one ``PUT`` on a server); a graph that is no longer in the input is removed. The
  loading time lives in the metadata graph only, never in a data graph. A :class:`GraphInput`
  may carry its digest and give its triples through a callable: an unchanged graph is then
  skipped without its triples being read (what an incremental ingest needs).
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

Loading speed (embedded store, see docs/decisions/0011-fast-embedded-loads.md): a first load
bulk-loads the TriG in Rust while Python computes the digests, then the merge; graphs are
handled as N-Triples lines, never as a million term objects. The store directory keeps a
cache (:data:`STATE_FILE`) of the records, the counts and the SHA-256 of the TriG block each
graph was read from, so that a reload parses only the blocks that changed and counts nothing.
"""

from __future__ import annotations

import abc
import base64
import bisect
import contextlib
import csv
import hashlib
import http.client
import io
import json
import os
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence
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

from .build import lines_of, unlines
from .emit import gc_paused
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
# (compiled when first used, by re's own cache: these two take ~15 ms to compile, a load none)
_VARNAME = r"^[A-Za-z_\u00C0-\uFFFF][A-Za-z0-9_\u00B7\u00C0-\uFFFF]*$"
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


_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f\x7f"\\]')
_IRI_BAD = re.compile(r'[\x00-\x20<>"{}|^`\\]')


def _escape(text: str) -> str:
    if not _NEEDS_ESCAPE.search(text):
        return text
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
    if not value or _IRI_BAD.search(value):
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
        if not re.match(_VARNAME, var):
            raise QueryError(f"not a SPARQL variable name: {name!r}")
        checked[var] = to_term(value)
    return checked


# A small SPARQL lexer: enough to find the query's variables and the brace that opens its WHERE
# clause without being fooled by strings, IRIs or comments.
_TOKEN = r"""
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
    """


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
    for m in re.finditer(_TOKEN, sparql, re.VERBOSE | re.DOTALL):
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
GraphData = bytes | Iterable[TripleLike]


@dataclass(frozen=True, slots=True)
class GraphInput:
    """One named graph to load: its IRI, its triples (or serialized bytes) and its source file.

    ``data`` is an iterable of triples (pyoxigraph ``Triple``/``Quad`` or rdflib 3-tuples),
    bytes in ``format`` (N-Triples by default; any triple format pyoxigraph reads), or a
    zero-argument callable returning either. A callable is called only when the graph must be
    written (it is new, or it changed); a graph found unchanged is never read.
    ``file_name``/``sha256`` name the source file; a graph derived from several files lists the
    others in ``more_sources``.

    ``digest`` is the graph's :func:`graph_digest`, when the caller already knows it (an
    incremental ingest keeps it with the graph): the store then decides to skip the graph by
    comparing it (and the sources) with its record, without reading ``data``. Without it, the
    store reads ``data`` and computes the digest. When the graph is written, the store records
    the digest of what it writes.
    """

    iri: str
    data: GraphData | Callable[[], GraphData]
    file_name: str
    sha256: str
    format: ox.RdfFormat = ox.RdfFormat.N_TRIPLES
    more_sources: tuple[SourceFile, ...] = ()
    digest: str | None = None

    @property
    def sources(self) -> tuple[SourceFile, ...]:
        if not self.more_sources:
            return (SourceFile(self.file_name, self.sha256),)
        return tuple(sorted({SourceFile(self.file_name, self.sha256), *self.more_sources}, key=_src_key))


@dataclass(frozen=True, slots=True)
class _FileGraph(GraphInput):
    """A graph read from a TriG file: ``text`` is the SHA-256 of its block in the file (with
    the file's prefix lines), or None when the file could not be cut into blocks."""

    text: str | None = None


def _src_key(s: SourceFile) -> tuple[str, str]:
    return (s.sha256, s.file_name)


def sources_key(sources: Iterable[SourceFile]) -> str:
    """Sources as one string: the JSON of their ``[file name, sha256]`` pairs, in the order
    given (that of :attr:`GraphInput.sources`). What :meth:`EmbeddedStore.load_known` compares."""
    return json.dumps([[s.file_name, s.sha256] for s in sources], ensure_ascii=False, separators=(",", ":"))


def _sources_of_key(key: str) -> tuple[SourceFile, ...]:
    return tuple(SourceFile(f, h) for f, h in json.loads(key))


def _digest_of(lines: list[str]) -> str:
    """The digest of distinct, sorted N-Triples lines (see :func:`graph_digest`)."""
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def graph_digest(triples: GraphData, format: ox.RdfFormat = ox.RdfFormat.N_TRIPLES) -> str:
    """The digest the store records for a graph's content (``schema:sha256`` of its record).

    ``triples`` is what :class:`GraphInput` takes as ``data``: triples (pyoxigraph
    ``Triple``/``Quad`` or rdflib 3-tuples) or bytes in ``format``. The digest is the SHA-256
    (lower-case hex) of the graph's **distinct triples in canonical N-Triples**: each triple
    written as pyoxigraph writes it (``str(pyoxigraph.Triple)``: N-Triples without the final
    ``" ."``, IRIs as given, literals escaped with ``\\"``, ``\\\\``, ``\\n``, ``\\r``, ``\\t``
    and ``\\uXXXX`` for other control characters), the distinct lines sorted by code point,
    joined by ``"\\n"`` (no final newline), UTF-8 encoded. It depends on the triples only: not on
    their order, repetitions, prefixes or the serialization they came from, nor on the graph's
    IRI, so a TriG file, triples and N-Triples bytes of one graph give one digest. (Blank nodes
    enter with their labels, which a parser may choose afresh for ``[]``.)
    """
    if isinstance(triples, _Parsed):
        return triples.digest
    return _digest_of(sorted(set(_lines_of(triples, format, None))))


class _Parsed:
    """A named graph read from a dataset file, kept as its distinct N-Triples lines, sorted,
    with their digest (the lines are all the store needs to write the graph: no term objects)."""

    __slots__ = ("digest", "distinct")

    def __init__(self, lines: Iterable[str]) -> None:
        self.distinct = sorted(set(lines))
        self.digest = _digest_of(self.distinct)

    def __iter__(self) -> Iterator[ox.Triple]:
        text = _ntriples(self.distinct).encode("utf-8")
        return (q.triple for q in ox.parse(text, format=ox.RdfFormat.N_TRIPLES))


@dataclass(slots=True)
class _Prepared:
    iri: str
    sources: tuple[SourceFile, ...]
    lines: list[str]  # distinct N-Triples statements, sorted, without the final " ."
    digest: str


def _triple(item: TripleLike) -> ox.Triple:
    if isinstance(item, ox.Triple):
        return item
    if isinstance(item, ox.Quad):
        return item.triple
    s, p, o = item
    return ox.Triple(
        *(t if isinstance(t, (ox.NamedNode, ox.BlankNode, ox.Literal)) else _ox(t) for t in (s, p, o))
    )


def _lines_of(data: GraphData, fmt: ox.RdfFormat, graph: GraphInput | None) -> list[str]:
    """Each triple's N-Triples line (repeated triples repeat)."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        try:
            return [str(q.triple) for q in ox.parse(bytes(data), format=fmt)]
        except SyntaxError as exc:
            where = f"{graph.file_name}: cannot read the graph {graph.iri}" if graph else "cannot read"
            raise StoreError(f"{where}: {exc}") from None
    return [str(_triple(t)) for t in data]


def _check_graph_iri(iri: str) -> None:
    try:
        ox.NamedNode(iri)
    except ValueError as exc:
        raise StoreError(f"not a valid graph IRI: {iri!r} ({exc})") from None
    if iri == META_GRAPH:
        raise StoreError(f"{META_GRAPH} is the metadata graph; a data graph cannot use that IRI")


def _prepare(graph: GraphInput) -> _Prepared:
    """Read the graph's data (calling it when it is a callable) and compute its digest."""
    _check_graph_iri(graph.iri)
    data = graph.data() if callable(graph.data) else graph.data
    if isinstance(data, _Parsed):
        return _Prepared(graph.iri, graph.sources, data.distinct, data.digest)
    distinct = sorted(set(_lines_of(data, graph.format, graph)))
    return _Prepared(graph.iri, graph.sources, distinct, _digest_of(distinct))


def _ntriples(lines: Iterable[str]) -> str:
    return "".join(f"{line} .\n" for line in lines)


@dataclass(frozen=True, slots=True)
class GraphRecord:
    """What the metadata graph says of one loaded named graph."""

    iri: str
    digest: str
    sources: tuple[SourceFile, ...]
    loaded_at: str | None


_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def _meta_lines(p: _Prepared, when: str) -> list[str]:
    g = _iri(p.iri)
    lines = [
        f"{g} <{RDF_TYPE}> <{PROV_ENTITY}>",
        f'{g} <{CONTENT_SHA256}> "{p.digest}"',
        f'{g} <{DCT_MODIFIED}> "{when}"^^<{XSD}dateTime>',
    ]
    for s in p.sources:
        if not _SHA256_HEX.fullmatch(s.sha256):
            raise StoreError(f"{s.file_name}: not a SHA-256 digest: {s.sha256!r}")
        src = f"<{SOURCE_BASE}{s.sha256}>"
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

_STAMPS_QUERY = f"SELECT ?g ?when WHERE {{ GRAPH <{META_GRAPH}> {{ ?g <{DCT_MODIFIED}> ?when }} }}"
# What the state cache is checked against: how many loading times the metadata graph records,
# the earliest and the latest, and how many named graphs the store holds (two queries, ~10 ms,
# where reading every loading time took ~60 ms).
_STAMPS_SUMMARY_QUERY = (
    "SELECT (COUNT(?when) AS ?n) (MIN(?when) AS ?first) (MAX(?when) AS ?last) "
    f"WHERE {{ GRAPH <{META_GRAPH}> {{ ?g <{DCT_MODIFIED}> ?when }} }}"
)
_GRAPH_COUNT_QUERY = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { } }"

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

        A graph is skipped when its digest and sources equal its record's: the digest is
        :attr:`GraphInput.digest` when given (its data is then not read at all), else computed
        from its data. The data of a graph to write is read (a callable called) once.
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
            _check_graph_iri(graph.iri)
            record = known.get(graph.iri)
            exists = graph.iri in present
            if (
                exists
                and record is not None
                and graph.digest is not None
                and (record.digest, record.sources) == (graph.digest, graph.sources)
            ):
                report.skipped.append(graph.iri)  # known unchanged: its data is not even read
                continue
            prepared = _prepare(graph)
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
STATE_FILE = "onisep-kg-state.json"  # in the store directory: what the last load left (a cache)
_STATE_VERSION = 3  # 3: in columns, each a string of lines (1: an object per graph)
SMALL_NEW = 64  # fewer new graphs than this are written one transaction each, not bulk-loaded


def _is_lock_error(exc: OSError) -> bool:
    text = str(exc).lower()
    return "lock" in text and (
        "resource temporarily unavailable" in text or "lock hold" in text or "no locks" in text
    )


def _canonical_datetime(value: str) -> str:
    """``value`` as the store gives an ``xsd:dateTime`` back (it keeps dates in canonical form)."""
    probe = ox.Store()
    node = ox.NamedNode("urn:x")
    probe.add(ox.Quad(node, node, ox.Literal(value, datatype=ox.NamedNode(XSD + "dateTime"))))
    return next(iter(probe)).object.value  # type: ignore[no-any-return]


def _record_matches(record: GraphRecord | None, digest: str, sources: str) -> bool:
    return record is not None and record.digest == digest and sources_key(record.sources) == sources


def _has_blank(lines: Iterable[str]) -> bool:
    """Whether a line may hold a blank node (a literal holding ``_:`` counts too: safe side)."""
    return any("_:" in line for line in lines)


class _Records(MutableMapping[str, GraphRecord]):
    """The records a state file holds, kept in its columns and made into :class:`GraphRecord`
    objects only when asked for: a load that skips thousands of graphs it is told are
    unchanged compares their columns (:meth:`matches`), and writes the columns back."""

    __slots__ = ("_digests", "_gone", "_index", "_iris", "_made", "_sources", "_whens")

    def __init__(self, iris: list[str], digests: list[str], whens: list[str], sources: list[str]) -> None:
        self._iris, self._digests, self._whens, self._sources = iris, digests, whens, sources
        self._index: dict[str, int] | None = None
        self._made: dict[str, GraphRecord] = {}  # records made, or set since the file was read
        self._gone: set[str] = set()  # records of the file deleted since

    def _base(self) -> dict[str, int]:
        """The place of each record of the file in its columns."""
        if self._index is None:
            self._index = {iri: i for i, iri in enumerate(self._iris)}
        return self._index

    def _at(self, iri: str) -> int | None:
        i = self._base().get(iri)
        return None if i is None or iri in self._gone else i

    def __getitem__(self, iri: str) -> GraphRecord:
        record = self._made.get(iri)
        if record is None:
            i = self._at(iri)
            if i is None:
                raise KeyError(iri)
            try:
                sources = _sources_of_key(self._sources[i])
            except (ValueError, TypeError):  # a damaged entry: a record that matches nothing
                sources = ()
            record = GraphRecord(iri, self._digests[i], sources, self._whens[i])
            self._made[iri] = record
        return record

    def __setitem__(self, iri: str, record: GraphRecord) -> None:
        self._made[iri] = record
        self._gone.discard(iri)

    def __delitem__(self, iri: str) -> None:
        if iri not in self:
            raise KeyError(iri)
        self._made.pop(iri, None)
        if self._at(iri) is not None:
            self._gone.add(iri)

    def __iter__(self) -> Iterator[str]:
        yield from (iri for iri in self._iris if iri not in self._gone)
        if self._made:
            base = self._base()
            yield from (iri for iri in self._made if iri not in base)

    def __len__(self) -> int:
        if not self._made and not self._gone:
            return len(self._iris)
        return sum(1 for _ in self)

    def __contains__(self, iri: object) -> bool:
        return iri in self._made or (isinstance(iri, str) and self._at(iri) is not None)

    def copy(self) -> _Records:
        other = _Records(self._iris, self._digests, self._whens, self._sources)
        other._index = self._index
        other._made = dict(self._made)
        other._gone = set(self._gone)
        return other

    def matches(self, iri: str, digest: str, sources: str) -> bool:
        """Whether the record of ``iri`` holds this digest and these sources (:func:`sources_key`)."""
        record = self._made.get(iri)
        if record is not None:
            return record.digest == digest and sources_key(record.sources) == sources
        i = self._at(iri)
        return i is not None and self._digests[i] == digest and self._sources[i] == sources

    def iris(self) -> Iterable[str]:
        return self._iris if not self._made and not self._gone else iter(self)

    def fast_matches(self) -> Callable[[str, str, str], bool]:
        """:meth:`matches`, quicker for many graphs."""
        if self._made or self._gone:
            return self.matches
        index, digests, sources = self._base(), self._digests, self._sources

        def matches(iri: str, digest: str, key: str) -> bool:
            i = index.get(iri)
            return i is not None and digests[i] == digest and sources[i] == key

        return matches

    def stamps(self) -> list[str | None]:
        """The loading time of every record."""
        if not self._made and not self._gone:
            return list(self._whens)
        return [self[iri].loaded_at for iri in self]

    def columns(self, texts: Mapping[str, str]) -> dict[str, list[Any]]:
        """The state file's columns, the texts' included: the file's, with the records set since
        patched in, those deleted left out, the new ones after."""
        iris, digests = list(self._iris), list(self._digests)
        whens, sources = list(self._whens), list(self._sources)
        if self._made:
            base = self._base()
            for iri, record in self._made.items():
                i = base.get(iri)
                if i is None:
                    iris.append(iri)
                    digests.append(record.digest)
                    whens.append(record.loaded_at)  # type: ignore[arg-type]
                    sources.append(sources_key(record.sources))
                elif record.digest != digests[i] or record.loaded_at != whens[i]:
                    digests[i], whens[i] = record.digest, record.loaded_at  # type: ignore[assignment]
                    sources[i] = sources_key(record.sources)
                elif _sources_of_key(sources[i]) != record.sources:
                    sources[i] = sources_key(record.sources)
        if self._gone:
            keep = [i for i, iri in enumerate(iris) if iri not in self._gone]
            iris, digests, whens, sources = (
                [column[i] for i in keep] for column in (iris, digests, whens, sources)
            )
        return {
            "count": len(iris),
            "iris": lines_of(iris),
            "digests": lines_of(digests),
            "loaded": lines_of(whens),
            "sources": lines_of(sources),
            "texts": lines_of([texts.get(iri) for iri in iris]),
        }


@dataclass(slots=True)
class _State:
    """What an embedded store holds, as its last load left it: the records of the metadata
    graph, the TriG block each graph was read from (SHA-256), and the counts of the report."""

    records: MutableMapping[str, GraphRecord]  # a dict, or _Records read from the state file
    texts: dict[str, str]
    quads: int | None
    triples: int | None
    graphs: set[str] | None = None  # the store's named graphs, when the check made them known


class EmbeddedStore(Store):
    """A persistent on-disk pyoxigraph store (one writer process at a time).

    Next to its files, the store directory holds :data:`STATE_FILE`, a cache of what the last
    load left (the records of the metadata graph, the counts, and the SHA-256 of the TriG block
    each graph came from), so that a load of unchanged graphs reads neither the TriG's triples
    nor the whole metadata graph. It is checked against the loading times the metadata graph
    records, dropped before any write and rewritten after each load; without it (a store loaded
    by an older onisep-kg, or written through :attr:`oxigraph`), the next load reads the records
    and counts from the store and writes it again.
    """

    def __init__(self, path: Path | str = DEFAULT_STORE, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.description = f"store {self.path}"
        self._state_cache: _State | None = None
        self._writing = False
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
        """The underlying :class:`pyoxigraph.Store` (write through :meth:`load` and :meth:`update`)."""
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
        self._forget_state()
        self._update(sparql)

    def _update(self, sparql: str) -> None:
        self._write(lambda: self._store.update(sparql))

    def _graph_names(self) -> set[str]:
        return {g.value for g in self._store.named_graphs() if isinstance(g, ox.NamedNode)}

    # -- the state cache ------------------------------------------------------------------------
    def _forget_state(self) -> None:
        """Before a write: the cache no longer describes the store until the load rewrites it."""
        self._state_cache = None
        if self.read_only:
            return
        try:
            (self.path / STATE_FILE).unlink(missing_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot write the store {self.path}: {exc}") from None

    def _state(self) -> _State:
        if self._state_cache is None:
            self._state_cache = self._read_state()
        return self._state_cache

    def _read_state(self) -> _State:
        saved = self._read_state_file()
        if saved is not None and self._state_matches(saved):
            records = saved.records
            saved.graphs = {*(records.iris() if isinstance(records, _Records) else records), META_GRAPH}
            return saved
        return _State(self.records(), {}, None, None)

    def _state_matches(self, saved: _State) -> bool:
        """Whether the metadata graph records as many loading times as the cache, the same
        earliest and latest, and the store holds the cached graphs and the metadata graph.

        Every load and update through this class deletes the cache before it writes; what this
        catches is a store written otherwise (an older onisep-kg loading graphs records them at
        a later time, or removes some)."""
        try:
            [(n, first, last)] = [
                tuple(None if t is None else t.value for t in row)
                for row in self._store.query(_STAMPS_SUMMARY_QUERY)
            ]
            [(graphs,)] = [tuple(t.value for t in row) for row in self._store.query(_GRAPH_COUNT_QUERY)]
        except (OSError, ValueError, RuntimeError):
            return False
        records = saved.records
        stamps = (
            records.stamps() if isinstance(records, _Records) else [r.loaded_at for r in records.values()]
        )
        if not stamps:
            return n == "0" and graphs == "0"
        return (
            n == str(len(stamps))
            and first == min(stamps)  # type: ignore[type-var]
            and last == max(stamps)  # type: ignore[type-var]
            and graphs == str(len(stamps) + 1)
        )

    def _read_state_file(self) -> _State | None:
        try:
            doc = json.loads((self.path / STATE_FILE).read_bytes())
            if not isinstance(doc, dict) or doc.get("version") != _STATE_VERSION:
                return None
            n = int(doc["count"])
            iris, digests, whens = (unlines(doc[k], n) for k in ("iris", "digests", "loaded"))
            sources, texts = unlines(doc["sources"], n), unlines(doc["texts"], n)
            if not (
                len(digests) == len(whens) == len(sources) == len(texts) == n == len(set(iris))
                and {str}.issuperset(map(type, iris))
                and {str}.issuperset(map(type, digests))
                and {str}.issuperset(map(type, whens))
                and {str}.issuperset(map(type, sources))
            ):
                return None
            records = _Records(iris, digests, whens, sources)
            known = dict(zip(iris, texts, strict=True))  # (None: no text; get() gives None either way)
            return _State(records, known, int(doc["quads"]), int(doc["triples"]))
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return None

    def _save_state(self, state: _State) -> None:
        if state.quads is None or state.triples is None:
            return
        records = state.records
        if not isinstance(records, _Records):
            ordered = sorted(records.items())
            records = _Records(
                [iri for iri, _r in ordered],
                [r.digest for _i, r in ordered],
                [r.loaded_at or "" for _i, r in ordered],
                [sources_key(r.sources) for _i, r in ordered],
            )
        doc = {
            "version": _STATE_VERSION,
            "about": "onisep-kg load cache: what the metadata graph records, the counts, and the SHA-256 "
            "of the TriG block each graph was read from; safe to delete",
            "quads": state.quads,
            "triples": state.triples,
            **records.columns(state.texts),
        }
        target = self.path / STATE_FILE
        tmp = target.with_name(STATE_FILE + ".tmp")
        try:
            tmp.write_bytes(json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
            os.replace(tmp, target)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink()  # no cache: the next load reads the store instead

    def known_records(self) -> dict[str, GraphRecord]:
        """:meth:`records`, from the state cache when it is valid (after a load, always): what
        the last load recorded of each graph, without reading the metadata graph."""
        return dict(self._state().records)

    def _known_texts(self) -> dict[str, tuple[str, GraphRecord]]:
        """Per graph read from a TriG block: that block's SHA-256 and the graph's record."""
        state = self._state()
        records = state.records
        return {g: (text, records[g]) for g, text in state.texts.items() if text is not None and g in records}

    # -- loading --------------------------------------------------------------------------------
    def load(
        self, graphs: Iterable[GraphInput], *, remove_missing: bool = True, now: str | None = None
    ) -> LoadReport:
        with gc_paused():
            return self._load(graphs, remove_missing=remove_missing, now=now)

    def load_known(
        self,
        graphs: Iterable[tuple[str, str, str]],
        make: Callable[[str], GraphInput],
        *,
        remove_missing: bool = True,
        now: str | None = None,
    ) -> LoadReport:
        """:meth:`load` of graphs whose digest and sources the caller knows (an incremental ingest
        keeps them): each given as ``(iri, digest, sources)``, the sources as :func:`sources_key`
        writes them. A graph the store holds with that
        digest and those sources is skipped with no object made for it; ``make(iri)`` gives the
        :class:`GraphInput` of every other (whose data is read only if it must be written)."""
        with gc_paused():
            state = self._state()
            records = state.records
            present = state.graphs if state.graphs is not None else self._graph_names()
            unchanged: list[str] = []
            others: list[GraphInput] = []
            if isinstance(records, _Records):
                matches = records.fast_matches()
            else:
                matches = lambda iri, digest, key: _record_matches(records.get(iri), digest, key)  # noqa: E731
            for iri, digest, sources in graphs:
                if iri in present and matches(iri, digest, sources):
                    unchanged.append(iri)
                else:
                    others.append(make(iri))
            return self._load(others, remove_missing=remove_missing, now=now, unchanged=unchanged)

    def _load(
        self,
        graphs: Iterable[GraphInput],
        *,
        remove_missing: bool,
        now: str | None,
        unchanged: Sequence[str] = (),
    ) -> LoadReport:
        started = time.perf_counter()
        when = _canonical_datetime(now or _now())
        report = LoadReport()
        self._writing = False
        state = self._state()
        known = state.records
        present = state.graphs if state.graphs is not None else self._graph_names()
        had_merge = self.has_merge()
        empty = not known and not present and not had_merge
        quads, triples = (0, 0) if empty else (state.quads, state.triples)
        if known and not had_merge:
            self._begin_writes()
            self._update(
                f"INSERT {{ ?s ?p ?o }} WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(?g != <{META_GRAPH}>) }}"
            )
            report.merge_rebuilt = True
            triples = None
        elif not known and not empty:
            # Graphs or a merge but no record: a first load that died before its records (bulk
            # loads are not atomic, and the merge is bulk-loaded beside the graphs) may have
            # written graphs and not their triples in the merge, or the other way round. The merge
            # is made again from the graphs there are (which are then replaced or removed whole).
            self._begin_writes()
            self._update(
                "CLEAR DEFAULT ; "
                f"INSERT {{ ?s ?p ?o }} WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(?g != <{META_GRAPH}>) }}"
            )
            report.merge_rebuilt = True
            triples = None
        records = known.copy()
        texts = dict(state.texts)
        cache_changed = False
        seen: set[str] = set()
        new: list[GraphInput] = []
        seen.update(unchanged)  # known unchanged by the caller (load_known)
        report.skipped.extend(unchanged)
        for graph in graphs:
            iri = graph.iri
            if iri in seen:
                raise StoreError(f"the graph {iri} is given twice; expected one per source file")
            seen.add(iri)
            record = known.get(iri)
            if (
                record is not None
                and graph.digest == record.digest
                and iri in present
                and graph.sources == record.sources
            ):  # known unchanged: neither its data nor its IRI and sources need a look
                report.skipped.append(iri)
                if isinstance(graph, _FileGraph) and graph.text is not None and texts.get(iri) != graph.text:
                    texts[iri] = graph.text
                    cache_changed = True
                continue
            _check_graph_iri(iri)
            sources = graph.sources
            for s in sources:
                if not _SHA256_HEX.fullmatch(s.sha256):
                    raise StoreError(f"{s.file_name}: not a SHA-256 digest: {s.sha256!r}")
            text = graph.text if isinstance(graph, _FileGraph) else None
            record = known.get(iri)
            exists = iri in present
            if record is None and not exists:  # new: written after the others, in bulk
                new.append(graph)
                report.loaded.append(iri)
                continue
            prepared = None
            if record is not None and exists:
                digest = graph.digest
                if digest is None:
                    prepared = _prepare(graph)
                    digest = prepared.digest
                if (record.digest, record.sources) == (digest, sources):
                    report.skipped.append(iri)
                    if text is not None and texts.get(iri) != text:
                        texts[iri] = text
                        cache_changed = True
                    continue
            if prepared is None:
                prepared = _prepare(graph)
            self._begin_writes()
            dq, dt = self._put_graph(prepared, when, exists=exists, recorded=record is not None)
            quads = None if quads is None else quads + dq
            triples = None if triples is None or dt is None else triples + dt
            records[iri] = GraphRecord(iri, prepared.digest, prepared.sources, when)
            _set_text(texts, iri, text)
            report.replaced.append(iri)
            report.quads_written += len(prepared.lines)
        if new:
            self._begin_writes()
            added, dq, dt = self._add_new_graphs(new, when, empty=empty)
            quads = None if quads is None else quads + dq
            triples = None if triples is None or dt is None else triples + dt
            for graph, prepared_record, count in added:
                records[graph.iri] = prepared_record
                _set_text(texts, graph.iri, graph.text if isinstance(graph, _FileGraph) else None)
                report.quads_written += count
        if remove_missing:
            # Recorded graphs, and graphs in our graph namespace that no record describes (left
            # by an interrupted load), that the input no longer has. (When the store's graphs
            # were known from the records, there is none of the latter.)
            recorded = set(known.iris()) if isinstance(known, _Records) else set(known)
            if state.graphs is None:
                recorded |= {g for g in present if g.startswith(GRAPH_NAMESPACE) and g != META_GRAPH}
            report.removed = sorted(recorded - seen)
            for iri in report.removed:
                self._begin_writes()
                dq, dt = self._drop_graph(iri, exists=iri in present, recorded=iri in known)
                quads = None if quads is None else quads + dq
                triples = None if triples is None or dt is None else triples + dt
                records.pop(iri, None)
                texts.pop(iri, None)
        report.quads = self.quad_count() if quads is None else quads
        report.triples = self.triple_count() if triples is None else triples
        after = _State(records, texts, report.quads, report.triples)
        if self._writing or cache_changed or state.quads is None or state.triples is None:
            self._save_state(after)
        self._state_cache = after
        self._writing = False
        report.seconds = time.perf_counter() - started
        return report

    def _begin_writes(self) -> None:
        if not self._writing:
            self._forget_state()
            self._writing = True

    def _graph_lines(self, name: ox.NamedNode) -> dict[str, ox.Quad]:
        """The graph's quads in the store, by N-Triples line of their triple."""
        cut = len(name.value) + 3  # " <iri>" after the triple
        return {str(q)[:-cut]: q for q in self._store.quads_for_pattern(None, None, None, name)}

    def _stated_elsewhere(self, t: ox.Quad | ox.Triple, name: ox.NamedNode) -> bool:
        """Whether a data graph other than ``name`` states the triple (so it stays in the merge)."""
        for q in self._store.quads_for_pattern(t.subject, t.predicate, t.object, None):
            g = q.graph_name
            if isinstance(g, (ox.NamedNode, ox.BlankNode)) and g != name and g.value != META_GRAPH:
                return True
        return False

    def _in_merge(self, t: ox.Quad | ox.Triple) -> bool:
        found = self._store.quads_for_pattern(t.subject, t.predicate, t.object, ox.DefaultGraph())
        return next(iter(found), None) is not None

    def _meta_delete(self, g: str) -> str:
        return (
            f"DELETE {{ GRAPH <{META_GRAPH}> {{ ?src ?sp ?so }} }} WHERE {{ GRAPH <{META_GRAPH}> {{ "
            f"<{g}> <{PROV_DERIVED_FROM}> ?src . ?src ?sp ?so . "
            f"FILTER NOT EXISTS {{ ?other <{PROV_DERIVED_FROM}> ?src FILTER(?other != <{g}>) }} }} }} ;\n"
            f"DELETE WHERE {{ GRAPH <{META_GRAPH}> {{ <{g}> ?p ?o }} }}"
        )

    def _put_graph(
        self, graph: _Prepared, when: str, *, exists: bool, recorded: bool
    ) -> tuple[int, int | None]:
        """Write one graph and its record in one transaction; the merge follows.

        Returns the change in :meth:`quad_count` and in :meth:`triple_count` (None when not
        known: graphs with blank nodes go through the store's own SPARQL, which does not say).
        """
        name = ox.NamedNode(graph.iri)
        g = f"<{graph.iri}>"
        old = self._graph_lines(name) if exists else {}
        new = set(graph.lines)
        dq = len(new) - (len(old) if recorded else 0)
        meta = f"GRAPH <{META_GRAPH}> {{\n{_ntriples(_meta_lines(graph, when))}}}"
        if _has_blank(old) or _has_blank(new):
            # Blank nodes cannot be named in DELETE DATA: let SPARQL find the graph's triples.
            self._update(
                f"{_unmerge(graph.iri)} ;\nDROP SILENT GRAPH {g} ;\n{self._meta_delete(graph.iri)} ;\n"
                f"INSERT DATA {{ GRAPH {g} {{\n{_ntriples(graph.lines)}}}\n{meta} }} ;\n"
                f"ADD SILENT {g} TO DEFAULT"
            )
            return dq, None
        gone = [line for line in old if line not in new]
        added = [line for line in graph.lines if line not in old]
        # What leaves the merge: triples gone from this graph that no other data graph states;
        # what enters it: added triples it does not hold yet.
        leaving = [line for line in gone if not self._stated_elsewhere(old[line], name)]
        terms = ox.parse(_ntriples(added).encode("utf-8"), format=ox.RdfFormat.N_TRIPLES) if added else []
        entering = [line for line, q in zip(added, terms, strict=True) if not self._in_merge(q)]
        steps = []
        if gone:
            steps.append(f"DELETE DATA {{ GRAPH {g} {{\n{_ntriples(gone)}}}\n{_ntriples(leaving)}}}")
        steps.append(self._meta_delete(graph.iri))
        if not new:
            steps.append(f"DROP SILENT GRAPH {g}")
        steps.append(f"INSERT DATA {{ GRAPH {g} {{\n{_ntriples(added)}}}\n{_ntriples(entering)}{meta} }}")
        self._update(" ;\n".join(steps))  # one transaction: graph, merge and record
        return dq, len(entering) - len(leaving)

    def _drop_graph(self, iri: str, *, exists: bool, recorded: bool) -> tuple[int, int | None]:
        """Remove one graph, its record and the triples only it stated from the merge."""
        name = ox.NamedNode(iri)
        g = f"<{iri}>"
        old = self._graph_lines(name) if exists else {}
        dq = -len(old) if recorded else 0
        if _has_blank(old):
            self._update(f"{_unmerge(iri)} ;\n{self._meta_delete(iri)} ;\nDROP SILENT GRAPH {g}")
            return dq, None
        leaving = [line for line, q in old.items() if not self._stated_elsewhere(q, name)]
        steps = [f"DELETE DATA {{\n{_ntriples(leaving)}}}"] if leaving else []
        steps += [self._meta_delete(iri), f"DROP SILENT GRAPH {g}"]
        self._update(" ;\n".join(steps))
        return dq, -len(leaving)

    def _add_new_graphs(
        self, graphs: Sequence[GraphInput], when: str, *, empty: bool
    ) -> tuple[list[tuple[GraphInput, GraphRecord, int]], int, int | None]:
        """Write graphs the store does not hold; returns them with their records and sizes, and
        the changes in :meth:`quad_count` and :meth:`triple_count` (None when not known)."""
        added: list[tuple[GraphInput, GraphRecord, int]] = []
        if len(graphs) < SMALL_NEW:  # a few: one transaction each, as a replacement
            dq, dt = 0, 0
            for graph in graphs:
                prepared = _prepare(graph)
                q, t = self._put_graph(prepared, when, exists=False, recorded=False)
                dq += q
                dt = None if dt is None or t is None else dt + t
                added.append((graph, GraphRecord(graph.iri, prepared.digest, prepared.sources, when), q))
            return added, dq, dt
        prepared = [_prepare(graph) for graph in graphs]
        merged = self._bulk_write(prepared, when)
        for graph, p in zip(graphs, prepared, strict=True):
            added.append((graph, GraphRecord(graph.iri, p.digest, p.sources, when), len(p.lines)))
        # Into an empty store the merge is exactly the distinct triples written; otherwise some
        # of them were there already, and the default graph is counted afterwards.
        return added, sum(len(p.lines) for p in prepared), merged if empty else None

    def _bulk_write(self, graphs: Sequence[_Prepared], when: str) -> int:
        """Write new graphs with the bulk loader, twice as fast as a transaction but not atomic.

        The data goes first: the named graphs (as N-Quads) and, at the same time, the merge
        (each distinct triple once, as N-Triples); the records after, in one transaction. A load
        interrupted in between leaves graphs without a record, which the next load replaces (or
        removes) whole. Returns the number of distinct triples written to the default graph.
        """
        merged: set[str] = set()
        for p in graphs:
            merged.update(p.lines)
        merge_text = (" .\n".join(merged) + " .\n").encode("utf-8") if merged else b""
        failed: list[BaseException] = []

        def run(action: Callable[[], None]) -> threading.Thread:
            def target() -> None:
                try:
                    action()
                except BaseException as exc:  # re-raised by the loading thread below
                    failed.append(exc)

            thread = threading.Thread(target=target, name="onisep-kg-bulk-load")
            thread.start()
            return thread

        quads = _Chunks(_nquads_chunks(graphs))
        threads = [
            run(lambda: self._store.bulk_load(merge_text, format=ox.RdfFormat.N_TRIPLES, to_graph=_DEFAULT)),
            run(lambda: self._store.bulk_load(quads, format=ox.RdfFormat.N_QUADS)),
        ]
        for thread in threads:
            thread.join()
        if failed:
            self._write(lambda: _raise(failed[0]))
        meta = _ntriples(line for p in graphs for line in _meta_lines(p, when)).encode("utf-8")
        self._write(
            lambda: self._store.load(meta, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(META_GRAPH))
        )
        return len(merged)

    def is_empty(self) -> bool:
        """Whether the store holds no graph and no merge (a fresh load needs that)."""
        return not any(True for _g in self._store.named_graphs()) and not self.has_merge()

    def load_dataset(
        self,
        path: Path,
        *,
        remove_missing: bool = True,
        now: str | None = None,
        on_read: Callable[[int], None] | None = None,
    ) -> LoadReport:
        """Load a TriG or N-Quads file (see :func:`read_dataset`): ``load(read_dataset(path))``.

        Into an empty store, the file's named graphs are bulk-loaded straight from the file
        while their digests, sources and merge are computed, which is faster. ``on_read`` is
        called with the number of graphs once the file is read.
        """
        with gc_paused():
            if self.is_empty():
                report = self._load_fresh(path, now=now, on_read=on_read)
                if report is not None:
                    return report
            graphs = read_dataset(path, store=self)
            if on_read is not None:
                on_read(len(graphs))
            return self.load(graphs, remove_missing=remove_missing, now=now)

    def _load_fresh(
        self, path: Path, *, now: str | None, on_read: Callable[[int], None] | None
    ) -> LoadReport | None:
        """A dataset file into an empty store (see :class:`FreshLoad`). None when the graphs hold
        blank nodes: the caller loads the usual way."""
        fresh = self.fresh_load(path, now=now)
        fresh.feed(_read_bytes(path))
        return fresh.finish(on_read=on_read)

    def fresh_load(self, path: Path, *, now: str | None = None) -> FreshLoad:
        """Start filling this store, which must be empty, from the parts of the dataset file
        ``path`` (named in messages and in the records' reading) as they are written."""
        if not self.is_empty():
            raise StoreError(f"{self.description} is not empty: a fresh load needs an empty store")
        return FreshLoad(self, path, now)

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

    # the base class's write steps, unused here: load() above writes directly
    def _add_new(self, graphs: Sequence[_Prepared], when: str) -> None:
        for graph in graphs:
            self._put_graph(graph, when, exists=False, recorded=False)

    def _replace(self, graph: _Prepared, when: str) -> None:
        self._put_graph(graph, when, exists=True, recorded=True)

    def _remove(self, iris: Sequence[str]) -> None:
        for iri in iris:
            self._drop_graph(iri, exists=True, recorded=True)


def _raise(exc: BaseException) -> None:
    raise exc


_DEFAULT = ox.DefaultGraph()


def _nquads_chunks(graphs: Sequence[_Prepared], size: int = 1 << 22) -> Iterator[bytes]:
    """The graphs as N-Quads, in pieces of about ``size`` bytes."""
    parts: list[str] = []
    length = 0
    for graph in graphs:
        if not graph.lines:
            continue
        end = f" <{graph.iri}> .\n"
        text = end.join(graph.lines) + end
        parts.append(text)
        length += len(text)
        if length >= size:
            yield "".join(parts).encode("utf-8")
            parts, length = [], 0
    if parts:
        yield "".join(parts).encode("utf-8")


class _Chunks(io.RawIOBase):
    """A binary file reading the pieces an iterator gives (for the bulk loader)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        super().__init__()
        self._chunks = chunks
        self._chunk = memoryview(b"")
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while self._pos >= len(self._chunk):
            try:
                self._chunk = memoryview(next(self._chunks))
            except StopIteration:
                return 0
            self._pos = 0
        n = min(len(buffer), len(self._chunk) - self._pos)
        buffer[:n] = self._chunk[self._pos : self._pos + n]
        self._pos += n
        return n


def _set_text(texts: dict[str, str], iri: str, text: str | None) -> None:
    if text is None:
        texts.pop(iri, None)
    else:
        texts[iri] = text


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
        except http.client.HTTPException as exc:
            # not HTTP (a bad status line, a cut answer): its text is the server's bytes, which
            # may echo anything we sent; the kind of failure is enough
            raise RemoteStoreError(
                f"{method} {shown}: the answer is not HTTP ({type(exc).__name__})"
            ) from None

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
        except SyntaxError as exc:  # (the parser may quote the answer, which may echo our credentials)
            message = f"{self.endpoint.query_url}: unreadable {media} answer: {exc}"
            raise RemoteStoreError(self.redact(message)) from None
        raise RemoteStoreError(
            self.redact(f"{self.endpoint.query_url}: unexpected answer type {media or 'none'}")
        )

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
def read_dataset(path: Path, *, store: Store | None = None) -> list[GraphInput]:
    """The named graphs of a TriG or N-Quads file, each with the source files its PROV-O names.

    A graph's sources are the ``<graph> prov:wasDerivedFrom ?src`` nodes of the graph itself,
    with their ``okg:fileName`` and ``okg:sha256``. A graph that names none, or triples outside
    any named graph, make the file unusable: the store could not tell when to skip them.

    Each graph comes with its :func:`graph_digest`. Given the embedded ``store`` it will be
    loaded into, a TriG file written as ``ingest`` writes it (prefix lines, then one
    ``graph {`` … ``}`` block per graph) is cut into blocks first: a block identical to the one
    that graph was last loaded from (same bytes, same prefixes) is not parsed at all; it comes
    with the recorded digest and sources, and its triples are read only if it must be written.
    """
    with gc_paused():
        return _read_dataset(path, store)


def _read_dataset(path: Path, store: Store | None) -> list[GraphInput]:
    fmt = _dataset_format(path)
    data = _read_bytes(path)
    split = _split_trig(data) if fmt == ox.RdfFormat.TRIG and isinstance(store, EmbeddedStore) else None
    if split is None:
        parsed, _order = _parse_dataset(data, fmt, path)
        return _file_graphs(path, parsed, {})
    known = store._known_texts() if isinstance(store, EmbeddedStore) else {}
    header, blocks = split
    texts = _block_texts(data, header, blocks)
    graphs: dict[str, GraphInput] = {}
    missing: list[tuple[str, int, int]] = []
    for iri, start, end in blocks:
        entry = known.get(iri)
        if entry is not None and entry[0] == texts[iri] and entry[1].sources:
            record = entry[1]
            first, *more = record.sources
            graphs[iri] = _FileGraph(
                iri,
                _block_reader(path, data, header, start, end, iri),
                first.file_name,
                first.sha256,
                more_sources=tuple(more),
                digest=record.digest,
                text=texts[iri],
            )
        else:
            missing.append((iri, start, end))
    if missing:
        parsed_blocks: dict[str, _Parsed] | None = None
        if len(missing) <= max(16, len(blocks) // 8):  # a few changed blocks: parse those alone
            parsed_blocks = {}
            for iri, start, end in missing:
                one = _parse_block(data, header, start, end, iri)
                if one is None:
                    parsed_blocks = None
                    break
                parsed_blocks[iri] = one
        if parsed_blocks is None:  # many, or a block that does not stand alone: the whole file
            parsed_blocks, order = _parse_dataset(data, fmt, path, keep={iri for iri, _s, _e in missing})
            if order != [iri for iri, _s, _e in blocks]:  # not cut as the parser reads it
                parsed, _order = _parse_dataset(data, fmt, path)
                return _file_graphs(path, parsed, {})
        for graph in _file_graphs(path, parsed_blocks, texts):
            graphs[graph.iri] = graph
    return [graphs[iri] for iri in sorted(graphs)]


def _dataset_format(path: Path) -> ox.RdfFormat:
    return ox.RdfFormat.N_QUADS if path.suffix.lower() in (".nq", ".nquads") else ox.RdfFormat.TRIG


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror or exc}") from None


def _block_texts(data: bytes, header: bytes, blocks: Sequence[tuple[str, int, int]]) -> dict[str, str]:
    """Per block, the SHA-256 of the file's prefix lines' SHA-256 followed by the block's bytes."""
    view = memoryview(data)
    head = hashlib.sha256(header).digest()
    texts = {}
    for iri, start, end in blocks:
        h = hashlib.sha256(head)
        h.update(view[start:end])
        texts[iri] = h.hexdigest()
    return texts


def _file_graphs(path: Path, parsed: Mapping[str, _Parsed], texts: Mapping[str, str]) -> list[GraphInput]:
    sources = _sources_of(parsed)
    graphs: list[GraphInput] = []
    for iri in sorted(parsed):
        if not sources.get(iri):
            raise StoreError(
                f"{path}: the graph {iri} has no provenance (<graph> prov:wasDerivedFrom a source file "
                "with okg:fileName and okg:sha256)"
            )
        first, *more = sources[iri]
        graph = parsed[iri]
        graphs.append(
            _FileGraph(
                iri,
                graph,
                first.file_name,
                first.sha256,
                more_sources=tuple(more),
                digest=graph.digest,
                text=texts.get(iri),
            )
        )
    return graphs


def _parse_dataset(
    data: bytes, fmt: ox.RdfFormat, path: Path, *, keep: set[str] | None = None
) -> tuple[dict[str, _Parsed], list[str]]:
    """The named graphs of a dataset (those in ``keep``, by default all), and the order in
    which the file states them (a graph once per run of consecutive quads)."""
    graphs: dict[str, list[str]] = {}
    order: list[str] = []
    current: Any = None
    lines: list[str] = []
    cut = 0
    wanted = True
    try:
        for quad in ox.parse(data, format=fmt):
            name = quad.graph_name
            if name != current:
                if not isinstance(name, ox.NamedNode):
                    raise StoreError(
                        f"{path}: triples outside a named graph; expected one named graph per source"
                    )
                current = name
                iri = name.value
                order.append(iri)
                cut = len(iri) + 3  # str(quad) is the triple's line, then " <graph>"
                wanted = keep is None or iri in keep
                if wanted:
                    lines = graphs.setdefault(iri, [])
            if wanted:
                lines.append(str(quad)[:-cut])
    except SyntaxError as exc:
        raise StoreError(f"{path}: not readable as {fmt.name}: {exc}") from None
    return {iri: _Parsed(lines) for iri, lines in graphs.items()}, order


def _parse_block(data: bytes, header: bytes, start: int, end: int, iri: str) -> _Parsed | None:
    """One block of a TriG file alone (with the file's prefix lines), if it holds exactly the
    graph ``iri``; None otherwise (then the whole file is read, and tells what is wrong)."""
    name = ox.NamedNode(iri)
    cut = len(iri) + 3
    lines: list[str] = []
    try:
        for quad in ox.parse(header + data[start:end], format=ox.RdfFormat.TRIG):
            if quad.graph_name != name:
                return None
            lines.append(str(quad)[:-cut])
    except SyntaxError:
        return None
    return _Parsed(lines) if lines else None


def read_trig_block(header: bytes, block: bytes, iri: str, path: Path | str = "") -> GraphInput:
    """One graph block of a TriG file as ``ingest`` writes it (``header``: the file's prefix
    lines), read alone: a :class:`GraphInput` with the graph's digest, its sources (its own
    PROV-O, as :func:`read_dataset` finds them) and its lines as ``data``. ``path`` names the
    file in errors. What an incremental ingest keeps per graph, so that a later load reads
    nothing of the graphs a store holds already (see ``pipeline.build.Manifest.graph_inputs``)."""
    parsed = _parse_block(block, header, 0, len(block), iri)
    if parsed is None:
        raise StoreError(f"{path}: cannot read the graph {iri} in its block")
    sources = _sources_of({iri: parsed}).get(iri)
    if not sources:
        raise StoreError(
            f"{path}: the graph {iri} has no provenance (<graph> prov:wasDerivedFrom a source file "
            "with okg:fileName and okg:sha256)"
        )
    first, *more = sources
    return GraphInput(
        iri, parsed, first.file_name, first.sha256, more_sources=tuple(more), digest=parsed.digest
    )


def _block_reader(
    path: Path, data: bytes, header: bytes, start: int, end: int, iri: str
) -> Callable[[], _Parsed]:
    def read() -> _Parsed:
        parsed = _parse_block(data, header, start, end, iri)
        if parsed is None:
            raise StoreError(f"{path}: cannot read the graph {iri} in its block")
        return parsed

    return read


# A TriG file as ingest writes it: prefix lines, then blocks "label {" … "}" each on lines of
# their own. Without long strings (""" or ''') no token spans lines, so a line that is exactly
# "}" closes a block. Anything else (a base, a GRAPH keyword, default-graph triples, CR line
# ends) and the file is read whole instead.
_HEADER_LINE = re.compile(
    rb"[ \t]*(?:(?:@prefix|PREFIX)[ \t]+(?P<p>[A-Za-z][A-Za-z0-9_.\-]*)?:[ \t]*"
    rb"<(?P<i>[^<>\"{}|^`\\\x00-\x20]*)>[ \t]*\.?[ \t]*|#[^\n]*)?\n"
)
_BLOCK_OPEN = re.compile(rb"([^\s{}]+) \{\n")
_ABSOLUTE_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_LOCAL_NAME = re.compile(r"(?:[^\\\s]|\\[_~.\-!$&'()*+,;=/?#@%])*")
_LOCAL_ESCAPE = re.compile(r"\\(.)")


class FreshLoad:
    """An empty embedded store filled from a dataset file's parts as they are written.

    Each :meth:`feed` (TriG: the prefix lines, then whole graph blocks; N-Quads: whole lines)
    starts bulk loads of the part's quads, two side by side (one bulk load keeps about one core
    busy), then reads the part itself for what the records and the state cache need (each
    graph's lines, digest, sources and block hash) and bulk-loads, into the default graph, the
    triples the merge does not hold yet. :meth:`finish` waits for the loads and writes the
    records in one transaction. A part that cannot be read clears the store (it was empty) and
    :meth:`finish` raises; graphs with blank nodes (two readings name ``[]`` differently) clear
    it too and :meth:`finish` returns None: load them the usual way. Like every bulk load, not
    atomic: an interrupted one leaves graphs without records, which the next load replaces or
    removes whole, and a merge it makes again from the graphs there are (:meth:`EmbeddedStore.load`).
    """

    def __init__(self, store: EmbeddedStore, path: Path, now: str | None) -> None:
        self.store = store
        self.path = path
        self.fmt = _dataset_format(path)
        self.when = _canonical_datetime(now or _now())
        self._started = time.perf_counter()
        self._threads: list[threading.Thread] = []
        self._failed: list[BaseException] = []
        self._parsed: dict[str, _Parsed] = {}
        self._texts: dict[str, str] = {}
        self._merged: set[str] = set()
        self._error: BaseException | None = None
        self._blank = False
        store._begin_writes()

    def _run(self, action: Callable[[], None]) -> None:
        def target() -> None:
            try:
                action()
            except BaseException as exc:  # finish reports it, after what reading the part found
                self._failed.append(exc)

        thread = threading.Thread(target=target, name="onisep-kg-bulk-load")
        thread.start()
        self._threads.append(thread)

    def feed(self, data: bytes) -> None:
        """Load one part of the dataset (its prefix lines, then whole graphs). Raises nothing:
        what goes wrong is raised by :meth:`finish`."""
        if self._error is not None or self._blank:
            return
        if not self._threads:
            self._started = time.perf_counter()  # the report times the loading, not the waiting
        # No local name for the pyoxigraph store: an error's traceback keeps this frame, and the
        # store's files stay locked while anything refers to it.
        fmt = self.fmt
        with gc_paused():
            for part in _dataset_parts(data, fmt):
                self._run(lambda part=part: self.store._store.bulk_load(part, format=fmt))
            try:
                parsed, order = _parse_dataset(data, fmt, self.path)
                again = sorted(parsed.keys() & self._parsed.keys())
                if again:
                    raise StoreError(f"{self.path}: the graph {again[0]} is stated in two parts of the file")
            except BaseException as exc:
                self._error = exc
                return
            if any(_has_blank(graph.distinct) for graph in parsed.values()):
                self._blank = True
                return
            self._parsed.update(parsed)
            split = _split_trig(data) if fmt == ox.RdfFormat.TRIG else None
            if split is not None and order == [iri for iri, _s, _e in split[1]]:
                self._texts.update(_block_texts(data, split[0], split[1]))
            new: set[str] = set()
            for graph in parsed.values():
                new.update(graph.distinct)
            new -= self._merged
            self._merged |= new
            if new:
                text = (" .\n".join(new) + " .\n").encode("utf-8")
                self._run(
                    lambda: self.store._store.bulk_load(
                        text, format=ox.RdfFormat.N_TRIPLES, to_graph=_DEFAULT
                    )
                )

    @property
    def fed(self) -> bool:
        """Whether any part was fed."""
        return bool(self._threads) or self._error is not None or self._blank

    def abort(self) -> None:
        """Give up: wait for the loads, then empty the store again (it was empty)."""
        for thread in self._threads:
            thread.join()
        with contextlib.suppress(OSError):
            self.store._store.clear()

    def finish(self, *, on_read: Callable[[int], None] | None = None) -> LoadReport | None:
        """Wait for the loads and write the records (``on_read`` is called with the number of
        graphs first); the report, or None for graphs with blank nodes (the store is cleared)."""
        store = self.store
        for thread in self._threads:
            thread.join()
        try:
            if self._error is not None:
                raise self._error
            if self._blank:
                store._write(store._store.clear)
                return None
            graphs = _file_graphs(self.path, self._parsed, self._texts)
            for graph in graphs:
                _check_graph_iri(graph.iri)
            if on_read is not None:
                on_read(len(graphs))
            if self._failed:
                store._write(lambda: _raise(self._failed[0]))
            prepared = [
                _Prepared(g.iri, g.sources, self._parsed[g.iri].distinct, self._parsed[g.iri].digest)
                for g in graphs
            ]
            meta = _ntriples(line for p in prepared for line in _meta_lines(p, self.when)).encode("utf-8")
            store._write(
                lambda: store._store.load(
                    meta, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(META_GRAPH)
                )
            )
        except BaseException:
            with contextlib.suppress(OSError):
                store._store.clear()
            raise
        report = LoadReport(loaded=[g.iri for g in graphs])
        report.quads = report.quads_written = sum(len(p.lines) for p in prepared)
        report.triples = len(self._merged)
        records = {p.iri: GraphRecord(p.iri, p.digest, p.sources, self.when) for p in prepared}
        state = _State(
            records,
            {iri: t for iri, t in self._texts.items() if iri in records},
            report.quads,
            report.triples,
        )
        store._save_state(state)
        store._state_cache = state
        store._writing = False
        report.seconds = time.perf_counter() - self._started
        return report


def _dataset_parts(data: bytes, fmt: ox.RdfFormat, parts: int = 2) -> list[bytes]:
    """``data`` cut into ``parts`` documents that together state the same quads, for bulk loads
    side by side: N-Quads at line ends; TriG at the end of a graph block (a line ``}``, which
    only closes a block when no long string can hold a line break), each part after the first
    beginning with the file's prefix lines. The whole of ``data`` when it cannot be cut so."""
    if len(data) < _PART_MIN:
        return [data]
    header = b""
    boundary = b"\n"
    if fmt == ox.RdfFormat.TRIG:
        if b'"""' in data or b"'''" in data or b"\r" in data:
            return [data]
        header = data[: _header_end(data)]
        boundary = b"\n}\n"
    cuts: list[bytes] = []
    start = 0
    for k in range(1, parts):
        end = data.find(boundary, max(start, len(data) * k // parts))
        if end < 0:
            break
        end += len(boundary)
        cuts.append(data[start:end] if start == 0 else header + data[start:end])
        start = end
    if start < len(data):
        cuts.append(data[start:] if start == 0 else header + data[start:])
    return cuts


_PART_MIN = 1 << 20  # a smaller file loads in one piece: a second loader would not pay for itself


def _header_end(data: bytes) -> int:
    """Where a Turtle/TriG document's leading prefix, comment and blank lines end."""
    pos = 0
    while (m := _HEADER_LINE.match(data, pos)) is not None and m.end() > pos:
        pos = m.end()
    return pos


def _split_trig(data: bytes) -> tuple[bytes, list[tuple[str, int, int]]] | None:
    """The prefix lines and, per graph block, its IRI and byte span; None when the file is not
    laid out that way."""
    if b'"""' in data or b"'''" in data or b"\r" in data:
        return None
    prefixes: dict[str, str] = {}
    pos, size = 0, len(data)
    while pos < size:
        m = _HEADER_LINE.match(data, pos)
        if m is None:
            break
        if m.group("i") is not None:
            prefixes[(m.group("p") or b"").decode("ascii")] = m.group("i").decode("utf-8", "replace")
        pos = m.end()
    header = data[:pos]
    blocks: list[tuple[str, int, int]] = []
    seen: set[str] = set()
    while pos < size:
        m = _BLOCK_OPEN.match(data, pos)
        if m is None:
            return None
        iri = _label_iri(m.group(1), prefixes)
        end = data.find(b"\n}\n", m.end() - 1)
        if iri is None or iri in seen or end < 0:
            return None
        end += 3
        blocks.append((iri, pos, end))
        seen.add(iri)
        pos = end
        while pos < size and data[pos] == 0x0A:  # blank lines between blocks
            pos += 1
    return header, blocks


def _label_iri(label: bytes, prefixes: Mapping[str, str]) -> str | None:
    try:
        text = label.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if text.startswith("<"):
        iri = text[1:-1]
        if not text.endswith(">") or not _ABSOLUTE_IRI.match(iri) or _IRI_BAD.search(iri):
            return None
        return iri
    prefix, colon, local = text.partition(":")
    if not colon or prefix not in prefixes:
        return None
    if "\\" in local:  # (the label has no space nor brace: the block regex saw to it)
        if not _LOCAL_NAME.fullmatch(local):
            return None
        local = _LOCAL_ESCAPE.sub(r"\1", local)
    return prefixes[prefix] + local


def _sources_of(graphs: Mapping[str, _Parsed]) -> dict[str, list[SourceFile]]:
    """Per graph, the source files its own PROV-O names: ``<graph> prov:wasDerivedFrom ?src``,
    ``?src okg:fileName ?name ; okg:sha256 ?hash``. The statements are found among the sorted
    lines by their start (subject and predicate); their objects are read all at once."""

    def objects(lines: list[str], subject: str, predicate: str) -> list[str]:
        prefix = f"{subject} <{predicate}> "
        found = []
        i = bisect.bisect_left(lines, prefix)
        while i < len(lines) and lines[i].startswith(prefix):
            found.append(lines[i][len(prefix) :])
            i += 1
        return found

    candidates: dict[str, list[tuple[str | None, str]]] = {}  # per graph: (name, hash) objects
    for iri, graph in graphs.items():
        found = candidates[iri] = []
        for node in objects(graph.distinct, f"<{iri}>", PROV_DERIVED_FROM):
            if node.startswith('"'):
                continue  # a literal names no source node
            hashes = objects(graph.distinct, node, SHA256)
            if hashes:
                names = objects(graph.distinct, node, FILE_NAME)
                found.append((names[-1] if names else None, hashes[-1]))
    terms = sorted({t for found in candidates.values() for pair in found for t in pair if t is not None})
    values: dict[str, str] = {}
    if terms:
        text = "".join(f"<urn:x:{i}> <urn:x:v> {t} .\n" for i, t in enumerate(terms)).encode("utf-8")
        parsed = list(ox.parse(text, format=ox.RdfFormat.N_TRIPLES))
        values = {t: q.object.value for t, q in zip(terms, parsed, strict=True)}
    return {
        iri: sorted(
            {SourceFile(values[name] if name is not None else "", values[h]) for name, h in found},
            key=_src_key,
        )
        for iri, found in candidates.items()
    }


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
    path = dataset_path(out_dir)
    if isinstance(store, EmbeddedStore):
        return store.load_dataset(path, remove_missing=remove_missing)
    return store.load(read_dataset(path), remove_missing=remove_missing)


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
