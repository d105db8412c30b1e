"""Bad input (issue point 7): outputs written before are not damaged by a bad fiche that claims a
good fiche's id, and a run of good fiches only exits 0.

The bad fiches themselves (a title line removed, the ID mangled, latin-1 bytes, duplicate ids…),
each with the failure it must give, are a corpus of files: ``tests/bad_inputs/``, walked by
``tests/test_bad_corpus.py``, which also ingests them all beside real fiches.

Each test works from inside its temporary folder (``monkeypatch.chdir``), so the pipeline names
every file by the short relative path a user would type (``in/A_MET.799_latin1.md``).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline import resources
from pipeline.cli import main
from pipeline.ingest import Pipeline, ingest

METIERS = resources.metier_fiches_dir()
GOOD_IDS = ("MET.10", "MET.11", "MET.12", "MET.13", "MET.799")
INPUT = "in"  # the input folder, relative to the test's working directory


def real(met_id: str) -> Path:
    """The shipped fiche of ``met_id`` (file names carry accents: find it by its ID prefix)."""
    (path,) = METIERS.glob(f"{met_id}_*.md")
    return path


def text_of(met_id: str) -> str:
    return real(met_id).read_text(encoding="utf-8")


def _good_files(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy(real(met_id), folder / real(met_id).name)) for met_id in GOOD_IDS]


# -- fixtures --------------------------------------------------------------------------------------
@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


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
