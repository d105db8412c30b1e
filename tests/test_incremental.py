"""Re-runs do only what changed (``pipeline/build.py``), and give the bytes of a run from scratch.

Each test ingests real fiches into a folder, changes something (a fiche's text, a fiche removed,
a new MET id clash, a shapes file, a damaged output), ingests again into the same folder, and
compares every output byte with a run from scratch (``incremental=False``) into another folder.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest

from pipeline import resources
from pipeline.build import CACHE_DIR, MANIFEST_NAME
from pipeline.ingest import IngestReport, Pipeline, ingest

METIERS = resources.metier_fiches_dir()
SAMPLE = sorted(p for p in METIERS.glob("MET.*.md"))[:40]
EDITED = "MET.102"


def outputs(out: Path) -> dict[str, bytes]:
    """Every output file's bytes, by path (the manifest and caches aside)."""
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and CACHE_DIR not in p.relative_to(out).parts
    }


@pytest.fixture
def fiches(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for path in SAMPLE:
        shutil.copy(path, folder / path.name)
    return folder


def _run(fiches: Path, out: Path, pipeline: Pipeline, **kwargs: object) -> IngestReport:
    return ingest([fiches], out, pipeline=pipeline, with_referentials=False, **kwargs)  # type: ignore[arg-type]


def _same_as_from_scratch(fiches: Path, out: Path, tmp_path: Path, pipeline: Pipeline) -> IngestReport:
    scratch = tmp_path / "scratch"
    shutil.rmtree(scratch, ignore_errors=True)
    report = _run(fiches, scratch, pipeline, incremental=False)
    assert outputs(out) == outputs(scratch)
    return report


def _edit(fiches: Path, metier_id: str, text: str) -> Path:
    path = next(fiches.glob(f"{metier_id}_*.md"))
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")
    return path


def test_an_unchanged_rerun_redoes_nothing_and_writes_the_same_bytes(
    fiches: Path, tmp_path: Path, pipeline: Pipeline
) -> None:
    out = tmp_path / "out"
    first = _run(fiches, out, pipeline)
    assert first.reused_fiches == 0
    before = outputs(out)
    again = _run(fiches, out, Pipeline())  # a new process would start with nothing loaded
    assert again.reused_fiches == len(SAMPLE)
    assert outputs(out) == before
    assert again.to_json() == first.to_json()
    assert again.graph_triples == first.graph_triples


def test_one_edited_fiche_is_the_only_one_redone(fiches: Path, tmp_path: Path, pipeline: Pipeline) -> None:
    out = tmp_path / "out"
    _run(fiches, out, pipeline)
    _edit(fiches, EDITED, "- j'aime les tests incrémentaux\n")
    fresh = Pipeline()
    report = _run(fiches, out, fresh)
    assert report.reused_fiches == len(SAMPLE) - 1
    assert fresh.loaded  # the edited fiche needed the mapper (from the cache: no referential read)
    whole = (out / "onisep-kg.ttl").read_text(encoding="utf-8")
    assert "j'aime les tests incrémentaux" in whole
    _same_as_from_scratch(fiches, out, tmp_path, pipeline)


def test_a_removed_fiche_leaves_the_whole_graph(fiches: Path, tmp_path: Path, pipeline: Pipeline) -> None:
    out = tmp_path / "out"
    _run(fiches, out, pipeline)
    removed = next(fiches.glob(f"{EDITED}_*.md"))
    removed.unlink()
    report = _run(fiches, out, pipeline)
    assert report.reused_fiches == len(SAMPLE) - 1
    trig = (out / "onisep-kg.trig").read_bytes()
    graphs = {q.graph_name.value for q in ox.parse(trig, format=ox.RdfFormat.TRIG)}
    assert not any(g.endswith(f"/{EDITED}") for g in graphs)
    assert len(graphs) == len(SAMPLE) - 1
    # the per-fiche files of a removed fiche stay as they were, as a run from scratch leaves them
    (tmp_path / "scratch" / "metiers").mkdir(parents=True)
    for suffix in (".ttl", ".jsonld"):
        shutil.copy(out / "metiers" / f"{EDITED}{suffix}", tmp_path / "scratch" / "metiers")
    _same_as_from_scratch_keeping(fiches, out, tmp_path, pipeline)


def _same_as_from_scratch_keeping(fiches: Path, out: Path, tmp_path: Path, pipeline: Pipeline) -> None:
    scratch = tmp_path / "scratch"
    _run(fiches, scratch, pipeline, incremental=False)
    assert outputs(out) == outputs(scratch)


def test_a_new_id_clash_fails_both_fiches_and_keeps_their_earlier_files(
    fiches: Path, tmp_path: Path, pipeline: Pipeline
) -> None:
    out = tmp_path / "out"
    _run(fiches, out, pipeline)
    original = next(fiches.glob(f"{EDITED}_*.md"))
    earlier = (out / "metiers" / f"{EDITED}.ttl").read_bytes()
    shutil.copy(original, fiches / "zz_copy.md")
    report = _run(fiches, out, pipeline)
    assert len(report.failures) == 2 and all(EDITED in f.message for f in report.failures)
    assert (out / "metiers" / f"{EDITED}.ttl").read_bytes() == earlier
    graphs = {
        q.graph_name.value for q in ox.parse(path=str(out / "onisep-kg.trig"), format=ox.RdfFormat.TRIG)
    }
    assert not any(g.endswith(f"/{EDITED}") for g in graphs)
    # the clash resolved: the fiche is back, without being parsed again
    (fiches / "zz_copy.md").unlink()
    back = _run(fiches, out, pipeline)
    assert not back.failures
    graphs = {
        q.graph_name.value for q in ox.parse(path=str(out / "onisep-kg.trig"), format=ox.RdfFormat.TRIG)
    }
    assert any(g.endswith(f"/{EDITED}") for g in graphs)
    _same_as_from_scratch(fiches, out, tmp_path, pipeline)


def test_a_changed_shapes_file_revalidates_everything(
    fiches: Path, tmp_path: Path, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    _run(fiches, out, pipeline)
    shapes = tmp_path / "shapes"
    shapes.mkdir()
    for path in resources.shapes_files():
        shutil.copy(path, shapes / path.name)
    with (shapes / "onisep-kg.shacl.ttl").open("a", encoding="utf-8") as f:
        f.write("\n# edited\n")
    monkeypatch.setattr(resources, "shapes_files", lambda: sorted(shapes.glob("*.shacl.ttl")))
    report = _run(fiches, out, pipeline)
    assert report.reused_fiches == 0


def test_a_damaged_output_or_manifest_means_a_run_from_scratch(
    fiches: Path, tmp_path: Path, pipeline: Pipeline
) -> None:
    out = tmp_path / "out"
    _run(fiches, out, pipeline)
    with (out / "onisep-kg.ttl").open("ab") as f:
        f.write(b"# a user's edit\n")
    report = _run(fiches, out, pipeline)
    assert report.reused_fiches == 0  # the whole-graph file is not what the manifest describes
    _same_as_from_scratch(fiches, out, tmp_path, pipeline)
    (out / CACHE_DIR / MANIFEST_NAME).write_text("{not json", encoding="utf-8")
    assert _run(fiches, out, pipeline).reused_fiches == 0
    _same_as_from_scratch(fiches, out, tmp_path, pipeline)
    manifest = json.loads((out / CACHE_DIR / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert len(manifest["fiches"]) == len(SAMPLE)


def test_a_deleted_per_fiche_file_is_written_again(fiches: Path, tmp_path: Path, pipeline: Pipeline) -> None:
    out = tmp_path / "out"
    _run(fiches, out, pipeline)
    target = out / "metiers" / f"{EDITED}.jsonld"
    before = target.read_bytes()
    target.unlink()
    report = _run(fiches, out, pipeline)
    assert report.reused_fiches == len(SAMPLE)
    assert target.read_bytes() == before


@pytest.mark.slow
def test_one_edited_fiche_of_the_whole_corpus_gives_the_bytes_of_a_full_run(
    tmp_path: Path, pipeline: Pipeline
) -> None:
    """The shipped corpus with its referentials: the edit reaches the graph, the referentials are
    reused (the edit does not touch a name, formation or ROME code), and every byte equals a
    run from scratch."""
    folder = tmp_path / "in"
    shutil.copytree(METIERS, folder)
    out = tmp_path / "out"
    first = ingest([folder], out, pipeline=pipeline)
    assert not first.reused_referentials
    _edit(folder, "MET.799", "- j'aime les tests incrémentaux\n")
    again = ingest([folder], out, pipeline=pipeline)
    assert again.reused_fiches == len(first.outcomes) - 1
    assert again.reused_referentials
    assert again.graph_triples > first.graph_triples  # the new line adds an item and its text
    scratch = tmp_path / "scratch"
    ingest([folder], scratch, pipeline=pipeline, incremental=False)
    assert outputs(out) == outputs(scratch)
