"""Pipeline benchmark: each ingest stage timed, with throughput and peak memory, beside two baselines.

    .venv/bin/python bench/pipeline.py [--synthetic FACTOR ...] [--skip-naive] [--stages-only]
                                       [--out DIR] [--json FILE] [--keep] [--corpus DIR]
                                       [--no-referentials] [--force-naive] [--in-process]

For the shipped corpus (always; ``--corpus DIR`` benchmarks another folder of fiches in its place)
and for each ``--synthetic FACTOR`` (a corpus of FACTOR × 1,043 fiches made by ``bench/synth.py``
in ``bench/.corpus-<FACTOR>x/``, reused when already there), it prints one table:

=============================  ==================================================================
row                            what is timed (only public functions of the ``pipeline`` package)
=============================  ==================================================================
init (Pipeline())              ``Pipeline()``: ROME v3 labels, formation catalog, SHACL shapes
read+parse                     ``parse_metier(path.read_bytes())`` for every fiche
map                            ``pipeline.mapper.map_metier`` for every record
link (referentials)            ``survey_fiches`` (a second read+parse pass, as ``ingest`` does),
                               ``link_metiers`` and ``pipeline.sources.build``
build graph (naive only)       the naive path's ``Graph.add`` of every triple
validate                       ``pipeline.validator.validate`` per fiche graph, then
                               ``validate_many`` per referential kind (whichever engine
                               ``Pipeline()`` picks; its class is printed with the table)
serialize Turtle / JSON-LD     ``to_turtle`` / ``to_jsonld`` over the whole triple set
serialize TriG                 ``to_trig`` over one named graph per source file
load (embedded store)          ``load_ingest_output`` of the TriG (written by ``to_trig`` in the
                               setup) into a new ``EmbeddedStore``
ingest()                       ``pipeline.ingest.ingest`` (per-fiche files, whole graph, TriG, report)
end-to-end (ingest + load)     ``ingest_and_load`` into a new embedded store, as ``onisep-kg ingest
                               --store`` runs (the store loaded while the ingest writes); the
                               ``ingest()`` and ``load`` rows are the two one after the other
re-run rows                    ``ingest_and_load`` again into the same output and store: nothing
                               changed, then one fiche edited (in this process), then the same
                               edit as a user runs it: ``onisep-kg ingest --store`` as a new
                               process, 5 times, the median (interpreter start included)
=============================  ==================================================================

Columns: wall time; CPU time (user + system of the process and its finished children: below the
wall time when other processes take the CPU, above it with a process pool); throughput, i.e. the
corpus's fiches and the whole graph's triples divided by the stage's time (the same triple count
for every row, so rows compare as shares of the work); peak memory (the RSS high-water mark of
the process, ``ru_maxrss``, or of its biggest child if the pipeline runs a process pool) and the
RSS when the timed part began (what the untimed setup holds).
Each stage runs in a fresh subprocess that first builds its inputs (untimed: e.g. the serialize
stages parse, map and link first), so stages do not pollute each other's peaks.

Baselines, measured in the same run on the same input:

* **naive**: one subprocess that parses, maps and links with the pipeline's own code (no other
  parser exists; those rows are marked ``*``), adds every triple to one rdflib ``Graph()`` with
  ``Graph.add``, runs ``pyshacl.validate`` over that whole graph with the shipped shapes and
  serializes it with rdflib's ``serialize(format="turtle")`` and ``(format="json-ld")``. Its peak
  column is the high-water mark of that one process so far. ``speed-up`` = naive time / pipeline
  time. Skipped with ``--skip-naive``, and by default for synthetic factors above 10 (hours;
  ``--force-naive`` runs it anyway).
* **floor**: plain Python reading every input file (the fiches; the end-to-end floor also reads
  the referential seed files) and writing as many bytes as the real Turtle and JSON-LD outputs,
  no RDF work. ``x floor`` = pipeline time / floor time.

The naive and floor end-to-end figures load no store: the ``ingest()`` row compares like with
like, the last row also charges the pipeline for its store load.

Options: ``--stages-only`` skips the end-to-end run (ingest + load), about a third of the time.
``--no-referentials`` benchmarks the fiches alone (``ingest(with_referentials=False)``: no link
stage, and the floor does not read the referential seeds). ``--in-process`` measures everything
in this process, one after the other (quick checks and the test; peaks are then not per stage).
``--out DIR`` is the working folder for outputs and stores (default ``bench/_work/``,
git-ignored); only its ``<corpus>/`` subfolders are replaced, and removed after the run unless
``--keep``. ``--json FILE`` writes every figure as JSON. The machine (CPUs, load, memory,
Python and library versions) is printed first: it may be shared, so compare runs made on the
same quiet machine.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
if str(ROOT) not in sys.path[:1]:
    sys.path.insert(0, str(ROOT))  # the `pipeline` package, not this file
if str(BENCH) not in sys.path:
    sys.path.append(str(BENCH))  # for `synth` when this file is loaded by path; last, so as not to shadow

import scaling  # noqa: E402  (bench/scaling.py: run_command)
import synth  # noqa: E402  (bench/synth.py, beside this file)

from pipeline import resources  # noqa: E402
from pipeline.emit import FicheGraph  # noqa: E402
from pipeline.errors import InputError  # noqa: E402
from pipeline.ingest import Pipeline, collect_fiches, display_path, ingest, survey_fiches  # noqa: E402
from pipeline.linking import LinkReport  # noqa: E402
from pipeline.parse import parse_metier  # noqa: E402
from pipeline.records import MetierRecord  # noqa: E402
from pipeline.referential_graphs import link_metiers  # noqa: E402
from pipeline.run import ingest_and_load  # noqa: E402
from pipeline.serialize import Triple, atomic_write, to_jsonld, to_trig, to_turtle  # noqa: E402
from pipeline.store import EmbeddedStore, load_ingest_output  # noqa: E402

NAIVE_MAX_FACTOR = 10  # above this, the naive path is skipped unless --force-naive
DEFAULT_WORK = BENCH / "_work"
TRIG_NAME = "onisep-kg.trig"

# (key, label) in table order. Stage keys run in their own subprocess; the rest come from the
# naive, floor and end-to-end runs.
ROWS: tuple[tuple[str, str], ...] = (
    ("init", "init (Pipeline())"),
    ("parse", "read+parse"),
    ("map", "map"),
    ("link", "link (referentials)"),
    ("build", "build graph (naive only)"),
    ("validate", "validate"),
    ("turtle", "serialize Turtle"),
    ("jsonld", "serialize JSON-LD"),
    ("trig", "serialize TriG"),
    ("load", "load (embedded store)"),
    ("ingest", "ingest()"),
    ("e2e", "end-to-end (ingest + load)"),
    ("rerun", "re-run, unchanged (+ load)"),
    ("edit1", "re-run, 1 fiche edited (+load)"),
    ("edit1_cli", "same, as a command (median)"),
)
END_TO_END = ("ingest", "e2e", "rerun", "edit1", "edit1_cli")  # rows of the end-to-end run
STAGES = ("init", "parse", "map", "link", "validate", "turtle", "jsonld", "trig", "load")
SHARED = ("init", "parse", "map", "link")  # the naive path runs the pipeline's own code here
FLOOR_OF = {
    "parse": "read",
    "turtle": "write_turtle",
    "jsonld": "write_jsonld",
    "ingest": "total",
    "e2e": "total",
}
NAIVE_OF = {key: key for key in (*SHARED, "build", "validate", "turtle", "jsonld")} | {
    "ingest": "total",
    "e2e": "total",
}
COLUMNS = (  # (header, width)
    ("stage", 27),
    ("time s", 9),
    ("cpu s", 9),
    ("fiches/s", 10),
    ("triples/s", 11),
    ("peak MB", 9),
    ("setup MB", 10),
    ("naive s", 10),
    ("naive MB", 10),
    ("speed-up", 10),
    ("floor s", 9),
    ("x floor", 9),
)


# -- memory and time --------------------------------------------------------------------------
def _maxrss_mb(who: int) -> float:
    """``ru_maxrss`` in MB (kilobytes on Linux, bytes on macOS)."""
    value = resource.getrusage(who).ru_maxrss
    return value / (1024 * 1024 if sys.platform == "darwin" else 1024)


def peak_mb() -> float:
    """This process's RSS high-water mark, or its biggest finished child's if larger (a pool)."""
    return max(_maxrss_mb(resource.RUSAGE_SELF), _maxrss_mb(resource.RUSAGE_CHILDREN))


def rss_mb() -> float | None:
    """The current RSS in MB (Linux ``/proc``), else None."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)


def cpu_seconds() -> float:
    """User + system CPU time of this process and of its finished children."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


@dataclass(slots=True)
class Timing:
    """One timed part: wall and CPU seconds, the RSS when it began and the peak when it ended."""

    seconds: float = 0.0
    setup_mb: float | None = None
    peak_mb: float = 0.0
    cpu_seconds: float | None = None  # user + system, this process and its finished children
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out = {"seconds": round(self.seconds, 4), "peak_mb": round(self.peak_mb, 1)}
        if self.cpu_seconds is not None:
            out["cpu_seconds"] = round(self.cpu_seconds, 4)
        if self.setup_mb is not None:
            out["setup_mb"] = round(self.setup_mb, 1)
        return out | self.extra


@contextmanager
def timed() -> Iterator[Timing]:
    """Time the ``with`` body; the peak is read when it ends."""
    timing = Timing(setup_mb=rss_mb())
    cpu = cpu_seconds()
    started = time.perf_counter()
    yield timing
    timing.seconds = time.perf_counter() - started
    timing.cpu_seconds = cpu_seconds() - cpu
    timing.peak_mb = peak_mb()


# -- the stage inputs (untimed setup) ----------------------------------------------------------
def triples_of(fiche: FicheGraph) -> Iterable[Triple]:
    """The triples of a fiche graph as the pipeline passes them on: ``data`` (a ``TripleSet``)
    where the mapper has it, else the rdflib ``graph`` (older pipelines)."""
    return fiche.data if hasattr(fiche, "data") else fiche.graph


def parse_all(files: Sequence[Path]) -> list[MetierRecord]:
    """Read and parse every fiche, as ``ingest`` does (a fiche that does not parse is left out)."""
    records = []
    for path in files:
        try:
            records.append(parse_metier(path.read_bytes(), display_path(path)))
        except (OSError, InputError):
            continue
    return records


def link_all(
    pipeline: Pipeline, files: Sequence[Path], parts: dict[str, float]
) -> dict[str, list[FicheGraph]]:
    """The linked referential graphs by kind; ``parts`` gets the survey and link+build times."""
    started = time.perf_counter()
    survey, _claims = survey_fiches(files)
    parts["survey_fiches"] = time.perf_counter() - started
    started = time.perf_counter()
    sources = pipeline.sources
    links = LinkReport()
    link_metiers(survey, links, catalog=sources.catalog, rome_v3_labels=sources.rome_v3_labels)
    by_kind = sources.build(survey, links).by_kind
    parts["link_and_build"] = time.perf_counter() - started
    return by_kind


class Inputs:
    """What the stages work on, built on first use: the untimed setup of a measurement."""

    def __init__(self, paths: Sequence[Path], referentials: bool, work: Path) -> None:
        self.paths = list(paths)
        self.referentials = referentials
        self.work = work

    @cached_property
    def files(self) -> list[Path]:
        return collect_fiches(self.paths)[0]

    @cached_property
    def pipeline(self) -> Pipeline:
        return Pipeline()

    @cached_property
    def records(self) -> list[MetierRecord]:
        return parse_all(self.files)

    @cached_property
    def fiche_graphs(self) -> list[FicheGraph]:
        return [self.pipeline.mapper.map_metier(r) for r in self.records]

    @cached_property
    def referential_graphs(self) -> dict[str, list[FicheGraph]]:
        return link_all(self.pipeline, self.files, {}) if self.referentials else {}

    @property
    def all_graphs(self) -> Iterator[FicheGraph]:
        yield from self.fiche_graphs
        for graphs in self.referential_graphs.values():
            yield from graphs

    @cached_property
    def whole(self) -> set[Triple]:
        whole: set[Triple] = set()
        for g in self.all_graphs:
            whole.update(triples_of(g))
        return whole

    @cached_property
    def quads(self) -> list[tuple[str, list[Triple]]]:
        """(named graph IRI, triples) per source file, as ``ingest`` hands them to ``to_trig``."""
        return [(str(g.graph_iri), list(triples_of(g))) for g in self.all_graphs]

    def trig_dir(self) -> Path:
        """A folder holding the run's ``onisep-kg.trig``, as ``ingest`` writes it."""
        folder = self.work / "trig"
        atomic_write(folder / TRIG_NAME, to_trig(self.quads), durable=False)
        return folder


# -- the pipeline stages: setup first, then the timed part ----------------------------------
def stage_init(inp: Inputs) -> Timing:
    with timed() as t:
        pipeline = Pipeline()
        pipeline.load()  # Pipeline() itself loads nothing: ingest loads on first use
    t.extra["validator"] = type(pipeline.validator).__name__
    return t


def stage_parse(inp: Inputs) -> Timing:
    files = inp.files
    with timed() as t:
        records = parse_all(files)
    t.extra["fiches"], t.extra["parsed"] = len(files), len(records)
    return t


def stage_map(inp: Inputs) -> Timing:
    mapper, records = inp.pipeline.mapper, inp.records
    with timed() as t:
        graphs = [mapper.map_metier(r) for r in records]
    t.extra["fiche_triples"] = sum(len(triples_of(g)) for g in graphs)
    return t


def stage_link(inp: Inputs) -> Timing:
    pipeline, files = inp.pipeline, inp.files
    parts: dict[str, float] = {}
    with timed() as t:
        by_kind = link_all(pipeline, files, parts) if inp.referentials else {}
    t.extra["parts"] = parts
    t.extra["graphs"] = {kind: len(graphs) for kind, graphs in by_kind.items()}
    return t


def stage_validate(inp: Inputs) -> Timing:
    validator, fiches, by_kind = inp.pipeline.validator, inp.fiche_graphs, inp.referential_graphs
    parts: dict[str, float] = {}
    findings = 0
    with timed() as t:
        started = time.perf_counter()
        for g in fiches:
            findings += len(validator.validate(triples_of(g), g.source_map))
        parts["fiche graphs"] = time.perf_counter() - started
        started = time.perf_counter()
        for graphs in by_kind.values():
            findings += len(validator.validate_many(graphs))
        parts["referential graphs"] = time.perf_counter() - started
    t.extra["parts"], t.extra["findings"] = parts, findings
    return t


def _stage_serialize(inp: Inputs, writer: Callable[[set[Triple]], bytes]) -> Timing:
    whole = inp.whole
    with timed() as t:
        data = writer(whole)
    t.extra["bytes"], t.extra["triples"] = len(data), len(whole)
    return t


def stage_trig(inp: Inputs) -> Timing:
    quads = inp.quads
    with timed() as t:
        data = to_trig(quads)
    t.extra["bytes"], t.extra["graphs"] = len(data), len(quads)
    return t


def stage_load(inp: Inputs) -> Timing:
    out = inp.trig_dir()
    with timed() as t, EmbeddedStore(inp.work / "store") as store:
        report = load_ingest_output(out, store)
    t.extra["quads"] = report.quads
    return t


STAGE_FUNCTIONS: dict[str, Callable[[Inputs], Timing]] = {
    "init": stage_init,
    "parse": stage_parse,
    "map": stage_map,
    "link": stage_link,
    "validate": stage_validate,
    "turtle": lambda inp: _stage_serialize(inp, to_turtle),
    "jsonld": lambda inp: _stage_serialize(inp, to_jsonld),
    "trig": stage_trig,
    "load": stage_load,
}


# -- end to end, naive, floor ---------------------------------------------------------------
def _linked_copy(files: Sequence[Path], folder: Path) -> Path:
    """The fiches, hard-linked (else copied) into ``folder``: one can be edited, not the original."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for path in files:
        try:
            os.link(path, folder / path.name)
        except OSError:
            shutil.copy2(path, folder / path.name)
    return folder


def _edit_one(folder: Path) -> Path:
    """Append a line to the first fiche (a new file replaces the link: the original stays)."""
    path = sorted(folder.glob("*.md"))[0]
    data = path.read_bytes() + "\n- une ligne ajoutée par le benchmark\n".encode()
    path.unlink()
    path.write_bytes(data)
    return path


def _edit_by_command(
    fiches: Path, out: Path, store: Path, referentials: bool, runs: int = 5
) -> dict[str, Any]:
    """What a user waits for after editing one fiche: ``onisep-kg ingest --store`` as a new
    process (interpreter start and imports included), the fiche edited again before each of
    ``runs`` runs; the median run's wall time, CPU time and peak (of that process)."""
    args = ["ingest", "--quiet", "--out", str(out), "--store", str(store), str(fiches)]
    if not referentials:
        args.append("--fiches-only")
    runs_json = []
    for _ in range(runs):
        _edit_one(fiches)
        run = scaling.run_command(args)
        if run.exit_code != 0:
            return {"error": f"exit code {run.exit_code}: {run.stderr_tail[-300:]}"}
        runs_json.append(run.figures())
    median = sorted(runs_json, key=lambda r: r["seconds"])[len(runs_json) // 2]
    return median | {"runs": [r["seconds"] for r in runs_json]}


def run_end_to_end(inp: Inputs) -> dict[str, Any]:
    """``ingest`` then ``load_ingest_output`` into a new embedded store, as a user would run them;
    then the same again with nothing changed, and again after one fiche is edited (incremental)."""
    out = inp.work / "ingest"
    fiches = _linked_copy(inp.files, inp.work / "fiches")  # untimed
    with timed() as ingested:
        report = ingest([fiches], out, with_referentials=inp.referentials)
    with timed() as loaded, EmbeddedStore(inp.work / "store") as store:
        load_ingest_output(out, store)
    # What `onisep-kg ingest --store` does: the store, empty, loaded while the ingest writes.
    shutil.rmtree(out)
    shutil.rmtree(inp.work / "store")
    with timed() as total, EmbeddedStore(inp.work / "store") as store:
        report, _load_report = ingest_and_load([fiches], out, store, with_referentials=inp.referentials)
    reruns: dict[str, Any] = {}
    for key in ("rerun", "edit1"):
        if key == "edit1":
            _edit_one(fiches)
        with timed() as again, EmbeddedStore(inp.work / "store") as store:
            rerun, load_report = ingest_and_load([fiches], out, store, with_referentials=inp.referentials)
        reruns[key] = again.to_json() | {
            "reused_fiches": rerun.reused_fiches,
            "reused_referentials": rerun.reused_referentials,
            "graphs_replaced": len(load_report.replaced),
            "own_stages": [{"name": st.name, "seconds": round(st.seconds, 3)} for st in rerun.stages],
        }
    reruns["edit1_cli"] = _edit_by_command(fiches, out, inp.work / "store", inp.referentials)
    own = [  # the stage times ingest() measures itself, when it does
        {"name": st.name, "seconds": round(st.seconds, 3), "items": st.items, "unit": st.unit}
        for st in getattr(report, "stages", ())
    ]
    sizes = {p.suffix: p.stat().st_size for p in out.glob("onisep-kg.*")}
    return {
        "ingest": ingested.to_json() | {"load_seconds": round(loaded.seconds, 4), "own_stages": own},
        "e2e": total.to_json(),
        **reruns,
        "fiches": len(report.outcomes),
        "failed": len(report.failures),
        "findings": len(report.findings),
        "violations": sum(1 for f in report.findings if f.severity.name == "VIOLATION"),
        "triples": report.graph_triples,
        "turtle_bytes": sizes.get(".ttl", 0),
        "jsonld_bytes": sizes.get(".jsonld", 0),
        "output_bytes": sum(p.stat().st_size for p in out.rglob("*") if p.is_file()),
    }


def run_naive(inp: Inputs) -> dict[str, Any]:
    """The naive path in one process: rdflib ``Graph.add``, ``pyshacl.validate``, rdflib writers."""
    from pyshacl import validate
    from rdflib import Graph
    from rdflib.namespace import SH

    steps: dict[str, Timing] = {}
    with timed() as steps["init"]:
        pipeline = Pipeline()
    with timed() as steps["parse"]:
        records = parse_all(inp.files)
    with timed() as steps["map"]:
        graphs = [pipeline.mapper.map_metier(r) for r in records]
    with timed() as steps["link"]:
        by_kind = link_all(pipeline, inp.files, {}) if inp.referentials else {}
    with timed() as steps["build"]:
        graph = Graph()
        for g in [*graphs, *(g for gs in by_kind.values() for g in gs)]:
            for triple in triples_of(g):
                graph.add(triple)
    del records, graphs, by_kind  # only the rdflib graph goes on, as in a naive script
    shapes = Graph()
    for path in resources.shapes_files():
        shapes.parse(path, format="turtle")
    with timed() as steps["validate"]:
        conforms, results, _text = validate(
            graph, shacl_graph=shapes, inference="none", allow_infos=True, allow_warnings=True
        )
    severities = Counter(str(o).rsplit("#", 1)[-1] for o in results.objects(None, SH.resultSeverity))
    with timed() as steps["turtle"]:
        turtle = graph.serialize(format="turtle").encode("utf-8")
    with timed() as steps["jsonld"]:
        jsonld = graph.serialize(format="json-ld").encode("utf-8")
    result: dict[str, Any] = {key: t.to_json() for key, t in steps.items()}
    result["total"] = Timing(sum(t.seconds for t in steps.values()), None, peak_mb()).to_json()
    result["findings"], result["violations"] = sum(severities.values()), severities["Violation"]
    result |= {
        "triples": len(graph),
        "conforms": conforms,
        "turtle_bytes": len(turtle),
        "jsonld_bytes": len(jsonld),
    }
    return result


def floor_files(inp: Inputs) -> list[Path]:
    """The referential seed files the pipeline reads (every seed file but the fiches and READMEs)."""
    if not inp.referentials:
        return []
    fiches = resources.metier_fiches_dir()
    return sorted(
        p
        for p in resources.seeds_dir().rglob("*")
        if p.is_file() and fiches not in p.parents and p.name.upper() != "README.MD"
    )


def run_floor(inp: Inputs, turtle_bytes: int, jsonld_bytes: int) -> dict[str, Any]:
    """Plain Python: read every input file, write as many bytes as the real outputs. No RDF."""
    files, seeds = inp.files, floor_files(inp)
    steps: dict[str, Timing] = {}
    read_bytes = 0
    with timed() as steps["read"]:
        for path in files:
            read_bytes += len(path.read_bytes())
    with timed() as steps["read_referentials"]:
        for path in seeds:
            read_bytes += len(path.read_bytes())
    inp.work.mkdir(parents=True, exist_ok=True)
    for key, size in (("write_turtle", turtle_bytes), ("write_jsonld", jsonld_bytes)):
        data = bytes(size)
        with timed() as steps[key]:
            (inp.work / f"floor-{key}.out").write_bytes(data)
        del data
    result: dict[str, Any] = {key: t.to_json() for key, t in steps.items()}
    result["total"] = Timing(sum(t.seconds for t in steps.values()), None, peak_mb()).to_json()
    result["input_bytes"] = read_bytes
    return result


# -- running measurements -------------------------------------------------------------------
def run_spec(spec: dict[str, Any], cache: dict[str, Inputs] | None = None) -> dict[str, Any]:
    """Run one measurement (``kind``: stage, e2e, naive or floor) and return its figures."""
    work = Path(spec["work"])
    inp = (cache or {}).get(spec["corpus"]) or Inputs(
        [Path(p) for p in spec["inputs"]], spec["referentials"], work
    )
    if cache is not None:
        cache.setdefault(spec["corpus"], inp)
    inp.work = work
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    kind = spec["kind"]
    if kind == "stage":
        return STAGE_FUNCTIONS[spec["stage"]](inp).to_json()
    if kind == "e2e":
        return run_end_to_end(inp)
    if kind == "naive":
        return run_naive(inp)
    if kind == "floor":
        return run_floor(inp, spec["turtle_bytes"], spec["jsonld_bytes"])
    raise ValueError(f"unknown measurement kind {kind!r}")


def measure(spec: dict[str, Any], *, in_process: bool, cache: dict[str, Inputs]) -> dict[str, Any]:
    """Run ``spec`` in a fresh subprocess (or here with ``in_process``); never raises."""
    label = spec.get("stage") or spec["kind"]
    print(f"  {spec['corpus']}: {label} …", end="", file=sys.stderr, flush=True)
    started = time.perf_counter()
    try:
        if in_process:
            result = run_spec(spec, cache)
        else:
            result_file = Path(spec["work"] + ".json")
            result_file.parent.mkdir(parents=True, exist_ok=True)
            result_file.unlink(missing_ok=True)
            cmd = [
                sys.executable,
                str(Path(__file__).resolve()),
                "--worker",
                json.dumps(spec),
                str(result_file),
            ]
            proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if proc.returncode != 0 or not result_file.is_file():
                tail = proc.stderr.strip().splitlines()[-3:]
                raise RuntimeError(f"worker exited with {proc.returncode}: {' / '.join(tail)}")
            result = json.loads(result_file.read_text(encoding="utf-8"))
    except Exception as exc:  # a failed measurement is reported in the table, the run goes on
        print(f" failed ({exc})", file=sys.stderr)
        return {"error": str(exc)}
    print(f" {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return result


@dataclass(slots=True)
class Corpus:
    """One input to benchmark: a name, its fiche folders and whether the naive path runs on it."""

    name: str
    paths: list[Path]
    naive: bool
    note: str = ""


def bench_corpus(corpus: Corpus, args: argparse.Namespace) -> dict[str, Any]:
    """Every measurement of one corpus; returns the figures (``stages``, ``e2e``, ``naive``, ``floor``)."""
    cache: dict[str, Inputs] = {}
    base = {
        "corpus": corpus.name,
        "inputs": [str(p) for p in corpus.paths],
        "referentials": args.referentials,
    }
    work = args.out / corpus.name

    def run(kind: str, stage: str | None = None, **extra: Any) -> dict[str, Any]:
        spec = base | {"kind": kind, "work": str(work / (stage or kind))} | extra
        if stage is not None:
            spec["stage"] = stage
        return measure(spec, in_process=args.in_process, cache=cache)

    stages = {s: run("stage", s) for s in STAGES if args.referentials or s != "link"}
    result: dict[str, Any] = {"name": corpus.name, "inputs": base["inputs"], "stages": stages}
    if not args.stages_only:
        result["e2e"] = run("e2e")
    if corpus.naive:
        result["naive"] = run("naive")
    e2e = result.get("e2e", {})
    turtle_bytes = stages["turtle"].get("bytes") or e2e.get("turtle_bytes", 0)
    jsonld_bytes = stages["jsonld"].get("bytes") or e2e.get("jsonld_bytes", 0)
    result["floor"] = run("floor", turtle_bytes=turtle_bytes, jsonld_bytes=jsonld_bytes)
    result["fiches"] = stages["parse"].get("fiches") or e2e.get("fiches", 0)
    result["triples"] = stages["turtle"].get("triples") or e2e.get("triples", 0)
    result["turtle_bytes"], result["jsonld_bytes"] = turtle_bytes, jsonld_bytes
    result["ratios"] = ratios(result)
    if args.out.exists() and not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return result


# -- the table ------------------------------------------------------------------------------
def _row_timing(result: dict[str, Any], key: str) -> dict[str, Any]:
    if key in END_TO_END:
        return result.get("e2e", {}).get(key, {})
    return result["stages"].get(key, {})


def ratios(result: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Per row: ``speed_up`` (naive / pipeline) and ``x_floor`` (pipeline / floor), where both exist."""
    out: dict[str, dict[str, float]] = {}
    for key, _label in ROWS:
        mine = _row_timing(result, key).get("seconds")
        naive = result.get("naive", {}).get(NAIVE_OF.get(key, ""), {}).get("seconds")
        floor = result.get("floor", {}).get(FLOOR_OF.get(key, ""), {}).get("seconds")
        row: dict[str, float] = {}
        if mine and naive is not None and key not in SHARED:
            row["speed_up"] = naive / mine
        if mine and floor:
            row["x_floor"] = mine / floor
        if row:
            out[key] = row
    return out


def _num(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    if digits and abs(value) < 10:
        return f"{value:,.{digits + 1}f}"
    return f"{value:,.{digits}f}"


def _line(cells: Sequence[str]) -> str:
    return "".join(
        f"{cell:<{width}}" if i == 0 else f"{cell:>{width}}"
        for i, (cell, (_name, width)) in enumerate(zip(cells, COLUMNS, strict=True))
    )


def _absent(result: dict[str, Any], key: str, args: argparse.Namespace) -> str:
    """What a row without a pipeline time says: skipped by an option, failed, or not applicable."""
    if "error" in _row_timing(result, key):
        return "failed"
    end_to_end = key in END_TO_END
    if (end_to_end and args.stages_only) or (key == "link" and not args.referentials):
        return "skip"
    return "-"


def format_table(result: dict[str, Any], args: argparse.Namespace) -> str:
    """The corpus's table: one row per stage, the pipeline's figures then naive and floor."""
    fiches, triples = result.get("fiches") or 0, result.get("triples") or 0
    naive_ran = "naive" in result and "error" not in result["naive"]
    header = _line([name for name, _width in COLUMNS])
    lines = [header, "-" * len(header)]
    for key, label in ROWS:
        mine = _row_timing(result, key)
        seconds = mine.get("seconds")
        naive = result.get("naive", {}).get(NAIVE_OF.get(key, ""), {})
        floor = result.get("floor", {}).get(FLOOR_OF.get(key, ""), {})
        ratio = result["ratios"].get(key, {})
        if key == "link" and not args.referentials:
            naive_s = "skip"
        elif naive:
            naive_s = _num(naive.get("seconds"), 2) + ("*" if key in SHARED else "")
        else:
            naive_s = "skip" if not naive_ran and key in NAIVE_OF else "-"
        cells = [
            label,
            _num(seconds, 2) if seconds is not None else _absent(result, key, args),
            _num(mine.get("cpu_seconds"), 2),
            _num(fiches / seconds, 0) if seconds and fiches else "-",
            _num(triples / seconds, 0) if seconds and triples else "-",
            _num(mine.get("peak_mb"), 0),
            _num(mine.get("setup_mb"), 0),
            naive_s,
            _num(naive.get("peak_mb"), 0) if naive else "-",
            f"{ratio['speed_up']:,.1f}x" if "speed_up" in ratio else "-",
            _num(floor.get("seconds"), 3) if floor else "-",
            f"{ratio['x_floor']:,.0f}x" if "x_floor" in ratio else "-",
        ]
        lines.append(_line(cells))
    return "\n".join(lines)


def format_notes(result: dict[str, Any], corpus: Corpus) -> list[str]:
    """What the table cannot say: the split of link and validate, the naive path's status, sums."""
    notes: list[str] = []
    stages = result["stages"]
    for key in ("link", "validate"):
        parts = stages.get(key, {}).get("parts")
        if parts:
            notes.append(f"{key}: " + ", ".join(f"{name} {s:,.2f} s" for name, s in parts.items()))
    e2e = result.get("e2e", {})
    if "naive" not in result:
        notes.append(f"naive path skipped: {corpus.note or '--skip-naive'}")
    elif "error" not in result["naive"]:
        naive = result["naive"]
        notes.append(
            "* rows marked * run the pipeline's own parser, mapper and linker in the naive process "
            "(the naive path has none of its own)"
        )
        notes.append(
            f"naive graph {naive['triples']:,} triples; pyshacl over it: {naive['violations']:,} violations "
            f"in {naive['findings']:,} results; rdflib Turtle {naive['turtle_bytes'] / 1e6:,.1f} MB, "
            f"JSON-LD {naive['jsonld_bytes'] / 1e6:,.1f} MB"
        )
    if "findings" in e2e:
        notes.append(
            f"ingest(): {e2e['violations']:,} violations in {e2e['findings']:,} findings "
            f"(per source graph), {e2e['failed']:,} fiches failed, "
            f"{e2e['output_bytes'] / 1e6:,.1f} MB written"
        )
    summed = sum(stages[k].get("seconds", 0.0) for k in STAGES if k in stages and k != "load")
    ingest_s = e2e.get("ingest", {}).get("seconds")
    if ingest_s:
        notes.append(
            f"sum of the stages init..TriG {summed:,.1f} s vs ingest() {ingest_s:,.1f} s "
            "(ingest also writes one Turtle and one JSON-LD file per fiche, and the report)"
        )
    for key, label in (("rerun", "re-run, unchanged"), ("edit1", "re-run, 1 fiche edited")):
        again = e2e.get(key)
        if again and "reused_fiches" in again:
            notes.append(
                f"{label}: {again['reused_fiches']:,} fiches reused, referentials "
                f"{'reused' if again['reused_referentials'] else 'rebuilt'}, "
                f"{again['graphs_replaced']:,} graphs replaced in the store; ingest: "
                + ", ".join(f"{st['name']} {st['seconds']:,.2f} s" for st in again["own_stages"])
            )
    own = e2e.get("ingest", {}).get("own_stages")
    if own:
        notes.append(
            "ingest() times itself: " + ", ".join(f"{st['name']} {st['seconds']:,.1f} s" for st in own)
        )
    floor = result.get("floor", {})
    if "total" in floor:
        read = floor["read"]["seconds"] + floor["read_referentials"]["seconds"]
        wrote = floor["write_turtle"]["seconds"] + floor["write_jsonld"]["seconds"]
        written = (result["turtle_bytes"] + result["jsonld_bytes"]) / 1e6
        notes.append(
            f"floor: read {floor['input_bytes'] / 1e6:,.1f} MB in {read:.3f} s, "
            f"wrote {written:,.1f} MB in {wrote:.3f} s"
        )
    return notes


def code_fingerprint() -> str:
    """A digest of the ``pipeline`` package's sources: a run whose code changes midway mixes versions."""
    digest = hashlib.sha256()
    for path in sorted(Path(resources.__file__).resolve().parent.rglob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def machine() -> dict[str, Any]:
    """Where the figures were measured."""
    versions = {}
    for name in ("pyoxigraph", "rdflib", "pyshacl"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "?"
    memory = (
        os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3 if hasattr(os, "sysconf") else None
    )
    return {
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "memory_gb": round(memory, 1) if memory else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        **versions,
    }


# -- command line -----------------------------------------------------------------------------
def corpora(args: argparse.Namespace) -> list[Corpus]:
    """The shipped corpus (or ``--corpus``), then one synthetic corpus per factor (made if needed)."""
    if args.corpus is not None:
        out = [Corpus(f"corpus-{args.corpus.name}", [args.corpus], not args.skip_naive)]
    else:
        out = [Corpus("shipped", [resources.metier_fiches_dir()], not args.skip_naive)]
    for factor in args.synthetic:
        folder = synth.default_out(factor)
        if not synth.corpus_is_current(folder, factor):
            print(f"  making the {factor}x synthetic corpus in {folder} …", file=sys.stderr)
            synth.make_corpus(factor, folder)
        naive = not args.skip_naive and (factor <= NAIVE_MAX_FACTOR or args.force_naive)
        note = (
            "--skip-naive"
            if args.skip_naive
            else f"factor {factor} > {NAIVE_MAX_FACTOR} (--force-naive runs it)"
        )
        out.append(Corpus(f"synthetic-{factor}x", [folder], naive, "" if naive else note))
    return out


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--synthetic", type=int, nargs="+", action="extend", default=[], metavar="FACTOR")
    parser.add_argument("--skip-naive", action="store_true", help="do not run the naive rdflib/pyshacl path")
    parser.add_argument(
        "--force-naive", action="store_true", help=f"run it even for factors > {NAIVE_MAX_FACTOR}"
    )
    parser.add_argument("--stages-only", action="store_true", help="skip the end-to-end run (ingest + load)")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_WORK, help="working folder (default bench/_work/)"
    )
    parser.add_argument("--json", type=Path, help="write every figure to this JSON file")
    parser.add_argument(
        "--corpus", type=Path, help="benchmark this folder of fiches instead of the shipped one"
    )
    parser.add_argument(
        "--no-referentials",
        dest="referentials",
        action="store_false",
        help="fiches only, no referential graphs",
    )
    parser.add_argument(
        "--in-process", action="store_true", help="no subprocesses (quick checks; shared peaks)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the outputs and stores in --out")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    info = machine()
    print(
        f"machine: {info['cpus']} CPUs, load {info['load_average']}, {info['memory_gb']} GB; "
        f"Python {info['python']}; pyoxigraph {info['pyoxigraph']}, rdflib {info['rdflib']}, "
        f"pyshacl {info['pyshacl']}; {info['platform']}"
    )
    if args.in_process:
        print("in-process: peak memory is this process's high-water mark so far, not per stage")
    options = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    record: dict[str, Any] = {"machine": info, "args": options, "corpora": []}
    record["code"] = fingerprint = code_fingerprint()
    for corpus in corpora(args):
        result = bench_corpus(corpus, args)
        if code_fingerprint() != fingerprint:
            record["code_changed"] = True
            print("\nWARNING: the pipeline's sources changed during the run; the figures mix code versions")
        referentials = "with referentials" if args.referentials else "fiches only"
        validator = result["stages"].get("init", {}).get("validator", "?")
        print(
            f"\n== {corpus.name}: {result['fiches']:,} fiches, {result['triples']:,} triples "
            f"({referentials}); Turtle {result['turtle_bytes'] / 1e6:,.1f} MB, "
            f"JSON-LD {result['jsonld_bytes'] / 1e6:,.1f} MB; validator {validator}"
        )
        print(format_table(result, args))
        for note in format_notes(result, corpus):
            print(f"  {note}")
        record["corpora"].append(result)
        if args.json is not None:  # after each corpus, so a long run keeps what it measured
            atomic_write(args.json, (json.dumps(record, ensure_ascii=False, indent=1) + "\n").encode())
    return 0


def worker(spec_json: str, result_file: str) -> int:
    """``--worker SPEC RESULT``: run one measurement in this fresh process, write its figures."""
    result = run_spec(json.loads(spec_json))
    Path(result_file).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        raise SystemExit(worker(sys.argv[2], sys.argv[3]))
    raise SystemExit(main())
