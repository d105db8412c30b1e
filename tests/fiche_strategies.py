"""Fiches métiers for property tests: hypothesis strategies of records, a renderer record → fiche
text, mutations of real fiches, and a worker process that parses with a time budget.

``render_metier(record)`` writes the fiche that :func:`pipeline.parse.parse_metier` reads back as
``record``. The record's line numbers say where each value goes: the renderer puts it on that
line and leaves the lines between blank, so a record is compared with what is parsed back line
numbers included. What the record does not keep is chosen by the renderer: the header of a
block field (``**Codes ROME:**``) goes on the line before its first item; body text is written
indented, at column 0 or as a ``- `` item, as ``style`` varies and the text allows (the three
read back the same). ``metier_records()`` draws records the format can express: the values the
parser derives from sections (study durations from "En bref", access routes from "Accès au
métier", the salary from a "Salaire du débutant" heading) are drawn first and laid out as those
sections, never computed from them.
"""

from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from pipeline import resources
from pipeline.errors import InputError
from pipeline.parse import (
    F_ID,
    F_LEVEL,
    F_NAMES,
    F_ROME,
    F_STATUSES,
    FIELD_RE,
    HEADING_DURATION,
    HEADING_SALARY,
    ROUTE_MAX_CHARS,
    ROUTE_RE,
    SEC_ACCESS,
    SEC_FORMATIONS,
    SEC_IN_BRIEF,
    SEC_INTERESTS,
    SEC_OTHER_NAMES,
    STRUCTURED_SECTIONS,
    parse_metier,
)
from pipeline.records import (
    AccessRoute,
    Appellation,
    ExtraField,
    FormationRef,
    Item,
    MetierRecord,
    Part,
    Salary,
    Section,
    StudyDuration,
)

METIERS = resources.metier_fiches_dir()
FICHES = sorted(METIERS.glob("*.md"))
INDENT = " " * 12  # as the shipped fiches indent body text
BLOCK_FIELDS = (F_NAMES, F_ROME, F_STATUSES)
KNOWN_FIELDS = frozenset({F_ID, F_LEVEL, *BLOCK_FIELDS})
SPECIAL_SECTIONS = STRUCTURED_SECTIONS | {SEC_IN_BRIEF, SEC_ACCESS}


# -- the renderer -----------------------------------------------------------------------------------
class Unrenderable(ValueError):
    """A record the fiche format cannot express (two values on one line, no gendered form…)."""


def render_metier(record: MetierRecord, *, style: int = 0) -> str:
    """The fiche text that parses back to ``record`` (its ``sha256`` aside: that is the hash of
    the text). ``style`` varies how body text is written (indented, column 0, list item)."""
    lines: dict[int, str] = {}

    def put(line: int, text: str) -> None:
        if line < 1 or line in lines:
            raise Unrenderable(f"line {line} taken twice (or not a line): {lines.get(line)!r}, {text!r}")
        lines[line] = text

    def block(key: str, items: list[tuple[int, str]]) -> None:
        if items:
            put(min(line for line, _ in items) - 1, f"**{key}:**")
            for line, text in items:
                put(line, _item(text))

    put(record.title.line, f"# {record.title.text}")
    put(record.id_line, f"**{F_ID}:** {record.metier_id}")
    names = _forms(record.appellation)
    if not names:
        raise Unrenderable("the main appellation has no gendered form: no '**Appellations:**' block")
    block(F_NAMES, names)
    block(F_ROME, [(i.line, i.text) for i in record.rome_codes])
    block(F_STATUSES, [(i.line, i.text) for i in record.statuses])
    if record.access_level is not None:
        put(record.access_level.line, f"**{F_LEVEL}:** {record.access_level.text}")
    for f in record.extra_fields:
        put(f.line, f"**{f.key}:** {f.value}".rstrip())
        for i in f.items:
            put(i.line, _item(i.text))
    for section in record.sections:
        put(section.line, f"## {section.title}")
        for part in section.parts:
            if part.heading is not None:
                assert part.heading_level is not None
                put(part.heading.line, _heading(part.heading, part.heading_level, section.title, style))
            for p in part.paragraphs:
                put(p.line, _paragraph(p, style))
    for other in record.other_appellations:
        if other.label is None:
            raise Unrenderable("another appellation without its '### ' label")
        put(other.label.line, f"### {other.label.text}".rstrip())
        for line, text in _forms(other):
            put(line, _item(text))
    for ref in record.formations:
        put(ref.line, _item(f"{ref.label} (ID: {ref.formation_id})".lstrip()))
    for interest in record.interests:
        put(interest.line, _item(interest.text))
    if min(lines) != record.title.line:
        raise Unrenderable("the title is not the first line")
    return "\n".join(lines.get(n, "") for n in range(1, max(lines) + 1)) + "\n"


def _forms(appellation: Appellation) -> list[tuple[int, str]]:
    forms = [("Féminin", appellation.feminine), ("Masculin", appellation.masculine)]
    return [(i.line, f"{gender}: {i.text}") for gender, i in forms if i is not None]


def _item(text: str) -> str:
    return f"- {text}" if text else "-"


def _pick(line: int, style: int, options: list[str]) -> str:
    return options[(line * 7 + style) % len(options)]


def _heading(heading: Item, level: int, section: str, style: int) -> str:
    text = f"{'#' * level} {heading.text}".rstrip()
    # At column 0, "#" is a title and "##" a new section, but for a "## Niveau …" route of
    # "Accès au métier"; indented, any level is a heading of the section.
    column0 = level >= 3 or (level == 2 and section == SEC_ACCESS and ROUTE_RE.match(heading.text))
    way = _pick(heading.line, style, ["column0", "indented"] if column0 else ["indented"])
    return text if way == "column0" else INDENT + text


def _paragraph(p: Item, style: int) -> str:
    text = p.text
    options = ["item"]  # "- text" always reads back as the paragraph "text"
    if not text.startswith("#"):  # indented, "#…" would be a heading
        options.append("indented")
        if not (FIELD_RE.match(text) or text.startswith("- ") or text in ("", "-")):
            options.append("column0")  # else a field or an item
    way = _pick(p.line, style, options)
    return _item(text) if way == "item" else INDENT + text if way == "indented" else text


# -- the strategies ---------------------------------------------------------------------------------
def _real_phrases() -> list[str]:
    """Short texts of real fiches (a line's words, markdown removed), for realistic values."""
    seen: set[str] = set()
    for path in FICHES[::25]:
        for line in path.read_text(encoding="utf-8").split("\n"):
            text = line.strip().lstrip("#-* ").strip()
            if text and len(text) < 120 and ":**" not in text:
                seen.add(text)
    return sorted(seen)[::5]  # (a few hundred: enough variety, and failure reports stay readable)


# Texts that look like the format's syntax: the renderer must write them so they stay text.
TRICKY = [
    "**Clé:** valeur",
    "- un item",
    "-",
    "# titre",
    "## section",
    "Niveau bac + 2",
    "niveau CAP",
    "(ID: FOR.12)",
    "Féminin: forme",
    "A partir de 1801 euros brut par mois",
    "Durée des études",
    "Salaire du débutant",
    "« Allô ! »",
    "a\u200bb",
    "tab\tin the middle",
    "x" * 300,
]
CHARS = st.characters(codec="utf-8", exclude_characters="\r\n\x00")
TEXT = (
    st.one_of(st.sampled_from(_real_phrases()), st.sampled_from(TRICKY), st.text(CHARS, max_size=30))
    .map(str.strip)
    .filter(bool)
)
GAP = st.integers(0, 2)


def _special_heading(text: str) -> bool:
    return text.lower() in (HEADING_DURATION, HEADING_SALARY)


def _route_like(text: str) -> bool:
    return bool(ROUTE_RE.match(text)) and len(text) <= ROUTE_MAX_CHARS


HEADING = TEXT.filter(lambda t: not _special_heading(t))
PLAIN = TEXT.filter(lambda t: not _route_like(t))  # text that is not an access route
PLAIN_HEADING = HEADING.filter(lambda t: not _route_like(t))
TITLE = HEADING.filter(lambda t: t not in SPECIAL_SECTIONS and not ROUTE_RE.match(t))


class _Lines:
    """Line numbers in fiche order, with 0 to 2 blank lines between (drawn)."""

    def __init__(self, draw: Callable[[st.SearchStrategy[Any]], Any]) -> None:
        self.draw = draw
        self.last = 0

    def next(self, *, gap: bool = True) -> int:
        self.last += 1 + (self.draw(GAP) if gap else 0)
        return self.last


@dataclass
class _PartBuilder:
    heading: Item | None
    level: int | None
    paragraphs: list[Item]

    def part(self) -> Part:
        return Part(self.heading, self.level, tuple(self.paragraphs))


def _paragraphs(draw: Any, lines: _Lines, text: st.SearchStrategy[str], low: int, high: int) -> list[Item]:
    return [Item(draw(text), lines.next()) for _ in range(draw(st.integers(low, high)))]


def _parts(
    draw: Any,
    lines: _Lines,
    *,
    heading: st.SearchStrategy[str] = HEADING,
    text: st.SearchStrategy[str] = TEXT,
    levels: tuple[int, int] = (1, 6),
    headless: bool = True,
) -> list[_PartBuilder]:
    """Parts of a section: maybe a first one without a heading, then headed ones."""
    out: list[_PartBuilder] = []
    if headless and draw(st.booleans()):
        out.append(_PartBuilder(None, None, _paragraphs(draw, lines, text, 1, 3)))
    for _ in range(draw(st.integers(0, 2))):
        h = Item(draw(heading), lines.next())
        out.append(_PartBuilder(h, draw(st.integers(*levels)), _paragraphs(draw, lines, text, 0, 2)))
    return out


@dataclass
class _Drawn:
    """What a section adds to the record besides itself."""

    section: Section
    other_appellations: list[Appellation]
    formations: list[FormationRef]
    interests: list[Item]
    study_durations: list[StudyDuration]
    access_routes: list[AccessRoute]
    salary: Salary | None = None


def _section(title: str, line: int, parts: list[_PartBuilder], **derived: Any) -> _Drawn:
    base: dict[str, Any] = {
        "other_appellations": [],
        "formations": [],
        "interests": [],
        "study_durations": [],
        "access_routes": [],
    }
    base.update(derived)
    return _Drawn(Section(title, line, tuple(p.part() for p in parts)), **base)


def _gendered(draw: Any, lines: _Lines, label: Item | None, *, required: bool) -> Appellation:
    orders = [("F", "M"), ("M", "F"), ("F",), ("M",)] + ([] if required else [()])
    forms: dict[str, Item] = {}
    for gender in draw(st.sampled_from(orders)):
        forms[gender] = Item(draw(TEXT), lines.next(gap=not forms and label is None))
    return Appellation(label, forms.get("F"), forms.get("M"))


def _other_names(draw: Any, lines: _Lines) -> _Drawn:
    line = lines.next()
    others = []
    for _ in range(draw(st.integers(0, 3))):
        label = Item(draw(TEXT), lines.next())
        others.append(_gendered(draw, lines, label, required=False))
    return _section(SEC_OTHER_NAMES, line, [], other_appellations=others)


def _formations(draw: Any, lines: _Lines) -> _Drawn:
    line = lines.next()
    label = st.one_of(st.just(""), TEXT)
    refs = [
        FormationRef(draw(label), f"FOR.{draw(st.integers(0, 99999))}", lines.next())
        for _ in range(draw(st.integers(0, 4)))
    ]
    return _section(SEC_FORMATIONS, line, [], formations=refs)


def _interests(draw: Any, lines: _Lines) -> _Drawn:
    line = lines.next()
    return _section(SEC_INTERESTS, line, [], interests=_paragraphs(draw, lines, TEXT, 0, 4))


def _plain(draw: Any, lines: _Lines) -> _Drawn:
    title = draw(TITLE)
    line = lines.next()
    return _section(title, line, _parts(draw, lines))


def _in_brief(draw: Any, lines: _Lines) -> _Drawn:
    """ "En bref": parts, then maybe "Durée des études" and its stages (level 1-2 headings),
    then parts whose first heading (level 3+) ends the stages."""
    line = lines.next()
    parts = _parts(draw, lines)
    durations: list[StudyDuration] = []
    if draw(st.booleans()):
        wording = draw(st.sampled_from(["Durée des études", "durée des études", "DURÉE DES ÉTUDES"]))
        first = _PartBuilder(Item(wording, lines.next()), draw(st.integers(1, 6)), [])
        first.paragraphs = _paragraphs(draw, lines, TEXT, 0, 2)
        parts.append(first)
        if first.paragraphs:
            durations.append(StudyDuration(None, tuple(first.paragraphs)))
        for _ in range(draw(st.integers(0, 3))):
            stage = Item(draw(HEADING), lines.next())
            paragraphs = _paragraphs(draw, lines, TEXT, 0, 2)
            parts.append(_PartBuilder(stage, draw(st.integers(1, 2)), paragraphs))
            durations.append(StudyDuration(stage, tuple(paragraphs)))
        parts += _parts(draw, lines, levels=(3, 6), headless=False)
    return _section(SEC_IN_BRIEF, line, parts, study_durations=durations)


ROUTE = st.one_of(
    st.sampled_from(["Niveau bac + 2", "Niveau bac + 5", "Niveau CAP, bac pro", "NIVEAU bac", "niveau 3"]),
    st.builds(lambda t: f"Niveau {t}"[:ROUTE_MAX_CHARS].strip(), TEXT),
)


def _access(draw: Any, lines: _Lines) -> _Drawn:
    """ "Accès au métier": text, then routes ("Niveau …", as text or as a heading) each with
    its diplomas, then parts whose headings end the routes."""
    line = lines.next()
    parts: list[_PartBuilder] = []
    intro = _paragraphs(draw, lines, PLAIN, 0, 2)
    if intro:
        parts.append(_PartBuilder(None, None, intro))
    routes = []
    for _ in range(draw(st.integers(0, 3))):
        wording = Item(draw(ROUTE), lines.next())
        if draw(st.booleans()):
            parts.append(_PartBuilder(wording, draw(st.integers(1, 6)), []))
        elif parts:
            parts[-1].paragraphs.append(wording)
        else:
            parts.append(_PartBuilder(None, None, [wording]))
        diplomas = _paragraphs(draw, lines, PLAIN, 0, 3)
        parts[-1].paragraphs += diplomas
        routes.append(AccessRoute(wording, tuple(diplomas)))
    parts += _parts(draw, lines, heading=PLAIN_HEADING, text=PLAIN, headless=False)
    return _section(SEC_ACCESS, line, parts, access_routes=routes)


@st.composite
def amounts(draw: Any) -> tuple[str, Decimal]:
    """A number as fiches write it ("1801", "1 801", "1801,50") and its value."""
    digits = str(draw(st.integers(0, 999_999)))
    sep = draw(st.sampled_from(["", " ", "\u00a0", "\u202f"]))
    groups = []
    rest = digits
    while len(rest) > 3:
        groups.insert(0, rest[-3:])
        rest = rest[:-3]
    written = sep.join([rest, *groups])
    fraction = draw(st.sampled_from(["", "5", "50", "25"]))
    if fraction:
        written += draw(st.sampled_from([",", "."])) + fraction
        return written, Decimal(f"{digits}.{fraction}")
    return written, Decimal(digits)


PERIODS = [
    ("par mois", "MONTH"),
    ("par an", "YEAR"),
    ("par année", "YEAR"),
    ("par semaine", "WEEK"),
    ("par jour", "DAY"),
    ("de l'heure", "HOUR"),
    ("PAR MOIS", "MONTH"),
    ("le forfait journalier", "DAY"),
]


@st.composite
def salary_sentences(draw: Any) -> tuple[str, dict[str, Any]]:
    """A salary sentence and the :class:`Salary` fields it says (``raw`` aside)."""
    kind = draw(st.sampled_from(["from", "between", "de", "single", "unparsed"]))
    if kind == "unparsed":
        text = f"{draw(st.sampled_from(['Variable', 'Selon', 'Salaire', 'variable']))} {draw(TEXT)}"
        return text, {"variable": "variable" in text.lower()}
    (low, minimum), (high, maximum) = draw(amounts()), draw(amounts())
    head = {
        "from": f"{draw(st.sampled_from(['A partir de', 'À partir de', 'a partir de']))} {low}",
        "between": f"Entre {low} et {high}",
        "de": f"De {low} à {high}",
        "single": low,
    }[kind]
    basis = draw(st.sampled_from([None, "brut", "net", "BRUT"]))
    period = draw(st.sampled_from([None, *PERIODS]))
    qualifier = draw(st.one_of(st.none(), TEXT))
    text = head + " euros"
    text += f" {basis}" if basis else ""
    text += f" {period[0]}" if period else ""
    text += f", {qualifier}" if qualifier else ""
    return text, {
        "min_value": minimum,
        "max_value": maximum if kind in ("between", "de") else minimum if kind == "single" else None,
        "currency": "EUR",
        "period": period[1] if period else None,
        "basis": None if basis is None else "gross" if basis.lower() == "brut" else "net",
        "qualifier": qualifier,
        "variable": "variable" in text.lower(),
    }


def _salary(draw: Any, lines: _Lines) -> _Drawn:
    """A section with a "Salaire du débutant" heading, the salary sentence right under it."""
    title = draw(st.one_of(st.just("Salaire"), TITLE))
    line = lines.next()
    parts = _parts(draw, lines)
    wording = draw(st.sampled_from(["Salaire du débutant", "salaire du débutant", "SALAIRE DU DÉBUTANT"]))
    heading = Item(wording, lines.next())
    sentence, fields = draw(salary_sentences())
    raw = Item(sentence, lines.next())
    parts.append(_PartBuilder(heading, draw(st.integers(1, 6)), [raw, *_paragraphs(draw, lines, TEXT, 0, 2)]))
    parts += _parts(draw, lines, headless=False)
    return _section(title, line, parts, salary=Salary(raw=raw, **fields))


SECTIONS = {
    "plain": _plain,
    "other_names": _other_names,
    "formations": _formations,
    "interests": _interests,
    "in_brief": _in_brief,
    "access": _access,
}


@st.composite
def metier_records(draw: Any, source: str = "in/fiche.md") -> MetierRecord:
    """A record of a fiche the format can express, with its real line numbers (``sha256`` is
    left empty: it is the hash of the rendered bytes)."""
    lines = _Lines(draw)
    title = Item(draw(TEXT), lines.next())
    kinds = draw(st.lists(st.sampled_from(sorted(SECTIONS)), max_size=6))
    with_salary = draw(st.booleans())
    optional = [f for f in ("rome", "level", "statuses") if draw(st.booleans())]
    extras = draw(st.integers(0, 2))
    elements = ["id", "names", *optional, *(["extra"] * extras), *kinds, *(["salary"] if with_salary else [])]
    order = draw(st.permutations(elements))
    record = MetierRecord(
        source=source,
        sha256="",
        metier_id=f"MET.{draw(st.integers(0, 99999))}",
        id_line=0,
        title=title,
        appellation=Appellation(title, None, None),
    )
    for element in order:
        if element == "id":
            record.id_line = lines.next()
        elif element == "names":
            lines.next()  # **Appellations:**
            record.appellation = _gendered(draw, lines, None, required=True)
            record.appellation = Appellation(title, record.appellation.feminine, record.appellation.masculine)
        elif element in ("rome", "statuses"):
            lines.next()  # the field's header
            rome = st.one_of(st.from_regex(r"\A[A-N][0-9]{4}\Z"), TEXT)
            values = [draw(rome if element == "rome" else TEXT) for _ in range(draw(st.integers(1, 3)))]
            items = [Item(v, lines.next(gap=i > 0)) for i, v in enumerate(values)]
            (record.rome_codes if element == "rome" else record.statuses).extend(items)
        elif element == "level":
            record.access_level = Item(draw(TEXT), lines.next())
        elif element == "extra":
            key = draw(TEXT.filter(lambda k: "*" not in k and k not in KNOWN_FIELDS))
            value = draw(st.one_of(st.just(""), TEXT))
            line = lines.next()
            items = tuple(_paragraphs(draw, lines, TEXT, 0, 2))
            record.extra_fields.append(ExtraField(key, value, line, items))
        else:
            drawn = _salary(draw, lines) if element == "salary" else SECTIONS[element](draw, lines)
            record.sections.append(drawn.section)
            record.other_appellations += drawn.other_appellations
            record.formations += drawn.formations
            record.interests += drawn.interests
            record.study_durations += drawn.study_durations
            record.access_routes += drawn.access_routes
            record.salary = drawn.salary or record.salary
    return record


# -- mutations of real fiches -----------------------------------------------------------------------
CONTROL = [chr(c) for c in range(1, 32) if c != 10] + ["\x7f", "\x85"]
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u2028", "\u2029", "\u00a0", "\u202f"]
STRUCTURE = [
    "# un autre titre",
    "#",
    "**ID:** MET.999999",
    "**ID:**",
    "**ID:** MET.",
    "**Appellations:**",
    "- Féminin:",
    "- Masculin: x",
    "**Codes ROME:**",
    "**Niveau d'accès minimum:**",
    "**:**",
    "****",
    "## Formations recommandées",
    "## Autres appellations",
    "## Accès au métier",
    "## En bref",
    "- (ID: FOR.)",
    "- x (ID: FOR.1)",
    "### Salaire du débutant",
    "            ### Durée des études",
    "            ## Après le bac",
    "Niveau bac",
    "A partir de euros",
    "Entre 1 et euros par mois",
    "-",
    "- ",
    "            ",
]
# A long line for each pattern of the parser, in the context where the parser applies it: an
# anchor line it goes after (None: anywhere) and its start; then a run that the pattern could
# backtrack on, repeated, and an end.
LONG_CONTEXTS = [
    (None, ""),
    (None, "**"),  # FIELD_RE
    (None, "#"),  # HEADING_RE
    ("**Appellations:**", "- Féminin"),  # GENDER_RE
    ("## Formations recommandées", "- x"),  # the formation's "(ID: FOR.<n>)"
    ("### Salaire du débutant", INDENT + "A partir de 1"),  # SALARY_PATTERNS
    ("### Salaire du débutant", INDENT + "Entre 1"),
    ("### Salaire du débutant", INDENT + "1"),
    ("## Accès au métier", INDENT + "Niveau"),  # ROUTE_RE
]
LONG_UNITS = [" ", "1 ", "\u00a0", "(ID: ", "(ID: FOR.1", "#", "- ", "**", "a", "é", ":", "1"]
LONG_SUFFIXES = ["", "x", " euros", ")", "(ID: FOR.1)", ":**"]


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def _at(draw: Any, seq: Any) -> int:
    return draw(st.integers(0, max(len(seq) - 1, 0)))


def _truncate(draw: Any, data: bytes) -> bytes:
    return data[: draw(st.integers(0, len(data)))]


def _delete_lines(draw: Any, data: bytes) -> bytes:
    lines = _lines(data)
    i = _at(draw, lines)
    del lines[i : i + draw(st.integers(1, 5))]
    return b"\n".join(lines)


def _duplicate_lines(draw: Any, data: bytes) -> bytes:
    lines = _lines(data)
    i = _at(draw, lines)
    chunk = lines[i : i + draw(st.integers(1, 5))]
    j = _at(draw, lines)
    return b"\n".join(lines[:j] + chunk + lines[j:])


def _shuffle_lines(draw: Any, data: bytes) -> bytes:
    lines = _lines(data)
    i = _at(draw, lines)
    window = lines[i : i + draw(st.integers(2, 12))]
    lines[i : i + len(window)] = draw(st.permutations(window))
    return b"\n".join(lines)


def _heading_level(draw: Any, data: bytes) -> bytes:
    """A line made a heading of another level (0 to 8 '#'), or indented, or un-indented."""
    lines = _lines(data)
    i = _at(draw, lines)
    text = lines[i].strip().lstrip(b"#").strip()
    indent = draw(st.sampled_from([b"", b"", b"    ", b"\t"]))
    lines[i] = indent + b"#" * draw(st.integers(0, 8)) + draw(st.sampled_from([b" ", b""])) + text
    return b"\n".join(lines)


def _insert_chars(draw: Any, data: bytes) -> bytes:
    """Control, zero-width and other invisible characters inserted at character boundaries."""
    text = data.decode("utf-8", errors="surrogateescape")
    for _ in range(draw(st.integers(1, 5))):
        i = draw(st.integers(0, len(text)))
        text = text[:i] + draw(st.sampled_from(CONTROL + INVISIBLE)) + text[i:]
    return text.encode("utf-8", errors="surrogateescape")


def _line_ends(draw: Any, data: bytes) -> bytes:
    way = draw(st.sampled_from(["crlf", "cr", "some-crlf", "mixed"]))
    if way == "crlf":
        return data.replace(b"\n", b"\r\n")
    if way == "cr":
        return data.replace(b"\n", b"\r")
    lines = _lines(data)
    ends = [b"\r\n" if way == "some-crlf" else b"\n"] * (len(lines) - 1) + [b""]
    for i in draw(st.lists(st.integers(0, max(len(lines) - 2, 0)), min_size=1, max_size=20)):
        ends[i] = draw(st.sampled_from([b"\n", b"\r\n", b"\r", b"\r\r\n"])) if i < len(lines) - 1 else b""
    return b"".join(line + end for line, end in zip(lines, ends, strict=True))


def _bom(draw: Any, data: bytes) -> bytes:
    bom = b"\xef\xbb\xbf"
    i = draw(st.sampled_from([0, 0, len(data) // 2]))
    i = data.rfind(b"\n", 0, i) + 1 if i else 0
    return data[:i] + bom * draw(st.integers(1, 2)) + data[i:]


def _latin1(draw: Any, data: bytes) -> bytes:
    """The whole fiche, or one of its lines, encoded in Latin-1."""
    text = data.decode("utf-8", errors="replace")
    if draw(st.booleans()):
        return text.encode("latin-1", errors="replace")
    lines = text.split("\n")
    i = _at(draw, lines)
    return b"\n".join(
        line.encode("latin-1", errors="replace") if n == i else line.encode("utf-8")
        for n, line in enumerate(lines)
    )


def _long_line(draw: Any, data: bytes) -> bytes:
    """A line of up to 300,000 characters made of a run a pattern could backtrack on, where
    that pattern reads it."""
    anchor, prefix = draw(st.sampled_from(LONG_CONTEXTS))
    unit = draw(st.sampled_from(LONG_UNITS))
    length = draw(st.sampled_from([300_000, 100_000, 1_000, 10]))
    line = prefix + unit * (length // len(unit)) + draw(st.sampled_from(LONG_SUFFIXES))
    lines = _lines(data)
    after = [i for i, raw in enumerate(lines) if anchor and raw.strip().startswith(anchor.strip().encode())]
    lines.insert(after[0] + 1 if after else _at(draw, lines), line.encode("utf-8"))
    return b"\n".join(lines)


def _garbage(draw: Any, data: bytes) -> bytes:
    junk = draw(st.binary(min_size=1, max_size=64))
    i = draw(st.integers(0, len(data)))
    return data[:i] + junk + data[i + draw(st.integers(0, 64)) :]


def _structure(draw: Any, data: bytes) -> bytes:
    lines = _lines(data)
    lines.insert(_at(draw, lines), draw(st.sampled_from(STRUCTURE)).encode("utf-8"))
    return b"\n".join(lines)


MUTATIONS: dict[str, Callable[[Any, bytes], bytes]] = {
    "truncate": _truncate,
    "delete-lines": _delete_lines,
    "duplicate-lines": _duplicate_lines,
    "shuffle-lines": _shuffle_lines,
    "heading-level": _heading_level,
    "insert-chars": _insert_chars,
    "line-ends": _line_ends,
    "bom": _bom,
    "latin-1": _latin1,
    "long-line": _long_line,
    "garbage": _garbage,
    "structure": _structure,
}


@st.composite
def mutated_fiches(draw: Any, fiches: list[Path] = FICHES) -> tuple[str, tuple[str, ...], bytes]:
    """(the real fiche's name, the mutations applied, the mutated bytes)."""
    path = draw(st.sampled_from(fiches))
    data = path.read_bytes()
    names = tuple(draw(st.lists(st.sampled_from(sorted(MUTATIONS)), min_size=1, max_size=3)))
    for name in names:
        data = MUTATIONS[name](draw, data)
    return path.name, names, data


# -- parsing in a worker process, with a time budget ------------------------------------------------
def _serve(conn: Any) -> None:  # the worker's loop (a spawned process: nothing inherited)
    while True:
        try:
            data, source = conn.recv()
        except EOFError:
            return
        try:
            conn.send(("ok", parse_metier(data, source)))
        except InputError as exc:
            conn.send(("error", type(exc).__name__, exc.source, exc.line, exc.message))
        except BaseException:
            conn.send(("crash", traceback.format_exc()))


class Hang(AssertionError):
    """The parser took longer than the budget on one input."""


class ParseWorker:
    """Parses in another process so that a parse that hangs is detected (a regular expression
    that backtracks holds the interpreter: no timer in this process would fire) and stopped.

    ``parse(data, source)`` returns ``("ok", record)``, ``("error", class name, source, line,
    message)`` for an :class:`InputError`, or ``("crash", traceback)``; it raises :class:`Hang`
    after ``budget`` seconds, and the next call starts a new worker."""

    def __init__(self, budget: float) -> None:
        self.budget = budget
        self._context = multiprocessing.get_context("spawn")
        self._process: Any = None
        self._conn: Any = None

    def _start(self) -> None:
        parent, child = self._context.Pipe()
        self._process = self._context.Process(target=_serve, args=(child,), daemon=True)
        self._process.start()
        child.close()
        self._conn = parent

    def parse(self, data: bytes, source: str) -> tuple[Any, ...]:
        if self._process is None:
            self._start()
        self._conn.send((data, source))
        if not self._conn.poll(self.budget):
            self.close()
            raise Hang(f"parse_metier took more than {self.budget} s on {source} ({len(data):,} bytes)")
        return self._conn.recv()

    def close(self) -> None:
        if self._process is not None:
            self._conn.close()
            self._process.kill()
            self._process.join()
            self._process = None
