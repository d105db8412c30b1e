"""Bad input (issue point 7): a clear error naming file, line and what was expected; the other
fiches are still processed and written; the report lists the failures; the run exits 1; outputs
written before are not damaged.

The bad fiches are made from real ones (a title line removed, the ID mangled, latin-1 bytes…) in
a temporary folder, next to five real fiches copied unchanged. Each test works from inside its
temporary folder (``monkeypatch.chdir``), so the pipeline names every file by the short relative
path a user would type (``in/empty.md``) and the expected messages can be written out in full.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from rdflib import RDF, Graph, URIRef

from pipeline import resources
from pipeline.cli import main
from pipeline.ingest import Failure, IngestReport, Pipeline, ingest

METIERS = resources.metier_fiches_dir()
OKG = "https://w3id.org/onisep-kg/ontology#"
METIER_NS = "https://w3id.org/onisep-kg/id/metier/"
GOOD_IDS = ("MET.10", "MET.11", "MET.12", "MET.13", "MET.799")
INPUT = "in"  # the input folder, relative to the test's working directory


def real(met_id: str) -> Path:
    """The shipped fiche of ``met_id`` (file names carry accents: find it by its ID prefix)."""
    (path,) = METIERS.glob(f"{met_id}_*.md")
    return path


def text_of(met_id: str) -> str:
    return real(met_id).read_text(encoding="utf-8")


def line_of(text: str, predicate: Callable[[str], bool]) -> int:
    """1-based number of the first line of ``text`` for which ``predicate`` holds."""
    return next(n for n, line in enumerate(text.split("\n"), 1) if predicate(line))


# -- the bad fiches --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Bad:
    """A bad fiche: its file name, its bytes, and the failure the ingest must report for it."""

    name: str
    data: bytes
    line: int | None
    fragments: tuple[str, ...]  # the failure message must contain each of them

    @property
    def source(self) -> str:
        return f"{INPUT}/{self.name}"

    def check(self, failure: Failure) -> None:
        assert failure.source == self.source
        assert failure.line == self.line, f"{self.name}: line {failure.line}, expected {self.line}"
        for fragment in self.fragments:
            assert fragment in failure.message, f"{self.name}: {fragment!r} not in {failure.message!r}"


def _broken_header() -> Bad:
    # MET.1 with its title line removed: the file starts with "**ID:** MET.1"
    text = text_of("MET.1")
    assert text.startswith("# contrôleur/euse aérien/ne\n**ID:** MET.1\n")
    body = text.split("\n", 1)[1]
    return Bad(
        "broken_header.md",
        body.encode("utf-8"),
        1,
        ("expected the title line '# <nom du métier>'", "found '**ID:** MET.1'"),
    )


def _broken_header_after_blank_lines() -> Bad:
    # the same, after two blank lines: the line to report is the first non-blank one, line 3
    body = text_of("MET.1").split("\n", 1)[1]
    return Bad(
        "broken_header_after_blank_lines.md",
        ("\n\n" + body).encode("utf-8"),
        3,
        ("expected the title line '# <nom du métier>'", "found '**ID:** MET.1'"),
    )


def _latin1() -> Bad:
    # MET.102 encoded in latin-1: its first non-ASCII character is the "é" of "Féminin", line 5
    text = text_of("MET.102")
    lines = text.split("\n")
    number = line_of(text, lambda line: not line.isascii())
    assert number == 5 and lines[4].startswith("- Féminin")
    column = next(i for i, c in enumerate(lines[number - 1], 1) if not c.isascii())
    byte = lines[number - 1][column - 1].encode("latin-1")[0]
    assert (column, byte) == (4, 0xE9)
    return Bad(
        "latin1.md",
        text.encode("latin-1"),
        number,
        ("not UTF-8", f"byte 0x{byte:02X} at column {column}", "expected a UTF-8 encoded fiche"),
    )


def _empty() -> Bad:
    return Bad("empty.md", b"", 1, ("empty file", "'# <nom du métier>'"))


def _blank() -> Bad:
    return Bad("blank.md", b"  \n\n\t\n", 1, ("empty file", "'# <nom du métier>'"))


def _malformed_id() -> Bad:
    text = text_of("MET.2")
    assert "\n**ID:** MET.2\n" in text
    text = text.replace("\n**ID:** MET.2\n", "\n**ID:** MET-12\n", 1)
    number = line_of(text, lambda line: line.startswith("**ID:**"))
    assert number == 2
    return Bad("malformed_id.md", text.encode("utf-8"), number, ("expected '**ID:** MET.<n>'", "'MET-12'"))


def _no_id() -> Bad:
    text = text_of("MET.3").replace("**ID:** MET.3\n", "", 1)
    assert "**ID:**" not in text
    first_section = line_of(text, lambda line: line.startswith("## "))
    return Bad(
        "no_id.md",
        text.encode("utf-8"),
        first_section,
        ("no '**ID:** MET.<n>' field", f"expected before line {first_section}"),
    )


def _duplicates() -> tuple[Bad, Bad]:
    # MET.14 under two file names: neither can be trusted over the other, so both fail
    data = real("MET.14").read_bytes()
    a, b = "dup_a_MET.14.md", "dup_b_MET.14.md"
    return (
        Bad(a, data, 2, (f"MET.14 is also the id of {INPUT}/{b}", "expected one file per MET id")),
        Bad(b, data, 2, (f"MET.14 is also the id of {INPUT}/{a}", "expected one file per MET id")),
    )


BAD = (
    _broken_header,
    _broken_header_after_blank_lines,
    _latin1,
    _empty,
    _blank,
    _malformed_id,
    _no_id,
    lambda: _duplicates()[0],
    lambda: _duplicates()[1],
)


def _good_files(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy(real(met_id), folder / real(met_id).name)) for met_id in GOOD_IDS]


def _bad_files(folder: Path) -> list[Bad]:
    bads = [make() for make in BAD]
    for bad in bads:
        (folder / bad.name).write_bytes(bad.data)
    return bads


def _failures_by_source(report: IngestReport) -> dict[str, Failure]:
    failures = {f.source: f for f in report.failures}
    assert len(failures) == len(report.failures), "two failures for one file"
    return failures


def _check_bad(bad: Bad, failure: Failure) -> None:
    bad.check(failure)


# -- fixtures --------------------------------------------------------------------------------------
@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def mixed_run(workdir: Path, pipeline: Pipeline) -> tuple[IngestReport, Path, list[Bad]]:
    """Five real fiches and the bad ones in ``in/``, ingested into ``out/``."""
    _good_files(workdir / INPUT)
    bads = _bad_files(workdir / INPUT)
    report = ingest([Path(INPUT)], Path("out"), pipeline=pipeline, with_referentials=False)
    return report, workdir / "out", bads


# -- the report ------------------------------------------------------------------------------------
def test_each_bad_fiche_fails_with_file_line_and_what_was_expected(
    mixed_run: tuple[IngestReport, Path, list[Bad]],
) -> None:
    report, _out, bads = mixed_run
    failures = _failures_by_source(report)
    assert sorted(failures) == sorted(bad.source for bad in bads)
    for bad in bads:
        _check_bad(bad, failures[bad.source])


def test_good_fiches_are_still_written_and_parse(
    mixed_run: tuple[IngestReport, Path, list[Bad]],
) -> None:
    report, out, bads = mixed_run
    assert len(report.outcomes) == len(GOOD_IDS) + len(bads)
    assert report.ingested == len(GOOD_IDS)
    ingested = sorted(o.metier_id for o in report.outcomes if o.failure is None)
    assert ingested == sorted(GOOD_IDS)
    written = sorted(p.name for p in (out / "metiers").iterdir())
    assert written == sorted(f"{m}{ext}" for m in GOOD_IDS for ext in (".jsonld", ".ttl"))
    union: set = set()
    for outcome in report.outcomes:
        if outcome.failure is not None:
            continue
        ttl = Graph().parse(out / "metiers" / f"{outcome.metier_id}.ttl", format="turtle")
        jsonld = Graph().parse(out / "metiers" / f"{outcome.metier_id}.jsonld", format="json-ld")
        assert len(ttl) == outcome.triples > 0
        assert set(ttl) == set(jsonld)  # no blank nodes: equal sets <=> isomorphic graphs
        union |= set(ttl)
    whole = Graph().parse(out / "onisep-kg.ttl", format="turtle")
    assert set(whole) == union
    assert len(whole) == report.graph_triples
    metiers = {str(s) for s in whole.subjects(RDF.type, URIRef(OKG + "Metier"))}
    assert metiers == {METIER_NS + m for m in GOOD_IDS}  # not MET.1, MET.2, MET.3, MET.102
    jsonld_whole = ox.parse(path=str(out / "onisep-kg.jsonld"), format=ox.RdfFormat.JSON_LD)
    assert len(set(jsonld_whole)) == report.graph_triples


def test_report_json_lists_the_failures(mixed_run: tuple[IngestReport, Path, list[Bad]]) -> None:
    report, out, bads = mixed_run
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert (data["fiches"], data["ingested"], data["failed"]) == (len(GOOD_IDS) + len(bads), 5, len(bads))
    assert data["triples"] == report.graph_triples
    listed = {f["source"]: f for f in data["failures"]}
    assert sorted(listed) == sorted(bad.source for bad in bads)
    for bad in bads:
        entry = listed[bad.source]
        assert set(entry) == {"source", "line", "message"}
        _check_bad(bad, Failure(entry["source"], entry["line"], entry["message"]))


# -- earlier outputs are not damaged ---------------------------------------------------------------
def _title_changed(met_id: str) -> bytes:
    text = text_of(met_id)
    return ("# titre modifié" + text[text.index("\n") :]).encode("utf-8")


def _first_line_removed(met_id: str) -> bytes:
    return text_of(met_id).split("\n", 1)[1].encode("utf-8")


@pytest.mark.parametrize(
    ("name", "make"),
    [
        # cannot be parsed, sorts before the real MET.799 fiche
        pytest.param(
            "A_MET.799_latin1.md",
            lambda: text_of("MET.799").encode("latin-1", errors="replace"),
            id="latin1-first",
        ),
        pytest.param("A_MET.799_no_title.md", lambda: _first_line_removed("MET.799"), id="no-title-first"),
        # parses, same ID, different content; sorts after the real fiche
        pytest.param("zz_MET.799_other.md", lambda: _title_changed("MET.799"), id="duplicate-after"),
        # … or before it: the order of the files does not matter, neither is written
        pytest.param("A_MET.799_other.md", lambda: _title_changed("MET.799"), id="duplicate-first"),
    ],
)
def test_a_bad_fiche_with_a_good_fiches_id_leaves_its_outputs_intact(
    workdir: Path, pipeline: Pipeline, name: str, make: Callable[[], bytes]
) -> None:
    folder = workdir / INPUT
    _good_files(folder)
    first = ingest([folder], workdir / "out", pipeline=pipeline, with_referentials=False)
    assert first.failures == []
    before = {p.name: p.read_bytes() for p in (workdir / "out" / "metiers").iterdir()}
    assert len(before) == 2 * len(GOOD_IDS)

    (folder / name).write_bytes(make())
    second = ingest([folder], workdir / "out", pipeline=pipeline, with_referentials=False)
    # a second file claiming MET.799 makes both fail; an unreadable one fails alone
    duplicate = "other" in name
    assert len(second.failures) == (2 if duplicate else 1)
    after = {p.name: p.read_bytes() for p in (workdir / "out" / "metiers").iterdir()}
    assert sorted(after) == sorted(before)
    changed = sorted(n for n in before if before[n] != after[n])
    assert changed == [], f"outputs rewritten with other bytes: {changed}"
    assert f"{INPUT}/{name}" in {f.source for f in second.failures}


# -- the command line ------------------------------------------------------------------------------
def test_cli_ingest_with_bad_fiches_exits_1_and_prints_each_failure(workdir: Path) -> None:
    _good_files(workdir / INPUT)
    bads = _bad_files(workdir / INPUT)
    result = CliRunner().invoke(
        main, ["ingest", INPUT, "--out", "out", "--fiches-only"], prog_name="onisep-kg"
    )
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert f"fiches: {len(GOOD_IDS) + len(bads)} read, {len(GOOD_IDS)} ingested, {len(bads)} failed" in lines
    assert "failures:" in lines
    start = lines.index("failures:") + 1
    end = next(i for i, line in enumerate(lines) if line.startswith("time: "))  # the time table ends it
    printed = lines[start:end]
    assert len(printed) == len(bads)
    by_source = {}
    for line in printed:
        m = re.fullmatch(r"  (?P<source>[^:]+?)(?::(?P<line>\d+))?: (?P<message>.+)", line)
        assert m is not None, f"not 'path:line: message': {line!r}"
        by_source[m["source"]] = Failure(m["source"], int(m["line"]) if m["line"] else None, m["message"])
    assert sorted(by_source) == sorted(bad.source for bad in bads)
    for bad in bads:
        _check_bad(bad, by_source[bad.source])
    assert (workdir / "out" / "report.json").is_file()


def test_cli_ingest_with_only_good_fiches_exits_0(workdir: Path) -> None:
    _good_files(workdir / INPUT)
    result = CliRunner().invoke(
        main, ["ingest", INPUT, "--out", "out", "--fiches-only"], prog_name="onisep-kg"
    )
    assert result.exit_code == 0, result.output
    assert (
        result.output.splitlines()[0] == f"fiches: {len(GOOD_IDS)} read, {len(GOOD_IDS)} ingested, 0 failed"
    )
    assert "failures:" not in result.output
