"""The ingest run: files → records → graphs → findings → Turtle and JSON-LD on disk.

This is the edge where files are read and written. A fiche that cannot be read is reported (file,
line, what was expected) and skipped; the others are still mapped, validated and written. Every
output is written atomically, so an interrupted run leaves the previous files whole.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__, resources
from .build import (
    F_GRAPH,
    F_ID,
    F_MTIME,
    F_OUTCOME,
    F_SHA,
    F_SIZE,
    F_SURVEY,
    FileHashes,
    Manifest,
    OutputFolder,
    WholeGraph,
    environment_key,
    environment_trees,
    fingerprint,
    list_trees,
    load_referentials_cache,
    save_referentials_cache,
    trusted_mtime,
)
from .emit import gc_paused
from .errors import InputError, UnsupportedShapesError
from .linking import LinkReport, metier_names
from .parse import parse_metier, read_fiche
from .progress import Progress
from .records import MetierRecord
from .referentials import FormationSummary, Referentials, load_referentials
from .serialize import (
    GraphChunks,
    GraphRenderer,
    Triple,
    atomic_write,
    jsonld_head,
    jsonld_tail,
    turtle_head,
)
from .validate import Finding, Severity

if TYPE_CHECKING:  # imported when first needed: a re-run that changes little loads little
    from concurrent.futures import Future, ProcessPoolExecutor

    from rdflib import Graph

    from .mapper import Mapper
    from .referential_graphs import MetierSurvey, ReferentialSources
    from .shacl_fast import FastValidator
    from .store import GraphInput, LoadReport, Store
    from .validate import Validator

WHOLE_GRAPH_NAME = "onisep-kg"
PARSER_SHAPE = "parser"


@dataclass(frozen=True, slots=True)
class Failure:
    """A fiche that could not be ingested, and why."""

    source: str
    line: int | None
    message: str

    def format(self) -> str:
        where = f"{self.source}:{self.line}" if self.line is not None else self.source
        return f"{where}: {self.message}"


@dataclass(slots=True)
class FicheOutcome:
    source: str
    metier_id: str | None = None
    id_line: int | None = None
    triples: int = 0
    findings: list[Finding] = field(default_factory=list)
    failure: Failure | None = None


@dataclass(frozen=True, slots=True)
class StageTime:
    """How long one stage of a run took, and how many items it handled."""

    name: str
    seconds: float
    items: int
    unit: str

    def format(self) -> str:
        """``fiches        12.3 s    1,043 fiches        85 fiches/s``"""
        rate = f"{self.items / self.seconds:>10,.0f} {self.unit}/s" if self.seconds > 0 and self.items else ""
        return f"{self.name:<12} {self.seconds:>6.1f} s {self.items:>10,} {self.unit:<8}{rate}".rstrip()


@dataclass(slots=True)
class IngestReport:
    """What a run did: per fiche outcome, whole-graph size and the files it wrote."""

    outcomes: list[FicheOutcome]
    graph_triples: int = 0
    outputs: list[Path] = field(default_factory=list)
    links: LinkReport = field(default_factory=LinkReport)
    referential_graphs: int = 0
    referential_findings: list[Finding] = field(default_factory=list)
    referential_failures: list[Failure] = field(default_factory=list)
    stages: list[StageTime] = field(default_factory=list)
    reused_fiches: int = 0  # fiches unchanged since the previous run: taken from it, not redone
    reused_referentials: bool = False
    manifest: Manifest | None = None  # what the run left for the next one (None: no graph written)

    @contextmanager
    def stage(self, name: str, items: int, unit: str) -> Iterator[None]:
        """Time the block as the stage ``name`` (wall clock)."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.stages.append(StageTime(name, time.perf_counter() - started, items, unit))

    @property
    def failures(self) -> list[Failure]:
        return [o.failure for o in self.outcomes if o.failure is not None] + self.referential_failures

    @property
    def findings(self) -> list[Finding]:
        return [f for o in self.outcomes for f in o.findings] + self.referential_findings

    @property
    def ingested(self) -> int:
        return sum(1 for o in self.outcomes if o.failure is None)

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    def counts_by_shape(self) -> list[tuple[Severity, str, int]]:
        counts = Counter((f.severity, f.shape) for f in self.findings)
        return sorted(((s, shape, n) for (s, shape), n in counts.items()), key=lambda x: (-x[0], x[1]))

    def to_json(self) -> dict[str, Any]:
        return {
            "version": __version__,
            "fiches": len(self.outcomes),
            "ingested": self.ingested,
            "failed": len(self.failures),
            "referential_graphs": self.referential_graphs,
            "triples": self.graph_triples,
            "links": self.links.to_json(),
            "findings_by_shape": [
                {"severity": s.label, "shape": shape, "count": n} for s, shape, n in self.counts_by_shape()
            ],
            "failures": [{"source": f.source, "line": f.line, "message": f.message} for f in self.failures],
            "findings": [
                {
                    "severity": f.severity.label,
                    "shape": f.shape,
                    "source": f.source,
                    "line": f.line,
                    "message": f.message,
                    "focus": f.focus,
                    "path": f.path,
                    "value": f.value,
                }
                for f in self.findings
            ],
        }


def display_path(path: Path) -> str:
    """The path as a user would type it: relative to the working directory when inside it."""
    try:
        return os.path.relpath(path) if path.is_absolute() else str(path)
    except ValueError:
        return str(path)


def collect_fiches(
    paths: Iterable[Path], *, follow_symlinks: bool = False
) -> tuple[list[Path], list[Failure]]:
    """Expand folders to their ``*.md`` fiches (sorted); report paths that do not exist.

    A symlink in a folder that leads outside it (or nowhere) is reported as a failure, not
    followed: a folder of fiches handed over (an archive unpacked, a shared drive) must not make
    the run read, and put into the graph, files elsewhere on the machine. ``follow_symlinks``
    follows them all. A symlink to a file inside the folder is read as that file; a path given
    explicitly (a file, or the folder itself) is followed: the user chose it."""
    files: list[Path] = []
    missing: list[Failure] = []
    for path in paths:
        if path.is_dir():
            with os.scandir(path) as entries:  # *.md files (not README*), sorted
                found = sorted(
                    (e.name, e.is_symlink())
                    for e in entries
                    if e.name.endswith(".md")
                    and not e.name.upper().startswith("README")
                    and (e.is_file() or e.is_symlink())
                )
            root = os.path.realpath(path)
            for name, link in found:
                if link:
                    refused = _refused_link(path / name, root, follow_symlinks)
                    if refused is not None:
                        missing.append(refused)
                        continue
                    if not (path / name).is_file():  # a link to a folder
                        continue
                files.append(path / name)
        elif path.is_file():
            files.append(path)
        else:
            missing.append(Failure(display_path(path), None, "no such file or folder"))
    return files, missing


def _refused_link(link: Path, root: str, follow: bool) -> Failure | None:
    """The failure reported for the symlink ``link`` of the folder whose real path is ``root``:
    it leads to nothing, or outside the folder (unless ``follow``); None when it is followed."""
    target = os.path.realpath(link)
    if not os.path.exists(target):
        with suppress(OSError):
            target = os.readlink(link)  # as written in the link
        return Failure(display_path(link), None, f"symlink to {target}, which does not exist")
    if follow or os.path.commonpath([root, target]) == root:
        return None
    return Failure(
        display_path(link),
        None,
        f"symlink to {display_path(Path(target))}, outside the folder {display_path(link.parent)}: "
        "not followed (ingest --follow-symlinks follows it)",
    )


def survey_fiches(
    files: Iterable[Path],
    *,
    on_file: Callable[[], None] | None = None,
    on_record: Callable[[Path, bytes, MetierRecord | None], None] | None = None,
) -> tuple[MetierSurvey, dict[str, list[str]]]:
    """Read every fiche once before any output is written.

    Returns what the referentials are linked against (names, cited FOR ids and ROME codes) and,
    per MET id, the fiches that claim it. Only fiches that parse count: an unreadable file that
    happens to carry a good fiche's ``**ID:**`` line fails on its own and must not knock the good
    fiche out. ``on_file`` is called after each file; ``on_record`` with each file read, its
    bytes and its record (None when it does not parse).
    """
    from .referential_graphs import MetierSurvey

    survey = MetierSurvey()
    claims: dict[str, list[str]] = {}
    for path in files:
        if on_file is not None:
            on_file()
        source = display_path(path)
        try:
            data = read_fiche(path, source)
        except (OSError, InputError):
            continue
        try:
            record = parse_metier(data, source)
        except InputError:
            if on_record is not None:
                on_record(path, data, None)
            continue
        if on_record is not None:
            on_record(path, data, record)
        claims.setdefault(record.metier_id, []).append(source)
        survey.index.add(record)
        survey.formations[record.metier_id] = [ref.formation_id for ref in record.formations]
        survey.rome[record.metier_id] = [item.text for item in record.rome_codes]
        survey.citations[record.metier_id] = (
            source,
            [(ref.formation_id, ref.label, ref.line) for ref in record.formations],
        )
    return survey, claims


def default_validator(
    shapes: Path | Sequence[Path] | Graph | None = None, *, reference: bool = False
) -> Validator | FastValidator:
    """The native SHACL engine (same findings as pyshacl, tested on the whole corpus), or pyshacl
    itself with ``reference`` or when the shapes use a feature the native engine lacks."""
    from .shacl_fast import FastValidator
    from .validate import Validator

    if not reference:
        try:
            return FastValidator(shapes)
        except UnsupportedShapesError:
            pass
    return Validator(shapes)


def default_inputs() -> list[Path]:
    return [resources.metier_fiches_dir()]


class Pipeline:
    """Parse, map and validate, with referentials and shapes loaded once per process.

    Everything is loaded on first use: a re-run that finds nothing changed loads nothing.
    ``pyshacl`` validates with pyshacl itself instead of the native engine.
    """

    def __init__(
        self,
        *,
        referentials: Referentials | None = None,
        validator: Validator | FastValidator | None = None,
        mapper: Mapper | None = None,
        pyshacl: bool = False,
    ) -> None:
        self._referentials = referentials
        self._mapper = mapper
        self._validator = validator
        self._sources: ReferentialSources | None = None
        self._pyshacl = pyshacl

    @property
    def loaded(self) -> bool:
        """Whether the mapper's referentials are loaded (given, cached or read)."""
        return self._mapper is not None or self._referentials is not None

    def use_referentials(self, referentials: Referentials) -> None:
        """What the mapper needs, from elsewhere (an earlier run's cache) if not loaded yet."""
        if not self.loaded:
            self._referentials = referentials

    @property
    def sources(self) -> ReferentialSources:
        from .referential_graphs import ReferentialSources

        if self._sources is None:
            if self.loaded:
                mapper = self.mapper
                self._sources = ReferentialSources(mapper.refs.rome_v3_labels, ids=mapper.ids)
            else:
                labels = (self._referentials or load_referentials(formations={})).rome_v3_labels
                self._sources = ReferentialSources(labels)
        return self._sources

    @property
    def mapper(self) -> Mapper:
        from .mapper import Mapper

        if self._mapper is None:
            if self._referentials is None:
                self._referentials = load_referentials(formations=self.sources.catalog.summaries())
            self._mapper = Mapper(self._referentials)
        return self._mapper

    @property
    def validator(self) -> Validator | FastValidator:
        if self._validator is None:
            self._validator = default_validator(reference=self._pyshacl)
        return self._validator

    def load(self) -> None:
        """Load the referentials, the mapper and the shapes now rather than on first use."""
        _loaded = (self.mapper, self.validator, self.sources.catalog)

    def process(self, data: bytes, source: str) -> tuple[FicheOutcome, list[Triple] | None]:
        outcome = FicheOutcome(source)
        try:
            record = parse_metier(data, source)
        except InputError as exc:
            outcome.failure = Failure(exc.source, exc.line, exc.message)
            return outcome, None
        outcome.metier_id, outcome.id_line = record.metier_id, record.id_line
        fiche = self.mapper.map_metier(record)
        outcome.triples = len(fiche.data)
        outcome.findings = [
            Finding(Severity.WARNING, PARSER_SHAPE, f"{i.message}: {i.text[:80]!r}", source, i.line)
            for i in record.issues
        ]
        outcome.findings.extend(self.validator.validate(fiche.data, fiche.source_map))
        return outcome, list(fiche.data)


def ingest(
    paths: Sequence[Path] | None,
    out_dir: Path,
    *,
    pipeline: Pipeline | None = None,
    with_referentials: bool = True,
    on_fiche: Callable[[FicheOutcome], None] | None = None,
    progress: Progress | None = None,
    incremental: bool = True,
    parallel: bool = True,
    on_trig: Callable[[bytes], None] | None = None,
    before_commit: Callable[[IngestReport, Callable[[str], GraphInput]], None] | None = None,
    follow_symlinks: bool = False,
) -> IngestReport:
    """Ingest fiches (files or folders; the shipped corpus by default) and write ``out_dir``.

    Writes ``metiers/<MET id>.ttl`` and ``.jsonld`` per fiche; the whole graph (the fiches and,
    unless ``with_referentials`` is false, the linked referentials) as ``onisep-kg.ttl`` and
    ``onisep-kg.jsonld``, and as ``onisep-kg.trig`` with one named graph per source file; and
    ``report.json`` (findings, failures, link statistics). The whole-graph files hold one named
    graph after another: the fiches' in the order of their files, then the referentials'.

    With ``incremental`` (the default), what an earlier run into ``out_dir`` left and that its
    inputs did not change is reused (see :mod:`pipeline.build`); the outputs are the same bytes as
    a run from scratch. With ``parallel`` (the default), the referentials are built in a forked
    process while this one does the fiches. ``on_trig`` is given the TriG file's content in two
    documents as it is written (the fiches' graphs once they are done, then the referentials'),
    e.g. to load a store meanwhile (:meth:`pipeline.store.EmbeddedStore.fresh_load`); if the run
    fails, what it was given is not committed. ``before_commit(report, graph)`` is called once
    every graph is written, while the files are synced and before they are renamed into place
    (``report.manifest`` holds the new graphs, ``graph(iri)`` gives one as a
    :class:`~pipeline.store.GraphInput`), e.g. to load a store meanwhile
    (:func:`load_into_store`); if it fails, so does the run. ``progress`` shows the run's stages
    on a terminal; ``report.stages`` times them (not in ``report.json``, which stays
    byte-identical from one run to the next). ``follow_symlinks``: see :func:`collect_fiches`.
    """
    pipeline = pipeline or Pipeline()
    bar = progress or Progress(enabled=False)
    files, missing = collect_fiches(paths or default_inputs(), follow_symlinks=follow_symlinks)
    sources = _display_paths(files)
    report = IngestReport([FicheOutcome(f.source, failure=f) for f in missing])
    folder = OutputFolder(out_dir)  # locked until the run ends; a dead run's leftovers handled
    try:
        return _ingest(
            files,
            sources,
            report,
            out_dir,
            folder,
            pipeline,
            bar,
            with_referentials=with_referentials,
            on_fiche=on_fiche,
            incremental=incremental,
            parallel=parallel,
            on_trig=on_trig,
            before_commit=before_commit,
        )
    finally:
        folder.close()


def _ingest(
    files: list[Path],
    sources: list[str],
    report: IngestReport,
    out_dir: Path,
    folder: OutputFolder,
    pipeline: Pipeline,
    bar: Progress,
    *,
    with_referentials: bool,
    on_fiche: Callable[[FicheOutcome], None] | None,
    incremental: bool,
    parallel: bool,
    on_trig: Callable[[bytes], None] | None,
    before_commit: Callable[[IngestReport, Callable[[str], GraphInput]], None] | None,
) -> IngestReport:
    """:func:`ingest`, the output folder held."""
    listings = list_trees(environment_trees())  # (while the manifest is read)
    with gc_paused():  # (tens of thousands of objects, no cycle)
        previous = Manifest.load(out_dir) if incremental else None
    hashes = FileHashes(previous.files if previous is not None else None, listings())
    env = environment_key(hashes, {"referentials": with_referentials, "pyshacl": pipeline._pyshacl})
    if previous is not None and previous.environment != env:
        previous = None  # a new version, new shapes or referentials: nothing is reused
    cached_referentials = False
    if not pipeline.loaded and incremental:
        cached = load_referentials_cache(out_dir, env)
        if cached is not None:
            pipeline.use_referentials(_referentials_from_json(cached))
            cached_referentials = True
    bar.stage("reading fiches", len(files))
    with report.stage("survey", len(files), "fiches"), gc_paused():
        entries, all_claims, surveyed = _survey(files, sources, previous, bar)
    # Two files claiming one MET id: neither is ingested, and the earlier output stays as it was.
    claims = {i: srcs for i, srcs in all_claims.items() if len(srcs) > 1}
    manifest = Manifest(environment=env)
    # Digests are kept once a store was loaded from these outputs (see Manifest.graph_inputs).
    whole = WholeGraph(
        out_dir, WHOLE_GRAPH_NAME, previous, digests=previous is not None and previous.has_digests
    )
    renderer = GraphRenderer()
    # (a per-fiche file a dead or failed run may have replaced is not taken as the previous one)
    present = _files_in(out_dir / "metiers") - folder.unsettled if previous is not None else set()
    job: _ReferentialsJob | None = None
    report_text: str | None = None
    manifest_text: str | None = None
    try:
        reuse, key = None, ""
        if with_referentials:
            key = fingerprint(e[F_SURVEY] for e in entries.values() if e[F_SURVEY] is not None)
            reuse = _reusable_referentials(previous, key, whole, entries)
            if reuse is None:
                bar.stage("loading the referentials and shapes")
                pipeline.load()  # once, before the fork: both processes share it
                whole.flush()
                survey = _metier_survey(files, sources, entries, surveyed)
                job = _ReferentialsJob(pipeline, survey, parallel=parallel)
                if job._future is not None:  # forked: the other process has its own copy
                    _release(survey)
                del survey
        surveyed.clear()
        bar.stage("fiches", len(files))
        with report.stage("fiches", len(files), "fiches"):
            for path, source in zip(files, sources, strict=True):
                _ingest_fiche(
                    path,
                    source,
                    entries.get(source),
                    pipeline,
                    claims,
                    out_dir,
                    report,
                    whole,
                    manifest,
                    previous,
                    renderer,
                    present,
                    folder,
                )
                if on_fiche is not None:
                    on_fiche(report.outcomes[-1])
                bar.advance()
        trig = whole.docs["trig"]
        mark = trig.position
        if on_trig is not None and whole.graphs:
            on_trig(trig.written())
        if with_referentials:
            bar.stage("building the referentials")
            with report.stage("referentials", len(files), "fiches"):
                _add_referentials(report, key, reuse, job, whole, manifest)
            if on_trig is not None and trig.position > mark:
                on_trig(turtle_head() + trig.written(mark))
        if whole.graphs:
            bar.stage("writing the whole graph")
            with report.stage("write", 0, "triples"):
                whole.prepare_commit()
                report.graph_triples = whole.distinct_triples
                manifest.graphs, manifest.triples, manifest.files = (
                    whole.graphs,
                    report.graph_triples,
                    hashes.seen,
                )
                report.manifest = manifest
                # while the files are synced: the store's load, the report and manifest encoded
                if before_commit is not None:
                    before_commit(report, whole.graph_input)
                report_text = json.dumps(report.to_json(), ensure_ascii=False, indent=1) + "\n"
                with gc_paused():
                    manifest_text = manifest.encode()
                manifest.outputs = whole.commit()
                report.outputs.extend(whole.targets())
            report.stages[-1] = replace(report.stages[-1], items=report.graph_triples)
        else:
            whole.abort()
    except BaseException:
        whole.abort()
        raise
    finally:
        if job is not None:
            job.close()
    bar.close()
    target = out_dir / "report.json"
    if report_text is None:
        report_text = json.dumps(report.to_json(), ensure_ascii=False, indent=1) + "\n"
    # Not synced on its own: the manifest, written (and synced) next, is; and a run rewrites it.
    atomic_write(target, report_text.encode(), durable=False)
    report.outputs.append(target)
    if manifest_text is not None:
        manifest.save(out_dir, manifest_text)  # last: what it describes is in place
        folder.settled()
    else:
        report.manifest = None
    if pipeline.loaded and not cached_referentials:
        save_referentials_cache(out_dir, env, _referentials_to_json(pipeline.mapper.refs))
    return report


def load_into_store(
    report: IngestReport,
    out_dir: Path,
    store: Store,
    graph: Callable[[str], GraphInput] | None = None,
) -> LoadReport:
    """What the run ``report`` wrote in ``out_dir``, into ``store`` (which holds graphs already).

    When the run's manifest knows every graph's digest and sources, the store is given them
    (:meth:`~pipeline.store.EmbeddedStore.load_known`): it reads nothing of the graphs it holds
    already, and only the blocks of the others (``graph(iri)`` gives one, by default from the
    TriG file in ``out_dir``; :func:`ingest`'s ``before_commit`` gives one from the file being
    written). Else, and only then, the TriG file in ``out_dir`` is loaded
    (:func:`~pipeline.store.load_ingest_output`) and the digests are remembered for the next
    run (:func:`remember_digests`); that needs the run committed."""
    from .store import TRIG_NAME, EmbeddedStore, load_ingest_output

    manifest = report.manifest
    trig = out_dir / TRIG_NAME
    if manifest is not None and manifest.has_digests:
        make = graph or (lambda iri: manifest.graph_input(trig, iri))
        if isinstance(store, EmbeddedStore):
            return store.load_known(manifest.known_graphs(), make)
        return store.load([make(iri) for iri, _digest, _sources in manifest.known_graphs()])
    loaded = load_ingest_output(out_dir, store)
    remember_digests(report, out_dir, store)
    return loaded


def remember_digests(report: IngestReport, out_dir: Path, store: Store) -> None:
    """Once ``store`` has loaded what the run wrote: keep each graph's digest and sources (the
    store's records of them) in the run's manifest, which is written again if it lacked some.
    The next runs keep them (a copied graph keeps its own, a rendered one gets its new one), so
    that their loads read nothing of the graphs the store holds already."""
    from .store import EmbeddedStore, sources_key

    manifest = report.manifest
    if manifest is None or manifest.has_digests:
        return
    records = store.known_records() if isinstance(store, EmbeddedStore) else store.records()
    graphs = manifest.graphs
    for i in graphs.in_trig():
        known = records.get(graphs.iris[i])
        if known is not None:
            graphs.set_known(known.iri, known.digest, sources_key(known.sources))
    if manifest.has_digests:
        manifest.save(out_dir)


def _display_paths(files: Sequence[Path]) -> list[str]:
    """:func:`display_path` of each file, the folder's worked out once per folder."""
    folders: dict[Path, str | None] = {}
    shown: list[str] = []
    for path in files:
        if not path.is_absolute():
            shown.append(str(path))
            continue
        parent = path.parent
        if parent not in folders:
            try:
                folders[parent] = os.path.relpath(parent)
            except ValueError:
                folders[parent] = None
        folder = folders[parent]
        if folder is None:
            shown.append(str(path))
        else:
            shown.append(path.name if folder == "." else f"{folder}{os.sep}{path.name}")
    return shown


def _survey(
    files: Sequence[Path], sources: Sequence[str], previous: Manifest | None, bar: Progress
) -> tuple[dict[str, list[Any]], dict[str, list[str]], dict[str, list[Any]]]:
    """Each fiche's manifest entry so far (size, modification time, content hash, MET id,
    survey digest), per MET id the fiches that claim it, and the survey entries of the fiches
    read (see :func:`_survey_entry`). As in :func:`survey_fiches`, only fiches that parse claim
    an id or enter the survey.

    A fiche the previous run saw with the same size and modification time is not read again:
    its hash, id and survey digest come from the manifest (unless it was modified so close to
    that run's start that its time was not recorded: :func:`pipeline.build.trusted_mtime`)."""
    started_ns = time.time_ns()
    entries: dict[str, list[Any]] = {}
    claims: dict[str, list[str]] = {}
    surveyed: dict[str, list[Any]] = {}
    known = previous.fiches if previous is not None else {}
    for path, source in zip(files, sources, strict=True):
        bar.advance()
        try:
            st = os.stat(path)
        except OSError:
            continue
        cached = known.get(source)
        mtime = trusted_mtime(st.st_mtime_ns, started_ns)
        if cached is not None and cached[F_SIZE] == st.st_size and cached[F_MTIME] == st.st_mtime_ns:
            entry = [st.st_size, mtime, cached[F_SHA], cached[F_ID], cached[F_SURVEY], None, None]
        else:
            try:
                data = read_fiche(path, source)
            except (OSError, InputError):  # (reported when the fiche is done)
                continue
            entry = [st.st_size, mtime, hashlib.sha256(data).hexdigest(), None, None, None, None]
            if cached is not None and cached[F_SHA] == entry[F_SHA]:  # touched, not changed
                entry[F_ID], entry[F_SURVEY] = cached[F_ID], cached[F_SURVEY]
            else:
                full = _survey_entry(data, source)
                if full is not None:
                    surveyed[source] = full
                    entry[F_ID], entry[F_SURVEY] = full[0], _survey_digest(full)
        entries[source] = entry
        if entry[F_ID] is not None:
            claims.setdefault(entry[F_ID], []).append(source)
    return entries, claims, surveyed


def _release(survey: MetierSurvey) -> None:
    """Empty a survey this process needs no more (at 100x the corpus, hundreds of MB)."""
    from .linking import MetierIndex

    survey.index = MetierIndex()
    survey.formations.clear()
    survey.rome.clear()
    survey.citations.clear()


def _survey_entry(data: bytes, source: str) -> list[Any] | None:
    """What the referentials are linked against in a fiche: its MET id, title, names, cited FOR
    ids and ROME codes, and the label and line of each FOR id cited; None when it does not parse."""
    try:
        record = parse_metier(data, source)
    except InputError:
        return None
    return [
        record.metier_id,
        record.title.text,
        metier_names(record),
        [ref.formation_id for ref in record.formations],
        [item.text for item in record.rome_codes],
        [[ref.label, ref.line] for ref in record.formations],
    ]


def _survey_digest(entry: list[Any]) -> str:
    """The entry without its lines: moving a fiche's lines does not rebuild the referentials
    (the link entries that name lines are rebuilt when their fiches change: see
    :func:`_reusable_referentials`)."""
    *names, labels = entry
    data = [*names, [label for label, _line in labels]]
    return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode()).hexdigest()[:32]


def _metier_survey(
    files: Sequence[Path],
    sources: Sequence[str],
    entries: dict[str, list[Any]],
    surveyed: dict[str, list[Any]],
) -> MetierSurvey:
    """What the referentials are linked against, in the files' order: the survey entries of the
    fiches read by the survey, the others read again (the manifest keeps their digests only)."""
    from .referential_graphs import MetierSurvey

    survey = MetierSurvey()
    for path, source in zip(files, sources, strict=True):
        entry = entries.get(source)
        if entry is None or entry[F_SURVEY] is None:
            continue
        full = surveyed.get(source)
        if full is None:
            try:
                full = _survey_entry(read_fiche(path, source), source)
            except (OSError, InputError):
                full = None
            if full is None:
                continue
        metier_id, title, names, formations, rome, labels = full
        survey.index.add_names(metier_id, title, names)
        survey.formations[metier_id] = formations
        survey.rome[metier_id] = rome
        survey.citations[metier_id] = (
            source,
            # (one string per distinct label: at 100x the corpus, each is cited thousands of times)
            [(f, sys.intern(label), line) for f, (label, line) in zip(formations, labels, strict=True)],
        )
    return survey


def _outcome_to_json(outcome: FicheOutcome) -> list[Any]:
    failure = outcome.failure
    return [
        outcome.metier_id,
        outcome.id_line,
        outcome.triples,
        None if failure is None else [failure.source, failure.line, failure.message],
        [_finding_to_json(f) for f in outcome.findings],
    ]


def _outcome_from_json(source: str, data: list[Any]) -> FicheOutcome:
    metier_id, id_line, triples, failure, findings = data
    return FicheOutcome(
        source,
        metier_id=metier_id,
        id_line=id_line,
        triples=triples,
        findings=[_finding_from_json(f) for f in findings],
        failure=None if failure is None else Failure(*failure),
    )


def _finding_to_json(f: Finding) -> list[Any]:
    return [int(f.severity), f.shape, f.message, f.source, f.line, f.focus, f.path, f.value]


def _finding_from_json(data: list[Any]) -> Finding:
    severity, *rest = data
    return Finding(Severity(severity), *rest)


def _referentials_to_json(refs: Referentials) -> dict[str, Any]:
    return {
        "rome_v3_labels": refs.rome_v3_labels,
        "formations": {k: [v.name, v.level] for k, v in refs.formations.items()},
    }


def _referentials_from_json(data: dict[str, Any]) -> Referentials:
    return Referentials(
        rome_v3_labels=dict(data["rome_v3_labels"]),
        formations={k: FormationSummary(name, level) for k, (name, level) in data["formations"].items()},
    )


def _links_from_json(data: list[dict[str, Any]]) -> LinkReport:
    links = LinkReport()
    for item in data:
        stats = links.stats(item["link"], item["description"])
        stats.ok(item["resolved"])
        for miss in item["unresolved"]:
            stats.unresolved[(miss["reference"], miss["reason"])] += miss["count"]
    return links


def _ingest_fiche(
    path: Path,
    source: str,
    entry: list[Any] | None,
    pipeline: Pipeline,
    claims: dict[str, list[str]],
    out_dir: Path,
    report: IngestReport,
    whole: WholeGraph,
    manifest: Manifest,
    previous: Manifest | None,
    renderer: GraphRenderer,
    present: set[str],
    folder: OutputFolder,
) -> None:
    """One fiche: parsed, mapped, validated and written (or, unchanged since the previous run,
    taken from it); its outcome appended to the report. ``entry`` is its manifest entry as the
    survey left it (None when the survey could not read the file); ``present``, the names of the
    per-fiche files the output folder holds (and that no run left unsettled: see
    :class:`~pipeline.build.OutputFolder`)."""
    cached = previous.fiches.get(source) if previous is not None else None
    outcome: FicheOutcome | None = None
    outcome_json: list[Any] | None = None
    chunks: GraphChunks | None = None
    graph: str | None = None
    if cached is not None and entry is not None and cached[F_SHA] == entry[F_SHA]:
        graph = cached[F_GRAPH]
        if graph is None or whole.can_copy(graph):
            outcome_json = cached[F_OUTCOME]
            outcome = _outcome_from_json(source, outcome_json)
            report.reused_fiches += 1
    if outcome is None:
        graph = None
        try:
            data = read_fiche(path, source)
        except OSError as exc:
            report.outcomes.append(
                FicheOutcome(source, failure=Failure(source, None, f"cannot read: {exc.strerror}"))
            )
            return
        except InputError as exc:  # too large to be a fiche: not read
            report.outcomes.append(FicheOutcome(source, failure=Failure(exc.source, exc.line, exc.message)))
            return
        outcome, triples = pipeline.process(data, source)
        if triples is not None and outcome.metier_id is not None:
            graph = str(pipeline.mapper.ids.graph("metier", outcome.metier_id))
            chunks = renderer.render(graph, triples)
    if entry is not None:
        entry[F_OUTCOME] = outcome_json if outcome_json is not None else _outcome_to_json(outcome)
        entry[F_GRAPH] = graph
        manifest.fiches[source] = entry
    report.outcomes.append(outcome)
    if outcome.metier_id in claims:
        others = ", ".join(s for s in claims[outcome.metier_id] if s != source)
        outcome.failure = Failure(
            source,
            outcome.id_line,
            f"{outcome.metier_id} is also the id of {others}; expected one file per MET id "
            "(neither is ingested)",
        )
        outcome.findings = []
        if entry is not None and chunks is not None:
            entry[F_GRAPH] = None
        return
    if graph is None or outcome.metier_id is None:
        return
    names = [f"{outcome.metier_id}{suffix}" for suffix in (".ttl", ".jsonld")]
    if chunks is not None:
        whole.add(graph, chunks)
        documents = [chunks.turtle_document(), chunks.jsonld_document()]
    else:
        whole.copy(graph)
        if names[0] in present and names[1] in present:
            return
        documents = [  # a per-fiche file went missing: written again from the previous whole graph
            turtle_head() + whole.previous_chunk(graph, "ttl"),
            jsonld_head() + whole.previous_chunk(graph, "jsonld") + jsonld_tail(),
        ]
    folder.writing(names)  # before they are replaced: see OutputFolder
    for name, document in zip(names, documents, strict=True):
        target = out_dir / "metiers" / name
        atomic_write(target, document, durable=False)
        report.outputs.append(target)


def _files_in(folder: Path) -> set[str]:
    """The names of the files in ``folder`` (none when it does not exist)."""
    try:
        with os.scandir(folder) as entries:
            return {e.name for e in entries if e.is_file()}
    except OSError:
        return set()


def link_metiers(*args: Any, **kwargs: Any) -> Any:
    """:func:`pipeline.referential_graphs.link_metiers` (imported when first needed)."""
    from .referential_graphs import link_metiers as link

    return link(*args, **kwargs)


@dataclass(slots=True)
class _BuiltReferentials:
    """The referential graphs of a run, rendered, with what building them found."""

    graphs: list[tuple[str, GraphChunks]]
    findings: list[Finding]
    failures: list[Failure]
    links: list[dict[str, Any]]
    label_sources: list[str]  # the fiches (and lines) named by the formation-label link entries


def _reusable_referentials(
    previous: Manifest | None, key: str, whole: WholeGraph, entries: dict[str, list[Any]]
) -> dict[str, Any] | None:
    """The previous run's referentials, when nothing they are built from changed: the referential
    files (part of the environment key) and what the fiches say that they are linked against;
    and the fiches whose lines their formation-label entries name are the same bytes."""
    old = previous.referentials if previous is not None else None
    if old is None or old["key"] != key or not all(whole.can_copy(g) for g in old["graphs"]):
        return None
    assert previous is not None
    for source in old.get("label_sources", ()):
        before, now = previous.fiches.get(source), entries.get(source)
        if before is None or now is None or before[F_SHA] != now[F_SHA]:
            return None
    return old


def _build_referentials(pipeline: Pipeline, survey: MetierSurvey) -> _BuiltReferentials:
    """Link, build, validate and render the referential graphs."""
    links = LinkReport()
    sources = pipeline.sources
    named = link_metiers(survey, links, catalog=sources.catalog, rome_v3_labels=sources.rome_v3_labels)
    built = sources.build(survey, links)
    renderer = GraphRenderer()
    graphs: list[tuple[str, GraphChunks]] = []
    findings: list[Finding] = []
    for fiches in built.by_kind.values():
        findings.extend(pipeline.validator.validate_many(fiches))
        for fiche in fiches:
            iri = str(fiche.graph_iri)
            graphs.append((iri, renderer.render(iri, fiche.data)))
    failures = [Failure(e.source, e.line, e.message) for e in built.failures]
    return _BuiltReferentials(graphs, findings, failures, links.to_json(), sorted(named))


# What the forked worker builds the referentials from (a fork inherits it: nothing is pickled).
_FORKED_JOB: tuple[Pipeline, MetierSurvey] | None = None


def _forked_referentials() -> _BuiltReferentials:
    assert _FORKED_JOB is not None
    return _build_referentials(*_FORKED_JOB)


class _ReferentialsJob:
    """The referentials built beside the fiches: in a forked process where the platform forks
    (two cores do both at once), else in this process when they are asked for."""

    def __init__(self, pipeline: Pipeline, survey: MetierSurvey, *, parallel: bool) -> None:
        global _FORKED_JOB
        self._inline = (pipeline, survey)
        import multiprocessing  # (here: ~15 ms of imports a re-run that reuses the referentials skips)
        from concurrent.futures import ProcessPoolExecutor

        self._future: Future[_BuiltReferentials] | None = None
        self._pool: ProcessPoolExecutor | None = None
        if parallel and sys.platform == "linux" and "fork" in multiprocessing.get_all_start_methods():
            _FORKED_JOB = (pipeline, survey)
            try:
                self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
                self._future = self._pool.submit(_forked_referentials)
            finally:
                _FORKED_JOB = None

    def result(self) -> _BuiltReferentials:
        if self._future is None:
            return _build_referentials(*self._inline)
        try:
            return self._future.result()
        finally:
            self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _add_referentials(
    report: IngestReport,
    key: str,
    reuse: dict[str, Any] | None,
    job: _ReferentialsJob | None,
    whole: WholeGraph,
    manifest: Manifest,
) -> None:
    """Add the referential graphs (reused, or built by ``job``) and their findings and links."""
    if reuse is not None:
        for g in reuse["graphs"]:
            whole.copy(g)
        report.links = _links_from_json(reuse["links"])
        report.referential_findings.extend(_finding_from_json(f) for f in reuse["findings"])
        report.referential_failures.extend(Failure(*f) for f in reuse["failures"])
        report.referential_graphs = reuse["count"]
        report.reused_referentials = True
        manifest.referentials = reuse
        return
    assert job is not None
    built = job.result()
    for iri, chunks in built.graphs:
        whole.add(iri, chunks)
    report.links = _links_from_json(built.links)
    report.referential_findings.extend(built.findings)
    report.referential_failures.extend(built.failures)
    report.referential_graphs = len(built.graphs)
    manifest.referentials = {
        "key": key,
        "graphs": [iri for iri, _chunks in built.graphs],
        "count": len(built.graphs),
        "links": built.links,
        "findings": [_finding_to_json(f) for f in built.findings],
        "failures": [[f.source, f.line, f.message] for f in built.failures],
        "label_sources": built.label_sources,
    }
