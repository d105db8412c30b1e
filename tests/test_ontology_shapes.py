"""The ontology (``ontology/onisep-kg.ttl``) and the SHACL shapes (``shapes/onisep-kg.shacl.ttl``).

What is checked, on real data wherever possible:

* the shapes graph is valid SHACL (SHACL-for-SHACL, the shapes graph pyshacl ships as
  ``pyshacl/assets/shacl-shacl.ttl``, a copy of https://www.w3.org/ns/shacl-shacl);
* the ontology declares exactly the terms of :class:`pipeline.vocab.OKG`, each with French and
  English labels and comments, with the kind (class, object or datatype property, individual),
  domain and range the mapper's real output uses;
* every schema.org term of the ontology, the shapes and a real fiche graph exists in rdflib's SDO;
* the shapes on the mapper's output of real fiches: MET.799 is clean, the malformed ROME codes of
  the corpus (``A15``, ``K15``) are violations, an unknown ROME code is a warning, and over all
  1,043 fiches the findings are exactly the gaps the records themselves show.

Validation always runs with inference off and the shapes compiled once (as the pipeline does).
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import re
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from importlib import resources as importlib_resources
from pathlib import Path

import pyshacl
import pytest
import rdflib
from pyshacl import Validator
from pyshacl.graph_abstraction import DataGraph
from pyshacl.shapes_graph import ShapesGraph
from rdflib import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import SH

from pipeline import Mapper, parse_metier, resources
from pipeline.levels import level_of
from pipeline.parse import parse_salary
from pipeline.records import Appellation, ExtraField, Item, MetierRecord, ParseIssue
from pipeline.referentials import Referentials, load_referentials
from pipeline.vocab import ESCO, FEMALE, OKG, ONTOLOGY_IRI, SKOSXL, Ids

OKGSH = Namespace("https://w3id.org/onisep-kg/shapes#")
ONTOLOGY = URIRef("https://w3id.org/onisep-kg/ontology")
VANN = Namespace("http://purl.org/vocab/vann/")
ROME_CODE_RE = re.compile(r"^[A-Z][0-9]{4}$")
IDS = Ids()

METIERS = resources.metier_fiches_dir()
SEVERITIES = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}

# The kind of every OKG term. vocab.py groups them the same way; a new term must be added here,
# in the ontology and (if the mapper emits it) in the shapes.
# fmt: off
CLASSES = {
    "Metier", "RomeCode", "Formation", "StudyLevel", "Status", "Interest", "Section", "SectionPart",
    "StudyDuration", "AccessRoute", "ExtraField", "SourceFile", "SalaryBasis",
    "FormationType", "Domain", "RomeMetier", "RomeAppellation", "EscoOccupation", "Publication",
    "FormationEmploymentGroup",
}
INDIVIDUALS = {"Gross", "Net"}
OBJECT_PROPERTIES = {
    "romeCode", "recommendedFormation", "minimumLevel", "status", "interest", "hasSection", "hasPart",
    "studyDuration", "accessRoute", "level", "salaryBasis", "extraField",
    "formationType", "certificationLevel", "exitLevel", "domain", "leadsTo", "formationEmploymentGroup",
    "romeParent",
}
DATATYPE_PROPERTIES = {
    "minimumLevelWording", "order", "heading", "headingLevel", "stage", "levelWording", "diploma",
    "salaryQualifier", "variable", "neutralForm", "fileName", "sha256", "sourceLine", "unparsedLine",
    "searchKey",
    "sigle", "durationWording", "certificationLevelWording", "exitLevelWording", "rncpCode", "nsfCode",
    "codeScolarite", "tutelle", "parcoursupExpectation", "accessConditions", "furtherStudies",
    "associatedMetierLabel", "collection", "ficheMetierCode", "ecologicalTransition", "digitalTransition",
    "demographicTransition", "regulatedOccupation", "managerialOccupation", "rarelyUsed",
}
REFERENTIAL_TERMS = {
    "FormationType", "Domain", "RomeMetier", "RomeAppellation", "EscoOccupation", "Publication",
    "FormationEmploymentGroup", "formationType", "exitLevel", "domain", "leadsTo",
    "formationEmploymentGroup", "romeParent", "sigle", "durationWording", "certificationLevelWording",
    "exitLevelWording", "rncpCode", "nsfCode", "codeScolarite", "tutelle", "parcoursupExpectation",
    "accessConditions", "furtherStudies", "associatedMetierLabel", "collection", "ficheMetierCode",
    "ecologicalTransition", "digitalTransition", "demographicTransition", "regulatedOccupation",
    "managerialOccupation", "rarelyUsed",
}
# fmt: on
KIND_OF = {
    **{n: OWL.Class for n in CLASSES},
    **{n: OWL.NamedIndividual for n in INDIVIDUALS},
    **{n: OWL.ObjectProperty for n in OBJECT_PROPERTIES},
    **{n: OWL.DatatypeProperty for n in DATATYPE_PROPERTIES},
}


def fiche(metier_id: str) -> Path:
    """The real fiche file of ``MET.<n>``."""
    (path,) = METIERS.glob(f"{metier_id}_*.md")
    return path


def local(iri: object) -> str:
    return str(iri).rsplit("#", 1)[-1].rsplit("/", 1)[-1]


# -- validation helpers ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Result:
    shape: str  # local name of the okgsh: shape, or "_" for a blank node
    severity: str  # Violation / Warning / Info
    focus: str
    value: str | None
    message: str


class Shapes:
    """The shapes parsed and compiled once, then run over one data graph at a time."""

    def __init__(self, path: Path) -> None:
        # SimpleMemory: pyshacl reads the shapes graph for every shape evaluation, and the
        # context-free store makes those reads ~1.4x faster than the default Memory store.
        self.graph = Graph(store="SimpleMemory")
        self.graph.parse(path, format="turtle")
        self.compiled = ShapesGraph(self.graph)
        self.compiled.shapes  # noqa: B018  (harvest the shapes once)

    def validate(self, data: Graph) -> tuple[bool, list[Result]]:
        validator = Validator(
            DataGraph.from_rdflib(data),
            shacl_graph=self.graph,
            options={"inference": "none", "allow_infos": True, "allow_warnings": True},
        )
        validator.shacl_graph = self.compiled
        conforms, report, _text = validator.run()
        results = []
        # Top-level results only (sh:detail results nested under another are not findings).
        for r in report.objects(None, SH.result):
            shape = report.value(r, SH.sourceShape)
            value = report.value(r, SH.value)
            results.append(
                Result(
                    shape=local(shape) if isinstance(shape, URIRef) else "_",
                    severity=SEVERITIES[report.value(r, SH.resultSeverity)],
                    focus=str(report.value(r, SH.focusNode)),
                    value=None if value is None else str(value),
                    message=str(report.value(r, SH.resultMessage)),
                )
            )
        return bool(conforms), sorted(results, key=lambda x: (x.shape, x.focus, x.value or ""))


def kinds(results: Iterable[Result]) -> set[tuple[str, str]]:
    return {(r.shape, r.severity) for r in results}


@pytest.fixture(scope="module")
def shapes() -> Shapes:
    return Shapes(resources.shapes_file())


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return Graph().parse(resources.ontology_file(), format="turtle")


@pytest.fixture(scope="module")
def refs() -> Referentials:
    return load_referentials()


@pytest.fixture(scope="module")
def mapper(refs: Referentials) -> Mapper:
    return Mapper(refs)


def record_of(metier_id: str) -> MetierRecord:
    path = fiche(metier_id)
    return parse_metier(path.read_bytes(), str(path))


@pytest.fixture(scope="module")
def met799(mapper: Mapper) -> Graph:
    return mapper.map_metier(record_of("MET.799")).graph


def variant_with_extras(mapper: Mapper) -> Graph:
    """MET.799 plus what the corpus never has: an unknown header field and an unplaced line."""
    record = dataclasses.replace(
        record_of("MET.799"),
        extra_fields=[ExtraField("Code NSF", "326", 140, (Item("326t", 141), Item("326r", 142)))],
        issues=[ParseIssue(143, "text outside any section or field", "Une ligne égarée")],
    )
    return mapper.map_metier(record).graph


def sample_graphs(mapper: Mapper, refs: Referentials, monkeypatch: pytest.MonkeyPatch) -> dict[str, Graph]:
    """Real fiches covering every kind of node the mapper writes, plus two variants."""
    graphs = {mid: mapper.map_metier(record_of(mid)).graph for mid in ("MET.799", "MET.323", "MET.926")}
    graphs["extras"] = variant_with_extras(mapper)
    record = record_of("MET.799")  # no real fiche gives a net salary
    net = parse_salary(Item("Entre 1500 et 1700 euros net par mois", record.salary.raw.line))
    graphs["net"] = mapper.map_metier(dataclasses.replace(record, salary=net)).graph
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    graphs["dated"] = Mapper(refs).map_metier(record_of("MET.799")).graph
    return graphs


# -- SHACL for SHACL ---------------------------------------------------------------------------


def shacl_shacl() -> Graph:
    asset = importlib_resources.files("pyshacl") / "assets" / "shacl-shacl.ttl"
    return Graph().parse(data=asset.read_text(encoding="utf-8"), format="turtle")


def test_shapes_graph_conforms_to_shacl_for_shacl() -> None:
    shapes_graph = Graph().parse(resources.shapes_file(), format="turtle")
    conforms, _report, text = pyshacl.validate(shapes_graph, shacl_graph=shacl_shacl(), inference="none")
    assert conforms, text


def test_shacl_for_shacl_catches_a_broken_shape() -> None:
    """Control: the meta-validation above is not vacuous."""
    broken = Graph().parse(resources.shapes_file(), format="turtle")
    broken.add((OKGSH["Metier-identifier"], SH.minCount, Literal("one")))
    conforms, _report, _text = pyshacl.validate(broken, shacl_graph=shacl_shacl(), inference="none")
    assert not conforms


# -- the shapes themselves ---------------------------------------------------------------------


def _list_members(g: Graph) -> set[BNode]:
    """Blank shapes used as members of sh:or / sh:and / sh:xone lists or under sh:not."""
    members: set[BNode] = set()
    for p in (SH["or"], SH["and"], SH.xone):
        for head in g.objects(None, p):
            members.update(m for m in Collection(g, head) if isinstance(m, BNode))
    members.update(m for m in g.objects(None, SH["not"]) if isinstance(m, BNode))
    return members


def _shapes_in(g: Graph) -> set:
    shapes: set = set(g.subjects(RDF.type, SH.NodeShape)) | set(g.subjects(RDF.type, SH.PropertyShape))
    shapes |= set(g.objects(None, SH.property)) | set(g.subjects(SH.path, None))
    for target in (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf):
        shapes |= set(g.subjects(target, None))
    return shapes


def test_every_shape_has_an_iri_a_label_and_a_message() -> None:
    g = Graph().parse(resources.shapes_file(), format="turtle")
    nested = _list_members(g)
    shapes = _shapes_in(g)
    assert len(shapes) > 50
    for shape in shapes:
        if isinstance(shape, BNode):
            assert shape in nested, (
                f"blank-node shape outside sh:or/sh:not: {list(g.predicate_objects(shape))}"
            )
            continue
        assert str(shape).startswith(str(OKGSH)), shape
        assert g.value(shape, RDFS.label) is not None, f"{shape} has no rdfs:label"
        message = g.value(shape, SH.message)
        assert message is not None and len(str(message)) > 20, f"{shape} has no clear sh:message"
        assert g.value(shape, SH.severity, default=SH.Violation) in SEVERITIES, shape


def test_every_property_shape_is_defined_and_typed() -> None:
    g = Graph().parse(resources.shapes_file(), format="turtle")
    for node_shape, prop in g.subject_objects(SH.property):
        assert isinstance(prop, URIRef), f"{node_shape} has a blank property shape"
        assert (prop, RDF.type, SH.PropertyShape) in g, prop
        assert g.value(prop, SH.path) is not None, f"{prop} (from {node_shape}) has no sh:path"
    for shape in g.subjects(SH.targetClass, None):
        assert (shape, RDF.type, SH.NodeShape) in g or (shape, RDF.type, SH.PropertyShape) in g, shape


def test_severities_say_what_the_design_says() -> None:
    g = Graph().parse(resources.shapes_file(), format="turtle")
    warnings = {local(s) for s in g.subjects(SH.severity, SH.Warning)}
    infos = {local(s) for s in g.subjects(SH.severity, SH.Info)}
    assert warnings == {
        "Metier-romeCode-present",
        "Metier-minimumLevel-present",
        "RomeCode-inReferential",
        "AccessRoute-level-present",
        "Salary-minNotAboveMax",  # the source states the range backwards: kept, flagged
    }
    assert infos == {
        "Metier-recommendedFormation-present",
        "Salary-understood",
        "Salary-amountQualified",
        "Metier-unparsedLine-none",
    }


def _covered_paths(g: Graph) -> dict[URIRef, set[URIRef]]:
    """Class → the predicates some shape targeting that class constrains."""
    covered: dict[URIRef, set[URIRef]] = {}
    for shape, cls in g.subject_objects(SH.targetClass):
        paths = {g.value(p, SH.path) for p in g.objects(shape, SH.property)}
        paths.add(g.value(shape, SH.path))
        covered.setdefault(cls, set()).update(p for p in paths if isinstance(p, URIRef))
    return covered


def test_shapes_cover_every_class_and_property_the_mapper_emits(
    mapper: Mapper, refs: Referentials, monkeypatch: pytest.MonkeyPatch
) -> None:
    shapes_graph = Graph()
    for path in resources.shapes_files():
        shapes_graph.parse(path, format="turtle")
    covered = _covered_paths(shapes_graph)
    # The fiche graph's own node is typed prov:Entity like its source file; its specific shape
    # targets the subjects of prov:wasDerivedFrom.
    for shape in shapes_graph.subjects(SH.targetSubjectsOf, PROV.wasDerivedFrom):
        paths = {shapes_graph.value(p, SH.path) for p in shapes_graph.objects(shape, SH.property)}
        covered.setdefault(PROV.Entity, set()).update(paths)
    missing: set[tuple[str, str]] = set()
    for graph in sample_graphs(mapper, refs, monkeypatch).values():
        for node in set(graph.subjects(RDF.type, None)):  # co-types (schema:Occupation) may go untargeted
            assert _types(graph, node) & set(covered), f"no shape targets {node} ({_types(graph, node)})"
        for s, p, _o in graph:
            if p == RDF.type:
                continue
            if not any(p in covered.get(cls, ()) for cls in graph.objects(s, RDF.type)):
                missing.add((", ".join(sorted(map(str, graph.objects(s, RDF.type)))) or "untyped", str(p)))
    assert not missing, f"(types, predicate) emitted but constrained by no shape: {sorted(missing)}"


# -- the ontology ------------------------------------------------------------------------------


def okg_terms() -> set[str]:
    return {local(t) for t in dir(OKG)}


def test_kind_table_matches_vocab() -> None:
    assert set(KIND_OF) == okg_terms()


def test_ontology_header(ontology: Graph) -> None:
    assert (ONTOLOGY, RDF.type, OWL.Ontology) in ontology
    for p in (DCTERMS.title, DCTERMS.description):
        assert {lit.language for lit in ontology.objects(ONTOLOGY, p)} == {"fr", "en"}, p
    assert ontology.value(ONTOLOGY, OWL.versionInfo) == Literal("0.1.0")
    assert ontology.value(ONTOLOGY, DCTERMS.creator) == Literal("onisep-kg")
    assert isinstance(ontology.value(ONTOLOGY, DCTERMS.license), URIRef)
    assert ontology.value(ONTOLOGY, VANN.preferredNamespaceUri) == Literal(ONTOLOGY_IRI)


def test_every_vocab_term_is_declared_with_its_kind_and_bilingual_docs(ontology: Graph) -> None:
    for name in sorted(okg_terms()):
        term = OKG[name]
        declared = set(ontology.objects(term, RDF.type)) & {
            OWL.Class,
            OWL.ObjectProperty,
            OWL.DatatypeProperty,
            OWL.NamedIndividual,
        }
        assert declared == {KIND_OF[name]}, f"okg:{name} declared as {declared}"
        for p in (RDFS.label, RDFS.comment):
            langs = [lit.language for lit in ontology.objects(term, p)]
            assert sorted(langs) == ["en", "fr"], f"okg:{name} {p}: {langs}"
        assert ontology.value(term, RDFS.isDefinedBy) == ONTOLOGY


def test_ontology_mints_no_term_vocab_lacks(ontology: Graph) -> None:
    used = {
        local(n) for t in ontology for n in t if isinstance(n, URIRef) and str(n).startswith(ONTOLOGY_IRI)
    }
    assert used - okg_terms() == set()


def test_ontology_aligns_with_reused_vocabularies(ontology: Graph) -> None:
    expected_superclasses = {
        OKG.Metier: {rdflib.SDO.Occupation, SKOS.Concept},
        OKG.Formation: {rdflib.SDO.EducationalOccupationalProgram},
        OKG.RomeCode: {SKOS.Concept},
        OKG.StudyLevel: {SKOS.Concept},
        OKG.Status: {SKOS.Concept},
        OKG.Interest: {SKOS.Concept},
        OKG.SourceFile: {PROV.Entity},
    }
    for cls, supers in expected_superclasses.items():
        assert set(ontology.objects(cls, RDFS.subClassOf)) == supers, cls
    assert set(ontology.objects(OKG.romeCode, RDFS.subPropertyOf)) == {rdflib.SDO.occupationalCategory}
    for individual in (OKG.Gross, OKG.Net):
        assert (individual, RDF.type, OKG.SalaryBasis) in ontology
    one_of = ontology.value(OKG.SalaryBasis, OWL.oneOf)
    assert set(Collection(ontology, one_of)) == {OKG.Gross, OKG.Net}


def _types(graph: Graph, node: object) -> set:
    return set(graph.objects(node, RDF.type))


def test_ontology_kinds_domains_and_ranges_match_the_mapper_output(
    ontology: Graph, mapper: Mapper, refs: Referentials, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every okg: term the mapper writes is used as the ontology declares it."""
    seen: set[str] = set()
    for name, graph in sample_graphs(mapper, refs, monkeypatch).items():
        for s, p, o in graph:
            if p == RDF.type:
                if str(o).startswith(ONTOLOGY_IRI):
                    seen.add(local(o))
                    assert KIND_OF[local(o)] == OWL.Class, (name, o)
                continue
            if str(o).startswith(ONTOLOGY_IRI):  # an individual used as a value
                seen.add(local(o))
                assert KIND_OF[local(o)] == OWL.NamedIndividual, (name, o)
            if not str(p).startswith(ONTOLOGY_IRI):
                continue
            seen.add(local(p))
            domain, range_ = ontology.value(p, RDFS.domain), ontology.value(p, RDFS.range)
            if domain is not None:
                assert domain in _types(graph, s), f"{name}: {s} uses {p} but is not a {domain}"
            if isinstance(o, Literal):
                assert KIND_OF[local(p)] == OWL.DatatypeProperty, (name, p)
                datatype = RDF.langString if o.language else (o.datatype or rdflib.XSD.string)
                assert range_ is None or datatype == range_, f"{name}: {p} value {o!r} is not a {range_}"
            else:
                assert KIND_OF[local(p)] == OWL.ObjectProperty, (name, p)
                if range_ is not None:
                    assert range_ in _types(graph, o) | _types(ontology, o), f"{name}: {o} is not a {range_}"
    # The sample exercises every term but the class of the two individuals.
    # the rest is emitted by the referential mappers (formations, ROME/ESCO, Idéo-Métiers); that
    # they are used is checked on the whole graph in tests/test_linked_graph.py
    assert okg_terms() - seen == {"SalaryBasis"} | REFERENTIAL_TERMS


# -- schema.org --------------------------------------------------------------------------------


def _schema_terms(graph: Graph) -> set[str]:
    return {str(n) for t in graph for n in t if isinstance(n, URIRef) and "schema.org/" in str(n)}


def test_every_schema_org_term_exists_in_rdflib_sdo(ontology: Graph, met799: Graph) -> None:
    shapes_graph = Graph().parse(resources.shapes_file(), format="turtle")
    terms = _schema_terms(ontology) | _schema_terms(shapes_graph) | _schema_terms(met799)
    assert {rdflib.SDO.Occupation, rdflib.SDO.estimatedSalary, rdflib.SDO.MonetaryAmount} <= {
        URIRef(t) for t in terms
    }
    for term in sorted(terms):
        assert term.startswith(str(rdflib.SDO)), f"{term}: schema.org is used as https://schema.org/"
        assert term in rdflib.SDO, f"{term} is not a schema.org term known to rdflib's SDO"
    assert "https://schema.org/MonetaryAmountt" not in rdflib.SDO  # control: the check can fail


# -- the shapes on real fiches -----------------------------------------------------------------


def test_met_799_conforms_with_no_finding_at_all(shapes: Shapes, met799: Graph) -> None:
    conforms, results = shapes.validate(met799)
    assert conforms
    assert results == []


@pytest.mark.parametrize(("metier_id", "code"), [("MET.323", "A15"), ("MET.8099", "K15")])
def test_malformed_rome_code_in_a_real_fiche_is_a_violation(
    shapes: Shapes, mapper: Mapper, metier_id: str, code: str
) -> None:
    conforms, results = shapes.validate(mapper.map_metier(record_of(metier_id)).graph)
    assert not conforms
    malformed = [r for r in results if r.shape == "RomeCode-wellFormed"]
    assert len(malformed) == 1
    (finding,) = malformed
    assert finding.severity == "Violation"
    assert finding.focus == str(IDS.rome(code))
    assert finding.value == code
    assert finding.message.startswith("Malformed ROME code")
    # Reported once: not again as "missing from the referential", and nothing else is wrong.
    assert kinds(results) == {("RomeCode-wellFormed", "Violation")}


def test_unknown_but_well_formed_rome_code_is_a_warning(shapes: Shapes, mapper: Mapper) -> None:
    record = record_of("MET.799")
    line = record.rome_codes[0].line
    graph = mapper.map_metier(dataclasses.replace(record, rome_codes=[Item("Z9999", line)])).graph
    conforms, results = shapes.validate(graph)
    assert conforms  # warnings do not break conformance
    assert kinds(results) == {("RomeCode-inReferential", "Warning")}
    assert results[0].focus == str(IDS.rome("Z9999"))


@pytest.mark.parametrize(
    ("metier_id", "expected"),
    [
        # "Entre 2800 et 2750 euros brut par mois": the source gives the bounds reversed.
        ("MET.351", {("Salary-minNotAboveMax", "Warning")}),
        # "**Niveau d'accès minimum:** autre formation" maps to no study level (and, as for all
        # such fiches, no formation is recommended).
        (
            "MET.167",
            {("Metier-minimumLevel-present", "Warning"), ("Metier-recommendedFormation-present", "Info")},
        ),
        # An honest salary sentence with no amount the parser can read.
        ("MET.178", {("Salary-understood", "Info")}),
        # "Variable en fonction …": understood (variable), so no finding.
        ("MET.681", set()),
        # "Niveau baccalauréat" in "Accès au métier" maps to level 4; no formation is recommended.
        ("MET.926", {("Metier-recommendedFormation-present", "Info")}),
    ],
)
def test_real_fiches_give_the_findings_their_data_calls_for(
    shapes: Shapes, mapper: Mapper, metier_id: str, expected: set[tuple[str, str]]
) -> None:
    _conforms, results = shapes.validate(mapper.map_metier(record_of(metier_id)).graph)
    assert kinds(results) == expected, results


def test_a_fiche_without_appellations_has_no_skosxl_label(shapes: Shapes, mapper: Mapper) -> None:
    record = record_of("MET.799")
    record = dataclasses.replace(record, appellation=Appellation(record.title, None, None))
    conforms, results = shapes.validate(mapper.map_metier(record).graph)
    assert not conforms
    assert kinds(results) == {("Metier-xlPrefLabel", "Violation")}


def test_extra_fields_and_unplaced_lines_are_well_formed_and_reported_as_info(
    shapes: Shapes, mapper: Mapper
) -> None:
    conforms, results = shapes.validate(variant_with_extras(mapper))
    assert conforms
    assert kinds(results) == {("Metier-unparsedLine-none", "Info")}


def test_generation_time_from_source_date_epoch_conforms(
    shapes: Shapes, refs: Referentials, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    graph = Mapper(refs).map_metier(record_of("MET.799")).graph
    assert any(graph.objects(None, PROV.generatedAtTime))
    assert shapes.validate(graph) == (True, [])


# Each mutation of the real MET.799 graph breaks one rule and must be caught by one shape.
M = URIRef(IDS.metier("MET.799"))
LABEL = URIRef(IDS.label("MET.799", 0, "fm"))
SECTION = URIRef(IDS.section("MET.799", 2))
PART = URIRef(IDS.part("MET.799", 4, 1))
SALARY = URIRef(IDS.salary("MET.799"))
LEVEL = URIRef(IDS.level(5))
ROME = URIRef(IDS.rome("I1401"))
FORMATION = URIRef(IDS.formation("FOR.5337"))


def _set(s: URIRef, p: URIRef, o: object) -> Callable[[Graph], None]:
    def mutate(g: Graph) -> None:
        g.remove((s, p, None))
        g.add((s, p, o))  # type: ignore[arg-type]

    return mutate


def _drop(s: object, p: URIRef, o: object = None) -> Callable[[Graph], None]:
    def mutate(g: Graph) -> None:
        g.remove((s, p, o))  # type: ignore[arg-type]

    return mutate


def _add(s: URIRef, p: URIRef, o: object) -> Callable[[Graph], None]:
    return lambda g: g.add((s, p, o))  # type: ignore[arg-type]


def _source(g: Graph) -> URIRef:
    return next(iter(g.subjects(RDF.type, OKG.SourceFile)))


MUTATIONS: list[tuple[str, Callable[[Graph], None], str, str]] = [
    ("no identifier", _drop(M, DCTERMS.identifier), "Metier-identifier", "Violation"),
    ("bad identifier", _set(M, DCTERMS.identifier, Literal("MET-799")), "Metier-identifier", "Violation"),
    (
        "two prefLabels",
        _add(M, SKOS.prefLabel, Literal("hot-liner", lang="fr")),
        "Metier-prefLabel",
        "Violation",
    ),
    ("untagged prefLabel", _set(M, SKOS.prefLabel, Literal("hot liner")), "Metier-prefLabel", "Violation"),
    (
        "English prefLabel",
        _set(M, SKOS.prefLabel, Literal("hot liner", lang="en")),
        "Metier-prefLabel",
        "Violation",
    ),
    ("not an Occupation", _drop(M, RDF.type, rdflib.SDO.Occupation), "Metier-type-occupation", "Violation"),
    ("no SKOS-XL prefLabel", _drop(M, SKOSXL.prefLabel), "Metier-xlPrefLabel", "Violation"),
    ("no search key", _drop(M, OKG.searchKey), "Metier-searchKey", "Violation"),
    ("two search keys", _add(M, OKG.searchKey, Literal("hotliner")), "Metier-searchKey", "Violation"),
    (
        "search key tagged",
        _set(M, OKG.searchKey, Literal("hot liner", lang="fr")),
        "Metier-searchKey",
        "Violation",
    ),
    ("search key empty", _set(M, OKG.searchKey, Literal("")), "Metier-searchKey", "Violation"),
    ("search key not folded", _set(M, OKG.searchKey, Literal("Hot liner")), "Metier-searchKey", "Violation"),
    (
        "search key accented",
        _set(M, OKG.searchKey, Literal("téléassistante")),
        "Metier-searchKey",
        "Violation",
    ),
    ("no source", _drop(M, DCTERMS.source), "Metier-source", "Violation"),
    ("label without form", _drop(LABEL, SKOSXL.literalForm), "Label-literalForm", "Violation"),
    ("label without role", _drop(LABEL, ESCO.hasLabelRole), "Label-role", "Violation"),
    ("unknown label role", _set(LABEL, ESCO.hasLabelRole, FEMALE + "x"), "Label-roleValue", "Violation"),
    ("section without order", _drop(SECTION, OKG.order), "Section-order", "Violation"),
    ("section order as text", _set(SECTION, OKG.order, Literal("2")), "Section-order", "Violation"),
    ("section without title", _drop(SECTION, DCTERMS.title), "Section-title", "Violation"),
    ("heading level 7", _set(PART, OKG.headingLevel, Literal(7)), "SectionPart-headingLevel", "Violation"),
    (
        "level without English",
        _drop(LEVEL, SKOS.prefLabel, Literal("level 5 (two years after the baccalauréat)", lang="en")),
        "StudyLevel-prefLabel",
        "Violation",
    ),
    (
        "formation id",
        _set(FORMATION, DCTERMS.identifier, Literal("FOR5337")),
        "Formation-identifier",
        "Violation",
    ),
    (
        "min above max",
        _add(SALARY, rdflib.SDO.maxValue, Literal(Decimal("1500"))),
        "Salary-minNotAboveMax",
        "Warning",
    ),
    ("integer amount", _set(SALARY, rdflib.SDO.minValue, Literal(1801)), "Salary-minValue", "Violation"),
    ("no currency", _drop(SALARY, rdflib.SDO.currency), "Salary-amountComplete", "Violation"),
    ("no basis", _drop(SALARY, OKG.salaryBasis), "Salary-amountQualified", "Info"),
    ("no variable flag", _drop(SALARY, OKG.variable), "Salary-variable", "Violation"),
    ("ROME link untyped", _drop(ROME, RDF.type, OKG.RomeCode), "Metier-romeCode", "Violation"),
    ("ROME label gone", _drop(ROME, SKOS.prefLabel), "RomeCode-inReferential", "Warning"),
    ("no level", _drop(M, OKG.minimumLevel), "Metier-minimumLevel-present", "Warning"),
    ("no amount", _drop(SALARY, rdflib.SDO.minValue), "Salary-understood", "Info"),
    ("no formation", _drop(M, OKG.recommendedFormation), "Metier-recommendedFormation-present", "Info"),
    ("graph without subject", _drop(None, DCTERMS.subject), "FicheGraph-subject", "Violation"),
    (
        "sha256 upper case",
        lambda g: _set(_source(g), OKG.sha256, Literal("D2" * 32))(g),
        "SourceFile-sha256",
        "Violation",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "shape", "severity"), [m[1:] for m in MUTATIONS], ids=[m[0] for m in MUTATIONS]
)
def test_each_broken_rule_is_caught_by_its_shape(
    shapes: Shapes, met799: Graph, mutate: Callable[[Graph], None], shape: str, severity: str
) -> None:
    graph = Graph()
    for t in met799:
        graph.add(t)
    mutate(graph)
    conforms, results = shapes.validate(graph)
    assert kinds(results) == {(shape, severity)}, results
    assert conforms is (severity != "Violation")


# -- the whole corpus ---------------------------------------------------------------------------

_worker: dict[str, object] = {}


def _init_worker() -> None:
    _worker["shapes"] = Shapes(resources.shapes_file())
    _worker["mapper"] = Mapper(load_referentials())


def _validate_fiches(paths: list[Path]) -> list[tuple[str, str, str, str | None]]:
    shapes: Shapes = _worker["shapes"]  # type: ignore[assignment]
    mapper: Mapper = _worker["mapper"]  # type: ignore[assignment]
    out = []
    for path in paths:
        graph = mapper.map_metier(parse_metier(path.read_bytes(), str(path))).graph
        _conforms, results = shapes.validate(graph)
        mid = path.name.split("_", 1)[0]
        out.extend((mid, r.shape, r.severity, r.value) for r in results)
    return out


def _expected_findings(records: list[MetierRecord], refs: Referentials) -> Counter:
    """The findings each record calls for, worked out from the record, not from the graph."""
    expected: Counter = Counter()
    for rec in records:
        mid = rec.metier_id
        codes = {item.text for item in rec.rome_codes}
        if not codes:
            expected[(mid, "Metier-romeCode-present", "Warning")] += 1
        for code in codes:
            if not ROME_CODE_RE.match(code):
                expected[(mid, "RomeCode-wellFormed", "Violation")] += 1
            elif code not in refs.rome_v3_labels:
                expected[(mid, "RomeCode-inReferential", "Warning")] += 1
        if rec.access_level is None or level_of(rec.access_level.text) is None:
            expected[(mid, "Metier-minimumLevel-present", "Warning")] += 1
        for route in rec.access_routes:
            if level_of(route.wording.text) is None:
                expected[(mid, "AccessRoute-level-present", "Warning")] += 1
        if not rec.formations:
            expected[(mid, "Metier-recommendedFormation-present", "Info")] += 1
        salary = rec.salary
        if salary is not None and not salary.parsed:
            expected[(mid, "Salary-understood", "Info")] += 1
        if salary is not None and salary.min_value is not None and None in (salary.period, salary.basis):
            expected[(mid, "Salary-amountQualified", "Info")] += 1
        bounds = (salary.min_value, salary.max_value) if salary is not None else (None, None)
        if None not in bounds and bounds[0] > bounds[1]:  # type: ignore[operator]
            expected[(mid, "Salary-minNotAboveMax", "Warning")] += 1
        if any(issue.text for issue in rec.issues):
            expected[(mid, "Metier-unparsedLine-none", "Info")] += 1
    return expected


@pytest.mark.slow
def test_whole_corpus_findings_are_exactly_the_gaps_of_the_data(refs: Referentials) -> None:
    paths = sorted(METIERS.glob("*.md"))
    assert len(paths) == 1043
    chunks = [paths[i : i + 50] for i in range(0, len(paths), 50)]
    if "fork" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=2, mp_context=context, initializer=_init_worker) as pool:
            rows = [row for chunk in pool.map(_validate_fiches, chunks) for row in chunk]
    else:  # pragma: no cover - no fork (Windows, macOS default): one process
        _init_worker()
        rows = [row for chunk in chunks for row in _validate_fiches(chunk)]

    by_shape = Counter((shape, severity) for _mid, shape, severity, _value in rows)
    print("\nSHACL findings over the corpus by shape and severity:")
    for (shape, severity), count in sorted(by_shape.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        print(f"  {severity:9} {shape:40} {count}")

    records = [parse_metier(p.read_bytes(), str(p)) for p in paths]
    actual = Counter((mid, shape, severity) for mid, shape, severity, _value in rows)
    expected = _expected_findings(records, refs)
    assert actual == expected, {
        "unexpected": actual - expected,
        "missing": expected - actual,
    }

    # Documented facts of the corpus (docs/DESIGN.md): the only malformed codes are A15 and K15,
    # 124 fiches cite no ROME code, 98 recommend no formation.
    malformed = sorted((mid, value) for mid, shape, _sev, value in rows if shape == "RomeCode-wellFormed")
    assert malformed == [("MET.323", "A15"), ("MET.8099", "K15")]
    assert by_shape[("Metier-romeCode-present", "Warning")] == 124
    assert by_shape[("Metier-recommendedFormation-present", "Info")] == 98
    violations = {shape for _mid, shape, sev, _v in rows if sev == "Violation"}
    assert violations == {"RomeCode-wellFormed"}
