"""The folded search key of each métier (``okg:searchKey``) and the ``search-metiers`` query on it.

``search-metiers`` used to fold every label of every métier in SPARQL on each search (about
110 ms on the whole corpus); it now looks the folded text up in one precomputed key per métier
and folds only the labels of the métiers found. What must not change is the answer: the query it
replaced is kept here, verbatim, and both run on the shipped corpus for many search strings. The
key is only right if the mapper's :func:`pipeline.vocab.fold` folds exactly as the query's SPARQL
chain does; that is checked on every name of the corpus and on strings made to differ.
"""

from __future__ import annotations

import re

import pyoxigraph as ox
import pytest
from conftest import MET_799
from rdflib import Literal, URIRef

from pipeline import queries as Q
from pipeline.ingest import Pipeline
from pipeline.parse import parse_metier
from pipeline.shacl_fast import FastValidator
from pipeline.validate import Validator
from pipeline.vocab import FOLD_RULES, OKG, fold, search_key, sparql_fold

SEARCH = Q.load_query("search-metiers")

# The query as it was before okg:searchKey: every label of every métier folded by SPARQL.
OLD_QUERY = r"""
PREFIX okg: <https://w3id.org/onisep-kg/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX skosxl: <http://www.w3.org/2008/05/skos-xl#>
PREFIX dcterms: <http://purl.org/dc/terms/>

SELECT ?text ?id ?name (MIN(?label) AS ?matched) ?metier
WHERE {
  # Case and accents folded by one chain of LCASE and REPLACE (each accented letter → its base
  # letter), once on the parameter and on each label. The empty 4th argument (flags) of each
  # REPLACE is there on purpose: without it oxigraph parses nested REPLACE calls in a time that
  # doubles with each level.
  BIND(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(
         LCASE(STR(?text)), "[àáâãäå]", "a", ""), "[èéêë]", "e", ""), "[ìíîï]", "i", ""),
         "[òóôõö]", "o", ""), "[ùúûü]", "u", ""), "[ýÿ]", "y", ""), "ç", "c", ""), "œ", "oe", ""),
         "æ", "ae", ""), "’", "'", ""), "[\u00A0\u202F]", " ", "") AS ?wanted)
  { ?metier skos:prefLabel ?label }
  UNION { ?metier skos:altLabel ?label }
  UNION { ?metier skosxl:prefLabel ?xl . ?xl skosxl:literalForm ?label }
  UNION { ?metier skosxl:altLabel ?xl . ?xl skosxl:literalForm ?label }
  FILTER(CONTAINS(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(
         LCASE(STR(?label)), "[àáâãäå]", "a", ""), "[èéêë]", "e", ""), "[ìíîï]", "i", ""),
         "[òóôõö]", "o", ""), "[ùúûü]", "u", ""), "[ýÿ]", "y", ""), "ç", "c", ""), "œ", "oe", ""),
         "æ", "ae", ""), "’", "'", ""), "[\u00A0\u202F]", " ", ""), ?wanted))
  ?metier a okg:Metier ;
          dcterms:identifier ?id ;
          skos:prefLabel ?name .
}
GROUP BY ?text ?metier ?id ?name
ORDER BY ?name
"""

# Accents and case in every position, ligatures, apostrophes, gendered and neutral forms, partial
# words, several words, punctuation, what matches (nearly) everything and what matches nothing,
# and a line feed, which the key uses to join the names but no name holds.
SEARCHES = [
    "developpeuse", "Développeuse", "DÉVELOPPEUSE", "développeur informatique", "developpeur/euse",
    "oenologue", "œnologue", "ŒNOLOGUE", "Œno", "INFIRMIÈRE", "infirmier/ère", "teleconseillere",
    "téléconseiller/ère", "hot liner", "HOT LINER", "hot  liner", "chargee d'affaires", "chargée d’affaires",
    "d’", "d'a", "boulang", "pâtissier", "PATISSIER", "maçon", "garcon", "façade", "/euse", "/e", "rural/e",
    "agent/e de", "ingénieur du son", "technicien", "Technicienne de", "conseiller en", "aide-soignant",
    "e-commerce", "web", "bio", "éco", "naï", "ï", "é", "e", "a", " ", "  ", "", "-", "(", "zzz",
    "zzz zzz", "informatique zzz", "teleassistant/e\nteleassistante", "hot liner\n", "\u00a0",
    "x" * 60,
]  # fmt: skip


def rows(store: ox.Store, query: Q.NamedQuery | str, text: str | ox.Literal) -> list[tuple[str | None, ...]]:
    term = text if isinstance(text, ox.Literal) else ox.Literal(text)
    return Q.Table.of(Q.run(store, query, {"text": term})).values()  # type: ignore[arg-type]


# -- the answers ----------------------------------------------------------------------------------
@pytest.mark.slow
def test_the_new_query_answers_as_the_old_one_on_the_corpus(corpus_store: ox.Store) -> None:
    matched = 0
    for text in SEARCHES:
        new, old = rows(corpus_store, SEARCH, text), rows(corpus_store, OLD_QUERY, text)
        assert sorted(new) == sorted(old), text  # ties of ORDER BY ?name may come in either order
        assert [r[2] for r in new] == [r[2] for r in old], text
        matched += bool(new)
    assert matched >= len(SEARCHES) - 8  # most strings find something: the comparison is not vacuous
    assert len(rows(corpus_store, SEARCH, "e")) == 1042 and not rows(corpus_store, SEARCH, "zzz")


@pytest.mark.parametrize(
    "term",
    [
        ox.Literal("Développeuse", language="fr"),
        ox.Literal("OENOLOGUE", language="en"),
        ox.Literal("3", datatype=ox.NamedNode(Q.XSD + "integer")),
    ],
)
def test_any_literal_answers_as_before(corpus_store: ox.Store, term: ox.Literal) -> None:
    assert rows(corpus_store, SEARCH, term) == rows(corpus_store, OLD_QUERY, term)


def test_the_values_route_answers_as_before(corpus_store: ox.Store) -> None:
    """What a remote endpoint runs: the parameter as a VALUES block, no substitution."""
    for text in ("Développeuse", "zzz", "/euse"):
        term = {"text": ox.Literal(text)}
        new = Q.Table.of(Q.run(corpus_store, Q.with_values(SEARCH.text, term))).values()  # type: ignore[arg-type]
        assert new == rows(corpus_store, OLD_QUERY, text), text


# -- the key --------------------------------------------------------------------------------------
NAMES = """
PREFIX okg: <https://w3id.org/onisep-kg/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX skosxl: <http://www.w3.org/2008/05/skos-xl#>
SELECT ?metier ?key ?label ?folded WHERE {
  ?metier a okg:Metier .
  OPTIONAL { ?metier okg:searchKey ?key }
  { ?metier skos:prefLabel ?label }
  UNION { ?metier skos:altLabel ?label }
  UNION { ?metier skosxl:prefLabel ?xl . ?xl skosxl:literalForm ?label }
  UNION { ?metier skosxl:altLabel ?xl . ?xl skosxl:literalForm ?label }
  BIND(FOLD AS ?folded)
}
""".replace("FOLD", sparql_fold("STR(?label)"))


def test_each_key_is_the_names_of_its_metier_folded_as_sparql_folds_them(corpus_store: ox.Store) -> None:
    """On the whole graph: each métier has one key, whose lines are exactly the distinct folded
    forms of the names the query searches, folded by SPARQL; Python's fold agrees on each name."""
    keys: dict[str, set[str]] = {}
    lines: dict[str, set[str]] = {}
    names = 0
    for s in corpus_store.query(NAMES):  # type: ignore[union-attr]
        metier, key, label, folded = (s[v] for v in ("metier", "key", "label", "folded"))
        assert key is not None, metier
        keys.setdefault(metier.value, set()).add(key.value)
        lines.setdefault(metier.value, set()).add(folded.value)
        assert fold(label.value) == folded.value, label
        names += 1
    assert len(keys) == 1043 and names > 7000
    differ = {}
    for metier, (key,) in keys.items():  # one key per métier
        split = key.split("\n")
        if len(split) != len(set(split)) or set(split) != lines[metier]:
            differ[metier] = (key, sorted(lines[metier]))
    assert differ == {}
    total = corpus_store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?m <{OKG.searchKey}> ?k }}")
    assert int(next(iter(total))["n"].value) == 1043  # type: ignore[union-attr]


# Strings where a fold could go wrong: every accented letter the rules know, in both cases, the
# letters they leave alone (ñ, ø, ß, å's neighbours, decomposed accents), ligatures, apostrophes,
# spaces of all kinds, letters whose lower case is longer or contextual (İ, final Σ), emoji.
TRICKY = [
    "àáâãäå ÀÁÂÃÄÅ", "èéêë ÈÉÊË", "ìíîï ÌÍÎÏ", "òóôõö ÒÓÔÕÖ", "ùúûü ÙÚÛÜ", "ýÿ ÝŸ", "çÇ", "œŒ æÆ",
    "’‘'`", "a\u00a0b\u202fc\u2009d e", "ñøßþð ÑØẞÞÐ", "e\u0301 E\u0301", "İstanbul", "ΟΔΟΣ ΟΔΟΣ.",
    "Ǆ ǅ ǆ", "ﬁ ﬂ", "Développeur/euse d’Œuvres D'ART", "😀 \t\n", "ÉCOLE\u00a0?", "",
]  # fmt: skip


def test_python_fold_is_the_sparql_fold() -> None:
    store = ox.Store()
    query = f"SELECT ?text ?folded WHERE {{ BIND({sparql_fold('STR(?text)')} AS ?folded) }}"
    differ = {}
    for text in [*TRICKY, *sorted(set("".join(TRICKY)))]:
        (solution,) = list(store.query(query, substitutions={ox.Variable("text"): ox.Literal(text)}))  # type: ignore[arg-type]
        if fold(text) != solution["folded"].value:  # type: ignore[index]
            differ[text] = (fold(text), solution["folded"].value)  # type: ignore[index]
    assert differ == {}


def _bare(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_the_query_folds_with_the_rules_of_vocab() -> None:
    """The fold chains of ``search-metiers`` are what :func:`sparql_fold` writes from
    :data:`FOLD_RULES` (whitespace aside), so the rules live in one place."""
    body = _bare(SEARCH.text.split("WHERE", 1)[1])
    for expression in ("STR(?text)", "STR(?label)"):
        assert _bare(sparql_fold(expression)) in body, expression
    assert body.count("LCASE(") == 2 and "okg:searchKey" in body
    assert len(FOLD_RULES) == body.count("REPLACE(") // 2


def test_search_key_folds_and_keeps_the_first_of_each_name() -> None:
    names = ["téléconseiller/ère", "Téléconseillère", "TÉLÉCONSEILLÈRE", "téléconseiller", "Œnologue"]
    assert search_key(names) == "teleconseiller/ere\nteleconseillere\nteleconseiller\noenologue"
    assert search_key([]) == ""


@pytest.fixture(scope="module")
def engines() -> tuple[FastValidator, Validator]:
    return FastValidator(), Validator()


@pytest.mark.parametrize(
    "keys",
    [
        [],
        ["hot liner", "hotliner"],
        [Literal("hot liner", lang="fr")],
        [""],
        ["Hot liner"],
        ["hot liner\nteleassistante\nTÉLÉ"],
        ["téléassistante"],
        ["hot\u00a0liner"],
        [Literal("12", datatype=URIRef(Q.XSD + "integer"))],
        [URIRef("https://example.org/hot-liner")],
    ],
)
def test_the_shape_of_the_key_gives_the_same_findings_in_both_engines(
    pipeline: Pipeline, engines: tuple[FastValidator, Validator], keys: list[object]
) -> None:
    """A missing, repeated, tagged, empty or unfolded key is a violation of okgsh:Metier-searchKey,
    found alike by the native engine and by pyshacl, on the title line."""
    fast, reference = engines
    fiche = pipeline.mapper.map_metier(parse_metier(MET_799.read_bytes(), str(MET_799)))
    g, metier = fiche.graph, fiche.subject
    g.remove((metier, OKG.searchKey, None))
    for key in keys:
        g.add((metier, OKG.searchKey, key if isinstance(key, Literal | URIRef) else Literal(key)))
    slow = reference.validate(g, fiche.source_map)
    assert fast.validate(g, fiche.source_map) == slow
    assert [f.shape for f in slow] == ["okgsh:Metier-searchKey"] * len(slow) and slow
    assert all(f.line == 1 for f in slow if f.line is not None)  # the title line
