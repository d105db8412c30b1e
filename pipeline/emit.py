"""Building blocks shared by every mapper: source maps, an emitter, and the pieces that recur.

A mapper builds one named graph per source file. The :class:`Emitter` adds triples and records,
for each node (and node + predicate), the source line it came from: the :class:`SourceMap` that
lets a SHACL finding name the file and line. The recurring pieces — study levels with their EQF
match, SKOS concepts, ordered text sections, the PROV-O record of a graph — live here once.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
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
_RDF_TYPE = RDF.type  # rdflib namespace attributes cost a __getattr__ call each
Triple = tuple[Node, Node, Node]


def fr(text: str) -> Literal:
    return Literal(text, lang=FR)


def integer(value: int) -> Literal:
    return Literal(value, datatype=XSD.integer)


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


class Emitter:
    """Adds triples to one graph and remembers the line each one came from."""

    def __init__(self, ids: Ids, source: str, default_line: int = 1) -> None:
        self.ids = ids
        self.triples = TripleSet()
        self.map = SourceMap(source, default_line)

    def node(self, s: URIRef, line: int, *types: URIRef) -> URIRef:
        self.map.nodes.setdefault(s, line)
        for t in types:
            self.triples.add((s, _RDF_TYPE, t))
        return s

    def add(self, s: URIRef, p: URIRef, o: Node, line: int | None = None) -> None:
        self.triples.add((s, p, o))
        if line is not None:
            self.map.values.setdefault((s, p), line)

    def result(self, graph_iri: URIRef, subject: URIRef) -> FicheGraph:
        return FicheGraph(graph_iri, subject, self.triples, self.map)

    # -- recurring pieces ----------------------------------------------------------------------
    def level(self, number: int, line: int) -> URIRef:
        """The study level ``niveau/<number>`` with its labels and its EQF close match."""
        level = LEVELS[number]
        n = self.node(self.ids.level(number), line, OKG.StudyLevel, SKOS.Concept)
        self.add(n, SKOS.notation, Literal(str(number)))
        self.add(n, SKOS.prefLabel, fr(level.label_fr))
        self.add(n, SKOS.prefLabel, Literal(level.label_en, lang="en"))
        self.add(n, SKOS.inScheme, self.ids.level_scheme())
        self.add(n, SKOS.closeMatch, EQF[str(number)])
        return n

    def concept(self, iri: URIRef, label: str, line: int, cls: URIRef, scheme: URIRef) -> URIRef:
        """A SKOS concept of one of our schemes (statut, centre d'intérêt, type de formation…)."""
        c = self.node(iri, line, cls, SKOS.Concept)
        self.add(c, SKOS.prefLabel, fr(label), line)
        self.add(c, SKOS.inScheme, scheme)
        return c

    def sections(self, owner: URIRef, key: str, sections: list[Section]) -> None:
        """Sections in order (``section/<key>-<n>``), each with its parts in order."""
        ids = self.ids
        for order, section in enumerate(sections, 1):
            s = self.node(ids.section(key, order), section.line, OKG.Section)
            self.add(owner, OKG.hasSection, s, section.line)
            self.add(s, OKG.order, integer(order))
            self.add(s, DCTERMS.title, fr(section.title), section.line)
            self.add(s, OKG.sourceLine, integer(section.line))
            for p_order, part in enumerate(section.parts, 1):
                p = self.node(ids.part(key, order, p_order), part.line, OKG.SectionPart)
                self.add(s, OKG.hasPart, p, part.line)
                self.add(p, OKG.order, integer(p_order))
                self.add(p, OKG.sourceLine, integer(part.line))
                if part.heading is not None:
                    self.add(p, OKG.heading, fr(part.heading.text), part.heading.line)
                    self.add(p, OKG.headingLevel, integer(part.heading_level or 0))
                if part.paragraphs:
                    self.add(p, SDO.text, fr(part.text), part.paragraphs[0].line)

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
        ids = self.ids
        src = self.node(ids.source(sha256), 1, OKG.SourceFile, PROV.Entity)
        self.add(src, OKG.fileName, Literal(PurePath(source).name))
        self.add(src, OKG.sha256, Literal(sha256))
        org = self.node(ids.agent(publisher.key), 1, PROV.Organization, PROV.Agent)
        self.add(org, RDFS.label, Literal(publisher.name))
        self.add(src, PROV.wasAttributedTo, org)
        tool = self.node(ids.agent("onisep-kg"), 1, PROV.SoftwareAgent, PROV.Agent)
        self.add(tool, RDFS.label, Literal("onisep-kg"))
        self.add(tool, SDO.softwareVersion, Literal(__version__))
        activity = self.node(ids.activity(__version__), 1, PROV.Activity)
        self.add(activity, PROV.wasAssociatedWith, tool)
        self.node(graph_iri, 1, PROV.Entity)
        self.add(graph_iri, PROV.wasDerivedFrom, src)
        self.add(graph_iri, PROV.wasGeneratedBy, activity)
        self.add(graph_iri, DCTERMS.subject, subject)
        self.add(subject, DCTERMS.source, src)
        if when is not None:
            self.add(graph_iri, PROV.generatedAtTime, Literal(when, datatype=XSD.dateTime))
