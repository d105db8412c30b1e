"""Issue 3: one connected graph. Figures read from the whole ingested graph by SPARQL, checked
against figures computed from the raw seed files by another route (regular expressions and the
csv module, never the pipeline's parsers).
"""

from __future__ import annotations

import csv
import re
import unicodedata
from pathlib import Path

import pyoxigraph as ox
import pytest

from pipeline import resources
from pipeline.ingest import IngestReport
from pipeline.validate import Severity

SEEDS = resources.seeds_dir()
METIERS = resources.metier_fiches_dir()
FORMATIONS = resources.formation_fiches_dir()
IDEO = resources.ideo_formations_dir()

PREFIXES = """
PREFIX okg: <https://w3id.org/onisep-kg/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX skosxl: <http://www.w3.org/2008/05/skos-xl#>
PREFIX schema: <https://schema.org/>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX rome: <https://w3id.org/onisep-kg/id/rome/>
PREFIX niveau: <https://w3id.org/onisep-kg/id/niveau/>
PREFIX metier: <https://w3id.org/onisep-kg/id/metier/>
"""
FOR_RE = re.compile(r"\(ID: (FOR\.\d+)\)")
LEVEL_RE = re.compile(r"^\*\*(?:Niveau de certification|Niveau):\*\* niveau (\d)\s*$", re.M)
EXIT_RE = re.compile(r"^\*\*Niveau de sortie indicatif:\*\* (.+?)\s*$", re.M)
IDEO_FOR_RE = re.compile(r"/(FOR\.\d+)\)")


def _values(store: ox.Store, query: str) -> list[str]:
    return [row[0].value for row in store.query(PREFIXES + query)]  # type: ignore[union-attr]


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _metier_texts() -> dict[str, str]:
    out = {}
    for path in sorted(METIERS.glob("*.md")):
        text = _text(path)
        m = re.search(r"^\*\*ID:\*\* (MET\.\d+)$", text, re.M)
        assert m is not None
        out[m[1]] = text
    return out


def _rome_codes(text: str) -> list[str]:
    block = re.search(r"^\*\*Codes ROME:\*\*\n((?:- .*\n?)+)", text, re.M)
    return re.findall(r"^- (\S+)", block[1], re.M) if block else []


def _raw_formation_levels() -> dict[str, set[str]]:
    """FOR id → what the raw files give as level: 'N' (certification) and/or the exit wording."""
    levels: dict[str, set[str]] = {}
    for path in FORMATIONS.glob("FOR.*.md"):
        text = _text(path)
        fid = re.match(r"(FOR\.\d+)_", path.name)[1]  # type: ignore[index]
        levels.setdefault(fid, set()).update(LEVEL_RE.findall(text))
    for path in IDEO.glob("*.md"):
        text = _text(path)
        m = IDEO_FOR_RE.search(text)
        if m is None:
            continue
        found = levels.setdefault(m[1], set())
        found.update(LEVEL_RE.findall(text))
        found.update(f"exit:{w}" for w in EXIT_RE.findall(text))
    return levels


def test_cited_for_ids_resolve_to_a_named_formation_with_a_level(corpus_store: ox.Store) -> None:
    cited = {fid for text in _metier_texts().values() for fid in FOR_RE.findall(text)}
    assert len(cited) == 2433
    described = _raw_formation_levels()
    expected_named = {fid for fid in cited if fid in described}
    assert len(expected_named) == 2394
    named = set(
        _values(
            corpus_store,
            """SELECT DISTINCT ?id WHERE { ?m okg:recommendedFormation ?f .
               ?f dcterms:identifier ?id ; schema:name ?name }""",
        )
    )
    assert named == expected_named
    # A level: the certification level (nomenclature 2019) or, failing that, the exit level.
    with_level = set(
        _values(
            corpus_store,
            """SELECT DISTINCT ?id WHERE { ?m okg:recommendedFormation ?f .
               ?f dcterms:identifier ?id ; schema:name ?name .
               { ?f okg:certificationLevel ?l } UNION { ?f okg:exitLevel ?l } }""",
        )
    )
    # exit wordings that name a level ("bac + 2", "CAP ou équivalent", "3E"); not "non renseigné",
    # "seconde", "1re", "4E", which are school years, not levels of the nomenclature
    leveled = re.compile(r"^exit:(bac|CAP|3E)")
    expected_level = {
        fid for fid in expected_named if any(v.isdigit() or leveled.match(v) for v in described[fid])
    }
    assert with_level == expected_level
    print(f"\nFOR ids cited: {len(cited)}; named: {len(named)}; with a level: {len(with_level)}")


def test_rome_codes_cited_carry_their_v3_label(corpus_store: ox.Store) -> None:
    cited = {code for text in _metier_texts().values() for code in _rome_codes(text)}
    xml = _text(resources.rome_v3_file())
    v3 = dict(re.findall(r"<code_rome>(\w+)</code_rome>\s*<libelle>([^<]+)</libelle>", xml))
    assert len(cited) == 407 and len(v3) == 532
    labelled = dict(
        (row[0].value, row[1].value)  # type: ignore[union-attr]
        for row in corpus_store.query(
            PREFIXES
            + """SELECT DISTINCT ?code ?label WHERE { ?m okg:romeCode ?r .
                 ?r skos:notation ?code ; skos:prefLabel ?label }"""
        )
    )
    assert labelled == {code: v3[code] for code in cited if code in v3}
    assert len(labelled) == 405
    assert sorted(cited - set(labelled)) == ["A15", "K15"]


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("’", "'").replace("\u00a0", " ").casefold()
    return " ".join(re.sub(r"\s*/\s*", "/", text).split())


def _names_by_metier(texts: dict[str, str]) -> dict[str, set[str]]:
    names = {}
    for mid, text in texts.items():
        found = {_fold(text.split("\n", 1)[0][2:])}
        found.update(_fold(n) for n in re.findall(r"^- (?:Féminin|Masculin): (.+)$", text, re.M))
        found.update(_fold(n) for n in re.findall(r"^### (.+)$", text, re.M) if n)
        names[mid] = found
    return names


def test_metiers_associes_resolve(corpus: tuple[IngestReport, Path], corpus_store: ox.Store) -> None:
    report, _out = corpus
    labels = [
        label
        for path in FORMATIONS.glob("FOR.*.md")
        for block in [re.search(r"^## Métiers associés\n\n((?:- .*\n?)+)", _text(path), re.M)]
        if block
        for label in re.findall(r"^- (.+?)\s*$", block[1], re.M)
    ]
    stats = next(s for s in report.links if s.link == "formation→métier")
    # Idéo records have no "Métiers associés"; every label of the formation fiches is counted
    assert stats.total == len(labels) == 6461
    all_names = set().union(*_names_by_metier(_metier_texts()).values())
    expected_resolved = sum(1 for label in labels if _fold(label) in all_names)
    assert stats.resolved == expected_resolved
    leads = _values(corpus_store, "SELECT (COUNT(*) AS ?n) WHERE { ?f okg:leadsTo ?m }")
    assert int(leads[0]) <= stats.resolved  # the same métier twice in one list counts once
    print(f"\n'Métiers associés': {stats.resolved} of {stats.total} labels resolved")


def test_metiers_reach_esco_through_their_rome_codes(corpus_store: ox.Store) -> None:
    texts = _metier_texts()
    rows = list(csv.reader(resources.rome_v4_appellations_file().open(encoding="utf-8")))
    header = rows[0]
    parent_of = {r[header.index("code_ogr")]: r[header.index("code_rome_parent")] for r in rows[1:]}
    lines = resources.esco_crosswalk_file().read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("classification 1 ID"))
    esco_by_code: dict[str, set[str]] = {}
    for row in csv.reader(lines[start + 1 :]):
        if row:
            esco_by_code.setdefault(parent_of[row[2]], set()).add(row[0])
    expected = {mid for mid, text in texts.items() if any(c in esco_by_code for c in _rome_codes(text))}
    reached = set(
        _values(
            corpus_store,
            """SELECT DISTINCT ?id WHERE {
                 ?m a okg:Metier ; dcterms:identifier ?id ; okg:romeCode ?code .
                 ?app okg:romeParent ?code .
                 ?app skos:exactMatch|skos:closeMatch|skos:broadMatch|skos:narrowMatch ?esco .
                 ?esco a okg:EscoOccupation }""",
        )
    )
    assert reached == expected
    assert len(reached) == 918
    met_799 = set(
        _values(
            corpus_store,
            """SELECT DISTINCT ?esco WHERE { metier:MET.799 okg:romeCode ?code .
                 ?app okg:romeParent ?code ;
                      skos:exactMatch|skos:closeMatch|skos:broadMatch|skos:narrowMatch ?esco }""",
        )
    )
    assert met_799 == esco_by_code["I1401"]
    print(f"\nmétiers reaching ESCO: {len(reached)} of {len(texts)}; MET.799: {len(met_799)} occupations")


def test_bac_plus_2_formations_leading_to_the_metiers_under_i1401(corpus_store: ox.Store) -> None:
    """The question of the issue, as a SPARQL query, against an answer from the raw files."""
    texts = _metier_texts()
    under = {mid for mid, text in texts.items() if "I1401" in _rome_codes(text)}
    assert "MET.799" in under
    names = _names_by_metier({mid: texts[mid] for mid in under})
    levels = _raw_formation_levels()
    recommended = {fid for mid in under for fid in FOR_RE.findall(texts[mid])}
    associated = set()
    for path in FORMATIONS.glob("FOR.*.md"):
        block = re.search(r"^## Métiers associés\n\n((?:- .*\n?)+)", _text(path), re.M)
        labels = {_fold(x) for x in re.findall(r"^- (.+?)\s*$", block[1], re.M)} if block else set()
        if any(labels & n for n in names.values()):
            associated.add(re.match(r"(FOR\.\d+)_", path.name)[1])  # type: ignore[index]
    expected = {fid for fid in recommended | associated if "5" in levels.get(fid, set())}

    answer = set(
        _values(
            corpus_store,
            """SELECT DISTINCT ?id WHERE {
                 ?m okg:romeCode rome:I1401 .
                 { ?m okg:recommendedFormation ?f } UNION { ?f okg:leadsTo ?m }
                 ?f okg:certificationLevel niveau:5 ; dcterms:identifier ?id }""",
        )
    )
    assert answer == expected
    assert {"FOR.5337", "FOR.5987"} <= answer
    print(f"\nbac + 2 formations leading to the {len(under)} métiers under I1401: {len(answer)}")


@pytest.mark.parametrize("severity", [Severity.VIOLATION, Severity.WARNING, Severity.INFO])
def test_every_finding_names_its_source_file_and_line(
    corpus: tuple[IngestReport, Path], severity: Severity
) -> None:
    report, _out = corpus
    root = resources.seeds_dir().parent
    findings = [f for f in report.findings if f.severity == severity]
    assert findings
    for f in findings:
        assert f.line is not None and f.line >= 1, f
        assert (root / f.source).is_file() or Path(f.source).is_file(), f


def test_the_only_violations_are_the_malformed_rome_codes_of_the_sources(
    corpus: tuple[IngestReport, Path],
) -> None:
    report, _out = corpus
    violations = [f for f in report.findings if f.severity == Severity.VIOLATION]
    assert {f.shape for f in violations} == {"okgsh:RomeCode-wellFormed"}
    assert sorted({f.focus or "" for f in violations}) == [
        "https://w3id.org/onisep-kg/id/rome/A15",
        "https://w3id.org/onisep-kg/id/rome/K15",
    ]
    assert not report.failures


def test_every_ontology_term_is_used_in_the_whole_graph(corpus_store: ox.Store) -> None:
    from pipeline.vocab import OKG

    used = {
        term.value  # type: ignore[union-attr]
        for row in corpus_store.query(
            "SELECT DISTINCT ?t WHERE { { ?s ?t ?o } UNION { ?s a ?t } UNION { ?s ?p ?t } }"
        )
        for term in [row[0]]
        if isinstance(term, ox.NamedNode)
    }
    declared = {str(term) for term in dir(OKG)}
    # okg:SalaryBasis is the class of okg:Gross and okg:Net, and no shipped salary is net;
    # okg:unparsedLine and okg:extraField keep what the parser could not place or did not
    # know, and no shipped fiche has any
    unused = {OKG.SalaryBasis, OKG.Net, OKG.unparsedLine, OKG.ExtraField, OKG.extraField}
    assert declared - used == {str(t) for t in unused}
