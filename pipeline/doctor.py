"""``onisep-kg doctor``: the places where a fiche métier contradicts itself or its referentials.

SHACL checks each value on its own (a ROME code's form, a salary's datatype); the doctor checks
values against each other, and names the file and line of each contradiction it finds:

* ``formation-below-minimum`` — a recommended formation (``- <label> (ID: FOR.<n>)``) whose
  level is strictly below the fiche's minimum access level. Levels are those of the 2019
  nomenclature (:mod:`pipeline.levels`, ``docs/decisions/0002-study-levels.md``): the minimum
  ("bac + 2") maps to niveau 5 as the mapper maps it. A formation's level is the *highest* its
  sources give: its certification level ("niveau 7", fiche or Idéo record) and its indicative
  exit level (Idéo "Niveau de sortie indicatif", a "bac + 9 et plus" wording mapped the same
  way). Why the highest: the RNCP certifies the diplôme d'État de docteur en médecine at
  niveau 7 although it takes nine years or more, so comparing the certification alone with
  "bac + 9 et plus" (niveau 8) would flag every médecin fiche, which says nothing wrong. A
  formation with no known level, or a minimum that maps to no level ("autre formation"), is
  not compared;
* ``access-route-below-minimum`` — a level line of "Accès au métier" ("Niveau bac + 2") below
  the stated minimum. A line naming several levels ("bac + 4/5", "CAP, bac pro") counts at the
  highest; one open upwards ("bac + 5 et plus") is never below;
* ``salary-min-above-max`` — a "Salaire du débutant" range whose minimum exceeds its maximum
  ("Entre 3100 et 2920 euros");
* ``rome-code-not-in-v4`` — a cited ROME code absent from ROME v4.60: whether ROME v3.46 has
  it (then v4.60 retired it; its successors are the v4.60 métiers and appellations filed under
  it, ``code_rome_parent``) or not (a code of neither version; a letter and two digits is the
  form of a ROME domain, whose v4.60 codes are named). The ESCO crosswalk names appellations
  (OGR codes) only, placed in ROME by the v4.60 appellations file, so it cannot add a successor;
* ``formation-cited-twice``, ``rome-code-listed-twice`` — one FOR id (with the labels, when they
  differ) or one ROME code given twice in one fiche.

A fiche that cannot be read or parsed is an ``unreadable`` error at its file and line; the
others are still checked. Everything here is plain data: the CLI prints it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import resources
from .errors import InputError
from .ingest import collect_fiches, default_inputs, display_path
from .levels import level_of
from .parse import parse_metier
from .records import MetierRecord

WARNING, ERROR = "warning", "error"

FORMATION_BELOW = "formation-below-minimum"
ROUTE_BELOW = "access-route-below-minimum"
SALARY_RANGE = "salary-min-above-max"
ROME_NOT_IN_V4 = "rome-code-not-in-v4"
FORMATION_TWICE = "formation-cited-twice"
ROME_TWICE = "rome-code-listed-twice"
UNREADABLE = "unreadable"
KINDS = (FORMATION_BELOW, ROUTE_BELOW, SALARY_RANGE, ROME_NOT_IN_V4, FORMATION_TWICE, ROME_TWICE)

_ROME_DOMAIN_RE = re.compile(r"^[A-Z]\d{2}$")
_OPEN_UPWARDS_RE = re.compile(r"\bet\s*(?:plus\b|\+)", re.IGNORECASE)
_BAC_PLUS_RUN_RE = re.compile(r"bac\s*\+\s*(\d+(?:\s*(?:/|,|\bet\b|\bou\b|à)\s*\d+)*)", re.IGNORECASE)
_ALTERNATIVES_RE = re.compile(r"\s*(?:,|/|\bou\b|\bet\b|\(|\))\s*", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Problem:
    """One contradiction (a warning) or one fiche that could not be checked (an error)."""

    kind: str
    severity: str
    source: str
    line: int | None
    message: str

    def format(self) -> str:
        """``[WARNING] [file:line] message (kind)``, as ``onisep-kg validate`` prints findings."""
        where = f"{self.source}:{self.line}" if self.line is not None else self.source
        return f"[{self.severity.upper()}] [{where}] {self.message} ({self.kind})"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "severity": self.severity,
            "file": self.source,
            "line": self.line,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class FormationLevel:
    """What the formation referential says of a formation's level."""

    name: str
    certification: int | None  # "niveau 7" of the fiche, else of the Idéo record
    exit_wording: str | None  # Idéo "Niveau de sortie indicatif": "bac + 9 et plus"
    exit_level: int | None  # that wording's level (None when it maps to none: "seconde")

    @property
    def level(self) -> int | None:
        """The highest level known, None when none is."""
        known = [n for n in (self.certification, self.exit_level) if n is not None]
        return max(known) if known else None

    def describe(self) -> str:
        parts = []
        if self.certification is not None:
            parts.append(f"certified niveau {self.certification}")
        if self.exit_wording is not None:
            parts.append(f'exit level "{self.exit_wording}"')
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class DoctorReferentials:
    """What the checks compare the fiches with, read once per run."""

    formations: Mapping[str, FormationLevel]
    rome_v3: Mapping[str, str]  # ROME v3.46 code → label
    rome_v4: Mapping[str, str]  # ROME v4.60 code_rome → libelle_rome
    rome_v4_under: Mapping[str, tuple[str, ...]]  # v3 code → v4.60 codes filed under it


@dataclass(slots=True)
class DoctorReport:
    """The problems found, sorted by file then line, and how many fiches were checked."""

    problems: list[Problem] = field(default_factory=list)
    checked: int = 0

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    def counts(self) -> dict[str, int]:
        """Warnings per kind, every kind listed (in :data:`KINDS` order), zeros included."""
        counts = dict.fromkeys(KINDS, 0)
        for problem in self.warnings:
            counts[problem.kind] += 1
        return counts


# -- referentials -------------------------------------------------------------------------------
def load_doctor_referentials(
    *,
    formation_fiches: Path | None = None,
    ideo_formations: Path | None = None,
    rome_v3: Path | None = None,
    rome_v4_metiers: Path | None = None,
    rome_v4_appellations: Path | None = None,
) -> DoctorReferentials:
    """The shipped referentials unless given. Raises :class:`InputError` when one is unreadable."""
    from .formations import load_formations
    from .referentials import load_rome_v3
    from .rome_esco import parse_rome_v4_appellations, parse_rome_v4_metiers

    catalog = load_formations(
        formation_fiches or resources.formation_fiches_dir(),
        ideo_formations or resources.ideo_formations_dir(),
    )
    formations: dict[str, FormationLevel] = {}
    for formation_id in catalog.formation_ids():
        sources = catalog.sources(formation_id)
        certification = next((r.level_number for r in sources if r.level_number is not None), None)
        exit_item = next((r.exit_level for r in sources if r.exit_level is not None), None)
        exit_wording = exit_item.text if exit_item is not None else None
        formations[formation_id] = FormationLevel(
            sources[0].title.text,
            certification,
            exit_wording,
            level_of(exit_wording) if exit_wording is not None else None,
        )
    v4_path = rome_v4_metiers or resources.rome_v4_metiers_file()
    appellations_path = rome_v4_appellations or resources.rome_v4_appellations_file()
    metiers = parse_rome_v4_metiers(_read(v4_path), display_path(v4_path))
    appellations = parse_rome_v4_appellations(_read(appellations_path), display_path(appellations_path))
    under: dict[str, set[str]] = {}
    for parent, code in (
        *((row.code_rome_parent, row.code_rome) for row in metiers.rows),
        *((row.code_rome_parent, row.code_rome) for row in appellations.rows),
    ):
        if parent and parent != code:
            under.setdefault(parent, set()).add(code)
    return DoctorReferentials(
        formations=formations,
        rome_v3=load_rome_v3(rome_v3 or resources.rome_v3_file()),
        rome_v4={row.code_rome: row.libelle_rome for row in metiers.rows},
        rome_v4_under={parent: tuple(sorted(codes)) for parent, codes in under.items()},
    )


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(display_path(path), None, f"cannot read: {exc.strerror}") from exc


# -- levels -------------------------------------------------------------------------------------
def _niveau(number: int) -> str:
    return f"niveau {number}"


def _quote(text: str, limit: int = 80) -> str:
    """A fiche's words in a message: spaces (no-break ones too) collapsed, long ones cut."""
    text = " ".join(text.split())
    return f'"{text if len(text) <= limit else text[: limit - 1] + "…"}"'


def route_level(wording: str) -> int | None:
    """The highest level an access-route line names: "Niveau bac + 4/5" → 7 (bac + 5);
    "Niveau CAP, bac pro" → 4; None when it names none or is open upwards ("bac + 5 et plus")."""
    if _OPEN_UPWARDS_RE.search(wording):
        return None
    text = " ".join(wording.split())
    levels = [level_of(text)]
    levels += [level_of(piece) for piece in _ALTERNATIVES_RE.split(text.removeprefix("Niveau ")) if piece]
    for run in _BAC_PLUS_RUN_RE.finditer(text):
        levels += [level_of(f"bac + {n}") for n in re.findall(r"\d+", run[1])]
    known = [n for n in levels if n is not None]
    return max(known) if known else None


# -- the checks ---------------------------------------------------------------------------------
def check_record(record: MetierRecord, refs: DoctorReferentials) -> list[Problem]:
    """Every contradiction of one parsed fiche (unsorted)."""
    problems: list[Problem] = []

    def warn(kind: str, line: int, message: str) -> None:
        problems.append(Problem(kind, WARNING, record.source, line, message))

    minimum = record.access_level
    level = level_of(minimum.text) if minimum is not None else None
    if minimum is not None and level is not None:
        stated = f"the minimum access level {_quote(minimum.text)} ({_niveau(level)}, line {minimum.line})"
        for ref in record.formations:
            formation = refs.formations.get(ref.formation_id)
            if formation is None or formation.level is None or formation.level >= level:
                continue
            warn(
                FORMATION_BELOW,
                ref.line,
                f"recommended formation {ref.formation_id} ({formation.name}) is at "
                f"{_niveau(formation.level)} ({formation.describe()}), below {stated}",
            )
        for route in record.access_routes:
            route_number = route_level(route.wording.text)
            if route_number is not None and route_number < level:
                warn(
                    ROUTE_BELOW,
                    route.wording.line,
                    f"access route {_quote(route.wording.text)} ({_niveau(route_number)}) is below {stated}",
                )

    salary = record.salary
    low, high = (salary.min_value, salary.max_value) if salary is not None else (None, None)
    if salary is not None and low is not None and high is not None and low > high:
        warn(
            SALARY_RANGE,
            salary.raw.line,
            f"starting salary minimum {low} is above its maximum {high}: {_quote(salary.raw.text)}",
        )

    for item in record.rome_codes:
        if item.text not in refs.rome_v4:
            warn(ROME_NOT_IN_V4, item.line, _rome_message(item.text, refs))

    first_formation: dict[str, tuple[int, str]] = {}
    for ref in record.formations:
        if ref.formation_id not in first_formation:
            first_formation[ref.formation_id] = (ref.line, ref.label)
            continue
        line, label = first_formation[ref.formation_id]
        labels = ""
        if label != ref.label:
            labels = f" with different labels: {_quote(label)} and {_quote(ref.label)}"
        warn(
            FORMATION_TWICE,
            ref.line,
            f"{ref.formation_id} is cited twice (lines {line} and {ref.line}){labels}",
        )

    first_rome: dict[str, int] = {}
    for item in record.rome_codes:
        if item.text in first_rome:
            warn(
                ROME_TWICE,
                item.line,
                f"ROME code {item.text} is listed twice (lines {first_rome[item.text]} and {item.line})",
            )
        else:
            first_rome[item.text] = item.line
    return problems


def _rome_message(code: str, refs: DoctorReferentials) -> str:
    label = refs.rome_v3.get(code)
    if label is not None:
        successors = refs.rome_v4_under.get(code, ())
        named = ", ".join(f"{c} ({refs.rome_v4[c]})" if c in refs.rome_v4 else c for c in successors)
        tail = f"its successors in ROME v4.60: {named}" if successors else "ROME v4.60 gives no successor"
        return f"ROME code {code} ({label}) is in ROME v3.46 but not in ROME v4.60, which retired it; {tail}"
    message = f"ROME code {code} is in neither ROME v4.60 nor ROME v3.46"
    if _ROME_DOMAIN_RE.match(code):
        under = sorted(c for c in refs.rome_v4 if c.startswith(code) and len(c) == 5)
        if under:
            shown = ", ".join(under[:5]) + (f" and {len(under) - 5} more" if len(under) > 5 else "")
            message += (
                f": it has the form of a ROME domain (a letter and 2 digits), not of a fiche code "
                f"(a letter and 4 digits); the ROME v4.60 codes under {code} are {shown}"
            )
    return message


def doctor(paths: Iterable[Path] | None = None, refs: DoctorReferentials | None = None) -> DoctorReport:
    """Check every fiche of ``paths`` (files or folders; the shipped corpus by default).

    The referentials are loaded first (an unreadable one raises :class:`InputError` before any
    fiche is read); a fiche that cannot be read or parsed is an ``unreadable`` error and the
    others are still checked.
    """
    refs = refs if refs is not None else load_doctor_referentials()
    files, missing = collect_fiches(list(paths) if paths is not None else default_inputs())
    report = DoctorReport()
    problems = [Problem(UNREADABLE, ERROR, f.source, f.line, f.message) for f in missing]
    for path in files:
        source = display_path(path)
        try:
            record = parse_metier(path.read_bytes(), source)
        except OSError as exc:
            problems.append(Problem(UNREADABLE, ERROR, source, None, f"cannot read: {exc.strerror}"))
            continue
        except InputError as exc:
            problems.append(Problem(UNREADABLE, ERROR, exc.source, exc.line, exc.message))
            continue
        report.checked += 1
        problems.extend(check_record(record, refs))
    report.problems = sort_problems(problems)
    return report


def sort_problems(problems: Sequence[Problem]) -> list[Problem]:
    """By file, then line (a problem of the whole file first), then kind."""
    return sorted(problems, key=lambda p: (p.source, p.line or 0, p.kind, p.message))
