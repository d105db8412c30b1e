"""The bad-input corpus (issue 6): ``tests/bad_inputs/`` holds one file per case, derived from
real shipped fiches, and ``expected.json`` says what the ingest must do with each — the failure's
line and message, or the findings of a fiche that is still ingested, or that the file is not a
fiche at all. The cases are data: adding one is adding a file and its entry, no code.

Each case is ingested alone (one test per case, made from the manifest); then the whole folder
is ingested at once beside five real fiches copied unchanged, with :func:`pipeline.ingest.ingest`
and with the command line: every bad input gives exactly its expected outcome, the good fiches
are written and are in the whole graph, and the run fails (exit code 1).

The tests work from inside a temporary folder (``monkeypatch.chdir``), where the corpus is copied
to ``in/``: the pipeline names each file ``in/<file>``, as the manifest's messages do.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from pipeline import resources
from pipeline.cli import main
from pipeline.ingest import FicheOutcome, IngestReport, Pipeline, collect_fiches, ingest, survey_fiches
from pipeline.linking import LinkReport
from pipeline.parse import parse_metier
from pipeline.referential_graphs import link_metiers

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
MANIFEST = CORPUS / "expected.json"
CASES: list[dict[str, Any]] = json.loads(MANIFEST.read_text(encoding="utf-8"))["cases"]
NOT_CASES = {"expected.json", ".gitattributes"}  # the corpus folder's own files
METIERS = resources.metier_fiches_dir()
GOOD_IDS = ("MET.10", "MET.11", "MET.12", "MET.13", "MET.799")
INPUT = "in"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
# Root reads a chmod 000 file: the case cannot fail as expected, so it is left out (and said so).
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
PREFIXES = """
PREFIX okg: <https://w3id.org/onisep-kg/ontology#>
PREFIX metier: <https://w3id.org/onisep-kg/id/metier/>
PREFIX formation: <https://w3id.org/onisep-kg/id/formation/>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX schema: <https://schema.org/>
"""


def real(met_id: str) -> Path:
    """The shipped fiche of ``met_id`` (file names carry accents: find it by its ID prefix)."""
    (path,) = METIERS.glob(f"{met_id}_*.md")
    return path


def _runnable(expectation: dict[str, Any]) -> bool:
    return not (AS_ROOT and expectation.get("setup") == "chmod 000")


def _copy_case(case: dict[str, Any], folder: Path) -> dict[str, dict[str, Any]]:
    """The case's files copied into ``folder`` (set up as the manifest says); their expectations
    by source name (``in/<file>``). Cases that cannot run here are not copied."""
    folder.mkdir(parents=True, exist_ok=True)
    expected: dict[str, dict[str, Any]] = {}
    for name, expectation in case["files"].items():
        if not _runnable(expectation):
            continue
        source, target = CORPUS / name, folder / name
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copyfile(source, target)
        if expectation.get("setup") == "chmod 000":
            target.chmod(0)
        expected[f"{INPUT}/{name}"] = expectation
    return expected


def _copy_good(folder: Path) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    for met_id in GOOD_IDS:
        shutil.copyfile(real(met_id), folder / real(met_id).name)
    return [f"{INPUT}/{real(met_id).name}" for met_id in GOOD_IDS]


def _restore_permissions(folder: Path) -> None:
    """Let pytest remove the temporary folder after a chmod 000 case."""
    for path in folder.iterdir():
        if not path.is_dir():
            path.chmod(0o644)


def _ask(query: str, path: Path) -> bool:
    store = ox.Store()
    store.load(path=str(path), format=ox.RdfFormat.TURTLE)
    return bool(store.query(PREFIXES + query))


def _check_fiche(source: str, expectation: dict[str, Any], outcome: FicheOutcome, out: Path) -> None:
    """One file's outcome is exactly what the manifest says."""
    kind = expectation["expect"]
    if kind == "failure":
        failure = outcome.failure
        assert failure is not None, f"{source}: ingested, expected a failure"
        assert failure.source == source
        assert failure.line == expectation["line"], f"{source}: line {failure.line}"
        for fragment in expectation["message"]:
            assert fragment in failure.message, f"{source}: {fragment!r} not in {failure.message!r}"
        assert outcome.findings == []
        return
    assert kind == "ingested", f"{source}: unknown expectation {kind!r}"
    assert outcome.failure is None, f"{source}: {outcome.failure}"
    assert outcome.metier_id == expectation["metier"]
    got = sorted((f.severity.label.lower(), f.shape, f.line, f.message) for f in outcome.findings)
    want = sorted((f["severity"], f["shape"], f["line"], f["message"]) for f in expectation["findings"])
    assert [g[:3] for g in got] == [w[:3] for w in want], f"{source}: findings {got}"
    for (*_, message), (*_, fragment) in zip(got, want, strict=True):
        assert fragment in message, f"{source}: {fragment!r} not in {message!r}"
    ttl = out / "metiers" / f"{outcome.metier_id}.ttl"
    jsonld = ttl.with_suffix(".jsonld")
    triples = set(ox.parse(path=str(ttl), format=ox.RdfFormat.TURTLE))
    assert len(triples) == outcome.triples > 0
    assert set(ox.parse(path=str(jsonld), format=ox.RdfFormat.JSON_LD)) == triples  # no blank node
    if "ask" in expectation:
        assert _ask(expectation["ask"], ttl), f"{source}: {expectation['ask']}"
    if "same_record_as" in expectation:
        shipped = real(expectation["same_record_as"])
        record = parse_metier(Path(source).read_bytes(), source)
        original = parse_metier(shipped.read_bytes(), source)
        assert dataclasses.replace(record, sha256=original.sha256) == original


def _check_outcomes(report: IngestReport, out: Path, expected: dict[str, dict[str, Any]]) -> None:
    """Every file the manifest expects to be read has exactly its outcome; no other file was read."""
    outcomes = {o.source: o for o in report.outcomes}
    assert len(outcomes) == len(report.outcomes), "two outcomes for one file"
    read = {s for s, e in expected.items() if e["expect"] != "skipped"}
    assert read <= set(outcomes), f"not read: {sorted(read - set(outcomes))}"
    skipped = {s for s, e in expected.items() if e["expect"] == "skipped"}
    assert not any(s == k or s.startswith(k + "/") for s in outcomes for k in skipped)
    for source in sorted(read):
        _check_fiche(source, expected[source], outcomes[source], out)


def _links(files: list[Path], pipeline: Pipeline) -> LinkReport:
    survey, _claims = survey_fiches(files)
    links = LinkReport()
    link_metiers(
        survey, links, catalog=pipeline.sources.catalog, rome_v3_labels=pipeline.sources.rome_v3_labels
    )
    return links


def _check_links(links: LinkReport | list[dict[str, Any]], expected: dict[str, dict[str, Any]]) -> None:
    """Each link-report entry the manifest names is there, with its reason."""
    rows = links.to_json() if isinstance(links, LinkReport) else links
    by_link = {row["link"]: row for row in rows}
    for source, expectation in expected.items():
        for entry in expectation.get("links", []):
            misses = by_link[entry["link"]]["unresolved"]
            hits = [
                m for m in misses if entry["reference"] in m["reference"] and entry["reason"] in m["reason"]
            ]
            assert hits, f"{source}: no {entry} in {misses}"


# -- the manifest ----------------------------------------------------------------------------------
def test_the_manifest_describes_every_file_of_the_corpus_once() -> None:
    names = [name for case in CASES for name in case["files"]]
    assert len(names) == len(set(names)), "a file in two cases"
    on_disk = {p.name for p in CORPUS.iterdir()} - NOT_CASES
    assert sorted(names) == sorted(on_disk)
    assert len({case["case"] for case in CASES}) == len(CASES)
    for case in CASES:
        if case["from"] is not None:
            real(case["from"])  # the shipped fiche it is derived from exists
        for expectation in case["files"].values():
            assert expectation["expect"] in ("failure", "ingested", "skipped")


# -- each case alone -------------------------------------------------------------------------------
@pytest.mark.parametrize("case", CASES, ids=[case["case"] for case in CASES])
def test_case(
    case: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pipeline: Pipeline
) -> None:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / INPUT
    expected = _copy_case(case, folder)
    if not expected:
        pytest.skip("chmod 000 does not stop root from reading the file (the tests run as root)")
    try:
        report = ingest([Path(INPUT)], Path("out"), pipeline=pipeline, with_referentials=False)
        _check_outcomes(report, tmp_path / "out", expected)
        assert len(report.outcomes) == sum(e["expect"] != "skipped" for e in expected.values())
        if any("links" in e for e in expected.values()):
            files, _missing = collect_fiches([Path(INPUT)])
            _check_links(_links(files, pipeline), expected)
    finally:
        _restore_permissions(folder)


# -- the whole corpus at once, beside good fiches --------------------------------------------------
def _all_expected(folder: Path) -> dict[str, dict[str, Any]]:
    expected: dict[str, dict[str, Any]] = {}
    for case in CASES:
        expected.update(_copy_case(case, folder))
    return expected


def _failures(expected: dict[str, dict[str, Any]]) -> list[str]:
    return sorted(s for s, e in expected.items() if e["expect"] == "failure")


def _check_written(out: Path, expected: dict[str, dict[str, Any]]) -> None:
    """The good fiches and the ingested cases are written, parse, and make the whole graph; the
    others are not in it."""
    wanted = [*GOOD_IDS, *(e["metier"] for e in expected.values() if e["expect"] == "ingested")]
    assert sorted(p.name for p in (out / "metiers").iterdir()) == sorted(
        f"{m}{ext}" for m in wanted for ext in (".jsonld", ".ttl")
    )
    whole = set(ox.parse(path=str(out / "onisep-kg.ttl"), format=ox.RdfFormat.TURTLE))
    assert set(ox.parse(path=str(out / "onisep-kg.jsonld"), format=ox.RdfFormat.JSON_LD)) == whole
    fiches: set[ox.Triple] = set()
    for met_id in wanted:
        ttl = set(ox.parse(path=str(out / "metiers" / f"{met_id}.ttl"), format=ox.RdfFormat.TURTLE))
        jsonld = ox.parse(path=str(out / "metiers" / f"{met_id}.jsonld"), format=ox.RdfFormat.JSON_LD)
        assert ttl and set(jsonld) == ttl
        fiches |= ttl
    assert fiches <= whole
    a, metier = ox.NamedNode(RDF_TYPE), ox.NamedNode("https://w3id.org/onisep-kg/ontology#Metier")
    metiers = {t.subject.value for t in whole if t.predicate == a and t.object == metier}
    assert metiers == {f"https://w3id.org/onisep-kg/id/metier/{m}" for m in wanted}
    for source, expectation in expected.items():
        if "ask" in expectation:
            assert _ask(expectation["ask"], out / "onisep-kg.ttl"), f"whole graph: {source}"


def test_the_whole_corpus_beside_good_fiches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pipeline: Pipeline
) -> None:
    """With the referentials: the link report holds the corpus's link entries too."""
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / INPUT
    good = _copy_good(folder)
    expected = _all_expected(folder)
    try:
        report = ingest([Path(INPUT)], Path("out"), pipeline=pipeline)
    finally:
        _restore_permissions(folder)
    out = tmp_path / "out"
    _check_outcomes(report, out, expected)
    read = [s for s, e in expected.items() if e["expect"] != "skipped"]
    assert len(report.outcomes) == len(read) + len(good)
    failed = sorted(f.source for f in report.failures if f.source.startswith(INPUT + "/"))
    assert failed == _failures(expected)
    outcomes = {o.source: o for o in report.outcomes}
    assert all(outcomes[source].failure is None for source in good)
    _check_written(out, expected)
    _check_links(report.links, expected)
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    listed = sorted(f["source"] for f in data["failures"] if f["source"].startswith(INPUT + "/"))
    assert listed == _failures(expected)
    _check_links(data["links"], expected)


def test_the_whole_corpus_on_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / INPUT
    good = _copy_good(folder)
    expected = _all_expected(folder)
    try:
        result = CliRunner().invoke(
            main, ["ingest", INPUT, "--out", "out", "--fiches-only"], prog_name="onisep-kg"
        )
    finally:
        _restore_permissions(folder)
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    read = sum(e["expect"] != "skipped" for e in expected.values()) + len(good)
    failed = len(_failures(expected))
    assert lines[0] == f"fiches: {read} read, {read - failed} ingested, {failed} failed"
    start = lines.index("failures:") + 1
    end = next(i for i, line in enumerate(lines) if line.startswith("time: "))  # the time table ends it
    printed: dict[str, tuple[int | None, str]] = {}
    for line in lines[start:end]:
        m = re.fullmatch(r"  (?P<source>[^:]+?)(?::(?P<line>\d+))?: (?P<message>.+)", line)
        assert m is not None, f"not 'path:line: message': {line!r}"
        printed[m["source"]] = (int(m["line"]) if m["line"] else None, m["message"])
    assert sorted(printed) == _failures(expected)
    for source, (number, message) in printed.items():
        assert number == expected[source]["line"], source
        for fragment in expected[source]["message"]:
            assert fragment in message, f"{source}: {fragment!r} not in {message!r}"
    # each violation of a case is printed, '[VIOLATION] [file:line] message (shape)'
    violations = sorted(
        (source, f["line"], f["shape"])
        for source, e in expected.items()
        for f in e.get("findings", [])
        if f["severity"] == "violation"
    )
    assert violations  # (the malformed ROME code)
    shown = re.findall(rf"^  \[VIOLATION\] \[({INPUT}/[^:]+):(\d+)\] .* \((\S+)\)$", result.output, re.M)
    assert sorted((source, int(line), shape) for source, line, shape in shown) == violations
    _check_written(tmp_path / "out", expected)


# -- identifier clashes: a FOR id cited under two labels ---------------------------------------------
def test_the_shipped_fiches_cite_every_formation_under_one_label(pipeline: Pipeline) -> None:
    """The real corpus: 2,433 distinct FOR ids cited, each under one label, which is its formation
    fiche's or Idéo record's name when it has one (2,394 of them): nothing to list."""
    files, _missing = collect_fiches([METIERS])
    rows = {row["link"]: row for row in _links(files, pipeline).to_json()}
    labels = rows["métier → formation label"]
    assert (labels["resolved"], labels["total"], labels["unresolved"]) == (2433, 2433, [])
    assert (rows["métier → formation"]["resolved"], rows["métier → formation"]["total"]) == (2394, 2433)


def _label_entry(report: IngestReport) -> str:
    (row,) = [row for row in report.links.to_json() if row["link"] == "métier → formation label"]
    (entry,) = row["unresolved"]
    assert entry["reference"] == "FOR.6006"
    return entry["reason"]


@pytest.mark.slow
def test_a_label_clash_is_listed_again_when_its_fiche_moves_its_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pipeline: Pipeline
) -> None:
    """The link entry names lines, which the survey digest leaves out (moving lines must not
    rebuild the referentials): an edit of a fiche the entry names rebuilds them, so the entry
    names the new line; an edit of another fiche still reuses them. Each run writes the bytes
    of a run from scratch."""
    monkeypatch.chdir(tmp_path)
    (case,) = [c for c in CASES if c["case"] == "for-label-clash-two-fiches"]
    _copy_case(case, tmp_path / INPUT)
    other = tmp_path / INPUT / real("MET.799").name
    shutil.copyfile(real("MET.799"), other)
    first = ingest([Path(INPUT)], Path("out"), pipeline=pipeline)
    assert "(in/for_label_clash_MET.533.md:33)" in _label_entry(first)

    clash = tmp_path / INPUT / "for_label_clash_MET.533.md"
    clash.write_bytes(b"\n" + clash.read_bytes())  # a blank line first: every line moves down one
    moved = ingest([Path(INPUT)], Path("out"), pipeline=pipeline)
    assert not moved.reused_referentials
    assert "(in/for_label_clash_MET.533.md:34)" in _label_entry(moved)

    other.write_bytes(other.read_bytes() + b"- une ligne de plus\n")
    again = ingest([Path(INPUT)], Path("out"), pipeline=pipeline)
    assert again.reused_referentials
    assert _label_entry(again) == _label_entry(moved)
    ingest([Path(INPUT)], Path("scratch"), pipeline=pipeline, incremental=False)
    for name in ("report.json", "onisep-kg.trig"):
        assert (tmp_path / "out" / name).read_bytes() == (tmp_path / "scratch" / name).read_bytes(), name
