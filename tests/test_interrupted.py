"""A run killed with SIGKILL damages nothing, and the next run gives what an uninterrupted one gives.

Set-up (once, untimed): 40 real shipped fiches are ingested (``--fiches-only``) and loaded into an
embedded store: the *previous* outputs and store. Then the input changes (three fiches edited, one
added, one removed) and the reference runs are made, uninterrupted, from copies of the previous
outputs and store: ``ingest``, ``load``, ``ingest --store``, and a load into an empty store.

``--fiches-only``: with the referentials, one run of this corpus takes ~16 s and its load ~15 s
(8,162 graphs, 14 s of them building the referentials); thirteen kill scenarios, each a killed run,
the next run and their checks, would take over ten minutes. The referential graphs go through the
same writers (``WholeGraph.add``), commit and store loads as the fiches' graphs.

Each scenario runs the real command line in a subprocess, from copies of the previous outputs
and store. The child is instrumented (:data:`PRELUDE`): it counts the events of its own timeline
(each rename into the output folder or the store, each write of a whole-graph file's writer
thread, each write to the store, each bulk load) and, at the chosen one, says so on stderr and
waits; the test then sends it SIGKILL. The kill points are chosen from the reference runs'
timelines (early, during the per-fiche writes, during the whole-graph writes, just before and in
the middle of the commit, during the store's transactions and bulk loads), so each is really
mid-way. After the kill: every file is a complete previous or new version, the store opens and
holds, graph by graph, the previous or the new version with the matching record, the state cache
does not lie; then the same command, run again, gives the reference's bytes and quads.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest

from pipeline import resources
from pipeline.build import CACHE_DIR, MANIFEST_NAME, PENDING_NAME, Manifest, OutputBusyError, OutputFolder
from pipeline.ingest import Pipeline, ingest
from pipeline.serialize import turtle_head
from pipeline.store import META_GRAPH, STATE_FILE, EmbeddedStore, read_trig_block

ROOT = Path(__file__).resolve().parent.parent
METIERS = resources.metier_fiches_dir()
ALL = sorted(METIERS.glob("MET.*.md"))
SAMPLE = ALL[:40]
ADDED = ALL[40]
REMOVED = SAMPLE[7]
EDITED = [SAMPLE[3], SAMPLE[19], SAMPLE[31]]
WHOLE = ("onisep-kg.ttl", "onisep-kg.jsonld", "onisep-kg.trig")
MODIFIED = "http://purl.org/dc/terms/modified"
TEMP = re.compile(r"^\..+\.tmp$")  # atomic_write's and Document's temporary files
KILL_TIMEOUT = 120  # seconds a child waits at its kill point before it gives up (exit 99)

# The child: the command line, with its own timeline counted. ONISEP_KG_KILL_AT="kind:n" makes it
# stop at the n-th event of that kind, before it happens (say so on stderr, then wait to be
# killed; a bulk load is started first, and waited after);
# ONISEP_KG_TRACE=1 prints every event. Only renames into the folders of ONISEP_KG_WATCH count.
PRELUDE = r"""
import os, sys, threading, time
_kill_at = os.environ.get("ONISEP_KG_KILL_AT")
_trace = os.environ.get("ONISEP_KG_TRACE")
_watch = tuple(p for p in os.environ.get("ONISEP_KG_WATCH", "").split(os.pathsep) if p)
_counts = {}
_lock = threading.Lock()

def _wait():
    time.sleep(KILL_TIMEOUT)
    os._exit(99)

def _event(kind, detail="", *, wait=True):
    with _lock:
        n = _counts[kind] = _counts.get(kind, 0) + 1
        if _trace:
            sys.stderr.write(f"TRACE {kind} {n} {detail}\n")
            sys.stderr.flush()
        stop = _kill_at == f"{kind}:{n}"
        if stop:
            sys.stderr.write(f"KILL-POINT {kind} {n} {detail}\n")
            sys.stderr.flush()
    if stop and wait:
        _wait()
    return stop

_real_replace = os.replace
def _replace(src, dst, *args, **kwargs):
    if os.fspath(dst).startswith(_watch):
        _event("replace", os.fspath(dst))
    return _real_replace(src, dst, *args, **kwargs)
os.replace = _replace

import pipeline.build as _build
_real_write_all = _build._write_all
def _write_all(fd, data):
    _event("write", len(data))
    return _real_write_all(fd, data)
_build._write_all = _write_all

import pipeline.store as _store
_real_write = _store.EmbeddedStore._write
def _store_write(self, action):
    _event("store")
    return _real_write(self, action)
_store.EmbeddedStore._write = _store_write

class _Oxigraph:
    def __init__(self, store):
        self._real = store
    def __getattr__(self, name):
        return getattr(self._real, name)
    def bulk_load(self, *args, **kwargs):
        # announced, then started: killed while the bulk load runs (at the latest, right after)
        stop = _event("bulk", wait=False)
        self._real.bulk_load(*args, **kwargs)
        if stop:
            _wait()

_real_init = _store.EmbeddedStore.__init__
def _init(self, *args, **kwargs):
    _real_init(self, *args, **kwargs)
    self._store = _Oxigraph(self._store)
_store.EmbeddedStore.__init__ = _init

from pipeline.cli import main
sys.argv[0] = "onisep-kg"
main()
""".replace("KILL_TIMEOUT", str(KILL_TIMEOUT))


@dataclass
class Run:
    returncode: int
    stderr: list[str]
    stdout: str
    killed_at: str | None = None

    def events(self, kind: str) -> list[str]:
        """The traced events of ``kind``, in order: their details."""
        return [line.split(" ", 3)[3] for line in self.stderr if line.startswith(f"TRACE {kind} ")]


def _env(watch: list[Path], **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONISEP_KG_")}
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["ONISEP_KG_WATCH"] = os.pathsep.join(str(p) for p in watch)
    env.update(extra)
    return env


def cli(args: list[str], cwd: Path, watch: list[Path], *, trace: bool = False) -> Run:
    """The command line, run to its end (traced: every event of its timeline on stderr)."""
    done = subprocess.run(
        [sys.executable, "-c", PRELUDE, *args],
        cwd=cwd,
        env=_env(watch, **({"ONISEP_KG_TRACE": "1"} if trace else {})),
        capture_output=True,
        text=True,
        timeout=300,
    )
    return Run(done.returncode, done.stderr.splitlines(), done.stdout)


def cli_killed(args: list[str], cwd: Path, watch: list[Path], kill_at: str) -> Run:
    """The command line, sent SIGKILL once it reached the event ``kill_at`` ("kind:n")."""
    proc = subprocess.Popen(
        [sys.executable, "-c", PRELUDE, *args],
        cwd=cwd,
        env=_env(watch, ONISEP_KG_KILL_AT=kill_at),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    killed_at = None
    try:
        assert proc.stderr is not None
        for line in proc.stderr:  # (the child gives up after KILL_TIMEOUT: this ends)
            lines.append(line.rstrip("\n"))
            if line.startswith("KILL-POINT "):
                killed_at = line.strip()
                os.kill(proc.pid, signal.SIGKILL)
                break
        proc.wait(timeout=KILL_TIMEOUT + 30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
    return Run(proc.returncode, lines, "", killed_at)


# -- what a folder and a store hold -----------------------------------------------------------------


def files_of(folder: Path) -> dict[str, bytes]:
    """Every file's bytes by relative path; the manifest (it holds absolute paths and file times:
    a cache, not an output), the journal of per-fiche files being written and temporary files
    aside."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in (MANIFEST_NAME, PENDING_NAME) and not TEMP.match(p.name)
    }


def temp_files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if TEMP.match(p.name))


@dataclass
class StoreContent:
    graphs: dict[str, frozenset[str]]  # data graph → its triples (N-Triples lines)
    merge: frozenset[str]  # the default graph
    records: dict[str, tuple[str, tuple[tuple[str, str], ...]]]  # graph → (digest, sources)
    loaded_at: dict[str, str | None]
    meta_lines: frozenset[str]  # the metadata graph but the loading times
    state: dict[str, tuple[str, tuple[tuple[str, str], ...]]] | None  # the state cache's records

    def same_as(self, other: StoreContent) -> bool:
        return (self.graphs, self.merge, self.records, self.meta_lines) == (
            other.graphs,
            other.merge,
            other.records,
            other.meta_lines,
        )


def _record_key(record: object) -> tuple[str, tuple[tuple[str, str], ...]]:
    return record.digest, tuple(sorted((s.file_name, s.sha256) for s in record.sources))  # type: ignore[attr-defined]


def store_content(path: Path) -> StoreContent:
    """The store's quads and records (opened as the next run opens it: read-write, so a store
    left locked by a dead process would fail here)."""
    store = EmbeddedStore(path)
    try:
        graphs: dict[str, set[str]] = {}
        merge: set[str] = set()
        meta: set[str] = set()
        for q in store.oxigraph.quads_for_pattern(None, None, None, None):
            line = f"{q.subject} {q.predicate} {q.object}"
            if isinstance(q.graph_name, ox.DefaultGraph):
                merge.add(line)
            elif q.graph_name.value == META_GRAPH:
                if q.predicate.value != MODIFIED:
                    meta.add(line)
            else:
                graphs.setdefault(q.graph_name.value, set()).add(line)
        records = store.records()
        saved = store._read_state_file()
        state = None if saved is None else {iri: _record_key(r) for iri, r in saved.records.items()}
        return StoreContent(
            {g: frozenset(t) for g, t in graphs.items()},
            frozenset(merge),
            {iri: _record_key(r) for iri, r in records.items()},
            {iri: r.loaded_at for iri, r in records.items()},
            frozenset(meta),
            state,
        )
    finally:
        store.close()
        del store


# -- the set-up ---------------------------------------------------------------------------------


@dataclass
class World:
    root: Path
    inputs: Path  # the input, changed since the previous run
    previous_out: Path
    previous_store: Path
    ref_out: Path
    previous_files: dict[str, bytes]
    previous_store_content: StoreContent
    ref_files: dict[str, bytes]  # an uninterrupted ingest of IN_B over the previous outputs
    ref_store_content: StoreContent  # an uninterrupted load of it into the previous store
    ingest_trace: Run
    load_trace: Run
    ingest_store_trace: Run
    fresh_trace: Run  # ingest --store into an empty store
    empty_load_trace: Run  # load into an empty store

    def copy(
        self, name: str, *, out_of: str = "previous", store: str | None = "previous"
    ) -> tuple[Path, Path]:
        """A scenario's output folder (a copy of the previous one, or of the new one for a load)
        and store (a copy of the previous store, or none: an empty one)."""
        out, db = self.root / name / "out", self.root / name / "store"
        shutil.copytree(self.previous_out if out_of == "previous" else self.ref_out, out)
        if store == "previous":
            shutil.copytree(self.previous_store, db)
        return out, db


def _ingest_args(inputs: Path, out: Path, store: Path | None = None) -> list[str]:
    # (the fiches are named relative to the working directory, the root: "in/MET.….md")
    args = ["ingest", "--fiches-only", "--quiet", "--out", str(out), str(inputs)]
    return args + ["--store", str(store)] if store is not None else args


def _ok(run: Run) -> Run:
    assert run.returncode == 0, "\n".join(run.stderr[-30:])
    return run


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("interrupted")
    inputs = root / "in"  # (one folder: the manifest knows the fiches by their paths)
    inputs.mkdir()
    for path in SAMPLE:
        shutil.copy(path, inputs / path.name)
    previous_out, previous_store = root / "previous" / "out", root / "previous" / "store"
    # (ingest --store: the manifest then knows each graph's digest, and the next ingest --store
    # loads the store while its files are synced, before they are renamed into place)
    _ok(cli(_ingest_args(inputs, previous_out, previous_store), root, []))
    # The change the next run must write: three fiches edited, one added, one removed.
    for i, path in enumerate(EDITED):
        target = inputs / path.name
        target.write_text(target.read_text(encoding="utf-8") + f"- édité par le test {i}\n", encoding="utf-8")
    shutil.copy(ADDED, inputs / ADDED.name)
    (inputs / REMOVED.name).unlink()

    ref_out, ref_store = root / "ref" / "out", root / "ref" / "store"
    shutil.copytree(previous_out, ref_out)
    shutil.copytree(previous_store, ref_store)
    ingest_trace = _ok(cli(_ingest_args(inputs, ref_out), root, [ref_out], trace=True))
    load_trace = _ok(cli(["load", str(ref_out), "--store", str(ref_store)], root, [ref_store], trace=True))
    both_out, both_store = root / "ref-both" / "out", root / "ref-both" / "store"
    shutil.copytree(previous_out, both_out)
    shutil.copytree(previous_store, both_store)
    args = _ingest_args(inputs, both_out, both_store)
    ingest_store_trace = _ok(cli(args, root, [both_out, both_store], trace=True))
    fresh_out, fresh_store = root / "ref-fresh" / "out", root / "ref-fresh" / "store"
    shutil.copytree(previous_out, fresh_out)
    args = _ingest_args(inputs, fresh_out, fresh_store)
    fresh_trace = _ok(cli(args, root, [fresh_out, fresh_store], trace=True))
    scratch = root / "ref-scratch" / "out"
    _ok(cli(_ingest_args(inputs, scratch), root, []))
    empty_store = root / "ref-empty" / "store"
    empty = cli(["load", str(ref_out), "--store", str(empty_store)], root, [empty_store], trace=True)

    world = World(
        root,
        inputs,
        previous_out,
        previous_store,
        ref_out,
        files_of(previous_out),
        store_content(previous_store),
        files_of(ref_out),
        store_content(ref_store),
        ingest_trace,
        load_trace,
        ingest_store_trace,
        fresh_trace,
        _ok(empty),
    )
    # The references agree with each other: ingest --store writes what ingest then load do, and
    # a run into a fresh folder writes the same bytes (but the removed fiche's per-fiche files,
    # which a re-run leaves as they were).
    assert files_of(both_out) == world.ref_files
    assert files_of(fresh_out) == world.ref_files
    assert store_content(both_store).same_as(world.ref_store_content)
    assert store_content(fresh_store).same_as(world.ref_store_content)
    assert store_content(empty_store).same_as(world.ref_store_content)
    gone = {f"metiers/{_met_id(REMOVED)}.ttl", f"metiers/{_met_id(REMOVED)}.jsonld"}
    assert gone <= world.ref_files.keys()
    assert files_of(scratch) == {k: v for k, v in world.ref_files.items() if k not in gone}
    assert temp_files(ref_out) == [] and temp_files(both_out) == [] and temp_files(fresh_out) == []
    return world


def _met_id(path: Path) -> str:
    return path.name.split("_", 1)[0]


def test_the_change_is_one_the_next_run_must_write(world: World) -> None:
    """The set-up is what the scenarios need: the previous outputs and store are real and
    complete, and the next run changes per-fiche files, the whole-graph files and the store."""
    prev, ref = world.previous_files, world.ref_files
    assert sum(1 for k in prev if k.startswith("metiers/")) == 2 * len(SAMPLE)
    changed = sorted(k for k in ref if prev.get(k) != ref[k])
    edited = {_met_id(p) for p in EDITED} | {_met_id(ADDED)}
    assert {k.split("/")[1].rsplit(".", 1)[0] for k in changed if k.startswith("metiers/")} == edited
    assert set(WHOLE) | {"report.json"} <= set(changed)
    before, after = world.previous_store_content, world.ref_store_content
    assert len(before.graphs) == len(SAMPLE) and len(after.graphs) == len(SAMPLE)
    assert before.records.keys() == before.graphs.keys() and after.records.keys() == after.graphs.keys()
    differ = {
        g for g in before.graphs.keys() | after.graphs.keys() if before.graphs.get(g) != after.graphs.get(g)
    }
    assert {g.rsplit("/", 1)[1] for g in differ} == edited | {_met_id(REMOVED)}
    # the merge is the union of the data graphs, in both
    for content in (before, after):
        assert content.merge == frozenset().union(*content.graphs.values())
    # the timelines the kill points are chosen from
    assert len(world.ingest_trace.events("replace")) >= 2 * 4 + 6
    assert len(world.load_trace.events("store")) >= 4
    assert world.fresh_trace.events("bulk")


# -- the kill points, chosen from the reference runs' timelines -----------------------------------


@dataclass(frozen=True)
class Scenario:
    name: str
    command: str  # "ingest", "load", "ingest --store", "ingest --store (empty)", "load (empty)"
    kind: str  # the event kind killed at
    pick: str  # which one of the reference run's events of that kind (see _point)


SCENARIOS = [
    Scenario("ingest: the first per-fiche file about to be renamed", "ingest", "replace", "first metiers/"),
    Scenario("ingest: the last per-fiche file about to be renamed", "ingest", "replace", "last metiers/"),
    Scenario("ingest: a whole-graph writer thread mid-way", "ingest", "write", "middle"),
    Scenario(
        "ingest: just before the commit (first whole-graph rename)", "ingest", "replace", "first onisep-kg."
    ),
    Scenario(
        "ingest: mid-commit (Turtle and JSON-LD renamed, TriG not)",
        "ingest",
        "replace",
        "first onisep-kg.trig",
    ),
    Scenario("ingest: before the manifest (report written)", "ingest", "replace", f"first {MANIFEST_NAME}"),
    Scenario("load: before its first write to the store", "load", "store", "first"),
    Scenario("load: between two graphs' transactions", "load", "store", "middle"),
    Scenario("load: everything written, before the state cache", "load", "replace", f"first {STATE_FILE}"),
    Scenario("ingest --store: mid-way through the store's load", "ingest --store", "store", "middle"),
    Scenario(
        "ingest --store into an empty store: during the bulk load", "ingest --store (empty)", "bulk", "first"
    ),
    Scenario("load into an empty store: during the bulk load", "load (empty)", "bulk", "last"),
    Scenario("load into an empty store: bulk loaded, records not written", "load (empty)", "store", "last"),
]


def _trace_of(world: World, command: str) -> Run:
    return {
        "ingest": world.ingest_trace,
        "load": world.load_trace,
        "ingest --store": world.ingest_store_trace,
        "ingest --store (empty)": world.fresh_trace,
        "load (empty)": world.empty_load_trace,
    }[command]


def _point(world: World, scenario: Scenario) -> str:
    """``kind:n`` of the scenario's kill point in the reference run's timeline. The child stops
    *before* that event (a rename, a write, a bulk load) happens: the run always has work left."""
    events = _trace_of(world, scenario.command).events(scenario.kind)
    assert events, f"the reference run of {scenario.command} has no {scenario.kind} event"
    which, _, pattern = scenario.pick.partition(" ")
    matching = [i for i, detail in enumerate(events, 1) if not pattern or pattern in detail]
    assert matching, f"no {scenario.kind} event matches {pattern!r}"
    n = {"first": matching[0], "last": matching[-1], "middle": matching[len(matching) // 2]}[which]
    return f"{scenario.kind}:{n}"


def _after_commit_began(world: World, scenario: Scenario, point: str) -> bool:
    """Whether the kill point comes after the first whole-graph file was renamed, in the
    reference run's timeline (whose events are traced in order)."""
    trace = _trace_of(world, scenario.command).stderr
    kind, n = point.split(":")
    at = next(i for i, line in enumerate(trace) if line.startswith(f"TRACE {kind} {n} "))
    first = next(
        i for i, line in enumerate(trace) if line.startswith("TRACE replace ") and "/onisep-kg." in line
    )
    return at > first


def _check_files_after_kill(world: World, out: Path, committed_whole: bool) -> None:
    """Every file is a complete version, the previous or the new one; none is a partial file.
    Before the commit began, the whole-graph files and the report are the previous ones."""
    now = files_of(out)
    prev, ref = world.previous_files, world.ref_files
    for name, data in now.items():
        assert data in (prev.get(name), ref.get(name)), f"{name} is neither the previous nor the new version"
    assert prev.keys() <= now.keys(), f"previous outputs gone: {sorted(prev.keys() - now.keys())}"
    assert now.keys() <= prev.keys() | ref.keys()
    if not committed_whole:
        for name in (*WHOLE, "report.json", f"{CACHE_DIR}/distinct.bin", f"{CACHE_DIR}/triples.bin"):
            assert now[name] == prev[name], f"{name} changed before the commit"
    # A per-fiche file replaced is named in the journal first (the next run writes it again).
    journal = out / CACHE_DIR / PENDING_NAME
    noted = set(journal.read_text(encoding="utf-8").split()) if journal.exists() else set()
    replaced = {name for name, data in now.items() if name.startswith("metiers/") and data != prev.get(name)}
    assert {name.split("/", 1)[1] for name in replaced} <= noted
    for name in temp_files(out):  # what a killed run leaves: hidden, never an output's name
        assert Path(name).name.startswith(".") and Path(name).name.endswith(".tmp")
    # The manifest, if the next run trusts it, points at the chunks the files hold.
    manifest = Manifest.load(out)
    if manifest is not None:
        trig = (out / "onisep-kg.trig").read_bytes()
        for iri in manifest.graphs:
            start, length = manifest.graphs.span(iri, "trig")  # type: ignore[misc]
            assert read_trig_block(turtle_head(), trig[start : start + length], iri, out).iri == iri


def _check_store_after_kill(world: World, db: Path, *, was_empty: bool) -> None:
    """The store opens (no lock left), and holds, graph by graph, the previous or the new version
    with the record of that version; the merge is the union of the data graphs; the state cache,
    if any, says what the metadata graph says."""
    content = store_content(db)
    before, after = world.previous_store_content, world.ref_store_content
    if was_empty:
        # Bulk loads are not atomic: graphs may be there without records, never a record without
        # its whole graph; the records come last, in one transaction.
        for iri, record in content.records.items():
            assert record == after.records[iri] and content.graphs.get(iri) == after.graphs[iri]
        assert content.state is None or content.records.keys() == after.records.keys()
    else:
        for iri in before.graphs.keys() | after.graphs.keys() | content.graphs.keys():
            versions = [v for v in (before, after) if v.graphs.get(iri) == content.graphs.get(iri)]
            assert versions, f"the graph {iri} is neither its previous nor its new version"
            assert content.records.get(iri) in [v.records.get(iri) for v in versions], iri
        assert content.merge == frozenset().union(*content.graphs.values())
    if content.state is not None:
        assert content.state == content.records, "the state cache lies"


def _run_again_and_compare(world: World, scenario: Scenario, out: Path, db: Path) -> None:
    if scenario.command.startswith("ingest"):
        store = db if "--store" in scenario.command else None
        _ok(cli(_ingest_args(world.inputs, out, store), world.root, []))
        assert files_of(out) == world.ref_files
        assert temp_files(out) == [], "a killed run's temporary files are left behind"
        assert not (out / CACHE_DIR / PENDING_NAME).exists()
        if store is None:
            return
    else:
        _ok(cli(["load", str(out), "--store", str(db)], world.root, []))
    content = store_content(db)
    assert content.same_as(world.ref_store_content)
    assert content.state == content.records
    # and the run after it finds nothing to do
    again = _ok(cli(["load", str(out), "--store", str(db)], world.root, []))
    assert re.search(r"graphs: 0 loaded, 0 replaced, \d+ skipped \(unchanged\), 0 removed", again.stdout)


@pytest.mark.slow
@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_a_killed_run_damages_nothing_and_the_next_run_completes(world: World, scenario: Scenario) -> None:
    name = re.sub(r"\W+", "-", scenario.name)
    point = _point(world, scenario)
    empty = scenario.command.endswith("(empty)")
    out, db = world.copy(
        name,
        out_of="previous" if scenario.command.startswith("ingest") else "new",  # a load: of the new outputs
        store=None if empty else "previous",
    )
    before_out = files_of(out)
    if scenario.command.startswith("ingest"):
        store = db if "--store" in scenario.command else None
        args, watch = _ingest_args(world.inputs, out, store), [out, db]
    else:
        args, watch = ["load", str(out), "--store", str(db)], [db]
    run = cli_killed(args, world.root, watch, point)
    assert run.killed_at is not None, f"{point} was never reached:\n" + "\n".join(run.stderr[-20:])
    assert run.returncode == -signal.SIGKILL

    if scenario.command.startswith("ingest"):
        _check_files_after_kill(world, out, _after_commit_began(world, scenario, point))
    else:
        assert files_of(out) == before_out  # a load writes nothing in the output folder
    if scenario.command == "ingest":
        assert store_content(db).same_as(world.previous_store_content)  # the store is not touched
    else:
        _check_store_after_kill(world, db, was_empty=empty)
    _run_again_and_compare(world, scenario, out, db)


# -- regressions: each fix, shown on its own -------------------------------------------------------


class _Stop(Exception):
    """A run that fails after writing its per-fiche files (as a kill would stop it)."""


def _stop(*_args: object) -> None:
    raise _Stop


def test_a_failed_run_then_the_input_reverted_gives_the_previous_outputs(
    tmp_path: Path, pipeline: Pipeline
) -> None:
    """A run that wrote an edited fiche's per-fiche files and died before its manifest: the next
    run, on the input as it was before the edit, finds the fiche unchanged since the manifest and
    must not keep the dead run's per-fiche files (it rewrites them from the whole graph)."""
    fiches, out = tmp_path / "in", tmp_path / "out"
    fiches.mkdir()
    for path in SAMPLE[:6]:
        shutil.copy(path, fiches / path.name)
    ingest([fiches], out, pipeline=pipeline, with_referentials=False)
    before = files_of(out)
    edited = fiches / EDITED[0].name
    original = edited.read_bytes()
    edited.write_bytes(original + "- édité puis rétabli\n".encode())
    with pytest.raises(_Stop):
        ingest([fiches], out, pipeline=pipeline, with_referentials=False, before_commit=_stop)
    name = f"metiers/{_met_id(EDITED[0])}.ttl"
    assert files_of(out)[name] != before[name]  # the dead run wrote it
    edited.write_bytes(original)
    report = ingest([fiches], out, pipeline=pipeline, with_referentials=False)
    assert report.reused_fiches == 6  # (nothing re-parsed: only the two files written again)
    assert files_of(out) == before


def test_a_killed_runs_temporary_files_are_removed_by_the_next_run(
    tmp_path: Path, pipeline: Pipeline
) -> None:
    """Temporary files a dead run left (its own names: a dot, the output's name, mkstemp's eight
    characters, .tmp) are removed by the next run; a user's file that merely looks alike stays."""
    fiches, out = tmp_path / "in", tmp_path / "out"
    fiches.mkdir()
    for path in SAMPLE[:3]:
        shutil.copy(path, fiches / path.name)
    ingest([fiches], out, pipeline=pipeline, with_referentials=False)
    left = [
        out / ".onisep-kg.ttl.a1b2c3d4.tmp",
        out / ".report.json.zz_9yx8w.tmp",
        out / "metiers" / ".MET.1.jsonld.k3y_8abc.tmp",
        out / CACHE_DIR / ".distinct.bin.qwertyui.tmp",
        out / CACHE_DIR / ".manifest.json.asdfghjk.tmp",
    ]
    kept = [out / ".notes.txt.a1b2c3d4.tmp", out / "metiers" / ".MET.1.ttl.tmp", out / "mine.tmp"]
    for path in left + kept:
        path.write_bytes(b"partial")
    ingest([fiches], out, pipeline=pipeline, with_referentials=False)
    assert [p for p in left if p.exists()] == []
    assert all(p.exists() for p in kept)


def test_a_killed_ingest_then_the_edit_undone_gives_the_previous_outputs_and_store(world: World) -> None:
    """``ingest --store`` killed once it replaced the edited fiches' per-fiche files and half
    of the store's graphs; the user then undoes the change (the fiches as the previous run saw
    them). The next run finds every fiche unchanged since its manifest: it must give back the
    previous outputs (the dead run's per-fiche files written again) and the previous store."""
    base = world.root / "undone"
    inputs, out, db = base / "in", base / "out", base / "store"  # (run from base: "in/MET.….md")
    shutil.copytree(world.inputs, inputs)
    shutil.copytree(world.previous_out, out)
    shutil.copytree(world.previous_store, db)
    point = _point(world, Scenario("", "ingest --store", "store", "middle"))
    run = cli_killed(_ingest_args(inputs, out, db), base, [out, db], point)
    assert run.killed_at is not None and run.returncode == -signal.SIGKILL
    assert files_of(out) != world.previous_files  # the dead run replaced per-fiche files
    assert not store_content(db).same_as(world.previous_store_content)  # and some graphs
    for path in inputs.iterdir():
        path.unlink()
    for path in SAMPLE:
        shutil.copy(path, inputs / path.name)
    again = _ok(cli(_ingest_args(inputs, out, db), base, []))
    assert f"reused from the previous run: {len(SAMPLE)} unchanged fiches" in again.stdout
    # (the added fiche, gone again, leaves its per-fiche files, as any removed fiche does)
    added = {k: v for k, v in world.ref_files.items() if k.startswith(f"metiers/{_met_id(ADDED)}.")}
    assert len(added) == 2
    assert files_of(out) == {**world.previous_files, **added}
    assert temp_files(out) == []
    content = store_content(db)
    assert content.same_as(world.previous_store_content)
    assert content.state == content.records


def test_a_run_into_a_folder_another_run_is_writing_stops_before_writing(
    tmp_path: Path, pipeline: Pipeline
) -> None:
    """The sweep of a dead run's files must never take a live run's: while a run holds the output
    folder, another stops at once with one sentence (exit 2 from the command line), and writes
    nothing; once the first is done (or dead: the OS drops its lock), the folder is free."""
    fiches, out = tmp_path / "in", tmp_path / "out"
    fiches.mkdir()
    for path in SAMPLE[:2]:
        shutil.copy(path, fiches / path.name)
    ingest([fiches], out, pipeline=pipeline, with_referentials=False)
    before = files_of(out)
    (fiches / SAMPLE[2].name).write_bytes(SAMPLE[2].read_bytes())
    held = OutputFolder(out)  # (flock: a second open of the folder conflicts, in any process)
    try:
        with pytest.raises(OutputBusyError, match="being written by another onisep-kg run"):
            ingest([fiches], out, pipeline=pipeline, with_referentials=False)
        run = cli(_ingest_args(fiches, out), tmp_path, [])
        assert run.returncode == 2
        assert run.stderr == [
            f"Error: the output folder {out} is being written by another onisep-kg run; wait for it "
            "to end. Nothing was written."
        ]
        assert files_of(out) == before
    finally:
        held.close()
    assert ingest([fiches], out, pipeline=pipeline, with_referentials=False).ingested == 3


def test_a_forked_worker_outliving_its_run_does_not_keep_the_folder_locked(tmp_path: Path) -> None:
    """The referentials are built in a forked worker, which a SIGKILL of the run leaves running
    until its work is done (~15 s on the shipped corpus): the folder's lock must go with the
    run itself, or the next run would be told another run is writing."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    started = context.Event()

    def work() -> None:
        started.set()  # (after the fork hooks ran)
        time.sleep(60)

    folder = OutputFolder(tmp_path / "out")
    worker = context.Process(target=work)
    worker.start()
    try:
        assert started.wait(30)
        folder.close()  # what the OS does to a killed process's files
        OutputFolder(tmp_path / "out").close()  # free, while the worker lives on
        assert worker.is_alive()
    finally:
        worker.kill()
        worker.join()


@pytest.mark.parametrize("left", ["the merge", "the graphs"])
def test_a_first_load_killed_between_its_bulk_loads_is_made_whole_by_the_next_load(
    world: World, tmp_path: Path, left: str
) -> None:
    """A first load bulk-loads the graphs and the merge side by side, and writes the records
    last: killed when one of the two was loaded and not the other, it leaves a store with no
    record. The next load (here: of the previous run's output, without the added fiche and the
    edits) must give the store a load into an empty store gives: no triple of a graph it never
    wrote left in the merge, no triple of a graph it holds missing from it."""
    db = tmp_path / "store"
    new = ox.Store()
    new.bulk_load(path=str(world.ref_out / "onisep-kg.trig"), format=ox.RdfFormat.TRIG)
    dead = EmbeddedStore(db)  # what the killed load of the new output left
    if left == "the merge":
        merge = {
            f"{q.subject} {q.predicate} {q.object} .\n" for q in new.quads_for_pattern(None, None, None, None)
        }
        data = "".join(sorted(merge)).encode()
        dead.oxigraph.bulk_load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.DefaultGraph())
    else:
        dead.oxigraph.bulk_load(path=str(world.ref_out / "onisep-kg.trig"), format=ox.RdfFormat.TRIG)
    dead.close()
    del dead
    _ok(cli(["load", str(world.previous_out), "--store", str(db)], world.root, []))
    content = store_content(db)
    assert content.same_as(world.previous_store_content)
    assert content.state == content.records
