"""Typed records produced by the parsers: plain data, no RDF.

A record keeps the source line of every value it holds, so that a SHACL finding on the graph
built from it can name the fiche file and line it came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Item:
    """One value read from one line of a fiche."""

    text: str
    line: int


@dataclass(frozen=True, slots=True)
class Appellation:
    """A name of the métier with its gendered forms.

    ``label`` is the neutral wording (the fiche title for the main appellation, the ``###``
    heading for another appellation); ``feminine`` and ``masculine`` are the gendered forms.
    """

    label: Item | None
    feminine: Item | None
    masculine: Item | None


@dataclass(frozen=True, slots=True)
class FormationRef:
    """A recommended formation: ``- <label> (ID: FOR.<n>)``."""

    label: str
    formation_id: str
    line: int


@dataclass(frozen=True, slots=True)
class Part:
    """A run of a section: an optional heading and the paragraphs under it."""

    heading: Item | None
    heading_level: int | None
    paragraphs: tuple[Item, ...]

    @property
    def line(self) -> int:
        if self.heading is not None:
            return self.heading.line
        return self.paragraphs[0].line

    @property
    def text(self) -> str:
        return "\n\n".join(p.text for p in self.paragraphs)


@dataclass(frozen=True, slots=True)
class Section:
    """A top-level ``## `` section, in fiche order, with its parts in order."""

    title: str
    line: int
    parts: tuple[Part, ...]


@dataclass(frozen=True, slots=True)
class StudyDuration:
    """ "Durée des études" in "En bref": the stage ("Après le bac") and the text."""

    stage: Item | None
    paragraphs: tuple[Item, ...]

    @property
    def line(self) -> int:
        return self.stage.line if self.stage is not None else self.paragraphs[0].line

    @property
    def text(self) -> str:
        return "\n\n".join(p.text for p in self.paragraphs)


@dataclass(frozen=True, slots=True)
class AccessRoute:
    """A level listed under "Accès au métier" ("Niveau bac + 2") and the diplomas under it."""

    wording: Item
    diplomas: tuple[Item, ...]


@dataclass(frozen=True, slots=True)
class Salary:
    """The starting salary: parsed structure plus the raw sentence, always.

    ``period`` is a schema.org unit text (``MONTH``, ``YEAR``, ``HOUR``); ``basis`` is
    ``gross`` or ``net``; ``qualifier`` is what follows the amount ("hors primes");
    ``variable`` is true when the sentence says the salary varies.
    """

    raw: Item
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    currency: str | None = None
    period: str | None = None
    basis: str | None = None
    qualifier: str | None = None
    variable: bool = False

    @property
    def parsed(self) -> bool:
        return self.min_value is not None or self.variable


@dataclass(frozen=True, slots=True)
class ExtraField:
    """A ``**Key:** value`` header field the parser does not know, with its list items."""

    key: str
    value: str
    line: int
    items: tuple[Item, ...] = ()


@dataclass(frozen=True, slots=True)
class ParseIssue:
    """A line the parser kept but could not place where the format says it belongs."""

    line: int
    message: str
    text: str


@dataclass(slots=True)
class MetierRecord:
    """Everything a fiche métier says, in typed form."""

    source: str
    sha256: str
    metier_id: str
    id_line: int
    title: Item
    appellation: Appellation
    other_appellations: list[Appellation] = field(default_factory=list)
    rome_codes: list[Item] = field(default_factory=list)
    access_level: Item | None = None
    statuses: list[Item] = field(default_factory=list)
    interests: list[Item] = field(default_factory=list)
    formations: list[FormationRef] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    study_durations: list[StudyDuration] = field(default_factory=list)
    salary: Salary | None = None
    access_routes: list[AccessRoute] = field(default_factory=list)
    extra_fields: list[ExtraField] = field(default_factory=list)
    issues: list[ParseIssue] = field(default_factory=list)
