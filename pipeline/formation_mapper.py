"""Mapper: :class:`FormationRecord` → RDF graph of one formation source file. Reads no file.

Each source file becomes one named graph: ``graph/formation/FOR.5337`` for a formation fiche,
``graph/ideo-formation/00279`` for an Idéo record. Both describe the same node
``formation/FOR.5337`` (an ``okg:Formation`` and ``schema:EducationalOccupationalProgram``), so
the whole graph holds one formation with what each source says about it. The concepts a
formation cites come along: its type (``type-formation/…``), its domains and sub-domains
(``domaine/…``, sub-domain ``skos:broader`` its domain), its study levels (certification level
"niveau 5" → ``niveau/5``; indicative exit level "bac + 2" → ``niveau/5`` through
:func:`pipeline.levels.level_of`), and the métiers its "Métiers associés" labels resolve to.

Sections are keyed per source file (``section/FOR.5337-1`` for the fiche,
``section/ideo-00279-1`` for the Idéo record), so the two sources never collide. Every value
carries the line it came from in the graph's source map.
"""

from __future__ import annotations

from datetime import datetime

from rdflib import DCTERMS, RDF, RDFS, SDO, SKOS, XSD, Literal, URIRef

from .emit import Emitter, FicheGraph, canonical_terms, fr, integer, plain
from .formations import FormationRecord, certification_level_number, iso_duration
from .levels import LEVELS, level_of
from .linking import LinkReport, LinkStats, MetierIndex, Resolution
from .records import Item
from .vocab import OKG, Ids

LINK_FORMATION_METIER = "formation→métier"
LINK_DESCRIPTION = "'Métiers associés' labels of formation fiches resolved to métier fiches"

# rdflib namespace attributes cost ~1.5 µs each: read once, as canonical instances.
_FORMATION, _PROGRAM = canonical_terms(OKG.Formation, SDO.EducationalOccupationalProgram)
_IDENTIFIER, _NAME, _LABEL = canonical_terms(DCTERMS.identifier, SDO.name, RDFS.label)
_FORMATION_TYPE_CLASS, _FORMATION_TYPE = canonical_terms(OKG.FormationType, OKG.formationType)
_SIGLE, _DURATION_WORDING, _TIME_TO_COMPLETE = canonical_terms(
    OKG.sigle, OKG.durationWording, SDO.timeToComplete
)
_CERT_WORDING, _CERT_LEVEL = canonical_terms(OKG.certificationLevelWording, OKG.certificationLevel)
_EXIT_WORDING, _EXIT_LEVEL = canonical_terms(OKG.exitLevelWording, OKG.exitLevel)
_RNCP, _NSF, _CODE_SCOLARITE, _TUTELLE = canonical_terms(
    OKG.rncpCode, OKG.nsfCode, OKG.codeScolarite, OKG.tutelle
)
_URL, _XSD_ANY_URI, _XSD_DURATION = canonical_terms(SDO.url, XSD.anyURI, XSD.duration)
_DOMAIN_CLASS, _DOMAIN = canonical_terms(OKG.Domain, OKG.domain)
_TOP_CONCEPT_OF, _BROADER = canonical_terms(SKOS.topConceptOf, SKOS.broader)
_DESCRIPTION, _ACCESS, _EXPECTATION = canonical_terms(
    SDO.description, OKG.accessConditions, OKG.parcoursupExpectation
)
_FURTHER, _METIER_LABEL, _LEADS_TO = canonical_terms(
    OKG.furtherStudies, OKG.associatedMetierLabel, OKG.leadsTo
)
_EXTRA_CLASS, _EXTRA, _ORDER, _RDF_VALUE = canonical_terms(
    OKG.ExtraField, OKG.extraField, OKG.order, RDF.value
)
(_UNPARSED,) = canonical_terms(OKG.unparsedLine)


def map_formation(
    record: FormationRecord,
    *,
    ids: Ids,
    metier_index: MetierIndex,
    links: LinkReport,
    when: datetime | None = None,
) -> FicheGraph:
    """The named graph of one formation source file (fiche or Idéo record)."""
    return FormationMapper(ids=ids, metier_index=metier_index, links=links, when=when).map(record)


class FormationMapper:
    """Maps formation records one named graph each, as :func:`map_formation` does. Reads no file.

    What many formations share (their types, domains, levels, duration literals, the métier a
    label resolves to) is worked out once per mapper: the métier index must not change while the
    mapper is in use.
    """

    def __init__(
        self, *, ids: Ids, metier_index: MetierIndex, links: LinkReport, when: datetime | None = None
    ) -> None:
        self.ids = ids
        self.metier_index = metier_index
        self.links = links
        self.when = when
        self._stats: LinkStats | None = None
        self._types: dict[str, URIRef] = {}
        self._type_scheme = ids.formation_type_scheme()
        self._domain_scheme = ids.domain_scheme()
        self._domains: dict[tuple[str, str | None], URIRef] = {}
        self._durations: dict[str, Literal | None] = {}
        self._cert_levels: dict[str, int | None] = {}
        self._exit_levels: dict[str, int | None] = {}
        self._resolutions: dict[str, Resolution] = {}
        self._metiers: dict[str, URIRef] = {}

    def map(self, record: FormationRecord) -> FicheGraph:
        """The named graph of one formation source file (fiche or Idéo record)."""
        ids = self.ids
        e = Emitter(ids, record.source, record.id_line)
        add = e.add
        key = record.formation_id or record.key  # an Idéo record without FOR id: formation/ideo-<seq>
        f = e.node(ids.formation(key), record.id_line, _FORMATION, _PROGRAM)
        add(f, _IDENTIFIER, plain(key), record.id_line)
        title = record.title
        title_literal = fr(title.text)
        add(f, _NAME, title_literal, title.line)
        add(f, _LABEL, title_literal, title.line)

        if record.type is not None:
            t = record.type
            concept = e.concept(self._type(t.text), t.text, t.line, _FORMATION_TYPE_CLASS, self._type_scheme)
            add(f, _FORMATION_TYPE, concept, t.line)
        _string(e, f, _SIGLE, record.sigle)
        if record.duration is not None:
            d = record.duration
            add(f, _DURATION_WORDING, fr(d.text), d.line)
            iso = self._duration(d.text)
            if iso is not None:
                add(f, _TIME_TO_COMPLETE, iso, d.line)
        if record.certification_level is not None:
            w = record.certification_level
            add(f, _CERT_WORDING, fr(w.text), w.line)
            number = _memo(self._cert_levels, w.text, certification_level_number)
            if number is not None:
                add(f, _CERT_LEVEL, e.level(number, w.line), w.line)
        if record.exit_level is not None:
            w = record.exit_level
            add(f, _EXIT_WORDING, fr(w.text), w.line)
            number = _memo(self._exit_levels, w.text, level_of)
            if number is not None and number in LEVELS:
                add(f, _EXIT_LEVEL, e.level(number, w.line), w.line)
        _string(e, f, _RNCP, record.rncp)
        for item in record.nsf:
            _string(e, f, _NSF, item)
        _string(e, f, _CODE_SCOLARITE, record.code_scolarite)
        _french(e, f, _TUTELLE, record.tutelle)
        if record.url is not None:
            add(f, _URL, Literal(record.url.text, datatype=_XSD_ANY_URI), record.url.line)

        scheme = self._domain_scheme
        for ref in record.domains:
            top = e.concept(self._domain(ref.domain, None), ref.domain, ref.line, _DOMAIN_CLASS, scheme)
            add(top, _TOP_CONCEPT_OF, scheme)
            target = top
            if ref.sub_domain is not None:
                target = e.concept(
                    self._domain(ref.domain, ref.sub_domain), ref.sub_domain, ref.line, _DOMAIN_CLASS, scheme
                )
                add(target, _BROADER, top, ref.line)
            add(f, _DOMAIN, target, ref.line)

        _french(e, f, _DESCRIPTION, record.description)
        _french(e, f, _ACCESS, record.access)
        for item in record.expectations:
            _french(e, f, _EXPECTATION, item)
        _french(e, f, _FURTHER, record.further_studies)

        stats = self._stats
        if stats is None:  # created with the first record, as the report lists link types in order
            stats = self._stats = self.links.stats(LINK_FORMATION_METIER, LINK_DESCRIPTION)
        for item in record.metier_labels:
            _french(e, f, _METIER_LABEL, item)
            resolution = self._resolve(item.text)
            if resolution.resolved:
                # the métier node is described by its own fiche graph; here only the link
                add(f, _LEADS_TO, self._metier(resolution.metier_ids[0]), item.line)
                stats.ok()
            else:
                stats.miss(item.text, resolution.reason or "unresolved")

        e.sections(f, record.key, record.sections)
        for order, extra in enumerate(record.extra_fields, 1):
            x = e.node(ids.extra_field(record.key, order), extra.line, _EXTRA_CLASS)
            add(f, _EXTRA, x, extra.line)
            add(x, _LABEL, fr(extra.key), extra.line)
            add(x, _ORDER, integer(order))
            if extra.value:
                add(x, _RDF_VALUE, fr(extra.value), extra.line)
            for item in extra.items:
                add(x, _RDF_VALUE, fr(item.text), item.line)
        for issue in record.issues:
            if issue.text:
                add(f, _UNPARSED, fr(issue.text), issue.line)

        graph_iri = ids.graph(record.kind, record.graph_key)
        e.provenance(graph_iri, f, sha256=record.sha256, source=record.source, when=self.when)
        return e.result(graph_iri, f)

    def _type(self, text: str) -> URIRef:
        iri = self._types.get(text)
        if iri is None:
            iri = self._types[text] = self.ids.formation_type(text)
        return iri

    def _domain(self, domain: str, sub_domain: str | None) -> URIRef:
        key = (domain, sub_domain)
        iri = self._domains.get(key)
        if iri is None:
            iri = self._domains[key] = self.ids.domain(domain, sub_domain)
        return iri

    def _duration(self, wording: str) -> Literal | None:
        if wording in self._durations:
            return self._durations[wording]
        iso = iso_duration(wording)
        value = self._durations[wording] = None if iso is None else Literal(iso, datatype=_XSD_DURATION)
        return value

    def _resolve(self, label: str) -> Resolution:
        resolution = self._resolutions.get(label)
        if resolution is None:
            resolution = self._resolutions[label] = self.metier_index.resolve(label)
        return resolution

    def _metier(self, metier_id: str) -> URIRef:
        iri = self._metiers.get(metier_id)
        if iri is None:
            iri = self._metiers[metier_id] = self.ids.metier(metier_id)
        return iri


def _memo(table: dict[str, int | None], text: str, compute) -> int | None:  # type: ignore[no-untyped-def]
    if text in table:
        return table[text]
    value = table[text] = compute(text)
    return value


def _string(e: Emitter, s: URIRef, p: URIRef, item: Item | None) -> None:
    """A code (sigle, RNCP, NSF, code scolarité): a plain xsd:string, not language-tagged."""
    if item is not None:
        e.add(s, p, plain(item.text), item.line)


def _french(e: Emitter, s: URIRef, p: URIRef, item: Item | None) -> None:
    if item is not None:
        e.add(s, p, fr(item.text), item.line)
