"""``GraphRenderer.render``'s quick path against the general writers it stands for.

A graph of common terms (IRIs, literals whose language tag is in lower case...: see
``_KnownTerms``) is rendered by a quick path of its own, any other graph by the general writers of
:mod:`pipeline.serialize` (as is a graph given :func:`prepare` d). Every check here renders the same
triples both ways, the renderer under test reused from graph to graph as the ingest reuses it, and
compares every chunk, the triple hashes and the count; the chunks also make the documents of
:func:`to_turtle`, :func:`to_jsonld` and :func:`to_trig` (which ``test_serialize_speed`` checks
against pyoxigraph's writers). Some checks also say which path a graph takes, so that the quick
path is seen to be taken, and left when it must be.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from rdflib import RDF, RDFS, SKOS, XSD, BNode, Literal, URIRef
from test_serialize_speed import (
    BLANKS,
    EX,
    ID,
    IRIS,
    LITERALS,
    OKG,
    REFUSED,
    S1,
    S2,
    P,
    SubIRI,
    SubLiteral,
    Triple,
    sample_graphs,  # noqa: F401  (a fixture)
)

from pipeline.emit import TripleSet
from pipeline.serialize import GraphChunks, GraphRenderer, prepare, to_jsonld, to_trig, to_turtle, turtle_head

G = ID + "graph/g"


def _parts(chunks: GraphChunks) -> tuple[bytes, bytes, bytes, bytes, int]:
    return chunks.turtle, chunks.jsonld, chunks.trig, chunks.hashes, chunks.triples


def _outcome(render: Callable[[], Any]) -> Any:
    """What ``render`` returns, or the class of the exception it raises."""
    try:
        return render()
    except Exception as exc:  # the general writers refuse the input: the quick path must too
        return type(exc)


def _quick(renderer: GraphRenderer, iri: str, triples: list[Triple]) -> bool:
    """Whether ``renderer`` renders these triples by its quick path."""
    numbers = renderer._known.triple_numbers(triples)
    return numbers is not None and renderer._render_known(iri, *numbers) is not None


def check(
    renderer: GraphRenderer, triples: Iterable[Triple], quick: bool | None = None, iri: str = G
) -> None:
    """``renderer.render`` gives the general writers' chunks; ``quick``: by which path."""
    triples = list(triples)
    expected = _outcome(lambda: _parts(GraphRenderer().render(iri, prepare(triples))))
    got = _outcome(lambda: _parts(renderer.render(iri, triples)))
    assert got == expected, triples
    if quick is not None:
        assert _quick(renderer, iri, triples) == quick, triples
    if isinstance(expected, tuple) and triples:
        chunks = renderer.render(iri, TripleSet(triples))  # the ingest's referential graphs
        assert _parts(chunks) == expected
        assert renderer.render(iri, iter(triples)).trig == chunks.trig
        assert chunks.turtle_document() == to_turtle(triples)
        assert chunks.jsonld_document() == to_jsonld(triples)
        assert turtle_head() + chunks.trig == to_trig([(iri, triples)])


def test_real_fiches(sample_graphs: list[tuple[str, list[Triple]]]) -> None:  # noqa: F811
    renderer = GraphRenderer()
    for iri, triples in sample_graphs:
        check(renderer, triples, quick=True, iri=iri)
    for iri, triples in sample_graphs[:5]:  # their terms known this time
        check(renderer, triples, quick=True, iri=iri)


def test_a_renderer_that_forgets_its_terms(sample_graphs: list[tuple[str, list[Triple]]]) -> None:  # noqa: F811
    renderer = GraphRenderer(max_terms=300)
    known = renderer._known
    for iri, triples in sample_graphs[:10]:
        check(renderer, triples, quick=True, iri=iri)
    assert renderer._known is not known


@pytest.mark.parametrize("obj", LITERALS + IRIS + BLANKS, ids=repr)
def test_each_object(obj: Any) -> None:
    check(GraphRenderer(), [(S1, P, obj), (S1, P, Literal("other")), (S2, P, obj)])


def test_objects_one_renderer() -> None:
    renderer = GraphRenderer()
    for obj in LITERALS + IRIS + BLANKS:
        check(renderer, [(S1, P, obj), (S2, P, Literal("other")), (S2, RDF.type, S1)])
    check(renderer, [(S1, P, obj) for obj in LITERALS if "\0" not in obj])


def test_which_objects_take_the_quick_path() -> None:
    renderer = GraphRenderer()
    quick = [
        URIRef(EX + "a"),
        Literal("x"),
        Literal("x", lang="fr"),
        Literal("x", lang="en-gb"),
        Literal("1", datatype=XSD.integer),
        Literal("x", datatype=URIRef(EX + "dt")),
        Literal('line\nbreak "quoted" 😀 \x01'),
    ]
    general = [BNode("b"), Literal("x", lang="EN"), Literal("a\0b"), SubIRI(EX + "a"), SubLiteral("x")]
    for obj in quick:
        check(renderer, [(S1, P, obj)], quick=True)
    for obj in general:
        check(renderer, [(S1, P, obj)], quick=False)
        check(renderer, [(S1, P, obj), (S2, P, Literal("x"))], quick=False)
    check(renderer, [(S1, P, o) for o in quick], quick=True)  # still quick: a term left out is not kept


@pytest.mark.parametrize("iri", IRIS, ids=repr)
def test_each_iri_as_subject_and_predicate(iri: URIRef) -> None:
    check(GraphRenderer(), [(iri, P, S1), (S1, iri, S2), (iri, iri, iri), (iri, RDF.type, S1)])


def test_literals_sorted_by_text_then_language_and_datatype() -> None:
    # a literal's order is a text: its lexical form, "\0", its language and datatype
    texts = ["", "a", "a ", "a\x01", "a\tb", "ab", "a b", "b", "é", "😀", "A"]
    objects: list[Any] = [URIRef(EX + "a"), URIRef(EX + "a/b")]
    for text in texts:
        objects += [Literal(text), Literal(text, lang="fr"), Literal(text, lang="fr-ca")]
        objects += [Literal(text, datatype=XSD.string), Literal(text, datatype=URIRef(EX + "dt"))]
    random.Random(7).shuffle(objects)
    check(GraphRenderer(), [(S1, P, o) for o in objects], quick=True)
    check(
        GraphRenderer(), [(S1, P, o) for o in objects[::2]] + [(S2, P, o) for o in objects[1::2]], quick=True
    )


def test_percent_and_braces_in_predicates() -> None:
    # a predicate's Turtle and JSON-LD name are parts of the formats of the quick path
    renderer = GraphRenderer()
    for local in ("a%20b", "%25", "a%s", "{0}", "a{b}", "%(x)s"):
        for predicate in (URIRef(ID + "metier/" + local), URIRef(OKG + local), URIRef(EX + local)):
            triples = [(S1, predicate, Literal("%s {0}")), (S1, predicate, S2), (S2, predicate, S1)]
            check(renderer, triples + [(S1, P, Literal("x")), (S1, RDF.type, S2)])


def test_rdf_type() -> None:
    renderer = GraphRenderer()
    t = RDF.type
    check(renderer, [(S1, t, URIRef(OKG + "Metier"))], quick=True)
    check(
        renderer, [(S1, t, URIRef(OKG + "Metier")), (S1, t, SKOS.Concept), (S1, P, Literal("x"))], quick=True
    )
    check(renderer, [(S1, t, Literal("a literal type"))], quick=False)  # not "@type" in JSON-LD
    check(renderer, [(S1, t, URIRef(OKG + "Metier")), (S2, t, Literal("a literal type"))], quick=False)
    check(renderer, [(S2, P, Literal("a literal type")), (S1, t, S2)], quick=True)  # that literal elsewhere
    check(renderer, [(S1, t, BNode("b"))], quick=False)


def test_single_and_several_values() -> None:
    renderer = GraphRenderer()
    check(renderer, [(S1, P, Literal("one"))], quick=True)
    check(renderer, [(S1, P, Literal(str(i))) for i in range(5)], quick=True)
    check(renderer, [(S1, URIRef(OKG + f"p{i}"), Literal(str(i))) for i in range(5)], quick=True)
    # predicates whose JSON-LD names do not sort as their IRIs
    predicates = [SKOS.prefLabel, RDFS.label, URIRef(OKG + "z"), URIRef(EX + "a"), URIRef(ID + "a")]
    check(renderer, [(S1, p, Literal(str(i))) for i, p in enumerate(predicates * 2)], quick=True)


def test_keys_that_collide_once_compacted() -> None:
    # an IRI written "okg:p" compacts to okg:p's JSON-LD name: met after it, it is not numbered
    renderer = GraphRenderer()
    collide = URIRef("okg:p")
    check(renderer, [(S1, P, Literal("full"))], quick=True)
    check(renderer, [(S1, P, Literal("full")), (S1, collide, Literal("short"))], quick=False)
    check(renderer, [(S2, collide, Literal("short"))], quick=False)
    check(renderer, [(S2, P, Literal("full"))], quick=True)
    check(renderer, [(S1, P, Literal("full"))], quick=True)
    check(renderer, [(URIRef("metier:MET.1"), P, Literal("short")), (S2, P, S1)], quick=False)
    check(renderer, [(S1, URIRef("@type"), Literal("x")), (S1, RDF.type, S2)], quick=False)
    check(renderer, [(S1, URIRef("@id"), Literal("x")), (S1, P, S2)], quick=False)


def test_terms_of_rdflib_subclasses_and_blank_nodes() -> None:
    renderer = GraphRenderer()
    check(renderer, [(SubIRI(str(S1)), P, Literal("sub")), (S1, P, Literal("plain"))], quick=False)
    check(renderer, [(S1, SubIRI(str(RDF.type)), S2), (S1, RDF.type, S2)], quick=False)
    check(renderer, [(S1, P, SubLiteral("x", lang="fr")), (S1, P, Literal("x", lang="fr"))], quick=False)
    check(renderer, [(BNode("b1"), P, Literal("x")), (S1, P, BNode("b1"))], quick=False)
    check(renderer, [(URIRef("b1"), P, Literal("iri")), (BNode("b1"), P, Literal("blank"))], quick=False)
    check(renderer, [(S1, P, Literal("plain"))], quick=True)


def test_a_literal_as_a_subject() -> None:
    # subjects and objects share their numbers: a literal met as an object is known as a subject
    renderer = GraphRenderer()
    literal = Literal("x")
    check(renderer, [(S1, P, literal)], quick=True)
    check(renderer, [(literal, P, S1)], quick=False)
    check(renderer, [(S2, P, S1), (literal, P, S1)], quick=False)
    check(renderer, [(Literal("y"), P, S1)], quick=False)


def test_duplicates_generators_and_empty_input() -> None:
    renderer = GraphRenderer()
    triples = [(S1, P, Literal("x")), (S1, P, Literal("x")), (S2, P, S1), (S2, P, S1), (S1, P, Literal("x"))]
    check(renderer, triples, quick=True)
    assert renderer.render(G, triples).triples == 2
    assert _parts(renderer.render(G, (t for t in triples))) == _parts(renderer.render(G, triples))
    assert _parts(renderer.render(G, [])) == (b"", b"", b"", b"", 0)
    assert _parts(renderer.render(G, TripleSet())) == (b"", b"", b"", b"", 0)
    check(renderer, [], quick=False)


def test_refused_inputs() -> None:
    # what the general writers refuse, the renderer refuses (the quick path leaves it to them)
    renderer = GraphRenderer()
    bad: list[list[Any]] = [
        *REFUSED,
        [(S1, URIRef("http://ex.org/a b"), S2)],
        [(S1, P, S2, S1)],
        [(S1, P, S2), (S1, P)],
        [1],
    ]
    for triples in bad:
        with pytest.raises(Exception) as refused:
            GraphRenderer().render(G, prepare(triples))
        with pytest.raises(refused.type):
            renderer.render(G, triples)
        check(renderer, [(S1, P, Literal("after"))], quick=True)


def test_random_graphs() -> None:
    rng = random.Random(20240611)
    subjects = IRIS[:20] + [S1, S2, BNode("b1")]
    predicates = [P, RDF.type, SKOS.prefLabel, URIRef(OKG + "q"), URIRef(EX + "p"), URIRef("okg:q")]
    objects = LITERALS + IRIS + BLANKS
    # half the graphs of terms that the quick path takes together (no two of one JSON-LD name)
    probe = GraphRenderer()
    common = [
        [s for s in subjects if _quick(probe, G, [(s, P, S1)])],
        [p for p in predicates if _quick(probe, G, [(S1, p, S2)])],
        [o for o in objects if _quick(probe, G, [(S1, P, o)])],
    ]
    renderer = GraphRenderer()
    quick = 0
    for i in range(400):
        pool = common if i % 2 else [subjects, predicates, objects]
        triples = [tuple(map(rng.choice, pool)) for _ in range(rng.randint(1, 40))]
        if i % 4 == 1:  # no rdf:type of a literal value
            triples = [(s, p, o) for s, p, o in triples if p != RDF.type or isinstance(o, URIRef)]
        triples += rng.sample(triples, k=min(3, len(triples)))  # some twice
        rng.shuffle(triples)
        check(renderer, triples)  # type: ignore[arg-type]
        quick += _quick(renderer, G, triples)  # type: ignore[arg-type]
    assert 100 < quick < 300  # both paths are taken
