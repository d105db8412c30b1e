"""The ingest run: files → records → graphs → findings → Turtle and JSON-LD on disk.

This is the edge where files are read and written. A fiche that cannot be read is reported (file,
line, what was expected) and skipped; the others are still mapped, validated and written. Every
output is written atomically, so an interrupted run leaves the previous files whole.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdflib import Graph

from . import __version__, resources
from .errors import InputError, UnsupportedShapesError
from .linking import LinkReport
from .mapper import Mapper
from .parse import parse_metier
from .progress import Progress
from .referential_graphs import MetierSurvey, ReferentialSources, link_metiers
from .referentials import Referentials, load_referentials
from .serialize import Triple, atomic_write, to_jsonld, to_trig, to_turtle
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
    files: Iterable[Path], *, on_file: Callable[[], None] | None = None
) -> tuple[MetierSurvey, dict[str, list[str]]]:
    """Read every fiche once before any output is written.

    Returns what the referentials are linked against (names, cited FOR ids and ROME codes) and,
    per MET id, the fiches that claim it. Only fiches that parse count: an unreadable file that
    happens to carry a good fiche's ``**ID:**`` line fails on its own and must not knock the good
    fiche out. ``on_file`` is called after each file.
    """
    survey = MetierSurvey()
    claims: dict[str, list[str]] = {}
    for path in files:
        if on_file is not None:
            on_file()
        source = display_path(path)
        try:
            record = parse_metier(path.read_bytes(), source)
        except (OSError, InputError):
            continue
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
    """Parse, map and validate, with referentials and shapes loaded once per process."""

    def __init__(
        self,
        *,
        referentials: Referentials | None = None,
        validator: Validator | FastValidator | None = None,
        mapper: Mapper | None = None,
    ) -> None:
        sources: ReferentialSources | None = None
        if mapper is None:
            if referentials is None:
                sources = ReferentialSources(load_referentials(formations={}).rome_v3_labels)
                referentials = load_referentials(formations=sources.catalog.summaries())
            mapper = Mapper(referentials)
        self.mapper = mapper
        self.sources = sources or ReferentialSources(mapper.refs.rome_v3_labels, ids=mapper.ids)
        self.validator = validator or default_validator()

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
) -> IngestReport:
    """Ingest fiches (files or folders; the shipped corpus by default) and write ``out_dir``.

    Writes ``metiers/<MET id>.ttl`` and ``.jsonld`` per fiche; the whole graph (the fiches and,
    unless ``with_referentials`` is false, the linked referentials) as ``onisep-kg.ttl`` and
    ``onisep-kg.jsonld``, and as ``onisep-kg.trig`` with one named graph per source file; and
    ``report.json`` (findings, failures, link statistics). ``progress`` shows the run's stages
    on a terminal; ``report.stages`` times them (not in ``report.json``, which stays byte-identical
    from one run to the next).
    """
    pipeline = pipeline or Pipeline()
    bar = progress or Progress(enabled=False)
    files, missing = collect_fiches(paths or default_inputs())
    report = IngestReport([FicheOutcome(f.source, failure=f) for f in missing])
    bar.stage("reading fiches", len(files))
    with report.stage("survey", len(files), "fiches"):
        survey, all_claims = survey_fiches(files, on_file=bar.advance)
    # Two files claiming one MET id: neither is ingested, and the earlier output stays as it was.
    claims = {i: srcs for i, srcs in all_claims.items() if len(srcs) > 1}
    whole: set[Triple] = set()
    quads: list[tuple[str, list[Triple]]] = []
    fiche_dir = out_dir / "metiers"
    bar.stage("fiches", len(files))
    with report.stage("fiches", len(files), "fiches"):
        for path in files:
            _ingest_fiche(path, pipeline, claims, fiche_dir, report, whole, quads)
            if on_fiche is not None:
                on_fiche(report.outcomes[-1])
            bar.advance()
    if with_referentials:
        with report.stage("referentials", len(files), "fiches"):
            _add_referentials(report, pipeline, survey, whole, quads, bar)
    report.graph_triples = len(whole)
    if whole:
        bar.stage("writing the whole graph", 3)  # Turtle, JSON-LD, TriG
        with report.stage("write", len(whole), "triples"):
            for suffix, render in (
                (".ttl", lambda: to_turtle(whole)),
                (".jsonld", lambda: to_jsonld(whole)),
                (".trig", lambda: to_trig(quads)),
            ):
                target = out_dir / f"{WHOLE_GRAPH_NAME}{suffix}"
                atomic_write(target, render())
                report.outputs.append(target)
                bar.advance()
    bar.close()
    target = out_dir / "report.json"
    atomic_write(target, (json.dumps(report.to_json(), ensure_ascii=False, indent=1) + "\n").encode())
    report.outputs.append(target)
    return report


def _ingest_fiche(
    path: Path,
    pipeline: Pipeline,
    claims: dict[str, list[str]],
    fiche_dir: Path,
    report: IngestReport,
    whole: set[Triple],
    quads: list[tuple[str, list[Triple]]],
) -> None:
    """One fiche: parsed, mapped, validated and written; its outcome appended to the report."""
    source = display_path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        report.outcomes.append(
            FicheOutcome(source, failure=Failure(source, None, f"cannot read: {exc.strerror}"))
        )
        return
    outcome, triples = pipeline.process(data, source)
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
    elif triples is not None and outcome.metier_id is not None:
        whole.update(triples)
        quads.append((str(pipeline.mapper.ids.graph("metier", outcome.metier_id)), triples))
        for suffix, writer in ((".ttl", to_turtle), (".jsonld", to_jsonld)):
            target = fiche_dir / f"{outcome.metier_id}{suffix}"
            atomic_write(target, writer(triples), durable=False)
            report.outputs.append(target)


def _add_referentials(
    report: IngestReport,
    pipeline: Pipeline,
    survey: MetierSurvey,
    whole: set[Triple],
    quads: list[tuple[str, list[Triple]]],
    bar: Progress,
) -> None:
    """Build, validate and add the linked referential graphs; count every link type."""
    sources = pipeline.sources
    bar.stage("linking and building the referentials")
    link_metiers(survey, report.links, catalog=sources.catalog, rome_v3_labels=sources.rome_v3_labels)
    built = sources.build(survey, report.links)
    report.referential_failures.extend(Failure(e.source, e.line, e.message) for e in built.failures)
    bar.stage("validating the referentials", len(built.by_kind))
    for graphs in built.by_kind.values():
        report.referential_findings.extend(pipeline.validator.validate_many(graphs))
        bar.advance()
        for fiche in graphs:
            triples = list(fiche.data)
            whole.update(triples)
            quads.append((str(fiche.graph_iri), triples))
        report.referential_graphs += len(graphs)
