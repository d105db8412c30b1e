"""Idéo-Métiers Onisep (``ideo-metiers_onisep.xml``): a hardened reader, a mapper, link statistics.

The file lists 1,489 ``<item>``s under ``<root>``, one per métier × ONISEP publication (1,043
distinct MET ids). Each item gives the métier's label and onisep.fr link (the MET id ends it), the
publication (name, collection, year, gencod = ISBN-13), the GFE (groupe formation-emploi, "GFE V :
arts, spectacle, audiovisuel"), the ROME codes with their labels and links (several are joined by
" | "), and the domains ("domaine/sous-domaine| domaine/sous-domaine").

Reading is hardened: the SAX parser of defusedxml with ``forbid_dtd``, ``forbid_entities`` and
``forbid_external``. A document that declares a DTD (so any entity, internal or external) is
refused with an :class:`InputError` before anything is expanded or fetched. Every item keeps its
ordinal and the line and column where it starts (the real file is a single line: line 1 for all,
hence "item N" in every message).

The graph (``graph/ideo/metiers``) links each métier (``metier/MET.n``, typed by its fiche graph,
not here: the core métier shape would otherwise demand the fiche's labels and source in this graph)
to:

* its publications — ``schema:subjectOf`` → ``publication/<gencod>`` (okg:Publication,
  schema:Book; name, ``okg:collection``, ``schema:datePublished`` as xsd:gYear, ``schema:isbn``,
  ``schema:publisher`` ONISEP). One publication has no gencod in the source (14 items, "Les
  métiers de l'industrie du médicament", 2020): its IRI is minted from its name and year, and it
  has no ISBN (a warning). The 300 items with no publication (collection "pas de publication
  Onisep spécifique", no name, year or gencod) give no ``schema:subjectOf``;
* its GFE — ``okg:formationEmploymentGroup`` → ``gfe/<letter>`` (okg:FormationEmploymentGroup,
  notation the letter, label the text after "GFE X : ", runs of spaces collapsed);
* its domains — ``okg:domain`` → ``domaine/<d>--<sd>`` under ``domaine/<d>``: the IRIs
  :meth:`Ids.domain` mints for the formations' "domaine/sous-domaine" too, so métiers and
  formations meet on them;
* its ROME codes as Idéo gives them — ``schema:occupationalCategory`` (the super-property of
  ``okg:romeCode``, so that ``okg:romeCode`` stays what the fiche says) → ``rome/<code>``, typed and
  labelled from ROME v3.46 with its broader chain as the métier mapper writes it; Idéo's label,
  when it differs from v3.46, as ``skos:altLabel``; the France Travail link as ``rdfs:seeAlso``;
* its Idéo label (``rdfs:label``, not a SKOS label: the fiche's title is the métier's
  ``skos:prefLabel``) and onisep.fr link (``schema:url``).

Every element of an item is mapped. :func:`link_ideo_metiers` counts the items whose MET id has a
fiche and the métiers whose Idéo ROME codes are the fiche's.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax import SAXParseException
from xml.sax.handler import ContentHandler, ErrorHandler
from xml.sax.xmlreader import InputSource

import pyoxigraph as ox
from defusedxml import DefusedXmlException
from defusedxml.expatreader import DefusedExpatParser
from rdflib import RDFS, SDO, SKOS, XSD, Literal, URIRef

from . import resources
from .emit import ONISEP, Emitter, FicheGraph, canonical, fr, generated_at, plain
from .errors import InputError
from .linking import LinkReport
from .referentials import load_rome_v3
from .rome_esco import dataset_iri, emit_rome_v3
from .vocab import OKG, Ids, slug

__all__ = [
    "FIELDS",
    "IdeoDocument",
    "IdeoItem",
    "IdeoMetiersMapper",
    "link_ideo_metiers",
    "load_and_map",
    "load_ideo_metiers",
    "parse_ideo_metiers",
    "publication_key",
]

FIELDS = (
    "libelle_metier",
    "lien_site_onisepfr",
    "nom_publication",
    "collection",
    "annee",
    "gencod",
    "gfe",
    "code_rome",
    "libelle_rome",
    "lien_rome",
    "domainesous-domaine",
)
NO_PUBLICATION = "pas de publication Onisep spécifique"
MET_ID_RE = re.compile(r"(MET\.[0-9]+)$")
GFE_RE = re.compile(r"^GFE\s+([A-Z])\s*:\s*(.+)$", re.S)
URL_RE = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")


# -- records -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IdeoItem:
    """One ``<item>``: a métier × publication, as the source gives it (text trimmed)."""

    ordinal: int  # 1-based rank in the file
    line: int
    column: int
    libelle_metier: str
    link: str
    metier_id: str
    publication: str | None
    collection: str | None
    year: str | None
    gencod: str | None
    gfe_letter: str | None
    gfe_label: str | None
    gfe: str | None  # raw "GFE V : arts, spectacle, audiovisuel"
    rome_codes: tuple[str, ...]
    rome_labels: tuple[str, ...]
    rome_links: tuple[str, ...]
    domains: tuple[tuple[str, str], ...]  # (domaine, sous-domaine)

    @property
    def where(self) -> str:
        return f"item {self.ordinal} ({self.metier_id})"


@dataclass(frozen=True, slots=True)
class IdeoDocument:
    """The items of one Idéo-Métiers file, with its name and SHA-256."""

    source: str
    sha256: str
    items: tuple[IdeoItem, ...]


# -- reader ------------------------------------------------------------------------------------


class _Handler(ContentHandler):
    """Collects ``<root><item><field>text</field>…</item>…</root>``; anything else is an error."""

    def __init__(self, source: str) -> None:
        super().__init__()
        self.source = source
        self.locator = None
        self.depth = 0
        self.items: list[tuple[int, int, dict[str, str]]] = []  # (line, column, fields)
        self.fields: dict[str, str] = {}
        self.field: str | None = None
        self.text: list[str] = []

    def setDocumentLocator(self, locator) -> None:  # type: ignore[no-untyped-def]  # noqa: N802
        self.locator = locator

    def _where(self) -> tuple[int, int]:
        if self.locator is None:
            return 1, 0
        return self.locator.getLineNumber() or 1, self.locator.getColumnNumber() or 0

    def _fail(self, message: str) -> None:
        raise InputError(self.source, self._where()[0], message)

    def startElement(self, name: str, attrs) -> None:  # type: ignore[no-untyped-def]  # noqa: N802
        self.depth += 1
        if len(attrs):
            self._fail(f"unexpected attributes on <{name}>: {', '.join(attrs.getNames())}")
        if self.depth == 1 and name != "root":
            self._fail(f"root element is <{name}>; expected <root> (an Idéo-Métiers export)")
        elif self.depth == 2:
            if name != "item":
                self._fail(f"<{name}> under <root>; expected <item> elements only")
            self.fields = {}
            line, column = self._where()
            self.items.append((line, column, self.fields))
        elif self.depth == 3:
            if name not in FIELDS:
                self._fail(
                    f"item {len(self.items)}: unknown element <{name}>; expected one of {', '.join(FIELDS)}"
                )
            if name in self.fields:
                self._fail(f"item {len(self.items)}: <{name}> given twice")
            self.field, self.text = name, []
        elif self.depth > 3:
            self._fail(f"item {len(self.items)}: unexpected element <{name}> inside <{self.field}>")

    def endElement(self, name: str) -> None:  # noqa: N802
        if self.depth == 3 and self.field is not None:
            self.fields[self.field] = "".join(self.text).strip()
            self.field = None
        self.depth -= 1

    def characters(self, content: str) -> None:
        if self.depth == 3:
            self.text.append(content)
        elif content.strip():
            where = f"item {len(self.items)}: " if self.depth == 2 else ""
            self._fail(f"{where}unexpected text {content.strip()[:40]!r} outside the item fields")


def _line_of(data: bytes, marker: bytes) -> int:
    at = data.find(marker)
    return data.count(b"\n", 0, at) + 1 if at >= 0 else 1


def _sax(data: bytes, source: str) -> list[tuple[int, int, dict[str, str]]]:
    parser = DefusedExpatParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    handler = _Handler(source)
    parser.setContentHandler(handler)
    parser.setErrorHandler(ErrorHandler())  # raise on every error, never recover
    stream = InputSource(source)
    stream.setByteStream(io.BytesIO(data))
    try:
        parser.parse(stream)
    except DefusedXmlException as exc:
        # the DTD is refused as soon as it opens: no entity is declared, expanded or fetched
        raise InputError(
            source,
            _line_of(data, b"<!DOCTYPE"),
            f"refused: the document declares a DTD or an entity ({type(exc).__name__}: {exc}); "
            "an Idéo-Métiers export has none, and DTDs, entities and external references are "
            "never processed",
        ) from exc
    except SAXParseException as exc:
        raise InputError(
            source,
            exc.getLineNumber(),
            f"not well-formed XML: {exc.getMessage()} (column {exc.getColumnNumber()})",
        ) from exc
    return handler.items


def _split(value: str | None, sep: str = "|") -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(sep)) if value else ()


def _item(ordinal: int, line: int, column: int, f: dict[str, str], source: str) -> IdeoItem:
    def get(name: str) -> str | None:
        return f.get(name) or None

    def fail(message: str) -> InputError:
        return InputError(source, line, f"item {ordinal}: {message}")

    link = get("lien_site_onisepfr")
    match = MET_ID_RE.search(link or "")
    if link is None or match is None:
        raise fail(f"lien_site_onisepfr is {link!r}; expected an onisep.fr link ending with the MET id")
    libelle = get("libelle_metier")
    if libelle is None:
        raise fail("empty libelle_metier; every item names its métier")
    gfe = get("gfe")
    letter = label = None
    if gfe is not None:
        m = GFE_RE.match(gfe)
        if m is None:
            raise fail(f"gfe is {gfe!r}; expected 'GFE <letter> : <label>'")
        letter, label = m.group(1), " ".join(m.group(2).split())
    codes, labels, links = _split(get("code_rome")), _split(get("libelle_rome")), _split(get("lien_rome"))
    if labels and len(labels) != len(codes) or links and len(links) != len(codes):
        raise fail(
            f"{len(codes)} ROME codes, {len(labels)} labels and {len(links)} links; "
            "expected as many of each, joined by ' | '"
        )
    for url in (link, *links):
        if not URL_RE.match(url):
            raise fail(f"{url!r} is not an http(s) URL")
        try:  # the writers take only a valid IRI ("%zz", a second "#"… would stop them)
            ox.NamedNode(url)
        except ValueError as exc:
            raise fail(f"{url!r} is not a valid IRI: {exc}") from None
    domains = []
    for part in _split(get("domainesous-domaine")):
        domain, sep, sub = part.partition("/")
        if not sep or not domain.strip() or not sub.strip():
            raise fail(f"domain {part!r}; expected 'domaine/sous-domaine' (several joined by '|')")
        domains.append((domain.strip(), sub.strip()))
    return IdeoItem(
        ordinal=ordinal,
        line=line,
        column=column,
        libelle_metier=libelle,
        link=link,
        metier_id=match.group(1),
        publication=get("nom_publication"),
        collection=get("collection"),
        year=get("annee"),
        gencod=get("gencod"),
        gfe_letter=letter,
        gfe_label=label,
        gfe=gfe,
        rome_codes=codes,
        rome_labels=labels,
        rome_links=links,
        domains=tuple(domains),
    )


def parse_ideo_metiers(data: bytes, source: str) -> IdeoDocument:
    """Parse an Idéo-Métiers export (hardened: no DTD, no entity, no external reference)."""
    raw = _sax(data, source)
    items = tuple(_item(n, line, column, fields, source) for n, (line, column, fields) in enumerate(raw, 1))
    return IdeoDocument(source, hashlib.sha256(data).hexdigest(), items)


def load_ideo_metiers(path: Path | None = None) -> IdeoDocument:
    """Read the shipped file (or ``path``). The only function here that does I/O."""
    from .ingest import display_path  # local import: ingest imports the métier mapper stack

    path = path or resources.ideo_metiers_file()
    source = display_path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(source, None, f"cannot read: {exc.strerror}") from exc
    return parse_ideo_metiers(data, source)


# -- mapper ------------------------------------------------------------------------------------


def publication_key(item: IdeoItem) -> str | None:
    """The gencod, or for a publication without one a key minted from its name and year."""
    if item.gencod:
        return item.gencod
    if item.publication:
        return slug(f"{item.publication} {item.year or ''}")
    return None


# rdflib namespace attributes cost ~1.5 µs each: read once, as canonical instances.
_OKG_DOMAIN_CLASS = canonical(OKG.Domain)
_OKG_FORMATION_EMPLOYMENT_GROUP_CLASS = canonical(OKG.FormationEmploymentGroup)
_OKG_PUBLICATION_CLASS = canonical(OKG.Publication)
_OKG_COLLECTION = canonical(OKG.collection)
_OKG_DOMAIN = canonical(OKG.domain)
_OKG_FORMATION_EMPLOYMENT_GROUP = canonical(OKG.formationEmploymentGroup)
_RDFS_LABEL = canonical(RDFS.label)
_RDFS_SEE_ALSO = canonical(RDFS.seeAlso)
_SDO_BOOK_CLASS = canonical(SDO.Book)
_SDO_DATASET_CLASS = canonical(SDO.Dataset)
_SDO_DATE_PUBLISHED = canonical(SDO.datePublished)
_SDO_ISBN = canonical(SDO.isbn)
_SDO_NAME = canonical(SDO.name)
_SDO_OCCUPATIONAL_CATEGORY = canonical(SDO.occupationalCategory)
_SDO_PUBLISHER = canonical(SDO.publisher)
_SDO_SUBJECT_OF = canonical(SDO.subjectOf)
_SDO_URL = canonical(SDO.url)
_SKOS_CONCEPT_CLASS = canonical(SKOS.Concept)
_SKOS_ALT_LABEL = canonical(SKOS.altLabel)
_SKOS_BROADER = canonical(SKOS.broader)
_SKOS_IN_SCHEME = canonical(SKOS.inScheme)
_SKOS_NOTATION = canonical(SKOS.notation)
_SKOS_PREF_LABEL = canonical(SKOS.prefLabel)
_SKOS_TOP_CONCEPT_OF = canonical(SKOS.topConceptOf)
_XSD_G_YEAR = canonical(XSD.gYear)


class IdeoMetiersMapper:
    """Maps an Idéo-Métiers document to one named graph. Reads no file."""

    def __init__(self, rome_v3_labels: Mapping[str, str], *, ids: Ids | None = None) -> None:
        self.v3_labels = rome_v3_labels
        self.ids = ids or Ids()
        self.generated_at = generated_at()

    def map(self, doc: IdeoDocument) -> FicheGraph:
        ids = self.ids
        e = Emitter(ids, doc.source)
        done: set[URIRef] = set()  # concepts and publications already emitted in this graph
        for item in doc.items:
            line = item.line
            m = e.node(e.mint("metier", item.metier_id), line)
            e.add(m, _RDFS_LABEL, fr(item.libelle_metier), line)
            e.add(m, _SDO_URL, URIRef(item.link), line)
            key = publication_key(item)
            if key is not None:
                e.add(m, _SDO_SUBJECT_OF, self._publication(e, e.mint("publication", key), item, done), line)
            if item.gfe_letter is not None and item.gfe_label is not None:
                g = e.mint("gfe", item.gfe_letter)
                if g not in done:
                    done.add(g)
                    e.node(g, line, _OKG_FORMATION_EMPLOYMENT_GROUP_CLASS, _SKOS_CONCEPT_CLASS)
                    e.add(g, _SKOS_NOTATION, plain(item.gfe_letter), line)
                    e.add(g, _SKOS_IN_SCHEME, e.mint("gfe_scheme"))
                    e.add(g, _SKOS_TOP_CONCEPT_OF, e.mint("gfe_scheme"))
                e.add(g, _SKOS_PREF_LABEL, fr(item.gfe_label), line)
                e.add(m, _OKG_FORMATION_EMPLOYMENT_GROUP, g, line)
            for domain, sub in item.domains:
                e.add(m, _OKG_DOMAIN, self._domain(e, domain, sub, line, done), line)
            for index, code in enumerate(item.rome_codes):
                r = emit_rome_v3(e, code, self.v3_labels.get(code), line)
                e.add(m, _SDO_OCCUPATIONAL_CATEGORY, r, line)
                if index < len(item.rome_labels) and item.rome_labels[index] != self.v3_labels.get(code):
                    e.add(r, _SKOS_ALT_LABEL, fr(item.rome_labels[index]), line)
                if index < len(item.rome_links):
                    e.add(r, _RDFS_SEE_ALSO, URIRef(item.rome_links[index]), line)
        d = e.node(dataset_iri(ids, "ideo-metiers"), 1, _SDO_DATASET_CLASS)
        e.add(d, _SDO_NAME, fr("Idéo-Métiers Onisep"), 1)
        graph_iri = ids.graph("ideo", "metiers")
        e.provenance(
            graph_iri, d, sha256=doc.sha256, source=doc.source, publisher=ONISEP, when=self.generated_at
        )
        return e.result(graph_iri, d)

    def _publication(self, e: Emitter, p: URIRef, item: IdeoItem, done: set[URIRef]) -> URIRef:
        line = item.line
        if p not in done:
            done.add(p)
            e.node(p, line, _OKG_PUBLICATION_CLASS, _SDO_BOOK_CLASS)
            e.add(p, _SDO_PUBLISHER, e.mint("agent", ONISEP.key))
        if item.gencod:
            e.add(p, _SDO_ISBN, plain(item.gencod), line)
        if item.publication:
            e.add(p, _SDO_NAME, fr(item.publication), line)
        if item.collection:
            e.add(p, _OKG_COLLECTION, fr(item.collection), line)
        if item.year:
            e.add(p, _SDO_DATE_PUBLISHED, Literal(item.year, datatype=_XSD_G_YEAR), line)
        return p

    def _domain(self, e: Emitter, domain: str, sub: str, line: int, done: set[URIRef]) -> URIRef:
        scheme = e.mint("domain_scheme")
        top, concept = e.mint("domain", domain), e.mint("domain", domain, sub)
        if top not in done:
            done.add(top)
            e.node(top, line, _OKG_DOMAIN_CLASS, _SKOS_CONCEPT_CLASS)
            e.add(top, _SKOS_PREF_LABEL, fr(domain), line)
            e.add(top, _SKOS_IN_SCHEME, scheme)
            e.add(top, _SKOS_TOP_CONCEPT_OF, scheme)
        if concept not in done:
            done.add(concept)
            e.node(concept, line, _OKG_DOMAIN_CLASS, _SKOS_CONCEPT_CLASS)
            e.add(concept, _SKOS_PREF_LABEL, fr(sub), line)
            e.add(concept, _SKOS_IN_SCHEME, scheme)
            e.add(concept, _SKOS_BROADER, top, line)
        return concept


# -- link statistics ---------------------------------------------------------------------------


def link_ideo_metiers(
    doc: IdeoDocument,
    links: LinkReport,
    *,
    known_metiers: Collection[str] | None = None,
    fiche_rome: Mapping[str, Sequence[str]] | None = None,
) -> None:
    """Items → métier fiches; per métier, Idéo's ROME codes against the fiche's (if given)."""
    if known_metiers is not None:
        stats = links.stats(
            "Idéo-Métiers item → métier", "Idéo-Métiers items whose MET id has a métier fiche"
        )
        for item in doc.items:
            if item.metier_id in known_metiers:
                stats.ok()
            else:
                stats.miss(item.where, "no métier fiche has this MET id")
    if fiche_rome is not None:
        stats = links.stats(
            "Idéo ROME = fiche ROME", "métiers whose Idéo-Métiers ROME codes are those of their fiche"
        )
        seen: set[str] = set()
        for item in doc.items:
            if item.metier_id in seen or item.metier_id not in fiche_rome:
                continue
            seen.add(item.metier_id)
            ideo, fiche = set(item.rome_codes), set(fiche_rome[item.metier_id])
            if ideo == fiche:
                stats.ok()
            else:
                stats.miss(
                    item.where,
                    f"Idéo gives {', '.join(sorted(ideo)) or 'no code'}, "
                    f"the fiche {', '.join(sorted(fiche)) or 'no code'}",
                )


def load_and_map(*, ids: Ids | None = None) -> tuple[IdeoDocument, FicheGraph]:
    """The shipped file, read and mapped with the ROME v3.46 labels (a convenience for callers)."""
    doc = load_ideo_metiers()
    return doc, IdeoMetiersMapper(load_rome_v3(resources.rome_v3_file()), ids=ids).map(doc)
