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

from .emit import Emitter, FicheGraph, fr, integer
from .formations import FormationRecord, certification_level_number, iso_duration
from .levels import LEVELS, level_of
from .linking import LinkReport, MetierIndex
from .records import Item
from .vocab import OKG, Ids

LINK_FORMATION_METIER = "formation→métier"
LINK_DESCRIPTION = "'Métiers associés' labels of formation fiches resolved to métier fiches"


def map_formation(
    record: FormationRecord,
    *,
    ids: Ids,
    metier_index: MetierIndex,
    links: LinkReport,
    when: datetime | None = None,
) -> FicheGraph:
    """The named graph of one formation source file (fiche or Idéo record)."""
    e = Emitter(ids, record.source, record.id_line)
    key = record.formation_id or record.key  # an Idéo record without FOR id: formation/ideo-<seq>
    f = e.node(ids.formation(key), record.id_line, OKG.Formation, SDO.EducationalOccupationalProgram)
    e.add(f, DCTERMS.identifier, Literal(key), record.id_line)
    title = record.title
    e.add(f, SDO.name, fr(title.text), title.line)
    e.add(f, RDFS.label, fr(title.text), title.line)

    if record.type is not None:
        t = record.type
        concept = e.concept(
            ids.formation_type(t.text), t.text, t.line, OKG.FormationType, ids.formation_type_scheme()
        )
        e.add(f, OKG.formationType, concept, t.line)
    _string(e, f, OKG.sigle, record.sigle)
    if record.duration is not None:
        d = record.duration
        e.add(f, OKG.durationWording, fr(d.text), d.line)
        iso = iso_duration(d.text)
        if iso is not None:
            e.add(f, SDO.timeToComplete, Literal(iso, datatype=XSD.duration), d.line)
    if record.certification_level is not None:
        w = record.certification_level
        e.add(f, OKG.certificationLevelWording, fr(w.text), w.line)
        number = certification_level_number(w.text)
        if number is not None:
            e.add(f, OKG.certificationLevel, e.level(number, w.line), w.line)
    if record.exit_level is not None:
        w = record.exit_level
        e.add(f, OKG.exitLevelWording, fr(w.text), w.line)
        number = level_of(w.text)
        if number is not None and number in LEVELS:
            e.add(f, OKG.exitLevel, e.level(number, w.line), w.line)
    _string(e, f, OKG.rncpCode, record.rncp)
    for item in record.nsf:
        _string(e, f, OKG.nsfCode, item)
    _string(e, f, OKG.codeScolarite, record.code_scolarite)
    _french(e, f, OKG.tutelle, record.tutelle)
    if record.url is not None:
        e.add(f, SDO.url, Literal(record.url.text, datatype=XSD.anyURI), record.url.line)

    scheme = ids.domain_scheme()
    for ref in record.domains:
        top = e.concept(ids.domain(ref.domain), ref.domain, ref.line, OKG.Domain, scheme)
        e.add(top, SKOS.topConceptOf, scheme)
        target = top
        if ref.sub_domain is not None:
            target = e.concept(
                ids.domain(ref.domain, ref.sub_domain), ref.sub_domain, ref.line, OKG.Domain, scheme
            )
            e.add(target, SKOS.broader, top, ref.line)
        e.add(f, OKG.domain, target, ref.line)

    _french(e, f, SDO.description, record.description)
    _french(e, f, OKG.accessConditions, record.access)
    for item in record.expectations:
        _french(e, f, OKG.parcoursupExpectation, item)
    _french(e, f, OKG.furtherStudies, record.further_studies)

    stats = links.stats(LINK_FORMATION_METIER, LINK_DESCRIPTION)
    for item in record.metier_labels:
        _french(e, f, OKG.associatedMetierLabel, item)
        resolution = metier_index.resolve(item.text)
        if resolution.resolved:
            # the métier node is described by its own fiche graph; here only the link
            e.add(f, OKG.leadsTo, ids.metier(resolution.metier_ids[0]), item.line)
            stats.ok()
        else:
            stats.miss(item.text, resolution.reason or "unresolved")

    e.sections(f, record.key, record.sections)
    for order, extra in enumerate(record.extra_fields, 1):
        x = e.node(ids.extra_field(record.key, order), extra.line, OKG.ExtraField)
        e.add(f, OKG.extraField, x, extra.line)
        e.add(x, RDFS.label, fr(extra.key), extra.line)
        e.add(x, OKG.order, integer(order))
        if extra.value:
            e.add(x, RDF.value, fr(extra.value), extra.line)
        for item in extra.items:
            e.add(x, RDF.value, fr(item.text), item.line)
    for issue in record.issues:
        if issue.text:
            e.add(f, OKG.unparsedLine, fr(issue.text), issue.line)

    graph_iri = ids.graph(record.kind, record.graph_key)
    e.provenance(graph_iri, f, sha256=record.sha256, source=record.source, when=when)
    return e.result(graph_iri, f)


def _string(e: Emitter, s: URIRef, p: URIRef, item: Item | None) -> None:
    """A code (sigle, RNCP, NSF, code scolarité): a plain xsd:string, not language-tagged."""
    if item is not None:
        e.add(s, p, Literal(item.text), item.line)


def _french(e: Emitter, s: URIRef, p: URIRef, item: Item | None) -> None:
    if item is not None:
        e.add(s, p, fr(item.text), item.line)
