"""Mapper: :class:`MetierRecord` → RDF graph of one fiche. Reads no file.

Each fiche becomes one named graph that stands on its own: the métier, its labels, sections,
salary and access routes, plus the concepts it cites (ROME codes with their broader chain, study
levels with their EQF match, statuses, interests) and the PROV-O record of where the graph came
from. The graphs of all fiches merge into the whole graph without clashes because every IRI is
minted from an identifier.

The mapper also returns a source map: for each subject (and subject + predicate) it emitted, the
fiche line it came from, so that a SHACL finding can name the file and the line.

Each métier also gets an ``okg:searchKey``: all its names (title, synonyms, gendered forms) folded
by :func:`pipeline.vocab.fold` and joined by newlines, which the named query ``search-metiers``
looks a folded text up in instead of folding every label of every métier at query time.
"""

from __future__ import annotations

from rdflib import DCTERMS, RDF, RDFS, SDO, SKOS, XSD, Literal, URIRef

from .emit import Emitter, FicheGraph, SourceMap, fr, generated_at, integer, plain
from .levels import level_of
from .records import Appellation, Item, MetierRecord, Salary
from .referentials import Referentials
from .vocab import ESCO, FEMALE, MALE, OKG, SKOSXL, Ids, search_key

__all__ = ["FicheGraph", "Mapper", "SourceMap"]


class Mapper:
    """Maps records to graphs; holds the referentials and the IRI minter for a whole run."""

    def __init__(self, referentials: Referentials, *, ids: Ids | None = None) -> None:
        self.refs = referentials
        self.ids = ids or Ids()
        self.generated_at = generated_at()

    def map_metier(self, record: MetierRecord) -> FicheGraph:
        ids = self.ids
        e = Emitter(ids, record.source, record.id_line)
        mid = record.metier_id
        m = e.node(ids.metier(mid), record.id_line, OKG.Metier, SDO.Occupation, SKOS.Concept)
        e.add(m, DCTERMS.identifier, Literal(mid), record.id_line)
        e.add(m, SKOS.inScheme, ids.metier_scheme())
        e.add(m, SKOS.prefLabel, fr(record.title.text), record.title.line)

        names = [record.title.text, *self._labels(e, m, mid, 0, record.appellation, SKOSXL.prefLabel)]
        for index, other in enumerate(record.other_appellations, 1):
            if other.label is not None:
                e.add(m, SKOS.altLabel, fr(other.label.text), other.label.line)
                names.append(other.label.text)
            names += self._labels(e, m, mid, index, other, SKOSXL.altLabel)
        # every name the métier answers to, folded once here rather than by each search
        e.add(m, OKG.searchKey, plain(search_key(names)), record.title.line)

        for item in record.rome_codes:
            e.add(m, OKG.romeCode, self._rome(e, item), item.line)
        if record.access_level is not None:
            wording = record.access_level
            e.add(m, OKG.minimumLevelWording, fr(wording.text), wording.line)
            number = level_of(wording.text)
            if number is not None:
                e.add(m, OKG.minimumLevel, e.level(number, wording.line), wording.line)
        for ref in record.formations:
            f = e.node(ids.formation(ref.formation_id), ref.line, OKG.Formation)
            e.add(f, DCTERMS.identifier, Literal(ref.formation_id), ref.line)
            e.add(f, RDFS.label, fr(ref.label), ref.line)
            summary = self.refs.formations.get(ref.formation_id)
            if summary is not None:  # the catalog's name and level, so the graph stands alone
                e.add(f, SDO.name, fr(summary.name), ref.line)
                if summary.level is not None:
                    e.add(f, OKG.certificationLevel, e.level(summary.level, ref.line), ref.line)
            e.add(m, OKG.recommendedFormation, f, ref.line)
        for item in record.statuses:
            e.add(
                m,
                OKG.status,
                e.concept(ids.status(item.text), item.text, item.line, OKG.Status, ids.status_scheme()),
                item.line,
            )
        for item in record.interests:
            e.add(
                m,
                OKG.interest,
                e.concept(ids.interest(item.text), item.text, item.line, OKG.Interest, ids.interest_scheme()),
                item.line,
            )
        self._sections(e, m, record)
        if record.salary is not None:
            e.add(m, SDO.estimatedSalary, self._salary(e, mid, record.salary), record.salary.raw.line)
        for order, extra in enumerate(record.extra_fields, 1):
            x = e.node(ids.extra_field(mid, order), extra.line, OKG.ExtraField)
            e.add(m, OKG.extraField, x, extra.line)
            e.add(x, RDFS.label, fr(extra.key), extra.line)
            e.add(x, OKG.order, integer(order))
            if extra.value:
                e.add(x, RDF.value, fr(extra.value), extra.line)
            for item in extra.items:
                e.add(x, RDF.value, fr(item.text), item.line)
        for issue in record.issues:
            if issue.text:
                e.add(m, OKG.unparsedLine, fr(issue.text), issue.line)

        graph_iri = ids.graph("metier", mid)
        e.provenance(graph_iri, m, sha256=record.sha256, source=record.source, when=self.generated_at)
        return e.result(graph_iri, m)

    # -- pieces ------------------------------------------------------------------------------
    def _labels(
        self, e: Emitter, m: URIRef, mid: str, index: int, names: Appellation, prop: URIRef
    ) -> list[str]:
        """Gendered forms as SKOS-XL labels; equal forms make one label with both roles. Returns
        the forms written (each label's literal form)."""
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
            e.add(label, SKOSXL.literalForm, fr(text), item.line)
            for role in roles:
                e.add(label, ESCO.hasLabelRole, role, item.line)
            if names.label is not None:
                e.add(label, OKG.neutralForm, fr(names.label.text), names.label.line)
            e.add(m, prop, label, item.line)
        return [text for text, _roles, _item in forms]

    def _rome(self, e: Emitter, item: Item) -> URIRef:
        code = item.text
        r = e.node(self.ids.rome(code), item.line, OKG.RomeCode, SKOS.Concept)
        e.add(r, SKOS.notation, Literal(code), item.line)
        e.add(r, SKOS.inScheme, self.ids.rome_scheme())
        label = self.refs.rome_v3_labels.get(code)
        if label is not None:
            e.add(r, SKOS.prefLabel, fr(label))
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

    def _sections(self, e: Emitter, m: URIRef, record: MetierRecord) -> None:
        ids, mid = self.ids, record.metier_id
        e.sections(m, mid, record.sections)
        for order, duration in enumerate(record.study_durations, 1):
            d = e.node(ids.study_duration(mid, order), duration.line, OKG.StudyDuration)
            e.add(m, OKG.studyDuration, d, duration.line)
            e.add(d, OKG.order, integer(order))
            if duration.stage is not None:
                e.add(d, OKG.stage, fr(duration.stage.text), duration.stage.line)
            if duration.paragraphs:
                e.add(d, SDO.text, fr(duration.text), duration.paragraphs[0].line)
        for order, route in enumerate(record.access_routes, 1):
            a = e.node(ids.access_route(mid, order), route.wording.line, OKG.AccessRoute)
            e.add(m, OKG.accessRoute, a, route.wording.line)
            e.add(a, OKG.order, integer(order))
            e.add(a, OKG.levelWording, fr(route.wording.text), route.wording.line)
            number = level_of(route.wording.text)
            if number is not None:
                e.add(a, OKG.level, e.level(number, route.wording.line), route.wording.line)
            for diploma in route.diplomas:
                e.add(a, OKG.diploma, fr(diploma.text), diploma.line)

    def _salary(self, e: Emitter, mid: str, salary: Salary) -> URIRef:
        line = salary.raw.line
        s = e.node(self.ids.salary(mid), line, SDO.MonetaryAmount)
        e.add(s, SDO.description, fr(salary.raw.text), line)
        e.add(s, SDO.name, fr("Salaire du débutant"))
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
            e.add(s, OKG.salaryQualifier, fr(salary.qualifier), line)
        e.add(s, OKG.variable, Literal(salary.variable), line)
        return s
