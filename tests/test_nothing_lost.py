"""Nothing in a fiche is lost: every non-blank line of every real fiche is found in its graph.

The check reads the Turtle the ingest wrote for each fiche (``<out>/metiers/<MET id>.ttl``), not
the in-memory records, and knows nothing of :mod:`pipeline.parse`: it strips the markdown syntax
of each line with its own small rules and looks the remaining text up in the fiche's graph,

- as a literal of the graph, or one of the ``"\\n\\n"``-joined paragraphs of a literal, or
  (last resort) a substring of a literal;
- or as the value parsed from it: ``**ID:** MET.n`` → the métier's ``dcterms:identifier``; a
  ROME code item → ``skos:notation`` of a ROME code of the métier; ``- label (ID: FOR.n)`` → a
  recommended formation with that ``dcterms:identifier`` and that ``rdfs:label``; a
  ``**Key:**`` line with no value (``**Codes ROME:**``) → its items, which must all be found; a
  field the format does not define (``**Mise à jour:** …``) → its key and its value, both.

A hand-made fiche with a line the format does not know shows the check can fail.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import pytest

from pipeline.ingest import PARSER_SHAPE, IngestReport, Pipeline, ingest

ROOT = Path(__file__).resolve().parent.parent
FICHES = ROOT / "seeds" / "onisep-fiches" / "metiers"
EXPECTED_FICHES = 1043

OKG = "https://w3id.org/onisep-kg/ontology#"
DCT_IDENTIFIER = ox.NamedNode("http://purl.org/dc/terms/identifier")
SKOS_NOTATION = ox.NamedNode("http://www.w3.org/2004/02/skos/core#notation")
RDFS_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
OKG_METIER = ox.NamedNode(OKG + "Metier")
OKG_ROME_CODE = ox.NamedNode(OKG + "romeCode")
OKG_RECOMMENDED = ox.NamedNode(OKG + "recommendedFormation")

# The markdown syntax of one line, as the task describes the format (not the parser's rules).
HEADING = re.compile(r"^#{1,6}\s+")
ITEM = re.compile(r"^-\s+")
FIELD = re.compile(r"^\*\*(?P<key>[^*]+?):\*\*\s*(?P<value>.*)$")
GENDER = re.compile(r"^(?:Féminin|Masculin)\s*:\s*")
FOR_SUFFIX = re.compile(r"\s*\(ID:\s*(?P<id>FOR\.\d+)\)$")
MET_ID = "ID"
ROME_KEY = "Codes ROME"
BLOCK_FIELDS = frozenset({"Appellations", ROME_KEY, "Statuts possibles"})
# The fields of the format; the key of any other field is content and must be found too.
KNOWN_FIELDS = BLOCK_FIELDS | {MET_ID, "Niveau d'accès minimum"}


# -- the fiche's graph, as read back from disk ------------------------------------------------------
@dataclass(slots=True)
class FicheFacts:
    """What the check needs from one fiche graph: its literals and a few parsed values."""

    literals: set[str] = field(default_factory=set)
    pieces: set[str] = field(default_factory=set)  # literals split on the "\n\n" paragraph joints
    blob: str = ""  # all literals joined by NUL, for substring search
    metier_ids: set[str] = field(default_factory=set)
    rome_notations: set[str] = field(default_factory=set)
    formations: dict[str, set[str]] = field(default_factory=dict)  # FOR id → labels

    @classmethod
    def from_triples(cls, triples: Sequence[ox.Triple]) -> FicheFacts:
        facts = cls()
        by_subject: dict[object, list[ox.Triple]] = {}
        metiers: set[object] = set()
        for t in triples:
            by_subject.setdefault(t.subject, []).append(t)
            if isinstance(t.object, ox.Literal):
                facts.literals.add(t.object.value)
            if t.predicate == RDF_TYPE and t.object == OKG_METIER:
                metiers.add(t.subject)

        def values(subject: object, predicate: ox.NamedNode) -> list[str]:
            return [
                t.object.value
                for t in by_subject.get(subject, ())
                if t.predicate == predicate and isinstance(t.object, ox.Literal)
            ]

        for m in metiers:
            facts.metier_ids.update(values(m, DCT_IDENTIFIER))
            for t in by_subject.get(m, ()):
                if t.predicate == OKG_ROME_CODE:
                    facts.rome_notations.update(values(t.object, SKOS_NOTATION))
                elif t.predicate == OKG_RECOMMENDED:
                    for for_id in values(t.object, DCT_IDENTIFIER):
                        facts.formations.setdefault(for_id, set()).update(values(t.object, RDFS_LABEL))
        for lit in facts.literals:
            facts.pieces.update(lit.split("\n\n"))
        facts.blob = "\x00".join(sorted(facts.literals))
        return facts

    @classmethod
    def from_turtle(cls, path: Path) -> FicheFacts:
        return cls.from_triples(list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)))

    def has_text(self, *texts: str) -> str | None:
        """How the first findable of ``texts`` is found: "literal", "paragraph", "substring"."""
        if any(t in self.literals for t in texts):
            return "literal"
        if any(t in self.pieces for t in texts):
            return "paragraph"
        if any(t and t in self.blob for t in texts):
            return "substring"
        return None


# -- the checker ------------------------------------------------------------------------------------
@dataclass(slots=True)
class LineCheck:
    number: int
    raw: str
    how: str | None  # None: missing

    @property
    def found(self) -> bool:
        return self.how is not None


def strip_markdown(line: str) -> str:
    """One line without its markdown: heading marks, list marker, gendered prefix, field key."""
    text = line.strip()
    text = HEADING.sub("", text, count=1)
    text = ITEM.sub("", text, count=1)
    m = FIELD.match(text)
    if m is not None:
        text = m["value"]
    return GENDER.sub("", text, count=1).strip()


def check_fiche(text: str, facts: FicheFacts) -> list[LineCheck]:
    """Check each non-blank line of a fiche's text against its graph; one result per line."""
    lines = text.splitlines()
    results: list[LineCheck] = []
    pending_blocks: list[tuple[int, str, list[int]]] = []  # (result index, key, item result indexes)
    field_key: str | None = None  # the column-0 **Key:** whose items we are reading
    for number, raw in enumerate(lines, 1):
        stripped = raw.strip()
        if not stripped:
            continue
        column0 = raw[0] not in " \t"
        fm = FIELD.match(stripped) if column0 else None
        is_item = column0 and ITEM.match(stripped) is not None
        if fm is not None:
            field_key = fm["key"].strip()
        elif not is_item:
            field_key = None
        results.append(LineCheck(number, raw, _find(stripped, fm, is_item, field_key, facts)))
        if fm is not None and not fm["value"].strip():
            pending_blocks.append((len(results) - 1, field_key or "", []))
        elif is_item and field_key is not None and pending_blocks and pending_blocks[-1][1] == field_key:
            pending_blocks[-1][2].append(len(results) - 1)
    # an empty-valued **Key:** line is represented by its items: a known block with all items found
    for index, key, items in pending_blocks:
        found = items and all(results[i].found for i in items)
        if results[index].how is None and key in BLOCK_FIELDS and found:
            results[index].how = f"block of {len(items)} item(s)"
    return results


def _find(
    stripped: str, fm: re.Match[str] | None, is_item: bool, field_key: str | None, facts: FicheFacts
) -> str | None:
    text = strip_markdown(stripped)
    if fm is not None and fm["key"].strip() == MET_ID:
        return "dcterms:identifier" if text in facts.metier_ids else None
    if is_item and field_key == ROME_KEY:
        return "skos:notation" if text in facts.rome_notations else None
    if fm is not None and fm["key"].strip() not in KNOWN_FIELDS:
        key_found = facts.has_text(fm["key"].strip())
        if key_found is None or not text:
            return key_found and f"field key {key_found}"
        return facts.has_text(text, stripped) and f"field {key_found}"
    fs = FOR_SUFFIX.search(text)
    if fs is not None:
        label = text[: fs.start()]
        labels = facts.formations.get(fs["id"])
        if labels is not None and (label in labels or not label):
            return "recommended formation"
        # a FOR reference outside the formation list is plain text
        return facts.has_text(stripped, text)
    if not text:
        # only an empty **Key:** can be empty here; it is settled with its items
        return None if fm is not None else facts.has_text(stripped)
    return facts.has_text(text, stripped)


def missing_lines(text: str, facts: FicheFacts) -> list[LineCheck]:
    return [r for r in check_fiche(text, facts) if not r.found]


# -- the whole corpus -------------------------------------------------------------------------------
def _fiche_files() -> list[Path]:
    return sorted(FICHES.glob("MET.*.md"))


def _met_id(text: str) -> str:
    m = re.search(r"^\*\*ID:\*\*\s*(MET\.\d+)\s*$", text, re.MULTILINE)
    assert m is not None, "no **ID:** line"
    return m[1]


@pytest.mark.slow
def test_every_line_of_every_fiche_is_in_its_graph(corpus: tuple[IngestReport, Path]) -> None:
    _report, out = corpus
    files = _fiche_files()
    assert len(files) == EXPECTED_FICHES

    plain_count = 0
    checked = 0
    how_counts: dict[str, int] = {}
    missing: dict[str, list[str]] = {}
    for path in files:
        text = path.read_text(encoding="utf-8")
        plain_count += sum(1 for line in text.splitlines() if line.strip())
        ttl = out / "metiers" / f"{_met_id(text)}.ttl"
        assert ttl.is_file(), f"{path.name}: no graph written at {ttl}"
        results = check_fiche(text, FicheFacts.from_turtle(ttl))
        checked += len(results)
        for r in results:
            key = r.how or "MISSING"
            how_counts[key] = how_counts.get(key, 0) + 1
        lost = [f"  line {r.number}: {r.raw.strip()[:100]!r}" for r in results if not r.found]
        if lost:
            missing[path.name] = lost

    print(f"\nnothing lost: {checked} non-blank lines checked in {len(files)} fiches; found as {how_counts}")
    report = "\n".join(f"{name}:\n" + "\n".join(lines) for name, lines in sorted(missing.items()))
    n_missing = sum(len(v) for v in missing.values())
    assert not missing, f"{n_missing} line(s) of {len(missing)} fiche(s) not in the graph:\n{report}"
    assert checked == plain_count


# -- the check can fail ---------------------------------------------------------------------------
HAND_MADE = """\
# testeur de fiches
**ID:** MET.990001
Texte libre hors section

**Appellations:**
- Féminin: testeuse de fiches
- Masculin: testeur de fiches

**Codes ROME:**
- M1805

## Présentation

Une phrase de présentation.

**Niveau d'accès minimum:** bac + 2

## Formations recommandées

- BTS services informatiques aux organisations (ID: FOR.5337)

**Statuts possibles:**
- salarié

**Mise à jour:** octobre 2025
"""
UNKNOWN_LINE = "Texte libre hors section"
ABSENT_LINE = "Cette ligne n'est pas dans la fiche"


@pytest.fixture(scope="module")
def hand_made(tmp_path_factory: pytest.TempPathFactory, pipeline: Pipeline) -> tuple[IngestReport, Path]:
    root = tmp_path_factory.mktemp("hand-made")
    fiche = root / "MET.990001_testeur_de_fiches.md"
    fiche.write_text(HAND_MADE, encoding="utf-8")
    report = ingest([fiche], root / "out", pipeline=pipeline)
    return report, root / "out" / "metiers" / "MET.990001.ttl"


def test_a_line_unknown_to_the_format_is_kept_and_found(hand_made: tuple[IngestReport, Path]) -> None:
    report, ttl = hand_made
    assert report.failures == []
    issues = [f for f in report.findings if f.shape == PARSER_SHAPE]
    assert [(f.line, UNKNOWN_LINE in f.message) for f in issues] == [(3, True)]
    triples = list(ox.parse(path=str(ttl), format=ox.RdfFormat.TURTLE))
    unparsed = [t.object.value for t in triples if t.predicate == ox.NamedNode(OKG + "unparsedLine")]
    assert unparsed == [UNKNOWN_LINE]

    results = check_fiche(HAND_MADE, FicheFacts.from_turtle(ttl))
    assert len(results) == sum(1 for line in HAND_MADE.splitlines() if line.strip())
    assert [r for r in results if not r.found] == []
    how = {r.raw.strip(): r.how for r in results}
    assert how[UNKNOWN_LINE] == "literal"
    assert how["**ID:** MET.990001"] == "dcterms:identifier"
    assert how["- M1805"] == "skos:notation"
    assert how["**Codes ROME:**"] == "block of 1 item(s)"
    assert how["- BTS services informatiques aux organisations (ID: FOR.5337)"] == "recommended formation"
    assert how["**Mise à jour:** octobre 2025"] == "field literal"


def test_the_checker_reports_a_line_that_is_not_in_the_graph(hand_made: tuple[IngestReport, Path]) -> None:
    _report, ttl = hand_made
    triples = list(ox.parse(path=str(ttl), format=ox.RdfFormat.TURTLE))
    facts = FicheFacts.from_triples(triples)

    # a line that is not in the fiche (so not in the graph) is reported missing
    text = HAND_MADE.replace("Une phrase de présentation.", f"Une phrase de présentation.\n{ABSENT_LINE}")
    lost = missing_lines(text, facts)
    assert [(r.number, r.raw) for r in lost] == [(15, ABSENT_LINE)]

    # the graph without its okg:unparsedLine: the unknown line is reported missing
    without = FicheFacts.from_triples(
        [t for t in triples if t.predicate != ox.NamedNode(OKG + "unparsedLine")]
    )
    assert [r.raw for r in missing_lines(HAND_MADE, without)] == [UNKNOWN_LINE]

    # the graph without the ROME code: the item and its empty **Codes ROME:** line are missing
    without_rome = FicheFacts.from_triples([t for t in triples if t.predicate != OKG_ROME_CODE])
    assert [r.raw for r in missing_lines(HAND_MADE, without_rome)] == ["**Codes ROME:**", "- M1805"]

    # an unknown field is found by its key and its value, both
    other_key = HAND_MADE.replace("**Mise à jour:**", "**Mise a jour:**")
    assert [r.raw for r in missing_lines(other_key, facts)] == ["**Mise a jour:** octobre 2025"]
    other_value = HAND_MADE.replace("octobre 2025", "novembre 2025")
    assert [r.raw for r in missing_lines(other_value, facts)] == ["**Mise à jour:** novembre 2025"]

    # a formation cited under another FOR id is not accepted by its label alone
    other_id = HAND_MADE.replace("(ID: FOR.5337)", "(ID: FOR.1)")
    assert [r.raw for r in missing_lines(other_id, facts)] == [
        "- BTS services informatiques aux organisations (ID: FOR.1)"
    ]
