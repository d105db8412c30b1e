"""ROME v4.60 and the ESCO ↔ ROME crosswalk: readers, mappers, link statistics, ESCO look-up.

Three CSV files, each read with the ``csv`` module into typed rows that keep their line:

* ``unix_referentiel_code_rome_v460_utf8.csv`` — 1,584 ROME v4 *métiers* (``code_rome``), each
  under the ROME v3 fiche code the ONISEP fiches cite (``code_rome_parent``);
* ``unix_referentiel_appellation_v460_utf8.csv`` — 13,120 appellations (``code_ogr``), each under
  a v4 métier (``code_rome``), PRINCIPALE (the métier's own title) or SYNONYME;
* ``FR_20230607_mapping_esco_rome.csv`` — 11,118 appellation → ESCO occupation mappings, after a
  metadata preamble (project name, author, versions…).

Each file becomes one self-contained named graph (decision 0001) with its PROV-O record:

* ``rome-v4/<code>`` okg:RomeMetier — notation, title, ``dcterms:identifier`` (its OGR code),
  ``skos:broader`` the v3 code ``rome/<code_rome_parent>`` (typed and labelled from ROME v3.46,
  with its broader chain I1401 → I14 → I, exactly as the métier mapper writes it);
* ``rome-appellation/<code_ogr>`` okg:RomeAppellation — long title (``skos:prefLabel``), short
  title when different (``skos:altLabel``), ``skos:broader`` its v4 métier, ``okg:romeParent`` its
  own v3 fiche code (for 404 appellations it is not the v4 métier's parent: the crosswalk was
  made against ROME v3, so the ESCO look-up uses this code), and a SKOS-XL label
  ``label/rome-<code_ogr>`` that is also the v4 métier's ``skosxl:prefLabel`` (PRINCIPALE) or
  ``skosxl:altLabel`` (SYNONYME): label → appellation → v4 métier → v3 fiche → ONISEP métiers;
* crosswalk: ``rome-appellation/<code_ogr> skos:exactMatch|closeMatch|broadMatch|narrowMatch
  <http://data.europa.eu/esco/occupation/…>``, the ESCO occupation typed okg:EscoOccupation with
  its French label. The relation is written as the row states it, with the appellation as
  subject: the rows read that way ("Tractoriste agricole" broadMatch "conducteur d'engins
  agricoles"; "Électricien réseaux" narrowMatch "monteur-électricien en réseaux de distribution
  électrique"), and 5,086 broad against 291 narrow matches fit 1,915 ESCO occupations covering
  11,118 appellations; swapping broad and narrow would invert all of them. The crosswalk's
  ROME label, when it is neither of the appellation's titles (an older ROME v3.0 wording, 1,472
  rows), is kept as ``skos:hiddenLabel``. A row whose appellation is unknown is kept too (the
  appellation is typed from the crosswalk alone: a warning) and reported in the link statistics.

Values are trimmed of surrounding spaces. The whole-file graphs have a ``schema:Dataset``
(``dataset/<key>``) as subject, so their PROV record has something to hang ``dcterms:source`` on.

Every column is mapped: the transition flags (``transition_eco`` as a French string,
``transition_num`` / ``transition_demo`` / ``emploi_reglemente`` / ``emploi_cadre`` /
``peu_usite`` as booleans from ``O``/``N``; empty means unknown, no triple) and
``code_fiche_metier`` with the ontology terms of :class:`NEW`; the PRINCIPALE/SYNONYME
``classification`` as the v4 métier's SKOS-XL pref/alt label; the appellation's
``code_rome_parent`` as ``okg:romeParent``; the crosswalk preamble as ``schema:PropertyValue``s of
the crosswalk dataset. One column is not mapped: the appellations' ``origine``, empty in all
13,120 rows of v4.60 (the reader keeps it; a test checks it stays empty).

Structural problems (an unreadable file, a wrong header, a row with the wrong number of fields, a
missing key, an unknown classification or mapping relation) raise :class:`InputError` naming the
file and line. Value problems (a malformed code, a missing title) reach the graph and are
reported by the shapes in ``shapes/rome-esco.shacl.ttl``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Generic, TypeVar

from rdflib import DCTERMS, SDO, SKOS, XSD, Literal, URIRef

from . import resources
from .emit import (
    EUROPEAN_COMMISSION,
    FRANCE_TRAVAIL,
    Emitter,
    FicheGraph,
    Publisher,
    canonical_terms,
    fr,
    gc_paused,
    generated_at,
    integer,
    plain,
)
from .errors import InputError
from .linking import LinkReport
from .referentials import load_rome_v3
from .vocab import OKG, SKOSXL, Ids

__all__ = [
    "ESCO_OCCUPATIONS",
    "MAPPING_RELATIONS",
    "AppellationRow",
    "Crosswalk",
    "CrosswalkRow",
    "EscoIndex",
    "MetadataEntry",
    "RomeEsco",
    "RomeEscoMapper",
    "RomeMetierRow",
    "Table",
    "dataset_iri",
    "emit_rome_v3",
    "esco_labels",
    "link_rome_esco",
    "load_and_map",
    "load_rome_esco",
    "parse_esco_crosswalk",
    "parse_rome_v4_appellations",
    "parse_rome_v4_metiers",
]

ESCO_OCCUPATIONS = URIRef("http://data.europa.eu/esco/concept-scheme/occupations")
# rdflib namespace attributes cost ~1.5 µs each: read once, as canonical instances.
_NOTATION, _IN_SCHEME, _PREF, _ALT, _HIDDEN, _BROADER = canonical_terms(
    SKOS.notation, SKOS.inScheme, SKOS.prefLabel, SKOS.altLabel, SKOS.hiddenLabel, SKOS.broader
)
_CONCEPT, _TOP_CONCEPT_OF = canonical_terms(SKOS.Concept, SKOS.topConceptOf)
_ROME_CODE, _ROME_METIER, _ROME_APPELLATION, _ESCO_OCCUPATION = canonical_terms(
    OKG.RomeCode, OKG.RomeMetier, OKG.RomeAppellation, OKG.EscoOccupation
)
_IDENTIFIER, _FICHE_METIER_CODE, _ROME_PARENT, _RARELY_USED = canonical_terms(
    DCTERMS.identifier, OKG.ficheMetierCode, OKG.romeParent, OKG.rarelyUsed
)
_XL_LABEL, _XL_LITERAL_FORM, _XL_PREF, _XL_ALT = canonical_terms(
    SKOSXL.Label, SKOSXL.literalForm, SKOSXL.prefLabel, SKOSXL.altLabel
)
_DATASET, _NAME, _PROPERTY_VALUE, _ADDITIONAL_PROPERTY, _VALUE, _ORDER = canonical_terms(
    SDO.Dataset, SDO.name, SDO.PropertyValue, SDO.additionalProperty, SDO.value, OKG.order
)
_ECOLOGICAL, _DIGITAL, _DEMOGRAPHIC, _REGULATED, _MANAGERIAL = canonical_terms(
    OKG.ecologicalTransition,
    OKG.digitalTransition,
    OKG.demographicTransition,
    OKG.regulatedOccupation,
    OKG.managerialOccupation,
)
ESCO_OCCUPATION_RE = re.compile(r"^http://data\.europa\.eu/esco/occupation/[0-9a-f-]+$")
MAPPING_RELATIONS: dict[str, URIRef] = dict(
    zip(
        ("skos:exactMatch", "skos:closeMatch", "skos:broadMatch", "skos:narrowMatch"),
        canonical_terms(SKOS.exactMatch, SKOS.closeMatch, SKOS.broadMatch, SKOS.narrowMatch),
        strict=True,
    )
)
CLASSIFICATIONS = ("PRINCIPALE", "SYNONYME")
FLAGS = ("", "O", "N")
ROME_CODE_RE = re.compile(r"^[A-Z][0-9]{4}$")

METIER_COLUMNS = (
    "code_rome",
    "code_fiche_metier",
    "code_ogr",
    "libelle_rome",
    "transition_eco",
    "transition_num",
    "transition_demo",
    "emploi_reglemente",
    "emploi_cadre",
    "code_rome_parent",
)
APPELLATION_COLUMNS = (
    "code_ogr",
    "libelle_appellation_long",
    "libelle_appellation_court",
    "code_rome",
    "transition_eco",
    "transition_num",
    "transition_demo",
    "emploi_reglemente",
    "emploi_cadre",
    "classification",
    "origine",
    "code_rome_parent",
    "peu_usite",
)
CROSSWALK_COLUMNS = (
    "classification 1 ID",
    "classification 1 prefered label",
    "classification 2 ID",
    "classification 2 prefered label",
    "mapping relation",
)


# -- records -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Flags:
    """The transition and employment flags both ROME files carry (raw: "O", "N" or "")."""

    transition_eco: str
    transition_num: str
    transition_demo: str
    emploi_reglemente: str
    emploi_cadre: str


@dataclass(frozen=True, slots=True)
class RomeMetierRow:
    """One ROME v4.60 métier (a row of the ``code_rome`` CSV)."""

    line: int
    code_rome: str
    code_fiche_metier: str
    code_ogr: str
    libelle_rome: str
    flags: Flags
    code_rome_parent: str


@dataclass(frozen=True, slots=True)
class AppellationRow:
    """One ROME v4.60 appellation (a row of the appellations CSV)."""

    line: int
    code_ogr: str
    libelle_long: str
    libelle_court: str
    code_rome: str
    flags: Flags
    classification: str  # PRINCIPALE / SYNONYME
    origine: str
    code_rome_parent: str
    peu_usite: str


@dataclass(frozen=True, slots=True)
class CrosswalkRow:
    """One ESCO ↔ ROME mapping: ESCO occupation, its label, appellation, its label, relation."""

    line: int
    esco_uri: str
    esco_label: str
    code_ogr: str
    rome_label: str
    relation: str  # skos:exactMatch / closeMatch / broadMatch / narrowMatch


@dataclass(frozen=True, slots=True)
class MetadataEntry:
    """A ``key,value`` line of the crosswalk preamble."""

    line: int
    key: str
    value: str


R = TypeVar("R", "RomeMetierRow", "AppellationRow")


@dataclass(frozen=True, slots=True)
class Table(Generic[R]):
    """The rows of one CSV file, with the file's name and SHA-256."""

    source: str
    sha256: str
    rows: tuple[R, ...]


@dataclass(frozen=True, slots=True)
class Crosswalk:
    """The ESCO ↔ ROME crosswalk: preamble entries and mapping rows."""

    source: str
    sha256: str
    metadata: tuple[MetadataEntry, ...]
    rows: tuple[CrosswalkRow, ...]


@dataclass(frozen=True, slots=True)
class RomeEsco:
    """The three files, read: what the mappers, the link statistics and the look-up need."""

    metiers: Table[RomeMetierRow]
    appellations: Table[AppellationRow]
    crosswalk: Crosswalk


# -- readers -----------------------------------------------------------------------------------


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(
            source, line, f"not UTF-8 (byte {data[exc.start]:#04x}); expected a UTF-8 CSV"
        ) from exc


def _rows(text: str, source: str) -> Iterator[tuple[int, list[str]]]:
    """(first line, fields) of every non-blank CSV record."""
    reader = csv.reader(io.StringIO(text, newline=""))
    previous = 0
    try:
        for fields in reader:
            start, previous = previous + 1, reader.line_num
            if fields and any(f.strip() for f in fields):
                yield start, fields
    except csv.Error as exc:
        raise InputError(source, reader.line_num, f"malformed CSV: {exc}") from exc


def _check_header(fields: list[str], expected: Sequence[str], source: str, line: int) -> None:
    names = [f.strip() for f in fields]
    if names != list(expected):
        missing = [c for c in expected if c not in names]
        extra = [c for c in names if c not in expected]
        detail = "; ".join(
            part
            for part in (
                f"missing {', '.join(missing)}" if missing else "",
                f"unexpected {', '.join(extra)}" if extra else "",
            )
            if part
        )
        raise InputError(
            source,
            line,
            f"unexpected header ({detail or 'columns out of order'}); expected the columns "
            f"{', '.join(expected)}",
        )


def _records(data: bytes, source: str, columns: Sequence[str]) -> Iterator[tuple[int, dict[str, str]]]:
    rows = _rows(_decode(data, source), source)
    first = next(rows, None)
    if first is None:
        raise InputError(source, 1, f"empty file; expected a CSV with the columns {', '.join(columns)}")
    _check_header(first[1], columns, source, first[0])
    for line, fields in rows:
        if len(fields) != len(columns):
            raise InputError(
                source, line, f"{len(fields)} fields; expected {len(columns)} ({', '.join(columns)})"
            )
        yield line, dict(zip(columns, (f.strip() for f in fields), strict=True))


def _require(row: dict[str, str], column: str, source: str, line: int) -> str:
    value = row[column]
    if not value:
        raise InputError(source, line, f"empty {column}; every row needs one")
    return value


def _flags(row: dict[str, str], source: str, line: int, extra: Sequence[str] = ()) -> Flags:
    for column in ("transition_num", "transition_demo", "emploi_reglemente", "emploi_cadre", *extra):
        if row[column] not in FLAGS:
            raise InputError(source, line, f"{column} is {row[column]!r}; expected O, N or nothing")
    return Flags(
        row["transition_eco"],
        row["transition_num"],
        row["transition_demo"],
        row["emploi_reglemente"],
        row["emploi_cadre"],
    )


def parse_rome_v4_metiers(data: bytes, source: str) -> Table[RomeMetierRow]:
    """The ROME v4.60 ``code_rome`` CSV → one :class:`RomeMetierRow` per data row."""
    rows = []
    for line, row in _records(data, source, METIER_COLUMNS):
        rows.append(
            RomeMetierRow(
                line=line,
                code_rome=_require(row, "code_rome", source, line),
                code_fiche_metier=row["code_fiche_metier"],
                code_ogr=row["code_ogr"],
                libelle_rome=row["libelle_rome"],
                flags=_flags(row, source, line),
                code_rome_parent=row["code_rome_parent"],
            )
        )
    return Table(source, hashlib.sha256(data).hexdigest(), tuple(rows))


def parse_rome_v4_appellations(data: bytes, source: str) -> Table[AppellationRow]:
    """The ROME v4.60 appellations CSV → one :class:`AppellationRow` per data row."""
    rows = []
    for line, row in _records(data, source, APPELLATION_COLUMNS):
        if row["classification"] not in CLASSIFICATIONS:
            raise InputError(
                source, line, f"classification is {row['classification']!r}; expected PRINCIPALE or SYNONYME"
            )
        rows.append(
            AppellationRow(
                line=line,
                code_ogr=_require(row, "code_ogr", source, line),
                libelle_long=row["libelle_appellation_long"],
                libelle_court=row["libelle_appellation_court"],
                code_rome=_require(row, "code_rome", source, line),
                flags=_flags(row, source, line, ("peu_usite",)),
                classification=row["classification"],
                origine=row["origine"],
                code_rome_parent=row["code_rome_parent"],
                peu_usite=row["peu_usite"],
            )
        )
    return Table(source, hashlib.sha256(data).hexdigest(), tuple(rows))


def parse_esco_crosswalk(data: bytes, source: str) -> Crosswalk:
    """The ESCO ↔ ROME crosswalk: ``key,value`` preamble lines, a blank line, header, mappings."""
    metadata: list[MetadataEntry] = []
    rows: list[CrosswalkRow] = []
    header_seen = False
    for line, fields in _rows(_decode(data, source), source):
        if not header_seen:
            if [f.strip() for f in fields] == list(CROSSWALK_COLUMNS):
                header_seen = True
            elif len(fields) > 2 or not fields[0].strip():
                raise InputError(
                    source,
                    line,
                    f"expected a 'key,value' preamble line or the header {', '.join(CROSSWALK_COLUMNS)}",
                )
            else:
                value = fields[1].strip() if len(fields) > 1 else ""
                metadata.append(MetadataEntry(line, fields[0].strip(), value))
            continue
        if len(fields) != len(CROSSWALK_COLUMNS):
            raise InputError(
                source,
                line,
                f"{len(fields)} fields; expected {len(CROSSWALK_COLUMNS)} ({', '.join(CROSSWALK_COLUMNS)})",
            )
        esco, esco_label, ogr, rome_label, relation = (f.strip() for f in fields)
        if not ESCO_OCCUPATION_RE.match(esco):
            raise InputError(
                source, line, f"classification 1 ID is {esco!r}; expected an ESCO occupation URI"
            )
        if not ogr:
            raise InputError(source, line, "empty classification 2 ID; expected a ROME appellation code_ogr")
        if relation not in MAPPING_RELATIONS:
            raise InputError(
                source,
                line,
                f"mapping relation is {relation!r}; expected one of {', '.join(MAPPING_RELATIONS)}",
            )
        rows.append(CrosswalkRow(line, esco, esco_label, ogr, rome_label, relation))
    if not header_seen:
        raise InputError(
            source,
            1,
            f"no header line; expected the columns {', '.join(CROSSWALK_COLUMNS)} after the preamble",
        )
    return Crosswalk(source, hashlib.sha256(data).hexdigest(), tuple(metadata), tuple(rows))


def _display(path: Path) -> str:
    from .ingest import display_path  # local import: ingest imports the mapper stack

    return display_path(path)


def load_rome_esco(
    *, metiers: Path | None = None, appellations: Path | None = None, crosswalk: Path | None = None
) -> RomeEsco:
    """Read the three files (the shipped seeds by default). The only function here that does I/O."""
    paths = (
        metiers or resources.rome_v4_metiers_file(),
        appellations or resources.rome_v4_appellations_file(),
        crosswalk or resources.esco_crosswalk_file(),
    )
    data = []
    for path in paths:
        try:
            data.append(path.read_bytes())
        except OSError as exc:
            raise InputError(_display(path), None, f"cannot read: {exc.strerror}") from exc
    return RomeEsco(
        parse_rome_v4_metiers(data[0], _display(paths[0])),
        parse_rome_v4_appellations(data[1], _display(paths[1])),
        parse_esco_crosswalk(data[2], _display(paths[2])),
    )


# -- mappers -----------------------------------------------------------------------------------


def esco_labels(crosswalk: Crosswalk) -> dict[str, tuple[str, tuple[str, ...]]]:
    """ESCO occupation URI → (its label, the other labels rows give it).

    The crosswalk repeats an occupation's label on each of its rows; one occupation has two
    (line 58 has a garbled copy with text run on: "…d'œuvres d'arte galerie d'art"). The label
    most rows give wins, the shortest on a tie (a garbled copy carries extra text), then the
    first in the file; the others are kept as ``skos:hiddenLabel`` and counted by
    :func:`link_rome_esco`.
    """
    counts: dict[str, dict[str, int]] = {}
    for row in crosswalk.rows:
        if row.esco_label:
            per = counts.setdefault(row.esco_uri, {})
            per[row.esco_label] = per.get(row.esco_label, 0) + 1
    result: dict[str, tuple[str, tuple[str, ...]]] = {}
    for uri, per in counts.items():
        best = min(per, key=lambda label: (-per[label], len(label)))  # min keeps the first of equals
        result[uri] = (best, tuple(label for label in per if label != best))
    return result


def dataset_iri(ids: Ids, key: str) -> URIRef:
    """``dataset/<key>``: the subject of a whole-file graph (proposed as ``Ids.dataset``)."""
    return ids.dataset(key)


def emit_rome_v3(e: Emitter, code: str, label: str | None, line: int) -> URIRef:
    """A ROME v3 code as the métier mapper writes it: type, notation, v3 label, broader chain."""
    mint = e.mint
    scheme = mint("rome_scheme")
    r = e.node(mint("rome", code), line, _ROME_CODE, _CONCEPT)
    e.add(r, _NOTATION, _notation(code), line)
    e.add(r, _IN_SCHEME, scheme)
    if label is not None:
        e.add(r, _PREF, fr(label))
    if len(code) == 5 and code[0].isalpha() and code[1:].isdigit():
        child = r
        for prefix in (code[:3], code[:1]):
            parent = e.node(mint("rome", prefix), line, _CONCEPT)
            e.add(parent, _NOTATION, _notation(prefix))
            e.add(parent, _IN_SCHEME, scheme)
            e.add(child, _BROADER, parent)
            child = parent
        e.add(child, _TOP_CONCEPT_OF, scheme)
    return r


_NOTATIONS: dict[str, Literal] = {}


def _notation(code: str) -> Literal:
    """``Literal(code)`` for a code many graphs repeat (ROME codes), one instance per code."""
    lit = _NOTATIONS.get(code)
    if lit is None:
        lit = plain(code)
        if len(_NOTATIONS) < 100_000:
            _NOTATIONS[code] = lit
    return lit


class _RomeV3Codes:
    """Emits each ROME v3 code once per graph (a graph is a set: repeating it only costs time)."""

    def __init__(self, e: Emitter, labels: Mapping[str, str]) -> None:
        self.e, self.labels = e, labels
        self.done: dict[str, URIRef] = {}

    def __call__(self, code: str, line: int) -> URIRef:
        if code not in self.done:
            self.done[code] = emit_rome_v3(self.e, code, self.labels.get(code), line)
        return self.done[code]


_BOOLEANS = {"O": Literal(True, datatype=XSD.boolean), "N": Literal(False, datatype=XSD.boolean)}


def _boolean(flag: str) -> Literal | None:
    """``O`` → true, ``N`` → false, nothing → None (unknown: no triple)."""
    return _BOOLEANS.get(flag)


@lru_cache(maxsize=64)
def _fr_cached(text: str) -> Literal:
    return fr(text)


@lru_cache(maxsize=1024)
def _flag_values(flags: Flags) -> tuple[tuple[URIRef, Literal], ...]:
    """The (property, value) pairs of a set of flags, in the order they are emitted."""
    values: list[tuple[URIRef, Literal]] = []
    if flags.transition_eco:
        values.append((_ECOLOGICAL, _fr_cached(flags.transition_eco)))
    for prop, flag in (
        (_DIGITAL, flags.transition_num),
        (_DEMOGRAPHIC, flags.transition_demo),
        (_REGULATED, flags.emploi_reglemente),
        (_MANAGERIAL, flags.emploi_cadre),
    ):
        value = _boolean(flag)
        if value is not None:
            values.append((prop, value))
    return tuple(values)


def _emit_flags(e: Emitter, s: URIRef, flags: Flags, line: int) -> None:
    add = e.add
    for prop, value in _flag_values(flags):
        add(s, prop, value, line)


class RomeEscoMapper:
    """Maps the three files to three named graphs. Reads no file."""

    def __init__(self, rome_v3_labels: Mapping[str, str], *, ids: Ids | None = None) -> None:
        self.v3_labels = rome_v3_labels
        self.ids = ids or Ids()
        self.generated_at = generated_at()

    def map_all(self, data: RomeEsco) -> list[FicheGraph]:
        with gc_paused():
            return [
                self.map_metiers(data.metiers),
                self.map_appellations(data.appellations),
                self.map_crosswalk(data.crosswalk, data.appellations),
            ]

    def _dataset(self, e: Emitter, key: str, name: str) -> URIRef:
        d = e.node(dataset_iri(self.ids, key), 1, _DATASET)
        e.add(d, _NAME, fr(name), 1)
        return d

    def _finish(
        self, e: Emitter, key: str, subject: URIRef, table: Table | Crosswalk, pub: Publisher
    ) -> FicheGraph:
        graph_iri = self.ids.graph(*key.split("/", 1))
        e.provenance(
            graph_iri,
            subject,
            sha256=table.sha256,
            source=table.source,
            publisher=pub,
            when=self.generated_at,
        )
        return e.result(graph_iri, subject)

    def map_metiers(self, table: Table[RomeMetierRow]) -> FicheGraph:
        """(a) Each v4 métier under its v3 fiche code."""
        ids = self.ids
        e = Emitter(ids, table.source)
        add, node = e.add, e.node
        scheme = e.mint("rome_v4_scheme")
        rome_v3 = _RomeV3Codes(e, self.v3_labels)
        for row in table.rows:
            line = row.line
            m = node(e.mint("rome_v4", row.code_rome), line, _ROME_METIER, _CONCEPT)
            add(m, _NOTATION, _notation(row.code_rome), line)
            add(m, _IN_SCHEME, scheme)
            if row.libelle_rome:
                add(m, _PREF, fr(row.libelle_rome), line)
            if row.code_ogr:
                add(m, _IDENTIFIER, plain(row.code_ogr), line)
            if row.code_fiche_metier:
                add(m, _FICHE_METIER_CODE, plain(row.code_fiche_metier), line)
            _emit_flags(e, m, row.flags, line)
            if row.code_rome_parent:
                add(m, _BROADER, rome_v3(row.code_rome_parent, line), line)
        d = self._dataset(e, "rome-v4-metiers", "ROME 4.60 : référentiel des métiers (code_rome)")
        return self._finish(e, "rome/v4-metiers", d, table, FRANCE_TRAVAIL)

    def map_appellations(self, table: Table[AppellationRow]) -> FicheGraph:
        """(b) Each appellation under its v4 métier, with the SKOS-XL label both share."""
        ids = self.ids
        e = Emitter(ids, table.source)
        add, node = e.add, e.node
        scheme = e.mint("rome_v4_scheme")
        rome_v3 = _RomeV3Codes(e, self.v3_labels)
        metiers: dict[str, URIRef] = {}
        for row in table.rows:
            line = row.line
            a = node(ids.rome_appellation(row.code_ogr), line, _ROME_APPELLATION, _CONCEPT)
            add(a, _NOTATION, plain(row.code_ogr), line)
            add(a, _IN_SCHEME, scheme)
            m = metiers.get(row.code_rome)
            if m is None:  # the v4 métier, as much as this file says of it (its own graph has the rest)
                m = metiers[row.code_rome] = node(e.mint("rome_v4", row.code_rome), line, _CONCEPT)
                add(m, _NOTATION, _notation(row.code_rome), line)
                add(m, _IN_SCHEME, scheme)
            add(a, _BROADER, m, line)
            if row.libelle_long:
                long_label = fr(row.libelle_long)
                add(a, _PREF, long_label, line)
                label = node(ids.rome_appellation_label(row.code_ogr), line, _XL_LABEL)
                add(label, _XL_LITERAL_FORM, long_label, line)
                add(a, _XL_PREF, label, line)
                add(m, _XL_PREF if row.classification == "PRINCIPALE" else _XL_ALT, label, line)
            if row.libelle_court and row.libelle_court != row.libelle_long:
                add(a, _ALT, fr(row.libelle_court), line)
            _emit_flags(e, a, row.flags, line)
            rarely = _boolean(row.peu_usite)
            if rarely is not None:
                add(a, _RARELY_USED, rarely, line)
            if row.code_rome_parent:
                add(a, _ROME_PARENT, rome_v3(row.code_rome_parent, line), line)
        d = self._dataset(e, "rome-v4-appellations", "ROME 4.60 : référentiel des appellations")
        return self._finish(e, "rome/v4-appellations", d, table, FRANCE_TRAVAIL)

    def map_crosswalk(self, crosswalk: Crosswalk, appellations: Table[AppellationRow]) -> FicheGraph:
        """(c) Appellation → ESCO occupation with the SKOS mapping property each row states."""
        ids = self.ids
        e = Emitter(ids, crosswalk.source)
        add, node = e.add, e.node
        known: dict[str, AppellationRow] = {row.code_ogr: row for row in appellations.rows}
        labels = esco_labels(crosswalk)
        occupations: dict[str, URIRef] = {}
        for row in crosswalk.rows:
            line = row.line
            esco = occupations.get(row.esco_uri)
            if esco is None:
                esco = occupations[row.esco_uri] = URIRef(row.esco_uri)
            node(esco, line, _ESCO_OCCUPATION, _CONCEPT)
            add(esco, _IN_SCHEME, ESCO_OCCUPATIONS)
            if row.esco_label:
                label = labels[row.esco_uri][0]
                add(esco, _PREF if row.esco_label == label else _HIDDEN, fr(row.esco_label), line)
            target = known.get(row.code_ogr)
            if target is None:  # not in ROME v4.60: typed from the crosswalk alone (a warning)
                a = node(ids.rome_appellation(row.code_ogr), line, _ROME_APPELLATION, _CONCEPT)
                add(a, _NOTATION, plain(row.code_ogr), line)
                add(a, _IN_SCHEME, e.mint("rome_v4_scheme"))
                if row.rome_label:
                    add(a, _PREF, fr(row.rome_label), line)
            else:
                a = node(ids.rome_appellation(row.code_ogr), line)
                if row.rome_label and row.rome_label not in (target.libelle_long, target.libelle_court):
                    add(a, _HIDDEN, fr(row.rome_label), line)
            add(a, MAPPING_RELATIONS[row.relation], esco, line)
        name = next((m.value for m in crosswalk.metadata if m.key == "Mapping project name"), "")
        d = self._dataset(e, "esco-rome-crosswalk", f"Correspondance {name or 'ESCO - ROME'}")
        for order, entry in enumerate(crosswalk.metadata, 1):
            pv = node(dataset_iri(ids, f"esco-rome-crosswalk-{order}"), entry.line, _PROPERTY_VALUE)
            add(d, _ADDITIONAL_PROPERTY, pv, entry.line)
            add(pv, _NAME, plain(entry.key), entry.line)
            add(pv, _VALUE, plain(entry.value), entry.line)
            add(pv, _ORDER, integer(order))
        return self._finish(e, "esco-rome/crosswalk", d, crosswalk, EUROPEAN_COMMISSION)


# -- ESCO look-up and link statistics ------------------------------------------------------------


class EscoIndex:
    """ROME v3 fiche code → the ESCO occupations its appellations are mapped to (and how).

    An appellation belongs to the v3 fiche of its ``code_rome_parent`` (the crosswalk was made
    against ROME v3); :meth:`via_v4` gives the other reading, through the v4 métier's parent.
    """

    def __init__(self, data: RomeEsco) -> None:
        parent = {row.code_ogr: row.code_rome_parent for row in data.appellations.rows}
        v4_parent = {row.code_rome: row.code_rome_parent for row in data.metiers.rows}
        via_v4 = {row.code_ogr: v4_parent.get(row.code_rome) for row in data.appellations.rows}
        self._by_code: dict[str, dict[str, set[str]]] = {}
        self._by_v4_parent: dict[str, set[str]] = {}
        self._unresolved: list[CrosswalkRow] = []
        for row in data.crosswalk.rows:
            code = parent.get(row.code_ogr)
            if code is None:
                self._unresolved.append(row)
                continue
            self._by_code.setdefault(code, {}).setdefault(row.esco_uri, set()).add(row.relation)
            v4 = via_v4.get(row.code_ogr)
            if v4:
                self._by_v4_parent.setdefault(v4, set()).add(row.esco_uri)

    def occupations(self, rome_v3_code: str) -> frozenset[str]:
        """The ESCO occupation URIs reached through the appellations of ``rome_v3_code``."""
        return frozenset(self._by_code.get(rome_v3_code, {}))

    def relations(self, rome_v3_code: str) -> dict[str, frozenset[str]]:
        """ESCO occupation URI → the mapping relations (``skos:closeMatch``…) that reach it."""
        return {uri: frozenset(r) for uri, r in self._by_code.get(rome_v3_code, {}).items()}

    def via_v4(self, rome_v3_code: str) -> frozenset[str]:
        """The same, through the v4 métiers whose ``code_rome_parent`` is ``rome_v3_code``."""
        return frozenset(self._by_v4_parent.get(rome_v3_code, ()))

    def codes(self) -> frozenset[str]:
        """Every v3 code that reaches at least one ESCO occupation."""
        return frozenset(self._by_code)

    @property
    def unresolved(self) -> tuple[CrosswalkRow, ...]:
        """Crosswalk rows whose appellation is not in the appellations file."""
        return tuple(self._unresolved)


def link_rome_esco(
    data: RomeEsco,
    links: LinkReport,
    *,
    rome_v3_codes: Iterable[str],
    metier_rome: Mapping[str, Sequence[str]] | None = None,
    index: EscoIndex | None = None,
) -> EscoIndex:
    """Count the links ROME v3 ↔ v4 ↔ appellation ↔ ESCO (and métier → ESCO if given)."""
    v3 = set(rome_v3_codes)
    v4_codes = {row.code_rome for row in data.metiers.rows}
    parents = {row.code_rome_parent for row in data.metiers.rows}

    stats = links.stats("ROME v3 → v4", "ROME v3.46 codes with at least one ROME v4.60 métier under them")
    for code in sorted(v3):
        if code in parents:
            stats.ok()
        else:
            stats.miss(code, "no ROME v4.60 métier has this code_rome_parent")

    stats = links.stats("ROME v4 → v3", "ROME v4.60 métiers whose code_rome_parent is in ROME v3.46")
    for row in data.metiers.rows:
        if row.code_rome_parent in v3:
            stats.ok()
        else:
            stats.miss(
                f"{row.code_rome} → {row.code_rome_parent or '(none)'}", "parent code not in ROME v3.46"
            )

    stats = links.stats("appellation → ROME v4", "appellations whose code_rome is a ROME v4.60 métier")
    for row in data.appellations.rows:
        if row.code_rome in v4_codes:
            stats.ok()
        else:
            stats.miss(f"{row.code_ogr} → {row.code_rome}", "code_rome not in the ROME v4.60 métiers")

    known = {row.code_ogr for row in data.appellations.rows}
    stats = links.stats("appellation → ESCO", "ESCO crosswalk rows whose appellation is in ROME v4.60")
    for row in data.crosswalk.rows:
        if row.code_ogr in known:
            stats.ok()
        else:
            stats.miss(
                f"{row.code_ogr} (line {row.line})",
                "code_ogr not in the ROME v4.60 appellations; the mapping is kept",
            )

    stats = links.stats("ESCO occupation → one label", "ESCO occupations the crosswalk gives one label")
    for uri, (label, others) in esco_labels(data.crosswalk).items():
        if others:
            lines = [r.line for r in data.crosswalk.rows if r.esco_uri == uri and r.esco_label in others]
            stats.miss(
                uri,
                f"also labelled {' / '.join(map(repr, others))} (line {', '.join(map(str, lines))}); "
                f"kept {label!r}, the others as skos:hiddenLabel",
            )
        else:
            stats.ok()

    index = index or EscoIndex(data)
    if metier_rome is not None:
        stats = links.stats(
            "métier → ESCO", "métier fiches reaching an ESCO occupation through their ROME codes"
        )
        for metier_id, codes in metier_rome.items():
            if not codes:
                stats.miss(metier_id, "the fiche cites no ROME code")
            elif any(index.occupations(code) for code in codes):
                stats.ok()
            else:
                stats.miss(metier_id, f"no appellation of {', '.join(codes)} is mapped to ESCO")
    return index


def load_and_map(*, ids: Ids | None = None) -> tuple[RomeEsco, list[FicheGraph]]:
    """The shipped files, read and mapped with the ROME v3.46 labels (a convenience for callers)."""
    data = load_rome_esco()
    labels = load_rome_v3(resources.rome_v3_file())
    return data, RomeEscoMapper(labels, ids=ids).map_all(data)
