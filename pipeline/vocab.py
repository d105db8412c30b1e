"""Vocabulary terms, as rdflib namespaces that fail on a misspelt term.

``OKG`` lists every term of the project ontology (``ontology/onisep-kg.ttl``); a test checks
that the two agree. ``ESCO`` holds the two ESCO terms reused for gendered labels. Data IRIs are
minted by :class:`Ids` from identifiers, never at random, so a re-run gives the same graph.
:func:`fold` is how names are compared in search (the ``okg:searchKey`` of a métier).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import quote

from rdflib import DCTERMS, PROV, RDF, RDFS, SDO, SKOS, XSD, Namespace, URIRef
from rdflib.namespace import DefinedNamespace

ONTOLOGY_IRI = "https://w3id.org/onisep-kg/ontology#"
DEFAULT_BASE = "https://w3id.org/onisep-kg/id/"


class OKG(DefinedNamespace):
    """The onisep-kg ontology."""

    _fail = True
    _NS = Namespace(ONTOLOGY_IRI)

    # classes
    Metier: URIRef
    RomeCode: URIRef
    Formation: URIRef
    StudyLevel: URIRef
    Status: URIRef
    Interest: URIRef
    Section: URIRef
    SectionPart: URIRef
    StudyDuration: URIRef
    AccessRoute: URIRef
    ExtraField: URIRef
    SourceFile: URIRef
    SalaryBasis: URIRef
    FormationType: URIRef
    Domain: URIRef
    RomeMetier: URIRef
    RomeAppellation: URIRef
    EscoOccupation: URIRef
    Publication: URIRef
    FormationEmploymentGroup: URIRef
    # individuals
    Gross: URIRef
    Net: URIRef
    # object properties
    romeCode: URIRef
    recommendedFormation: URIRef
    minimumLevel: URIRef
    status: URIRef
    interest: URIRef
    hasSection: URIRef
    hasPart: URIRef
    studyDuration: URIRef
    accessRoute: URIRef
    level: URIRef
    salaryBasis: URIRef
    extraField: URIRef
    formationType: URIRef
    certificationLevel: URIRef
    exitLevel: URIRef
    domain: URIRef
    leadsTo: URIRef
    formationEmploymentGroup: URIRef
    romeParent: URIRef
    # datatype properties
    minimumLevelWording: URIRef
    searchKey: URIRef
    order: URIRef
    heading: URIRef
    headingLevel: URIRef
    stage: URIRef
    levelWording: URIRef
    diploma: URIRef
    salaryQualifier: URIRef
    variable: URIRef
    neutralForm: URIRef
    fileName: URIRef
    sha256: URIRef
    sourceLine: URIRef
    unparsedLine: URIRef
    sigle: URIRef
    durationWording: URIRef
    certificationLevelWording: URIRef
    exitLevelWording: URIRef
    rncpCode: URIRef
    nsfCode: URIRef
    codeScolarite: URIRef
    tutelle: URIRef
    parcoursupExpectation: URIRef
    accessConditions: URIRef
    furtherStudies: URIRef
    associatedMetierLabel: URIRef
    collection: URIRef
    ficheMetierCode: URIRef
    ecologicalTransition: URIRef
    digitalTransition: URIRef
    demographicTransition: URIRef
    regulatedOccupation: URIRef
    managerialOccupation: URIRef
    rarelyUsed: URIRef


class ESCO(DefinedNamespace):
    """The ESCO model terms this project reuses."""

    _fail = True
    _NS = Namespace("http://data.europa.eu/esco/model#")

    hasLabelRole: URIRef


SKOSXL = Namespace("http://www.w3.org/2008/05/skos-xl#")
LABEL_ROLE = Namespace("http://data.europa.eu/esco/label-role/")
EQF = Namespace("http://data.europa.eu/snb/eqf/")
FEMALE = LABEL_ROLE.female
MALE = LABEL_ROLE.male

PREFIXES: dict[str, str] = {
    "okg": ONTOLOGY_IRI,
    "skos": str(SKOS),
    "skosxl": str(SKOSXL),
    "esco": "http://data.europa.eu/esco/model#",
    "schema": str(SDO),
    "dcterms": str(DCTERMS),
    "prov": str(PROV),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "xsd": str(XSD),
}


def slug(text: str) -> str:
    """ "j'ai le sens du contact" → "j-ai-le-sens-du-contact" (accents folded, lower case)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-") or quote(text, safe="")


# Folding for search, the rules written once: lower case, then each rule's characters by its
# replacement (French accented letters by their base letter, ligatures spelt out, the typographic
# apostrophe as "'", no-break spaces as spaces). The named query ``search-metiers`` folds its
# parameter and the labels it reports with the same rules in SPARQL (:func:`sparql_fold` writes
# that expression; a test checks the query uses it), and looks the folded parameter up in the
# ``okg:searchKey`` of each métier, which :func:`search_key` folds here.
FOLD_RULES: tuple[tuple[str, str], ...] = (
    ("àáâãäå", "a"),
    ("èéêë", "e"),
    ("ìíîï", "i"),
    ("òóôõö", "o"),
    ("ùúûü", "u"),
    ("ýÿ", "y"),
    ("ç", "c"),
    ("œ", "oe"),
    ("æ", "ae"),
    ("\u2019", "'"),
    ("\u00a0\u202f", " "),
)
# No replacement holds a character some rule replaces, so one translation does what the chain
# of replacements does.
_FOLD_TABLE = str.maketrans({char: repl for chars, repl in FOLD_RULES for char in chars})


def fold(text: str) -> str:
    """ "Développeuse d’Œuvres" → "developpeuse d'oeuvres": what SPARQL's ``LCASE`` then one
    ``REPLACE`` per :data:`FOLD_RULES` gives (Python's and oxigraph's lower case agree)."""
    return text.lower().translate(_FOLD_TABLE)


def search_key(names: Iterable[str]) -> str:
    """The ``okg:searchKey`` of a métier: each distinct folded name, in order, joined by "\\n"."""
    return "\n".join(dict.fromkeys(fold(name) for name in names))


def _sparql_string(text: str) -> str:
    """A SPARQL string literal: quote and backslash escaped, unprintable characters as \\uXXXX."""

    def char(ch: str) -> str:
        if ch in '"\\':
            return "\\" + ch
        if ch.isprintable():
            return ch
        return f"\\u{ord(ch):04X}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08X}"

    return '"' + "".join(char(ch) for ch in text) + '"'


def sparql_fold(expression: str) -> str:
    """The SPARQL expression folding ``expression`` as :func:`fold` does: ``LCASE`` inside one
    ``REPLACE`` per rule, each with its empty flags argument (without it oxigraph parses nested
    ``REPLACE`` calls in a time that doubles with each level)."""
    folded = f"LCASE({expression})"
    for chars, repl in FOLD_RULES:
        pattern = chars if len(chars) == 1 else f"[{chars}]"
        folded = f'REPLACE({folded}, {_sparql_string(pattern)}, {_sparql_string(repl)}, "")'
    return folded


class Ids:
    """Mints the data IRIs under one base (``https://w3id.org/onisep-kg/id/`` by default)."""

    def __init__(self, base: str = DEFAULT_BASE) -> None:
        if not base.endswith(("/", "#")):
            base += "/"
        self.base = base
        self._ns = Namespace(base)

    def _iri(self, path: str) -> URIRef:
        return self._ns[quote(path, safe="/.-_~")]

    def metier(self, metier_id: str) -> URIRef:
        return self._iri(f"metier/{metier_id}")

    def label(self, metier_id: str, index: int, genders: str) -> URIRef:
        return self._iri(f"label/{metier_id}-{index}-{genders}")

    def section(self, metier_id: str, order: int) -> URIRef:
        return self._iri(f"section/{metier_id}-{order}")

    def part(self, metier_id: str, section: int, order: int) -> URIRef:
        return self._iri(f"section/{metier_id}-{section}-{order}")

    def study_duration(self, metier_id: str, order: int) -> URIRef:
        return self._iri(f"duree-etudes/{metier_id}-{order}")

    def access_route(self, metier_id: str, order: int) -> URIRef:
        return self._iri(f"acces/{metier_id}-{order}")

    def salary(self, metier_id: str) -> URIRef:
        return self._iri(f"salaire/{metier_id}")

    def extra_field(self, metier_id: str, order: int) -> URIRef:
        return self._iri(f"champ/{metier_id}-{order}")

    def rome(self, code: str) -> URIRef:
        return self._iri(f"rome/{code}")

    def rome_scheme(self) -> URIRef:
        return self._iri("rome")

    def formation(self, formation_id: str) -> URIRef:
        return self._iri(f"formation/{formation_id}")

    def level(self, number: int) -> URIRef:
        return self._iri(f"niveau/{number}")

    def level_scheme(self) -> URIRef:
        return self._iri("niveau")

    def status(self, text: str) -> URIRef:
        return self._iri(f"statut/{slug(text)}")

    def status_scheme(self) -> URIRef:
        return self._iri("statut")

    def interest(self, text: str) -> URIRef:
        return self._iri(f"centre-interet/{slug(text)}")

    def interest_scheme(self) -> URIRef:
        return self._iri("centre-interet")

    def metier_scheme(self) -> URIRef:
        return self._iri("metier")

    def formation_type(self, text: str) -> URIRef:
        return self._iri(f"type-formation/{slug(text)}")

    def formation_type_scheme(self) -> URIRef:
        return self._iri("type-formation")

    def domain(self, domain: str, sub_domain: str | None = None) -> URIRef:
        """ "informatique, Internet" / "systèmes et réseaux" → domaine/informatique-internet--systemes…"""
        path = slug(domain) if sub_domain is None else f"{slug(domain)}--{slug(sub_domain)}"
        return self._iri(f"domaine/{path}")

    def domain_scheme(self) -> URIRef:
        return self._iri("domaine")

    def rome_v4(self, code: str) -> URIRef:
        return self._iri(f"rome-v4/{code}")

    def rome_v4_scheme(self) -> URIRef:
        return self._iri("rome-v4")

    def rome_appellation(self, code_ogr: str) -> URIRef:
        return self._iri(f"rome-appellation/{code_ogr}")

    def rome_appellation_label(self, code_ogr: str) -> URIRef:
        return self._iri(f"label/rome-{code_ogr}")

    def publication(self, gencod: str) -> URIRef:
        return self._iri(f"publication/{gencod}")

    def gfe(self, letter: str) -> URIRef:
        return self._iri(f"gfe/{slug(letter)}")

    def gfe_scheme(self) -> URIRef:
        return self._iri("gfe")

    def dataset(self, key: str) -> URIRef:
        return self._iri(f"dataset/{key}")

    def graph(self, kind: str, key: str) -> URIRef:
        return self._iri(f"graph/{kind}/{key}")

    def source(self, sha256: str) -> URIRef:
        return self._iri(f"source/{sha256}")

    def agent(self, name: str) -> URIRef:
        return self._iri(f"agent/{name}")

    def activity(self, version: str) -> URIRef:
        return self._iri(f"activity/onisep-kg-{version}")
