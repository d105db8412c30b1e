"""The ``onisep-kg`` command line. The library raises; this layer prints one clear sentence."""

from __future__ import annotations

import gc
import importlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from . import __version__
from .errors import InputError, OnisepKgError
from .ingest import (
    IngestReport,
    Pipeline,
    collect_fiches,
    default_inputs,
    default_validator,
    display_path,
    ingest,
    survey_fiches,
)
from .parse import read_fiche
from .progress import Progress
from .validate import Finding, Severity

if TYPE_CHECKING:  # the rest is imported by the commands that need it: a quick start-up
    from .linking import LinkReport
    from .store import EmbeddedStore, LoadReport

EXIT_OK, EXIT_FAILED, EXIT_UNUSABLE = 0, 1, 2


def _fail(message: str, code: int = EXIT_UNUSABLE) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


class _Commands(click.Group):
    """The command group, whose store and query commands are imported only when invoked
    (they load the store and query modules)."""

    LAZY = {
        "load": ("pipeline.cli_store", "load_command"),
        "query": ("pipeline.cli_query", "query_command"),
        "serve": ("pipeline.cli_store", "serve_command"),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.LAZY})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        lazy = self.LAZY.get(cmd_name)
        if lazy is not None and cmd_name not in self.commands:
            module, name = lazy
            self.add_command(getattr(importlib.import_module(module), name), cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="onisep-kg")
def main() -> None:
    """Turn ONISEP fiches métiers into a validated RDF knowledge graph."""


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _tally(findings: list[Finding]) -> str:
    return ", ".join(
        _plural(sum(1 for f in findings if f.severity == s), name)
        for s, name in (
            (Severity.VIOLATION, "violation"),
            (Severity.WARNING, "warning"),
            (Severity.INFO, "info"),
        )
    )


def print_summary(report: IngestReport, out_dir: Path, *, show: int = 20) -> None:
    echo = click.echo
    failed = len(report.failures)
    echo(f"fiches: {len(report.outcomes)} read, {report.ingested} ingested, {failed} failed")
    echo(f"triples: {report.graph_triples} in the whole graph")
    echo(f"written: {display_path(out_dir)}/ ({len(report.outputs)} files)")
    if report.reused_fiches or report.reused_referentials:
        parts = [_plural(report.reused_fiches, "unchanged fiche")]
        if report.reused_referentials:
            parts.append("the referentials")
        echo(f"reused from the previous run: {' and '.join(parts)}")
    counts = report.counts_by_shape()
    if counts:
        echo("findings by shape:")
        width = max(len(shape) for _s, shape, _n in counts)
        for severity, shape, n in counts:
            echo(f"  {severity.label:<9}  {shape:<{width}}  {n:>6}")
        echo(f"findings: {_tally(report.findings)} (all of them in {display_path(out_dir / 'report.json')})")
    else:
        echo("findings: none")
    print_links(report.links, detail=0)
    violations = [f for f in report.findings if f.severity == Severity.VIOLATION]
    for finding in violations[:show]:
        echo(f"  {finding.format()}")
    if len(violations) > show:
        echo(f"  … and {len(violations) - show} more violations")
    if failed:
        echo("failures:")
        for failure in report.failures:
            echo(f"  {failure.format()}")
    print_stages(report)


def print_stages(report: IngestReport) -> None:
    """The time table: one row per stage (wall time, items, throughput), last in the summary."""
    if report.stages:
        click.echo(f"time: {sum(s.seconds for s in report.stages):.1f} s")
        for stage in report.stages:
            click.echo(f"  {stage.format()}")


def print_links(links: LinkReport, *, detail: int) -> None:
    """One line per link type; with ``detail`` > 0, that many unresolved references each."""
    rows = list(links)
    if not rows:
        return
    click.echo("links (resolved / total):")
    width = max(len(s.link) for s in rows)
    for stats in rows:
        missing = stats.total - stats.resolved
        tail = f"  ({missing} unresolved)" if missing else ""
        click.echo(f"  {stats.link:<{width}}  {stats.resolved:>6} / {stats.total:<6}{tail}")
        shown = sorted(stats.unresolved.items())[:detail] if detail else []
        for (reference, reason), n in shown:
            times = f" ×{n}" if n > 1 else ""
            click.echo(f"      {reference}{times}: {reason}")
        if detail and len(stats.unresolved) > detail:
            click.echo(f"      … and {len(stats.unresolved) - detail} more")


PYSHACL_OPTION = click.option(
    "--pyshacl",
    "use_pyshacl",
    is_flag=True,
    help="Validate with pyshacl itself (the reference; same findings, ~30x slower).",
)


@main.command("ingest")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("output"),
    show_default=True,
    help="Folder for the Turtle, JSON-LD and report.json.",
)
@click.option("--strict", is_flag=True, help="Also exit 1 when a SHACL violation is found.")
@click.option(
    "--fiches-only", is_flag=True, help="Skip the referentials (formations, ROME v4, ESCO, Idéo-Métiers)."
)
@click.option(
    "--store",
    "store_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Also load the result into this embedded store (as onisep-kg load does).",
)
@click.option("--quiet", is_flag=True, help="No progress line (it is only drawn on a terminal anyway).")
@PYSHACL_OPTION
@click.option(
    "--full",
    is_flag=True,
    help="Rebuild everything, ignoring what an earlier run into --out left (its manifest).",
)
@click.option(
    "--follow-symlinks",
    is_flag=True,
    help="Follow the symlinks of a PATH folder that lead outside it (by default reported, not read).",
)
def ingest_command(
    paths: tuple[Path, ...],
    out_dir: Path,
    strict: bool,
    fiches_only: bool,
    store_dir: Path | None,
    quiet: bool,
    use_pyshacl: bool,
    full: bool,
    follow_symlinks: bool,
) -> None:
    """Parse, map, validate and write fiches métiers (PATH: files or folders of *.md).

    With no PATH, ingests the corpus shipped in seeds/onisep-fiches/metiers/. Exit code: 0 when
    every fiche was ingested, 1 when at least one failed (or, with --strict, a violation was
    found), 2 when the run could not start.

    A re-run into the same --out redoes only what changed since the previous run: a fiche whose
    bytes are unchanged is neither parsed nor validated nor written again (its graph's bytes are
    copied), and a new version, shapes file or referential rebuilds everything.

    A fiche over 2 MiB is refused unread; a symlink in a PATH folder that leads outside it is
    reported and not read, unless --follow-symlinks.
    """
    # What is alive now (modules, functions: tens of thousands of objects) stays alive: the
    # cyclic collector need not walk it again at each collection the run triggers.
    gc.freeze()
    store: EmbeddedStore | None = None
    try:
        if store_dir is not None:
            from .store import EmbeddedStore

            store = EmbeddedStore(store_dir)  # opened first: a locked store fails before the run
        options: dict[str, Any] = {
            "pipeline": Pipeline(pyshacl=use_pyshacl),
            "with_referentials": not fiches_only,
            "incremental": not full,
            "follow_symlinks": follow_symlinks,
        }
        loaded: LoadReport | None = None
        with Progress(enabled=False if quiet else None) as progress:
            if store is None:
                report = ingest(list(paths) or None, out_dir, progress=progress, **options)
            else:
                from .run import ingest_and_load

                report, loaded = ingest_and_load(
                    list(paths) or None, out_dir, store, progress=progress, **options
                )
        print_summary(report, out_dir)
        if store is not None and loaded is not None:
            click.echo(f"loaded into the {store.description}:")
            click.echo(loaded.summary())
    except OnisepKgError as exc:
        _fail(str(exc))
        return
    finally:
        if store is not None:
            store.close()
        gc.unfreeze()  # (the command may run in a longer-lived process: its tests)
    failed = bool(report.failures) or (strict and report.count(Severity.VIOLATION) > 0)
    sys.exit(EXIT_FAILED if failed else EXIT_OK)


@main.command("links")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--show", default=20, show_default=True, help="Unresolved references listed per link type.")
def links_command(paths: tuple[Path, ...], show: int) -> None:
    """Count, for every link type, the references that resolve and list those that do not.

    Link types: métier → formation (FOR ids), métier → formation label (a FOR id cited under
    two labels), métier → ROME v3, formation → métier ("Métiers associés" labels), ROME v3 ↔
    v4, appellation → ESCO, métier → ESCO, Idéo-Métiers item → métier. PATH: fiches métiers or
    folders (default: the shipped corpus). Builds no graph and writes nothing. Exit code 0; 2
    when the inputs cannot be read.
    """
    try:
        files, missing = collect_fiches(list(paths) or default_inputs())
        survey, _claims = survey_fiches(files)
        from .referential_graphs import ReferentialSources, link_report
        from .referentials import load_referentials

        sources = ReferentialSources(load_referentials(formations={}).rome_v3_labels)
        links = link_report(survey, sources)
    except OnisepKgError as exc:
        _fail(str(exc))
        return
    for failure in missing:
        click.echo(f"[ERROR] [{failure.source}] {failure.message}", err=True)
    print_links(links, detail=show)
    sys.exit(EXIT_UNUSABLE if missing else EXIT_OK)


@main.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@PYSHACL_OPTION
def validate_command(files: tuple[Path, ...], use_pyshacl: bool) -> None:
    """Validate fiches métiers against the SHACL shapes and print every finding.

    Each finding is printed as [SEVERITY] [file:line] message (shape). Exit codes:
    0 no violation (warnings and infos may be printed), 1 at least one violation,
    2 an input is unusable (missing, not UTF-8, not a fiche).
    """
    try:
        pipeline = Pipeline(validator=default_validator(reference=use_pyshacl))
    except OnisepKgError as exc:
        _fail(str(exc))
        return
    findings: list[Finding] = []
    unusable = False
    for path in files:
        source = display_path(path)
        try:
            data = read_fiche(path, source)
        except OSError as exc:
            click.echo(f"[ERROR] [{source}] cannot read: {exc.strerror}")
            unusable = True
            continue
        except InputError as exc:  # over the size of a fiche: not read
            click.echo(f"[ERROR] [{source}] {exc.message}")
            unusable = True
            continue
        outcome, _ = pipeline.process(data, source)
        failure = outcome.failure
        if failure is not None:
            where = f"{failure.source}:{failure.line}" if failure.line is not None else failure.source
            click.echo(f"[ERROR] [{where}] {failure.message}")
            unusable = True
            continue
        findings.extend(outcome.findings)
    for finding in findings:
        click.echo(finding.format())
    violations = sum(1 for f in findings if f.severity == Severity.VIOLATION)
    if not findings and not unusable:
        click.echo("No issues found")
    elif findings:
        click.echo(_tally(findings))
    sys.exit(EXIT_UNUSABLE if unusable else EXIT_FAILED if violations else EXIT_OK)


@main.command("doctor")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--strict", is_flag=True, help="Also exit 1 when a warning is found.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: one line per problem, then a summary; json: a list of {kind, severity, file, line, message}.",
)
def doctor_command(paths: tuple[Path, ...], strict: bool, output_format: str) -> None:
    """Report the fiches whose data contradict each other (PATH: files or folders of *.md).

    With no PATH, checks the corpus shipped in seeds/onisep-fiches/metiers/. Each warning is
    printed as [WARNING] [file:line] message (kind): a recommended formation below the minimum
    access level, an access route below it, a salary range whose minimum is above its maximum,
    a ROME code absent from ROME v4.60, a FOR id or ROME code given twice. A fiche that cannot
    be read is an [ERROR]; the others are still checked. Exit code: 0 no error (warnings alone
    do not fail, unless --strict), 1 a fiche could not be read (or, with --strict, a warning),
    2 the run could not start (a referential unreadable).
    """
    from .doctor import KINDS, doctor

    try:
        report = doctor(list(paths) or None)
    except OnisepKgError as exc:
        _fail(str(exc))
        return
    if output_format == "json":
        import json

        click.echo(json.dumps([p.to_json() for p in report.problems], ensure_ascii=False, indent=2))
    else:
        for problem in report.problems:
            click.echo(problem.format())
        counts = report.counts()
        warnings, errors = len(report.warnings), len(report.errors)
        click.echo(f"fiches: {report.checked} checked, {errors} unreadable; {_plural(warnings, 'warning')}")
        width = max(len(kind) for kind in KINDS)
        for kind in KINDS:
            click.echo(f"  {kind:<{width}}  {counts[kind]:>5}")
    failed = bool(report.errors) or (strict and bool(report.warnings))
    sys.exit(EXIT_FAILED if failed else EXIT_OK)
