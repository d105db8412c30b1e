"""The native SHACL engine (:class:`pipeline.shacl_fast.FastValidator`) against pyshacl.

Every check compares with :class:`pipeline.validate.Validator` (pyshacl), never with a written
expectation alone: equal findings (severity, shape, message, focus, path, value, file and line)
in the same order,

* on the graph of every one of the 1,043 shipped fiches, mapped as ``Pipeline.process`` maps it;
* on the referential graphs (formations, ROME v4 and ESCO, Idéo-Métiers), built and validated
  kind by kind as ``ingest._add_referentials`` does;
* on small graphs made for each constraint component and its edge cases (ill-typed literals,
  languages, patterns and flags, counts, sh:or/sh:and/sh:not over nested property shapes, sh:node
  and its nested results, sh:in, ranges, lessThanOrEquals, uniqueLang, targets, paths, messages),
  against inline shapes and against the real shapes on a mutated real fiche.

Each small case also names the findings it must produce, so that a case that stopped exercising
its component (both engines silent) fails too. Shapes the engine cannot evaluate raise ShapesError.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
from conftest import MET_799
from pyshacl.constraints import CONSTRAINT_PARAMETERS_MAP
from rdflib import DCTERMS, RDF, SDO, SKOS, XSD, BNode, Dataset, Graph, Literal, URIRef
from rdflib.namespace import SH

from pipeline import resources
from pipeline.emit import FicheGraph, SourceMap
from pipeline.errors import ShapesError
from pipeline.ingest import Pipeline, collect_fiches, default_validator, display_path, survey_fiches
from pipeline.linking import LinkReport
from pipeline.parse import parse_metier
from pipeline.referential_graphs import link_metiers
from pipeline.shacl_fast import SUPPORTED, FastValidator
from pipeline.validate import Finding, Validator, _finding_key
from pipeline.vocab import ESCO, OKG

PREFIXES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
"""
EX = "http://example.org/"


@pytest.fixture(scope="module")
def fast() -> FastValidator:
    return FastValidator()


@pytest.fixture(scope="module")
def reference() -> Validator:
    """pyshacl itself, the reference (the pipeline's default validator is the fast engine)."""
    return Validator()


def test_the_pipeline_validates_with_the_fast_engine_and_falls_back_to_pyshacl() -> None:
    assert isinstance(default_validator(), FastValidator)
    assert isinstance(default_validator(reference=True), Validator)
    unsupported = _graph("ex:S a sh:NodeShape ; sh:targetClass ex:T ; sh:closed true .")
    assert isinstance(default_validator(unsupported), Validator)  # pyshacl can, the engine cannot


def _graph(turtle: str) -> Graph:
    return Graph().parse(data=PREFIXES + turtle, format="turtle")


def _assert_same(fast: list[Finding], slow: list[Finding]) -> None:
    """The same findings in the same ``_finding_key`` order.

    pyshacl orders findings that tie on the key by hash, which changes from run to run; the fast
    engine breaks ties by path and message. Findings that tie with different messages only occur
    with default messages (a shape without sh:message failing twice on one value).
    """
    assert [_finding_key(f) for f in fast] == [_finding_key(f) for f in slow]
    assert Counter(fast) == Counter(slow), {
        "fast only": Counter(fast) - Counter(slow),
        "pyshacl only": Counter(slow) - Counter(fast),
    }


def _shapes_of(findings: list[Finding]) -> Counter[str]:
    return Counter(f.shape for f in findings)


# =================================================================================================
# The whole corpus and the referentials
# =================================================================================================


@pytest.mark.slow
def test_every_fiche_gives_the_same_findings_as_pyshacl(
    pipeline: Pipeline, reference: Validator, fast: FastValidator
) -> None:
    files, missing = collect_fiches([resources.metier_fiches_dir()])
    assert len(files) == 1043 and not missing
    slow_time = fast_time = 0.0
    by_shape: Counter[str] = Counter()
    for path in files:
        fiche = pipeline.mapper.map_metier(parse_metier(path.read_bytes(), display_path(path)))
        start = time.perf_counter()
        slow = reference.validate(fiche.graph, fiche.source_map)
        middle = time.perf_counter()
        found = fast.validate(fiche.data, fiche.source_map)  # the mapper's triples, as ingest does
        fast_time += time.perf_counter() - middle
        slow_time += middle - start
        assert found == slow, fiche.source_map.source
        by_shape.update(f.shape for f in found)
    print(
        f"\npyshacl {slow_time / len(files) * 1e3:.1f} ms/fiche, fast {fast_time / len(files) * 1e3:.2f} ms"
    )
    # Not a vacuous equality: the corpus has its known violations, warnings and infos.
    assert by_shape["okgsh:RomeCode-wellFormed"] == 2
    assert by_shape["okgsh:Metier-romeCode-present"] == 124
    assert by_shape["okgsh:Metier-recommendedFormation-present"] == 98


@pytest.mark.slow
def test_referential_graphs_give_the_same_findings_as_pyshacl(
    pipeline: Pipeline, reference: Validator, fast: FastValidator
) -> None:
    files, _missing = collect_fiches([resources.metier_fiches_dir()])
    survey, _claims = survey_fiches(files)
    links = LinkReport()
    sources = pipeline.sources
    link_metiers(survey, links, catalog=sources.catalog, rome_v3_labels=sources.rome_v3_labels)
    built = sources.build(survey, links)
    assert set(built.by_kind) == {"formations", "ROME v4 and ESCO", "Idéo-Métiers"}
    total = 0
    for kind, graphs in built.by_kind.items():
        slow = reference.validate_many(graphs)
        assert fast.validate_many(graphs) == slow, kind
        total += len(slow)
    assert total > 0


# =================================================================================================
# Small graphs, one component (and its edge cases) at a time
# =================================================================================================

CASES: dict[str, tuple[str, str, dict[str, int]]] = {
    # name: (shapes, data, findings per shape that pyshacl gives and the fast engine must match)
    "datatype, ill-typed and default messages": (
        """
        ex:Dt a sh:NodeShape ; sh:targetClass ex:Thing ;
            sh:property ex:Dt-int , ex:Dt-str , ex:Dt-lang , ex:Dt-year , ex:Dt-bool , ex:Dt-lit .
        ex:Dt-int sh:path ex:int ; sh:datatype xsd:integer .
        ex:Dt-str sh:path ex:str ; sh:datatype xsd:string .
        ex:Dt-lang sh:path ex:lang ; sh:datatype rdf:langString .
        ex:Dt-year sh:path ex:year ; sh:datatype xsd:gYear .
        ex:Dt-bool sh:path ex:bool ; sh:datatype xsd:boolean ; sh:message "not a boolean" .
        ex:Dt-lit sh:path ex:lit ; sh:datatype rdfs:Literal .
        """,
        """
        ex:a a ex:Thing ;
            ex:int 1 , "abc"^^xsd:integer , "1.5"^^xsd:decimal , "7" , ex:iri ;
            ex:str "plain" , "fr"@fr , "typed"^^xsd:string , 1 ;
            ex:lang "x"@fr , "y" , "z"@en-GB ;
            ex:year "2020"^^xsd:gYear , "20x3"^^xsd:gYear , "2020" ;
            ex:bool true , "maybe"^^xsd:boolean , 1 ;
            ex:lit "a" , 2 , ex:iri .
        """,
        # "20x3"^^xsd:gYear conforms: pyshacl only checks the datatypes rdflib parses.
        {"ex:Dt-int": 4, "ex:Dt-str": 2, "ex:Dt-lang": 1, "ex:Dt-year": 1, "ex:Dt-bool": 2, "ex:Dt-lit": 1},
    ),
    "languageIn and nodeKind": (
        """
        ex:L a sh:PropertyShape ; sh:targetClass ex:Thing ; sh:path ex:label ;
            sh:languageIn ( "fr" "EN" ) ; sh:message "French or English"@en , "Français ou anglais"@fr .
        ex:K-iri a sh:PropertyShape ; sh:targetClass ex:Thing ; sh:path ex:link ; sh:nodeKind sh:IRI .
        ex:K-lit a sh:PropertyShape ; sh:targetClass ex:Thing ; sh:path ex:link ; sh:nodeKind sh:Literal .
        ex:K-bn a sh:PropertyShape ; sh:targetClass ex:Thing ; sh:path ex:link ;
            sh:nodeKind sh:BlankNodeOrIRI .
        ex:K-node a sh:NodeShape ; sh:targetClass ex:Thing ; sh:nodeKind sh:BlankNode .
        """,
        """
        ex:a a ex:Thing ; ex:label "a"@fr , "b"@fr-CA , "c"@en , "d"@de , "e" , ex:iri ;
            ex:link ex:b , [ ex:p 1 ] , "lit" .
        """,
        {"ex:L": 3, "ex:K-iri": 2, "ex:K-lit": 2, "ex:K-bn": 1, "ex:K-node": 1},
    ),
    "pattern, flags, several patterns, minLength": (
        """
        ex:P a sh:PropertyShape ; sh:targetClass ex:Thing ; sh:path ex:code ;
            sh:pattern "^a[0-9]+$" ; sh:flags "i" .
        ex:P2 a sh:PropertyShape ; sh:targetClass ex:Thing ; sh:path ex:num ;
            sh:pattern "^[0-9]+$" , "5$" .
        ex:Iri a sh:NodeShape ; sh:targetClass ex:Thing ; sh:pattern "/b$" .
        ex:Len a sh:PropertyShape ; sh:targetClass ex:Thing ; sh:path ex:text ; sh:minLength 2 .
        """,
        """
        ex:a a ex:Thing ; ex:code "A12" , "b12" , 12 , ex:a12 , [ ex:p 1 ] ;
            ex:num "15" , "16" , "x5" , 25 ; ex:text "" , "ab" , "é" , ex:i , 5 , [ ex:p 2 ] .
        ex:b a ex:Thing .
        """,
        {"ex:P": 4, "ex:P2": 2, "ex:Iri": 1, "ex:Len": 4},
    ),
    "minCount 0, minCount, maxCount: results without value": (
        """
        ex:C a sh:NodeShape ; sh:targetClass ex:Thing ;
            sh:property ex:C-zero , ex:C-two , ex:C-max , ex:C-one .
        ex:C-zero sh:path ex:p ; sh:minCount 0 .
        ex:C-two sh:path ex:p ; sh:minCount 2 ; sh:severity sh:Warning .
        ex:C-max sh:path ex:q ; sh:maxCount 1 ; sh:severity sh:Info .
        ex:C-one sh:path ex:r ; sh:minCount 1 ; sh:message "needs one ex:r" .
        """,
        """
        ex:a a ex:Thing ; ex:p 1 ; ex:q 1 , 2 ; ex:r 1 .
        ex:b a ex:Thing ; ex:p 1 , 2 .
        """,
        {"ex:C-two": 1, "ex:C-max": 1, "ex:C-one": 1},
    ),
    "sh:or, sh:and, sh:not over nested property shapes": (
        """
        ex:Or a sh:NodeShape ; sh:targetClass ex:Salary ;
            sh:or ( [ sh:path ex:min ; sh:maxCount 0 ] [ sh:path ex:currency ; sh:minCount 1 ] ) .
        ex:OrAnd a sh:NodeShape ; sh:targetClass ex:Salary ; sh:severity sh:Info ;
            sh:or ( [ sh:path ex:min ; sh:maxCount 0 ]
                    [ sh:and ( [ sh:path ex:unit ; sh:minCount 1 ]
                               [ sh:path ex:basis ; sh:minCount 1 ] ) ] ) ;
            sh:message "amount without unit or basis" .
        ex:Not a sh:NodeShape ; sh:targetClass ex:Salary ;
            sh:not [ sh:path ex:min ; sh:minCount 1 ; sh:pattern "^9" ] .
        ex:OrWarning a sh:NodeShape ; sh:targetClass ex:Salary ;
            sh:or ( [ sh:path ex:nothing ; sh:minCount 1 ; sh:severity sh:Warning ] ) .
        ex:OrViolation a sh:NodeShape ; sh:targetClass ex:Salary ;
            sh:or ( [ sh:path ex:nothing ; sh:minCount 1 ] ) .
        ex:OrWarningNode a sh:NodeShape ; sh:targetClass ex:Salary ;
            sh:or ( [ sh:severity sh:Warning ; sh:property [ sh:path ex:nothing ; sh:minCount 1 ] ] ) .
        ex:OrWarningProperty a sh:NodeShape ; sh:targetClass ex:Salary ;
            sh:or ( [ sh:property [ sh:path ex:min ; sh:severity sh:Warning ;
                                    sh:property [ sh:path ex:nothing ; sh:minCount 1 ] ] ] ) .
        """,
        """
        ex:s1 a ex:Salary ; ex:min 3100 ; ex:currency "EUR" ; ex:unit "MONTH" ; ex:basis ex:Gross .
        ex:s2 a ex:Salary ; ex:min 900 ; ex:unit "MONTH" .
        ex:s3 a ex:Salary .
        """,
        # A nested shape of severity Warning always conforms under pyshacl's allow_warnings, even
        # when a property shape of its own fails with a violation (no ex:OrWarning… result).
        {"ex:Or": 1, "ex:OrAnd": 1, "ex:Not": 1, "ex:OrViolation": 3},
    ),
    "sh:in, sh:hasValue, uniqueLang": (
        """
        ex:In a sh:PropertyShape ; sh:targetClass ex:Thing ; sh:path ex:unit ;
            sh:in ( "HOUR" "DAY" ex:Gross 1 ) .
        ex:Has a sh:PropertyShape ; sh:targetClass ex:Thing ; sh:path rdf:type ;
            sh:hasValue ex:Concept , ex:Other .
        ex:HasNode a sh:NodeShape ; sh:targetNode ex:a , ex:special ; sh:hasValue ex:special .
        ex:Uniq a sh:PropertyShape ; sh:targetClass ex:Thing ; sh:path ex:label ; sh:uniqueLang true .
        ex:NotUniq a sh:PropertyShape ; sh:targetClass ex:Thing ; sh:path ex:label ; sh:uniqueLang false .
        """,
        """
        ex:a a ex:Thing , ex:Concept ; ex:unit "HOUR" , "hour" , "DAY"@en , ex:Net , 1 , "1" , ex:Gross ;
            ex:label "a"@fr , "b"@fr , "c"@en , "d"@EN , "e"@de , "f" .
        """,
        {"ex:In": 4, "ex:Has": 1, "ex:HasNode": 1, "ex:Uniq": 2},
    ),
    "ranges and lessThanOrEquals": (
        """
        ex:R a sh:PropertyShape ; sh:targetClass ex:Thing ; sh:path ex:order ;
            sh:minInclusive 1 ; sh:maxInclusive 6 .
        ex:D a sh:PropertyShape ; sh:targetClass ex:Thing ; sh:path ex:amount ; sh:minInclusive 0.0 .
        ex:S a sh:PropertyShape ; sh:targetClass ex:Thing ; sh:path ex:word ; sh:maxInclusive "m" .
        ex:T a sh:PropertyShape ; sh:targetClass ex:Thing ; sh:path ex:when ;
            sh:minInclusive "2020-01-01T00:00:00"^^xsd:dateTime .
        ex:Lte a sh:PropertyShape ; sh:targetClass ex:Thing ; sh:path ex:min ; sh:lessThanOrEquals ex:max .
        """,
        """
        ex:a a ex:Thing ; ex:order 0 , 1 , 6 , 7 , "3" , 2.5 , "x"^^xsd:integer , ex:iri , "4"^^xsd:int ;
            ex:amount -1.0 , 0.0 , 3.5 , 3 , "2" ; ex:word "a" , "z" , 1 ;
            ex:when "2019-06-01T00:00:00"^^xsd:dateTime , "2021-06-01T00:00:00"^^xsd:dateTime ;
            ex:min 3100 , 5 , "a" ; ex:max 2920 , 20 .
        ex:b a ex:Thing ; ex:min ex:x , 1.5 ; ex:max "z" , 2 .
        """,
        {"ex:R": 8, "ex:D": 2, "ex:S": 2, "ex:T": 1, "ex:Lte": 6},
    ),
    "sh:class and targets through rdfs:subClassOf in the data": (
        """
        ex:Animal-owner a sh:PropertyShape ; sh:targetClass ex:Animal ; sh:path ex:owner ;
            sh:class ex:Person .
        ex:Two a sh:PropertyShape ; sh:targetClass ex:Animal ; sh:path ex:owner ;
            sh:class ex:Person , ex:Adult .
        ex:Pet a sh:NodeShape ; sh:targetClass ex:Dog ; sh:class ex:Pet ;
            sh:message "a dog must be a pet" .
        """,
        """
        ex:Dog rdfs:subClassOf ex:Animal . ex:Puppy rdfs:subClassOf ex:Dog .
        ex:Student rdfs:subClassOf ex:Person .
        ex:rex a ex:Puppy ; ex:owner ex:bob , ex:cat , "lit" .
        ex:bob a ex:Student .
        ex:tom a ex:Animal , ex:Pet ; ex:owner ex:ann . ex:ann a ex:Person , ex:Adult .
        """,
        {"ex:Animal-owner": 2, "ex:Two": 5, "ex:Pet": 1},
    ),
    "sh:node reports its nested results too": (
        """
        ex:Outer a sh:NodeShape ; sh:targetClass ex:Thing ; sh:property ex:Outer-friend .
        ex:Outer-friend sh:path ex:friend ; sh:node ex:Inner ; sh:message "friend is not well formed" .
        ex:Inner a sh:NodeShape ; sh:property ex:Inner-name , ex:Inner-age .
        ex:Inner-name sh:path ex:name ; sh:minCount 1 .
        ex:Inner-age sh:path ex:age ; sh:maxCount 1 ; sh:severity sh:Warning .
        ex:Bare a sh:NodeShape ; sh:targetClass ex:Thing ; sh:node ex:Inner , ex:Other .
        ex:Other a sh:NodeShape ; sh:deactivated true ; sh:nodeKind sh:Literal .
        """,
        """
        ex:a a ex:Thing ; ex:friend ex:b , ex:c , ex:d ; ex:name "a" .
        ex:b ex:name "b" .
        ex:c ex:age 1 , 2 ; ex:name "c" .
        """,
        # ex:c only breaks a Warning shape, yet pyshacl's sh:node reports it (and ex:d).
        {"ex:Outer-friend": 2, "ex:Inner-name": 1, "ex:Inner-age": 1},
    ),
    "targets: node, subjects of, objects of, implicit class; deactivated; paths": (
        """
        ex:N a sh:NodeShape ; sh:targetNode ex:a , ex:absent , "lit" ; sh:nodeKind sh:IRI .
        ex:Subj a sh:NodeShape ; sh:targetSubjectsOf ex:link ;
            sh:property [ sh:path ex:name ; sh:minCount 1 ] .
        ex:Obj a sh:NodeShape ; sh:targetObjectsOf ex:link ; sh:class ex:Target .
        ex:Klass a rdfs:Class , sh:NodeShape ; sh:property [ sh:path ex:p ; sh:minCount 1 ] .
        ex:Off a sh:NodeShape ; sh:targetClass ex:Klass ; sh:deactivated true ; sh:nodeKind sh:Literal .
        ex:Inv a sh:PropertyShape ; sh:targetClass ex:Klass ; sh:path [ sh:inversePath ex:parent ] ;
            sh:minCount 1 .
        ex:Seq a sh:PropertyShape ; sh:targetSubjectsOf ex:link ; sh:path ( ex:link ex:p ) ;
            sh:datatype xsd:integer .
        ex:Alt a sh:PropertyShape ; sh:targetSubjectsOf ex:link ;
            sh:path [ sh:alternativePath ( ex:link ex:p ) ] ;
            sh:maxCount 1 .
        """,
        """
        ex:a ex:link ex:b , ex:c . ex:b a ex:Target ; ex:p 1 , "x" . ex:c ex:p 2 .
        ex:k a ex:Klass . ex:k2 a ex:Klass ; ex:p 1 . ex:kid ex:parent ex:k2 .
        """,
        {
            "ex:N": 1,
            "ex:Subj/ex:name": 1,
            "ex:Obj": 1,
            "ex:Klass/ex:p": 1,
            "ex:Inv": 1,
            "ex:Seq": 1,
            "ex:Alt": 1,
        },
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_small_graphs_give_the_same_findings_as_pyshacl(name: str) -> None:
    shapes_ttl, data_ttl, expected = CASES[name]
    shapes, data = _graph(shapes_ttl), _graph(data_ttl)
    source_map = SourceMap(
        "case.ttl", 3, nodes={URIRef(EX + "a"): 7}, values={(URIRef(EX + "a"), URIRef(EX + "p")): 9}
    )
    slow = Validator(shapes).validate(data, source_map)
    found = FastValidator(shapes).validate(data, source_map)
    _assert_same(found, slow)
    assert _shapes_of(slow) == Counter(expected)


def test_default_messages_are_pyshacl_s() -> None:
    shapes_ttl, data_ttl, _expected = CASES["datatype, ill-typed and default messages"]
    found = FastValidator(_graph(shapes_ttl)).validate(_graph(data_ttl), SourceMap("case.ttl"))
    messages = {f.message for f in found}
    assert "Value is not Literal with datatype xsd:integer" in messages
    assert "not a boolean" in messages  # sh:message wins over the default


def test_values_and_paths_of_results() -> None:
    """sh:or and sh:not results have the focus node as value and no path; minCount/maxCount no value."""
    shapes = _graph(CASES["sh:or, sh:and, sh:not over nested property shapes"][0])
    data = _graph(CASES["sh:or, sh:and, sh:not over nested property shapes"][1])
    found = FastValidator(shapes).validate(data, SourceMap("case.ttl"))
    assert {(f.shape, f.value, f.path) for f in found if f.focus == EX + "s2"} >= {
        ("ex:Or", EX + "s2", None),
        ("ex:OrAnd", EX + "s2", None),
        ("ex:Not", EX + "s2", None),
    }
    counts = FastValidator(_graph(CASES["minCount 0, minCount, maxCount: results without value"][0]))
    data = _graph(CASES["minCount 0, minCount, maxCount: results without value"][1])
    assert {(f.shape, f.path, f.value) for f in counts.validate(data, SourceMap("x"))} == {
        ("ex:C-two", EX + "p", None),
        ("ex:C-max", EX + "q", None),
        ("ex:C-one", EX + "r", None),
    }


def test_validate_many_locates_findings_like_pyshacl() -> None:
    shapes = _graph(CASES["minCount 0, minCount, maxCount: results without value"][0])
    first = _graph("ex:a a ex:Thing ; ex:p 1 .")
    second = Graph(store="SimpleMemory")  # no rdflib index to borrow: its triples are read
    second.parse(data=PREFIXES + "ex:a ex:q 1 , 2 . ex:b a ex:Thing ; ex:r 1 .", format="turtle")
    graphs = [
        FicheGraph(URIRef(EX + "g1"), URIRef(EX + "a"), first, SourceMap("one.md", 1, {URIRef(EX + "a"): 4})),
        FicheGraph(
            URIRef(EX + "g2"), URIRef(EX + "b"), second, SourceMap("two.md", 2, {URIRef(EX + "b"): 5})
        ),
    ]
    slow = Validator(shapes).validate_many(graphs)
    found = FastValidator(shapes).validate_many(graphs)
    _assert_same(found, slow)
    assert {(f.source, f.line, f.shape) for f in found} == {
        ("one.md", 4, "ex:C-two"),  # ex:a has one ex:p
        ("one.md", 4, "ex:C-max"),  # two ex:q, both from the second graph: located by the first
        ("one.md", 4, "ex:C-one"),
        ("two.md", 5, "ex:C-two"),
    }
    assert FastValidator(shapes).validate_many([]) == []


def test_borrowed_index_and_removed_triples(
    pipeline: Pipeline, reference: Validator, fast: FastValidator
) -> None:
    """rdflib's index is only borrowed when it is the graph's, and removed triples read as absent."""
    fiche = pipeline.mapper.map_metier(parse_metier(MET_799.read_bytes(), str(MET_799)))
    g = fiche.graph
    label = next(g.subjects(OKG.neutralForm, None))
    # rdflib keeps an empty entry for a removed (subject, predicate): the label must no longer be a
    # target of okgsh:GenderedLabel (sh:targetSubjectsOf okg:neutralForm) and its missing role
    # must not be reported.
    g.remove((label, OKG.neutralForm, None))
    g.remove((label, ESCO.hasLabelRole, None))
    expected = reference.validate(g, fiche.source_map)
    assert fast.validate(g, fiche.source_map) == expected
    dataset = Dataset()
    named = dataset.graph(URIRef(EX + "named"))
    for triple in g:
        named.add(triple)
    dataset.graph(URIRef(EX + "other")).add((fiche.subject, OKG.unparsedLine, Literal("x", lang="fr")))
    assert fast.validate(named, fiche.source_map) == expected


def test_the_real_shapes_on_a_broken_real_fiche(
    pipeline: Pipeline, reference: Validator, fast: FastValidator
) -> None:
    fiche = pipeline.mapper.map_metier(parse_metier(MET_799.read_bytes(), str(MET_799)))
    g, metier = fiche.graph, fiche.subject
    assert fast.validate(g, fiche.source_map) == reference.validate(g, fiche.source_map) == []
    section = next(g.objects(metier, OKG.hasSection))
    g.set((section, OKG.order, Literal("abc", datatype=XSD.integer)))  # ill-typed
    g.set((metier, SKOS.prefLabel, Literal("hot liner", lang="en")))  # wrong language
    g.remove((metier, DCTERMS.identifier, None))  # minCount
    code = URIRef("https://w3id.org/onisep-kg/id/rome/A15")
    g.add((metier, OKG.romeCode, code))
    for triple in ((code, RDF.type, OKG.RomeCode), (code, RDF.type, SKOS.Concept)):
        g.add(triple)
    g.add((code, SKOS.notation, Literal("A15")))  # pattern
    salary = g.value(metier, SDO.estimatedSalary)
    g.set((salary, SDO.minValue, Literal("3100", datatype=XSD.decimal)))
    g.set((salary, SDO.maxValue, Literal("2920", datatype=XSD.decimal)))  # lessThanOrEquals
    g.set((salary, SDO.unitText, Literal("FORTNIGHT")))  # sh:in
    g.remove((salary, SDO.currency, None))  # an amount without currency: sh:or
    level = next(g.objects(metier, OKG.minimumLevel))
    g.add((level, SKOS.prefLabel, Literal("autre", lang="fr")))  # uniqueLang, maxCount
    g.add((level, SKOS.closeMatch, BNode()))  # nodeKind, pattern on a blank node
    slow = reference.validate(g, fiche.source_map)
    _assert_same(fast.validate(g, fiche.source_map), slow)
    assert set(_shapes_of(slow)) >= {
        "okgsh:Section-order",
        "okgsh:Metier-prefLabel",
        "okgsh:Metier-identifier",
        "okgsh:RomeCode-wellFormed",
        "okgsh:Salary-minNotAboveMax",
        "okgsh:Salary-unitText",
        "okgsh:Salary-amountComplete",
        "okgsh:StudyLevel-prefLabel",
        "okgsh:StudyLevel-eqf",
    }


# =================================================================================================
# What the engine refuses
# =================================================================================================


@pytest.mark.parametrize(
    ("shapes", "term"),
    [
        (
            "ex:S a sh:NodeShape ; sh:targetClass ex:T ; sh:xone ( [ sh:class ex:A ] [ sh:class ex:B ] ) .",
            "sh:xone",
        ),
        (
            "ex:S a sh:PropertyShape ; sh:targetClass ex:T ; sh:path ex:p ;"
            " sh:qualifiedValueShape [ sh:class ex:A ] ; sh:qualifiedMinCount 1 .",
            "sh:qualified",
        ),
        (
            'ex:S a sh:NodeShape ; sh:targetClass ex:T ; sh:sparql [ sh:select "SELECT $this {}" ] .',
            "sh:sparql",
        ),
        (
            "ex:S a sh:PropertyShape ; sh:targetClass ex:T ; sh:path [ sh:zeroOrMorePath ex:p ] .",
            "sh:zeroOrMorePath",
        ),
        ("ex:S a sh:NodeShape ; sh:targetClass ex:T ; sh:closed true .", "sh:closed"),
        ("ex:S a sh:NodeShape ; sh:targetClass ex:T ; sh:node ex:S .", "recursive"),
        ("ex:C a sh:ConstraintComponent ; sh:parameter [ sh:path ex:p ] .", "custom constraint component"),
        ("ex:S a sh:NodeShape ; sh:targetClass ex:T ; sh:minCount 1 .", "sh:minCount on node shape"),
    ],
)
def test_unsupported_shapes_raise_shapes_error(shapes: str, term: str) -> None:
    with pytest.raises(ShapesError, match=term):
        FastValidator(_graph(shapes))


def test_the_shipped_shapes_use_only_supported_components(fast: FastValidator) -> None:
    """Every constraint parameter pyshacl would evaluate in our shapes is one the engine evaluates."""
    used = {p for p in fast.shapes_graph.predicates() if p in CONSTRAINT_PARAMETERS_MAP}
    names = {str(p).removeprefix(str(SH)) for p in used}
    assert names <= set(SUPPORTED)
    assert {"or", "and", "not", "in", "lessThanOrEquals", "uniqueLang", "minInclusive"} <= names


def test_validate_many_merges_triple_sets_without_changing_them() -> None:
    """The union borrows each graph's index: a subject of several graphs gets merged sets of its
    own, and the graphs themselves are left as they were."""
    from pipeline.emit import TripleSet

    shapes = _graph(CASES["minCount 0, minCount, maxCount: results without value"][0])
    a, b = URIRef(EX + "a"), URIRef(EX + "b")
    p, q, r, thing = (URIRef(EX + n) for n in ("p", "q", "r", "Thing"))
    first = TripleSet([(a, RDF.type, thing), (a, p, Literal(1)), (a, q, Literal(1))])
    second = TripleSet([(a, q, Literal(2)), (b, RDF.type, thing), (b, r, Literal(1))])
    before = [sorted(first), sorted(second)]
    graphs = [
        FicheGraph(URIRef(EX + "g1"), a, first, SourceMap("one.md", 1, {a: 4})),
        FicheGraph(URIRef(EX + "g2"), b, second, SourceMap("two.md", 2, {b: 5})),
    ]
    found = FastValidator(shapes).validate_many(graphs)
    _assert_same(found, Validator(shapes).validate_many(graphs))
    assert ("one.md", 4, "ex:C-max") in {(f.source, f.line, f.shape) for f in found}  # ex:q 1 and 2
    assert [sorted(first), sorted(second)] == before
    assert len(first.spo[a][q]) == 1 and len(second.spo[a][q]) == 1
