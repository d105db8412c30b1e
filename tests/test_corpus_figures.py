"""Figures of the whole graph (SPARQL) against the same figures counted from the raw fiches.

The raw side never uses :mod:`pipeline.parse`: it reads the markdown with its own regular
expressions, section by section. Where the seeds README states a total, that total is asserted on
the raw side too, so a change of the corpus or of this module's counting shows up as such.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path

import pyoxigraph as ox
import pytest

ROOT = Path(__file__).resolve().parent.parent
FICHES = ROOT / "seeds" / "onisep-fiches" / "metiers"

# Totals stated in seeds/onisep-fiches/README.md ("Quick facts about metiers/").
README_FICHES = 1043
README_ROME_FICHES = 919
README_ROME_SEVERAL = 26
README_ROME_DISTINCT = 407
README_FORMATION_FICHES = 945
README_FORMATION_LINKS = 6931
README_FORMATION_DISTINCT = 2433
README_SALARY_SECTIONS = 866
README_SYNONYM_FICHES = 716
README_SYNONYMS = 1834
README_STATUS_FICHES = 1038
README_INTEREST_FICHES = 1027

PREFIXES = """
PREFIX okg: <https://w3id.org/onisep-kg/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX skosxl: <http://www.w3.org/2008/05/skos-xl#>
PREFIX schema: <https://schema.org/>
PREFIX dcterms: <http://purl.org/dc/terms/>
"""

# The study level of each minimum-access wording, written for this test from the nomenclature
# of 2019 (bac + 2 → 5, licence → 6, master → 7, doctorat → 8); "autre formation" has none.
LEVEL_OF_WORDING: dict[str, int | None] = {
    "sans diplôme": 1,
    "3E": 2,
    "diplôme national du brevet": 2,
    "CAP ou équivalent": 3,
    "CAP ou équivalent + 1 an": 3,
    "bac ou équivalent": 4,
    "bac + 1": 4,
    "bac + 2": 5,
    "bac + 3": 6,
    "bac + 4": 6,
    "bac + 5": 7,
    "bac + 6": 7,
    "bac + 7": 7,
    "bac + 8": 8,
    "bac + 9 et plus": 8,
    "autre formation": None,
}

# MET.54 has a column-0 "## Niveau CAP, bac pro" that belongs to "Accès au métier".
STRAY_HEADINGS = {"MET.54": ["Niveau CAP, bac pro"]}

_NUM = r"(\d[\d\u00a0\u202f ]*(?:[.,]\d+)?)"
SALARY_AMOUNT = (  # (regex, has a maximum of its own, a single amount is both bounds)
    (re.compile(rf"^(?:A|À) partir de {_NUM} euros\b"), False, False),
    (re.compile(rf"^Entre {_NUM} et {_NUM} euros\b"), True, False),
    (re.compile(rf"^De {_NUM} à {_NUM} euros\b"), True, False),
    (re.compile(rf"^{_NUM} euros\b"), False, True),
)


# -- the raw side -------------------------------------------------------------------------------
def _block(text: str, title: str) -> str | None:
    """The body of the column-0 ``## title`` section, up to the next ``## `` or ``**Key:**``."""
    m = re.search(rf"^## {re.escape(title)}[ \t]*\n(.*?)(?=^## |^\*\*|\Z)", text, re.MULTILINE | re.DOTALL)
    return m[1] if m else None


def _field_items(text: str, key: str) -> list[str] | None:
    """The ``- item`` lines after ``**key:**`` (blank lines allowed between them)."""
    m = re.search(rf"^\*\*{re.escape(key)}:\*\*[ \t]*\n((?:[ \t]*\n|- [^\n]*\n?)*)", text, re.MULTILINE)
    if m is None:
        return None
    return [item.strip() for item in re.findall(r"^- (.*)$", m[1], re.MULTILINE)]


def _decimal(text: str) -> Decimal:
    return Decimal(re.sub(r"[\s\u00a0\u202f]", "", text).replace(",", "."))


@dataclass(slots=True)
class RawFiche:
    met_id: str
    rome: list[str] = field(default_factory=list)
    level_wording: str = ""
    formations: list[str] = field(default_factory=list)
    has_salary_section: bool = False
    salary_sentence: str | None = None
    synonyms: list[tuple[str, list[str]]] = field(default_factory=list)  # label, gendered forms
    statuses: list[str] = field(default_factory=list)
    interests: list[str] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)


def _read(path: Path) -> RawFiche:
    text = path.read_text(encoding="utf-8")
    met_id = re.search(r"^\*\*ID:\*\* (MET\.\d+)$", text, re.MULTILINE)
    assert met_id is not None, path.name
    fiche = RawFiche(met_id[1])
    fiche.rome = _field_items(text, "Codes ROME") or []
    level = re.findall(r"^\*\*Niveau d'accès minimum:\*\* (.+)$", text, re.MULTILINE)
    assert len(level) == 1, path.name
    fiche.level_wording = level[0].strip()
    body = _block(text, "Formations recommandées")
    if body is not None:
        fiche.formations = re.findall(r"\(ID: (FOR\.\d+)\)", body)
    fiche.has_salary_section = re.search(r"^## Salaire[ \t]*$", text, re.MULTILINE) is not None
    sentence = re.search(
        r"^[ \t]*### Salaire du débutant[ \t]*\n(?:[ \t]*\n)*[ \t]*(\S.*)$", text, re.MULTILINE
    )
    if sentence is not None:
        fiche.salary_sentence = sentence[1].strip()
    body = _block(text, "Autres appellations")
    if body is not None:
        for chunk in re.split(r"^### ", body, flags=re.MULTILINE)[1:]:
            label, _, rest = chunk.partition("\n")
            forms = re.findall(r"^- (?:Féminin|Masculin): (.*)$", rest, re.MULTILINE)
            fiche.synonyms.append((label.strip(), [f.strip() for f in forms]))
    fiche.statuses = _field_items(text, "Statuts possibles") or []
    body = _block(text, "Centres d'intérêt")
    if body is not None:
        fiche.interests = [i.strip() for i in re.findall(r"^- (.*)$", body, re.MULTILINE)]
    headings = [h.strip() for h in re.findall(r"^## (.*)$", text, re.MULTILINE)]
    for stray in STRAY_HEADINGS.get(fiche.met_id, []):
        assert stray in headings, f"{fiche.met_id}: the stray '## {stray}' is gone"
        headings.remove(stray)
    fiche.sections = headings
    return fiche


@cache
def raw_fiches() -> dict[str, RawFiche]:
    fiches = [_read(p) for p in sorted(FICHES.glob("MET.*.md"))]
    by_id = {f.met_id: f for f in fiches}
    assert len(by_id) == len(fiches) == README_FICHES
    return by_id


def salary_amount(sentence: str) -> tuple[Decimal, Decimal | None] | None:
    """(min, max) stated at the start of a salary sentence, or None when it states no amount."""
    for pattern, has_max, single in SALARY_AMOUNT:
        m = pattern.match(sentence)
        if m is not None:
            low = _decimal(m[1])
            high = _decimal(m[2]) if has_max else low if single else None
            return low, high
    return None


# -- the graph side -----------------------------------------------------------------------------
def _py(term: object) -> object:
    if term is None:
        return None
    assert isinstance(term, ox.Literal), term
    dt = term.datatype.value
    if dt.endswith("#integer"):
        return int(term.value)
    if dt.endswith("#decimal"):
        return Decimal(term.value)
    return term.value


def rows(store: ox.Store, query: str) -> list[tuple[object, ...]]:
    result = store.query(PREFIXES + query)
    names = [v.value for v in result.variables]
    return [tuple(_py(solution[n]) for n in names) for solution in result]


def scalar(store: ox.Store, query: str) -> object:
    (row,) = rows(store, query)
    return row[0]


def per_value(store: ox.Store, query: str) -> dict[object, object]:
    return {key: value for key, value in rows(store, query)}


# -- tests ----------------------------------------------------------------------------------------
def test_every_fiche_is_a_metier_of_the_graph(corpus_store: ox.Store) -> None:
    ids = {r[0] for r in rows(corpus_store, "SELECT ?id WHERE { ?m a okg:Metier ; dcterms:identifier ?id }")}
    assert ids == set(raw_fiches())


def test_metiers_per_rome_code(corpus_store: ox.Store) -> None:
    raw = raw_fiches().values()
    expected = Counter(code for f in raw for code in set(f.rome))
    assert len(expected) == README_ROME_DISTINCT
    assert sum(1 for f in raw if f.rome) == README_ROME_FICHES
    assert sum(1 for f in raw if len(f.rome) > 1) == README_ROME_SEVERAL

    actual = per_value(
        corpus_store,
        """SELECT ?code (COUNT(DISTINCT ?m) AS ?n) WHERE {
             ?m a okg:Metier ; okg:romeCode ?r . ?r skos:notation ?code } GROUP BY ?code""",
    )
    assert actual == dict(expected)
    assert scalar(corpus_store, "SELECT (COUNT(DISTINCT ?r) AS ?n) WHERE { ?m okg:romeCode ?r }") == 407
    assert scalar(corpus_store, "SELECT (COUNT(DISTINCT ?m) AS ?n) WHERE { ?m okg:romeCode ?r }") == 919
    per_fiche = Counter(
        r[0] for r in rows(corpus_store, "SELECT ?id WHERE { ?m dcterms:identifier ?id ; okg:romeCode ?r }")
    )
    assert dict(per_fiche) == {f.met_id: len(set(f.rome)) for f in raw if f.rome}


def test_fiches_per_access_level_wording_and_study_level(corpus_store: ox.Store) -> None:
    raw = raw_fiches().values()
    wordings = Counter(f.level_wording for f in raw)
    assert set(wordings) <= set(LEVEL_OF_WORDING), set(wordings) - set(LEVEL_OF_WORDING)
    actual = per_value(
        corpus_store,
        """SELECT ?w (COUNT(?m) AS ?n) WHERE { ?m a okg:Metier ; okg:minimumLevelWording ?w }
           GROUP BY ?w""",
    )
    assert actual == dict(wordings)

    levels = Counter(LEVEL_OF_WORDING[f.level_wording] for f in raw)
    actual_levels = per_value(
        corpus_store,
        """SELECT ?n (COUNT(?m) AS ?c) WHERE {
             ?m a okg:Metier ; okg:minimumLevel ?l . ?l skos:notation ?n } GROUP BY ?n""",
    )
    assert {int(str(k)): v for k, v in actual_levels.items()} == {
        k: v for k, v in levels.items() if k is not None
    }
    no_level = scalar(
        corpus_store,
        """SELECT (COUNT(?m) AS ?n) WHERE {
             ?m a okg:Metier FILTER NOT EXISTS { ?m okg:minimumLevel ?l } }""",
    )
    assert no_level == levels[None] == 8

    # per fiche, and each level is the EQF level of the same number
    per_fiche = dict(
        rows(
            corpus_store,
            """SELECT ?id ?n WHERE { ?m dcterms:identifier ?id ; okg:minimumLevel ?l .
                 ?l skos:notation ?n ; skos:closeMatch ?eqf
                 FILTER(STR(?eqf) = CONCAT("http://data.europa.eu/snb/eqf/", ?n)) }""",
        )
    )
    assert {k: int(str(v)) for k, v in per_fiche.items()} == {
        f.met_id: LEVEL_OF_WORDING[f.level_wording]
        for f in raw
        if LEVEL_OF_WORDING[f.level_wording] is not None
    }


def test_formation_links(corpus_store: ox.Store) -> None:
    raw = raw_fiches().values()
    expected = {f.met_id: len(f.formations) for f in raw if f.formations}
    assert len(expected) == README_FORMATION_FICHES
    assert sum(expected.values()) == README_FORMATION_LINKS
    assert len({i for f in raw for i in f.formations}) == README_FORMATION_DISTINCT

    actual = per_value(
        corpus_store,
        """SELECT ?id (COUNT(?f) AS ?n) WHERE {
             ?m a okg:Metier ; dcterms:identifier ?id ; okg:recommendedFormation ?f } GROUP BY ?id""",
    )
    assert actual == expected
    assert sum(actual.values()) == 6931  # type: ignore[arg-type]
    distinct = scalar(
        corpus_store,
        """SELECT (COUNT(DISTINCT ?fid) AS ?n) WHERE {
             ?m okg:recommendedFormation ?f . ?f a okg:Formation ; dcterms:identifier ?fid }""",
    )
    assert distinct == 2433
    pairs = set(
        rows(
            corpus_store,
            """SELECT ?id ?fid WHERE {
                 ?m dcterms:identifier ?id ; okg:recommendedFormation ?f . ?f dcterms:identifier ?fid }""",
        )
    )
    assert pairs == {(f.met_id, i) for f in raw for i in f.formations}


def test_salaries(corpus_store: ox.Store) -> None:
    raw = raw_fiches().values()
    with_section = {f.met_id for f in raw if f.has_salary_section}
    assert len(with_section) == README_SALARY_SECTIONS
    sentences = {f.met_id: f.salary_sentence for f in raw if f.salary_sentence is not None}
    assert set(sentences) == with_section

    graph_sentences = dict(
        rows(
            corpus_store,
            """SELECT ?id ?d WHERE { ?m dcterms:identifier ?id ; schema:estimatedSalary ?s .
                 ?s schema:description ?d }""",
        )
    )
    assert graph_sentences == sentences
    salary_nodes = "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?m schema:estimatedSalary ?s }"
    assert scalar(corpus_store, salary_nodes) == README_SALARY_SECTIONS

    expected = {mid: a for mid, s in sentences.items() if (a := salary_amount(s)) is not None}
    print(f"\nsalary sentences stating an amount: {len(expected)} of {len(sentences)}")
    actual = {
        mid: (low, high)
        for mid, low, high in rows(
            corpus_store,
            """SELECT ?id ?min ?max WHERE { ?m dcterms:identifier ?id ; schema:estimatedSalary ?s .
                 ?s schema:minValue ?min OPTIONAL { ?s schema:maxValue ?max } }""",
        )
    }
    with_min = scalar(
        corpus_store,
        "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?m schema:estimatedSalary ?s . ?s schema:minValue ?v }",
    )
    differ = {
        mid: (sentences[mid][:90], expected.get(mid), actual.get(mid))
        for mid in set(expected) | set(actual)
        if expected.get(mid) != actual.get(mid)
    }
    assert differ == {}, f"fiche: (sentence, amount it states, amount in the graph): {differ}"
    assert with_min == len(expected)


def test_other_appellations(corpus_store: ox.Store) -> None:
    raw = raw_fiches().values()
    with_synonyms = [f for f in raw if f.synonyms]
    assert len(with_synonyms) == README_SYNONYM_FICHES
    assert sum(len(f.synonyms) for f in with_synonyms) == README_SYNONYMS

    # skos:altLabel is a set: a synonym repeated in one fiche (MET.270) is one label
    alt = per_value(
        corpus_store,
        """SELECT ?id (COUNT(?l) AS ?n) WHERE { ?m a okg:Metier ; dcterms:identifier ?id ;
             skos:altLabel ?l } GROUP BY ?id""",
    )
    assert alt == {f.met_id: len({label for label, _ in f.synonyms}) for f in with_synonyms}
    # the gendered labels keep each appellation, repeated or not: one label per distinct form
    xl = per_value(
        corpus_store,
        """SELECT ?id (COUNT(?l) AS ?n) WHERE { ?m a okg:Metier ; dcterms:identifier ?id ;
             skosxl:altLabel ?l } GROUP BY ?id""",
    )
    assert xl == {f.met_id: sum(len(set(forms)) for _, forms in f.synonyms) for f in with_synonyms}


def test_statuses_and_interests_per_value(corpus_store: ox.Store) -> None:
    raw = raw_fiches().values()
    assert sum(1 for f in raw if f.statuses) == README_STATUS_FICHES
    assert sum(1 for f in raw if f.interests) == README_INTEREST_FICHES
    for prop, attr in (("okg:status", "statuses"), ("okg:interest", "interests")):
        expected = Counter(v for f in raw for v in set(getattr(f, attr)))
        actual = per_value(
            corpus_store,
            f"""SELECT ?v (COUNT(DISTINCT ?m) AS ?n) WHERE {{
                  ?m a okg:Metier ; {prop} ?c . ?c skos:prefLabel ?v }} GROUP BY ?v""",
        )
        assert actual == dict(expected), prop
        fiches = scalar(corpus_store, f"SELECT (COUNT(DISTINCT ?m) AS ?n) WHERE {{ ?m {prop} ?c }}")
        assert fiches == sum(1 for f in raw if getattr(f, attr))


def test_sections_per_fiche(corpus_store: ox.Store) -> None:
    raw = raw_fiches()
    found: dict[str, list[tuple[int, str]]] = {}
    for mid, order, title in rows(
        corpus_store,
        """SELECT ?id ?o ?t WHERE { ?m a okg:Metier ; dcterms:identifier ?id ; okg:hasSection ?s .
             ?s okg:order ?o ; dcterms:title ?t }""",
    ):
        found.setdefault(str(mid), []).append((int(str(order)), str(title)))
    actual = {mid: [t for _, t in sorted(v)] for mid, v in found.items()}
    assert {k: len(v) for k, v in actual.items()} == {f.met_id: len(f.sections) for f in raw.values()}
    assert actual == {f.met_id: f.sections for f in raw.values()}
    assert sum(len(f.sections) for f in raw.values()) == sum(len(v) for v in actual.values())


@pytest.mark.parametrize(
    ("sentence", "amount"),
    [
        ("A partir de 1801 euros brut par mois", (Decimal(1801), None)),
        ("Entre 2900 et 3300 euros brut par mois, hors primes", (Decimal(2900), Decimal(3300))),
        ("De 250 à 350 euros brut par jour pour une croisière.", (Decimal(250), Decimal(350))),
        ("769,64 euros brut par semaine de 35 heures", (Decimal("769.64"), Decimal("769.64"))),
        ("Variable en fonction du lieu d'exercice", None),
        ("A partir du Smic. S'y ajoute la part variable", None),
    ],
)
def test_the_salary_regex_of_this_module(
    sentence: str, amount: tuple[Decimal, Decimal | None] | None
) -> None:
    assert salary_amount(sentence) == amount
