"""Parser for ONISEP fiches métiers (markdown text → :class:`MetierRecord`). No RDF here.

The format is line based. Column-0 lines carry the structure (``# title``, ``**Key:** value``
fields, ``## Section`` headings, ``### sub-heading``, ``- item``); lines indented by spaces are
body text of the current section, even when they look like headings (``            ## Après le
bac`` is text of "En bref", not a new section). Every non-blank line ends up in the record, or in
``record.issues`` when it is not where the format says it should be, so nothing is lost.

Fatal problems (not UTF-8, empty, no title, no ``**ID:**``) raise :class:`ParseError` with the
file, the line and what was expected.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from decimal import Decimal

from .errors import ParseError
from .records import (
    AccessRoute,
    Appellation,
    ExtraField,
    FormationRef,
    Item,
    MetierRecord,
    ParseIssue,
    Part,
    Salary,
    Section,
    StudyDuration,
)

FIELD_RE = re.compile(r"^\*\*(?P<key>[^*]+?):\*\*\s*(?P<value>.*)$")
HEADING_RE = re.compile(r"^(?P<hashes>#{1,6})\s*(?P<text>.*)$")
GENDER_RE = re.compile(r"^(?P<gender>Féminin|Masculin)\s*:\s*(?P<form>.*)$")
# The "(ID: FOR.<n>)" that ends a formation item; the label is what precedes it. (Not one
# "^(?P<label>.*?)\s*\(ID:…" pattern: its lazy label and the \s* after it share the spaces, and a
# long run of them made it quadratic: 20 s on a line of 100,000 spaces, half an hour on 1 MB.)
FORMATION_ID_RE = re.compile(r"\(ID:\s*(?P<id>FOR\.[0-9]+)\)$")
# ASCII digits: \d is any Unicode digit, and "MET.٧٩٩" would name files and IRIs of its own.
MET_ID_RE = re.compile(r"^MET\.[0-9]+$")
ROUTE_RE = re.compile(r"^Niveau\b", re.IGNORECASE)

# Section titles with a structure of their own.
SEC_OTHER_NAMES = "Autres appellations"
SEC_FORMATIONS = "Formations recommandées"
SEC_INTERESTS = "Centres d'intérêt"
SEC_IN_BRIEF = "En bref"
SEC_ACCESS = "Accès au métier"
STRUCTURED_SECTIONS = frozenset({SEC_OTHER_NAMES, SEC_FORMATIONS, SEC_INTERESTS})
HEADING_DURATION = "durée des études"
HEADING_SALARY = "salaire du débutant"
ROUTE_MAX_CHARS = 80  # "Niveau bac + 2" is a route heading; a long sentence is prose.
# The largest fiche read. The largest shipped fiche is 14,854 bytes and the whole corpus 10 MB:
# 2 MiB is over 100 times any real fiche, and a file that big is not a fiche (a dump, a log, a
# binary); it is refused from its size, before it is read (see read_fiche).
MAX_FICHE_BYTES = 2 * 1024 * 1024

# Header fields.
F_ID = "ID"
F_NAMES = "Appellations"
F_ROME = "Codes ROME"
F_LEVEL = "Niveau d'accès minimum"
F_STATUSES = "Statuts possibles"


def decode(data: bytes, source: str) -> str:
    """Bytes → text with LF line ends; a clear error for what is not a UTF-8 text fiche."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ParseError(
            source,
            line,
            f"not UTF-8: byte 0x{data[exc.start]:02X} at column {column} cannot be decoded; "
            "expected a UTF-8 encoded fiche (re-encode it, e.g. iconv -f latin1 -t utf-8)",
        ) from None
    nul = text.find("\x00")
    if nul >= 0:
        raise ParseError(
            source, text.count("\n", 0, nul) + 1, "binary content (NUL byte); expected a text fiche"
        )
    return text.replace("\r\n", "\n").replace("\r", "\n")


@dataclass(slots=True)
class _Block:
    kind: str  # "heading", "text" or "item"
    text: str
    line: int
    level: int = 0


@dataclass(slots=True)
class _Field:
    key: str
    value: str
    line: int
    items: list[Item] = field(default_factory=list)


def parse_metier(data: bytes, source: str) -> MetierRecord:
    """Parse one fiche métier. ``source`` names the file in errors and in the record."""
    if len(data) > MAX_FICHE_BYTES:
        raise too_large(source, len(data))
    return _MetierParser(source, data).parse()


def too_large(source: str, size: int) -> ParseError:
    return ParseError(
        source,
        None,
        f"{size:,} bytes, over the limit of {MAX_FICHE_BYTES:,} bytes for one fiche "
        "(the largest shipped fiche is 15 KB); expected a fiche métier, not read",
    )


def read_fiche(path: str | os.PathLike[str], source: str) -> bytes:
    """The bytes of the fiche at ``path``; :class:`ParseError` when it is over
    :data:`MAX_FICHE_BYTES`, found from its size before anything is read. What is read is bounded
    too (a file that grows meanwhile, a size the system does not know), so no more than the limit
    and one byte is ever held. ``OSError`` when it cannot be read."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size > MAX_FICHE_BYTES:
            raise too_large(source, size)
        data = f.read(MAX_FICHE_BYTES + 1)
    if len(data) > MAX_FICHE_BYTES:
        raise too_large(source, max(size, len(data)))
    return data


class _MetierParser:
    def __init__(self, source: str, data: bytes) -> None:
        self.source = source
        self.sha256 = hashlib.sha256(data).hexdigest()
        self.lines = decode(data, source).split("\n")
        self.fields: list[_Field] = []
        self.sections: list[tuple[str, int, list[_Block]]] = []
        self.issues: list[ParseIssue] = []

    def issue(self, line: int, message: str, text: str) -> None:
        self.issues.append(ParseIssue(line, message, text))

    # -- pass 1: lines → title, fields and section blocks ------------------------------------
    def parse(self) -> MetierRecord:
        first = next((i for i, raw in enumerate(self.lines) if raw.strip()), None)
        if first is None:
            raise ParseError(self.source, 1, "empty file: expected a fiche starting with '# <nom du métier>'")
        m = HEADING_RE.match(self.lines[first])
        if m is None or len(m["hashes"]) != 1 or not m["text"].strip():
            raise ParseError(
                self.source,
                first + 1,
                f"expected the title line '# <nom du métier>', found {self.lines[first][:60]!r}",
            )
        title = Item(m["text"].strip(), first + 1)

        current_field: _Field | None = None
        current_section: list[_Block] | None = None
        for number, raw in enumerate(self.lines[first + 1 :], first + 2):
            text = raw.strip()
            if not text:
                continue
            if raw[0] in " \t":  # indented: body text, even when it looks like a heading
                if current_section is None:
                    self.issue(number, "indented text outside any section", text)
                    continue
                hm = HEADING_RE.match(text)
                if hm is not None:
                    current_section.append(_Block("heading", hm["text"].strip(), number, len(hm["hashes"])))
                else:
                    current_section.append(_Block("text", text, number))
                continue
            fm = FIELD_RE.match(text)
            if fm is not None:
                current_section = None
                current_field = _Field(fm["key"].strip(), fm["value"].strip(), number)
                self.fields.append(current_field)
                continue
            if text.startswith("- ") or text == "-":
                if current_field is not None:
                    current_field.items.append(Item(text[2:].strip(), number))
                elif current_section is not None:
                    current_section.append(_Block("item", text[2:].strip(), number))
                else:
                    self.issue(number, "list item outside any section or field", text)
                continue
            current_field = None
            hm = HEADING_RE.match(text)
            if hm is not None:
                level, heading = len(hm["hashes"]), hm["text"].strip()
                in_access = bool(self.sections) and self.sections[-1][0] == SEC_ACCESS
                if level == 2 and not (current_section is not None and in_access and ROUTE_RE.match(heading)):
                    current_section = []
                    self.sections.append((heading, number, current_section))
                elif level == 1:
                    self.issue(number, "a second '# ' title; expected one title per fiche", text)
                elif current_section is not None:
                    current_section.append(_Block("heading", heading, number, level))
                else:
                    self.issue(number, "sub-heading outside any section", text)
                continue
            if current_section is not None:
                current_section.append(_Block("text", text, number))
            else:
                self.issue(number, "text outside any section or field", text)
        return self._build(title)

    # -- pass 2: fields and blocks → typed record ----------------------------------------------
    def _build(self, title: Item) -> MetierRecord:
        id_field = next((f for f in self.fields if f.key == F_ID), None)
        if id_field is None:
            before = self.sections[0][1] if self.sections else len(self.lines)
            raise ParseError(
                self.source,
                before,
                f"no '**ID:** MET.<n>' field in the header (expected before line {before})",
            )
        if not MET_ID_RE.match(id_field.value):
            raise ParseError(
                self.source,
                id_field.line,
                f"expected '**ID:** MET.<n>', found {id_field.value[:40]!r}",
            )
        record = MetierRecord(
            source=self.source,
            sha256=self.sha256,
            metier_id=id_field.value,
            id_line=id_field.line,
            title=title,
            appellation=Appellation(title, None, None),
        )
        seen: set[str] = set()
        for f in self.fields:
            if f.key in seen and f.key in {F_ID, F_NAMES, F_LEVEL}:
                self.issue(f.line, f"second '**{f.key}:**' field; expected one", f.value)
                self._keep_items(f.items, f"item of a repeated '**{f.key}:**' field")
                continue
            seen.add(f.key)
            self._field(record, f)
        if F_NAMES not in seen:
            self.issue(title.line, "no '**Appellations:**' block; expected Féminin/Masculin", "")
        for heading, line, blocks in self.sections:
            self._section(record, heading, line, blocks)
        record.issues = sorted(self.issues, key=lambda i: i.line)
        return record

    def _keep_items(self, items: list[Item], message: str) -> None:
        for item in items:
            self.issue(item.line, message, item.text)

    def _field(self, record: MetierRecord, f: _Field) -> None:
        if f.value and f.key in (F_NAMES, F_ROME, F_STATUSES):  # kept, not dropped: nothing is lost
            self.issue(
                f.line, f"unexpected text after '**{f.key}:**'; expected its values as '- ' items", f.value
            )
        if f.key == F_ID:
            self._keep_items(f.items, "unexpected list item under '**ID:**'")
        elif f.key == F_NAMES:
            record.appellation = self._gendered(record.title, f.items)
        elif f.key == F_ROME:
            record.rome_codes.extend(f.items)
        elif f.key == F_STATUSES:
            record.statuses.extend(f.items)
        elif f.key == F_LEVEL:
            if f.value:
                record.access_level = Item(f.value, f.line)
            else:
                self.issue(f.line, f"'**{F_LEVEL}:**' has no value", "")
            self._keep_items(f.items, f"unexpected list item under '**{F_LEVEL}:**'")
        else:
            record.extra_fields.append(ExtraField(f.key, f.value, f.line, tuple(f.items)))

    def _gendered(self, label: Item | None, items: list[Item]) -> Appellation:
        forms: dict[str, Item] = {}
        for item in items:
            m = GENDER_RE.match(item.text)
            if m is None or m["gender"] in forms or not m["form"].strip():
                self.issue(item.line, "expected '- Féminin: <nom>' or '- Masculin: <nom>'", item.text)
                continue
            forms[m["gender"]] = Item(m["form"].strip(), item.line)
        return Appellation(label, forms.get("Féminin"), forms.get("Masculin"))

    def _section(self, record: MetierRecord, title: str, line: int, blocks: list[_Block]) -> None:
        if title == SEC_OTHER_NAMES:
            self._other_names(record, blocks)
        elif title == SEC_FORMATIONS:
            for b in blocks:
                m = FORMATION_ID_RE.search(b.text) if b.kind == "item" else None
                if m is None:
                    self.issue(b.line, "expected '- <formation> (ID: FOR.<n>)'", b.text)
                else:
                    record.formations.append(FormationRef(b.text[: m.start()].rstrip(), m["id"], b.line))
        elif title == SEC_INTERESTS:
            for b in blocks:
                if b.kind == "item":
                    record.interests.append(Item(b.text, b.line))
                else:
                    self.issue(b.line, "expected '- <centre d'intérêt>'", b.text)
        if title in STRUCTURED_SECTIONS:
            record.sections.append(Section(title, line, ()))
            return
        record.sections.append(Section(title, line, _parts(blocks)))
        if title == SEC_IN_BRIEF:
            record.study_durations.extend(_study_durations(blocks))
        if title == SEC_ACCESS:
            record.access_routes.extend(_access_routes(blocks))
        salary = _salary(blocks)
        if salary is not None:
            if record.salary is None:
                record.salary = salary
            else:
                self.issue(salary.raw.line, "second 'Salaire du débutant'; kept as text", salary.raw.text)

    def _other_names(self, record: MetierRecord, blocks: list[_Block]) -> None:
        label: Item | None = None
        items: list[Item] = []

        def flush() -> None:
            if label is not None:
                record.other_appellations.append(self._gendered(label, items))

        for b in blocks:
            if b.kind == "heading":
                flush()
                label, items = Item(b.text, b.line), []
            elif b.kind == "item" and label is not None:
                items.append(Item(b.text, b.line))
            else:
                self.issue(b.line, "expected '### <appellation>' then Féminin/Masculin items", b.text)
        flush()


def _parts(blocks: list[_Block]) -> tuple[Part, ...]:
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

    for b in blocks:
        if b.kind == "heading":
            flush()
            heading, paragraphs = b, []
        else:
            paragraphs.append(Item(b.text, b.line))
    flush()
    return tuple(parts)


def _study_durations(blocks: list[_Block]) -> list[StudyDuration]:
    """The stages and texts under the "Durée des études" heading of "En bref"."""
    out: list[StudyDuration] = []
    inside = False
    stage: Item | None = None
    paragraphs: list[Item] = []
    for b in blocks:
        if b.kind == "heading" and b.text.lower() == HEADING_DURATION:
            inside = True
            continue
        if not inside:
            continue
        if b.kind == "heading" and b.level >= 3:
            break
        if b.kind == "heading":
            if stage is not None or paragraphs:
                out.append(StudyDuration(stage, tuple(paragraphs)))
            stage, paragraphs = Item(b.text, b.line), []
        else:
            paragraphs.append(Item(b.text, b.line))
    if stage is not None or paragraphs:
        out.append(StudyDuration(stage, tuple(paragraphs)))
    return out


def _access_routes(blocks: list[_Block]) -> list[AccessRoute]:
    """ "Niveau bac + 2" lines of "Accès au métier" and the diplomas listed under each."""
    routes: list[AccessRoute] = []
    wording: Item | None = None
    diplomas: list[Item] = []

    def flush() -> None:
        if wording is not None:
            routes.append(AccessRoute(wording, tuple(diplomas)))

    for b in blocks:
        if ROUTE_RE.match(b.text) and len(b.text) <= ROUTE_MAX_CHARS:
            flush()
            wording, diplomas = Item(b.text, b.line), []
        elif b.kind == "heading":
            flush()
            wording, diplomas = None, []
        elif wording is not None:
            diplomas.append(Item(b.text, b.line))
    flush()
    return routes


def _salary(blocks: list[_Block]) -> Salary | None:
    for i, b in enumerate(blocks):
        if b.kind == "heading" and b.text.lower() == HEADING_SALARY:
            nxt = blocks[i + 1] if i + 1 < len(blocks) else None
            if nxt is not None and nxt.kind != "heading":
                return parse_salary(Item(nxt.text, nxt.line))
            return None
    return None


# A number: digits, maybe grouped by spaces, maybe a decimal part. It ends on a digit: were it
# allowed to end on a space, it and the \s+ before "euros" would share the spaces, and a long
# run of them ("A partir de 1" and 100,000 spaces) took over a minute to fail.
_NUM = r"(\d(?:[\d\u00a0\u202f ]*(?:\d|[.,]\d+))?)"
_PERIODS = {
    "mois": "MONTH",
    "an": "YEAR",
    "année": "YEAR",
    "semaine": "WEEK",
    "jour": "DAY",
    "heure": "HOUR",
    "forfait journalier": "DAY",
}
_UNIT = r"(?:par|le|de l')\s*(mois|an|année|semaine|jour|heure|forfait journalier)"
# An amount in euros, then optionally gross/net, then optionally a period, then the qualifier.
_TAIL = rf"\s+euros(?:\s+(brut|net))?(?:\s+{_UNIT}\b)?(?:[,.]?\s*(.*))?$"
SALARY_PATTERNS = (  # (pattern, has a maximum of its own, a single amount is both bounds)
    (re.compile(rf"^(?:A|À) partir de {_NUM}{_TAIL}", re.I), False, False),
    (re.compile(rf"^Entre {_NUM} et {_NUM}{_TAIL}", re.I), True, False),
    (re.compile(rf"^De {_NUM} à {_NUM}{_TAIL}", re.I), True, False),
    (re.compile(rf"^{_NUM}{_TAIL}", re.I), False, True),
)


def _number(text: str) -> Decimal:
    return Decimal(re.sub(r"[\s\u00a0\u202f]", "", text).replace(",", "."))


def parse_salary(raw: Item) -> Salary:
    """ "A partir de 1801 euros brut par mois, hors primes" → Salary(min 1801, EUR, MONTH…)."""
    text = raw.text
    variable = "variable" in text.lower()
    for pattern, has_max, single in SALARY_PATTERNS:
        m = pattern.match(text)
        if m is None:
            continue
        if has_max:
            low, high, basis, unit, rest = m.groups()
            minimum, maximum = _number(low), _number(high)
        else:
            low, basis, unit, rest = m.groups()
            minimum = _number(low)
            maximum = minimum if single else None
        return Salary(
            raw=raw,
            min_value=minimum,
            max_value=maximum,
            currency="EUR",
            period=_PERIODS[unit.lower()] if unit else None,
            basis=None if basis is None else "gross" if basis.lower() == "brut" else "net",
            qualifier=(rest or "").strip() or None,
            variable=variable,
        )
    return Salary(raw=raw, variable=variable)
