"""ROME v4.60 and the ESCO ↔ ROME crosswalk, on the real files shipped in ``seeds/``.

What is checked:

* the readers: row counts, relation counts, line numbers, and a clear error (file, line, what was
  expected) for each kind of broken input;
* nothing is lost: every value of every mapped column of every row is in the graph;
* the chain works by SPARQL (pyoxigraph): the label "Technicien / Technicienne de hot line en
  informatique" → appellation → v4 métier → ROME v3 I1401 → the ONISEP métiers citing I1401, and
  MET.799 reaches exactly the ESCO occupations the raw CSVs give for I1401's appellations;
* the corpus figures: ROME v3 codes and métier fiches that reach ESCO;
* the shapes: valid SHACL, no violation on the real graphs, and the intended finding on broken ones.
"""

from __future__ import annotations

import csv
import dataclasses
import re
import time
from collections import Counter
from collections.abc import Iterable
from importlib import resources as importlib_resources
from pathlib import Path

import pyoxigraph as ox
import pyshacl
import pytest
from rdflib import DCTERMS, RDF, RDFS, SDO, SKOS, XSD, BNode, Graph, Literal, URIRef
from rdflib.namespace import SH

from pipeline import Mapper, parse_metier, resources
from pipeline.emit import FicheGraph
from pipeline.errors import InputError
from pipeline.linking import LinkReport
from pipeline.referentials import load_referentials, load_rome_v3
from pipeline.rome_esco import (
    APPELLATION_COLUMNS,
    ESCO_OCCUPATIONS,
    METIER_COLUMNS,
    Crosswalk,
    CrosswalkRow,
    EscoIndex,
    RomeEsco,
    RomeEscoMapper,
    link_rome_esco,
    load_rome_esco,
    parse_esco_crosswalk,
    parse_rome_v4_appellations,
    parse_rome_v4_metiers,
)
from pipeline.validate import Severity, Validator
from pipeline.vocab import OKG, SKOSXL, Ids

IDS = Ids()
SHAPES = resources.shapes_file().parent / "rome-esco.shacl.ttl"
METIERS_CSV = resources.rome_v4_metiers_file()
APPELLATIONS_CSV = resources.rome_v4_appellations_file()
CROSSWALK_CSV = resources.esco_crosswalk_file()
MATCHES = {"skos:exactMatch", "skos:closeMatch", "skos:broadMatch", "skos:narrowMatch"}
HOT_LINE = "Technicien / Technicienne de hot line en informatique"
PREFIXES = """
PREFIX okg: <https://w3id.org/onisep-kg/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX skosxl: <http://www.w3.org/2008/05/skos-xl#>
PREFIX id: <https://w3id.org/onisep-kg/id/>
"""


# -- the raw side, read independently of the module under test ------------------------------------
def raw_csv(path: Path, skip: int = 0) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        for _ in range(skip):
            next(f)
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def raw_metiers() -> list[dict[str, str]]:
    return raw_csv(METIERS_CSV)


@pytest.fixture(scope="module")
def raw_appellations() -> list[dict[str, str]]:
    return raw_csv(APPELLATIONS_CSV)


@pytest.fixture(scope="module")
def raw_crosswalk() -> list[dict[str, str]]:
    return raw_csv(CROSSWALK_CSV, skip=15)  # 14 preamble lines and a blank line


def fiche_rome_codes() -> dict[str, list[str]]:
    """MET id → the ``- code`` lines under ``**Codes ROME:**``, by regex over the real fiches."""
    codes: dict[str, list[str]] = {}
    for path in sorted(resources.metier_fiches_dir().glob("*.md")):
        text = path.read_text(encoding="utf-8")
        met = re.search(r"^\*\*ID:\*\* (MET\.\d+)$", text, re.MULTILINE)
        assert met is not None, path
        block = re.search(r"^\*\*Codes ROME:\*\*[ \t]*\n((?:[ \t]*\n|- [^\n]*\n?)*)", text, re.MULTILINE)
        codes[met[1]] = re.findall(r"^- (.*?)\s*$", block[1], re.MULTILINE) if block else []
    return codes


# -- the module side ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def validator() -> Validator:
    """This module's shapes only, compiled once."""
    return Validator([SHAPES])


@pytest.fixture(scope="module")
def v3_labels() -> dict[str, str]:
    return load_rome_v3(resources.rome_v3_file())


@pytest.fixture(scope="module")
def loaded() -> tuple[RomeEsco, float]:
    start = time.perf_counter()
    data = load_rome_esco()
    return data, time.perf_counter() - start


@pytest.fixture(scope="module")
def data(loaded: tuple[RomeEsco, float]) -> RomeEsco:
    return loaded[0]


@pytest.fixture(scope="module")
def mapped(data: RomeEsco, v3_labels: dict[str, str], loaded: tuple[RomeEsco, float]) -> list[FicheGraph]:
    start = time.perf_counter()
    graphs = RomeEscoMapper(v3_labels, ids=IDS).map_all(data)
    print(
        f"\nread {loaded[1]:.2f} s, mapped {time.perf_counter() - start:.2f} s: "
        + ", ".join(f"{g.graph_iri.rsplit('/', 1)[1]} {len(g.graph):,} triples" for g in graphs)
    )
    return graphs


@pytest.fixture(scope="module")
def metiers_graph(mapped: list[FicheGraph]) -> Graph:
    return mapped[0].graph


@pytest.fixture(scope="module")
def appellations_graph(mapped: list[FicheGraph]) -> Graph:
    return mapped[1].graph


@pytest.fixture(scope="module")
def crosswalk_graph(mapped: list[FicheGraph]) -> Graph:
    return mapped[2].graph


def _ox(term: object) -> ox.NamedNode | ox.Literal | ox.BlankNode:
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    assert isinstance(term, Literal)
    if term.language:
        return ox.Literal(str(term), language=term.language)
    if term.datatype is not None and term.datatype != XSD.string:
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
    return ox.Literal(str(term))


def load(store: ox.Store, graph_iri: URIRef, graph: Graph) -> None:
    g = ox.NamedNode(str(graph_iri))
    store.extend(ox.Quad(_ox(s), _ox(p), _ox(o), g) for s, p, o in graph)


@pytest.fixture(scope="module")
def store(mapped: list[FicheGraph]) -> ox.Store:
    """The three graphs, plus the graphs of the métier fiches citing I1401, in pyoxigraph."""
    store = ox.Store()
    for fg in mapped:
        load(store, fg.graph_iri, fg.graph)
    mapper = Mapper(load_referentials(), ids=IDS)
    for path in sorted(resources.metier_fiches_dir().glob("*.md")):
        data = path.read_bytes()
        if b"- I1401" in data:
            fiche = mapper.map_metier(parse_metier(data, str(path)))
            load(store, fiche.graph_iri, fiche.graph)
    return store


def select(store: ox.Store, query: str) -> list[tuple[str, ...]]:
    results = store.query(PREFIXES + query, use_default_graph_as_union=True)
    return [tuple(term.value for term in row) for row in results]  # type: ignore[union-attr]


# -- readers --------------------------------------------------------------------------------------
def test_the_readers_read_every_row(
    data: RomeEsco,
    raw_metiers: list[dict[str, str]],
    raw_appellations: list[dict[str, str]],
    raw_crosswalk: list[dict[str, str]],
) -> None:
    assert len(data.metiers.rows) == len(raw_metiers) == 1584
    assert len(data.appellations.rows) == len(raw_appellations) == 13120
    assert len(data.crosswalk.rows) == len(raw_crosswalk) == 11118
    relations = Counter(row.relation for row in data.crosswalk.rows)
    assert relations == {
        "skos:broadMatch": 5086,
        "skos:closeMatch": 4597,
        "skos:exactMatch": 1144,
        "skos:narrowMatch": 291,
    }
    assert relations == Counter(r["mapping relation"] for r in raw_crosswalk)
    assert len({row.esco_uri for row in data.crosswalk.rows}) == 1915
    assert len({row.code_rome_parent for row in data.metiers.rows}) == 532
    assert len({row.code_rome_parent for row in data.appellations.rows}) == 532
    assert Counter(row.classification for row in data.appellations.rows) == {
        "SYNONYME": 11536,
        "PRINCIPALE": 1584,
    }
    assert [(m.line, m.key, m.value) for m in data.crosswalk.metadata][:4] == [
        (1, "Mapping project name", "ESCO - ROME"),
        (2, "Mapping project author", "Pôle emploi - France"),
        (3, "Mapping project version", "V1.4"),
        (4, "Mapping project version date", "07/06/2022"),
    ]
    assert len(data.crosswalk.metadata) == 14


def test_rows_keep_their_line(data: RomeEsco) -> None:
    assert [r.line for r in data.metiers.rows] == list(range(2, 1586))
    assert [r.line for r in data.appellations.rows] == list(range(2, 13122))
    assert [r.line for r in data.crosswalk.rows] == list(range(17, 17 + 11118))
    (hot_line,) = [r for r in data.appellations.rows if r.code_ogr == "19778"]
    assert (hot_line.line, hot_line.libelle_long, hot_line.code_rome, hot_line.code_rome_parent) == (
        9398,
        HOT_LINE,
        "I1404",
        "I1401",
    )
    (mapping,) = [r for r in data.crosswalk.rows if r.code_ogr == "19778"]
    assert (mapping.line, mapping.relation) == (7106, "skos:broadMatch")


# -- nothing lost ---------------------------------------------------------------------------------
def _fr(text: str) -> Literal:
    return Literal(text, lang="fr")


def _flag(value: str) -> Literal | None:
    return {"O": Literal(True, datatype=XSD.boolean), "N": Literal(False, datatype=XSD.boolean)}.get(value)


FLAG_PROPS = {
    "transition_num": OKG.digitalTransition,
    "transition_demo": OKG.demographicTransition,
    "emploi_reglemente": OKG.regulatedOccupation,
    "emploi_cadre": OKG.managerialOccupation,
}


def _check_flags(g: Graph, node: URIRef, row: dict[str, str], missing: list[str], where: str) -> None:
    if row["transition_eco"] and (node, OKG.ecologicalTransition, _fr(row["transition_eco"])) not in g:
        missing.append(f"{where} transition_eco")
    for column, prop in FLAG_PROPS.items():
        value = _flag(row[column])
        if value is None:
            if (node, prop, None) in g:
                missing.append(f"{where} {column} is empty but the graph has a value")
        elif (node, prop, value) not in g:
            missing.append(f"{where} {column}")


def test_every_metier_row_reaches_the_graph(
    raw_metiers: list[dict[str, str]], metiers_graph: Graph, v3_labels: dict[str, str]
) -> None:
    g, missing = metiers_graph, []
    for line, row in enumerate(raw_metiers, 2):
        m = IDS.rome_v4(row["code_rome"])
        parent = IDS.rome(row["code_rome_parent"])
        expected = [
            (m, RDF.type, OKG.RomeMetier),
            (m, RDF.type, SKOS.Concept),
            (m, SKOS.notation, Literal(row["code_rome"])),
            (m, SKOS.prefLabel, _fr(row["libelle_rome"])),
            (m, SKOS.inScheme, IDS.rome_v4_scheme()),
            (m, DCTERMS.identifier, Literal(row["code_ogr"])),
            (m, OKG.ficheMetierCode, Literal(row["code_fiche_metier"])),
            (m, SKOS.broader, parent),
            (parent, RDF.type, OKG.RomeCode),
            (parent, SKOS.notation, Literal(row["code_rome_parent"])),
            (parent, SKOS.prefLabel, _fr(v3_labels[row["code_rome_parent"]])),
            (parent, SKOS.broader, IDS.rome(row["code_rome_parent"][:3])),
            (IDS.rome(row["code_rome_parent"][:3]), SKOS.broader, IDS.rome(row["code_rome_parent"][:1])),
        ]
        missing += [f"line {line}: {t}" for t in expected if t not in g]
        _check_flags(g, m, row, missing, f"line {line}")
    assert not missing, missing[:20]
    assert len(set(g.subjects(RDF.type, OKG.RomeMetier))) == 1584
    assert len(set(g.subjects(RDF.type, OKG.RomeCode))) == 532


def test_every_appellation_row_reaches_the_graph(
    raw_appellations: list[dict[str, str]], appellations_graph: Graph
) -> None:
    g, missing = appellations_graph, []
    for line, row in enumerate(raw_appellations, 2):
        a, label = IDS.rome_appellation(row["code_ogr"]), IDS.rome_appellation_label(row["code_ogr"])
        m = IDS.rome_v4(row["code_rome"])
        xl = SKOSXL.prefLabel if row["classification"] == "PRINCIPALE" else SKOSXL.altLabel
        expected = [
            (a, RDF.type, OKG.RomeAppellation),
            (a, RDF.type, SKOS.Concept),
            (a, SKOS.notation, Literal(row["code_ogr"])),
            (a, SKOS.prefLabel, _fr(row["libelle_appellation_long"])),
            (a, SKOS.broader, m),
            (a, SKOSXL.prefLabel, label),
            (label, RDF.type, SKOSXL.Label),
            (label, SKOSXL.literalForm, _fr(row["libelle_appellation_long"])),
            (m, xl, label),
            (a, OKG.romeParent, IDS.rome(row["code_rome_parent"])),
            (a, OKG.rarelyUsed, _flag(row["peu_usite"])),
        ]
        if row["libelle_appellation_court"] != row["libelle_appellation_long"]:
            expected.append((a, SKOS.altLabel, _fr(row["libelle_appellation_court"])))
        missing += [f"line {line}: {t}" for t in expected if t not in g]
        _check_flags(g, a, row, missing, f"line {line}")
        # the one column not mapped is empty in every row of v4.60
        assert row["origine"] == "", f"line {line}: origine {row['origine']!r} would be lost"
    assert not missing, missing[:20]
    assert len(set(g.subjects(RDF.type, OKG.RomeAppellation))) == 13120
    assert (
        len(set(g.subjects(SKOSXL.prefLabel, None)) & set(g.subjects(RDF.type, OKG.RomeAppellation))) == 13120
    )
    # each v4 métier has exactly one main label: its PRINCIPALE appellation, whose text is its title
    mains = Counter(s for s in g.subjects(SKOSXL.prefLabel, None) if str(s).startswith(IDS.base + "rome-v4/"))
    assert len(mains) == 1584 and set(mains.values()) == {1}


def test_every_crosswalk_row_reaches_the_graph(
    raw_crosswalk: list[dict[str, str]],
    raw_appellations: list[dict[str, str]],
    crosswalk_graph: Graph,
    appellations_graph: Graph,
    data: RomeEsco,
) -> None:
    g, missing = crosswalk_graph, []
    rel = {"skos:exactMatch": SKOS.exactMatch, "skos:closeMatch": SKOS.closeMatch}
    rel |= {"skos:broadMatch": SKOS.broadMatch, "skos:narrowMatch": SKOS.narrowMatch}
    titles = {r["code_ogr"]: r for r in raw_appellations}
    for line, row in enumerate(raw_crosswalk, 17):
        a, esco = IDS.rome_appellation(row["classification 2 ID"]), URIRef(row["classification 1 ID"])
        esco_label = _fr(row["classification 1 prefered label"])
        rome_label = _fr(row["classification 2 prefered label"].strip())
        if (a, rel[row["mapping relation"]], esco) not in g:
            missing.append(f"line {line}: mapping")
        if (esco, SKOS.prefLabel, esco_label) not in g and (esco, SKOS.hiddenLabel, esco_label) not in g:
            missing.append(f"line {line}: ESCO label")
        if (esco, RDF.type, OKG.EscoOccupation) not in g or (esco, SKOS.inScheme, ESCO_OCCUPATIONS) not in g:
            missing.append(f"line {line}: ESCO occupation")
        labels = {appellations_graph.value(a, SKOS.prefLabel), *appellations_graph.objects(a, SKOS.altLabel)}
        if rome_label not in labels | set(g.objects(a, SKOS.hiddenLabel)):
            missing.append(f"line {line}: ROME label {rome_label}")
        assert row["classification 2 ID"] in titles
    assert not missing, missing[:20]
    assert len(set(g.subjects(RDF.type, OKG.EscoOccupation))) == 1915
    for prop, n in (
        (SKOS.broadMatch, 5086),
        (SKOS.closeMatch, 4597),
        (SKOS.exactMatch, 1144),
        (SKOS.narrowMatch, 291),
    ):
        assert len(list(g.triples((None, prop, None)))) == n
    # 1,472 rows word the appellation as ROME v3.0 did: kept as hidden labels
    assert len(set(g.subject_objects(SKOS.hiddenLabel))) == 1472 + 1  # + one ESCO label variant
    # the preamble is the crosswalk dataset's metadata
    for entry in data.crosswalk.metadata:
        assert len(list(g.subjects(SDO.value, Literal(entry.value)))) >= 1, entry


def test_one_esco_occupation_has_two_labels_in_the_source_the_majority_one_wins(
    data: RomeEsco, crosswalk_graph: Graph
) -> None:
    esco = URIRef("http://data.europa.eu/esco/occupation/6040c941-ab83-44b2-84e7-5cbfa1eafcdc")
    assert str(crosswalk_graph.value(esco, SKOS.prefLabel)) == (
        "technicien en manipulation d'œuvres d'art/technicienne en manipulation d'œuvres d'art"
    )
    assert [str(o) for o in crosswalk_graph.objects(esco, SKOS.hiddenLabel)] == [
        "technicien en manipulation d'œuvres d'art/technicienne en manipulation d'œuvres d'arte galerie d'art"
    ]
    links = LinkReport()
    link_rome_esco(data, links, rome_v3_codes=[])
    stats = {s.link: s for s in links}["ESCO occupation → one label"]
    assert (stats.resolved, stats.total) == (1914, 1915)
    ((ref, reason),) = stats.unresolved
    assert ref == str(esco) and "(line 58)" in reason


def test_the_mapping_relation_is_read_from_the_appellation_side(crosswalk_graph: Graph) -> None:
    """ "Tractoriste agricole" skos:broadMatch "conducteur d'engins agricoles": the ESCO concept is
    the broader one, as the relation says when the appellation is its subject (5,086 broad matches
    against 291 narrow ones: the 1,915 ESCO occupations are coarser than the 11,118 appellations)."""
    tractoriste = IDS.rome_appellation("20404")
    (esco,) = crosswalk_graph.objects(tractoriste, SKOS.broadMatch)
    assert str(crosswalk_graph.value(esco, SKOS.prefLabel)).startswith("conducteur d'engins agricoles")


# -- the chain, by SPARQL ------------------------------------------------------------------------------
def test_the_hot_line_label_reaches_i1401_and_the_metiers_citing_it(store: ox.Store) -> None:
    rows = select(
        store,
        f"""
        SELECT DISTINCT ?app ?v4 ?v3code ?metier WHERE {{
          ?label skosxl:literalForm "{HOT_LINE}"@fr .
          ?app skosxl:prefLabel ?label ; skos:broader ?v4 .
          ?v4 a okg:RomeMetier ; skosxl:altLabel ?label ; skos:broader ?v3 .
          ?v3 a okg:RomeCode ; skos:notation ?v3code .
          ?metier okg:romeCode ?v3 .
        }}""",
    )
    assert {r[:3] for r in rows} == {(str(IDS.rome_appellation("19778")), str(IDS.rome_v4("I1404")), "I1401")}
    metiers = {r[3].rsplit("/", 1)[1] for r in rows}
    expected = {m for m, codes in fiche_rome_codes().items() if "I1401" in codes}
    assert "MET.799" in metiers
    assert metiers == expected
    print(f"\n{HOT_LINE!r} → I1401 → {len(metiers)} ONISEP métiers: {', '.join(sorted(metiers))}")


def expected_esco_for(
    code: str, raw_appellations: list[dict[str, str]], raw_crosswalk: list[dict[str, str]]
) -> set[str]:
    """From the raw CSVs: the ESCO occupations of the appellations whose code_rome_parent is ``code``."""
    ogr = {r["code_ogr"] for r in raw_appellations if r["code_rome_parent"] == code}
    return {r["classification 1 ID"] for r in raw_crosswalk if r["classification 2 ID"] in ogr}


def test_met799_reaches_exactly_the_esco_occupations_of_i1401s_appellations(
    store: ox.Store,
    data: RomeEsco,
    raw_appellations: list[dict[str, str]],
    raw_crosswalk: list[dict[str, str]],
) -> None:
    expected = expected_esco_for("I1401", raw_appellations, raw_crosswalk)
    rows = select(
        store,
        """
        SELECT DISTINCT ?esco ?label WHERE {
          <https://w3id.org/onisep-kg/id/metier/MET.799> okg:romeCode ?rome .
          ?app okg:romeParent ?rome ; ?match ?esco .
          VALUES ?match { skos:exactMatch skos:closeMatch skos:broadMatch skos:narrowMatch }
          ?esco a okg:EscoOccupation ; skos:prefLabel ?label .
        }""",
    )
    assert {r[0] for r in rows} == expected
    assert EscoIndex(data).occupations("I1401") == expected
    assert len(expected) == 11
    print("\nMET.799 (I1401) → ESCO:\n  " + "\n  ".join(sorted(r[1] for r in rows)))


def test_figures_rome_codes_and_metier_fiches_reaching_esco(
    data: RomeEsco,
    v3_labels: dict[str, str],
    raw_appellations: list[dict[str, str]],
    raw_crosswalk: list[dict[str, str]],
) -> None:
    fiches = fiche_rome_codes()
    cited = {c for codes in fiches.values() for c in codes}
    valid = {c for c in cited if c in v3_labels}
    assert (len(cited), len(valid)) == (407, 405)
    index = EscoIndex(data)
    reaching = {c for c in valid if index.occupations(c)}
    # independently, from the raw CSVs
    parent = {r["code_ogr"]: r["code_rome_parent"] for r in raw_appellations}
    raw_reaching = {parent[r["classification 2 ID"]] for r in raw_crosswalk} & valid
    assert reaching == raw_reaching
    metiers = [m for m, codes in fiches.items() if any(index.occupations(c) for c in codes)]
    with_codes = [m for m, codes in fiches.items() if codes]
    print(
        f"\n{len(reaching)} of the {len(valid)} valid ROME v3 codes cited by métier fiches"
        " reach an ESCO occupation;"
        f"\n{len(metiers)} of the {len(fiches)} métier fiches ({len(with_codes)} with a ROME code) reach one"
    )
    assert len(reaching) == 405
    assert len(metiers) == 918
    (left_out,) = set(with_codes) - set(metiers)  # its only code is a malformed one
    assert not set(fiches[left_out]) & valid

    links = LinkReport()
    link_rome_esco(data, links, rome_v3_codes=v3_labels, metier_rome=fiches, index=index)
    stats = {s.link: s for s in links}
    assert (stats["métier → ESCO"].resolved, stats["métier → ESCO"].total) == (918, 1043)
    reasons = Counter(reason.split(" ")[0] for _ref, reason in stats["métier → ESCO"].unresolved)
    assert reasons == {"the": 124, "no": 1}


def test_link_statistics(data: RomeEsco, v3_labels: dict[str, str]) -> None:
    links = LinkReport()
    link_rome_esco(data, links, rome_v3_codes=v3_labels)
    stats = {s.link: s for s in links}
    print("\n" + "\n".join(f"  {s.link}: {s.resolved}/{s.total}" for s in links))
    assert (stats["ROME v3 → v4"].resolved, stats["ROME v3 → v4"].total) == (532, 532)
    assert (stats["ROME v4 → v3"].resolved, stats["ROME v4 → v3"].total) == (1584, 1584)
    assert (stats["appellation → ROME v4"].resolved, stats["appellation → ROME v4"].total) == (13120, 13120)
    assert (stats["appellation → ESCO"].resolved, stats["appellation → ESCO"].total) == (11118, 11118)
    assert "métier → ESCO" not in stats  # only when the métiers' ROME codes are given


def test_a_crosswalk_row_whose_appellation_is_unknown_is_reported_and_kept(
    data: RomeEsco, v3_labels: dict[str, str]
) -> None:
    extra = CrosswalkRow(
        99999,
        "http://data.europa.eu/esco/occupation/00000000-0000-4000-8000-000000000000",
        "métier imaginaire",
        "999999",
        "Appellation disparue",
        "skos:closeMatch",
    )
    crosswalk = dataclasses.replace(data.crosswalk, rows=(*data.crosswalk.rows, extra))
    changed = dataclasses.replace(data, crosswalk=crosswalk)
    links = LinkReport()
    link_rome_esco(changed, links, rome_v3_codes=v3_labels)
    stats = {s.link: s for s in links}["appellation → ESCO"]
    assert (stats.resolved, stats.total) == (11118, 11119)
    assert list(stats.unresolved) == [
        ("999999 (line 99999)", "code_ogr not in the ROME v4.60 appellations; the mapping is kept")
    ]
    fg = RomeEscoMapper(v3_labels, ids=IDS).map_crosswalk(crosswalk, data.appellations)
    a = IDS.rome_appellation("999999")
    assert (a, SKOS.closeMatch, URIRef(extra.esco_uri)) in fg.graph
    assert (a, RDF.type, OKG.RomeAppellation) in fg.graph
    findings = Validator([SHAPES]).validate(fg.graph, fg.source_map)
    assert [(f.severity, f.shape, f.line) for f in findings] == [
        (Severity.WARNING, "okgsh:Appellation-broader-present", 99999)
    ]


# -- broken input -------------------------------------------------------------------------------------
HEADER_M = ",".join(f'"{c}"' for c in METIER_COLUMNS) + "\n"
ROW_M = '"I1401","267","320","Technicien","Emploi Blanc","O","N","N","N","I1401"\n'
HEADER_A = ",".join(f'"{c}"' for c in APPELLATION_COLUMNS) + "\n"
ROW_A = '"19778","Technicien","Technicien","I1404","Emploi Blanc","O","","","","SYNONYME","","I1401","N"\n'
PREAMBLE = "Mapping project name,ESCO - ROME\nMapping project version,V1.4\n\n"
HEADER_X = (
    "classification 1 ID,classification 1 prefered label,classification 2 ID,"
    "classification 2 prefered label,mapping relation\n"
)
ESCO_URI = "http://data.europa.eu/esco/occupation/3e7bf729-4442-4b9f-ad5e-83111963795c"
ROW_X = f"{ESCO_URI},technicien informatique,19778,Technicien hot line,skos:broadMatch\n"
M, A, X = HEADER_M + ROW_M, HEADER_A + ROW_A, PREAMBLE + HEADER_X + ROW_X
metiers, appellations, crosswalk = parse_rome_v4_metiers, parse_rome_v4_appellations, parse_esco_crosswalk


@pytest.mark.parametrize(
    ("parser", "text", "line", "expected"),
    [
        (metiers, "", 1, "empty file"),
        (metiers, HEADER_M.replace("libelle_rome", "libelle"), 1, "missing libelle_rome; unexpected libelle"),
        (metiers, M + ROW_M.replace(',"I1401"\n', "\n"), 3, "9 fields; expected 10"),
        (metiers, HEADER_M + "\n\n" + ROW_M.replace('"I1401","267"', '"","267"'), 4, "empty code_rome"),
        (metiers, M.replace('"O","N"', '"oui","N"'), 2, "transition_num is 'oui'; expected O, N"),
        (appellations, A.replace("SYNONYME", "AUTRE"), 2, "expected PRINCIPALE or SYNONYME"),
        (appellations, A + ROW_A.replace('"N"\n', '"peut-être"\n'), 3, "peu_usite is 'peut-être'"),
        (appellations, A.replace('"19778"', '""'), 2, "empty code_ogr"),
        (crosswalk, PREAMBLE, 1, "no header line"),
        (crosswalk, "a,b,c\n" + HEADER_X, 1, "expected a 'key,value' preamble line or the header"),
        (crosswalk, X.replace("skos:broadMatch", "skos:related"), 5, "mapping relation is 'skos:related'"),
        (crosswalk, X + ROW_X.replace(ESCO_URI, "esco:123"), 6, "expected an ESCO occupation URI"),
        (crosswalk, X.replace(",19778,", ",,"), 5, "empty classification 2 ID"),
        (crosswalk, X.replace(",skos:broadMatch", ""), 5, "4 fields; expected 5"),
    ],
)
def test_broken_input_names_file_line_and_what_was_expected(  # type: ignore[no-untyped-def]
    parser, text: str, line: int, expected: str
) -> None:
    with pytest.raises(InputError) as info:
        parser(text.encode("utf-8"), "broken.csv")
    assert (info.value.source, info.value.line) == ("broken.csv", line), str(info.value)
    assert expected in info.value.message, info.value.message
    assert str(info.value).startswith(f"broken.csv:{line}: ")


def test_bytes_that_are_not_utf8_name_their_line() -> None:
    data = (HEADER_M + ROW_M).encode("utf-8") + ROW_M.replace("Technicien", "Techn\xe9").encode("latin-1")
    with pytest.raises(InputError) as info:
        parse_rome_v4_metiers(data, "latin1.csv")
    assert info.value.line == 3 and "not UTF-8" in info.value.message


def test_a_utf8_bom_and_crlf_line_ends_are_read() -> None:
    data = ("\ufeff" + HEADER_M + ROW_M).replace("\n", "\r\n").encode("utf-8")
    (row,) = parse_rome_v4_metiers(data, "bom.csv").rows
    assert (row.line, row.code_rome, row.code_rome_parent) == (2, "I1401", "I1401")


def test_a_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        load_rome_esco(metiers=tmp_path / "nope.csv")


# -- determinism ------------------------------------------------------------------------------------
def test_mapping_twice_gives_the_same_graph(
    data: RomeEsco, v3_labels: dict[str, str], crosswalk_graph: Graph
) -> None:
    again = RomeEscoMapper(v3_labels, ids=IDS).map_crosswalk(data.crosswalk, data.appellations)
    assert set(again.graph) == set(crosswalk_graph)


# -- the shapes -----------------------------------------------------------------------------------------
def shacl_shacl() -> Graph:
    asset = importlib_resources.files("pyshacl") / "assets" / "shacl-shacl.ttl"
    return Graph().parse(data=asset.read_text(encoding="utf-8"), format="turtle")


def shape_conventions(path: Path) -> None:
    """Valid SHACL; every shape an okgsh: IRI with a label, an English message and a meaningful severity."""
    g = Graph().parse(path, format="turtle")
    conforms, _report, text = pyshacl.validate(g, shacl_graph=shacl_shacl(), inference="none")
    assert conforms, text
    shapes = set(g.subjects(RDF.type, SH.NodeShape)) | set(g.subjects(RDF.type, SH.PropertyShape))
    assert shapes
    for shape in shapes:
        assert isinstance(shape, URIRef) and str(shape).startswith("https://w3id.org/onisep-kg/shapes#"), (
            shape
        )
        assert g.value(shape, RDFS.label) is not None, shape
        assert len(str(g.value(shape, SH.message) or "")) > 10, shape
        assert g.value(shape, SH.severity, default=SH.Violation) in (SH.Violation, SH.Warning, SH.Info)
        targets = [t for t in (SH.targetClass, SH.targetSubjectsOf) if g.value(shape, t) is not None]
        assert targets, f"{shape} has no target of its own"
    assert not list(g.subject_objects(SH.node)) and not list(g.subject_objects(SH.property))
    for shape in g.subjects(SH.severity, SH.Warning):
        assert str(shape).endswith("-present"), f"a warning is for something missing: {shape}"


def test_the_shapes_are_valid_shacl_and_follow_the_conventions() -> None:
    shape_conventions(SHAPES)


def test_shacl_for_shacl_catches_a_broken_shape() -> None:
    broken = Graph().parse(SHAPES, format="turtle")
    broken.add((URIRef("https://w3id.org/onisep-kg/shapes#RomeMetier-notation"), SH.minCount, Literal("one")))
    assert not pyshacl.validate(broken, shacl_graph=shacl_shacl(), inference="none")[0]


def _covered(shapes: Graph) -> tuple[set[URIRef], set[URIRef]]:
    classes = set(shapes.objects(None, SH.targetClass))
    paths = {p for p in shapes.objects(None, SH.path) if isinstance(p, URIRef)}
    return classes, paths


def test_the_shapes_cover_every_class_and_property_the_mapper_emits(mapped: list[FicheGraph]) -> None:
    shapes = Graph()
    for path in (SHAPES, resources.shapes_file()):
        shapes.parse(path, format="turtle")
    classes, paths = _covered(shapes)
    for fg in mapped:
        emitted_classes = set(fg.graph.objects(None, RDF.type))
        assert emitted_classes <= classes, emitted_classes - classes
        predicates = set(fg.graph.predicates()) - {RDF.type}
        assert predicates <= paths, predicates - paths
        # the only untyped nodes: appellations the crosswalk cites (typed in their own graph)
        untyped_subjects = {s for s in fg.graph.subjects() if (s, RDF.type, None) not in fg.graph}
        assert all(str(s).startswith(IDS.base + "rome-appellation/") for s in untyped_subjects)


def _counts(findings: Iterable) -> Counter:
    return Counter((f.severity.label, f.shape) for f in findings)


def test_the_graphs_have_no_violation_and_no_warning(mapped: list[FicheGraph], validator: Validator) -> None:
    for fg in mapped:
        start = time.perf_counter()
        findings = validator.validate(fg.graph, fg.source_map)
        print(f"\n{fg.graph_iri}: {len(fg.graph):,} triples validated in {time.perf_counter() - start:.1f} s")
        assert findings == [], _counts(findings)


def test_with_all_shapes_only_the_known_conflicts_of_the_core_shapes_remain(
    mapped: list[FicheGraph], data: RomeEsco, v3_labels: dict[str, str]
) -> None:
    """The core shapes were written for métier graphs: okgsh:FicheGraph-subject wanted a graph's
    subject to be an okg:Metier (here a schema:Dataset) and okgsh:Label-role wants a gendered role
    on every SKOS-XL label (ROME titles are "Masculin / Féminin" or neutral forms). Nothing else.
    The appellations graph is validated on its first 1,500 rows: the core shapes hang their
    property shapes from node shapes, which pyshacl evaluates per focus node (~15 s in full)."""
    validator = Validator()  # every shapes file
    sample = dataclasses.replace(data.appellations, rows=data.appellations.rows[:1500])
    graphs = [mapped[0], RomeEscoMapper(v3_labels, ids=IDS).map_appellations(sample), mapped[2]]
    findings = [f for fg in graphs for f in validator.validate(fg.graph, fg.source_map)]
    counts = _counts(findings)
    print("\nall shapes:", dict(counts))
    # okgsh:FicheGraph-subject is being relaxed to any IRI subject: accept it either way
    assert set(counts) <= {("Violation", "okgsh:FicheGraph-subject"), ("Violation", "okgsh:Label-role")}
    assert counts[("Violation", "okgsh:FicheGraph-subject")] in (0, 3)
    assert counts[("Violation", "okgsh:Label-role")] in (0, 1500)


I1404 = IDS.rome_v4("I1404")
VIOLATION, WARNING = Severity.VIOLATION, Severity.WARNING


@pytest.mark.parametrize(
    ("change", "shape", "severity"),
    [
        (lambda g: g.set((I1404, SKOS.notation, Literal("I14"))), "RomeMetier-wellFormed", VIOLATION),
        (lambda g: g.remove((I1404, SKOS.prefLabel, None)), "RomeMetier-prefLabel-present", WARNING),
        (
            lambda g: g.add((I1404, SKOS.prefLabel, Literal("X", lang="fr"))),
            "RomeMetier-prefLabel",
            VIOLATION,
        ),
        (lambda g: g.remove((I1404, SKOS.broader, None)), "RomeMetier-broader", VIOLATION),
        (
            lambda g: g.set((I1404, OKG.digitalTransition, Literal(1))),
            "RomeMetier-digitalTransition",
            VIOLATION,
        ),
    ],
)
def test_a_broken_metier_graph_gets_the_intended_finding(
    mapped: list[FicheGraph],
    data: RomeEsco,
    validator: Validator,
    change,  # type: ignore[no-untyped-def]
    shape: str,
    severity: Severity,
) -> None:
    fg = mapped[0]
    (line,) = [row.line for row in data.metiers.rows if row.code_rome == "I1404"]
    g = Graph()
    for t in fg.graph:
        g.add(t)
    change(g)
    findings = validator.validate(g, fg.source_map)
    assert [(f.shape, f.severity, f.line) for f in findings] == [(f"okgsh:{shape}", severity, line)]


def test_a_broken_esco_occupation_is_a_violation(
    crosswalk_graph: Graph, mapped: list[FicheGraph], validator: Validator
) -> None:
    g = Graph()
    for t in crosswalk_graph:
        g.add(t)
    bad = URIRef("http://data.europa.eu/esco/skill/123")
    g.add((bad, RDF.type, OKG.EscoOccupation))
    g.add((bad, RDF.type, SKOS.Concept))
    g.add((bad, SKOS.inScheme, ESCO_OCCUPATIONS))
    g.add((bad, SKOS.prefLabel, Literal("compétence", lang="fr")))
    g.add((IDS.rome_appellation("19778"), SKOS.exactMatch, IDS.rome_v4("I1404")))
    findings = validator.validate(g, mapped[2].source_map)
    assert {(f.shape, f.severity, f.focus) for f in findings} == {
        ("okgsh:Esco", Severity.VIOLATION, str(bad)),
    }
    # the appellation is not typed in the crosswalk graph: its match is checked where it is
    g.add((IDS.rome_appellation("19778"), RDF.type, OKG.RomeAppellation))
    findings = validator.validate(g, mapped[2].source_map)
    assert "okgsh:Appellation-exactMatch" in {f.shape for f in findings}


def test_the_crosswalk_graph_has_its_provenance(crosswalk_graph: Graph, mapped: list[FicheGraph]) -> None:
    fg = mapped[2]
    dataset = fg.subject
    assert (dataset, RDF.type, SDO.Dataset) in crosswalk_graph
    (source,) = crosswalk_graph.objects(dataset, DCTERMS.source)
    assert str(crosswalk_graph.value(source, OKG.fileName)) == CROSSWALK_CSV.name
    publisher = crosswalk_graph.value(source, URIRef("http://www.w3.org/ns/prov#wasAttributedTo"))
    assert publisher == IDS.agent("european-commission")
    assert isinstance(fg, FicheGraph) and isinstance(Crosswalk, type)
