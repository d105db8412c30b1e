"""The ingest run: files → records → graphs → findings → Turtle and JSON-LD on disk.

This is the edge where files are read and written. A fiche that cannot be read is reported (file,
line, what was expected) and skipped; the others are still mapped, validated and written. Every
output is written atomically, so an interrupted run leaves the previous files whole.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__, resources
from .errors import InputError
from .linking import LinkReport
from .mapper import Mapper
from .parse import parse_metier
from .referential_graphs import MetierSurvey, ReferentialSources, link_metiers
from .referentials import Referentials, load_referentials
from .serialize import Triple, atomic_write, to_jsonld, to_trig, to_turtle
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


def survey_fiches(files: Iterable[Path]) -> tuple[MetierSurvey, dict[str, list[str]]]:
    """Read every fiche once before any output is written.

    Returns what the referentials are linked against (names, cited FOR ids and ROME codes) and,
    per MET id, the fiches that claim it. Only fiches that parse count: an unreadable file that
    happens to carry a good fiche's ``**ID:**`` line fails on its own and must not knock the good
    fiche out.
    """
    survey = MetierSurvey()
    claims: dict[str, list[str]] = {}
    for path in files:
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


def default_inputs() -> list[Path]:
    return [resources.metier_fiches_dir()]


class Pipeline:
    """Parse, map and validate, with referentials and shapes loaded once per process."""

    def __init__(
        self,
        *,
        referentials: Referentials | None = None,
        validator: Validator | None = None,
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
        self.validator = validator or Validator()

    def process(self, data: bytes, source: str) -> tuple[FicheOutcome, list[Triple] | None]:
        outcome = FicheOutcome(source)
        try:
            record = parse_metier(data, source)
        except InputError as exc:
            outcome.failure = Failure(exc.source, exc.line, exc.message)
            return outcome, None
        outcome.metier_id, outcome.id_line = record.metier_id, record.id_line
        fiche = self.mapper.map_metier(record)
        outcome.triples = len(fiche.graph)
        outcome.findings = [
            Finding(Severity.WARNING, PARSER_SHAPE, f"{i.message}: {i.text[:80]!r}", source, i.line)
            for i in record.issues
        ]
        outcome.findings.extend(self.validator.validate(fiche.graph, fiche.source_map))
        return outcome, list(fiche.graph)


def ingest(
    paths: Sequence[Path] | None,
    out_dir: Path,
    *,
    pipeline: Pipeline | None = None,
    with_referentials: bool = True,
    on_fiche: Callable[[FicheOutcome], None] | None = None,
) -> IngestReport:
    """Ingest fiches (files or folders; the shipped corpus by default) and write ``out_dir``.

    Writes ``metiers/<MET id>.ttl`` and ``.jsonld`` per fiche; the whole graph (the fiches and,
    unless ``with_referentials`` is false, the linked referentials) as ``onisep-kg.ttl`` and
    ``onisep-kg.jsonld``, and as ``onisep-kg.trig`` with one named graph per source file; and
    ``report.json`` (findings, failures, link statistics).
    """
    pipeline = pipeline or Pipeline()
    files, missing = collect_fiches(paths or default_inputs())
    outcomes = [FicheOutcome(f.source, failure=f) for f in missing]
    report = IngestReport(outcomes)
    survey, all_claims = survey_fiches(files)
    # Two files claiming one MET id: neither is ingested, and the earlier output stays as it was.
    claims = {i: srcs for i, srcs in all_claims.items() if len(srcs) > 1}
    whole: set[Triple] = set()
    quads: list[tuple[str, list[Triple]]] = []
    fiche_dir = out_dir / "metiers"
    for path in files:
        source = display_path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            outcome = FicheOutcome(source, failure=Failure(source, None, f"cannot read: {exc.strerror}"))
        else:
            outcome, triples = pipeline.process(data, source)
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
        outcomes.append(outcome)
        if on_fiche is not None:
            on_fiche(outcome)
    if with_referentials:
        _add_referentials(report, pipeline, survey, whole, quads)
    report.graph_triples = len(whole)
    if whole:
        for suffix, data in (
            (".ttl", to_turtle(whole)),
            (".jsonld", to_jsonld(whole)),
            (".trig", to_trig(quads)),
        ):
            target = out_dir / f"{WHOLE_GRAPH_NAME}{suffix}"
            atomic_write(target, data)
            report.outputs.append(target)
    target = out_dir / "report.json"
    atomic_write(target, (json.dumps(report.to_json(), ensure_ascii=False, indent=1) + "\n").encode())
    report.outputs.append(target)
    return report


def _add_referentials(
    report: IngestReport,
    pipeline: Pipeline,
    survey: MetierSurvey,
    whole: set[Triple],
    quads: list[tuple[str, list[Triple]]],
) -> None:
    """Build, validate and add the linked referential graphs; count every link type."""
    sources = pipeline.sources
    link_metiers(survey, report.links, catalog=sources.catalog, rome_v3_labels=sources.rome_v3_labels)
    built = sources.build(survey, report.links)
    report.referential_failures.extend(Failure(e.source, e.line, e.message) for e in built.failures)
    for graphs in built.by_kind.values():
        report.referential_findings.extend(pipeline.validator.validate_many(graphs))
        for fiche in graphs:
            triples = list(fiche.graph)
            whole.update(triples)
            quads.append((str(fiche.graph_iri), triples))
        report.referential_graphs += len(graphs)
