"""Building blocks shared by every mapper: source maps, an emitter, and the pieces that recur.

A mapper builds one named graph per source file. The :class:`Emitter` adds triples and records,
for each node (and node + predicate), the source line it came from: the :class:`SourceMap` that
lets a SHACL finding name the file and line. The recurring pieces — study levels with their EQF
match, SKOS concepts, ordered text sections, the PROV-O record of a graph — live here once.
"""

from __future__ import annotations

import gc
import os
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import PurePath

from rdflib import DCTERMS, PROV, RDF, RDFS, SDO, SKOS, XSD, Graph, Literal, URIRef
from rdflib.term import Node

from . import __version__
from .levels import LEVELS
from .records import Section
from .vocab import EQF, OKG, Ids

FR = "fr"
Triple = tuple[Node, Node, Node]

_CANONICAL: dict[URIRef, URIRef] = {}


def canonical(iri: URIRef) -> URIRef:
    """One shared instance of a vocabulary IRI, for the mappers and the native SHACL engine alike.

    Terms are looked up in dicts all the time; a dict compares a key found under the same hash by
    identity first and only then calls rdflib's ``__eq__`` (a Python function): with the mappers'
    predicates and classes and the shapes' paths and classes being the same objects, it never
    has to. An IRI that is not canonical still compares equal, only more slowly.
    """
    if type(iri) is not URIRef:
        return iri
    return _CANONICAL.setdefault(iri, iri)


def canonical_terms(*iris: URIRef) -> tuple[URIRef, ...]:
    return tuple(canonical(iri) for iri in iris)


# rdflib namespace attributes cost a __getattr__ call each (~1.5 µs): the terms used per triple
# are read once here, as canonical instances.
_RDF_TYPE, _RDF_VALUE, _RDFS_LABEL = canonical_terms(RDF.type, RDF.value, RDFS.label)
_XSD_INTEGER, _XSD_DATETIME = canonical_terms(XSD.integer, XSD.dateTime)
_SKOS_CONCEPT, _SKOS_PREF, _SKOS_NOTATION = canonical_terms(SKOS.Concept, SKOS.prefLabel, SKOS.notation)
_SKOS_IN_SCHEME, _SKOS_CLOSE = canonical_terms(SKOS.inScheme, SKOS.closeMatch)
_OKG_STUDY_LEVEL, _OKG_SECTION, _OKG_PART = canonical_terms(OKG.StudyLevel, OKG.Section, OKG.SectionPart)
_OKG_HAS_SECTION, _OKG_HAS_PART, _OKG_ORDER = canonical_terms(OKG.hasSection, OKG.hasPart, OKG.order)
_OKG_SOURCE_LINE, _OKG_HEADING, _OKG_HEADING_LEVEL = canonical_terms(
    OKG.sourceLine, OKG.heading, OKG.headingLevel
)
_OKG_SOURCE_FILE, _OKG_FILE_NAME, _OKG_SHA256 = canonical_terms(OKG.SourceFile, OKG.fileName, OKG.sha256)
_DCT_TITLE, _DCT_SUBJECT, _DCT_SOURCE = canonical_terms(DCTERMS.title, DCTERMS.subject, DCTERMS.source)
_SDO_TEXT, _SDO_VERSION = canonical_terms(SDO.text, SDO.softwareVersion)
_PROV_ENTITY, _PROV_ORG, _PROV_AGENT = canonical_terms(PROV.Entity, PROV.Organization, PROV.Agent)
_PROV_SOFTWARE, _PROV_ACTIVITY = canonical_terms(PROV.SoftwareAgent, PROV.Activity)
_PROV_ATTRIBUTED, _PROV_ASSOCIATED = canonical_terms(PROV.wasAttributedTo, PROV.wasAssociatedWith)
_PROV_DERIVED, _PROV_GENERATED_BY, _PROV_AT = canonical_terms(
    PROV.wasDerivedFrom, PROV.wasGeneratedBy, PROV.generatedAtTime
)

_new_str = str.__new__
_LITERAL_SLOTS = ("_language", "_datatype", "_value", "_ill_typed")


def _literal(text: str, language: str | None) -> Literal:
    """What ``Literal(text, lang=language)`` builds for a plain ``str`` and a valid tag (or none):
    rdflib validates the tag, casts the lexical form to itself and stores these four attributes;
    storing them here costs a tenth of that."""
    lit = _new_str(Literal, text)
    lit._language = language
    lit._datatype = None
    lit._value = text
    lit._ill_typed = None
    return lit


def _same_as_rdflib() -> bool:
    """Whether :func:`_literal` builds what this rdflib builds (checked once, at import)."""
    try:
        if tuple(Literal.__slots__) != _LITERAL_SLOTS:
            return False
        for text, language in (("Métier d'art", FR), ("FOR.5337", None), ("", FR), (" x\n", None)):
            ours, theirs = _literal(text, language), Literal(text, lang=language)
            if type(ours) is not type(theirs) or str(ours) != str(theirs) or hash(ours) != hash(theirs):
                return False
            if any(getattr(ours, slot) != getattr(theirs, slot) for slot in _LITERAL_SLOTS):
                return False
            if (ours.language, ours.datatype, ours.value, ours.ill_typed) != (
                theirs.language,
                theirs.datatype,
                theirs.value,
                theirs.ill_typed,
            ):
                return False
    except Exception:  # any surprise: use rdflib's constructor
        return False
    return True


_FAST_LITERALS = _same_as_rdflib()


def fr(text: str) -> Literal:
    """``Literal(text, lang="fr")``, built directly for a plain ``str`` (see :func:`_literal`)."""
    if type(text) is str and _FAST_LITERALS:
        return _literal(text, FR)
    return Literal(text, lang=FR)


def plain(text: str) -> Literal:
    """``Literal(text)``: a simple literal (no language, no datatype), built as :func:`fr` is."""
    if type(text) is str and _FAST_LITERALS:
        return _literal(text, None)
    return Literal(text)


_INTEGERS: dict[int, Literal] = {}


def integer(value: int) -> Literal:
    """``Literal(value, datatype=xsd:integer)``, one instance per value (literals are immutable)."""
    if type(value) is not int:  # a bool is an int that hashes as 0 or 1: never from the cache
        return Literal(value, datatype=_XSD_INTEGER)
    lit = _INTEGERS.get(value)
    if lit is None:
        lit = Literal(value, datatype=_XSD_INTEGER)
        if len(_INTEGERS) < 100_000:
            _INTEGERS[value] = lit
    return lit


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block (it is collected, if need be, after it).

    Reading or mapping a referential allocates millions of objects that all stay alive: each
    full collection the allocations trigger walks every one of them again, which cost about two
    thirds of the time of building and validating the referential graphs. Nothing here creates
    reference cycles to reclaim in the meantime.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def generated_at() -> datetime | None:
    """``SOURCE_DATE_EPOCH`` as a time stamp, or None: graphs never hold the wall-clock time."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    return datetime.fromtimestamp(int(epoch), tz=timezone.utc) if epoch and epoch.isdigit() else None


@dataclass(slots=True)
class SourceMap:
    """Where in the source file each emitted node (and node + predicate) came from."""

    source: str
    default_line: int = 1
    nodes: dict[Node, int] = field(default_factory=dict)
    values: dict[tuple[Node, Node], int] = field(default_factory=dict)

    def line_of(self, node: Node | None, path: Node | None = None) -> int:
        """The line of ``node``'s ``path`` value, else of ``node``, else the default line."""
        if path is not None and (node, path) in self.values:
            return self.values[(node, path)]  # type: ignore[index]
        return self.nodes.get(node, self.default_line) if node is not None else self.default_line


class TripleSet:
    """The triples of one graph: a set, indexed subject → predicate → objects, in insertion order.

    What the mappers emit into. Adding a triple is a few dict operations, where rdflib's
    ``Graph.add`` (context bookkeeping, events, three indexes) costs ~25 µs: on the whole corpus
    (about two million triples emitted) that was the largest cost of a run after validation. The
    index has the shape of rdflib's ``Memory`` subject index, which the native SHACL engine reads.
    """

    __slots__ = ("spo", "_size")

    def __init__(self, triples: Iterable[Triple] = ()) -> None:
        self.spo: dict[Node, dict[Node, dict[Node, None]]] = {}
        self._size = 0
        for triple in triples:
            self.add(triple)

    def add(self, triple: Triple) -> None:
        s, p, o = triple
        by_p = self.spo.get(s)
        if by_p is None:
            by_p = self.spo[s] = {}
        objects = by_p.get(p)
        if objects is None:
            objects = by_p[p] = {}
        if o not in objects:
            objects[o] = None
            self._size += 1

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Triple]:
        for s, by_p in self.spo.items():
            for p, objects in by_p.items():
                for o in objects:
                    yield s, p, o

    def __contains__(self, triple: object) -> bool:
        s, p, o = triple  # type: ignore[misc]
        return o in self.spo.get(s, {}).get(p, {})

    def to_graph(self) -> Graph:
        """An rdflib graph of the same triples."""
        graph = Graph()
        graph.addN((s, p, o, graph) for s, p, o in self)
        return graph


@dataclass(slots=True)
class FicheGraph:
    """The graph of one source file, the IRI of its named graph, its main subject, its source map.

    ``data`` holds the triples (a :class:`TripleSet` from the mappers, or an rdflib graph);
    ``graph`` gives them as an rdflib graph, built once on first use.
    """

    graph_iri: URIRef
    subject: URIRef
    data: TripleSet | Graph
    source_map: SourceMap
    _graph: Graph | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def graph(self) -> Graph:
        if isinstance(self.data, Graph):
            return self.data
        if self._graph is None:
            self._graph = self.data.to_graph()
        return self._graph


@dataclass(frozen=True, slots=True)
class Publisher:
    """The organisation a source file comes from (PROV-O attribution)."""

    key: str
    name: str


ONISEP = Publisher("onisep", "ONISEP")
FRANCE_TRAVAIL = Publisher("france-travail", "France Travail")
EUROPEAN_COMMISSION = Publisher("european-commission", "European Commission (ESCO)")


class _Shared:
    """Terms every graph of one :class:`Ids` repeats (schemes, study levels, agents), minted once."""

    __slots__ = ("ids", "levels", "level_scheme", "agents", "activity", "tool", "minted")

    def __init__(self, ids: Ids) -> None:
        self.ids = ids
        self.minted: dict[tuple[str, tuple[str, ...]], URIRef] = {}
        self.levels: dict[int, URIRef] = {}
        self.level_scheme = ids.level_scheme()
        self.agents: dict[str, URIRef] = {}
        self.activity = ids.activity(__version__)
        self.tool = self.agent("onisep-kg")

    def level(self, number: int) -> URIRef:
        iri = self.levels.get(number)
        if iri is None:
            iri = self.levels[number] = self.ids.level(number)
        return iri

    def agent(self, name: str) -> URIRef:
        iri = self.agents.get(name)
        if iri is None:
            iri = self.agents[name] = self.ids.agent(name)
        return iri

    def mint(self, kind: str, *args: str) -> URIRef:
        key = (kind, args)
        iri = self.minted.get(key)
        if iri is None:
            iri = self.minted[key] = getattr(self.ids, kind)(*args)
        return iri


_SHARED: weakref.WeakKeyDictionary[Ids, _Shared] = weakref.WeakKeyDictionary()


def _shared(ids: Ids) -> _Shared:
    try:
        shared = _SHARED.get(ids)
        if shared is None:
            shared = _SHARED[ids] = _Shared(ids)
    except TypeError:  # an Ids that cannot be weakly referenced: its terms are minted per graph
        shared = _Shared(ids)
    return shared


class _LevelTerms:
    """The literals and EQF match of one study level (the same in every graph)."""

    __slots__ = ("notation", "label_fr", "label_en", "eqf")

    def __init__(self, number: int) -> None:
        level = LEVELS[number]
        self.notation = Literal(str(number))
        self.label_fr = fr(level.label_fr)
        self.label_en = Literal(level.label_en, lang="en")
        self.eqf = EQF[str(number)]


_LEVEL_TERMS: dict[int, _LevelTerms] = {}
_PROVENANCE_TERMS: dict[str, Literal] = {}


def _level_terms(number: int) -> _LevelTerms:
    terms = _LEVEL_TERMS.get(number)
    if terms is None:
        terms = _LEVEL_TERMS[number] = _LevelTerms(number)
    return terms


def _plain_cached(text: str) -> Literal:
    lit = _PROVENANCE_TERMS.get(text)
    if lit is None:
        lit = _PROVENANCE_TERMS[text] = plain(text)
    return lit


def file_name(source: str) -> str:
    """``PurePath(source).name``, without building a path for the usual ``dir/name`` string."""
    if os.sep == "/" and os.altsep is None:
        name = source.rpartition("/")[2]
        if name and name != ".":
            return name
    return PurePath(source).name


class Emitter:
    """Adds triples to one graph and remembers the line each one came from.

    ``add`` and ``node`` write into the :class:`TripleSet` and :class:`SourceMap` directly (they
    run for every triple of the corpus: a method call less each is a tenth of a mapper's time).
    """

    def __init__(self, ids: Ids, source: str, default_line: int = 1) -> None:
        self.ids = ids
        self.triples = TripleSet()
        self.map = SourceMap(source, default_line)
        self._spo = self.triples.spo
        self._nodes = self.map.nodes
        self._values = self.map.values
        self._shared = _shared(ids)
        self._levels: set[int] = set()  # the study levels already emitted in this graph

    def node(self, s: URIRef, line: int, *types: URIRef) -> URIRef:
        nodes = self._nodes
        if s not in nodes:
            nodes[s] = line
        if types:
            by_p = self._spo.get(s)
            if by_p is None:
                by_p = self._spo[s] = {}
            objects = by_p.get(_RDF_TYPE)
            if objects is None:
                objects = by_p[_RDF_TYPE] = {}
            for t in types:
                if t not in objects:
                    objects[t] = None
                    self.triples._size += 1
        return s

    def add(self, s: URIRef, p: URIRef, o: Node, line: int | None = None) -> None:
        by_p = self._spo.get(s)
        if by_p is None:
            by_p = self._spo[s] = {p: {o: None}}
            self.triples._size += 1
        else:
            objects = by_p.get(p)
            if objects is None:
                by_p[p] = {o: None}
                self.triples._size += 1
            else:  # one lookup (a literal's hash is a Python function): a known object stays put
                n = len(objects)
                objects[o] = None
                if len(objects) != n:
                    self.triples._size += 1
        if line is not None:
            values = self._values
            key = (s, p)
            if key not in values:
                values[key] = line

    def result(self, graph_iri: URIRef, subject: URIRef) -> FicheGraph:
        return FicheGraph(graph_iri, subject, self.triples, self.map)

    def mint(self, kind: str, *args: str) -> URIRef:
        """``ids.<kind>(*args)``, minted once per :class:`Ids` (for IRIs many graphs repeat:
        schemes, ROME codes, concepts). One instance per IRI also makes lookups cheaper."""
        return self._shared.mint(kind, *args)

    # -- recurring pieces ----------------------------------------------------------------------
    def level(self, number: int, line: int) -> URIRef:
        """The study level ``niveau/<number>`` with its labels and its EQF close match."""
        shared = self._shared
        n = shared.level(number)
        if number in self._levels:  # its triples are in the graph already: only the node's line
            if n not in self._nodes:
                self._nodes[n] = line
            return n
        self._levels.add(number)
        terms = _level_terms(number)
        self.node(n, line, _OKG_STUDY_LEVEL, _SKOS_CONCEPT)
        add = self.add
        add(n, _SKOS_NOTATION, terms.notation)
        add(n, _SKOS_PREF, terms.label_fr)
        add(n, _SKOS_PREF, terms.label_en)
        add(n, _SKOS_IN_SCHEME, shared.level_scheme)
        add(n, _SKOS_CLOSE, terms.eqf)
        return n

    def concept(self, iri: URIRef, label: str, line: int, cls: URIRef, scheme: URIRef) -> URIRef:
        """A SKOS concept of one of our schemes (statut, centre d'intérêt, type de formation…)."""
        c = self.node(iri, line, cls, _SKOS_CONCEPT)
        self.add(c, _SKOS_PREF, fr(label), line)
        self.add(c, _SKOS_IN_SCHEME, scheme)
        return c

    def sections(self, owner: URIRef, key: str, sections: list[Section]) -> None:
        """Sections in order (``section/<key>-<n>``), each with its parts in order."""
        if not sections:
            return
        ids = self.ids
        add, node = self.add, self.node
        exact = type(ids) is Ids  # a subclass may mint these IRIs otherwise: then one by one
        section_iri = _numbered(ids.section(key, 1), lambda n: ids.section(key, n), exact)
        for order, section in enumerate(sections, 1):
            line = section.line
            s = node(section_iri(order), line, _OKG_SECTION)
            add(owner, _OKG_HAS_SECTION, s, line)
            add(s, _OKG_ORDER, integer(order))
            add(s, _DCT_TITLE, fr(section.title), line)
            add(s, _OKG_SOURCE_LINE, integer(line))
            if not section.parts:
                continue
            part_iri = _numbered(ids.part(key, order, 1), lambda n, o=order: ids.part(key, o, n), exact)
            for p_order, part in enumerate(section.parts, 1):
                heading, paragraphs = part.heading, part.paragraphs
                p_line = heading.line if heading is not None else paragraphs[0].line
                p = node(part_iri(p_order), p_line, _OKG_PART)
                add(s, _OKG_HAS_PART, p, p_line)
                add(p, _OKG_ORDER, integer(p_order))
                add(p, _OKG_SOURCE_LINE, integer(p_line))
                if heading is not None:
                    add(p, _OKG_HEADING, fr(heading.text), heading.line)
                    add(p, _OKG_HEADING_LEVEL, integer(part.heading_level or 0))
                if paragraphs:
                    text = paragraphs[0].text if len(paragraphs) == 1 else part.text
                    add(p, _SDO_TEXT, fr(text), paragraphs[0].line)

    def provenance(
        self,
        graph_iri: URIRef,
        subject: URIRef,
        *,
        sha256: str,
        source: str,
        publisher: Publisher = ONISEP,
        when: datetime | None = None,
    ) -> None:
        """PROV-O for a named graph: derived from the source file (by hash), by this version."""
        shared = self._shared
        add, node = self.add, self.node
        src = node(self.ids.source(sha256), 1, _OKG_SOURCE_FILE, _PROV_ENTITY)
        add(src, _OKG_FILE_NAME, plain(file_name(source)))
        add(src, _OKG_SHA256, plain(sha256))
        org = node(shared.agent(publisher.key), 1, _PROV_ORG, _PROV_AGENT)
        add(org, _RDFS_LABEL, _plain_cached(publisher.name))
        add(src, _PROV_ATTRIBUTED, org)
        tool = node(shared.tool, 1, _PROV_SOFTWARE, _PROV_AGENT)
        add(tool, _RDFS_LABEL, _plain_cached("onisep-kg"))
        add(tool, _SDO_VERSION, _plain_cached(__version__))
        activity = node(shared.activity, 1, _PROV_ACTIVITY)
        add(activity, _PROV_ASSOCIATED, tool)
        node(graph_iri, 1, _PROV_ENTITY)
        add(graph_iri, _PROV_DERIVED, src)
        add(graph_iri, _PROV_GENERATED_BY, activity)
        add(graph_iri, _DCT_SUBJECT, subject)
        add(subject, _DCT_SOURCE, src)
        if when is not None:
            add(graph_iri, _PROV_AT, Literal(when, datatype=_XSD_DATETIME))


def _numbered(first: URIRef, mint: Callable[[int], URIRef], exact: bool) -> Callable[[int], URIRef]:
    """The IRIs ``<prefix>-1``, ``<prefix>-2``… of one run of sections or parts, ``first`` being
    the first of them as :class:`Ids` mints it.

    :class:`Ids` appends the number to the prefix (digits are never escaped), so with ``exact``
    (the IRIs come from :class:`Ids` itself) the others are built from the prefix, without
    quoting the path again; otherwise they are minted one by one by ``mint``.
    """
    if not exact or type(first) is not URIRef or not first.endswith("-1"):
        return mint
    prefix = str(first)[:-1]
    return lambda n: first if n == 1 else _new_str(URIRef, prefix + str(n))
