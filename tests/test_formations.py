"""ONISEP formations: the two parsers, the catalog, the mapper and the shapes, on the real files.

- every formation fiche (2,342) and Idéo record (5,776) parses with no fatal error; the catalog
  groups them by FOR id; the FOR ids the métier fiches cite (counted here by regex from the raw
  métier fiches) are resolved to a name and a level;
- FOR.5337 (BTS SIO SLAM), golden style: its fiche and its Idéo record map to two named graphs
  describing one node, with its type, sigle, duration, levels, codes and métiers (MET.799);
- the "Métiers associés" labels of all fiches are resolved against all real métier fiches;
- nothing is lost: every non-blank line of every source is found in its graph, by a checker
  that knows the markdown of the formats, not :mod:`pipeline.formations`;
- the shapes (``shapes/formations.shacl.ttl``) are valid SHACL and find no violation in the
  graphs of all sources; a FOR id that no source describes is a warning;
- malformed input (empty, not UTF-8, no title, a bad file among good ones) is reported with
  file and line.

The whole-corpus checks map and validate every source once, in a pool of two processes.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import re
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import resources as importlib_resources
from pathlib import Path

import pyshacl
import pytest
from rdflib import DCTERMS, PROV, RDF, RDFS, SDO, SKOS, XSD, Graph, Literal, URIRef

from pipeline import Mapper, ParseError, parse_metier, resources
from pipeline.emit import FicheGraph
from pipeline.formation_mapper import LINK_FORMATION_METIER, map_formation
from pipeline.formations import (
    FICHE,
    IDEO,
    FormationCatalog,
    FormationRecord,
    certification_level_number,
    iso_duration,
    load_formations,
    parse_formation_fiche,
    parse_ideo_formation,
)
from pipeline.linking import LinkReport, MetierIndex
from pipeline.referentials import load_referentials
from pipeline.validate import Severity, Validator
from pipeline.vocab import EQF, OKG, Ids

ROOT = Path(__file__).resolve().parent.parent
FICHES_DIR = resources.formation_fiches_dir()
IDEO_DIR = resources.ideo_formations_dir()
METIERS_DIR = resources.metier_fiches_dir()
SHAPES = ROOT / "shapes" / "formations.shacl.ttl"
IDS = Ids()
WHEN = datetime(2025, 10, 21, tzinfo=timezone.utc)

# seeds/onisep-fiches/README.md
README_FICHES = 2342
README_IDEO = 5776
README_CITED = 2433
README_CITED_DESCRIBED = 2394  # 2,342 have a fiche, 2,394 appear in ideo_formations/, 39 in neither
README_CITED_DANGLING = 39

CITED_RE = re.compile(r"\(ID:\s*(FOR\.\d+)\)")


# -- fixtures -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def catalog() -> FormationCatalog:
    return load_formations(FICHES_DIR, IDEO_DIR)


@pytest.fixture(scope="module")
def metier_index() -> MetierIndex:
    return MetierIndex(parse_metier(p.read_bytes(), str(p)) for p in sorted(METIERS_DIR.glob("*.md")))


@pytest.fixture(scope="module")
def cited_ids() -> set[str]:
    """The FOR ids the métier fiches cite, read from the raw files."""
    ids: set[str] = set()
    for path in METIERS_DIR.glob("*.md"):
        ids.update(CITED_RE.findall(path.read_text(encoding="utf-8")))
    return ids


def _map(record: FormationRecord, index: MetierIndex, links: LinkReport | None = None) -> FicheGraph:
    return map_formation(record, ids=IDS, metier_index=index, links=links or LinkReport(), when=WHEN)


# -- parsing and the catalog ------------------------------------------------------------------------
def test_every_source_parses_and_the_catalog_groups_them_by_for_id(catalog: FormationCatalog) -> None:
    assert [e.args[0] for e in catalog.failures] == []
    assert len(list(FICHES_DIR.glob("*.md"))) == README_FICHES
    assert len(list(IDEO_DIR.glob("*.md"))) == README_IDEO
    assert len(catalog.fiches) == README_FICHES
    assert len(catalog.ideo) == README_IDEO
    assert catalog.unlinked == []  # every Idéo record names its FOR id in its Onisep link
    both = catalog.fiches.keys() & catalog.ideo.keys()
    print(
        f"\nformations: {len(catalog.fiches)} fiches, {len(catalog.ideo)} Idéo records, "
        f"{len(catalog)} distinct FOR ids ({len(both)} described by both sources)"
    )
    assert len(catalog) == len(catalog.fiches.keys() | catalog.ideo.keys()) == 5776
    assert len(both) == 2342  # every formation fiche has its Idéo record
    assert all(r.kind == FICHE for r in catalog.fiches.values())
    assert all(r.kind == IDEO for r in catalog.ideo.values())
    # the two sources of one formation agree on its title and certification level
    for formation_id in both:
        fiche, ideo = catalog.sources(formation_id)
        assert (fiche.title.text, fiche.level_number) == (ideo.title.text, ideo.level_number), formation_id
    assert sum(1 for r in catalog.records() if r.issues) == 0


def test_the_for_ids_cited_by_metiers_resolve_to_a_name_and_a_level(
    catalog: FormationCatalog, cited_ids: set[str]
) -> None:
    assert len(cited_ids) == README_CITED
    summaries = {i: catalog.summary(i) for i in cited_ids}
    named = {i for i, s in summaries.items() if s is not None}
    with_level = {i for i, s in summaries.items() if s is not None and s[1] is not None}
    dangling = sorted(cited_ids - named, key=lambda i: int(i[4:]))
    no_level = named - with_level
    wordings = Counter(
        r.certification_level.text if r.certification_level else None
        for i in no_level
        for r in catalog.sources(i)
    )
    print(
        f"\ncited FOR ids: {len(cited_ids)}; with a name: {len(named)}; with a name and a "
        f"certification level: {len(with_level)}; named but no level: {len(no_level)} {dict(wordings)}; "
        f"described by no source: {len(dangling)} (e.g. {dangling[:5]})"
    )
    assert len(named) == README_CITED_DESCRIBED
    assert len(dangling) == README_CITED_DANGLING
    assert len(cited_ids & catalog.fiches.keys()) == README_FICHES
    # a cited formation without level is one "non inscrit au RNCP" in every source
    assert set(wordings) == {"non inscrit au RNCP"}
    assert len(with_level) == 2216
    assert catalog.summary("FOR.5337") == (
        "BTS services informatiques aux organisations option B solutions logicielles et applications métiers",
        5,
    )
    assert catalog.summary(dangling[0]) is None


# -- FOR.5337, golden style -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def for5337(
    catalog: FormationCatalog, metier_index: MetierIndex
) -> tuple[FicheGraph, FicheGraph, LinkReport]:
    links = LinkReport()
    fiche, ideo = catalog.sources("FOR.5337")
    return _map(fiche, metier_index, links), _map(ideo, metier_index, links), links


def test_for5337_fiche_and_idéo_record_describe_one_bts(
    for5337: tuple[FicheGraph, FicheGraph, LinkReport],
) -> None:
    fiche, ideo, links = for5337
    f = IDS.formation("FOR.5337")
    assert fiche.subject == ideo.subject == f
    assert fiche.graph_iri == IDS.graph("formation", "FOR.5337")
    assert ideo.graph_iri == IDS.graph("ideo-formation", "00279")
    g = fiche.graph + ideo.graph

    def one(p: URIRef) -> object:
        values = set(g.objects(f, p))
        assert len(values) == 1, (p, values)
        return values.pop()

    assert {OKG.Formation, SDO.EducationalOccupationalProgram} <= set(g.objects(f, RDF.type))
    assert one(DCTERMS.identifier) == Literal("FOR.5337")
    title = (
        "BTS services informatiques aux organisations option B solutions logicielles et applications métiers"
    )
    assert one(SDO.name) == Literal(title, lang="fr")
    bts = IDS.formation_type("brevet de technicien supérieur (BTS)")
    assert one(OKG.formationType) == bts
    assert set(g.objects(bts, RDF.type)) == {OKG.FormationType, SKOS.Concept}
    assert g.value(bts, SKOS.prefLabel) == Literal("brevet de technicien supérieur (BTS)", lang="fr")
    assert g.value(bts, SKOS.inScheme) == IDS.formation_type_scheme()
    assert one(OKG.sigle) == Literal("SIO SLAM")
    assert one(OKG.durationWording) == Literal("2 ans", lang="fr")
    assert one(SDO.timeToComplete) == Literal("P2Y", datatype=XSD.duration)
    assert one(OKG.certificationLevel) == IDS.level(5)
    assert one(OKG.certificationLevelWording) == Literal("niveau 5", lang="fr")
    assert g.value(IDS.level(5), SKOS.closeMatch) == EQF["5"]
    assert one(OKG.exitLevel) == IDS.level(5)
    assert one(OKG.exitLevelWording) == Literal("bac + 2", lang="fr")
    assert one(OKG.rncpCode) == Literal("40792")
    assert one(OKG.nsfCode) == Literal("326")
    assert one(OKG.codeScolarite) == Literal("32032614")  # plain literal: xsd:string in RDF 1.1
    assert one(OKG.tutelle) == Literal("Ministère de l'Enseignement supérieur et de la Recherche", lang="fr")
    assert set(g.objects(f, SDO.url)) == {
        Literal(
            "https://enqdip.sup.adc.education.fr/bts/referentiel/BTS_ServicesInformatiquesOrganisations.pdf",
            datatype=XSD.anyURI,
        ),
        Literal("https://www.onisep.fr/http/redirection/formation/slug/FOR.5337", datatype=XSD.anyURI),
    }
    systems = IDS.domain("informatique, Internet", "systèmes et réseaux")
    assert systems in set(g.objects(f, OKG.domain))
    assert len(set(g.objects(f, OKG.domain))) == 4
    assert g.value(systems, SKOS.prefLabel) == Literal("systèmes et réseaux", lang="fr")
    assert g.value(systems, SKOS.broader) == IDS.domain("informatique, Internet")
    assert g.value(IDS.domain("informatique, Internet"), SKOS.prefLabel) == Literal(
        "informatique, Internet", lang="fr"
    )
    assert g.value(systems, SKOS.inScheme) == IDS.domain_scheme()
    assert str(one(SDO.description)).startswith("Le BTS SIO option SLAM permet d'acquérir")
    assert str(one(OKG.accessConditions)).startswith(
        "Le BTS SIO option SLAM est accessible avec un bac pro CIEL"
    )
    assert str(one(OKG.furtherStudies)).startswith("Le BTS vise l'insertion professionnelle")
    expectations = sorted(str(e) for e in g.objects(f, OKG.parcoursupExpectation))
    assert len(expectations) == 5
    assert "Disposer de compétences pour le travail en équipe" in expectations

    # the métiers: every label as written, and okg:leadsTo the métiers they resolve to
    labels = {str(x) for x in g.objects(f, OKG.associatedMetierLabel)}
    assert len(labels) == 9 and "hot liner" in labels
    met799 = IDS.metier("MET.799")
    assert met799 in set(g.objects(f, OKG.leadsTo))
    assert (f, OKG.leadsTo, met799) in g  # the métier itself is described by its own fiche graph
    assert len(set(g.objects(f, OKG.leadsTo))) == 9
    assert links.stats(LINK_FORMATION_METIER).resolved == 9

    # each source has its own sections and its own provenance
    assert IDS.section("FOR.5337", 1) in set(fiche.graph.objects(f, OKG.hasSection))
    assert IDS.section("ideo-00279", 1) in set(ideo.graph.objects(f, OKG.hasSection))
    assert not set(fiche.graph.subjects(RDF.type, OKG.Section)) & set(
        ideo.graph.subjects(RDF.type, OKG.Section)
    )
    for fg in (fiche, ideo):
        source = fg.graph.value(fg.graph_iri, PROV.wasDerivedFrom)
        assert fg.graph.value(f, DCTERMS.source) == source
        assert fg.graph.value(fg.graph_iri, PROV.generatedAtTime) == Literal(WHEN, datatype=XSD.dateTime)

    # every value carries its source line
    assert fiche.source_map.line_of(f, OKG.sigle) == 6
    assert fiche.source_map.line_of(f, OKG.certificationLevel) == 8
    assert fiche.source_map.line_of(f, OKG.leadsTo) == 53
    assert ideo.source_map.line_of(f, OKG.rncpCode) == 12
    assert ideo.source_map.line_of(f, DCTERMS.identifier) == 19
    assert ideo.source_map.line_of(systems) == 26


# -- "Métiers associés" → métier fiches ---------------------------------------------------------
def test_associated_metier_labels_resolve_to_metier_fiches(
    catalog: FormationCatalog, metier_index: MetierIndex
) -> None:
    links = LinkReport()
    stats = links.stats(LINK_FORMATION_METIER)
    for record in catalog.fiches.values():
        resolution_count = stats.resolved
        graph = _map(record, metier_index, links)
        assert len(set(graph.graph.objects(graph.subject, OKG.leadsTo))) <= stats.resolved - resolution_count
    labels = sum(len(r.metier_labels) for r in catalog.fiches.values())
    distinct = {item.text for r in catalog.fiches.values() for item in r.metier_labels}
    assert stats.total == labels
    unresolved = sorted(stats.unresolved.items())
    print(
        f"\nformation→métier: {stats.resolved} of {stats.total} 'Métiers associés' labels resolved "
        f"({stats.resolved / stats.total:.2%}; {len(distinct)} distinct labels); "
        f"unresolved: {len(unresolved)}"
    )
    for (label, reason), n in unresolved:
        print(f"  {label!r} x{n}: {reason}")
    assert labels == 6461
    assert stats.resolved / stats.total >= 0.99


# -- the whole corpus: map, validate, nothing lost (in a pool of two processes) --------------------
HEADING = re.compile(r"^#{1,6}\s*")
ITEM = re.compile(r"^-(?:\s+|$)")
FIELD = re.compile(r"^\*\*(?P<key>[^*]+?):\*\*\s*(?P<value>.*)$")
LINK = re.compile(r"^\[(?P<text>[^\]]*)\]\((?P<url>[^)\s]*)\)$")
EMOJI = re.compile(r"^[^\w]+")
# The fields of the two formats; the key of any other field is content and must be found too.
KNOWN_FIELDS = frozenset(
    {
        "Code scolarité", "Sigle", "Durée", "Niveau de certification", "Type", "Lien", "Type de formation",
        "Niveau de sortie indicatif", "Code RNCP", "Niveau", "Code NSF", "Tutelle", "Fiche formation Onisep",
    }
)  # fmt: skip
NSF_KEY = "Code NSF"
LINK_KEYS = frozenset({"Lien", "Fiche formation Onisep"})


@dataclass(slots=True)
class SourceFacts:
    """What the check needs from one source's graph: its literals and a few parsed values."""

    literals: set[str] = field(default_factory=set)
    pieces: set[str] = field(default_factory=set)  # literals split on paragraph and line joints
    blob: str = ""
    identifiers: set[str] = field(default_factory=set)
    urls: set[str] = field(default_factory=set)
    nsf: set[str] = field(default_factory=set)
    domains: set[tuple[str, str | None]] = field(default_factory=set)  # (domain, sub-domain)

    @classmethod
    def from_graph(cls, graph: Graph) -> SourceFacts:
        facts = cls()
        for _s, _p, o in graph:
            if isinstance(o, Literal):
                facts.literals.add(str(o))
        for f in graph.subjects(RDF.type, OKG.Formation):
            facts.identifiers.update(str(x) for x in graph.objects(f, DCTERMS.identifier))
            facts.urls.update(str(x) for x in graph.objects(f, SDO.url))
            facts.nsf.update(str(x) for x in graph.objects(f, OKG.nsfCode))
            for d in graph.objects(f, OKG.domain):
                label = str(graph.value(d, SKOS.prefLabel))
                parent = graph.value(d, SKOS.broader)
                if parent is None:
                    facts.domains.add((label, None))
                else:
                    facts.domains.add((str(graph.value(parent, SKOS.prefLabel)), label))
        for lit in facts.literals:
            for paragraph in lit.split("\n\n"):
                facts.pieces.add(paragraph)
                facts.pieces.update(paragraph.split("\n"))
        facts.blob = "\x00".join(sorted(facts.literals))
        return facts

    def has_text(self, *texts: str) -> str | None:
        if any(t in self.literals for t in texts):
            return "literal"
        if any(t in self.pieces for t in texts):
            return "paragraph"
        if any(t and t in self.blob for t in texts):
            return "substring"
        return None


def strip_markdown(line: str) -> str:
    return ITEM.sub("", HEADING.sub("", line.strip(), count=1), count=1).strip()


def check_source(text: str, facts: SourceFacts) -> list[tuple[int, str, str | None]]:
    """(line number, raw line, how it was found or None) for each non-blank line of a source."""
    lines = text.splitlines()
    out: list[tuple[int, str, str | None]] = []
    section = ""
    for index, raw in enumerate(lines):
        stripped = raw.strip()
        if not stripped:
            continue
        column0 = raw[0] not in " \t"
        if column0 and stripped.startswith("## "):
            section = EMOJI.sub("", stripped[3:]).strip()
        fm = FIELD.match(stripped) if column0 else None
        if fm is not None:
            how = _field(fm["key"].strip(), fm["value"].strip(), facts)
        elif column0 and ITEM.match(stripped) and section == "Domaines":
            domain, slash, sub = strip_markdown(stripped).partition("/")
            how = "domain" if (domain.strip(), sub.strip() if slash else None) in facts.domains else None
        elif ITEM.match(stripped) and not strip_markdown(stripped):
            # a bare "-" marker: its text is on the next non-blank line; found as that list item
            nxt = next((line.strip() for line in lines[index + 1 :] if line.strip()), "")
            how = "list marker" if f"- {nxt}" in facts.pieces else None
        else:
            # a list item's text is kept as "- <text>" (on its own line or after a bare marker)
            text_ = strip_markdown(stripped)
            how = facts.has_text(text_, stripped, f"- {text_}")
        out.append((index + 1, raw, how))
    return out


def _field(key: str, value: str, facts: SourceFacts) -> str | None:
    name = EMOJI.sub("", key).strip()
    if name not in KNOWN_FIELDS:
        key_found = facts.has_text(key)
        return key_found and (f"field {key_found}" if not value else facts.has_text(value) and "field")
    if not value:
        return None
    if name in LINK_KEYS:
        m = LINK.match(value)
        url = m["url"] if m else value
        if url not in facts.urls:
            return None
        if name == "Fiche formation Onisep":
            for_id = re.search(r"FOR\.\d+", url)
            if for_id is None or for_id[0] not in facts.identifiers:
                return None
        return "schema:url"
    if name == NSF_KEY:
        codes = [c.strip() for c in value.split("|")]
        return "okg:nsfCode" if all(c in facts.nsf for c in codes) else None
    return facts.has_text(value)


_STATE: dict[str, object] = {}


def _work(indexes: list[int]) -> list[dict]:
    """Map, validate and check a chunk of records (run in a forked worker)."""
    records: list[FormationRecord] = _STATE["records"]  # type: ignore[assignment]
    index: MetierIndex = _STATE["index"]  # type: ignore[assignment]
    validator = _STATE.get("validator")
    if validator is None:
        validator = _STATE["validator"] = Validator(SHAPES)
    out = []
    for i in indexes:
        record = records[i]
        links = LinkReport()
        graph = _map(record, index, links)
        findings = validator.validate(graph.graph, graph.source_map)  # type: ignore[attr-defined]
        text = Path(record.source).read_text(encoding="utf-8")
        checks = check_source(text, SourceFacts.from_graph(graph.graph))
        stats = links.stats(LINK_FORMATION_METIER)
        out.append(
            {
                "source": record.source,
                "kind": record.kind,
                "triples": len(graph.graph),
                "findings": [(f.severity, f.shape, f.line, f.message) for f in findings],
                "checked": len(checks),
                "plain": sum(1 for line in text.splitlines() if line.strip()),
                "how": Counter(how or "MISSING" for _n, _raw, how in checks),
                "missing": [(n, raw.strip()[:100]) for n, raw, how in checks if how is None],
                "resolved": stats.resolved,
                "unresolved": dict(stats.unresolved),
            }
        )
    return out


@pytest.fixture(scope="module")
def corpus_results(catalog: FormationCatalog, metier_index: MetierIndex) -> list[dict]:
    records = list(catalog.records())
    _STATE.update(records=records, index=metier_index)
    chunks = [list(range(i, min(i + 100, len(records)))) for i in range(0, len(records), 100)]
    if "fork" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
            return [row for chunk in pool.map(_work, chunks) for row in chunk]
    return [row for chunk in chunks for row in _work(chunk)]  # pragma: no cover - no fork


@pytest.mark.slow
def test_nothing_lost_every_line_of_every_source_is_in_its_graph(corpus_results: list[dict]) -> None:
    assert len(corpus_results) == README_FICHES + README_IDEO
    checked = sum(r["checked"] for r in corpus_results)
    how = sum((r["how"] for r in corpus_results), Counter())
    print(
        f"\nnothing lost: {checked} non-blank lines checked in {len(corpus_results)} sources "
        f"({sum(r['triples'] for r in corpus_results)} triples); found as {dict(how)}"
    )
    missing = {r["source"]: r["missing"] for r in corpus_results if r["missing"]}
    report = "\n".join(
        f"{s}:\n" + "\n".join(f"  line {n}: {t!r}" for n, t in lines) for s, lines in missing.items()
    )
    assert not missing, f"{sum(len(v) for v in missing.values())} line(s) not in the graph:\n{report[:5000]}"
    assert checked == sum(r["plain"] for r in corpus_results)


@pytest.mark.slow
def test_the_shapes_find_no_violation_in_the_graphs_of_all_sources(corpus_results: list[dict]) -> None:
    counts = Counter((sev, shape) for r in corpus_results for sev, shape, _line, _msg in r["findings"])
    print("\nformation findings by shape:")
    for (sev, shape), n in sorted(counts.items(), key=lambda x: (-x[0][0], x[0][1])):
        print(f"  {sev.label:9} {shape}: {n}")
    violations = [
        f"{r['source']}:{line}: {msg} ({shape})"
        for r in corpus_results
        for sev, shape, line, msg in r["findings"]
        if sev == Severity.VIOLATION
    ]
    assert violations == []
    # what is left is known gaps of the data: exit level wordings such as "non renseigné"
    assert {shape for _sev, shape in counts} <= {"okgsh:FormationProgram-exitLevelUnderstood"}
    # the resolution counted by the mapper in the workers agrees with the sequential count
    resolved = sum(r["resolved"] for r in corpus_results)
    unresolved = sum(sum(r["unresolved"].values()) for r in corpus_results)
    assert resolved + unresolved == 6461


# -- the shapes ---------------------------------------------------------------------------------------
def test_the_shapes_are_valid_shacl() -> None:
    shapes = Graph().parse(SHAPES, format="turtle")
    asset = importlib_resources.files("pyshacl") / "assets" / "shacl-shacl.ttl"
    shacl_shacl = Graph().parse(str(asset), format="turtle")
    conforms, _report, text = pyshacl.validate(shapes, shacl_graph=shacl_shacl, inference="none")
    assert conforms, text
    SH = URIRef("http://www.w3.org/ns/shacl#")
    # every shape has an IRI and an English message
    for kind in ("NodeShape", "PropertyShape"):
        for shape in shapes.subjects(RDF.type, URIRef(f"{SH}{kind}")):
            assert isinstance(shape, URIRef), shape
            assert shapes.value(shape, URIRef(f"{SH}message")) is not None, shape
            assert shapes.value(shape, RDFS.label) is not None, shape
    assert not list(shapes.subject_objects(URIRef(f"{SH}node")))


def test_a_for_id_no_source_describes_is_a_warning(catalog: FormationCatalog, cited_ids: set[str]) -> None:
    """The métier graphs citing a dangling FOR id, mapped with the catalog's summaries as
    referential (the métier mapper then gives each described formation its name and level):
    exactly the dangling ids are warned about, at the line citing them."""
    dangling = {i for i in cited_ids if catalog.summary(i) is None}
    refs = dataclasses.replace(load_referentials(), formations=catalog.summaries())
    mapper = Mapper(refs, ids=IDS)
    validator = Validator(SHAPES)
    warned: set[str] = set()
    fiches = 0
    for path in sorted(METIERS_DIR.glob("*.md")):
        record = parse_metier(path.read_bytes(), str(path))
        if not {ref.formation_id for ref in record.formations} & dangling:
            continue
        fiches += 1
        fg = mapper.map_metier(record)
        for ref in record.formations:
            summary = catalog.summary(ref.formation_id)
            name = fg.graph.value(IDS.formation(ref.formation_id), SDO.name)
            assert (name is None) is (summary is None), ref
        for f in validator.validate(fg.graph, fg.source_map):
            assert (f.severity, f.shape) == (Severity.WARNING, "okgsh:FormationProgram-described"), f.format()
            citing = {
                ref.line for ref in record.formations if f.focus == str(IDS.formation(ref.formation_id))
            }
            assert f.line in citing, f.format()
            warned.add(f.focus.rsplit("/", 1)[1])  # type: ignore[union-attr]
    print(f"\n{len(dangling)} dangling FOR ids, cited by {fiches} métier fiches, all warned about")
    assert warned == dangling


def test_with_all_shapes_only_the_known_conflicts_of_the_core_shapes_remain(
    for5337: tuple[FicheGraph, FicheGraph, LinkReport],
) -> None:
    """The core shapes were written for métier graphs: they want a graph's dcterms:subject to be
    an okg:Metier, and every okg:Metier to be a full métier (labels, scheme, source). A formation
    graph, whose subject is a formation and whose métiers are link targets, breaks only those."""
    validator = Validator()  # every shapes file, core included
    findings = [f for fg in for5337[:2] for f in validator.validate(fg.graph, fg.source_map)]
    conflicts = {f.shape for f in findings if f.severity == Severity.VIOLATION}
    print("\nall shapes on FOR.5337:", dict(Counter((f.severity.label, f.shape) for f in findings)))
    assert conflicts <= {"okgsh:FicheGraph-subject"} | {
        f"okgsh:Metier-{p}"
        for p in (
            "identifier",
            "prefLabel",
            "inScheme",
            "xlPrefLabel",
            "source",
            "type-occupation",
            "type-concept",
        )
    }
    assert not [f for f in findings if "Formation" in f.shape and f.severity != Severity.INFO]


# -- values -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("wording", "iso"),
    [("2 ans", "P2Y"), ("1 an", "P1Y"), ("6 mois", "P6M"), ("10 ans", "P10Y"), ("3 semaines", "P21D"),
     ("35 heures", "PT35H"), ("variable", None), ("", None), ("2 à 3 ans", None)],
)  # fmt: skip
def test_durations(wording: str, iso: str | None) -> None:
    assert iso_duration(wording) == iso


def test_certification_levels() -> None:
    assert certification_level_number("niveau 5") == 5
    assert certification_level_number("Niveau  8") == 8
    assert certification_level_number("non inscrit au RNCP") is None
    assert certification_level_number("niveau 9") is None
    assert certification_level_number("bac + 2") is None


# -- edge and malformed inputs ---------------------------------------------------------------------
FICHE_TEXT = """\
# BTS testeur de formations

## Informations générales

**Sigle:** TF
**Durée:** 6 mois
**Niveau de certification:** niveau 4
**Type:** brevet de technicien supérieur (BTS)
**Mise à jour:** octobre 2025

## Description

Une formation pour tester.
            -\x20
                Premier point de la liste
Texte libre de fin

## Atelier

### Un intertitre
            Une section que le parseur ne connaît pas.

## Attendus

### Attendus nationaux de la plateforme d'inscription dans l'enseignement supérieur Parcoursup
            GROUPE
                -\x20
                    Savoir tester
                    avec méthode
                - Savoir conclure

## Métiers associés

- hot liner
- métier qui n'existe pas
"""

IDEO_TEXT = """\
# Formation sans lien

## 📋 Informations générales

**Type de formation:** titre professionnel (TP)
**Niveau de sortie indicatif:** non renseigné

## 🎓 Certification

**Niveau:** non inscrit au RNCP
**Code NSF:** 326 | 320

## 🎯 Domaines

- sciences
- informatique, Internet/systèmes et réseaux
"""


def test_a_hand_made_fiche_keeps_every_line(tmp_path: Path, metier_index: MetierIndex) -> None:
    path = tmp_path / "FOR.990001_testeur.md"
    path.write_text(FICHE_TEXT, encoding="utf-8")
    record = parse_formation_fiche(path.read_bytes(), str(path))
    assert record.formation_id == "FOR.990001"
    assert record.issues == []
    assert [x.key for x in record.extra_fields] == ["Mise à jour"]
    assert [s.title for s in record.sections] == [
        "Informations générales",
        "Description",
        "Atelier",
        "Attendus",
        "Métiers associés",
    ]
    assert [e.text for e in record.expectations] == ["Savoir tester\navec méthode", "Savoir conclure"]
    assert record.description is not None
    assert (
        record.description.text
        == "Une formation pour tester.\n\n- Premier point de la liste\n\nTexte libre de fin"
    )
    links = LinkReport()
    fg = _map(record, metier_index, links)
    stats = links.stats(LINK_FORMATION_METIER)
    assert stats.resolved == 1
    assert list(stats.unresolved) == [
        ("métier qui n'existe pas", "no métier has this name, gendered form or synonym")
    ]
    assert fg.graph.value(fg.subject, SDO.timeToComplete) == Literal("P6M", datatype=XSD.duration)
    checks = check_source(FICHE_TEXT, SourceFacts.from_graph(fg.graph))
    assert [(n, raw) for n, raw, how in checks if how is None] == []
    assert len(checks) == sum(1 for line in FICHE_TEXT.splitlines() if line.strip())
    assert Validator(SHAPES).validate(fg.graph, fg.source_map) == []

    # the checker can fail: a line that is not in the source, a value the graph lost
    extra = FICHE_TEXT.replace("Texte libre de fin", "Texte libre de fin\nUne ligne absente du graphe")
    assert [raw for _n, raw, how in check_source(extra, SourceFacts.from_graph(fg.graph)) if how is None] == [
        "Une ligne absente du graphe"
    ]
    fewer = Graph()
    for t in fg.graph:
        if t[1] != OKG.associatedMetierLabel:
            fewer.add(t)
    assert [
        raw for _n, raw, how in check_source(FICHE_TEXT, SourceFacts.from_graph(fewer)) if how is None
    ] == [
        "- hot liner",
        "- métier qui n'existe pas",
    ]


def test_an_ideo_record_without_for_link_is_kept_and_flagged(
    tmp_path: Path, metier_index: MetierIndex
) -> None:
    path = tmp_path / "formation_99999_sans_lien.md"
    path.write_text(IDEO_TEXT, encoding="utf-8")
    record = parse_ideo_formation(path.read_bytes(), str(path))
    assert (record.formation_id, record.key, record.graph_key) == (None, "ideo-99999", "99999")
    assert [i.message for i in record.issues] == [
        "no '**🔗 Fiche formation Onisep:**' link; the record has no FOR id"
    ]
    assert [(d.domain, d.sub_domain) for d in record.domains] == [
        ("sciences", None),
        ("informatique, Internet", "systèmes et réseaux"),
    ]
    assert [n.text for n in record.nsf] == ["326", "320"]
    fg = _map(record, metier_index)
    assert fg.subject == IDS.formation("ideo-99999")
    assert fg.graph_iri == IDS.graph("ideo-formation", "99999")
    checks = check_source(IDEO_TEXT, SourceFacts.from_graph(fg.graph))
    assert [(n, raw) for n, raw, how in checks if how is None] == []
    found = Counter((f.severity.label, f.shape) for f in Validator(SHAPES).validate(fg.graph, fg.source_map))
    assert found == {
        ("Violation", "okgsh:FormationProgram-identifier"): 1,
        ("Info", "okgsh:FormationProgram-exitLevelUnderstood"): 1,
    }
    catalog = load_formations(None, tmp_path)
    assert [r.key for r in catalog.unlinked] == ["ideo-99999"] and len(catalog) == 0


@pytest.mark.parametrize("parser", [parse_formation_fiche, parse_ideo_formation])
@pytest.mark.parametrize(
    ("data", "line", "expected"),
    [
        (b"", 1, "empty file"),
        (b"\n  \n\n", 1, "empty file"),
        (b"# Titre\n\n**Sigle:** caf\xe9\n", 3, "not UTF-8"),
        (b"\n\n**Sigle:** TF\n", 3, "expected the title line"),
        (b"# Titre\n\x00\n", 2, "binary content"),
    ],
)
def test_malformed_input_names_file_and_line(parser, data: bytes, line: int, expected: str) -> None:  # type: ignore[no-untyped-def]
    name = "FOR.1_x.md" if parser is parse_formation_fiche else "formation_00001_x.md"
    with pytest.raises(ParseError) as info:
        parser(data, f"some/dir/{name}")
    assert info.value.source == f"some/dir/{name}"
    assert info.value.line == line
    assert expected in info.value.message
    assert str(info.value).startswith(f"some/dir/{name}:{line}: ")


def test_a_fiche_file_name_without_for_id_is_an_error() -> None:
    with pytest.raises(ParseError, match="FOR.<n>_<slug>.md"):
        parse_formation_fiche(b"# Titre\n", "formations/sans-identifiant.md")


def test_a_bad_file_is_reported_and_the_others_are_loaded(tmp_path: Path) -> None:
    fiches, ideo = tmp_path / "formations", tmp_path / "ideo"
    fiches.mkdir()
    ideo.mkdir()
    good = next(FICHES_DIR.glob("FOR.5337_*.md"))
    (fiches / good.name).write_bytes(good.read_bytes())
    (fiches / "FOR.2_vide.md").write_bytes(b"")
    (fiches / "FOR.3_latin1.md").write_bytes("# Forma\n\n**Sigle:** caf\xe9\n".encode("latin-1"))
    (fiches / "FOR.4_double.md").write_text("# Doublon\n", encoding="utf-8")
    (fiches / "FOR.4_doublon.md").write_text("# Doublon\n", encoding="utf-8")
    (fiches / "README.md").write_text("not a fiche", encoding="utf-8")
    for path in IDEO_DIR.glob("formation_0027[89]_*.md"):
        (ideo / path.name).write_bytes(path.read_bytes())
    catalog = load_formations(fiches, ideo)
    assert list(catalog.fiches) == ["FOR.5337"]
    assert len(catalog.ideo) == 2 and "FOR.5337" in catalog.ideo
    where = sorted((Path(e.source).name, e.line, e.message) for e in catalog.failures)
    assert [(name, line) for name, line, _m in where] == [
        ("FOR.2_vide.md", 1),
        ("FOR.3_latin1.md", 3),
        ("FOR.4_double.md", 1),
        ("FOR.4_doublon.md", 1),
    ]
    assert where[0][2].startswith("empty file")
    assert where[1][2].startswith("not UTF-8: byte 0xE9")
    assert where[2][2].startswith("FOR.4 is also described by ") and "FOR.4_doublon.md; " in where[2][2]
    assert where[3][2].startswith("FOR.4 is also described by ") and "FOR.4_double.md; " in where[3][2]
    assert catalog.summary("FOR.5337") is not None and catalog.summary("FOR.4") is None


# -- the emitter's shortcuts give what rdflib and Ids give -------------------------------------------
@pytest.mark.parametrize(
    "text", ["BTS SIO", "", " deux  espaces ", "l’apostrophe\nà la ligne", "🎓 niveau 5"]
)
def test_the_literals_the_mappers_build_are_rdflib_s(text: str) -> None:
    from pipeline.emit import fr, integer, plain

    for ours, theirs in ((fr(text), Literal(text, lang="fr")), (plain(text), Literal(text))):
        assert type(ours) is Literal and ours == theirs and hash(ours) == hash(theirs)
        assert (ours.language, ours.datatype, ours.value, ours.ill_typed) == (
            theirs.language,
            theirs.datatype,
            theirs.value,
            theirs.ill_typed,
        )
    assert integer(3) is integer(3) and integer(3) == Literal(3, datatype=XSD.integer)
    assert integer(True) == Literal(True, datatype=XSD.integer) and integer(True) is not integer(1)


def test_section_iris_are_those_ids_mints() -> None:
    from pipeline.emit import Emitter
    from pipeline.records import Item, Part, Section

    class OtherIds(Ids):  # mints its own way: the emitter must not assume the default layout
        def part(self, metier_id: str, section: int, order: int) -> URIRef:
            return self._iri(f"section/{metier_id}/{section}/{order}")

    sections = [
        Section(f"Titre {n}", n, tuple(Part(None, None, (Item(f"p{k}", n),)) for k in range(12)))
        for n in range(1, 13)
    ]
    for ids in (Ids(), OtherIds()):
        e = Emitter(ids, "x.md")
        owner = ids.formation("FOR.1")
        e.sections(owner, "FOR.1", sections)
        expected = {ids.section("FOR.1", n) for n in range(1, 13)}
        expected |= {ids.part("FOR.1", n, k) for n in range(1, 13) for k in range(1, 13)}
        assert set(e.map.nodes) == expected
        assert len(e.triples) == sum(1 for _ in e.triples)


def test_one_mapper_for_many_records_maps_each_as_map_formation_does(
    catalog: FormationCatalog, metier_index: MetierIndex
) -> None:
    from pipeline.formation_mapper import FormationMapper

    records = [r for r in catalog.records()][::97]
    links_one, links_each = LinkReport(), LinkReport()
    mapper = FormationMapper(ids=IDS, metier_index=metier_index, links=links_one, when=WHEN)
    for record in records:
        ours, theirs = mapper.map(record), _map(record, metier_index, links_each)
        assert list(ours.data) == list(theirs.data)
        assert (ours.graph_iri, ours.subject, ours.source_map) == (
            theirs.graph_iri,
            theirs.subject,
            theirs.source_map,
        )
    assert links_one.to_json() == links_each.to_json()


def test_the_display_names_of_a_folder_are_those_of_each_file(tmp_path: Path) -> None:
    from pipeline.formations import _display, _displays, _md_files

    files = _md_files(FICHES_DIR)
    assert files == sorted(files)
    assert _displays(files) == [_display(p) for p in files]
    (tmp_path / "a").mkdir()
    mixed = [files[0], tmp_path / "a" / "x.md", files[1]]
    assert _displays(mixed) == [_display(p) for p in mixed]
    assert _displays([]) == []
