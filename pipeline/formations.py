"""Parsers for ONISEP formations (markdown text → :class:`FormationRecord`), and the catalog.

Two sources describe formations, in two markdown layouts:

- a *formation fiche* (``formations/FOR.<n>_<slug>.md``): ``# title``, ``## Informations
  générales`` with ``**Key:** value`` fields (type, sigle, durée, niveau de certification, code
  scolarité, lien), then text sections (Description, Accès, Attendus, Poursuite d'études) and
  ``## Métiers associés`` with one ``- label`` per métier. The FOR id is in the file name only;
- an *Idéo record* (``ideo_formations/formation_<seq>_<slug>.md``): ``# title`` then sections
  whose titles start with an emoji (``## 📋 Informations générales``, ``## 🎓 Certification``,
  ``## 🎯 Domaines``) holding fields (type, sigle, durée, niveau de sortie indicatif, code RNCP,
  niveau, code scolarité, code NSF, tutelle) and ``- domaine/sous-domaine`` items. The FOR id is
  the end of the ``**🔗 Fiche formation Onisep:**`` link.

One parser reads both layouts (same line rules as :mod:`pipeline.parse`: column-0 lines carry
the structure, indented lines are body text even when they look like headings); the ``kind`` of
the record says which source it came from. Every non-blank line ends up in the record (a field,
an item, a paragraph of a section part) or in ``record.issues``. Fatal problems (not UTF-8,
empty, no ``# title``, a fiche file name without its FOR id) raise :class:`ParseError`.

An Idéo record whose link names no FOR id (none in the shipped data) is kept: ``formation_id``
is None and the record is keyed by its file sequence number (``ideo-<seq>``); the catalog lists
it under ``unlinked``.

:func:`load_formations` parses both folders into a :class:`FormationCatalog`: records grouped by
FOR id (a fiche and an Idéo record with the same FOR id describe one formation), files that
could not be read reported with file and line, and :meth:`FormationCatalog.summary` giving the
name and certification level the métier mapper needs.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePath

from .emit import gc_paused
from .errors import InputError, ParseError
from .parse import FIELD_RE, HEADING_RE, decode
from .records import ExtraField, Item, ParseIssue, Part, Section
from .referentials import FormationSummary

FICHE = "formation"  # a formation fiche (formations/FOR.<n>_<slug>.md)
IDEO = "ideo-formation"  # an Idéo record (ideo_formations/formation_<seq>_<slug>.md)

FICHE_NAME_RE = re.compile(r"^(?P<id>FOR\.\d+)(?:_.*)?\.md$")
IDEO_NAME_RE = re.compile(r"^formation_(?P<seq>\d+)(?:_.*)?\.md$")
FOR_ID_RE = re.compile(r"\bFOR\.\d+\b")
LINK_RE = re.compile(r"^\[(?P<text>[^\]]*)\]\((?P<url>[^)\s]*)\)$")
LEADING_SYMBOLS_RE = re.compile(r"^[^\w«(\"']+")
CERT_LEVEL_RE = re.compile(r"^niveau\s+(?P<n>[1-8])$", re.IGNORECASE)
DURATION_RE = re.compile(
    r"^(?P<n>\d+)\s*(?P<unit>ans?|années?|mois|semaines?|jours?|heures?)$", re.IGNORECASE
)
NSF_SEPARATOR = "|"

# Section titles (compared without their leading emoji).
SEC_GENERAL = "Informations générales"
SEC_CERTIFICATION = "Certification"
SEC_DOMAINS = "Domaines"
SEC_METIERS = "Métiers associés"
SEC_DESCRIPTION = "Description"
SEC_ACCESS = "Accès"
SEC_EXPECTATIONS = "Attendus"
SEC_FURTHER = "Poursuite d'études"
ITEM_SECTIONS = frozenset({SEC_DOMAINS, SEC_METIERS})  # sections made of ``- item`` lines only

# Header fields (keys compared without their leading emoji) → record attribute. One table for
# both layouts: "Type" (fiche) and "Type de formation" (Idéo) are the same thing.
FIELDS: dict[str, str] = {
    "Type": "type",
    "Type de formation": "type",
    "Sigle": "sigle",
    "Durée": "duration",
    "Niveau de certification": "certification_level",
    "Niveau": "certification_level",
    "Niveau de sortie indicatif": "exit_level",
    "Code RNCP": "rncp",
    "Code NSF": "nsf",
    "Code scolarité": "code_scolarite",
    "Tutelle": "tutelle",
    "Lien": "url",
    "Fiche formation Onisep": "onisep_link",
}


@dataclass(frozen=True, slots=True)
class DomainRef:
    """ "- informatique, Internet/systèmes et réseaux" → the domain and its sub-domain."""

    domain: str
    sub_domain: str | None
    line: int


@dataclass(slots=True)
class FormationRecord:
    """Everything one formation source file says, in typed form, with the line of each value.

    ``kind`` is :data:`FICHE` or :data:`IDEO`. ``key`` is unique per source file (``FOR.5337``
    for a fiche, ``ideo-00279`` for an Idéo record): it names the file's sections and extra
    fields, so that the two sources of one formation never mint the same IRI. ``id_line`` is
    the line the FOR id was read from (the Onisep link of an Idéo record; the title of a fiche,
    whose id is in its file name).
    """

    kind: str
    source: str
    sha256: str
    key: str
    formation_id: str | None
    id_line: int
    title: Item
    type: Item | None = None
    sigle: Item | None = None
    duration: Item | None = None
    certification_level: Item | None = None
    exit_level: Item | None = None
    rncp: Item | None = None
    nsf: list[Item] = field(default_factory=list)
    code_scolarite: Item | None = None
    tutelle: Item | None = None
    url: Item | None = None
    domains: list[DomainRef] = field(default_factory=list)
    description: Item | None = None
    access: Item | None = None
    expectations: list[Item] = field(default_factory=list)
    further_studies: Item | None = None
    metier_labels: list[Item] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    extra_fields: list[ExtraField] = field(default_factory=list)
    issues: list[ParseIssue] = field(default_factory=list)

    @property
    def graph_key(self) -> str:
        """The key of the file's named graph: the FOR id of a fiche, the seq of an Idéo record."""
        return self.key.removeprefix("ideo-") if self.kind == IDEO else self.key

    @property
    def level_number(self) -> int | None:
        """The certification level "niveau 5" → 5 (None for "non inscrit au RNCP")."""
        return (
            None
            if self.certification_level is None
            else certification_level_number(self.certification_level.text)
        )


def certification_level_number(wording: str) -> int | None:
    """ "niveau 5" → 5; "non inscrit au RNCP" → None. (levels.level_of reads "bac + 2" wordings.)"""
    m = CERT_LEVEL_RE.match(" ".join(wording.split()))
    return int(m["n"]) if m is not None else None


_DURATION_UNITS = {"an": "Y", "ann": "Y", "moi": "M", "jou": "D", "sem": "W", "heu": "H"}


def iso_duration(wording: str) -> str | None:
    """ "2 ans" → "P2Y", "1 an" → "P1Y", "6 mois" → "P6M", "3 semaines" → "P21D"; else None."""
    m = DURATION_RE.match(" ".join(wording.split()))
    if m is None:
        return None
    n, unit = int(m["n"]), _DURATION_UNITS[m["unit"].lower()[:3].rstrip("s")]
    if unit == "W":  # xsd:duration has no weeks
        return f"P{7 * n}D"
    if unit == "H":
        return f"PT{n}H"
    return f"P{n}{unit}"


@lru_cache(maxsize=4096)  # a few dozen titles and keys, read ~80,000 times
def section_name(title: str) -> str:
    """ "📋 Informations générales" → "Informations générales" (leading emoji and marks dropped)."""
    return LEADING_SYMBOLS_RE.sub("", title).strip()


# -- parsing ------------------------------------------------------------------------------------
@dataclass(slots=True)
class _Block:
    kind: str  # "heading", "text" or "item" (a "- " line; text "" for a bare "-" marker)
    text: str
    line: int
    indent: int
    level: int = 0


@dataclass(slots=True)
class _Field:
    key: str
    value: str
    line: int
    items: list[Item] = field(default_factory=list)


@dataclass(slots=True)
class _Section:
    title: str
    line: int
    blocks: list[_Block] = field(default_factory=list)


def parse_formation_fiche(data: bytes, source: str) -> FormationRecord:
    """Parse one formation fiche; its FOR id comes from the file name ``FOR.<n>_<slug>.md``."""
    m = FICHE_NAME_RE.match(PurePath(source).name)
    if m is None:
        raise ParseError(
            source,
            None,
            "expected a formation fiche file named FOR.<n>_<slug>.md (its FOR id is in the name)",
        )
    return _FormationParser(FICHE, source, data, m["id"]).parse()


def parse_ideo_formation(data: bytes, source: str) -> FormationRecord:
    """Parse one Idéo formation record; its FOR id comes from its Onisep link."""
    name = PurePath(source).name
    m = IDEO_NAME_RE.match(name)
    seq = m["seq"] if m is not None else PurePath(name).stem
    return _FormationParser(IDEO, source, data, f"ideo-{seq}").parse()


class _FormationParser:
    def __init__(self, kind: str, source: str, data: bytes, key: str) -> None:
        self.kind = kind
        self.source = source
        self.key = key
        self.sha256 = hashlib.sha256(data).hexdigest()
        self.lines = decode(data, source).split("\n")
        self.fields: list[_Field] = []
        self.sections: list[_Section] = []
        self.issues: list[ParseIssue] = []

    def issue(self, line: int, message: str, text: str) -> None:
        self.issues.append(ParseIssue(line, message, text))

    # -- pass 1: lines → title, fields and section blocks ------------------------------------
    def parse(self) -> FormationRecord:
        lines = self.lines
        first = next((i for i, raw in enumerate(lines) if raw.strip()), None)
        if first is None:
            raise ParseError(self.source, 1, "empty file: expected a formation starting with '# <intitulé>'")
        m = HEADING_RE.match(lines[first])
        if m is None or len(m["hashes"]) != 1 or not m["text"].strip():
            raise ParseError(
                self.source,
                first + 1,
                f"expected the title line '# <intitulé de la formation>', found {lines[first][:60]!r}",
            )
        title = Item(m["text"].strip(), first + 1)

        current_field: _Field | None = None
        current: _Section | None = None
        for number, raw in enumerate(lines[first + 1 :], first + 2):
            text = raw.strip()
            if not text:
                continue
            if raw[0] in " \t":  # indented: body text, even when it looks like a heading or item
                current_field = None
                if current is None:
                    self.issue(number, "indented text outside any section", text)
                    continue
                indent = len(raw) - len(raw.lstrip(" \t"))
                if text == "-" or text.startswith("- "):
                    current.blocks.append(_Block("item", text[2:].strip(), number, indent))
                    continue
                hm = HEADING_RE.match(text) if text[0] == "#" else None  # a heading starts with "#"
                if hm is not None:
                    current.blocks.append(
                        _Block("heading", hm["text"].strip(), number, indent, len(hm["hashes"]))
                    )
                else:
                    current.blocks.append(_Block("text", text, number, indent))
                continue
            fm = FIELD_RE.match(text) if text[0] == "*" else None  # a field starts with "**"
            if fm is not None:
                current_field = _Field(fm["key"].strip(), fm["value"].strip(), number)
                self.fields.append(current_field)
                continue
            if text == "-" or text.startswith("- "):
                if current_field is not None:
                    current_field.items.append(Item(text[2:].strip(), number))
                elif current is not None:
                    current.blocks.append(_Block("item", text[2:].strip(), number, 0))
                else:
                    self.issue(number, "list item outside any section or field", text)
                continue
            current_field = None
            hm = HEADING_RE.match(text) if text[0] == "#" else None
            if hm is not None:
                level, heading = len(hm["hashes"]), hm["text"].strip()
                if level == 2:
                    current = _Section(heading, number)
                    self.sections.append(current)
                elif level == 1:
                    self.issue(number, "a second '# ' title; expected one title per formation", text)
                elif current is not None:
                    current.blocks.append(_Block("heading", heading, number, 0, level))
                else:
                    self.issue(number, "sub-heading outside any section", text)
                continue
            if current is not None:
                current.blocks.append(_Block("text", text, number, 0))
            else:
                self.issue(number, "text outside any section or field", text)
        return self._build(title)

    # -- pass 2: fields and blocks → typed record ----------------------------------------------
    def _build(self, title: Item) -> FormationRecord:
        formation_id = self.key if self.kind == FICHE else None
        record = FormationRecord(
            kind=self.kind,
            source=self.source,
            sha256=self.sha256,
            key=self.key,
            formation_id=formation_id,
            id_line=title.line,
            title=title,
        )
        seen: set[str] = set()
        for f in self.fields:
            name = section_name(f.key)
            attr = FIELDS.get(name)
            if attr is None:
                record.extra_fields.append(ExtraField(f.key, f.value, f.line, tuple(f.items)))
                continue
            for item in f.items:
                self.issue(item.line, f"unexpected list item under '**{f.key}:**'", item.text)
            if attr in seen:
                self.issue(f.line, f"second '**{f.key}:**' field; expected one", f.value)
                continue
            if not f.value:
                self.issue(f.line, f"'**{f.key}:**' has no value", "")
                continue
            seen.add(attr)
            self._field(record, attr, f)
        if self.kind == IDEO and record.formation_id is None and "onisep_link" not in seen:
            self.issue(title.line, "no '**🔗 Fiche formation Onisep:**' link; the record has no FOR id", "")
        for section in self.sections:
            self._section(record, section)
        record.issues = sorted(self.issues, key=lambda i: i.line)
        return record

    def _field(self, record: FormationRecord, attr: str, f: _Field) -> None:
        value = Item(f.value, f.line)
        if attr == "nsf":
            codes = [c.strip() for c in f.value.split(NSF_SEPARATOR)]
            record.nsf.extend(Item(c, f.line) for c in codes if c)
        elif attr in ("url", "onisep_link"):
            url = self._link(value)
            if record.url is None:
                record.url = url
            else:  # a fiche with both links: keep the second as an extra field, not lost
                record.extra_fields.append(ExtraField(f.key, f.value, f.line))
            if attr == "onisep_link":
                m = FOR_ID_RE.search(url.text)
                if m is not None:
                    record.formation_id, record.id_line = m[0], f.line
                else:
                    self.issue(f.line, "the Onisep link names no FOR.<n> formation id", f.value)
        else:
            setattr(record, attr, value)

    def _link(self, value: Item) -> Item:
        """ "[url](url)" → url; a link whose text differs from its target keeps its text as an issue."""
        m = LINK_RE.match(value.text)
        if m is None:
            return value
        text, url = m["text"].strip(), m["url"]
        if text and text != url:
            self.issue(value.line, "link text differs from its target; the target is the URL", text)
        return Item(url, value.line)

    def _section(self, record: FormationRecord, section: _Section) -> None:
        name = section_name(section.title)
        blocks = section.blocks
        if name in ITEM_SECTIONS:
            for b in blocks:
                if b.kind != "item" or b.indent != 0 or not b.text:
                    self.issue(b.line, f"expected '- <item>' lines in '## {section.title}'", b.text)
                elif name == SEC_METIERS:
                    record.metier_labels.append(Item(b.text, b.line))
                else:
                    domain, slash, sub = b.text.partition("/")
                    record.domains.append(DomainRef(domain.strip(), sub.strip() if slash else None, b.line))
            record.sections.append(Section(section.title, section.line, ()))
            return
        parts = _parts(blocks)
        record.sections.append(Section(section.title, section.line, parts))
        if name == SEC_DESCRIPTION:
            record.description = _section_text(name, parts) or record.description
        elif name == SEC_ACCESS:
            record.access = _section_text(name, parts) or record.access
        elif name == SEC_FURTHER:
            record.further_studies = _section_text(name, parts) or record.further_studies
        elif name == SEC_EXPECTATIONS:
            record.expectations.extend(_expectations(blocks))


def _parts(blocks: list[_Block]) -> tuple[Part, ...]:
    """Blocks → parts (a heading and the paragraphs under it), one paragraph per line.

    A bare ``-`` marker followed by its text on the next, deeper indented line (the odd layout
    of the HTML conversion) makes one paragraph ``- <text>``; an indented ``- text`` line stays
    ``- text`` so the section reads as the list it is.
    """
    parts: list[Part] = []
    heading: _Block | None = None
    paragraphs: list[Item] = []

    def flush() -> None:
        if heading is not None or paragraphs:
            parts.append(
                Part(
                    Item(heading.text, heading.line) if heading else None,
                    heading.level if heading else None,
                    tuple(paragraphs),
                )
            )

    i = 0
    while i < len(blocks):
        b = blocks[i]
        if b.kind == "heading":
            flush()
            heading, paragraphs = b, []
        elif b.kind == "item":
            nxt = blocks[i + 1] if i + 1 < len(blocks) else None
            if not b.text and nxt is not None and nxt.kind == "text" and nxt.indent > b.indent:
                paragraphs.append(Item(f"- {nxt.text}", b.line))
                i += 1
            else:
                paragraphs.append(Item(f"- {b.text}" if b.text else "-", b.line))
        else:
            paragraphs.append(Item(b.text, b.line))
        i += 1
    flush()
    return tuple(parts)


def _section_text(name: str, parts: tuple[Part, ...]) -> Item | None:
    """The whole text of a section: its sub-headings (but one repeating the section title) and
    paragraphs, joined by blank lines; the line is that of the first of them."""
    pieces: list[Item] = []
    for part in parts:
        if part.heading is not None and section_name(part.heading.text).rstrip(" :") != name:
            pieces.append(part.heading)
        pieces.extend(part.paragraphs)
    if not pieces:
        return None
    return Item("\n\n".join(p.text for p in pieces), pieces[0].line)


def _expectations(blocks: list[_Block]) -> list[Item]:
    """The Parcoursup expectations of an "Attendus" section, one per list item.

    An item is a ``- `` line (its text on the same line, or on the next deeper indented lines
    when the marker stands alone) with every deeper indented line or nested item that follows;
    less indented text (a group heading such as "COMPÉTENCES GÉNÉRALES", an introduction) and
    headings end it. A section with no list item at all (58 fiches, mostly licences, write
    each expectation as a paragraph) gives one expectation per paragraph, all-capital group
    headings and sub-headings left out; when its paragraphs have two indentations (23 of them
    indent each expectation one space deeper than the explanation that follows it) only the
    deeper ones are expectations. The section text keeps everything, explanations included.
    Lines of a multi-line expectation are joined by "\\n".
    """
    out: list[Item] = []
    if not any(b.kind == "item" for b in blocks):
        texts = [b for b in blocks if b.kind == "text" and not b.text.isupper()]
        indents = {b.indent for b in texts}
        if len(indents) > 1:  # expectations indented deeper than their explanations (licences)
            texts = [b for b in texts if b.indent > min(indents)]
        return [Item(b.text, b.line) for b in texts]
    current: list[str] = []  # the lines of the expectation being read
    inside = False  # reading an item (and what is nested in it)
    base = line = 0

    def flush() -> None:
        if current:
            out.append(Item("\n".join(current), line))

    for b in blocks:
        nested = inside and b.indent > base
        if b.kind == "item" and nested:
            current.append(f"- {b.text}" if b.text else "-")  # a bare "-" is joined to its text below
        elif b.kind == "item":
            flush()
            current, inside, base, line = ([b.text] if b.text else []), True, b.indent, b.line
        elif b.kind == "text" and nested:
            if current and current[-1] == "-":
                current[-1] = f"- {b.text}"
            else:
                current.append(b.text)
        else:
            flush()
            current, inside = [], False
    flush()
    return out


# -- the catalog --------------------------------------------------------------------------------
@dataclass(slots=True)
class FormationCatalog:
    """Every formation source, grouped by FOR id, and the files that could not be used."""

    fiches: dict[str, FormationRecord] = field(default_factory=dict)  # FOR id → formation fiche
    ideo: dict[str, FormationRecord] = field(default_factory=dict)  # FOR id → Idéo record
    unlinked: list[FormationRecord] = field(default_factory=list)  # Idéo records with no FOR id
    failures: list[InputError] = field(default_factory=list)

    def __contains__(self, formation_id: object) -> bool:
        return formation_id in self.fiches or formation_id in self.ideo

    def __len__(self) -> int:
        return len(self.fiches.keys() | self.ideo.keys())

    def formation_ids(self) -> list[str]:
        """Every FOR id described by at least one source, in id order."""
        return sorted(self.fiches.keys() | self.ideo.keys(), key=_for_order)

    def sources(self, formation_id: str) -> list[FormationRecord]:
        """The records describing one formation: its fiche first, then its Idéo record."""
        return [r for r in (self.fiches.get(formation_id), self.ideo.get(formation_id)) if r is not None]

    def records(self) -> Iterator[FormationRecord]:
        """Every usable record, fiches then Idéo records (each in FOR id order), then unlinked."""
        for table in (self.fiches, self.ideo):
            for formation_id in sorted(table, key=_for_order):
                yield table[formation_id]
        yield from self.unlinked

    def summary(self, formation_id: str) -> tuple[str, int | None] | None:
        """(name, certification level number or None) of a formation, None when no source has it.

        The name is the fiche title, else the Idéo title; the level is the first "niveau N" of
        the fiche, else of the Idéo record ("non inscrit au RNCP" gives None).
        """
        sources = self.sources(formation_id)
        if not sources:
            return None
        level = next((n for n in (r.level_number for r in sources) if n is not None), None)
        return sources[0].title.text, level

    def summaries(self) -> dict[str, FormationSummary]:
        """FOR id → :class:`FormationSummary` of every described formation, for ``Referentials``."""
        out: dict[str, FormationSummary] = {}
        for formation_id in self.formation_ids():
            summary = self.summary(formation_id)
            if summary is not None:
                out[formation_id] = FormationSummary(*summary)
        return out


def _for_order(formation_id: str) -> int:
    return int(formation_id.partition(".")[2])


def _md_files(folder: Path) -> list[Path]:
    files = [p for p in folder.glob("*.md") if p.is_file() and not p.name.upper().startswith("README")]
    if os.name == "posix":  # every path is folder/<name>: by name is the paths' order, 10x cheaper
        return sorted(files, key=lambda p: p.name)
    return sorted(files)


def _display(path: Path) -> str:
    try:
        return os.path.relpath(path) if path.is_absolute() else str(path)
    except ValueError:
        return str(path)


def _displays(files: list[Path]) -> list[str]:
    """:func:`_display` of each file: worked out once for the folder when they share one."""
    if not files:
        return []
    parent = files[0].parent
    if any(p.parent != parent for p in files):
        return [_display(p) for p in files]
    prefix = _display(files[0])[: -len(files[0].name)]
    if _display(files[0]) != prefix + files[0].name or (
        len(files) > 1 and _display(files[-1]) != prefix + files[-1].name
    ):
        return [_display(p) for p in files]
    return [prefix + p.name for p in files]


def _parse_all(files: list[Path], parser, failures: list[InputError]) -> list[FormationRecord]:  # type: ignore[no-untyped-def]
    records = []
    for path, source in zip(files, _displays(files), strict=True):
        try:
            records.append(parser(path.read_bytes(), source))
        except OSError as exc:
            failures.append(InputError(source, None, f"cannot read: {exc.strerror}"))
        except InputError as exc:
            failures.append(exc)
    return records


def _group(
    records: list[FormationRecord], table: dict[str, FormationRecord], catalog: FormationCatalog
) -> None:
    """FOR id → record; two files of one kind claiming one FOR id: neither is used, both reported."""
    claims: dict[str, list[FormationRecord]] = {}
    for record in records:
        if record.formation_id is None:
            catalog.unlinked.append(record)
        else:
            claims.setdefault(record.formation_id, []).append(record)
    for formation_id, claimants in claims.items():
        if len(claimants) == 1:
            table[formation_id] = claimants[0]
            continue
        for record in claimants:
            others = ", ".join(r.source for r in claimants if r is not record)
            catalog.failures.append(
                InputError(
                    record.source,
                    record.id_line,
                    f"{formation_id} is also described by {others}; expected one file per FOR id "
                    "(neither is used)",
                )
            )


def load_formations(fiche_dir: Path | None, ideo_dir: Path | None) -> FormationCatalog:
    """Parse every ``*.md`` of both folders (either may be None); a bad file is reported, not raised."""
    with gc_paused():
        return _load_formations(fiche_dir, ideo_dir)


def _load_formations(fiche_dir: Path | None, ideo_dir: Path | None) -> FormationCatalog:
    catalog = FormationCatalog()
    if fiche_dir is not None:
        fiches = _parse_all(_md_files(fiche_dir), parse_formation_fiche, catalog.failures)
        _group(fiches, catalog.fiches, catalog)
    if ideo_dir is not None:
        ideo = _parse_all(_md_files(ideo_dir), parse_ideo_formation, catalog.failures)
        _group(ideo, catalog.ideo, catalog)
    catalog.failures.sort(key=lambda e: (e.source, e.line or 0))
    return catalog
