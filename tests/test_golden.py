"""Golden test: the real fiche MET.799 ("hot liner") mapped to RDF, against a hand-made graph.

``tests/golden/MET.799.ttl`` was written by hand from the fiche, line by line, following the
mapper's conventions (predicates and IRI patterns of :mod:`pipeline.mapper` and
:mod:`pipeline.vocab`). It is the independent check of the parser and the mapper, so when the
two differ, read the fiche to decide which side is wrong before changing the golden file.

Regenerating: with ``ONISEP_KG_REGENERATE_GOLDEN=1`` in the environment, the golden test writes
the mapper's actual graph to ``tests/golden/MET.799.ttl`` instead of comparing (and is then
skipped)::

    ONISEP_KG_REGENERATE_GOLDEN=1 .venv/bin/pytest tests/test_golden.py

Use it only after a deliberate change of the modelling, then review the diff of the golden file
line by line against the fiche: a regenerated file checks nothing until a person has read it.

The tests on the golden graph itself (SPARQL) document the facts it must hold whatever the
mapper does.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pyoxigraph
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import graph_diff, to_isomorphic

from pipeline import Mapper, parse_metier
from pipeline.referentials import load_referentials

ROOT = Path(__file__).resolve().parent.parent
FICHE = ROOT / "seeds" / "onisep-fiches" / "metiers" / "MET.799_hot_liner.md"
ORIGINAL_SEED = ROOT / "tests" / "data" / "original_seed_000_62fc65679aa4c003.txt"
GOLDEN = ROOT / "tests" / "golden" / "MET.799.ttl"
REGENERATE_ENV = "ONISEP_KG_REGENERATE_GOLDEN"

ID = "https://w3id.org/onisep-kg/id/"
METIER = URIRef(ID + "metier/MET.799")

GOLDEN_PREFIXES = {
    "okg": "https://w3id.org/onisep-kg/ontology#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "skosxl": "http://www.w3.org/2008/05/skos-xl#",
    "esco": "http://data.europa.eu/esco/model#",
    "schema": "https://schema.org/",
    "dcterms": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}

PREFIXES = """
PREFIX okg: <https://w3id.org/onisep-kg/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX skosxl: <http://www.w3.org/2008/05/skos-xl#>
PREFIX esco: <http://data.europa.eu/esco/model#>
PREFIX schema: <https://schema.org/>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
PREFIX role: <http://data.europa.eu/esco/label-role/>
"""


# -- helpers -------------------------------------------------------------------------------------
def _nt_lines(graph: Graph) -> list[str]:
    """The triples of ``graph`` as sorted N-Triples lines (blank node labels as canonicalised)."""
    text = graph.serialize(format="nt")
    return sorted(line for line in text.splitlines() if line.strip())


def assert_isomorphic(expected: Graph, actual: Graph) -> None:
    """Assert the two graphs are isomorphic; on failure show the triples each one lacks."""
    iso_expected, iso_actual = to_isomorphic(expected), to_isomorphic(actual)
    if iso_expected == iso_actual:
        return
    _, only_expected, only_actual = graph_diff(iso_expected, iso_actual)
    lines = [
        f"graphs differ: expected {len(expected)} triples, actual {len(actual)}",
        f"--- only in expected ({len(only_expected)}):",
        *(f"- {line}" for line in _nt_lines(only_expected)),
        f"+++ only in actual ({len(only_actual)}):",
        *(f"+ {line}" for line in _nt_lines(only_actual)),
    ]
    pytest.fail("\n".join(lines), pytrace=False)


def _faithful_turtle(graph: Graph) -> bytes:
    """Turtle that reads back as the very same terms, for regenerating the golden file.

    rdflib's Turtle writer prints ``"1801"^^xsd:decimal`` as ``1801.0``, which reads back as a
    different term (lexical form "1801.0"), so the file it writes would not match the graph it
    came from. pyoxigraph keeps every literal's lexical form; sorted input keeps it deterministic.
    """
    triples = pyoxigraph.parse(
        "\n".join(_nt_lines(graph)).encode("utf-8"), format=pyoxigraph.RdfFormat.N_TRIPLES
    )
    header = f"# Regenerated from the mapper ({REGENERATE_ENV}=1): review it against the fiche.\n"
    body = pyoxigraph.serialize(triples, format=pyoxigraph.RdfFormat.TURTLE, prefixes=GOLDEN_PREFIXES)
    return header.encode("utf-8") + body


def _golden() -> Graph:
    return Graph().parse(GOLDEN, format="turtle")


def _ask(graph: Graph, query: str) -> list[tuple]:
    return [tuple(row) for row in graph.query(PREFIXES + query)]


# -- the golden test -----------------------------------------------------------------------------
def test_met_799_maps_to_the_golden_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    fg = Mapper(load_referentials()).map_metier(parse_metier(FICHE.read_bytes(), str(FICHE)))
    if os.environ.get(REGENERATE_ENV) == "1":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_bytes(_faithful_turtle(fg.graph))
        assert_isomorphic(fg.graph, _golden())  # the file written must read back as the same graph
        pytest.skip(f"{REGENERATE_ENV}=1: wrote {GOLDEN}; review it against the fiche")
    assert fg.subject == METIER
    assert fg.graph_iri == URIRef(ID + "graph/metier/MET.799")
    assert_isomorphic(_golden(), fg.graph)


# -- facts the golden graph must hold --------------------------------------------------------------
def test_golden_has_one_label_with_both_roles() -> None:
    g = _golden()
    labels = _ask(g, "SELECT DISTINCT ?l WHERE { ?l a skosxl:Label }")
    assert len(labels) == 5  # hot liner (f+m), téléassistant/e (f, m), téléconseiller/ère (f, m)
    both = _ask(
        g,
        """SELECT ?l ?form WHERE {
             ?m skosxl:prefLabel ?l .
             ?l a skosxl:Label ; skosxl:literalForm ?form ;
                esco:hasLabelRole role:female, role:male .
           }""",
    )
    assert both == [(URIRef(ID + "label/MET.799-0-fm"), Literal("hot liner", lang="fr"))]
    two_roles = _ask(
        g,
        """SELECT ?l WHERE { ?l esco:hasLabelRole ?r } GROUP BY ?l HAVING (COUNT(?r) > 1)""",
    )
    assert two_roles == [(URIRef(ID + "label/MET.799-0-fm"),)]


def test_golden_has_seven_recommended_formations() -> None:
    rows = _ask(
        _golden(),
        """SELECT ?id WHERE {
             ?m okg:recommendedFormation ?f . ?f a okg:Formation ; dcterms:identifier ?id ; rdfs:label ?l
           } ORDER BY ?id""",
    )
    assert [str(r[0]) for r in rows] == [
        "FOR.5337", "FOR.5987", "FOR.7998", "FOR.8012", "FOR.8015", "FOR.8472", "FOR.9176",
    ]  # fmt: skip
    fiche_ids = re.findall(r"\(ID: (FOR\.\d+)\)$", FICHE.read_text(encoding="utf-8"), re.MULTILINE)
    assert sorted(fiche_ids) == [str(r[0]) for r in rows]


def test_golden_minimum_level_is_niveau_5_close_to_eqf_5() -> None:
    rows = _ask(
        _golden(),
        """SELECT ?wording ?level ?eqf WHERE {
             ?m okg:minimumLevelWording ?wording ; okg:minimumLevel ?level .
             ?level a okg:StudyLevel ; skos:closeMatch ?eqf .
           }""",
    )
    assert rows == [
        (
            Literal("bac + 2", lang="fr"),
            URIRef(ID + "niveau/5"),
            URIRef("http://data.europa.eu/snb/eqf/5"),
        )
    ]


def test_golden_salary_starts_at_1801_gross_per_month() -> None:
    rows = _ask(
        _golden(),
        """SELECT ?min ?currency ?unit ?raw WHERE {
             ?m schema:estimatedSalary ?s .
             ?s a schema:MonetaryAmount ; schema:minValue ?min ; schema:currency ?currency ;
                schema:unitText ?unit ; okg:salaryBasis okg:Gross ; schema:description ?raw .
             FILTER NOT EXISTS { ?s schema:maxValue ?max }
           }""",
    )
    assert len(rows) == 1
    minimum, currency, unit, raw = rows[0]
    assert minimum.datatype == URIRef("http://www.w3.org/2001/XMLSchema#decimal")
    assert minimum.toPython() == 1801
    assert (str(currency), str(unit)) == ("EUR", "MONTH")
    assert raw == Literal("A partir de 1801 euros brut par mois", lang="fr")


def test_golden_section_titles_follow_the_fiche_headings() -> None:
    headings = re.findall(r"^## (.+)$", FICHE.read_text(encoding="utf-8"), re.MULTILINE)
    assert len(headings) == 11
    rows = _ask(
        _golden(),
        """SELECT ?order ?title ?line WHERE {
             ?m okg:hasSection ?s . ?s okg:order ?order ; dcterms:title ?title ; okg:sourceLine ?line
           } ORDER BY ?order""",
    )
    assert [int(r[0]) for r in rows] == list(range(1, 12))
    assert [str(r[1]) for r in rows] == [h.strip() for h in headings]
    lines = FICHE.read_text(encoding="utf-8").split("\n")
    for _, title, line in rows:
        assert lines[int(line) - 1] == f"## {title}"


def test_golden_part_texts_are_the_fiche_paragraphs() -> None:
    """Every schema:text of a section part is made of fiche lines, stripped, joined by a blank line."""
    lines = [line.strip() for line in FICHE.read_text(encoding="utf-8").split("\n")]
    rows = _ask(_golden(), "SELECT ?text WHERE { ?p a okg:SectionPart ; schema:text ?text }")
    assert len(rows) == 17
    for (text,) in rows:
        for paragraph in str(text).split("\n\n"):
            assert paragraph in lines, paragraph[:60]


# -- the seed --------------------------------------------------------------------------------------
def test_original_seed_is_the_shipped_met_799_fiche() -> None:
    assert ORIGINAL_SEED.read_bytes() == FICHE.read_bytes()
