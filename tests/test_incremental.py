"""Re-runs do only what changed (``pipeline/build.py``), and give the bytes of a run from scratch.

Each test ingests real fiches into a folder, changes something (a fiche's text, a fiche removed,
a new MET id clash, a shapes file, a damaged output), ingests again into the same folder, and
compares every output byte with a run from scratch (``incremental=False``) into another folder.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import time
from array import array
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest

from pipeline import build, resources
from pipeline import store as store_module
from pipeline.build import CACHE_DIR, MANIFEST_NAME, DistinctTriples, FileHashes, Manifest
from pipeline.ingest import IngestReport, Pipeline, ingest
from pipeline.run import ingest_and_load
from pipeline.serialize import turtle_head
from pipeline.store import EmbeddedStore, load_ingest_output

METIERS = resources.metier_fiches_dir()
SAMPLE = sorted(p for p in METIERS.glob("MET.*.md"))[:40]
EDITED = "MET.102"
GRAPH_BASE = "https://w3id.org/onisep-kg/id/graph/metier/"


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
    manifest = Manifest.load(out)
    assert manifest is not None and len(manifest.fiches) == len(SAMPLE)


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


# -- the distinct triples, counted from hashes --------------------------------------------------
def _random_graphs(rng: random.Random, n: int, shared: list[int]) -> list[bytes]:
    """Graphs' hash chunks: each graph's own hashes and some of ``shared`` (distinct within a graph)."""
    graphs = []
    for _ in range(n):
        own = {rng.getrandbits(64) for _ in range(rng.randrange(0, 60))}
        own |= set(rng.sample(shared, rng.randrange(0, min(20, len(shared) + 1))))
        graphs.append(array("Q", sorted(own)).tobytes())
    return graphs


def _pieces(graphs: list[bytes]) -> Iterator[array[int]]:
    for chunk in graphs:
        yield array("Q", chunk)


def _expected(graphs: list[bytes]) -> Counter[int]:
    return Counter(h for chunk in graphs for h in array("Q", chunk))


def _read_distinct(path: Path) -> tuple[list[int], list[int]]:
    data = path.read_bytes()
    n = int.from_bytes(data[8:16], sys.byteorder)
    keys, counts = array("Q"), array("I")
    keys.frombytes(data[16 : 16 + 8 * n])
    counts.frombytes(data[16 + 8 * n :])
    return list(keys), list(counts)


def test_distinct_triples_counted_from_scratch_in_buckets_and_spilled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(5)
    shared = [rng.getrandbits(64) for _ in range(300)]
    graphs = _random_graphs(rng, 400, shared)
    monkeypatch.setattr(build, "_SPILL_AT", 1000)  # buckets go to the temporary file many times
    counter = DistinctTriples(tmp_path / "distinct.bin", previous=False)
    assert counter.write(lambda: _pieces(graphs)) == len(_expected(graphs))
    counter.commit()
    keys, counts = _read_distinct(tmp_path / "distinct.bin")
    expected = _expected(graphs)
    assert keys == sorted(expected) and counts == [expected[k] for k in keys]


def test_distinct_triples_counted_again_from_the_difference(tmp_path: Path) -> None:
    """Graphs replaced, removed and added: the count of the difference equals a count from
    scratch, and so does the file it leaves (hashes sorted, how many graphs hold each)."""
    rng = random.Random(7)
    shared = [rng.getrandbits(64) for _ in range(300)]
    graphs = _random_graphs(rng, 300, shared)
    path = tmp_path / "distinct.bin"
    first = DistinctTriples(path, previous=False)
    first.write(lambda: _pieces(graphs))
    first.commit()
    for round_ in range(4):
        changed = rng.sample(range(len(graphs)), 6)
        counter = DistinctTriples(path, previous=True)
        new = list(graphs)
        for i in changed:
            counter.drop(graphs[i])
            if round_ % 2 or i % 3:  # replaced (else removed)
                new[i] = _random_graphs(rng, 1, shared)[0]
                counter.add(new[i])
            else:
                new[i] = b""
        for extra in _random_graphs(rng, 3, shared):  # added
            counter.add(extra)
            new.append(extra)
        graphs = [g for g in new if g]
        n = counter.write(lambda g=graphs: pytest.fail("the difference was enough"))  # type: ignore[misc]
        counter.commit()
        expected = _expected(graphs)
        assert n == len(expected)
        keys, counts = _read_distinct(path)
        assert keys == sorted(expected) and counts == [expected[k] for k in keys]


def test_a_distinct_file_that_does_not_match_the_difference_is_counted_again(tmp_path: Path) -> None:
    path = tmp_path / "distinct.bin"
    graphs = _random_graphs(random.Random(1), 50, [])
    first = DistinctTriples(path, previous=False)
    first.write(lambda: _pieces(graphs))
    first.commit()
    counter = DistinctTriples(path, previous=True)
    counter.drop(array("Q", [12345]).tobytes())  # a hash no graph held
    assert counter.write(lambda: _pieces(graphs)) == len(_expected(graphs))


# -- what a re-run reads ------------------------------------------------------------------------
def test_an_unchanged_tree_is_not_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    long_ago = time.time_ns() - 3600 * 10**9  # (a file written just now is read again: see below)
    for name in ("a.txt", "sub/b.txt", "sub/c.txt"):
        (tree / name).write_text(name, encoding="utf-8")
        os.utime(tree / name, ns=(long_ago, long_ago))
    first = FileHashes()
    digest = first.of_tree(tree)
    again = FileHashes(first.seen)
    monkeypatch.setattr(build, "file_sha256", lambda path: pytest.fail(f"{path} read again"))
    assert again.of_tree(tree) == digest
    monkeypatch.undo()
    (tree / "sub" / "b.txt").write_text("changed", encoding="utf-8")
    assert FileHashes(first.seen).of_tree(tree) != digest
    assert FileHashes().of_tree(tree) == FileHashes(first.seen).of_tree(tree)


def _rewrite_keeping_stamp(path: Path, data: bytes) -> None:
    """New bytes of the same size, with the old modification time: an edit made within the same
    tick of the file system's clock as the run before, after it read the file."""
    st = path.stat()
    assert len(data) == st.st_size
    path.write_bytes(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_mtime_ns == st.st_mtime_ns


def test_a_file_modified_as_the_run_starts_is_read_again(tmp_path: Path) -> None:
    """git's "racy clean" case: a file modified within RACY_NS of the run's start has no trusted
    stamp, so an edit that keeps its size and time is still seen; an older file's is trusted."""
    fresh, old = tmp_path / "fresh.txt", tmp_path / "old.txt"
    for path in (fresh, old):
        path.write_bytes(b"aaaa")
    long_ago = time.time_ns() - 3600 * 10**9
    os.utime(old, ns=(long_ago, long_ago))
    first = FileHashes()
    digests = {path: first.of(path) for path in (fresh, old)}
    assert first.seen[str(fresh)][1] == build.UNTRUSTED
    assert first.seen[str(old)][1] == long_ago
    for path in (fresh, old):
        _rewrite_keeping_stamp(path, b"bbbb")
    again = FileHashes(first.seen)
    assert again.of(fresh) != digests[fresh]  # read again: the edit is seen
    assert again.of(old) == digests[old]  # trusted: size and time unchanged, not read
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.txt").write_bytes(b"aaaa")
    digest = first.of_tree(tree)
    _rewrite_keeping_stamp(tree / "a.txt", b"bbbb")
    assert FileHashes(first.seen).of_tree(tree) != digest


def test_a_fiche_edited_right_after_a_run_keeping_size_and_time_is_redone(
    fiches: Path, tmp_path: Path, pipeline: Pipeline
) -> None:
    out = tmp_path / "out"
    _run(fiches, out, pipeline)  # the fiches were copied just now: their stamps are not trusted
    path = next(fiches.glob(f"{EDITED}_*.md"))
    data = path.read_bytes()
    assert b"\n- " in data and data.endswith(b"\n")
    edited = data.replace(b"\n- ", b"\n- x", 1)[:-1]  # one byte more, one byte less: same size
    _rewrite_keeping_stamp(path, edited)
    report = _run(fiches, out, Pipeline())
    assert report.reused_fiches == len(SAMPLE) - 1
    _same_as_from_scratch(fiches, out, tmp_path, pipeline)


def test_the_manifest_round_trips_and_a_damaged_one_is_ignored(
    fiches: Path, tmp_path: Path, pipeline: Pipeline
) -> None:
    out = tmp_path / "out"
    _run(fiches, out, pipeline)
    manifest = Manifest.load(out)
    assert manifest is not None and len(manifest.graphs) == len(SAMPLE)
    manifest.save(out)
    again = Manifest.load(out)
    assert again is not None
    assert again.fiches == manifest.fiches
    assert again.graphs.to_json() == manifest.graphs.to_json()
    path = out / CACHE_DIR / MANIFEST_NAME
    data = json.loads(path.read_bytes())
    data["graphs"]["iris"] = data["graphs"]["iris"].rsplit("\n", 1)[0]  # a column shorter than the others
    path.write_text(json.dumps(data), encoding="utf-8")
    assert Manifest.load(out) is None


def test_an_edit_after_a_store_load_reads_only_the_changed_graph(
    fiches: Path, tmp_path: Path, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ingest --store: the first load leaves each graph's digest and sources in the manifest;
    after an edit, the store is handed them and reads the changed graph's block alone. Its
    content is that of a store loaded from scratch with the same TriG."""
    out, store_dir = tmp_path / "out", tmp_path / "store"
    with EmbeddedStore(store_dir) as store:
        _report, first = ingest_and_load([fiches], out, store, pipeline=pipeline, with_referentials=False)
    assert first.loaded and not first.skipped
    manifest = Manifest.load(out)
    assert manifest is not None and manifest.has_digests
    _edit(fiches, EDITED, "- une ligne de plus\n")
    read: list[str] = []
    real = store_module.read_trig_block

    def spy(header: bytes, block: bytes, iri: str, path: Path | str = "") -> store_module.GraphInput:
        read.append(iri)
        return real(header, block, iri, path)

    monkeypatch.setattr(store_module, "read_trig_block", spy)
    with EmbeddedStore(store_dir) as store:
        report, loaded = ingest_and_load([fiches], out, store, pipeline=Pipeline(), with_referentials=False)
    edited = f"{GRAPH_BASE}{EDITED}"
    assert loaded.replaced == [edited] and len(loaded.skipped) == len(SAMPLE) - 1
    assert set(read) == {edited}  # its digest (in the ingest), its triples (in the store)
    assert report.manifest is not None and report.manifest.has_digests
    monkeypatch.undo()
    with EmbeddedStore(store_dir) as store:
        incremental = set(store.oxigraph)
        meta = store.known_records()
    with EmbeddedStore(tmp_path / "scratch") as store:
        load_ingest_output(out, store)
        scratch = set(store.oxigraph)
        records = store.records()
    when = ox.NamedNode("http://purl.org/dc/terms/modified")
    assert {q for q in incremental if q.predicate != when} == {q for q in scratch if q.predicate != when}
    assert {g: (r.digest, r.sources) for g, r in meta.items()} == {
        g: (r.digest, r.sources) for g, r in records.items()
    }


def test_graphs_copied_in_runs_keep_their_places(fiches: Path, tmp_path: Path, pipeline: Pipeline) -> None:
    """Two edits apart: the graphs between and around them are copied as ranges, and every
    graph's place in the manifest is where its chunk lies in each new file, as in a run from
    scratch."""
    out = tmp_path / "out"
    _run(fiches, out, pipeline)
    _edit(fiches, "MET.105", "- encore une\n")
    _edit(fiches, EDITED, "- et une autre\n")
    assert _run(fiches, out, Pipeline()).reused_fiches == len(SAMPLE) - 2
    _same_as_from_scratch(fiches, out, tmp_path, pipeline)
    mine, scratch = Manifest.load(out), Manifest.load(tmp_path / "scratch")
    assert mine is not None and scratch is not None
    assert list(mine.graphs) == list(scratch.graphs)
    for name, fmt in [("onisep-kg.ttl", "ttl"), ("onisep-kg.jsonld", "jsonld"), ("onisep-kg.trig", "trig")]:
        data = (out / name).read_bytes()
        for iri in mine.graphs:
            assert mine.graphs.span(iri, fmt) == scratch.graphs.span(iri, fmt)
            start, length = mine.graphs.span(iri, fmt)  # type: ignore[misc]
            if fmt == "trig":
                store_module.read_trig_block(turtle_head(), data[start : start + length], iri)
    assert mine.graphs.numbers == scratch.graphs.numbers


# -- start-up: what a run imports ---------------------------------------------------------------
def test_the_command_line_imports_neither_pyshacl_nor_the_store_nor_the_referentials() -> None:
    code = (
        "import sys, pipeline.cli; "
        "print(sorted(m for m in ('pyshacl', 'pipeline.store', 'pipeline.referential_graphs', "
        "'pipeline.mapper', 'pipeline.shacl_fast') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_the_native_engine_compares_numbers_as_pyshacl_does() -> None:
    from pyshacl.consts import XSD_WHOLE_INTEGERS
    from pyshacl.rdfutil.compare import compare_literal as reference
    from rdflib import XSD, Literal

    from pipeline import shacl_fast

    assert shacl_fast.XSD_WHOLE_INTEGERS == XSD_WHOLE_INTEGERS
    values = [
        Literal(0),
        Literal(-3),
        Literal(Decimal("2.50")),
        Literal("7", datatype=XSD.nonNegativeInteger),
        Literal("01", datatype=XSD.integer),
        Literal("1.0", datatype=XSD.decimal),
        Literal(2.5),
        Literal(float("nan")),
        Literal("x"),
        Literal(True),
        Literal("2024-01-01", datatype=XSD.date),
    ]
    for a in values:
        for b in values:
            try:
                expected: object = reference(a, b)
            except Exception as exc:  # noqa: BLE001 (the same error, whatever it is)
                expected = type(exc)
            try:
                got: object = shacl_fast.compare_literal(a, b)
            except Exception as exc:  # noqa: BLE001
                got = type(exc)
            assert got == expected, (a, b)


def test_shapes_read_by_pyoxigraph_are_the_graph_rdflib_reads() -> None:
    from rdflib import Graph, Literal
    from rdflib.compare import isomorphic

    from pipeline.validate import load_shapes

    quick = load_shapes(None)
    slow = Graph(store="SimpleMemory")
    for path in resources.shapes_files():
        slow.parse(path, format="turtle")
    assert isomorphic(quick, slow)
    assert list(quick.namespaces()) == list(slow.namespaces())
    literals = sorted(repr(o) for o in slow.objects() if isinstance(o, Literal))
    assert sorted(repr(o) for o in quick.objects() if isinstance(o, Literal)) == literals
