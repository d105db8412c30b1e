"""Mapper: :class:`MetierRecord` → RDF graph of one fiche. Reads no file.

Each fiche becomes one named graph that stands on its own: the métier, its labels, sections,
salary and access routes, plus the concepts it cites (ROME codes with their broader chain, study
levels with their EQF match, statuses, interests) and the PROV-O record of where the graph came
from. The graphs of all fiches merge into the whole graph without clashes because every IRI is
minted from an identifier.

The mapper also returns a source map: for each subject (and subject + predicate) it emitted, the
fiche line it came from, so that a SHACL finding can name the file and the line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import PurePath

from rdflib import DCTERMS, PROV, RDF, RDFS, SDO, SKOS, XSD, Graph, Literal, URIRef
from rdflib.term import Node

from . import __version__
from .levels import LEVELS, level_of
from .records import Appellation, Item, MetierRecord, Salary
from .referentials import Referentials
from .vocab import EQF, ESCO, FEMALE, MALE, OKG, SKOSXL, Ids

FR = "fr"


@dataclass(slots=True)
class SourceMap:
    """Where in the fiche each emitted node (and node + predicate) came from."""

    source: str
    default_line: int = 1
    nodes: dict[Node, int] = field(default_factory=dict)
    values: dict[tuple[Node, Node], int] = field(default_factory=dict)

    def line_of(self, node: Node | None, path: Node | None = None) -> int:
        """The line of ``node``'s ``path`` value, else of ``node``, else the fiche's ID line."""
        if path is not None and (node, path) in self.values:
            return self.values[(node, path)]  # type: ignore[index]
        return self.nodes.get(node, self.default_line) if node is not None else self.default_line


@dataclass(slots=True)
class FicheGraph:
    """The graph of one fiche, the IRI of its named graph, and its source map."""

    graph_iri: URIRef
    subject: URIRef
    graph: Graph
    source_map: SourceMap


def _fr(text: str) -> Literal:
    return Literal(text, lang=FR)


def _int(value: int) -> Literal:
    return Literal(value, datatype=XSD.integer)


class _Emitter:
    """Adds triples and remembers the line each one came from."""

    def __init__(self, graph: Graph, source_map: SourceMap) -> None:
        self.graph = graph
        self.map = source_map

    def node(self, s: URIRef, line: int, *types: URIRef) -> URIRef:
        self.map.nodes.setdefault(s, line)
        for t in types:
            self.graph.add((s, RDF.type, t))
        return s

    def add(self, s: URIRef, p: URIRef, o: Node, line: int | None = None) -> None:
        self.graph.add((s, p, o))
        if line is not None:
            self.map.values.setdefault((s, p), line)


class Mapper:
    """Maps records to graphs; holds the referentials and the IRI minter for a whole run."""

    def __init__(self, referentials: Referentials, *, ids: Ids | None = None) -> None:
        self.refs = referentials
        self.ids = ids or Ids()
        epoch = os.environ.get("SOURCE_DATE_EPOCH")
        self.generated_at = (
            datetime.fromtimestamp(int(epoch), tz=timezone.utc) if epoch and epoch.isdigit() else None
        )

    def map_metier(self, record: MetierRecord) -> FicheGraph:
        ids = self.ids
        graph = Graph()
        source_map = SourceMap(record.source, record.id_line)
        e = _Emitter(graph, source_map)
        mid = record.metier_id
        m = e.node(ids.metier(mid), record.id_line, OKG.Metier, SDO.Occupation, SKOS.Concept)
        e.add(m, DCTERMS.identifier, Literal(mid), record.id_line)
        e.add(m, SKOS.inScheme, ids.metier_scheme())
        e.add(m, SKOS.prefLabel, _fr(record.title.text), record.title.line)

        self._labels(e, m, mid, 0, record.appellation, SKOSXL.prefLabel)
        for index, other in enumerate(record.other_appellations, 1):
            if other.label is not None:
                e.add(m, SKOS.altLabel, _fr(other.label.text), other.label.line)
            self._labels(e, m, mid, index, other, SKOSXL.altLabel)

        for item in record.rome_codes:
            e.add(m, OKG.romeCode, self._rome(e, item), item.line)
        if record.access_level is not None:
            wording = record.access_level
            e.add(m, OKG.minimumLevelWording, _fr(wording.text), wording.line)
            number = level_of(wording.text)
            if number is not None:
                e.add(m, OKG.minimumLevel, self._level(e, number, wording.line), wording.line)
        for ref in record.formations:
            f = e.node(ids.formation(ref.formation_id), ref.line, OKG.Formation)
            e.add(f, DCTERMS.identifier, Literal(ref.formation_id), ref.line)
            e.add(f, RDFS.label, _fr(ref.label), ref.line)
            e.add(m, OKG.recommendedFormation, f, ref.line)
        for item in record.statuses:
            e.add(
                m,
                OKG.status,
                self._concept(e, item, ids.status(item.text), OKG.Status, ids.status_scheme()),
                item.line,
            )
        for item in record.interests:
            e.add(
                m,
                OKG.interest,
                self._concept(e, item, ids.interest(item.text), OKG.Interest, ids.interest_scheme()),
                item.line,
            )
        self._sections(e, m, record)
        if record.salary is not None:
            e.add(m, SDO.estimatedSalary, self._salary(e, mid, record.salary), record.salary.raw.line)
        for order, extra in enumerate(record.extra_fields, 1):
            x = e.node(ids.extra_field(mid, order), extra.line, OKG.ExtraField)
            e.add(m, OKG.extraField, x, extra.line)
            e.add(x, RDFS.label, _fr(extra.key), extra.line)
            e.add(x, OKG.order, _int(order))
            if extra.value:
                e.add(x, RDF.value, _fr(extra.value), extra.line)
            for item in extra.items:
                e.add(x, RDF.value, _fr(item.text), item.line)
        for issue in record.issues:
            if issue.text:
                e.add(m, OKG.unparsedLine, _fr(issue.text), issue.line)

        graph_iri = ids.graph("metier", mid)
        self._provenance(e, graph_iri, m, record)
        return FicheGraph(graph_iri, m, graph, source_map)

    # -- pieces ------------------------------------------------------------------------------
    def _labels(self, e: _Emitter, m: URIRef, mid: str, index: int, names: Appellation, prop: URIRef) -> None:
        """Gendered forms as SKOS-XL labels; equal forms make one label with both roles."""
        forms: list[tuple[str, list[URIRef], Item]] = []
        for item, role in ((names.feminine, FEMALE), (names.masculine, MALE)):
            if item is None:
                continue
            same = next((f for f in forms if f[0] == item.text), None)
            if same is not None:
                same[1].append(role)
            else:
                forms.append((item.text, [role], item))
        for text, roles, item in forms:
            genders = "".join("f" if r == FEMALE else "m" for r in roles)
            label = e.node(self.ids.label(mid, index, genders), item.line, SKOSXL.Label)
            e.add(label, SKOSXL.literalForm, _fr(text), item.line)
            for role in roles:
                e.add(label, ESCO.hasLabelRole, role, item.line)
            if names.label is not None:
                e.add(label, OKG.neutralForm, _fr(names.label.text), names.label.line)
            e.add(m, prop, label, item.line)

    def _rome(self, e: _Emitter, item: Item) -> URIRef:
        code = item.text
        r = e.node(self.ids.rome(code), item.line, OKG.RomeCode, SKOS.Concept)
        e.add(r, SKOS.notation, Literal(code), item.line)
        e.add(r, SKOS.inScheme, self.ids.rome_scheme())
        label = self.refs.rome_v3_labels.get(code)
        if label is not None:
            e.add(r, SKOS.prefLabel, _fr(label))
        if len(code) == 5 and code[0].isalpha() and code[1:].isdigit():
            # broader chain derived from the code: I1401 → I14 → I
            child = r
            for prefix in (code[:3], code[:1]):
                parent = e.node(self.ids.rome(prefix), item.line, SKOS.Concept)
                e.add(parent, SKOS.notation, Literal(prefix))
                e.add(parent, SKOS.inScheme, self.ids.rome_scheme())
                e.add(child, SKOS.broader, parent)
                child = parent
            e.add(child, SKOS.topConceptOf, self.ids.rome_scheme())
        return r

    def _level(self, e: _Emitter, number: int, line: int) -> URIRef:
        level = LEVELS[number]
        n = e.node(self.ids.level(number), line, OKG.StudyLevel, SKOS.Concept)
        e.add(n, SKOS.notation, Literal(str(number)))
        e.add(n, SKOS.prefLabel, _fr(level.label_fr))
        e.add(n, SKOS.prefLabel, Literal(level.label_en, lang="en"))
        e.add(n, SKOS.inScheme, self.ids.level_scheme())
        e.add(n, SKOS.closeMatch, EQF[str(number)])
        return n

    def _concept(self, e: _Emitter, item: Item, iri: URIRef, cls: URIRef, scheme: URIRef) -> URIRef:
        c = e.node(iri, item.line, cls, SKOS.Concept)
        e.add(c, SKOS.prefLabel, _fr(item.text), item.line)
        e.add(c, SKOS.inScheme, scheme)
        return c

    def _sections(self, e: _Emitter, m: URIRef, record: MetierRecord) -> None:
        ids, mid = self.ids, record.metier_id
        for order, section in enumerate(record.sections, 1):
            s = e.node(ids.section(mid, order), section.line, OKG.Section)
            e.add(m, OKG.hasSection, s, section.line)
            e.add(s, OKG.order, _int(order))
            e.add(s, DCTERMS.title, _fr(section.title), section.line)
            e.add(s, OKG.sourceLine, _int(section.line))
            for p_order, part in enumerate(section.parts, 1):
                p = e.node(ids.part(mid, order, p_order), part.line, OKG.SectionPart)
                e.add(s, OKG.hasPart, p, part.line)
                e.add(p, OKG.order, _int(p_order))
                e.add(p, OKG.sourceLine, _int(part.line))
                if part.heading is not None:
                    e.add(p, OKG.heading, _fr(part.heading.text), part.heading.line)
                    e.add(p, OKG.headingLevel, _int(part.heading_level or 0))
                if part.paragraphs:
                    e.add(p, SDO.text, _fr(part.text), part.paragraphs[0].line)
        for order, duration in enumerate(record.study_durations, 1):
            d = e.node(ids.study_duration(mid, order), duration.line, OKG.StudyDuration)
            e.add(m, OKG.studyDuration, d, duration.line)
            e.add(d, OKG.order, _int(order))
            if duration.stage is not None:
                e.add(d, OKG.stage, _fr(duration.stage.text), duration.stage.line)
            if duration.paragraphs:
                e.add(d, SDO.text, _fr(duration.text), duration.paragraphs[0].line)
        for order, route in enumerate(record.access_routes, 1):
            a = e.node(ids.access_route(mid, order), route.wording.line, OKG.AccessRoute)
            e.add(m, OKG.accessRoute, a, route.wording.line)
            e.add(a, OKG.order, _int(order))
            e.add(a, OKG.levelWording, _fr(route.wording.text), route.wording.line)
            number = level_of(route.wording.text)
            if number is not None:
                e.add(a, OKG.level, self._level(e, number, route.wording.line), route.wording.line)
            for diploma in route.diplomas:
                e.add(a, OKG.diploma, _fr(diploma.text), diploma.line)

    def _salary(self, e: _Emitter, mid: str, salary: Salary) -> URIRef:
        line = salary.raw.line
        s = e.node(self.ids.salary(mid), line, SDO.MonetaryAmount)
        e.add(s, SDO.description, _fr(salary.raw.text), line)
        e.add(s, SDO.name, _fr("Salaire du débutant"))
        if salary.min_value is not None:
            e.add(s, SDO.minValue, Literal(salary.min_value, datatype=XSD.decimal), line)
        if salary.max_value is not None:
            e.add(s, SDO.maxValue, Literal(salary.max_value, datatype=XSD.decimal), line)
        if salary.currency is not None:
            e.add(s, SDO.currency, Literal(salary.currency), line)
        if salary.period is not None:
            e.add(s, SDO.unitText, Literal(salary.period), line)
        if salary.basis is not None:
            e.add(s, OKG.salaryBasis, OKG.Gross if salary.basis == "gross" else OKG.Net, line)
        if salary.qualifier is not None:
            e.add(s, OKG.salaryQualifier, _fr(salary.qualifier), line)
        e.add(s, OKG.variable, Literal(salary.variable), line)
        return s

    def _provenance(self, e: _Emitter, g: URIRef, m: URIRef, record: MetierRecord) -> None:
        ids = self.ids
        src = e.node(ids.source(record.sha256), 1, OKG.SourceFile, PROV.Entity)
        e.add(src, OKG.fileName, Literal(PurePath(record.source).name))
        e.add(src, OKG.sha256, Literal(record.sha256))
        onisep = e.node(ids.agent("onisep"), 1, PROV.Organization, PROV.Agent)
        e.add(onisep, RDFS.label, Literal("ONISEP"))
        e.add(src, PROV.wasAttributedTo, onisep)
        tool = e.node(ids.agent("onisep-kg"), 1, PROV.SoftwareAgent, PROV.Agent)
        e.add(tool, RDFS.label, Literal("onisep-kg"))
        e.add(tool, SDO.softwareVersion, Literal(__version__))
        activity = e.node(ids.activity(__version__), 1, PROV.Activity)
        e.add(activity, PROV.wasAssociatedWith, tool)
        e.node(g, 1, PROV.Entity)
        e.add(g, PROV.wasDerivedFrom, src)
        e.add(g, PROV.wasGeneratedBy, activity)
        e.add(g, DCTERMS.subject, m)
        e.add(m, DCTERMS.source, src)
        if self.generated_at is not None:
            e.add(g, PROV.generatedAtTime, Literal(self.generated_at, datatype=XSD.dateTime))
