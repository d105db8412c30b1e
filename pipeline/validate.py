"""SHACL validation with pyshacl, into a typed report whose findings name file and line.

The shapes (``shapes/onisep-kg.shacl.ttl``) are parsed and compiled once per run and reused for
every fiche graph. Each finding carries the severity, the shape, the focus node, the path, the
message and — through the mapper's source map — the fiche file and line it comes from.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from rdflib import RDF, Graph, Literal, URIRef
from rdflib.namespace import SH
from rdflib.term import BNode, Node

from . import resources
from .emit import FicheGraph, SourceMap, TripleSet
from .errors import ShapesError


class Severity(enum.IntEnum):
    """SHACL severities, ordered so that ``max()`` gives the worst."""

    INFO = 1
    WARNING = 2
    VIOLATION = 3

    @classmethod
    def from_iri(cls, iri: Node) -> Severity:
        return {SH.Info: cls.INFO, SH.Warning: cls.WARNING}.get(iri, cls.VIOLATION)  # type: ignore[arg-type]

    @property
    def label(self) -> str:
        return self.name.capitalize()


@dataclass(frozen=True, slots=True)
class Finding:
    """One SHACL result (or parser issue), located in its source file."""

    severity: Severity
    shape: str
    message: str
    source: str
    line: int | None
    focus: str | None = None
    path: str | None = None
    value: str | None = None

    def format(self) -> str:
        where = f"{self.source}:{self.line}" if self.line is not None else self.source
        return f"[{self.severity.label.upper()}] [{where}] {self.message} ({self.shape})"


def _n3(node: Node | None) -> str | None:
    if node is None:
        return None
    return str(node) if not isinstance(node, Literal) else node.n3()


def load_shapes(shapes: Path | Sequence[Path] | Graph | None) -> Graph:
    """The shapes graph: ``shapes`` itself if it is a graph, else the files (the shipped ones by default)."""
    if isinstance(shapes, Graph):
        return shapes
    if shapes is None:
        paths = resources.shapes_files()
    else:
        paths = [shapes] if isinstance(shapes, Path) else list(shapes)
    graph = Graph(store="SimpleMemory")  # no context index: ~1.4x faster for pyshacl
    for path in paths:
        if _parse_quickly(graph, path):
            continue
        try:
            graph.parse(path, format="turtle")
        except Exception as exc:  # rdflib raises many kinds of parse errors
            raise ShapesError(f"cannot load the SHACL shapes {path}: {exc}") from exc
    return graph


_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_PREFIX_LINE = re.compile(rb"(?:@prefix|PREFIX)[ \t]+([^:\s]*):")
# What pyoxigraph's reading would not give back as rdflib's does: an explicit datatype (rdflib
# tells "a" from "a"^^xsd:string), a language tag with capitals (pyoxigraph lower-cases it).
_NOT_QUICK = re.compile(rb"\^\^|\"@[A-Za-z0-9-]*[A-Z]|'@[A-Za-z0-9-]*[A-Z]")


def _parse_quickly(graph: Graph, path: Path) -> bool:
    """Add the Turtle file ``path`` to ``graph`` as rdflib's parser would (the same triples, a
    fresh blank node per label, the prefixes bound in the file's order), read by pyoxigraph:
    about three times faster. False, with nothing added, for a file it cannot read that way
    (then rdflib reads it, and reports its errors)."""
    import pyoxigraph as ox

    try:
        data = Path(path).read_bytes()
        if _NOT_QUICK.search(data):
            return False
        parser = ox.parse(data, format=ox.RdfFormat.TURTLE)
        triples = list(parser)
        prefixes = parser.prefixes
    except (OSError, SyntaxError, ValueError):
        return False
    bnodes: dict[str, BNode] = {}

    def term(t: ox.NamedNode | ox.BlankNode | ox.Literal) -> Node:
        if isinstance(t, ox.NamedNode):
            return URIRef(t.value)
        if isinstance(t, ox.BlankNode):
            node = bnodes.get(t.value)
            if node is None:
                node = bnodes[t.value] = BNode()
            return node
        if t.language:
            return Literal(t.value, lang=t.language)
        datatype = t.datatype.value
        return Literal(t.value) if datatype == _XSD_STRING else Literal(t.value, datatype=URIRef(datatype))

    graph.addN((term(q.subject), term(q.predicate), term(q.object), graph) for q in triples)
    order = {
        p.decode("utf-8", "replace"): i for i, p in reversed(list(enumerate(_PREFIX_LINE.findall(data))))
    }
    for prefix in sorted(prefixes, key=lambda p: order.get(p, len(order))):
        graph.bind(prefix, prefixes[prefix])
    return True


def shape_name(shapes_graph: Graph, shape: Node) -> str:
    """A readable name: the shape IRI, or for a blank-node property shape its parent + path."""
    g = shapes_graph
    if isinstance(shape, BNode):
        parent = next(g.subjects(SH.property, shape), None)
        path = g.value(shape, SH.path)
        return f"{g.qname(parent) if parent else '_'}/{g.qname(path) if path else '?'}"
    return g.qname(shape)


class Validator:
    """pyshacl over one graph at a time, with the shapes compiled once."""

    def __init__(self, shapes: Path | Sequence[Path] | Graph | None = None) -> None:
        from pyshacl.shapes_graph import ShapesGraph  # pyshacl is imported when it is used

        self.shapes_graph = load_shapes(shapes)
        self._compiled = ShapesGraph(self.shapes_graph)
        self._compiled.shapes  # noqa: B018  (harvests and caches the shapes once)
        self._names: dict[Node, str] = {}

    def _shape_name(self, shape: Node) -> str:
        """A readable name: the shape IRI, or for a blank-node property shape its parent + path."""
        if shape in self._names:
            return self._names[shape]
        name = shape_name(self.shapes_graph, shape)
        self._names[shape] = name
        return name

    def validate(self, graph: Graph | TripleSet, source_map: SourceMap) -> list[Finding]:
        """Validate ``graph``; every finding is located through ``source_map``."""
        from pyshacl import Validator as _PyshaclValidator
        from pyshacl.graph_abstraction import DataGraph

        validator = _PyshaclValidator(
            DataGraph.from_rdflib(graph if isinstance(graph, Graph) else graph.to_graph()),
            shacl_graph=self.shapes_graph,
            options={"inference": "none", "allow_infos": True, "allow_warnings": True},
        )
        validator.shacl_graph = self._compiled
        _conforms, report, _text = validator.run()
        return sorted(self._findings(report, source_map), key=_finding_key)

    def validate_many(self, graphs: Sequence[FicheGraph]) -> list[Finding]:
        """Validate many source graphs in one pyshacl run over their union.

        Much faster than one run per graph for thousands of small graphs. Each finding is located
        through the source map of the first graph that emitted its focus node.
        """
        from pyshacl import Validator as _PyshaclValidator
        from pyshacl.graph_abstraction import DataGraph

        if not graphs:
            return []
        union = Graph()
        where: dict[object, SourceMap] = {}
        for fiche in graphs:
            union += fiche.graph
            for node in fiche.source_map.nodes:
                where.setdefault(node, fiche.source_map)
        validator = _PyshaclValidator(
            DataGraph.from_rdflib(union),
            shacl_graph=self.shapes_graph,
            options={"inference": "none", "allow_infos": True, "allow_warnings": True},
        )
        validator.shacl_graph = self._compiled
        _conforms, report, _text = validator.run()
        fallback = graphs[0].source_map
        findings = [
            replace(finding, source=m.source, line=m.line_of(focus, path))
            for finding, focus, path in self._raw_findings(report)
            for m in [where.get(focus, fallback)]
        ]
        return sorted(findings, key=_finding_key)

    def _findings(self, report: Graph, source_map: SourceMap) -> Iterable[Finding]:
        for finding, focus, path in self._raw_findings(report):
            yield replace(finding, source=source_map.source, line=source_map.line_of(focus, path))

    def _raw_findings(self, report: Graph) -> Iterable[tuple[Finding, Node | None, Node | None]]:
        """Each result as an unlocated finding, with its focus node and path."""
        for result in report.subjects(RDF.type, SH.ValidationResult):
            focus = report.value(result, SH.focusNode)
            path = report.value(result, SH.resultPath)
            shape = report.value(result, SH.sourceShape)
            message = report.value(result, SH.resultMessage)
            value = report.value(result, SH.value)
            finding = Finding(
                severity=Severity.from_iri(report.value(result, SH.resultSeverity)),
                shape=self._shape_name(shape) if shape is not None else "?",
                message=str(message) if message is not None else "constraint not met",
                source="",
                line=None,
                focus=_n3(focus),
                path=_n3(path),
                value=_n3(value),
            )
            yield finding, focus, path


def _finding_key(f: Finding) -> tuple:
    return (f.source, f.line or 0, -f.severity, f.shape, f.focus or "", f.value or "")
