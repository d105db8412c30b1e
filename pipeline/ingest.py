"""The ingest run: files → records → graphs → findings → Turtle and JSON-LD on disk.

This is the edge where files are read and written. A fiche that cannot be read is reported (file,
line, what was expected) and skipped; the others are still mapped, validated and written. Every
output is written atomically, so an interrupted run leaves the previous files whole.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdflib import Graph

from . import __version__, resources
from .build import (
    FileHashes,
    Manifest,
    WholeGraph,
    environment_key,
    fingerprint,
    load_referentials_cache,
    save_referentials_cache,
)
from .errors import InputError, UnsupportedShapesError
from .linking import LinkReport, metier_names
from .mapper import Mapper
from .parse import parse_metier
from .progress import Progress
from .records import MetierRecord
from .referential_graphs import MetierSurvey, ReferentialSources, link_metiers
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
from .shacl_fast import FastValidator
from .validate import Finding, Severity, Validator

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


def collect_fiches(paths: Iterable[Path]) -> tuple[list[Path], list[Failure]]:
    """Expand folders to their ``*.md`` fiches (sorted); report paths that do not exist."""
    files: list[Path] = []
    missing: list[Failure] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                sorted(
                    p for p in path.glob("*.md") if p.is_file() and not p.name.upper().startswith("README")
                )
            )
        elif path.is_file():
            files.append(path)
        else:
            missing.append(Failure(display_path(path), None, "no such file or folder"))
    return files, missing


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
    survey = MetierSurvey()
    claims: dict[str, list[str]] = {}
    for path in files:
        if on_file is not None:
            on_file()
        source = display_path(path)
        try:
            data = path.read_bytes()
        except OSError:
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
    return survey, claims


def default_validator(
    shapes: Path | Sequence[Path] | Graph | None = None, *, reference: bool = False
) -> Validator | FastValidator:
    """The native SHACL engine (same findings as pyshacl, tested on the whole corpus), or pyshacl
    itself with ``reference`` or when the shapes use a feature the native engine lacks."""
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
    fails, what it was given is not committed. ``progress`` shows the run's stages on a terminal;
    ``report.stages`` times them (not in ``report.json``, which stays byte-identical from one run
    to the next).
    """
    pipeline = pipeline or Pipeline()
    bar = progress or Progress(enabled=False)
    files, missing = collect_fiches(paths or default_inputs())
    report = IngestReport([FicheOutcome(f.source, failure=f) for f in missing])
    previous = Manifest.load(out_dir) if incremental else None
    hashes = FileHashes(previous.files if previous is not None else None)
    env = environment_key(hashes, {"referentials": with_referentials, "pyshacl": pipeline._pyshacl})
    if previous is not None and previous.environment != env:
        previous = None  # a new version, new shapes or referentials: nothing is reused
    if not pipeline.loaded and incremental:
        cached = load_referentials_cache(out_dir, env)
        if cached is not None:
            pipeline.use_referentials(_referentials_from_json(cached))
    bar.stage("reading fiches", len(files))
    with report.stage("survey", len(files), "fiches"):
        survey, all_claims, scan = _survey(files, hashes, previous, bar)
    # Two files claiming one MET id: neither is ingested, and the earlier output stays as it was.
    claims = {i: srcs for i, srcs in all_claims.items() if len(srcs) > 1}
    manifest = Manifest(environment=env)
    whole = WholeGraph(out_dir, WHOLE_GRAPH_NAME, previous)
    renderer = GraphRenderer()
    job: _ReferentialsJob | None = None
    try:
        reuse, key = None, ""
        if with_referentials:
            key = fingerprint(entry.survey for entry in scan.values() if entry.survey is not None)
            reuse = _reusable_referentials(previous, key, whole)
            if reuse is None:
                bar.stage("loading the referentials and shapes")
                pipeline.load()  # once, before the fork: both processes share it
                whole.flush()
                job = _ReferentialsJob(pipeline, survey, parallel=parallel)
        bar.stage("fiches", len(files))
        with report.stage("fiches", len(files), "fiches"):
            for path in files:
                _ingest_fiche(
                    path, scan, pipeline, claims, out_dir, report, whole, manifest, previous, renderer
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
            with report.stage("write", whole.distinct_triples, "triples"):
                report.graph_triples = whole.distinct_triples
                manifest.outputs = whole.commit()
                report.outputs.extend(whole.targets())
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
    atomic_write(target, (json.dumps(report.to_json(), ensure_ascii=False, indent=1) + "\n").encode())
    report.outputs.append(target)
    manifest.graphs = whole.graphs
    manifest.triples = report.graph_triples
    manifest.files = hashes.seen
    if whole.graphs:
        manifest.save(out_dir)
    if pipeline.loaded:
        save_referentials_cache(out_dir, env, _referentials_to_json(pipeline.mapper.refs))
    return report


@dataclass(slots=True)
class _Scanned:
    """A fiche as the survey read it: its bytes' hash and what the survey took from it."""

    sha256: str | None = None
    survey: list[Any] | None = None


def _survey(
    files: Sequence[Path], hashes: FileHashes, previous: Manifest | None, bar: Progress
) -> tuple[MetierSurvey, dict[str, list[str]], dict[str, _Scanned]]:
    """:func:`survey_fiches`, and each fiche's content hash and survey entry (for the manifest).

    A fiche the previous run saw with the same size and modification time is not read again:
    its hash and survey entry come from the manifest."""
    scan: dict[str, _Scanned] = {}
    survey = MetierSurvey()
    claims: dict[str, list[str]] = {}
    unread: list[Path] = []
    for path in files:
        source = display_path(path)
        cached = previous.fiches.get(source) if previous is not None else None
        digest = hashes.unchanged(path) if cached is not None else None
        if cached is None or digest is None or digest != cached["sha256"]:
            unread.append(path)
            continue
        scan[source] = _Scanned(digest, cached.get("survey"))
        bar.advance()

    def on_record(path: Path, data: bytes, record: MetierRecord | None) -> None:
        entry = scan[display_path(path)] = _Scanned(hashes.of(path, data))
        if record is not None:
            entry.survey = [
                record.metier_id,
                record.title.text,
                metier_names(record),
                [ref.formation_id for ref in record.formations],
                [item.text for item in record.rome_codes],
            ]

    survey_fiches(unread, on_file=bar.advance, on_record=on_record)
    ordered: dict[str, _Scanned] = {}  # in the order of the files, as survey_fiches reads them
    for path in files:
        source = display_path(path)
        entry = scan.get(source)
        if entry is not None:
            ordered[source] = entry
            if entry.survey is not None:
                _add_to_survey(survey, claims, source, entry.survey)
    return survey, claims, ordered


def _add_to_survey(survey: MetierSurvey, claims: dict[str, list[str]], source: str, entry: list[Any]) -> None:
    metier_id, title, names, formations, rome = entry
    claims.setdefault(metier_id, []).append(source)
    survey.index.add_names(metier_id, title, names)
    survey.formations[metier_id] = formations
    survey.rome[metier_id] = rome


def _outcome_to_json(outcome: FicheOutcome) -> dict[str, Any]:
    failure = outcome.failure
    return {
        "metier_id": outcome.metier_id,
        "id_line": outcome.id_line,
        "triples": outcome.triples,
        "failure": None if failure is None else [failure.source, failure.line, failure.message],
        "findings": [_finding_to_json(f) for f in outcome.findings],
    }


def _outcome_from_json(source: str, data: dict[str, Any]) -> FicheOutcome:
    failure = data["failure"]
    return FicheOutcome(
        source,
        metier_id=data["metier_id"],
        id_line=data["id_line"],
        triples=data["triples"],
        findings=[_finding_from_json(f) for f in data["findings"]],
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
    scan: dict[str, _Scanned],
    pipeline: Pipeline,
    claims: dict[str, list[str]],
    out_dir: Path,
    report: IngestReport,
    whole: WholeGraph,
    manifest: Manifest,
    previous: Manifest | None,
    renderer: GraphRenderer,
) -> None:
    """One fiche: parsed, mapped, validated and written (or, unchanged since the previous run,
    taken from it); its outcome appended to the report."""
    source = display_path(path)
    scanned = scan.get(source, _Scanned())
    cached = previous.fiches.get(source) if previous is not None else None
    outcome: FicheOutcome | None = None
    chunks: GraphChunks | None = None
    graph: str | None = None
    if cached is not None and scanned.sha256 is not None and cached["sha256"] == scanned.sha256:
        graph = cached["graph"]
        if graph is None or whole.can_copy(graph):
            outcome = _outcome_from_json(source, cached["outcome"])
            report.reused_fiches += 1
    if outcome is None:
        graph = None
        try:
            data = path.read_bytes()
        except OSError as exc:
            report.outcomes.append(
                FicheOutcome(source, failure=Failure(source, None, f"cannot read: {exc.strerror}"))
            )
            return
        outcome, triples = pipeline.process(data, source)
        if triples is not None and outcome.metier_id is not None:
            graph = str(pipeline.mapper.ids.graph("metier", outcome.metier_id))
            chunks = renderer.render(graph, triples)
    if scanned.sha256 is not None:
        manifest.fiches[source] = {
            "sha256": scanned.sha256,
            "survey": scanned.survey,
            "outcome": _outcome_to_json(outcome),
            "graph": graph,
        }
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
        manifest.fiches[source]["graph"] = None if chunks is not None else graph
        return
    if graph is None or outcome.metier_id is None:
        return
    fiche_dir = out_dir / "metiers"
    targets = [fiche_dir / f"{outcome.metier_id}{suffix}" for suffix in (".ttl", ".jsonld")]
    if chunks is not None:
        whole.add(graph, chunks)
        documents = [chunks.turtle_document(), chunks.jsonld_document()]
    else:
        whole.copy(graph)
        if all(t.is_file() for t in targets):
            return
        documents = [  # a per-fiche file went missing: written again from the previous whole graph
            turtle_head() + whole.previous_chunk(graph, "ttl"),
            jsonld_head() + whole.previous_chunk(graph, "jsonld") + jsonld_tail(),
        ]
    for target, document in zip(targets, documents, strict=True):
        atomic_write(target, document, durable=False)
        report.outputs.append(target)


@dataclass(slots=True)
class _BuiltReferentials:
    """The referential graphs of a run, rendered, with what building them found."""

    graphs: list[tuple[str, GraphChunks]]
    findings: list[Finding]
    failures: list[Failure]
    links: list[dict[str, Any]]


def _reusable_referentials(previous: Manifest | None, key: str, whole: WholeGraph) -> dict[str, Any] | None:
    """The previous run's referentials, when nothing they are built from changed: the referential
    files (part of the environment key) and what the fiches say that they are linked against."""
    old = previous.referentials if previous is not None else None
    if old is not None and old["key"] == key and all(whole.can_copy(g) for g in old["graphs"]):
        return old
    return None


def _build_referentials(pipeline: Pipeline, survey: MetierSurvey) -> _BuiltReferentials:
    """Link, build, validate and render the referential graphs."""
    links = LinkReport()
    sources = pipeline.sources
    link_metiers(survey, links, catalog=sources.catalog, rome_v3_labels=sources.rome_v3_labels)
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
    return _BuiltReferentials(graphs, findings, failures, links.to_json())


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
    }
