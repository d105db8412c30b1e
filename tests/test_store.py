"""The stores: embedded (pyoxigraph on disk) and a real Oxigraph server over HTTP.

Fast tests use a TriG ingested from ten real fiches métiers; one module fixture loads the whole
real output (the session ``corpus``) into both stores. The server is the ``oxigraph`` binary of
the PyPI package ``oxigraph``, started on a free loopback port and stopped at the end.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import rdflib
from click.testing import CliRunner
from conftest import MET_799, METIERS
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import URIRef

from pipeline import build as build_module
from pipeline import queries as Q
from pipeline import store as store_module
from pipeline.cli import ingest_command
from pipeline.cli_store import load_command, serve_command
from pipeline.ingest import IngestReport, Pipeline, ingest
from pipeline.run import ingest_and_load
from pipeline.server import SparqlServer
from pipeline.store import (
    META_GRAPH,
    STATE_FILE,
    EmbeddedStore,
    Endpoint,
    GraphInput,
    QueryError,
    RemoteStore,
    RemoteStoreError,
    Store,
    StoreError,
    StoreLockedError,
    bind_values,
    graph_digest,
    load_ingest_output,
    read_dataset,
    sparql_term,
)

ROOT = Path(__file__).resolve().parent.parent
ID = "https://w3id.org/onisep-kg/id/"
GRAPH_799 = ID + "graph/metier/MET.799"
INJECTION = 'x" } ; DROP ALL ; SELECT * { "'
SKOS = "http://www.w3.org/2004/02/skos/core#"
OKG = "https://w3id.org/onisep-kg/ontology#"
PROV = "http://www.w3.org/ns/prov#"

LABEL_QUERY = f"""SELECT DISTINCT ?metier ?name WHERE {{
  GRAPH ?g {{ ?metier a <{OKG}Metier> ; <{SKOS}prefLabel> ?label }}
  FILTER(STR(?label) = ?name)
}}"""
ROME_QUERY = f"""SELECT DISTINCT ?metier ?code WHERE {{
  GRAPH ?g {{ ?metier a <{OKG}Metier> ; <{OKG}romeCode> ?rome . ?rome <{SKOS}notation> ?notation }}
  FILTER(STR(?notation) = ?code)
}} ORDER BY ?metier"""
CONSTRUCT_QUERY = (
    f"CONSTRUCT {{ ?m <{SKOS}prefLabel> ?l }} "
    f"WHERE {{ GRAPH ?g {{ ?m a <{OKG}Metier> ; <{SKOS}prefLabel> ?l }} }}"
)
PER_GRAPH_QUERY = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"


# -- helpers ----------------------------------------------------------------------------------
def sample_fiches() -> list[Path]:
    """Ten real fiches métiers, MET.799 among them."""
    others = sorted(p for p in METIERS.glob("MET.*.md") if p != MET_799)[:9]
    return [MET_799, *others]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def trig_quads(path: Path) -> set[str]:
    """The distinct quads of a TriG file, as N-Quads lines (an independent count)."""
    return {str(q) for q in ox.parse(path=str(path), format=ox.RdfFormat.TRIG)}


def trig_triples(path: Path) -> set[str]:
    """The distinct triples of a TriG file, whatever graph holds them (the RDF merge)."""
    return {str(q.triple) for q in ox.parse(path=str(path), format=ox.RdfFormat.TRIG)}


def merged_triples(store: Store) -> set[str]:
    """The triples of the store's default graph, as N-Triples lines."""
    result = store.query("SELECT ?s ?p ?o WHERE { ?s ?p ?o }")
    return {str(ox.Triple(s, p, o)) for s, p, o in result.rows}  # type: ignore[arg-type]


def store_quads(store: Store) -> set[str]:
    """Every quad in the store's data graphs (the metadata graph left out), as N-Quads lines."""
    result = store.query(
        f"SELECT ?s ?p ?o ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(?g != <{META_GRAPH}>) }}"
    )
    return {str(ox.Quad(s, p, o, g)) for s, p, o, g in result.rows}  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fetch(
    url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None, method: str | None = None
) -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with NO_PROXY.open(request, timeout=30) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read()


def oxigraph_binary() -> str:
    candidates = [Path(sys.executable).parent / "oxigraph", shutil.which("oxigraph")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return str(candidate)
    pytest.fail(
        "the Oxigraph server binary is missing: `pip install oxigraph` (the PyPI package installs "
        "an `oxigraph` command; it is part of the test extra). The remote-store tests need it."
    )


@contextlib.contextmanager
def oxigraph_server(location: Path) -> Iterator[str]:
    """A real Oxigraph server on a free loopback port; yields its base URL."""
    binary = oxigraph_binary()
    for _attempt in range(3):
        port = free_port()
        log = location.with_suffix(".log")
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [binary, "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        ready = False
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status, _ctype, _body = fetch(f"{base}/query?query=ASK%7B%7D")
                ready = status == 200
            except (urllib.error.URLError, OSError):
                ready = False
            if ready:
                break
            time.sleep(0.1)
        if ready:
            try:
                yield base
            finally:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            return
        proc.kill()
        proc.wait()
    pytest.fail(f"the Oxigraph server did not start: {log.read_text(errors='replace')[-2000:]}")


# -- fixtures ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory, pipeline: Pipeline) -> tuple[Path, Path]:
    """Ten real fiches (copied) and their ingest output: (fiche folder, output folder)."""
    root = tmp_path_factory.mktemp("sample")
    fiches = root / "fiches"
    fiches.mkdir()
    for path in sample_fiches():
        shutil.copy(path, fiches / path.name)
    out = root / "out"
    report = ingest([fiches], out, pipeline=pipeline, with_referentials=False)
    assert report.ingested == 10 and not report.failures
    return fiches, out


@pytest.fixture(scope="module")
def changed_sample(
    sample: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory, pipeline: Pipeline
) -> tuple[Path, Path, Path]:
    """The sample with MET.799 edited: (fiche folder, output folder, edited fiche)."""
    fiches, _out = sample
    root = tmp_path_factory.mktemp("changed")
    shutil.copytree(fiches, root / "fiches")
    edited = root / "fiches" / MET_799.name
    text = edited.read_text(encoding="utf-8")
    old = "Au bout du fil, le hot liner écoute, attentif."
    assert old in text
    edited.write_text(text.replace(old, old + " Une phrase ajoutée pour le test."), encoding="utf-8")
    out = root / "out"
    report = ingest([root / "fiches"], out, pipeline=pipeline, with_referentials=False)
    assert report.ingested == 10
    return root / "fiches", out, edited


@pytest.fixture(scope="module")
def shrunk_sample(
    sample: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory, pipeline: Pipeline
) -> Path:
    """The sample without MET.799: its output folder."""
    fiches, _out = sample
    root = tmp_path_factory.mktemp("shrunk")
    shutil.copytree(fiches, root / "fiches")
    (root / "fiches" / MET_799.name).unlink()
    out = root / "out"
    assert ingest([root / "fiches"], out, pipeline=pipeline, with_referentials=False).ingested == 9
    return out


@pytest.fixture(params=["embedded", "server"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh, empty store of each kind."""
    if request.param == "embedded":
        s = EmbeddedStore(tmp_path / "store")
        yield s
        s.close()
    else:
        with oxigraph_server(tmp_path / "server") as base:
            yield RemoteStore(Endpoint.for_server(base, "oxigraph"))


# -- idempotent loading -----------------------------------------------------------------------
def test_load_twice_keeps_the_same_quads_and_skips_every_graph(
    store: Store, sample: tuple[Path, Path]
) -> None:
    fiches, out = sample
    trig = out / "onisep-kg.trig"
    expected = trig_quads(trig)
    first = load_ingest_output(out, store)
    assert len(first.loaded) == 10 and not (first.replaced or first.skipped or first.removed)
    assert first.quads == len(expected) == first.quads_written
    assert store_quads(store) == expected  # the data graphs hold exactly the TriG, nothing more
    merge = trig_triples(trig)
    assert len(merge) < len(expected)  # the ten graphs share concept triples
    assert merged_triples(store) == merge and first.triples == len(merge)

    second = load_ingest_output(out, store)
    assert len(second.skipped) == 10 and not (second.loaded or second.replaced or second.removed)
    assert second.quads == first.quads and second.quads_written == 0
    assert store_quads(store) == expected and merged_triples(store) == merge

    # The metadata graph: per graph, the source file and its SHA-256 (checked against the files
    # themselves) and the loading time, which never reaches a data graph.
    records = store.records()
    assert len(records) == 10
    for path in fiches.iterdir():
        metier_id = path.name.split("_", 1)[0]
        record = records[f"{ID}graph/metier/{metier_id}"]
        assert [(s.file_name, s.sha256) for s in record.sources] == [(path.name, sha256(path))]
        assert record.loaded_at is not None and record.loaded_at.endswith("Z")
    modified = store.query(
        "SELECT ?g ?when WHERE { GRAPH ?g { ?x <http://purl.org/dc/terms/modified> ?when } }"
    )
    assert {row[0].value for row in modified.rows} == {META_GRAPH}  # type: ignore[union-attr]


def test_a_changed_fiche_replaces_only_its_graph(
    store: Store, sample: tuple[Path, Path], changed_sample: tuple[Path, Path, Path]
) -> None:
    _fiches, out = sample
    _changed_fiches, changed_out, edited = changed_sample
    load_ingest_output(out, store)
    report = load_ingest_output(changed_out, store)
    assert report.replaced == [GRAPH_799]
    assert len(report.skipped) == 9 and not (report.loaded or report.removed)
    assert store_quads(store) == trig_quads(changed_out / "onisep-kg.trig")
    # the merge follows: the old sentence's triple left it, shared concept triples stayed
    assert merged_triples(store) == trig_triples(changed_out / "onisep-kg.trig")
    ask = store.query(
        'ASK { GRAPH ?g { ?s ?p ?text FILTER(CONTAINS(STR(?text), "Une phrase ajoutée pour le test.")) } }'
    )
    assert ask.boolean is True
    record = store.records()[GRAPH_799]
    assert [s.sha256 for s in record.sources] == [sha256(edited)]
    # back to the original: replaced again, and the old source's record is gone from the metadata
    again = load_ingest_output(out, store)
    assert again.replaced == [GRAPH_799]
    assert merged_triples(store) == trig_triples(out / "onisep-kg.trig")
    sources = store.query(f"SELECT ?h WHERE {{ GRAPH <{META_GRAPH}> {{ ?src <{OKG}sha256> ?h }} }}")
    assert sha256(edited) not in {row[0].value for row in sources.rows}  # type: ignore[union-attr]
    assert len(sources.rows) == 10


def test_a_deleted_fiche_removes_its_graph(
    store: Store, sample: tuple[Path, Path], shrunk_sample: Path
) -> None:
    _fiches, out = sample
    before = load_ingest_output(out, store)
    report = load_ingest_output(shrunk_sample, store)
    assert report.removed == [GRAPH_799]
    assert len(report.skipped) == 9 and not (report.loaded or report.replaced)
    assert store_quads(store) == trig_quads(shrunk_sample / "onisep-kg.trig")
    assert merged_triples(store) == trig_triples(shrunk_sample / "onisep-kg.trig")
    assert report.quads < before.quads and report.triples < before.triples
    assert GRAPH_799 not in store.records()
    gone = store.query(
        f"ASK {{ {{ GRAPH <{GRAPH_799}> {{ ?s ?p ?o }} }} UNION {{ GRAPH ?m {{ <{GRAPH_799}> ?p ?o }} }} }}"
    )
    assert gone.boolean is False
    # --keep-missing keeps what the input no longer has
    load_ingest_output(out, store)
    kept = load_ingest_output(shrunk_sample, store, remove_missing=False)
    assert not kept.removed and GRAPH_799 in store.records()


def test_keep_missing_keeps_graphs_and_records_while_others_change(store: Store) -> None:
    def graph(name: str, value: str) -> GraphInput:
        nt = f'<http://example.org/{name}> <http://example.org/p> "{value}" .\n'.encode()
        return GraphInput(ID + f"graph/test/{name}", nt, f"{name}.nt", hashlib.sha256(nt).hexdigest())

    store.load([graph("a", "1"), graph("b", "1")])
    changed = store.load([graph("a", "2")], remove_missing=False)
    assert changed.replaced == [ID + "graph/test/a"] and not changed.removed
    assert set(store.records()) == {ID + "graph/test/a", ID + "graph/test/b"} and changed.quads == 2
    removed = store.load([graph("a", "2")])
    assert removed.removed == [ID + "graph/test/b"] and removed.skipped == [ID + "graph/test/a"]
    assert set(store.records()) == {ID + "graph/test/a"} and removed.quads == 1
    emptied = store.load([])
    assert emptied.removed == [ID + "graph/test/a"] and emptied.quads == 0 and store.records() == {}


def test_graphs_can_be_given_as_triples_or_bytes(tmp_path: Path) -> None:
    g = "https://w3id.org/onisep-kg/id/graph/test/one"
    nt = b'<http://example.org/a> <http://example.org/p> "v"@fr .\n'
    with EmbeddedStore(tmp_path / "s") as store:
        first = store.load([GraphInput(g, nt, "one.nt", hashlib.sha256(nt).hexdigest())])
        assert first.loaded == [g] and first.quads == 1
        triples = [
            ox.Triple(
                ox.NamedNode("http://example.org/a"),
                ox.NamedNode("http://example.org/p"),
                ox.Literal("v", language="fr"),
            )
        ]
        second = store.load([GraphInput(g, triples, "one.nt", hashlib.sha256(nt).hexdigest())])
        assert second.skipped == [g]  # same content, same source: nothing to do
        with pytest.raises(StoreError, match="metadata graph"):
            store.load([GraphInput(META_GRAPH, nt, "x", "0" * 64)])
        with pytest.raises(StoreError, match="given twice"):
            store.load([GraphInput(g, nt, "one.nt", "0" * 64)] * 2)


# -- digests, known digests, lazy data ---------------------------------------------------------
def test_graph_digest_is_the_same_whatever_the_source(tmp_path: Path, sample: tuple[Path, Path]) -> None:
    _fiches, out = sample
    trig = out / "onisep-kg.trig"
    quads = [q for q in ox.parse(path=str(trig), format=ox.RdfFormat.TRIG) if q.graph_name.value == GRAPH_799]
    triples = [q.triple for q in quads]
    lines = sorted({str(t) for t in triples})
    # the definition: SHA-256 of the distinct N-Triples lines, sorted, joined by "\n"
    expected = hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
    assert graph_digest(triples) == expected
    assert graph_digest(list(reversed(triples)) + triples[:5]) == expected  # order, repeats
    assert graph_digest(quads) == expected
    nt = "".join(f"{line} .\n" for line in reversed(lines)).encode("utf-8")
    assert graph_digest(nt) == expected
    assert graph_digest(ox.serialize(triples, format=ox.RdfFormat.TURTLE), ox.RdfFormat.TURTLE) == expected
    rdflib_graph = rdflib.Graph().parse(data=nt.decode("utf-8"), format="nt")
    assert graph_digest(list(rdflib_graph)) == expected
    # from the TriG, with or without a store, and as the store records it
    assert {g.iri: g.digest for g in read_dataset(trig)}[GRAPH_799] == expected
    with EmbeddedStore(tmp_path / "store") as store:
        assert {g.iri: g.digest for g in read_dataset(trig, store=store)}[GRAPH_799] == expected
        load_ingest_output(out, store)
        assert store.records()[GRAPH_799].digest == expected


def test_a_known_digest_spares_reading_the_data(store: Store) -> None:
    calls: list[str] = []

    def graph(name: str, value: str, *, digest: bool = True, fail: bool = False) -> GraphInput:
        nt = f'<http://example.org/{name}> <http://example.org/p> "{value}" .\n'.encode()

        def data() -> bytes:
            calls.append(name)
            if fail:
                raise AssertionError(f"the data of {name} was read")
            return nt

        return GraphInput(
            ID + f"graph/test/{name}",
            data,
            f"{name}.nt",
            hashlib.sha256(nt).hexdigest(),
            digest=graph_digest(nt) if digest else None,
        )

    first = store.load([graph("a", "1"), graph("b", "1", digest=False)])
    assert len(first.loaded) == 2 and sorted(calls) == ["a", "b"]  # new: read once, to be written
    calls.clear()
    again = store.load([graph("a", "1", fail=True), graph("b", "1", fail=True)])
    assert len(again.skipped) == 2 and calls == []  # known digests: nothing read
    changed = store.load([graph("a", "2"), graph("b", "1", digest=False)])
    assert changed.replaced == [ID + "graph/test/a"] and changed.skipped == [ID + "graph/test/b"]
    assert sorted(calls) == ["a", "b"]  # a to write it, b (no digest) to compute it
    assert store.records()[ID + "graph/test/a"].digest == graph_digest(
        b'<http://example.org/a> <http://example.org/p> "2" .\n'
    )
    assert store.quad_count() == changed.quads == 2 and store.triple_count() == changed.triples == 2


def test_an_unchanged_reload_reads_no_triples(
    tmp_path: Path,
    sample: tuple[Path, Path],
    changed_sample: tuple[Path, Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Reloading into the embedded store cuts the TriG into graph blocks and parses only the
    blocks that differ from those last loaded."""
    _fiches, out = sample
    _changed_fiches, changed_out, _edited = changed_sample
    with EmbeddedStore(tmp_path / "store") as store:
        first = load_ingest_output(out, store)
    parsed: list[str] = []
    real_block = store_module._parse_block

    def whole_file(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the whole TriG was parsed")

    def one_block(data: bytes, header: bytes, start: int, end: int, iri: str) -> Any:
        parsed.append(iri)
        return real_block(data, header, start, end, iri)

    monkeypatch.setattr(store_module, "_parse_dataset", whole_file)
    monkeypatch.setattr(store_module, "_parse_block", one_block)
    with EmbeddedStore(tmp_path / "store") as store:  # a new process would find the cache too
        again = load_ingest_output(out, store)
        assert len(again.skipped) == 10 and parsed == []
        assert (again.quads, again.triples) == (first.quads, first.triples)
        changed = load_ingest_output(changed_out, store)
        assert changed.replaced == [GRAPH_799] and len(changed.skipped) == 9
        assert parsed == [GRAPH_799]  # once: its digest compared, then the same triples written
        assert store_quads(store) == trig_quads(changed_out / "onisep-kg.trig")
        assert merged_triples(store) == trig_triples(changed_out / "onisep-kg.trig")
        assert (changed.quads, changed.triples) == (store.quad_count(), store.triple_count())


def test_counts_are_kept_without_counting(
    tmp_path: Path, sample: tuple[Path, Path], shrunk_sample: Path
) -> None:
    """The report's counts come from what each load wrote; they always equal the store's."""
    _fiches, out = sample

    def graph(name: str, values: list[str]) -> GraphInput:
        nt = "".join(f'<http://example.org/{name}> <http://example.org/p> "{v}" .\n' for v in values)
        data = nt.encode()
        return GraphInput(ID + f"graph/test/{name}", data, f"{name}.nt", hashlib.sha256(data).hexdigest())

    def check(report: Any) -> None:
        assert report.quads == store.quad_count() and report.triples == store.triple_count()

    path = tmp_path / "store"
    with EmbeddedStore(path) as store:
        check(load_ingest_output(out, store))
        check(load_ingest_output(shrunk_sample, store))  # a removal
        check(load_ingest_output(out, store))  # a small addition
        kept = store.load([graph("x", ["1", "2"]), graph("y", ["2", "3"])], remove_missing=False)
        check(kept)
        check(store.load([graph("x", ["2", "4"]), graph("y", ["2"])], remove_missing=False))
        check(store.load([graph("y", ["2", "5"])], remove_missing=False))
        many = store.load([graph(f"n{i}", [str(i), "shared"]) for i in range(70)], remove_missing=False)
        assert len(many.loaded) == 70  # the bulk path into a store that holds data: counted after
        check(many)
        check(load_ingest_output(out, store))  # removes x, y and n*
        assert merged_triples(store) == trig_triples(out / "onisep-kg.trig")
    (path / STATE_FILE).unlink()  # without the cache, the store is read and counted
    with EmbeddedStore(path) as store:
        report = load_ingest_output(shrunk_sample, store)
        check(report)
        assert (path / STATE_FILE).is_file()
        emptied = store.load([])
        assert (emptied.quads, emptied.triples) == (0, 0) == (store.quad_count(), store.triple_count())


def test_the_cache_is_checked_against_the_store(tmp_path: Path, sample: tuple[Path, Path]) -> None:
    """Another program (here pyoxigraph itself) removes a graph and its record: the cache no
    longer matches the loading times recorded, so the store is read again."""
    _fiches, out = sample
    path = tmp_path / "store"
    with EmbeddedStore(path) as store:
        first = load_ingest_output(out, store)
    other = ox.Store(str(path))
    other.update(
        f"DROP GRAPH <{GRAPH_799}> ; DELETE WHERE {{ GRAPH <{META_GRAPH}> {{ <{GRAPH_799}> ?p ?o }} }}"
    )
    other.flush()
    del other
    with EmbeddedStore(path) as store:
        report = load_ingest_output(out, store)
        assert report.loaded == [GRAPH_799] and len(report.skipped) == 9
        assert (report.quads, report.triples) == (first.quads, first.triples)
        assert store_quads(store) == trig_quads(out / "onisep-kg.trig")
    (path / STATE_FILE).write_text("{not json", encoding="utf-8")  # a damaged cache is ignored
    with EmbeddedStore(path) as store:
        again = load_ingest_output(out, store)
        assert len(again.skipped) == 10 and again.quads == first.quads
        store.update("DELETE DATA { <http://e/a> <http://e/p> <http://e/o> }")  # any update drops it
        assert not (path / STATE_FILE).exists()


def test_a_bad_file_leaves_an_empty_store_empty(tmp_path: Path, sample: tuple[Path, Path]) -> None:
    _fiches, out = sample
    good = (out / "onisep-kg.trig").read_text(encoding="utf-8")
    sha = "0" * 64
    cases = {
        "no provenance": good + "\n<http://e/g> { <http://e/a> <http://e/p> 1 . }\n",
        "outside a named graph": good + "\n<http://e/a> <http://e/p> 1 .\n",
        "not readable": good + "\n<http://e/g> { <http://e/a> <http://e/p> \n",
        "metadata graph": good
        + f"\n<{META_GRAPH}> {{ <{META_GRAPH}> <{PROV}wasDerivedFrom> <{ID}source/{sha}> . "
        f'<{ID}source/{sha}> <{OKG}fileName> "x.md" ; <{OKG}sha256> "{sha}" . }}\n',
    }
    for message, text in cases.items():
        trig = tmp_path / "bad.trig"
        trig.write_text(text, encoding="utf-8")
        with EmbeddedStore(tmp_path / "store") as store:
            with pytest.raises(StoreError, match=message):
                store.load_dataset(trig)
            assert len(store.oxigraph) == 0 and store.records() == {}
    with EmbeddedStore(tmp_path / "store") as store:
        assert len(store.load_dataset(out / "onisep-kg.trig").loaded) == 10


def all_quads(path: Path) -> set[str]:
    """Every quad of a closed embedded store (the metadata graph included), as N-Quads lines."""
    store = ox.Store.read_only(str(path))
    try:
        return {str(q) for q in store}
    finally:
        del store


def test_a_dataset_is_cut_into_parts_that_state_its_quads(sample: tuple[Path, Path], monkeypatch) -> None:
    """The parts that bulk loads read side by side: every quad once, TriG parts all beginning
    with the file's prefix lines."""
    _fiches, out = sample
    trig = (out / "onisep-kg.trig").read_bytes()
    nquads = ox.serialize(ox.parse(trig, format=ox.RdfFormat.TRIG), format=ox.RdfFormat.N_QUADS)
    assert isinstance(nquads, bytes)
    whole = trig_quads(out / "onisep-kg.trig")
    header = trig[: store_module._header_end(trig)]
    assert header.startswith(b"@prefix") and header.count(b"\n") > 5
    monkeypatch.setattr(store_module, "_PART_MIN", 0)
    for fmt, data in ((ox.RdfFormat.TRIG, trig), (ox.RdfFormat.N_QUADS, nquads)):
        for count in (2, 3, 5):
            parts = store_module._dataset_parts(data, fmt, count)
            assert len(parts) == count, (fmt, count)
            read = [[str(q) for q in ox.parse(part, format=fmt)] for part in parts]
            assert all(read) and sum(len(quads) for quads in read) == len(whole)
            assert {q for quads in read for q in quads} == whole
            if fmt == ox.RdfFormat.TRIG:
                assert all(part.startswith(header) for part in parts)
    # A long string may hold a line "}": such a file is not cut; nor is a small one.
    long = trig + b'<http://e/g> { <http://e/a> <http://e/p> """x\n}\ny""" . }\n'
    assert store_module._dataset_parts(long, ox.RdfFormat.TRIG) == [long]
    monkeypatch.setattr(store_module, "_PART_MIN", 1 << 20)
    assert store_module._dataset_parts(trig, ox.RdfFormat.TRIG) == [trig]


def test_a_fresh_load_fed_part_by_part_equals_a_load_of_the_file(
    tmp_path: Path, sample: tuple[Path, Path], monkeypatch
) -> None:
    """What ``ingest --store`` does into an empty store: the TriG fed in two parts as it is
    written (each cut again for two bulk loads) gives the store, records and cache that loading
    the file afterwards gives."""
    _fiches, out = sample
    path = out / "onisep-kg.trig"
    data = path.read_bytes()
    split = store_module._split_trig(data)
    assert split is not None
    header, blocks = split
    cut = blocks[len(blocks) // 2][1]
    monkeypatch.setattr(store_module, "_PART_MIN", 0)
    now = "2026-11-27T10:00:00+00:00"
    with EmbeddedStore(tmp_path / "fed") as store:
        fresh = store.fresh_load(path, now=now)
        fresh.feed(data[:cut])
        fresh.feed(header + data[cut:])
        fed = fresh.finish()
        assert fed is not None
    with EmbeddedStore(tmp_path / "file") as store:
        expected = store.load_dataset(path, now=now)
    assert sorted(fed.loaded) == sorted(expected.loaded) and len(fed.loaded) == 10
    assert (fed.quads, fed.triples) == (expected.quads, expected.triples)
    assert all_quads(tmp_path / "fed") == all_quads(tmp_path / "file")
    state = (tmp_path / "fed" / STATE_FILE).read_text(encoding="utf-8")
    assert state == (tmp_path / "file" / STATE_FILE).read_text(encoding="utf-8")
    with EmbeddedStore(tmp_path / "fed") as store:
        again = load_ingest_output(out, store)
        assert len(again.skipped) == 10 and not again.loaded  # the cache knew every block


def test_a_fresh_load_that_goes_wrong_leaves_the_store_empty(
    tmp_path: Path, sample: tuple[Path, Path], monkeypatch
) -> None:
    _fiches, out = sample
    path = out / "onisep-kg.trig"
    data = path.read_bytes()
    header, blocks = store_module._split_trig(data) or (b"", [])
    cut = blocks[3][1]
    monkeypatch.setattr(store_module, "_PART_MIN", 0)
    cases = {
        "not readable": [data[:cut], header + data[cut:] + b"<http://e/g> { <http://e/a> <http://e/p> \n"],
        "stated in two parts": [data, header + data[blocks[2][1] : blocks[2][2]]],
    }
    for message, parts in cases.items():
        with EmbeddedStore(tmp_path / "store") as store:
            fresh = store.fresh_load(path)
            for part in parts:
                fresh.feed(part)  # raises nothing: finish does
            with pytest.raises(StoreError, match=message):
                fresh.finish()
            assert len(store.oxigraph) == 0 and store.is_empty()
    with EmbeddedStore(tmp_path / "store") as store:
        fresh = store.fresh_load(path)
        fresh.feed(data)
        fresh.abort()  # an ingest that failed after a part was fed
        assert len(store.oxigraph) == 0
        assert load_ingest_output(out, store).quads == len(trig_quads(path))
        with pytest.raises(StoreError, match="not empty"):
            store.fresh_load(path)


def test_ingest_into_an_empty_store_loads_while_it_writes(tmp_path: Path, sample: tuple[Path, Path]) -> None:
    """``onisep-kg ingest --store`` into an empty store gives what ``ingest`` then ``load`` give
    (loading times aside); into a store that holds the graphs, it skips them all."""
    fiches, _out = sample
    out = tmp_path / "out"
    runner = CliRunner()
    args = [str(fiches), "--out", str(out), "--fiches-only", "--quiet", "--store", str(tmp_path / "store")]
    first = runner.invoke(ingest_command, args)
    assert first.exit_code == 0, first.output
    assert "graphs: 10 loaded, 0 replaced, 0 skipped" in first.output
    second = runner.invoke(load_command, [str(out), "--store", str(tmp_path / "loaded")])
    assert second.exit_code == 0, second.output

    def timeless(path: Path) -> set[str]:
        return {q for q in all_quads(path) if "#dateTime>" not in q}

    assert timeless(tmp_path / "store") == timeless(tmp_path / "loaded")
    assert len(timeless(tmp_path / "store")) > len(trig_quads(out / "onisep-kg.trig"))
    third = runner.invoke(ingest_command, args)
    assert third.exit_code == 0, third.output
    assert "graphs: 0 loaded, 0 replaced, 10 skipped (unchanged)" in third.output


def test_an_ingest_that_fails_after_feeding_the_store_leaves_it_empty(
    tmp_path: Path, sample: tuple[Path, Path], pipeline: Pipeline, monkeypatch
) -> None:
    fiches, _out = sample

    def broken(self: object) -> None:
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(build_module.WholeGraph, "commit", broken)
    with EmbeddedStore(tmp_path / "store") as store:
        with pytest.raises(OSError, match="simulated"):
            ingest_and_load([fiches], tmp_path / "out", store, pipeline=pipeline, with_referentials=False)
        assert len(store.oxigraph) == 0 and store.is_empty()
    assert not (tmp_path / "out" / "onisep-kg.trig").exists()
    monkeypatch.undo()
    with EmbeddedStore(tmp_path / "store") as store:
        report, loaded = ingest_and_load(
            [fiches], tmp_path / "out", store, pipeline=pipeline, with_referentials=False
        )
        assert report.ingested == 10 and len(loaded.loaded) == 10
        assert store_quads(store) == trig_quads(tmp_path / "out" / "onisep-kg.trig")


def test_a_trig_not_laid_out_as_ingest_writes_it_is_read_whole(tmp_path: Path) -> None:
    src = hashlib.sha256(b"s").hexdigest()

    def block(name: str, extra: str) -> str:
        g = f"<{ID}graph/test/{name}>"
        return (
            f"GRAPH {g} {{\n{g} <{PROV}wasDerivedFrom> <{ID}source/{src}> .\n"
            f'<{ID}source/{src}> <{OKG}fileName> "s.md" ; <{OKG}sha256> "{src}" .\n{extra}\n}}\n'
        )

    trig = tmp_path / "odd.trig"
    trig.write_text(
        block("a", '<http://e/a> <http://e/p> """line\n}\nGRAPH <http://e/x> {\n""" .')
        + block("b", "<http://e/b> <http://e/p> 1 ."),
        encoding="utf-8",
    )
    with EmbeddedStore(tmp_path / "store") as store:
        first = store.load_dataset(trig)
        assert first.loaded == [f"{ID}graph/test/a", f"{ID}graph/test/b"]
        assert store_quads(store) == trig_quads(trig) and merged_triples(store) == trig_triples(trig)
        assert len(store.load_dataset(trig).skipped) == 2


def test_graphs_with_blank_nodes_load_and_reload(tmp_path: Path) -> None:
    src = hashlib.sha256(b"b").hexdigest()
    prov = (
        f"<{ID}graph/test/b> <{PROV}wasDerivedFrom> <{ID}source/{src}> .\n"
        f'<{ID}source/{src}> <{OKG}fileName> "b.md" ; <{OKG}sha256> "{src}" .\n'
    )
    trig = tmp_path / "b.trig"
    trig.write_text(
        f"<{ID}graph/test/b> {{\n{prov}<http://e/a> <http://e/p> [ <http://e/q> 1 ] .\n"
        "_:x <http://e/p> 2 .\n}\n",
        encoding="utf-8",
    )
    with EmbeddedStore(tmp_path / "store") as store:
        first = store.load_dataset(trig)
        assert first.loaded == [f"{ID}graph/test/b"] and first.quads == 6
        assert (first.quads, first.triples) == (store.quad_count(), store.triple_count()) == (6, 6)
        again = store.load_dataset(trig)
        assert again.skipped == [f"{ID}graph/test/b"]  # the same block: not read again
        trig.write_text(trig.read_text(encoding="utf-8").replace("2 .", "3 ."), encoding="utf-8")
        changed = store.load_dataset(trig)
        assert changed.replaced == [f"{ID}graph/test/b"]
        assert (changed.quads, changed.triples) == (store.quad_count(), store.triple_count()) == (6, 6)
        assert store.query("ASK { ?a <http://e/p> [ <http://e/q> 1 ] . ?x <http://e/p> 3 }").boolean


# -- safe parameters --------------------------------------------------------------------------
def test_an_injection_attempt_is_a_plain_value(store: Store, sample: tuple[Path, Path]) -> None:
    _fiches, out = sample
    load_ingest_output(out, store)
    before = store_quads(store)
    records = store.records()
    # the same query answers with a real value: binding works
    hit = store.query(LABEL_QUERY, bindings={"name": "hot liner"})
    assert hit.values() == [{"metier": ID + "metier/MET.799", "name": "hot liner"}]
    for value in (INJECTION, INJECTION.replace('"', "'"), '"> } DROP ALL #', '\\" } DROP ALL #'):
        answer = store.query(LABEL_QUERY, bindings={"name": value})
        assert answer.rows == []
    assert store_quads(store) == before and store.records() == records  # nothing dropped
    assert store.query(ROME_QUERY, bindings={"code": "I1401"}).values()[0]["metier"] == ID + "metier/MET.799"


TRICKY = [
    INJECTION,
    "a\\u0022b",
    "back\\slash\\",
    'quote"',
    "'''three'''",
    '"""three"""',
    "tab\tline\nreturn\r\n",
    "nul\x00bell\x07del\x7f",
    "éèà — « guillemets » 😀",
    "?v } # not a comment",
]


def test_tricky_values_round_trip_in_both_stores(store: Store) -> None:
    for value in TRICKY:
        assert store.query("SELECT ?v WHERE { }", bindings={"v": value}).values() == [{"v": value}]
    iri = ox.NamedNode("https://w3id.org/onisep-kg/id/metier/MET.799")
    assert store.query("SELECT ?v WHERE { }", bindings={"v": iri}).rows == [(iri,)]
    typed = store.query("SELECT ?v WHERE { }", bindings={"v": 42}).rows[0][0]
    assert isinstance(typed, ox.Literal) and typed.datatype.value.endswith("#integer")
    fr = store.query("SELECT ?v WHERE { }", bindings={"v": ox.Literal("métier", language="fr")}).rows[0][0]
    assert isinstance(fr, ox.Literal) and fr.language == "fr"


def test_bound_queries_keep_the_value_whole() -> None:
    bound = bind_values(LABEL_QUERY, {"name": INJECTION})
    assert "DROP ALL ; SELECT" in bound  # the text is there, but inside one escaped literal
    assert sparql_term(ox.Literal(INJECTION)) == '"x\\" } ; DROP ALL ; SELECT * { \\""'
    parsed = ox.Store()
    parsed.add(
        ox.Quad(
            ox.NamedNode("http://e/a"),
            ox.NamedNode(SKOS + "prefLabel"),
            ox.Literal(INJECTION),
            ox.NamedNode("http://e/g"),
        )
    )
    parsed.add(
        ox.Quad(
            ox.NamedNode("http://e/a"),
            ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
            ox.NamedNode(OKG + "Metier"),
            ox.NamedNode("http://e/g"),
        )
    )
    rows = list(parsed.query(bound))
    assert len(rows) == 1 and rows[0]["name"].value == INJECTION
    with pytest.raises(QueryError, match="no variable"):
        bind_values(LABEL_QUERY, {"nope": "x"})
    with pytest.raises(QueryError, match="variable name"):
        bind_values(LABEL_QUERY, {"name } DROP ALL": "x"})
    with pytest.raises(QueryError, match="IRI"):
        bind_values(LABEL_QUERY, {"name": URIRef("http://e/> } DROP ALL")})
    with pytest.raises(QueryError, match="blank node"):
        bind_values(LABEL_QUERY, {"name": ox.BlankNode()})


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=0, max_size=40))
def test_any_text_round_trips_through_values(text: str) -> None:
    store = ox.Store()
    bound = bind_values("SELECT ?v WHERE { }", {"v": text})
    rows = list(store.query(bound))
    assert [r["v"].value for r in rows] == [text]


# -- a locked store ---------------------------------------------------------------------------
def test_a_store_locked_by_another_process_gives_a_clear_error(
    tmp_path: Path, sample: tuple[Path, Path]
) -> None:
    _fiches, out = sample
    path = tmp_path / "store"
    with EmbeddedStore(path) as s:
        loaded = load_ingest_output(out, s)
        before = store_quads(s)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import pyoxigraph, sys; s = pyoxigraph.Store({str(path)!r}); "
            "print('open', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(StoreLockedError) as caught:
            EmbeddedStore(path)
        message = str(caught.value)
        assert str(path) in message and "another process is using it" in message
        result = CliRunner().invoke(load_command, [str(out), "--store", str(path)])
        assert result.exit_code == 2
        assert "another process is using it" in result.output and "Traceback" not in result.output
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(30)
    with EmbeddedStore(path) as s:  # intact, and usable again
        assert store_quads(s) == before
        again = load_ingest_output(out, s)
        assert len(again.skipped) == len(loaded.loaded) and again.quads == loaded.quads


# -- credentials ------------------------------------------------------------------------------
class _Recorder(http.server.BaseHTTPRequestHandler):
    """A hostile server: answers 401 and echoes the request, Authorization header included."""

    seen: list[dict[str, str]]

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace")
        self.server.seen.append(dict(self.headers))  # type: ignore[attr-defined]
        redirect = getattr(self.server, "redirect", None)
        if redirect:
            self.send_response(302)
            self.send_header("Location", redirect)
            self.end_headers()
            return
        echo = f"unauthorized: {self.headers.get('Authorization')} {self.path} {body}".encode()
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="x"')
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(echo)))
        self.end_headers()
        self.wfile.write(echo)

    do_GET = do_POST = do_PUT = do_DELETE = _answer  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@contextlib.contextmanager
def recorder(redirect: str | None = None) -> Iterator[tuple[str, list[dict[str, str]]]]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.seen = []  # type: ignore[attr-defined]
    server.redirect = redirect  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.seen  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


def test_credentials_never_appear_in_output_or_errors(
    monkeypatch: pytest.MonkeyPatch, sample: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    secret = "s3cr3t-" + os.urandom(8).hex()
    token = base64.b64encode(f"loader:{secret}".encode()).decode()
    monkeypatch.setenv("ONISEP_KG_USER", "loader")
    monkeypatch.setenv("ONISEP_KG_PASSWORD", secret)
    _fiches, out = sample

    def clean(text: str) -> None:
        assert secret not in text and token not in text

    with recorder() as (base, seen):
        store = RemoteStore(Endpoint.for_server(base))
        clean(repr(store))
        for action in (
            lambda: store.query(LABEL_QUERY, bindings={"name": secret}),
            lambda: load_ingest_output(out, store),
        ):
            with pytest.raises(RemoteStoreError) as caught:
                action()
            exc = caught.value
            assert "401" in str(exc) and "ONISEP_KG_PASSWORD" in str(exc)
            clean(str(exc))
            clean(repr(exc))
            clean("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
        # the credentials were sent (basic, to the given URL), which is what makes the check real
        assert seen and seen[0]["Authorization"] == f"Basic {token}"

        result = CliRunner().invoke(load_command, [str(out), "--endpoint", base])
        assert result.exit_code == 2 and "HTTP 401" in result.output
        clean(result.output)
        clean(caplog.text)

    # credentials in the URL are refused without being repeated
    result = CliRunner().invoke(
        load_command, [str(out), "--endpoint", f"http://loader:{secret}@127.0.0.1:9/"]
    )
    assert result.exit_code == 2 and "ONISEP_KG_USER" in result.output
    clean(result.output)

    # a redirect is not followed: the credentials never reach another address
    with recorder() as (elsewhere, elsewhere_seen), recorder(redirect=elsewhere + "/query") as (base, _seen):
        with pytest.raises(RemoteStoreError, match="redirect") as caught:
            RemoteStore(Endpoint.for_server(base)).query("ASK {}")
        clean(str(caught.value))
        assert elsewhere_seen == []


def test_endpoint_presets() -> None:
    assert Endpoint.for_server("http://127.0.0.1:7878") == Endpoint(
        "http://127.0.0.1:7878/query",
        "http://127.0.0.1:7878/store",
        "oxigraph",
        "http://127.0.0.1:7878/update",
    )
    assert Endpoint.for_server("http://127.0.0.1:7878/query").gsp_url == "http://127.0.0.1:7878/store"
    assert Endpoint.for_server("http://127.0.0.1:7878/update").query_url == "http://127.0.0.1:7878/query"
    fuseki = Endpoint.for_server("http://h:3030/ds/", "fuseki")
    assert (fuseki.query_url, fuseki.gsp_url, fuseki.update_url) == (
        "http://h:3030/ds/sparql",
        "http://h:3030/ds/data",
        "http://h:3030/ds/update",
    )
    graphdb = Endpoint.for_server("http://h:7200/repositories/okg", "graphdb")
    assert (graphdb.query_url, graphdb.gsp_url, graphdb.update_url) == (
        "http://h:7200/repositories/okg",
        "http://h:7200/repositories/okg/rdf-graphs/service",
        "http://h:7200/repositories/okg/statements",
    )
    virtuoso = Endpoint.for_server(
        "http://h:8890", "virtuoso", gsp_url="http://h:8890/sparql-graph-crud-auth"
    )
    assert (virtuoso.query_url, virtuoso.gsp_url, virtuoso.update_url) == (
        "http://h:8890/sparql",
        "http://h:8890/sparql-graph-crud-auth",
        "http://h:8890/sparql",
    )
    with pytest.raises(StoreError, match="--update-url"):
        Endpoint.for_server(None, query_url="http://h/q", gsp_url="http://h/g")
    for bad in ("ftp://h/", "h:7878", "http://u:p@h/", "http://h/#x"):
        with pytest.raises(StoreError):
            Endpoint.for_server(bad)
    with pytest.raises(StoreError, match="unknown server"):
        Endpoint.for_server("http://h/", "blazegraph")


# -- the server and the embedded store agree ---------------------------------------------------
def test_server_and_embedded_store_give_the_same_answers(tmp_path: Path, sample: tuple[Path, Path]) -> None:
    _fiches, out = sample
    with EmbeddedStore(tmp_path / "store") as embedded, oxigraph_server(tmp_path / "server") as base:
        remote = RemoteStore(Endpoint.for_server(base))
        a, b = load_ingest_output(out, embedded), load_ingest_output(out, remote)
        assert a.quads == b.quads == len(trig_quads(out / "onisep-kg.trig"))
        assert store_quads(embedded) == store_quads(remote)
        assert embedded.records().keys() == remote.records().keys()
        for query, bindings in (
            (PER_GRAPH_QUERY, None),
            (ROME_QUERY, {"code": "I1401"}),
            (LABEL_QUERY, {"name": "hot liner"}),
            (CONSTRUCT_QUERY, None),
        ):
            x, y = embedded.query(query, bindings=bindings), remote.query(query, bindings=bindings)
            assert x.kind == y.kind
            assert sorted(map(str, x.rows)) == sorted(map(str, y.rows))
            assert sorted(map(str, x.triples)) == sorted(map(str, y.triples))
            assert len(x) > 0
        merged = f"SELECT ?m WHERE {{ ?m a <{OKG}Metier> }} ORDER BY ?m"  # no GRAPH: the merge
        x, y = (s.query(merged).values() for s in (embedded, remote))
        assert x == y and len(x) == 10
        assert merged_triples(embedded) == merged_triples(remote) == trig_triples(out / "onisep-kg.trig")


def test_a_store_without_the_merge_gets_it_rebuilt(store: Store, sample: tuple[Path, Path]) -> None:
    """A store loaded before the default graph held the merge: the next load rebuilds it."""
    _fiches, out = sample
    load_ingest_output(out, store)
    store.update("DROP DEFAULT")
    assert not store.has_merge() and store.quad_count() > 0
    report = load_ingest_output(out, store)
    assert report.merge_rebuilt and len(report.skipped) == 10
    assert "rebuilt from every graph" in report.summary()
    assert merged_triples(store) == trig_triples(out / "onisep-kg.trig")
    assert not load_ingest_output(out, store).merge_rebuilt


def test_query_on_a_store_without_the_merge_says_to_load_again(
    tmp_path: Path, sample: tuple[Path, Path]
) -> None:
    _fiches, out = sample
    with EmbeddedStore(tmp_path / "store") as store:
        load_ingest_output(out, store)
        store.update("DROP DEFAULT")
    with pytest.raises(Q.QueryError, match="no merged default graph .*`onisep-kg load --store"):
        Q.open_store(tmp_path / "store")


def test_a_read_only_store_opens_queries_and_closes(tmp_path: Path, sample: tuple[Path, Path]) -> None:
    _fiches, out = sample
    with EmbeddedStore(tmp_path / "store") as store:
        quads = load_ingest_output(out, store).quads
    reader = EmbeddedStore(tmp_path / "store", read_only=True)
    assert reader.quad_count() == quads
    reader.close()  # no flush on a read-only store
    with EmbeddedStore(tmp_path / "store") as again:  # the lock is released
        assert again.quad_count() == quads


# -- serve ------------------------------------------------------------------------------------
def test_serve_answers_sparql_over_http(tmp_path: Path, sample: tuple[Path, Path]) -> None:
    _fiches, out = sample
    with EmbeddedStore(tmp_path / "store") as store:
        load_ingest_output(out, store)
        server = SparqlServer(store, "127.0.0.1", 0, quiet=True)
        server.start()
        try:
            base = server.url
            query = LABEL_QUERY.replace("?name)", '"hot liner")').replace("?metier ?name", "?metier")
            status, ctype, body = fetch(
                f"{base}sparql?{urllib.parse.urlencode({'query': query})}",
                headers={"Accept": "application/sparql-results+json"},
            )
            assert status == 200 and ctype.startswith("application/sparql-results+json")
            data = json.loads(body)
            assert data["head"]["vars"] == ["metier"]
            assert data["results"]["bindings"] == [
                {"metier": {"type": "uri", "value": ID + "metier/MET.799"}}
            ]

            form = urllib.parse.urlencode({"query": query}).encode()
            status, ctype, body = fetch(
                f"{base}sparql",
                data=form,
                headers={"Accept": "text/csv", "Content-Type": "application/x-www-form-urlencoded"},
            )
            assert status == 200 and ctype.startswith("text/csv")
            assert body.decode().splitlines() == ["metier", ID + "metier/MET.799"]

            construct = CONSTRUCT_QUERY
            status, ctype, body = fetch(
                f"{base}sparql", data=construct.encode(), headers={"Content-Type": "application/sparql-query"}
            )
            assert status == 200 and ctype.startswith("text/turtle")
            assert len(list(ox.parse(body, format=ox.RdfFormat.TURTLE))) == 10

            status, _ctype, body = fetch(
                f"{base}sparql",
                data=b"update=DROP+ALL",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert status == 405
            status, _ctype, body = fetch(f"{base}sparql?query=SELEC")
            assert status == 400 and b"invalid SPARQL" in body
            status, _ctype, _body = fetch(f"{base}sparql?query=ASK%7B%7D", headers={"Accept": "image/png"})
            assert status == 406

            status, ctype, page = fetch(base)
            html = page.decode()
            assert status == 200 and ctype.startswith("text/html")
            assert "<form" in html and "<textarea" in html and "/sparql" in html and "<button" in html
            assert "<script src" not in html and "http://" not in html.replace("http://www.w3.org", "")
            assert store.quad_count() > 0  # still all there
        finally:
            server.stop()


def test_serve_command_runs_an_endpoint(tmp_path: Path, sample: tuple[Path, Path]) -> None:
    _fiches, out = sample
    path = tmp_path / "store"
    with EmbeddedStore(path) as store:
        load_ingest_output(out, store)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from pipeline.cli_store import serve_command; serve_command()",
            "--store",
            str(path),
            "--port",
            "0",
            "--quiet",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert "10 graphs" in first, first + (proc.stderr.read() if proc.poll() is not None else "")  # type: ignore[union-attr]
        line = proc.stdout.readline()
        base = line.split("query page: ", 1)[1].split()[0]
        assert base.startswith("http://127.0.0.1:")
        status, _ctype, body = fetch(
            f"{base}sparql?query="
            + urllib.parse.quote("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
        )
        assert status == 200 and int(json.loads(body)["results"]["bindings"][0]["n"]["value"]) > 0
        with pytest.raises(StoreLockedError):  # serving holds the store
            EmbeddedStore(path)
    finally:
        proc.terminate()
        proc.wait(10)
    result = CliRunner().invoke(serve_command, ["--store", str(tmp_path / "none")])
    assert result.exit_code == 2 and "no store in" in result.output


def test_load_command_prints_the_report(tmp_path: Path, sample: tuple[Path, Path]) -> None:
    _fiches, out = sample
    runner = CliRunner()
    first = runner.invoke(load_command, [str(out), "--store", str(tmp_path / "store")])
    assert first.exit_code == 0, first.output
    assert "(10 graphs) into the store" in first.output
    assert "10 loaded, 0 replaced, 0 skipped (unchanged), 0 removed" in first.output
    second = runner.invoke(load_command, [str(out / "onisep-kg.trig"), "--store", str(tmp_path / "store")])
    assert (
        second.exit_code == 0 and "0 loaded, 0 replaced, 10 skipped (unchanged), 0 removed" in second.output
    )
    missing = runner.invoke(
        load_command, [str(tmp_path / "nothing.trig"), "--store", str(tmp_path / "store")]
    )
    assert missing.exit_code == 2 and "no such file" in missing.output


def test_a_trig_without_provenance_is_refused(tmp_path: Path) -> None:
    trig = tmp_path / "x.trig"
    trig.write_text("<http://e/g> { <http://e/a> <http://e/p> 1 . }\n", encoding="utf-8")
    with pytest.raises(StoreError, match="no provenance"):
        read_dataset(trig)
    trig.write_text("<http://e/a> <http://e/p> 1 .\n", encoding="utf-8")
    with pytest.raises(StoreError, match="outside a named graph"):
        read_dataset(trig)


# -- the whole corpus, in both stores ----------------------------------------------------------
@pytest.fixture(scope="module")
def whole_corpus(
    corpus: tuple[IngestReport, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """The whole real output loaded into the embedded store and into a real Oxigraph server."""
    report, out = corpus
    root = tmp_path_factory.mktemp("whole")
    figures: dict[str, Any] = {"trig_quads": len(trig_quads(out / "onisep-kg.trig")), "report": report}
    with EmbeddedStore(root / "store") as embedded, oxigraph_server(root / "server") as base:
        remote = RemoteStore(Endpoint.for_server(base))
        figures["embedded"] = load_ingest_output(out, embedded)
        figures["server"] = load_ingest_output(out, remote)
        figures["stores"] = (embedded, remote)
        yield figures


@pytest.mark.slow
def test_the_whole_corpus_loads_the_same_into_both_stores(whole_corpus: dict[str, Any]) -> None:
    embedded, server = whole_corpus["embedded"], whole_corpus["server"]
    print(  # the figures, for the record (pytest -s)
        f"\nwhole corpus: {embedded.quads} quads in {len(embedded.loaded)} graphs; "
        f"embedded {embedded.seconds:.1f} s, server {server.seconds:.1f} s"
    )
    assert embedded.quads == server.quads == whole_corpus["trig_quads"]
    assert len(embedded.loaded) == len(server.loaded) > 9000
    a, b = whole_corpus["stores"]
    # the same metadata: per graph, the same digest and sources
    assert {g: (r.digest, r.sources) for g, r in a.records().items()} == {
        g: (r.digest, r.sources) for g, r in b.records().items()
    }
    assert a.query(PER_GRAPH_QUERY).rows == b.query(PER_GRAPH_QUERY).rows
    for code in ("I1401", "K2111", "M1805"):
        x = a.query(ROME_QUERY, bindings={"code": code}).values()
        assert x == b.query(ROME_QUERY, bindings={"code": code}).values()
    assert a.query(ROME_QUERY, bindings={"code": "I1401"}).values()
    assert a.query(LABEL_QUERY, bindings={"name": INJECTION}).rows == []
    assert b.query(LABEL_QUERY, bindings={"name": INJECTION}).rows == []
    assert a.quad_count() == b.quad_count() == whole_corpus["trig_quads"]
    # the default graph is the merge: the distinct triples of the whole graph, as ingest counts them
    assert embedded.triples == server.triples == whole_corpus["report"].graph_triples


@pytest.mark.slow
@pytest.mark.parametrize("query", Q.list_queries(), ids=lambda q: q.name)
def test_every_named_query_gives_the_same_rows_in_both_stores(
    whole_corpus: dict[str, Any], query: Q.NamedQuery
) -> None:
    """Each named query of queries/, with its documented example parameters, on the whole corpus:
    the embedded store (pyoxigraph substitutions) and the server (a VALUES block) agree."""
    embedded, remote = whole_corpus["stores"]
    values = {p.name: p.example_value for p in query.params if p.example_value is not None}
    assert len(values) == len(query.params), f"{query.name}: every parameter has an example"
    bindings = Q.bind(query, values)
    x = embedded.query(query.text, bindings=bindings)
    y = remote.query(query.text, bindings=bindings)
    assert x.kind == y.kind
    assert x.variables == y.variables
    assert sorted(map(str, x.rows)) == sorted(map(str, y.rows))
    assert sorted(map(str, x.triples)) == sorted(map(str, y.triples))
    assert len(x) > 0, f"{query.name}: its example answers nothing"
    assert len(set(map(str, x.rows))) == len(x.rows), f"{query.name}: a row repeats"


@pytest.mark.slow
def test_the_whole_corpus_reloads_and_replaces_one_graph_without_reading_the_rest(
    whole_corpus: dict[str, Any],
    corpus: tuple[IngestReport, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Runs last: it changes one graph of the embedded store and puts it back."""
    _report, out = corpus
    store = whole_corpus["stores"][0]
    first = whole_corpus["embedded"]
    monkeypatch.setattr(store_module, "_parse_dataset", lambda *a, **k: pytest.fail("the TriG was parsed"))
    started = time.perf_counter()
    again = load_ingest_output(out, store)
    reload_seconds = time.perf_counter() - started
    assert len(again.skipped) == len(first.loaded) and not (again.loaded or again.replaced or again.removed)
    assert (again.quads, again.triples) == (first.quads, first.triples)

    old = "Au bout du fil, le hot liner écoute, attentif."
    text = (out / "onisep-kg.trig").read_text(encoding="utf-8")
    assert text.count(old) == 1
    changed_out = tmp_path / "changed"
    changed_out.mkdir()
    (changed_out / "onisep-kg.trig").write_text(text.replace(old, old + " Ajout."), encoding="utf-8")
    started = time.perf_counter()
    changed = load_ingest_output(changed_out, store)
    change_seconds = time.perf_counter() - started
    assert changed.replaced == [GRAPH_799] and len(changed.skipped) == len(first.loaded) - 1
    assert (changed.quads, changed.triples) == (store.quad_count(), store.triple_count())
    assert changed.triples == first.triples  # one literal for another
    hit = store.query(f'ASK {{ ?s ?p ?o FILTER(CONTAINS(STR(?o), "{old} Ajout.")) }}')
    gone = store.query(
        f'ASK {{ ?s ?p ?o FILTER(CONTAINS(STR(?o), "{old}") && !CONTAINS(STR(?o), "{old} Ajout.")) }}'
    )
    assert hit.boolean is True and gone.boolean is False  # the merge follows
    back = load_ingest_output(out, store)
    assert back.replaced == [GRAPH_799] and (back.quads, back.triples) == (first.quads, first.triples)
    print(
        f"\nwhole corpus: unchanged reload {reload_seconds:.2f} s, one graph replaced {change_seconds:.2f} s"
    )
