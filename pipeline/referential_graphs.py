"""The referentials as graphs, linked to the métiers being ingested, with their link statistics.

Formations (formation fiches and Idéo records), ROME v4.60 métiers and appellations, the
ESCO↔ROME crosswalk and the Idéo-Métiers publications each give one named graph per source
file. This module builds them against the métiers of the run (their names resolve the formations'
"Métiers associés"; their ids and ROME codes check the Idéo-Métiers items) and counts, for each
link type, what resolved and what did not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from . import resources
from .emit import FicheGraph, gc_paused, generated_at
from .errors import InputError
from .formation_mapper import LINK_DESCRIPTION, LINK_FORMATION_METIER, FormationMapper
from .formations import FormationCatalog, load_formations
from .ideo_metiers import IdeoMetiersMapper, link_ideo_metiers, load_ideo_metiers
from .linking import LinkReport, MetierIndex
from .rome_esco import RomeEsco, RomeEscoMapper, link_rome_esco, load_rome_esco
from .vocab import Ids

ROME_CODE_LENGTH = 5


@dataclass(slots=True)
class MetierSurvey:
    """What the run's métier fiches say that the referentials are linked against."""

    index: MetierIndex = field(default_factory=MetierIndex)
    formations: dict[str, list[str]] = field(default_factory=dict)  # MET id → cited FOR ids
    rome: dict[str, list[str]] = field(default_factory=dict)  # MET id → cited ROME codes
    # MET id → (its fiche, and each formation it cites: FOR id, label as cited, line)
    citations: dict[str, tuple[str, list[tuple[str, str, int]]]] = field(default_factory=dict)


@dataclass(slots=True)
class ReferentialGraphs:
    """The graphs by kind (formations, ROME/ESCO, Idéo-Métiers) and the files that failed."""

    by_kind: dict[str, list[FicheGraph]] = field(default_factory=dict)
    failures: list[InputError] = field(default_factory=list)


class ReferentialSources:
    """The shipped referentials, each read once per process and kept."""

    def __init__(self, rome_v3_labels: Mapping[str, str], *, ids: Ids | None = None) -> None:
        self.rome_v3_labels = rome_v3_labels
        self.ids = ids or Ids()
        self._catalog: FormationCatalog | None = None
        self._rome: RomeEsco | None = None

    @property
    def catalog(self) -> FormationCatalog:
        if self._catalog is None:
            self._catalog = load_formations(resources.formation_fiches_dir(), resources.ideo_formations_dir())
        return self._catalog

    @property
    def rome(self) -> RomeEsco:
        if self._rome is None:
            self._rome = load_rome_esco()
        return self._rome

    def build(self, survey: MetierSurvey, links: LinkReport) -> ReferentialGraphs:
        with gc_paused():
            return self._build(survey, links)

    def _build(self, survey: MetierSurvey, links: LinkReport) -> ReferentialGraphs:
        out = ReferentialGraphs()
        when = generated_at()
        catalog = self.catalog
        out.failures.extend(catalog.failures)
        mapper = FormationMapper(ids=self.ids, metier_index=survey.index, links=links, when=when)
        out.by_kind["formations"] = [mapper.map(record) for record in catalog.records()]
        rome = self.rome
        out.by_kind["ROME v4 and ESCO"] = RomeEscoMapper(self.rome_v3_labels, ids=self.ids).map_all(rome)
        link_rome_esco(rome, links, rome_v3_codes=self.rome_v3_labels, metier_rome=survey.rome)
        try:
            ideo = load_ideo_metiers()
        except InputError as exc:
            out.failures.append(exc)
        else:
            out.by_kind["Idéo-Métiers"] = [IdeoMetiersMapper(self.rome_v3_labels, ids=self.ids).map(ideo)]
            link_ideo_metiers(ideo, links, known_metiers=survey.rome.keys(), fiche_rome=survey.rome)
        return out


LINK_FORMATION_LABEL = "métier → formation label"


def link_metiers(
    survey: MetierSurvey, links: LinkReport, *, catalog: FormationCatalog, rome_v3_labels: Mapping[str, str]
) -> set[str]:
    """Métier → formation and métier → ROME v3, counted per distinct reference; and the labels
    the métiers cite their formations under (:func:`link_formation_labels`). Returns the fiches
    that the formation-label entries name."""
    stats = links.stats(
        "métier → formation", "distinct FOR ids cited by métiers that a formation source describes"
    )
    for formation_id in sorted(_distinct(survey.formations.values())):
        summary = catalog.summary(formation_id)
        if summary is not None:
            stats.ok()
        else:
            stats.miss(formation_id, "no formation fiche nor Idéo record has this FOR id")
    named = link_formation_labels(survey, links, catalog=catalog)
    stats = links.stats("métier → ROME v3", "distinct ROME codes cited by métiers that ROME v3.46 labels")
    for code in sorted(_distinct(survey.rome.values())):
        if code in rome_v3_labels:
            stats.ok()
        elif len(code) != ROME_CODE_LENGTH:
            stats.miss(code, "malformed ROME code: expected a letter and four digits (e.g. I1401)")
        else:
            stats.miss(code, "not in ROME v3.46")
    return named


def link_formation_labels(survey: MetierSurvey, links: LinkReport, *, catalog: FormationCatalog) -> set[str]:
    """One label per cited formation: a FOR id cited under two labels, or under a label other
    than the name its formation fiche or Idéo record gives it, is listed (each label with the
    fiches and lines that cite it), counted per distinct FOR id.

    The graph names a described formation once, by its formation fiche's or Idéo record's name
    (``schema:name``, which the queries read); each métier graph keeps the label its fiche
    cites (``rdfs:label``: nothing a fiche says is dropped), so a listed FOR id has several.
    Returns the fiches the listed entries name (their lines are in the entries: an edit that
    moves them must rebuild the link report)."""
    stats = links.stats(
        LINK_FORMATION_LABEL,
        "distinct FOR ids that métiers cite under one label, the formation referential's name if it has one",
    )
    cited: dict[str, dict[str, list[tuple[str, int]]]] = {}  # FOR id → label → (file, line), in order
    for source, citations in survey.citations.values():
        for formation_id, label, line in citations:
            cited.setdefault(formation_id, {}).setdefault(label, []).append((source, line))
    named: set[str] = set()
    for formation_id in sorted(cited):
        labels = cited[formation_id]
        summary = catalog.summary(formation_id)
        name = summary[0] if summary is not None else None
        if len(labels) == 1 and (name is None or name in labels):
            stats.ok()
            continue
        as_cited = " and as ".join(
            f"'{label}' ({', '.join(f'{source}:{line}' for source, line in where)})"
            for label, where in labels.items()
        )
        if name is not None:
            kept = f"its name is '{name}', its formation fiche's or Idéo record's"
        else:
            kept = "no formation source names it"
        stats.miss(formation_id, f"cited as {as_cited}; {kept} (each fiche's graph keeps its label)")
        named.update(source for where in labels.values() for source, _line in where)
    return named


def link_report(survey: MetierSurvey, sources: ReferentialSources) -> LinkReport:
    """Every link type counted without building or validating a graph (``onisep-kg links``)."""
    links = LinkReport()
    catalog = sources.catalog
    link_metiers(survey, links, catalog=catalog, rome_v3_labels=sources.rome_v3_labels)
    stats = links.stats(LINK_FORMATION_METIER, LINK_DESCRIPTION)
    for record in catalog.records():
        for item in record.metier_labels:
            resolution = survey.index.resolve(item.text)
            if resolution.resolved:
                stats.ok()
            else:
                stats.miss(item.text, resolution.reason or "unresolved")
    link_rome_esco(sources.rome, links, rome_v3_codes=sources.rome_v3_labels, metier_rome=survey.rome)
    try:
        ideo = load_ideo_metiers()
    except InputError:
        pass  # the ingest reports the unreadable file; here there is nothing to count
    else:
        link_ideo_metiers(ideo, links, known_metiers=survey.rome.keys(), fiche_rome=survey.rome)
    return links


def _distinct(lists: Iterable[list[str]]) -> set[str]:
    return {value for values in lists for value in values}
