"""Limits of the input (issue 6, "Hard to break"): fiche size and symlinks.

* A fiche over ``MAX_FICHE_BYTES`` (2 MiB, over 100 times the largest shipped fiche) is refused
  from its size, before it is read: the failure names the file, its size and the limit; the run
  goes on with the other fiches and exits 1. What is read is bounded too, for a file whose size
  the system does not give (a FIFO).
* A symlink in an input folder that leads outside the folder (or nowhere) is reported as a
  failure naming the link and its target, and not read, unless ``ingest --follow-symlinks``;
  symlinks to files inside the folder keep working; a path given on the command line (a file or
  the folder itself) is followed, whatever it links to.

Each test works from inside its temporary folder, so the paths printed are the short relative
ones a user would type and the expected messages can be written out in full.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import tracemalloc
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pipeline import resources
from pipeline.cli import main
from pipeline.errors import ParseError
from pipeline.ingest import IngestReport, Pipeline, ingest
from pipeline.parse import MAX_FICHE_BYTES, parse_metier, read_fiche

METIERS = resources.metier_fiches_dir()
GOOD = ("MET.10", "MET.11")
BIG = 50 * 1024 * 1024


def real(met_id: str) -> Path:
    (path,) = METIERS.glob(f"{met_id}_*.md")
    return path


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), prog_name="onisep-kg")


def too_large(source: str, size: int) -> str:
    return (
        f"{source}: {size:,} bytes, over the limit of {MAX_FICHE_BYTES:,} bytes for one fiche "
        "(the largest shipped fiche is 15 KB); expected a fiche métier, not read"
    )


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test's folder, made the working directory, with two real fiches in ``in/``."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in").mkdir()
    for met_id in GOOD:
        shutil.copy(real(met_id), tmp_path / "in" / real(met_id).name)
    return tmp_path


def sparse(path: Path, size: int) -> Path:
    """A file of ``size`` bytes that takes no room on disk (a fiche's start, then zeros)."""
    with open(path, "wb") as f:
        f.write(real("MET.12").read_bytes())
        f.truncate(size)
    return path


def ingested(report: IngestReport) -> list[str]:
    return sorted(o.metier_id for o in report.outcomes if o.failure is None and o.metier_id)


def failures(report: IngestReport) -> list[str]:
    return sorted(f.format() for f in report.failures)


# -- size ------------------------------------------------------------------------------------------
def test_the_limit_is_far_above_every_shipped_fiche() -> None:
    largest = max(p.stat().st_size for p in METIERS.glob("*.md"))
    assert 14_000 < largest < 15_000  # (the "15 KB" of the message)
    assert MAX_FICHE_BYTES == 2 * 1024 * 1024 > 100 * largest


def test_a_fiche_over_the_limit_is_refused_from_its_size_without_being_read(tmp_path: Path) -> None:
    path = sparse(tmp_path / "big.md", BIG)
    tracemalloc.start()
    try:
        with pytest.raises(ParseError) as caught:
            read_fiche(path, "in/big.md")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(caught.value) == too_large("in/big.md", BIG)
    assert caught.value.line is None
    assert peak < 1024 * 1024  # 50 MB on disk, not one of them in memory


def test_what_is_read_is_bounded_when_the_size_is_not_known(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.md"
    os.mkfifo(fifo)  # its size is 0 whatever is written into it

    def write() -> None:
        try:
            with open(fifo, "wb") as f:
                for _ in range(4):
                    f.write(b"x" * MAX_FICHE_BYTES)
        except BrokenPipeError:
            pass  # the reader stopped at the limit: expected

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    with pytest.raises(ParseError) as caught:
        read_fiche(fifo, "pipe.md")
    writer.join(timeout=30)
    assert str(caught.value) == too_large("pipe.md", MAX_FICHE_BYTES + 1)


def test_a_fiche_of_exactly_the_limit_is_read_and_parsed(tmp_path: Path) -> None:
    data = real("MET.799").read_bytes()
    padding = b"\n## Annexe\n" + b"texte " * MAX_FICHE_BYTES
    data = (data + padding)[:MAX_FICHE_BYTES]
    (tmp_path / "at_limit.md").write_bytes(data)
    assert len(read_fiche(tmp_path / "at_limit.md", "at_limit.md")) == MAX_FICHE_BYTES
    record = parse_metier(data, "at_limit.md")
    assert record.metier_id == "MET.799" and record.sections[-1].title == "Annexe"
    with pytest.raises(ParseError, match="2,097,153 bytes, over the limit"):
        parse_metier(data + b"x", "over.md")


def test_ingest_fails_an_oversize_fiche_and_writes_the_others(workdir: Path, pipeline: Pipeline) -> None:
    sparse(workdir / "in" / "big.md", BIG)
    report = ingest([Path("in")], Path("out"), pipeline=pipeline, with_referentials=False)
    assert ingested(report) == sorted(GOOD)
    assert failures(report) == [too_large("in/big.md", BIG)]
    written = sorted(p.name for p in (workdir / "out" / "metiers").iterdir())
    assert written == sorted(f"{m}.{ext}" for m in GOOD for ext in ("jsonld", "ttl"))
    listed = json.loads((workdir / "out" / "report.json").read_text(encoding="utf-8"))["failures"]
    assert listed == [{"source": "in/big.md", "line": None, "message": too_large("", BIG)[2:]}]


def test_a_fiche_that_grows_over_the_limit_fails_on_the_next_run(workdir: Path, pipeline: Pipeline) -> None:
    first = ingest([Path("in")], Path("out"), pipeline=pipeline, with_referentials=False)
    assert ingested(first) == sorted(GOOD) and first.failures == []
    kept = (workdir / "out" / "metiers" / "MET.10.ttl").read_bytes()
    grown = workdir / "in" / real("MET.11").name
    with open(grown, "ab") as f:  # the manifest knew it: now another size, over the limit
        f.truncate(MAX_FICHE_BYTES + 10)
    second = ingest([Path("in")], Path("out"), pipeline=pipeline, with_referentials=False)
    assert ingested(second) == ["MET.10"] and second.reused_fiches == 1
    assert failures(second) == [too_large(f"in/{grown.name}", MAX_FICHE_BYTES + 10)]
    assert (workdir / "out" / "metiers" / "MET.10.ttl").read_bytes() == kept


def test_cli_ingest_with_an_oversize_fiche_exits_1_and_names_it(workdir: Path) -> None:
    sparse(workdir / "in" / "big.md", BIG)
    result = run("ingest", "in", "--out", "out", "--fiches-only", "--quiet")
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[0] == "fiches: 3 read, 2 ingested, 1 failed"
    assert f"  {too_large('in/big.md', BIG)}" in lines


def test_cli_validate_an_oversize_fiche_exits_2(workdir: Path) -> None:
    sparse(workdir / "big.md", BIG)
    result = run("validate", "big.md")
    assert result.exit_code == 2, result.output
    message = too_large("big.md", BIG).split(": ", 1)[1]
    assert result.output.splitlines() == [f"[ERROR] [big.md] {message}"]


# -- symlinks --------------------------------------------------------------------------------------
@pytest.fixture
def outside(workdir: Path) -> Path:
    """A real fiche (MET.12) outside ``in/``, and ``in/MET.12.md`` a symlink to it."""
    (workdir / "elsewhere").mkdir()
    target = Path(shutil.copy(real("MET.12"), workdir / "elsewhere" / "secret.md"))
    os.symlink(os.path.join("..", "elsewhere", "secret.md"), workdir / "in" / "MET.12.md")
    return target


NOT_FOLLOWED = (
    "in/MET.12.md: symlink to elsewhere/secret.md, outside the folder in: not followed "
    "(ingest --follow-symlinks follows it)"
)


def test_a_symlink_leading_outside_the_folder_is_reported_and_not_read(
    workdir: Path, outside: Path, pipeline: Pipeline
) -> None:
    report = ingest([Path("in")], Path("out"), pipeline=pipeline, with_referentials=False)
    assert ingested(report) == sorted(GOOD)  # not MET.12
    assert failures(report) == [NOT_FOLLOWED]
    assert not (workdir / "out" / "metiers" / "MET.12.ttl").exists()
    assert "MET.12" not in (workdir / "out" / "onisep-kg.ttl").read_text(encoding="utf-8")


def test_follow_symlinks_reads_it(workdir: Path, outside: Path, pipeline: Pipeline) -> None:
    report = ingest(
        [Path("in")], Path("out"), pipeline=pipeline, with_referentials=False, follow_symlinks=True
    )
    assert ingested(report) == sorted([*GOOD, "MET.12"]) and report.failures == []


def test_cli_ingest_reports_it_and_exits_1_unless_follow_symlinks(workdir: Path, outside: Path) -> None:
    result = run("ingest", "in", "--out", "out", "--fiches-only", "--quiet")
    assert result.exit_code == 1, result.output
    assert result.output.splitlines()[0] == "fiches: 3 read, 2 ingested, 1 failed"
    assert f"  {NOT_FOLLOWED}" in result.output.splitlines()
    result = run("ingest", "in", "--out", "out", "--fiches-only", "--quiet", "--follow-symlinks")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "fiches: 3 read, 3 ingested, 0 failed"


def test_a_symlink_to_a_fiche_inside_the_folder_is_read(workdir: Path, pipeline: Pipeline) -> None:
    (workdir / "in" / "shared").mkdir()  # (a subfolder: not read on its own)
    shutil.copy(real("MET.12"), workdir / "in" / "shared" / "MET.12_original.md")
    os.symlink(os.path.join("shared", "MET.12_original.md"), workdir / "in" / "MET.12.md")
    # and one that goes out and back in: its real path is inside
    shutil.copy(real("MET.13"), workdir / "in" / "shared" / "MET.13_original.md")
    os.symlink(os.path.join("..", "in", "shared", "MET.13_original.md"), workdir / "in" / "MET.13.md")
    report = ingest([Path("in")], Path("out"), pipeline=pipeline, with_referentials=False)
    assert ingested(report) == sorted([*GOOD, "MET.12", "MET.13"]) and report.failures == []


def test_a_chain_of_symlinks_is_judged_by_where_it_ends(
    workdir: Path, outside: Path, pipeline: Pipeline
) -> None:
    os.symlink("MET.12.md", workdir / "in" / "chain.md")  # inside → inside → outside
    report = ingest([Path("in")], Path("out"), pipeline=pipeline, with_referentials=False)
    assert failures(report) == sorted(
        [
            NOT_FOLLOWED,
            "in/chain.md: symlink to elsewhere/secret.md, outside the folder in: not followed "
            "(ingest --follow-symlinks follows it)",
        ]
    )


def test_a_broken_symlink_is_reported(workdir: Path, pipeline: Pipeline) -> None:
    os.symlink("gone.md", workdir / "in" / "MET.14.md")
    report = ingest([Path("in")], Path("out"), pipeline=pipeline, with_referentials=False)
    assert ingested(report) == sorted(GOOD)
    assert failures(report) == ["in/MET.14.md: symlink to gone.md, which does not exist"]


def test_paths_given_explicitly_are_followed(workdir: Path, outside: Path, pipeline: Pipeline) -> None:
    # the link itself, given as a file: the user chose it
    report = ingest([Path("in/MET.12.md")], Path("out"), pipeline=pipeline, with_referentials=False)
    assert ingested(report) == ["MET.12"] and report.failures == []
    # a folder given as a symlink to the real one: its fiches are inside it
    os.symlink("in", workdir / "alias")
    os.remove(workdir / "in" / "MET.12.md")
    report = ingest([Path("alias")], Path("out2"), pipeline=pipeline, with_referentials=False)
    assert ingested(report) == sorted(GOOD) and report.failures == []
