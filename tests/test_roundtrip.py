"""Round trips: what the ingest writes reads back as the graph it wrote, and always the same bytes.

* The whole corpus's Turtle and JSON-LD (the fiches and the linked referentials, ~800,000
  triples) parse back with pyoxigraph into the same graph, of exactly ``report.graph_triples``
  triples; every 20th real fiche's own pair of files, and MET.799's, parse back with rdflib AND
  pyoxigraph, two independent parsers, into the same triples. (rdflib takes minutes on the whole
  graph; the sample exercises its reading of every construct our writers emit.)
* The JSON-LD carries its ``@context`` inline (never a URL to fetch: the conftest blocks sockets
  anyway), and that context is the shipped ``ontology/context.jsonld``.
* Determinism: a second ingest of the corpus, in another process with another ``PYTHONHASHSEED``,
  writes byte-identical files, all of them.

Isomorphism and set equality: the mapper mints an IRI for everything (no blank nodes, checked
below), and two RDF graphs without blank nodes are isomorphic exactly when their sets of triples
are equal. ``rdflib.compare.isomorphic`` computes a canonical labelling first, which is slow on
250,000 triples, so the whole-graph tests compare sets; the per-fiche tests do both.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import XSD, BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.term import Node

from pipeline import resources
from pipeline.build import CACHE_DIR, MANIFEST_NAME
from pipeline.ingest import FicheOutcome, IngestReport

METIERS = resources.metier_fiches_dir()
ALL_FICHES = sorted(METIERS.glob("*.md"))
MET_799 = METIERS / "MET.799_hot_liner.md"
SAMPLE = sorted({*ALL_FICHES[::20], MET_799})
WHOLE = "onisep-kg"

Triple = tuple[Node, Node, Node]


# -- helpers ---------------------------------------------------------------------------------------
def _parse(path: Path, fmt: str) -> Graph:
    return Graph().parse(path, format=fmt)


def _assert_same_triples(expected: set, actual: set, what: str) -> None:
    if expected == actual:
        return
    missing, extra = expected - actual, actual - expected
    lines = [f"{what}: {len(missing)} triples missing, {len(extra)} extra"]
    lines += [f"- {t}" for t in sorted(map(str, missing))[:10]]
    lines += [f"+ {t}" for t in sorted(map(str, extra))[:10]]
    pytest.fail("\n".join(lines), pytrace=False)


def _assert_no_blank_nodes(triples: set, what: str) -> None:
    blank = [t for t in triples if any(isinstance(term, (BNode, ox.BlankNode)) for term in t)]
    assert not blank, f"{what}: {len(blank)} triples with blank nodes, e.g. {blank[0]}"


def _rdflib_term(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> Node:
    """A pyoxigraph term as the rdflib term the rdflib parsers build for the same text."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    if term.datatype.value == str(XSD.string):  # rdflib keeps "x" and "x"^^xsd:string apart
        return Literal(term.value)
    return Literal(term.value, datatype=URIRef(term.datatype.value))


def _ox_triples(path: Path, fmt: ox.RdfFormat) -> list[ox.Triple]:
    return list(ox.parse(path=str(path), format=fmt))


def _outcome_of(report: IngestReport, fiche: Path) -> FicheOutcome:
    matches = [o for o in report.outcomes if Path(o.source).name == fiche.name]
    assert len(matches) == 1, f"{fiche.name}: {len(matches)} outcomes in the report"
    return matches[0]


def _file_hashes(folder: Path) -> dict[str, str]:
    """The outputs' hashes. The manifest a run leaves for the next (``.onisep-kg/``: file times,
    absolute paths) is not an output, but must be there."""
    assert (folder / CACHE_DIR / MANIFEST_NAME).is_file()
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and CACHE_DIR not in p.relative_to(folder).parts
    }


# -- fixtures --------------------------------------------------------------------------------------
@pytest.fixture(scope="session", autouse=True)
def second_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[subprocess.Popen, Path]]:
    """A second ingest of the corpus, in another process with its own hash seed (so set or dict
    order cannot leak into the bytes unseen).

    Session-scoped and autouse, so pytest starts it before the session's ``corpus`` fixture when
    this module is the first to need the corpus: the two ingests then run side by side.
    """
    out = tmp_path_factory.mktemp("corpus-second-run")
    env = dict(os.environ, PYTHONHASHSEED="20240917")
    log = (out.parent / f"{out.name}.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from pipeline.cli import main; main()", "ingest", "--out", str(out / "o")],
        cwd=os.getcwd(),  # same working directory, so report.json names the sources the same way
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield proc, out / "o"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def whole_turtle(corpus: tuple[IngestReport, Path]) -> set[ox.Triple]:
    return set(_ox_triples(corpus[1] / f"{WHOLE}.ttl", ox.RdfFormat.TURTLE))


@pytest.fixture(scope="module")
def whole_jsonld(corpus: tuple[IngestReport, Path]) -> set[ox.Triple]:
    return set(_ox_triples(corpus[1] / f"{WHOLE}.jsonld", ox.RdfFormat.JSON_LD))


@pytest.fixture(scope="module")
def shipped_context() -> dict:
    with (resources.context_file()).open(encoding="utf-8") as f:
        shipped = json.load(f)
    assert set(shipped) == {"@context"}
    assert isinstance(shipped["@context"], dict)
    return shipped["@context"]


# -- the whole graph -------------------------------------------------------------------------------
@pytest.mark.slow
def test_corpus_ingests_every_fiche(corpus: tuple[IngestReport, Path]) -> None:
    report, out = corpus
    assert len(report.outcomes) == len(ALL_FICHES) == 1043
    assert report.failures == []
    assert report.ingested == 1043
    assert (out / f"{WHOLE}.ttl").is_file() and (out / f"{WHOLE}.jsonld").is_file()


@pytest.mark.slow
def test_whole_turtle_reads_back_with_the_reported_triple_count(
    corpus: tuple[IngestReport, Path], whole_turtle: set[ox.Triple]
) -> None:
    report, _ = corpus
    assert report.graph_triples > 200_000
    assert len(whole_turtle) == report.graph_triples
    _assert_no_blank_nodes(whole_turtle, "whole Turtle")


@pytest.mark.slow
def test_whole_jsonld_reads_back_as_the_turtle_graph(
    corpus: tuple[IngestReport, Path], whole_turtle: set[ox.Triple], whole_jsonld: set[ox.Triple]
) -> None:
    report, _ = corpus
    assert len(whole_jsonld) == report.graph_triples
    _assert_no_blank_nodes(whole_jsonld, "whole JSON-LD")
    # no blank nodes on either side: equal sets of triples <=> isomorphic graphs
    _assert_same_triples(whole_turtle, whole_jsonld, "whole graph, Turtle vs JSON-LD")


@pytest.mark.slow
def test_whole_jsonld_context_is_the_shipped_one_inline(
    corpus: tuple[IngestReport, Path], shipped_context: dict
) -> None:
    _, out = corpus
    with (out / f"{WHOLE}.jsonld").open(encoding="utf-8") as f:
        doc = json.load(f)
    assert isinstance(doc["@context"], dict), f"@context is not inline: {doc['@context']!r}"
    assert doc["@context"] == shipped_context
    assert set(doc) == {"@context", "@graph"}


# -- per fiche -------------------------------------------------------------------------------------
def test_sample_is_every_20th_fiche_and_met_799() -> None:
    assert len(ALL_FICHES) == 1043
    assert MET_799 in SAMPLE  # MET.799 happens to be one of the every-20th fiches too
    assert len(SAMPLE) == len(ALL_FICHES[::20]) == 53


@pytest.mark.slow
@pytest.mark.parametrize("fiche", SAMPLE, ids=lambda p: p.name.split("_", 1)[0])
def test_fiche_files_read_back_as_one_graph(
    corpus: tuple[IngestReport, Path],
    whole_turtle: set[ox.Triple],
    shipped_context: dict,
    fiche: Path,
) -> None:
    report, out = corpus
    outcome = _outcome_of(report, fiche)
    assert outcome.failure is None and outcome.metier_id is not None
    ttl_path = out / "metiers" / f"{outcome.metier_id}.ttl"
    jsonld_path = out / "metiers" / f"{outcome.metier_id}.jsonld"
    ttl, jsonld = _parse(ttl_path, "turtle"), _parse(jsonld_path, "json-ld")
    assert len(ttl) == len(jsonld) == outcome.triples > 0
    assert isomorphic(ttl, jsonld)
    _assert_no_blank_nodes(set(ttl), ttl_path.name)
    _assert_same_triples(set(ttl), set(jsonld), f"{outcome.metier_id}, Turtle vs JSON-LD")
    ox_ttl = _ox_triples(ttl_path, ox.RdfFormat.TURTLE)
    as_rdflib = {(_rdflib_term(t.subject), _rdflib_term(t.predicate), _rdflib_term(t.object)) for t in ox_ttl}
    _assert_same_triples(set(ttl), as_rdflib, f"{outcome.metier_id}, rdflib vs pyoxigraph")
    assert set(_ox_triples(jsonld_path, ox.RdfFormat.JSON_LD)) == set(ox_ttl)
    # the fiche's triples are in the whole graph
    assert set(ox_ttl) <= whole_turtle
    with jsonld_path.open(encoding="utf-8") as f:
        doc = json.load(f)
    assert doc["@context"] == shipped_context


# -- determinism -----------------------------------------------------------------------------------
@pytest.mark.slow
def test_second_ingest_writes_byte_identical_files(
    corpus: tuple[IngestReport, Path], second_run: tuple[subprocess.Popen, Path]
) -> None:
    _, first = corpus
    proc, second = second_run
    code = proc.wait(timeout=1200)
    log = Path(str(second.parent) + ".log")
    assert code == 0, log.read_text(encoding="utf-8", errors="replace")[-3000:]
    first_files, second_files = _file_hashes(first), _file_hashes(second)
    assert sorted(first_files) == sorted(second_files)
    assert len(first_files) == 2 * 1043 + 4  # per fiche .ttl/.jsonld, whole graph x3, report.json
    leftovers = [name for name in first_files if name.endswith(".tmp")]
    assert not leftovers, f"temporary files left behind: {leftovers[:5]}"
    differ = sorted(name for name in first_files if first_files[name] != second_files[name])
    assert not differ, f"{len(differ)} files differ between two runs, e.g. {differ[:10]}"
