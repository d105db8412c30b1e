"""Hostile text through the writers: what ``ingest`` writes is read back by another parser, unchanged.

Names and texts holding quotes, backslashes, ``\"\"\"``, ``<>``, ``@``, ``#``, line breaks, CR,
tabs, control characters, right-to-left marks (U+200F, U+202E), zero-width joiners, combining
marks, emoji (astral plane, ZWJ sequences), U+FFFE / U+FFFF and very long strings are written by
our writers (``to_turtle``, ``to_jsonld``, ``to_trig``, ``GraphRenderer.render``) and read back
by pyoxigraph's parsers (and rdflib's Turtle and TriG parsers) into the very same graph.

* with hypothesis (derandomized, bounded): plain, ``xsd:string``, language-tagged and typed
  literals of arbitrary text, and the IRIs the pipeline mints from text (:class:`Ids` quotes
  any path, :func:`slug` folds statuses, interests, domains...); then the real fiche MET.799
  with hostile text in its name and its sections, through the parser and the mapper;
* end to end: a copy of MET.799 edited to hold such characters is ingested; its ``.ttl`` and
  ``.jsonld`` and the whole ``onisep-kg.ttl`` / ``.jsonld`` / ``.trig`` parse back with pyoxigraph
  to the mapper's triples and hold the exact strings; loaded in the embedded store, a query
  gives them back unchanged.

Lone surrogates (U+D800–U+DFFF) cannot occur: a fiche is decoded as UTF-8, where their bytes
(CESU-8 ``ED A0 80``…) are invalid; the parser refuses them (tested here), so no text of ours
ever holds one and the strategies exclude them (category ``Cs``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import DCTERMS, RDF, SDO, SKOS, XSD, BNode, Graph, Literal, URIRef
from rdflib import Dataset as RdflibDataset

from pipeline import resources
from pipeline.errors import InputError, ParseError
from pipeline.ingest import Pipeline, ingest
from pipeline.parse import parse_metier
from pipeline.serialize import (
    GraphRenderer,
    to_jsonld,
    to_trig,
    to_turtle,
    turtle_head,
)
from pipeline.store import EmbeddedStore, load_ingest_output
from pipeline.vocab import OKG, Ids

IDS = Ids()
MET_799 = resources.metier_fiches_dir() / "MET.799_hot_liner.md"
# ill-typed literals on purpose ("x"^^xsd:boolean…): rdflib warns, and keeps their lexical form
pytestmark = pytest.mark.filterwarnings("ignore:Parsing weird boolean:UserWarning")

# Pieces that break naive writers: Turtle and JSON-LD syntax, escapes written literally, line
# breaks of every kind, bidi controls, joiners, combining marks, astral emoji and ZWJ sequences,
# noncharacters, and digits Python's str.isdigit takes for digits but xsd:integer does not.
HOSTILE = [
    '"',
    "'",
    "\\",
    '"""',
    "'''",
    '\\"',
    "<>",
    "<http://example.org/x>",
    "@",
    "@fr",
    "@id",
    "@context",
    "#",
    "^^",
    "_:b0",
    " . ",
    ";",
    ",",
    "{",
    "}",
    "[]",
    "\n",
    "\r",
    "\r\n",
    "\t",
    "\x00",
    "\x01",
    "\x07",
    "\x08",
    "\x0b",
    "\x0c",
    "\x1b",
    "\x1f",
    "\x7f",
    "\x85",
    "\u2028",
    "\u2029",
    "\u200f",
    "\u202e",
    "\u200d",
    "\u200b",
    "\ufeff",
    "\ufffe",
    "\uffff",
    "e\u0301",
    "\u0301",
    "\U0001f600",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467",
    "\U0001f3f3\ufe0f\u200d\U0001f308",
    "\U0010ffff",
    "\\u0022",
    "\\n",
    "%",
    "%zz",
    "%41",
    "\u00b2",
    "\u0663",
    "\uff11",
    "-0",
    "007",
    "1_000",
    "</script>",
]

_NO_SURROGATE = st.characters(blacklist_categories=("Cs",))
TEXT = st.lists(
    st.one_of(st.sampled_from(HOSTILE), st.text(alphabet=_NO_SURROGATE, max_size=12)), max_size=8
).map("".join)
# valid BCP 47 tags, in any case (pyoxigraph lower-cases them when it reads them)
LANGUAGE = st.sampled_from(
    ["fr", "en", "FR", "fr-FR", "fr-ca", "en-GB", "zh-Hant-TW", "sr-Latn-RS", "de-CH-1901", "ar", "he-IL"]
).flatmap(lambda tag: st.sampled_from([tag, tag.upper(), tag.lower()]))
DATATYPE = st.sampled_from(
    [
        str(XSD.integer),  # ill-typed lexical forms too: written as they are, never re-read as numbers
        str(XSD.decimal),
        str(XSD.boolean),
        str(XSD.date),
        str(XSD.token),
        str(OKG) + "text",
        "urn:x-hostile:type",
    ]
)
SETTINGS = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# -- the expected graph, built without our writers -----------------------------------------------
def ox_term(term: object) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """The pyoxigraph term RDF 1.1 says an rdflib term is (language tags compare in lower case)."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    assert isinstance(term, Literal), term
    if term.language:
        return ox.Literal(str(term), language=term.language.lower())
    if term.datatype is not None:
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
    return ox.Literal(str(term))


def expected_triples(triples: list[tuple[object, object, object]]) -> set[ox.Triple]:
    return {ox.Triple(ox_term(s), ox_term(p), ox_term(o)) for s, p, o in triples}


def read(data: bytes, fmt: ox.RdfFormat) -> list[ox.Quad]:
    return list(ox.parse(data, format=fmt))


def triples_of(data: bytes, fmt: ox.RdfFormat) -> set[ox.Triple]:
    quads = read(data, fmt)
    assert all(q.graph_name == ox.DefaultGraph() for q in quads)
    return {q.triple for q in quads}


def quads_of(data: bytes) -> set[ox.Quad]:
    return set(read(data, ox.RdfFormat.TRIG))


def in_graph(name: str, triples: set[ox.Triple]) -> set[ox.Quad]:
    g = ox.NamedNode(name)
    return {ox.Quad(t.subject, t.predicate, t.object, g) for t in triples}


def rdflib_triples(data: bytes, fmt: str) -> set[tuple[object, object, object]]:
    """rdflib's reading, its literals with lower-cased language tags, for comparison."""
    graph = Graph()
    graph.parse(data=data, format=fmt)
    return {(s, p, normal(o)) for s, p, o in graph}


def normal(term: object) -> object:
    if isinstance(term, Literal) and term.language:
        return Literal(str(term), lang=term.language.lower())
    if isinstance(term, Literal) and term.datatype == XSD.string:
        return Literal(str(term))
    return term


def check_every_writer(triples: list[tuple[object, object, object]], graph_iri: str, renderer: GraphRenderer):
    """Every writer's output parses back, with pyoxigraph, to exactly ``triples``."""
    want = expected_triples(triples)
    turtle = to_turtle(triples)
    assert triples_of(turtle, ox.RdfFormat.TURTLE) == want
    jsonld = to_jsonld(triples)
    json.loads(jsonld)  # strict JSON, whatever the text
    assert triples_of(jsonld, ox.RdfFormat.JSON_LD) == want
    trig = to_trig([(graph_iri, triples)])
    assert quads_of(trig) == in_graph(graph_iri, want)
    chunks = renderer.render(graph_iri, triples)
    assert chunks.turtle_document() == turtle
    assert chunks.jsonld_document() == jsonld
    assert quads_of(turtle_head() + chunks.trig) == in_graph(graph_iri, want)
    # rdflib reads the Turtle to the same graph; but it cannot read a prefixed name that ends in
    # an escaped dot (``metier:a\.``), valid Turtle (PN_LOCAL_ESC) that pyoxigraph writes and
    # reads (RDFLib/rdflib#933): such a graph is left to pyoxigraph
    if not any(isinstance(t, URIRef) and str(t).endswith(".") for triple in triples for t in triple):
        assert rdflib_triples(turtle, "turtle") == {(s, p, normal(o)) for s, p, o in triples}
    return turtle, jsonld, trig


# -- hypothesis: literals and minted IRIs of arbitrary text -----------------------------------------
RENDERER = GraphRenderer()  # shared across examples: its caches of known terms are exercised too


@SETTINGS
@given(
    texts=st.lists(TEXT, min_size=1, max_size=4),
    language=LANGUAGE,
    datatype=DATATYPE,
)
def test_literals_of_any_text_round_trip(texts: list[str], language: str, datatype: str) -> None:
    subject = IDS.metier("MET.799")
    triples: list[tuple[object, object, object]] = [(subject, RDF.type, OKG.Metier)]
    for i, text in enumerate(texts):
        triples += [
            (subject, SKOS.prefLabel, Literal(text, lang="fr")),
            (subject, SKOS.altLabel, Literal(text)),
            (subject, SDO.text, Literal(text, datatype=XSD.string)),
            (subject, DCTERMS.title, Literal(text, lang=language)),
            (IDS.section("MET.799", i), OKG.heading, Literal(text, datatype=URIRef(datatype))),
            (IDS.section("MET.799", i), SKOS.notation, Literal(text, datatype=XSD.integer)),
        ]
    check_every_writer(triples, str(IDS.graph("metier", "MET.799")), RENDERER)


@SETTINGS
@given(texts=st.lists(TEXT, min_size=1, max_size=4))
def test_iris_minted_from_any_text_round_trip(texts: list[str]) -> None:
    """The IRIs the mappers mint from text (statuses, interests, domains, formation types, GFE,
    any id: :meth:`Ids._iri` percent-encodes the path) are valid and read back as minted."""
    subject = IDS.metier("MET.799")
    triples: list[tuple[object, object, object]] = []
    for text in texts:
        minted = [
            IDS.status(text),
            IDS.interest(text),
            IDS.formation_type(text),
            IDS.domain(text, text),
            IDS.gfe(text),
            IDS.metier(text),
            IDS.label(text, 1, "f"),
            IDS.formation(text),
        ]
        for iri in minted:
            assert str(iri).isascii() and not any(c in str(iri) for c in ' <>"{}|\\^`')
            triples += [(subject, OKG.status, iri), (iri, SKOS.prefLabel, Literal(text, lang="fr"))]
    graph = str(IDS.graph("metier", texts[0]))
    check_every_writer(triples, graph, RENDERER)


@pytest.mark.parametrize("local", [".", "..", "a.", ".a", "-", "~", "%", "#", "/"])
def test_iris_whose_local_name_needs_escapes_round_trip(local: str) -> None:
    """Found by a 1,500-example run: ``metier:\\.`` (an id ending in a dot) is valid Turtle that
    rdflib cannot read back (RDFLib/rdflib#933); pyoxigraph reads every such name as minted."""
    iri = IDS.metier(local)
    triples = [(iri, SKOS.prefLabel, Literal(local, lang="fr")), (IDS.metier("MET.1"), OKG.status, iri)]
    check_every_writer(triples, str(IDS.graph("metier", local)), GraphRenderer())


def hostile_fiche(name: str, text: str) -> bytes:
    """MET.799 with ``name`` as its title and feminine form and ``text`` in a body line."""
    lines = MET_799.read_text(encoding="utf-8").split("\n")
    out = []
    for line in lines:
        if line == "# hot liner":
            line = f"# {name}"
        elif line == "- Féminin: hot liner":
            line = f"- Féminin: {name}"
        elif line.startswith("« Allô !"):
            line = text
        out.append(line)
    return "\n".join(out).encode("utf-8")


# one line of a fiche: no line break (CR and LF end a line), no surrounding blanks (stripped)
LINE = TEXT.map(lambda t: "".join(c for c in t if c not in "\r\n").strip()).filter(bool)


@settings(SETTINGS, max_examples=25)
@given(name=LINE, text=LINE)
def test_the_real_fiche_with_hostile_names_and_text(pipeline: Pipeline, name: str, text: str) -> None:
    """MET.799 holding the text, parsed and mapped: every writer gives back the mapper's graph."""
    if "\x00" in name + text:  # a NUL makes the file binary: refused, tested elsewhere
        name, text = name.replace("\x00", ""), text.replace("\x00", "") or "x"
        if not name.strip():
            name = "x"
    outcome, triples = pipeline.process(hostile_fiche(name, text), "MET.799_hostile.md")
    assert outcome.failure is None and triples is not None
    want = expected_triples(triples)
    literals = {t.object.value for t in want if isinstance(t.object, ox.Literal)}
    assert name.strip() in literals and any(text in value for value in literals)
    check_every_writer(triples, str(IDS.graph("metier", "MET.799")), RENDERER)


# -- explicit cases --------------------------------------------------------------------------------
@pytest.mark.parametrize("lexical", ["\u0663", "\u00b2", "\uff11\uff12", "0\u0663", "-\u0663"])
def test_an_integer_literal_of_non_ascii_digits_is_written_as_it_is(lexical: str) -> None:
    """Regression: the JSON-LD writer took ``str.isdigit`` digits for xsd:integer ones, so
    ``"²"^^xsd:integer`` (which rdflib keeps as it is, not being an integer) crashed it on
    ``int("²")``; a non-ASCII digit is never the canonical form it may write as a JSON number."""
    triples = [(IDS.metier("MET.1"), SKOS.notation, Literal(lexical, datatype=XSD.integer))]
    want = expected_triples(triples)
    assert triples_of(to_jsonld(triples), ox.RdfFormat.JSON_LD) == want
    chunks = GraphRenderer().render(str(IDS.graph("metier", "MET.1")), triples)
    assert triples_of(chunks.jsonld_document(), ox.RdfFormat.JSON_LD) == want
    assert triples_of(to_turtle(triples), ox.RdfFormat.TURTLE) == want


def test_canonical_integers_are_still_written_as_numbers() -> None:
    triples = [
        (IDS.metier("MET.1"), SKOS.notation, Literal(v, datatype=XSD.integer)) for v in ("0", "-12", "1801")
    ]
    doc = json.loads(to_jsonld(triples))
    assert sorted(doc["@graph"][0]["skos:notation"]) == [-12, 0, 1801]
    assert triples_of(to_jsonld(triples), ox.RdfFormat.JSON_LD) == expected_triples(triples)


def test_very_long_strings_round_trip() -> None:
    """A 2 MB text of hostile pieces, and a 1 MB line without a single escape."""
    hostile = "".join(HOSTILE) * (2_000_000 // len("".join(HOSTILE)))
    plain = "é" * 1_000_000
    subject = IDS.metier("MET.1")
    triples = [(subject, SDO.text, Literal(hostile, lang="fr")), (subject, SKOS.altLabel, Literal(plain))]
    check_every_writer(triples, str(IDS.graph("metier", "MET.1")), GraphRenderer())


def test_a_lone_surrogate_cannot_reach_the_writers() -> None:
    """The UTF-8 (CESU) bytes of a lone surrogate are refused by the fiche reader, with the line."""
    data = hostile_fiche("hot liner", "avant ").replace(b"avant ", b"avant \xed\xa0\x80 apr\xc3\xa8s")
    line = data[: data.index(b"\xed")].count(b"\n") + 1
    with pytest.raises(ParseError) as info:
        parse_metier(data, "MET.799_surrogate.md")
    assert info.value.line == line and "not UTF-8: byte 0xED" in info.value.message


# -- end to end: a hostile fiche ingested, loaded, queried ----------------------------------------
NAME = (
    'hot "liner" l\'\\""" <b>@#1 \t\x01\x1b\x7f \u200f\u202eRTL\u202c e\u0301 \U0001f600 '
    "\U0001f468\u200d\U0001f469\u200d\U0001f467"
)
OTHER = "t\u00e9l\u00e9\u200dassistant/e \"\"\" '''"
OTHER_F = "t\u00e9l\u00e9assistante \\n \\u0022 %41 </script>"
TEXT_LINE = (
    'Il dit : """ \\ " \' <a href="x">@ # ^^ _:b0 ; , . {} [] \x0b\x0c\x1c\x1f \u2028 \u2029 \x85 '
    "\u200f\u05e9\u05dc\u05d5\u05dd\u202e \u200d \U0001f3f3\ufe0f\u200d\U0001f308 \U0010ffff \ufffe\uffff fin"
)
INTEREST = 'j\'ai "le" <sens> du #contact @ \U0001f916'
INTEREST_EMOJI = "\U0001f916\U0001f47e"
LONG = 'long\u00e9 "\\' * 30_000


def _edited_fiche() -> str:
    text = MET_799.read_text(encoding="utf-8")
    replacements = [
        ("# hot liner\n", f"# {NAME}\n"),
        ("- Féminin: hot liner\n", f"- Féminin: {NAME}\n"),
        ("### téléassistant/e\n", f"### {OTHER}\n"),
        ("- Féminin: téléassistante\n", f"- Féminin: {OTHER_F}\n"),
        ("« Allô ! Aucune feuille", f"{TEXT_LINE}\n« Allô ! Aucune feuille"),
        ("### Établir un diagnostic\n", f"### Établir un diagnostic\n{LONG}\n"),
        ("- j'ai le sens du contact", f"- {INTEREST}\n- {INTEREST_EMOJI}"),
    ]
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


@pytest.fixture(scope="module")
def hostile_output(tmp_path_factory: pytest.TempPathFactory, pipeline: Pipeline):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("hostile-fiche")
    fiche = folder / "MET.799_hostile.md"
    fiche.write_text(_edited_fiche(), encoding="utf-8")
    out = folder / "out"
    report = ingest([fiche], out, pipeline=pipeline, with_referentials=False, parallel=False)
    outcome, triples = pipeline.process(fiche.read_bytes(), report.outcomes[0].source)
    return report, out, expected_triples(triples or [])


def test_a_cr_is_a_line_end_in_a_fiche(pipeline: Pipeline) -> None:
    """CR cannot reach a literal from a fiche: CRLF and CR end lines as LF does (the writers'
    handling of CR is checked above, on literals built directly): the same graph either way."""
    text = _edited_fiche()
    graphs = []
    for newline in ("\n", "\r\n", "\r"):
        outcome, triples = pipeline.process(text.replace("\n", newline).encode("utf-8"), "MET.799_hostile.md")
        assert outcome.failure is None and triples is not None
        source = str(IDS.source(""))  # the provenance names the file by its bytes' SHA-256: set aside
        graphs.append({t for t in expected_triples(triples) if source not in str(t.subject) + str(t.object)})
    assert graphs[0] == graphs[1] == graphs[2]
    assert not any("\r" in value for value in literal_values(graphs[0]))


def literal_values(triples: set[ox.Triple]) -> set[str]:
    return {t.object.value for t in triples if isinstance(t.object, ox.Literal)}


def test_the_hostile_fiche_is_ingested(hostile_output) -> None:  # type: ignore[no-untyped-def]
    report, out, want = hostile_output
    assert not report.failures and report.ingested == 1
    values = literal_values(want)
    for exact in (NAME, OTHER, OTHER_F, TEXT_LINE, INTEREST, INTEREST_EMOJI, LONG):
        assert exact in values or any(exact in v for v in values), exact
    assert NAME in values and OTHER in values and OTHER_F in values  # names: exact literals


def test_per_fiche_files_parse_back_to_the_mapper_graph(hostile_output) -> None:  # type: ignore[no-untyped-def]
    _report, out, want = hostile_output
    assert triples_of((out / "metiers" / "MET.799.ttl").read_bytes(), ox.RdfFormat.TURTLE) == want
    assert triples_of((out / "metiers" / "MET.799.jsonld").read_bytes(), ox.RdfFormat.JSON_LD) == want
    turtle = rdflib_triples((out / "metiers" / "MET.799.ttl").read_bytes(), "turtle")
    assert {str(o) for _s, _p, o in turtle if isinstance(o, Literal)} == literal_values(want)


def test_whole_graph_files_parse_back_and_hold_the_strings(hostile_output) -> None:  # type: ignore[no-untyped-def]
    _report, out, want = hostile_output
    ttl = triples_of((out / "onisep-kg.ttl").read_bytes(), ox.RdfFormat.TURTLE)
    jsonld = triples_of((out / "onisep-kg.jsonld").read_bytes(), ox.RdfFormat.JSON_LD)
    trig = quads_of((out / "onisep-kg.trig").read_bytes())
    assert ttl == jsonld == {q.triple for q in trig}
    graph = str(IDS.graph("metier", "MET.799"))
    fiche_graph = {q.triple for q in trig if q.graph_name == ox.NamedNode(graph)}
    assert want <= fiche_graph  # the fiche's triples, and its provenance beside them
    assert want <= ttl
    dataset = RdflibDataset()
    dataset.parse(data=(out / "onisep-kg.trig").read_bytes(), format="trig")
    assert {str(o) for _s, _p, o, _g in dataset.quads() if isinstance(o, Literal)} == literal_values(ttl)


def test_the_embedded_store_gives_the_strings_back_unchanged(hostile_output, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _report, out, want = hostile_output
    with EmbeddedStore(tmp_path / "store") as store:
        load_ingest_output(out, store)
        rows = store.query(
            "SELECT ?m ?label WHERE { ?m <http://www.w3.org/2004/02/skos/core#prefLabel> ?label }",
            bindings={"m": IDS.metier("MET.799")},
        ).values()
        assert rows == [{"m": str(IDS.metier("MET.799")), "label": NAME}]
        found = store.query(
            "SELECT ?s ?p ?text WHERE { ?s ?p ?text }", bindings={"text": ox.Literal(OTHER_F, language="fr")}
        )
        assert len(found) >= 1
        stored = store.query("SELECT DISTINCT ?o WHERE { GRAPH ?g { ?s ?p ?o } FILTER(isLiteral(?o)) }")
        assert literal_values(want) <= {row["o"] for row in stored.values()}
        interests = store.query(
            "SELECT ?m ?i WHERE { ?m <https://w3id.org/onisep-kg/ontology#interest> ?i }",
            bindings={"m": IDS.metier("MET.799")},
        ).values()
        minted = {str(IDS.interest(INTEREST)), str(IDS.interest(INTEREST_EMOJI))}
        assert {row["i"] for row in interests} == minted


# -- IRIs read from a source, not minted ----------------------------------------------------------
IDEO_ITEM = (
    "<item><libelle_metier>hot liner</libelle_metier>"
    "<lien_site_onisepfr>{link}</lien_site_onisepfr>"
    "<nom_publication/><collection>pas de publication Onisep spécifique</collection><annee/><gencod/>"
    "<gfe>GFE P : informatique</gfe><code_rome>I1401</code_rome>"
    "<libelle_rome>Maintenance informatique et bureautique</libelle_rome>"
    "<lien_rome>https://candidat.francetravail.fr/metierscope/fiche-metier/I1401</lien_rome>"
    "<domainesous-domaine>informatique, Internet/systèmes et réseaux</domainesous-domaine></item>"
)


@pytest.mark.parametrize(
    "link",
    [
        "https://www.onisep.fr/http/redirection/%zz/MET.799",
        "https://www.onisep.fr/a#b#c/MET.799",
        "https://[::1/MET.799",
    ],
)
def test_an_ideo_link_that_is_no_iri_is_refused_when_read(link: str) -> None:
    """Regression: such a link passed the Idéo-Métiers reader (an http URL without blanks or
    quotes) and stopped the Turtle writer with a bare ValueError; it is now an InputError
    naming the file, the line and the item."""
    from pipeline.ideo_metiers import parse_ideo_metiers

    text = "<root>\n" + IDEO_ITEM.format(link="https://www.onisep.fr/x/MET.1") + "\n"
    text += IDEO_ITEM.format(link=link) + "\n</root>"
    with pytest.raises(InputError) as info:
        parse_ideo_metiers(text.encode("utf-8"), "ideo.xml")
    assert (info.value.source, info.value.line) == ("ideo.xml", 3)
    assert info.value.message.startswith(f"item 2: {link!r} is not a valid IRI")


def test_an_ideo_link_with_non_ascii_characters_is_written_and_read_back() -> None:
    """An IRI may hold non-ASCII characters: kept, written and read back as it is."""
    from pipeline.ideo_metiers import IdeoMetiersMapper, parse_ideo_metiers
    from pipeline.referentials import load_rome_v3

    link = "https://www.onisep.fr/métiers/\U0001f600/MET.799"
    doc = parse_ideo_metiers(("<root>" + IDEO_ITEM.format(link=link) + "</root>").encode(), "ideo.xml")
    graph = IdeoMetiersMapper(load_rome_v3(resources.rome_v3_file()), ids=IDS).map(doc)
    triples = list(graph.data)
    assert ox.NamedNode(link) in {t.object for t in expected_triples(triples)}
    check_every_writer(triples, str(IDS.graph("ideo", "metiers")), GraphRenderer())
