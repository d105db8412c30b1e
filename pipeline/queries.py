"""Named SPARQL queries: find them, read their header, bind parameters safely, run, format.

A named query is a file ``queries/<name>.rq`` whose leading comment block documents it::

    # @title    Formations for a métier
    # @question Which formations prepare for this métier …
    #           (a line indented under a tag continues it)
    # @param    ?metier  literal  The métier's ONISEP identifier, e.g. "MET.799"
    # @example  onisep-kg query formations-for-metier --param metier=MET.799

A ``@param`` line gives the variable, its type and what it means (``e.g.`` starts the example).
Types: ``literal`` (an ``xsd:string``; ``"text"@fr`` given on the command line makes a
language-tagged literal), ``literal@fr`` (always tagged ``fr``), ``iri`` (an absolute IRI, with or
without ``<…>``), ``integer``, ``decimal``, ``boolean``.

Parameters are never pasted into the query text. The embedded store receives them as
pyoxigraph terms through ``Store.query(substitutions=…)`` (SPARQL-dev SEP-0007: the variable is
bound to the term before evaluation). Oxigraph substitutes only variables of the query's
projection (``SELECT ?metier …`` or ``DESCRIBE ?metier``), so every named query projects its
parameters and its answer carries them as columns. For a remote SPARQL endpoint, which knows no
substitution, :func:`with_values` puts the same bindings as a ``VALUES`` block at the start of the
query's top-level ``WHERE`` group, each term written by :func:`sparql_term` with every quote,
backslash and control character escaped; :func:`values_clause` renders the block alone.

Writing a named query for speed: oxigraph orders the joins before it substitutes the parameters,
as if they were unbound, and keeps a FILTER on a parameter (or on a BIND that may fail) for the
end. So a query starts from the parameter through a copy the planner takes as bound,
``BIND(COALESCE(?p, "") AS ?copy)`` (never ``BIND(?p AS ?copy)``, which it drops), and wraps a
BIND computed from a parameter in ``COALESCE(…, "")`` so that the FILTER using it is checked
early; the parameters stay in the top-level group, where a ``VALUES`` block also reaches them.
``bench/queries.py --store DIR`` times every named query on a store.

Where the files live: in a source checkout or an editable install, ``queries/`` at the root of
the repository; in a wheel, ``pipeline/data/queries/`` (the build copies it there), as
:mod:`pipeline.resources` does for the ontology and shapes.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from importlib import resources as _resources
from pathlib import Path
from xml.parsers import expat

import pyoxigraph as ox

from .errors import OnisepKgError

XSD = "http://www.w3.org/2001/XMLSchema#"
_PACKAGED = _resources.files("pipeline") / "data" / "queries"
_CHECKOUT = Path(__file__).resolve().parent.parent / "queries"

Term = ox.NamedNode | ox.Literal
Result = ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples
FORMATS = ("table", "csv", "tsv", "json", "turtle", "ntriples")
PARAM_TYPES = ("literal", "iri", "integer", "decimal", "boolean")

# Prefixes used to shorten IRIs in tables and to write Turtle, besides the query's own PREFIXes.
DEFAULT_PREFIXES: dict[str, str] = {
    "okg": "https://w3id.org/onisep-kg/ontology#",
    "metier": "https://w3id.org/onisep-kg/id/metier/",
    "formation": "https://w3id.org/onisep-kg/id/formation/",
    "rome": "https://w3id.org/onisep-kg/id/rome/",
    "niveau": "https://w3id.org/onisep-kg/id/niveau/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "skosxl": "http://www.w3.org/2008/05/skos-xl#",
    "schema": "https://schema.org/",
    "dcterms": "http://purl.org/dc/terms/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": XSD,
    "esco": "http://data.europa.eu/esco/occupation/",
}


# -- errors ---------------------------------------------------------------------------------------
class QueryError(OnisepKgError):
    """A query cannot run as asked: unknown name, bad parameter, syntax error, unusable store."""


class UnknownQuery(QueryError):
    """No named query has that name."""


class ParameterError(QueryError):
    """A parameter is missing, unknown, or not of its declared type."""


class QuerySyntaxError(QueryError):
    """The SPARQL text does not parse."""


# -- the named queries ----------------------------------------------------------------------------
def queries_dir() -> Path:
    """The folder of the named queries (packaged copy first, then the checkout's ``queries/``)."""
    if _PACKAGED.is_dir():
        return Path(str(_PACKAGED))
    return _CHECKOUT


@dataclass(frozen=True, slots=True)
class Param:
    """A declared parameter: ``?name`` of ``kind`` (``literal``, ``iri``…), optional language."""

    name: str
    kind: str
    description: str = ""
    example: str | None = None
    language: str | None = None

    @property
    def type_label(self) -> str:
        return f"{self.kind}@{self.language}" if self.language else self.kind

    @property
    def example_value(self) -> str | None:
        """The example as one would type it after ``--param name=`` (quotes and <> removed)."""
        if self.example is None:
            return None
        value = self.example.strip().rstrip(".;,")
        if len(value) >= 2 and value[0] == value[-1] == '"' or value[:1] == "<" and value[-1:] == ">":
            value = value[1:-1]
        return value


@dataclass(frozen=True, slots=True)
class NamedQuery:
    """A SPARQL query with its documentation (from its header comment block)."""

    name: str
    text: str
    title: str = ""
    question: str = ""
    params: tuple[Param, ...] = ()
    examples: tuple[str, ...] = ()
    notes: str = ""
    path: Path | None = None
    prefixes: dict[str, str] = field(default_factory=dict)

    @property
    def form(self) -> str:
        """SELECT, CONSTRUCT, DESCRIBE or ASK (the first query-form keyword outside the prologue)."""
        return query_form(self.text)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


_TAG = re.compile(r"^@(?P<tag>[a-z]+)\b\s*(?P<rest>.*)$")
_PARAM = re.compile(
    r"^\?(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s+(?P<kind>[a-z]+)(?:@(?P<lang>[A-Za-z]+(?:-[A-Za-z0-9]+)*))?"
    r"(?:\s+(?P<desc>.*))?$"
)
_EXAMPLE = re.compile(r"(?:,\s*|\(|\s)e\.g\.\s*(?P<example>.+?)\)?\s*$")
_PREFIX_DECL = re.compile(r"PREFIX\s+([A-Za-z][\w.-]*)?:\s*<([^<>\s]*)>", re.IGNORECASE)


def parse_query(text: str, name: str = "query", path: Path | None = None) -> NamedQuery:
    """Read the header comment block of a query (tags ``@title``, ``@question``, ``@param``,
    ``@example``, ``@note``); the query text is kept whole."""
    fields: dict[str, list[str]] = {"title": [], "question": [], "note": []}
    params: list[list[str]] = []
    examples: list[list[str]] = []
    current: list[str] | None = None
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped:
            current = None
            continue
        if not stripped.startswith("#"):
            break  # the header ends at the first line of SPARQL
        body = stripped[1:].strip()
        if not body:
            current = None
            continue
        m = _TAG.match(body)
        if m is None:
            if current is None:
                current = fields["note"]
            current.append(body)
            continue
        tag, rest = m["tag"], m["rest"].strip()
        if tag == "param":
            current = [rest]
            params.append(current)
        elif tag == "example":
            current = [rest]
            examples.append(current)
        elif tag in ("title", "question", "note", "description"):
            current = fields["question" if tag == "description" else tag]
            current.append(rest)
        else:
            raise QueryError(f"{path or name}: unknown header tag @{tag}")
    parsed = tuple(_param(" ".join(p), path or name) for p in params)
    names = [p.name for p in parsed]
    if len(set(names)) != len(names):
        raise QueryError(f"{path or name}: a parameter is declared twice: {', '.join(names)}")
    return NamedQuery(
        name=name,
        text=text,
        title=" ".join(fields["title"]),
        question=" ".join(fields["question"]),
        params=parsed,
        examples=tuple(" ".join(e) for e in examples),
        notes=" ".join(fields["note"]),
        path=path,
        prefixes={p or "": iri for p, iri in _PREFIX_DECL.findall(_strip_comments(text))},
    )


def _param(line: str, where: object) -> Param:
    m = _PARAM.match(line)
    if m is None or m["kind"] not in PARAM_TYPES:
        raise QueryError(
            f"{where}: bad @param line {line!r} (expected '?name TYPE description, e.g. EXAMPLE' "
            f"with TYPE one of {', '.join(PARAM_TYPES)})"
        )
    if m["lang"] and m["kind"] != "literal":
        raise QueryError(f"{where}: only a literal parameter takes a language tag: {line!r}")
    desc = (m["desc"] or "").strip()
    example = None
    e = _EXAMPLE.search(desc)
    if e is not None:
        example = e["example"].strip()
        desc = desc[: e.start()].rstrip(" ,(")
    return Param(m["name"], m["kind"], desc, example, m["lang"])


def list_queries(directory: Path | None = None) -> list[NamedQuery]:
    """Every named query of ``directory`` (default :func:`queries_dir`), sorted by name."""
    folder = directory or queries_dir()
    if not folder.is_dir():
        return []
    return [load_file(path) for path in sorted(folder.glob("*.rq"))]


def load_file(path: Path) -> NamedQuery:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise QueryError(f"cannot read the query file {path}: {e}") from e
    return parse_query(text, path.stem, path)


def load_query(name: str, directory: Path | None = None) -> NamedQuery:
    """The named query ``name`` (``formations-for-metier`` or ``formations-for-metier.rq``)."""
    folder = directory or queries_dir()
    stem = name.removesuffix(".rq")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", stem):
        raise UnknownQuery(f"'{name}' is not a query name (letters, digits, '-', '_' and '.')")
    path = folder / f"{stem}.rq"
    if not path.is_file():
        known = ", ".join(q.name for q in list_queries(folder)) or "none"
        raise UnknownQuery(f"there is no named query '{stem}' (known: {known})")
    return load_file(path)


# -- parameters -----------------------------------------------------------------------------------
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+$")
_LANG_LITERAL = re.compile(r'^"(?P<text>.*)"@(?P<lang>[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)$', re.DOTALL)
_INTEGER = re.compile(r"^[+-]?\d+$")


def iri_term(value: str, name: str = "value") -> ox.NamedNode:
    """An absolute IRI (``<…>`` around it allowed), or :class:`ParameterError`."""
    text = value.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    if not _ABSOLUTE_IRI.match(text):
        raise ParameterError(f"parameter {name}: {value!r} is not an absolute IRI (such as https://…)")
    try:
        return ox.NamedNode(text)
    except ValueError as e:
        raise ParameterError(f"parameter {name}: {value!r} is not a valid IRI ({e})") from e


def make_term(param: Param, value: str) -> Term:
    """The RDF term ``value`` stands for, according to the parameter's declared type."""
    name = param.name
    if param.kind == "iri":
        return iri_term(value, name)
    if param.kind == "integer":
        if not _INTEGER.match(value.strip()):
            raise ParameterError(f"parameter {name}: {value!r} is not an integer")
        return ox.Literal(str(int(value.strip())), datatype=ox.NamedNode(XSD + "integer"))
    if param.kind == "decimal":
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite():
            raise ParameterError(f"parameter {name}: {value!r} is not a decimal number")
        return ox.Literal(format(number, "f"), datatype=ox.NamedNode(XSD + "decimal"))
    if param.kind == "boolean":
        lowered = value.strip().lower()
        if lowered not in ("true", "false", "1", "0"):
            raise ParameterError(f"parameter {name}: {value!r} is not a boolean (true or false)")
        return ox.Literal(
            "true" if lowered in ("true", "1") else "false", datatype=ox.NamedNode(XSD + "boolean")
        )
    # literal
    m = _LANG_LITERAL.match(value)
    if param.language is not None:
        return ox.Literal(m["text"] if m else _unquote(value), language=param.language)
    if m is not None:
        return ox.Literal(m["text"], language=m["lang"])
    return ox.Literal(_unquote(value))


def _unquote(value: str) -> str:
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value


def guess_term(name: str, value: str) -> Term:
    """The term of a parameter no header declares: ``<…>`` an IRI, digits an integer,
    ``"…"@lang`` a tagged literal, anything else a plain literal."""
    text = value.strip()
    if text.startswith("<") and text.endswith(">"):
        return iri_term(text, name)
    if _INTEGER.match(text):
        return make_term(Param(name, "integer"), text)
    return make_term(Param(name, "literal"), value)


def split_assignment(assignment: str) -> tuple[str, str]:
    """``"rome=I1401"`` → ``("rome", "I1401")`` (a leading ``?`` on the name is allowed)."""
    name, sep, value = assignment.partition("=")
    name = name.strip().removeprefix("?").removeprefix("$")
    if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ParameterError(f"--param {assignment!r} is not of the form NAME=VALUE")
    return name, value


def bind(query: NamedQuery, values: Mapping[str, str]) -> dict[str, Term]:
    """Terms for the given string values: every declared parameter must be given, and (when the
    query declares any) no other; an undeclared query takes each value by :func:`guess_term`."""
    declared = {p.name: p for p in query.params}
    if declared:
        unknown = sorted(set(values) - set(declared))
        if unknown:
            raise ParameterError(
                f"query '{query.name}' has no parameter {', '.join(unknown)} "
                f"(its parameters: {', '.join(declared)})"
            )
    missing = [p for p in query.params if p.name not in values]
    if missing:
        p = missing[0]
        example = f", e.g. --param {p.name}={p.example_value}" if p.example_value else ""
        raise ParameterError(
            f"query '{query.name}' needs the parameter {p.name} ({p.type_label}: {p.description}){example}"
        )
    return {
        name: make_term(declared[name], value) if name in declared else guess_term(name, value)
        for name, value in values.items()
    }


# -- SPARQL text helpers (for remote endpoints) ---------------------------------------------------
_ECHAR = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def _escape_string(text: str) -> str:
    out = []
    for ch in text:
        if ch in _ECHAR:
            out.append(_ECHAR[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def sparql_term(term: Term) -> str:
    """The term in SPARQL syntax: ``<iri>``, ``"text"``, ``"texte"@fr``, ``"5"^^<…#integer>``."""
    if isinstance(term, ox.NamedNode):
        iri_term(term.value)  # a NamedNode may hold what no IRIREF token allows
        return f"<{term.value}>"
    if isinstance(term, ox.Literal):
        text = _escape_string(term.value)
        if term.language:
            return f"{text}@{term.language}"
        if term.datatype.value == XSD + "string":
            return text
        return f"{text}^^<{term.datatype.value}>"
    raise ParameterError(f"cannot write {term!r} as a SPARQL term")


def values_clause(bindings: Mapping[str, Term]) -> str:
    """``VALUES (?a ?b) { (<…> "…") }``: one row binding each variable; ``""`` when empty."""
    if not bindings:
        return ""
    names = " ".join(f"?{name}" for name in bindings)
    row = " ".join(sparql_term(term) for term in bindings.values())
    return f"VALUES ({names}) {{ ({row}) }}"


_SKIP = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""'  # long strings
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n]|\\.)*"'  # short strings
    r"|'(?:[^'\\\n]|\\.)*'"
    r"|<[^<>\"{}|^`\\\x00-\x20]*>"  # IRIs
    r"|#[^\n]*",  # comments
    re.DOTALL,
)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _tokens(text: str) -> Iterable[tuple[int, str]]:
    """(offset, token) of the query's keywords and braces, skipping strings, IRIs and comments."""
    i = 0
    while i < len(text):
        m = _SKIP.match(text, i)
        if m is not None and m.end() > i:
            i = m.end()
            continue
        w = _WORD.match(text, i)
        if w is not None:
            if i == 0 or text[i - 1] not in "?$:":
                yield i, w[0].upper()
            i = w.end()
            continue
        if text[i] in "{}":
            yield i, text[i]
        i += 1


def _strip_comments(text: str) -> str:
    return "".join(
        m[0] if not m[0].startswith("#") else "" for m in re.finditer(rf"{_SKIP.pattern}|.", text, re.DOTALL)
    )


def query_form(text: str) -> str:
    for _i, token in _tokens(text):
        if token in ("SELECT", "CONSTRUCT", "DESCRIBE", "ASK"):
            return token
    return "UNKNOWN"


def with_values(text: str, bindings: Mapping[str, Term]) -> str:
    """The query with the bindings as a ``VALUES`` block opening its top-level WHERE group, so a
    server without substitution gives the same answer (filters of that group see the values)."""
    if not bindings:
        return text
    depth, form, seen_where, template_done = 0, None, False, False
    for i, token in _tokens(text):
        if form is None and token in ("SELECT", "CONSTRUCT", "DESCRIBE", "ASK"):
            form = token
        elif token == "WHERE" and depth == 0:
            seen_where = True
        elif token == "{":
            if depth == 0 and form is not None:
                is_template = form == "CONSTRUCT" and not seen_where and not template_done
                if not is_template:
                    return f"{text[: i + 1]} {values_clause(bindings)}{text[i + 1 :]}"
            depth += 1
        elif token == "}":
            depth -= 1
            if depth == 0 and form == "CONSTRUCT":
                template_done = True
    if form == "DESCRIBE" and depth == 0:  # DESCRIBE ?x, with no WHERE clause
        return f"{text.rstrip()}\nWHERE {{ {values_clause(bindings)} }}\n"
    raise QuerySyntaxError("the query has no WHERE group to take the parameter values")


# -- running --------------------------------------------------------------------------------------
def run(
    store: ox.Store,
    query: NamedQuery | str,
    bindings: Mapping[str, Term] | None = None,
) -> Result:
    """Run a query on an embedded store, parameters bound by substitution. The default graph is
    the merge of the source files' graphs (kept by ``onisep-kg load``, built by
    :func:`load_graph_files`), so a store answers like the single graph of ``onisep-kg.ttl``."""
    text = query.text if isinstance(query, NamedQuery) else query
    substitutions = {ox.Variable(name): term for name, term in (bindings or {}).items()}
    try:
        return store.query(text, substitutions=substitutions or None)
    except SyntaxError as e:
        raise QuerySyntaxError(f"the SPARQL query is not valid: {_first_line(e)}") from e
    except RuntimeError as e:
        message = _first_line(e)
        m = re.search(r"variable \?(\w+) in its SELECT projection", message)
        if m is not None:
            raise ParameterError(
                f"the query cannot take the parameter {m[1]}: a parameter must be a variable of the "
                f"query's projection (SELECT ?{m[1]} … or DESCRIBE ?{m[1]})"
            ) from e
        raise QueryError(f"the query failed: {message}") from e
    except OSError as e:
        raise QueryError(f"the store could not be read: {_first_line(e)}") from e


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def open_store(path: Path, *, read_only: bool = True) -> ox.Store:
    """A store on disk, read-only by default (a running writer keeps its lock)."""
    if not (path / "CURRENT").is_file():
        raise QueryError(f"{path} is not a store (run `onisep-kg load` to make one, or pass --graph FILE)")
    try:
        store = ox.Store.read_only(str(path)) if read_only else ox.Store(str(path))
    except OSError as e:
        raise QueryError(f"the store {path} cannot be opened: {_first_line(e)}") from e
    if not store.query("ASK { ?s ?p ?o }") and store.query("ASK { GRAPH ?g { ?s ?p ?o } }"):
        raise QueryError(
            f"the store {path} has named graphs but no merged default graph (it was loaded by an "
            f"earlier onisep-kg): run `onisep-kg load --store {path}` once to build it"
        )
    return store


def load_graph_files(paths: Iterable[Path]) -> ox.Store:
    """An in-memory store holding Turtle / TriG / N-Triples / N-Quads / JSON-LD / RDF-XML files.

    A dataset's named graphs are kept, and their merge is the default graph, as in a loaded store.
    Nothing is ever fetched or expanded: a JSON-LD ``@context`` given by URL is refused (no
    document loader is set), and so is an RDF/XML document that declares a DTD, whose entities
    pyoxigraph would expand (a "billion laughs" document asks for gigabytes).
    """
    store = ox.Store()
    default = ox.DefaultGraph()
    for path in paths:
        suffix = path.suffix.lstrip(".").lower()
        fmt = ox.RdfFormat.from_extension(suffix) if suffix else None
        if fmt is None:
            raise QueryError(f"{path}: unknown RDF format (expected .ttl, .trig, .nt, .nq, .jsonld or .rdf)")
        if fmt == ox.RdfFormat.RDF_XML:
            _refuse_dtd(path)
        try:
            quads = list(ox.parse(path=str(path), format=fmt))
        except (OSError, SyntaxError, ValueError) as e:
            if "LoadDocumentCallback" in str(e):  # pyoxigraph's words for a context it will not load
                raise QueryError(
                    f"{path} cannot be loaded: its JSON-LD @context refers to a remote document"
                    f"{_remote_context(path)}, and a remote @context is never fetched; inline the "
                    'context (write the object itself as the value of "@context") and load it again'
                ) from None
            raise QueryError(f"{path} cannot be loaded: {_first_line(e)}") from e
        store.extend(quads)
        named = (q for q in quads if q.graph_name != default)
        store.extend(ox.Quad(q.subject, q.predicate, q.object, default) for q in named)
    return store


def _remote_context(path: Path) -> str:
    """`` (URL)``: the first URL the JSON-LD file gives as a context (or imports into one)."""

    def find(node: object) -> str | None:
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            if key in ("@context", "@import"):
                for candidate in value if isinstance(value, list) else [value]:
                    if isinstance(candidate, str):
                        return candidate
            found = find(value)
            if found is not None:
                return found
        return None

    try:
        url = find(json.loads(path.read_bytes()))
    except (OSError, ValueError, RecursionError):
        return ""
    return f" ({url})" if url else ""


class _Element(Exception):
    """The root element was reached: the prolog held no DTD."""


def _refuse_dtd(path: Path) -> None:
    """Refuse an RDF/XML file whose prolog declares a DTD (its entities are never expanded).

    expat reads only the prolog (it stops at the root element) and never resolves an external
    entity. A file expat cannot read that far (an encoding it does not know…) is refused if it
    holds a DOCTYPE or ENTITY declaration anywhere; else pyoxigraph reports what is wrong.
    """

    def refuse(line: int) -> QueryError:
        return QueryError(
            f"{path}:{line}: refused: the RDF/XML document declares a DTD (<!DOCTYPE …>); DTDs and "
            "their entities are never processed (an entity can expand to gigabytes, or read a "
            "file): write the document without a DOCTYPE"
        )

    parser = expat.ParserCreate()

    def doctype(*_args: object) -> None:
        raise refuse(parser.CurrentLineNumber)

    def element(*_args: object) -> None:
        raise _Element

    parser.StartDoctypeDeclHandler = doctype
    parser.StartElementHandler = element
    try:
        with path.open("rb") as stream:
            parser.ParseFile(stream)
    except (_Element, OSError):
        return
    except (expat.ExpatError, LookupError, ValueError):
        data = path.read_bytes()
        for mark in ("<!DOCTYPE", "<!ENTITY"):
            for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
                at = data.find(mark.encode(encoding))
                if at >= 0:
                    raise refuse(data.count("\n".encode(encoding), 0, at) + 1) from None


# -- output ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Table:
    """A SELECT answer held in memory: variable names and rows of terms (``None`` = unbound)."""

    variables: tuple[str, ...]
    rows: tuple[tuple[Term | ox.BlankNode | None, ...], ...]

    @classmethod
    def of(cls, solutions: ox.QuerySolutions) -> Table:
        names = tuple(v.value for v in solutions.variables)
        return cls(names, tuple(tuple(s[n] for n in names) for s in solutions))

    def values(self) -> list[tuple[str | None, ...]]:
        """Rows of plain strings (an IRI, a literal's lexical form, ``None`` when unbound)."""
        return [tuple(None if t is None else t.value for t in row) for row in self.rows]


def compact(term: object, prefixes: Mapping[str, str]) -> str:
    """A short display form: ``metier:MET.799`` for an IRI under a prefix, a literal's text."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        best = max(
            ((p, ns) for p, ns in prefixes.items() if ns and term.value.startswith(ns)),
            key=lambda item: len(item[1]),
            default=None,
        )
        if best is not None:
            local = term.value[len(best[1]) :]
            if re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*", local) and not local.endswith("."):
                return f"{best[0]}:{local}"
        return f"<{term.value}>"
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Literal):
        return term.value
    return str(term)


def format_table(table: Table, prefixes: Mapping[str, str], *, max_width: int = 70) -> str:
    """Aligned text columns; a cell longer than ``max_width`` is cut with "…"."""

    def cell(term: object) -> str:
        text = " ".join(compact(term, prefixes).split())
        return text if len(text) <= max_width else text[: max_width - 1] + "…"

    header = list(table.variables)
    body = [[cell(t) for t in row] for row in table.rows]
    widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in body]
    n = len(body)
    lines.append(f"({n} row{'' if n == 1 else 's'})")
    return "\n".join(lines) + "\n"


_RESULT_FORMATS = {
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
    "json": ox.QueryResultsFormat.JSON,
}
_GRAPH_FORMATS = {"turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES}


def default_format(result: Result) -> str:
    return "turtle" if isinstance(result, ox.QueryTriples) else "table"


def render(result: Result, fmt: str, prefixes: Mapping[str, str] | None = None) -> bytes:
    """The answer as bytes: a table, CSV / TSV / SPARQL-results JSON (SELECT, ASK), Turtle or
    N-Triples (CONSTRUCT, DESCRIBE)."""
    names = {**DEFAULT_PREFIXES, **(prefixes or {})}
    if isinstance(result, ox.QueryTriples):
        if fmt not in _GRAPH_FORMATS:
            raise QueryError(
                f"a CONSTRUCT or DESCRIBE query answers a graph, which --format {fmt} cannot show: "
                "use --format turtle or ntriples"
            )
        triples = list(result)
        if fmt == "ntriples":
            return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
        used = {p: ns for p, ns in names.items() if p and any(_mentions(t, ns) for t in triples)}
        return ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=used)
    if fmt in _GRAPH_FORMATS:
        kind = "ASK" if isinstance(result, ox.QueryBoolean) else "SELECT"
        raise QueryError(f"an {kind} query answers rows, not a graph: use --format table, csv, tsv or json")
    if isinstance(result, ox.QueryBoolean):
        if fmt == "table":
            return b"true\n" if bool(result) else b"false\n"
        return result.serialize(format=_RESULT_FORMATS[fmt]) + (b"" if fmt == "json" else b"\n")
    if fmt == "table":
        return format_table(Table.of(result), names).encode("utf-8")
    if fmt not in _RESULT_FORMATS:
        raise QueryError(f"unknown output format {fmt!r} (one of {', '.join(FORMATS)})")
    out = io.BytesIO()
    result.serialize(out, format=_RESULT_FORMATS[fmt])
    data = out.getvalue()
    return data if data.endswith(b"\n") else data + b"\n"


def _mentions(triple: ox.Triple, namespace: str) -> bool:
    return any(
        isinstance(t, ox.NamedNode) and t.value.startswith(namespace)
        for t in (triple.subject, triple.predicate, triple.object)
    ) or (isinstance(triple.object, ox.Literal) and triple.object.datatype.value.startswith(namespace))


def describe(query: NamedQuery) -> str:
    """The ``--list`` entry of a query: name, title, parameters, question."""
    lines = [f"{query.name}  ({query.form})", f"  {query.title}" if query.title else ""]
    if query.question:
        lines.append(f"  {query.question}")
    for p in query.params:
        example = f" (e.g. {p.example})" if p.example else ""
        lines.append(f"  --param {p.name}=…  {p.type_label}: {p.description}{example}")
    if not query.params:
        lines.append("  no parameter")
    if query.examples:
        lines.append(f"  example: {query.examples[0]}")
    return "\n".join(line for line in lines if line) + "\n"
