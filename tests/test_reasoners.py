"""The fast OWL 2 RL engine (reasonable) against the reference (owlrl) on the project's data.

What must be equal: every inference about the data — each ``rdf:type`` (from subclasses,
domains and ranges), each triple from ``owl:inverseOf``, ``owl:TransitiveProperty``,
``rdfs:subPropertyOf`` and ``owl:sameAs`` — after both engines' results went through the same
normalisation (``kg_builder.reason``). The fast engine may infer nothing the reference does not.
Where the reference infers more, each triple must belong to one of ``KNOWN_DIFFERENCES``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.term import Node

from kg_builder.cli import main
from kg_builder.config import BuildConfig
from kg_builder.dumpfile import GraphDump, Share
from kg_builder.errors import (
    EXIT_INPUT,
    EXIT_INVALID,
    ConfigError,
    InconsistentGraph,
    ValidationFailed,
)
from kg_builder.iris import Iris
from kg_builder.layout import Release
from kg_builder.namespaces import OA, ORG, OSCE, OWL, RDF, RDFS, SCHEMA, SKOS, XSD
from kg_builder.pipeline import BuildResult, _reasoning_input, load_ontology
from kg_builder.publish import StagedRelease
from kg_builder.reason import (
    ENGINES,
    Inference,
    LineFilter,
    documents_relevance,
    reason,
    reason_file,
)
from tests.conftest import read_plain

EX = Namespace("https://example.org/")
Triple = tuple[Node, Node, Node]

SCHEMA_PREDICATES = {
    RDFS.subClassOf,
    RDFS.subPropertyOf,
    RDFS.domain,
    RDFS.range,
    OWL.equivalentClass,
    OWL.equivalentProperty,
    OWL.disjointWith,
}


def _tautology(t: Triple) -> bool:
    s, p, o = t
    if p in (RDFS.subClassOf, OWL.equivalentClass, RDFS.subPropertyOf, OWL.equivalentProperty):
        return s == o or o == OWL.Thing or s == OWL.Nothing
    return False


# The one place where the engines may differ: triples owlrl infers and reasonable does not.
# Each is a statement about the schema, never about the data; none changes a data inference.
KNOWN_DIFFERENCES: dict[str, Callable[[Triple], bool]] = {
    # scm-cls, scm-op, scm-dp: every class is its own subclass and equivalent and a subclass of
    # owl:Thing; every property is its own subproperty. True of any schema, no information.
    "schema tautologies (scm-cls, scm-op, scm-dp)": _tautology,
    # scm-dom1/2, scm-rng1/2, scm-spo: the schema's own closure (a domain widened along
    # subClassOf, inherited along subPropertyOf; subPropertyOf chains). reasonable applies them
    # to the data (the rdf:type triples they yield are compared and equal) without writing the
    # widened axioms out.
    "domain, range and subPropertyOf of the schema (scm-dom, scm-rng, scm-spo)": lambda t: (
        t[1] in (RDFS.domain, RDFS.range, RDFS.subPropertyOf)
    ),
    # owlrl adds axiomatic triples about the built-in vocabularies: XML Schema datatypes are
    # rdfs:Datatype and pairwise disjoint, RDFS/OWL annotation properties are typed so.
    "owlrl's axioms about built-in datatypes and annotation properties": lambda t: (
        (t[1] == RDF.type and t[2] in (RDFS.Datatype, OWL.AnnotationProperty))
        or (t[1] == OWL.disjointWith and str(t[0]).startswith(str(XSD)))
    ),
}


def _is_schema(t: Triple) -> bool:
    return t[1] in SCHEMA_PREDICATES or (
        t[1] == RDF.type and t[2] in (RDFS.Datatype, OWL.AnnotationProperty)
    )


@pytest.fixture(scope="module")
def asserted(seed_build: BuildResult) -> Graph:
    """Ontology + reference + document graphs of the seed build, as the pipeline reasons on."""
    inferred = ox.NamedNode(str(Iris(BuildConfig().base_iri).inferred_graph()))
    lines = [
        f"{q.subject} {q.predicate} {q.object} .\n"
        for q in ox.parse(read_plain(seed_build.release.nquads_gz), format=ox.RdfFormat.N_QUADS)
        if q.graph_name != inferred
    ]
    union = Graph().parse(data="".join(lines), format="nt")
    assert len(union) > 4000
    return union


@pytest.fixture(scope="module")
def both(asserted: Graph) -> dict[str, set[Triple]]:
    return {engine: set(reason(asserted, engine).inferred) for engine in ENGINES}


@pytest.mark.slow
def test_fast_engine_infers_nothing_the_reference_does_not(both: dict[str, set[Triple]]) -> None:
    extra = sorted(both["reasonable"] - both["owlrl"])
    assert extra == []


@pytest.mark.slow
def test_engines_agree_on_every_inference_about_the_data(
    asserted: Graph, both: dict[str, set[Triple]]
) -> None:
    fast, reference = ({t for t in both[e] if not _is_schema(t)} for e in ("reasonable", "owlrl"))
    assert fast == reference

    inverses = {p for pair in asserted.subject_objects(OWL.inverseOf) for p in pair}
    transitive = set(asserted.subjects(RDF.type, OWL.TransitiveProperty))
    supers = set(asserted.objects(None, RDFS.subPropertyOf))
    kinds = {
        "rdf:type": lambda t: t[1] == RDF.type,
        "owl:inverseOf": lambda t: t[1] in inverses,
        "owl:TransitiveProperty": lambda t: t[1] in transitive,
        "rdfs:subPropertyOf": lambda t: t[1] in supers,
    }
    for kind, test in kinds.items():
        assert sum(1 for t in fast if test(t)) > 0, f"no {kind} inference to compare"
    # examples of each kind, by name
    odihr = Iris(BuildConfig().base_iri).structure("odihr")
    assert (odihr, RDF.type, ORG.Organization) in fast
    assert any(t[1] == ORG.transitiveSubOrganizationOf for t in fast)


@pytest.mark.slow
def test_every_difference_between_the_engines_is_a_known_one(
    both: dict[str, set[Triple]],
) -> None:
    missing = both["owlrl"] - both["reasonable"]
    unexplained = sorted(
        t for t in missing if not any(known(t) for known in KNOWN_DIFFERENCES.values())
    )
    assert unexplained == []
    assert all(_is_schema(t) for t in missing)


@pytest.mark.slow
def test_no_inferred_triple_repeats_an_asserted_one_with_xsd_string(
    asserted: Graph, both: dict[str, set[Triple]]
) -> None:
    """reasonable returns "x" as "x"^^xsd:string; adding that back would duplicate the fact."""
    for engine, inferred in both.items():
        typed = [t for t in inferred if isinstance(t[2], Literal) and t[2].datatype == XSD.string]
        assert typed == [], engine
        repeats = [(s, p, o) for s, p, o in inferred if (s, p, Literal(str(o))) in asserted]
        assert repeats == [], engine


def test_seed_build_uses_the_fast_engine_by_default(seed_build: BuildResult) -> None:
    assert seed_build.report.reasoning["engine"] == "reasonable (OWL 2 RL)"
    assert seed_build.report.dropped["inferred_trivial"] > 0


# --- each engine, the same contract ------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_literals_keep_language_tags_and_datatypes(engine: str) -> None:
    g = Graph()
    g.add((EX.name, RDFS.subPropertyOf, EX.label))
    values = [
        Literal("Vienna"),
        Literal("Wien", lang="de"),
        Literal("Vienne", lang="fr-CH"),
        Literal("2018-02", datatype=XSD.gYearMonth),
        Literal("1.50", datatype=XSD.decimal),
        Literal("x", datatype=EX.custom),
    ]
    for value in values:
        g.add((EX.vienna, EX.name, value))
    g.add((EX.typed, EX.name, Literal("typed", datatype=XSD.string)))
    inferred = reason(g, engine).inferred
    got = {o for s, p, o in inferred if (s, p) == (EX.vienna, EX.label) and isinstance(o, Literal)}
    assert got == set(values)
    # Language tags compare case-insensitively (RDF 1.1: their value space is lower case);
    # reasonable lower-cases them, as Oxigraph does when it stores them.
    assert {(o.language and o.language.lower(), o.datatype) for o in got} == {
        (v.language and v.language.lower(), v.datatype) for v in values
    }
    assert {o for s, p, o in inferred if (s, p) == (EX.typed, EX.label)} == {Literal("typed")}
    assert not any((s, p) == (EX.vienna, EX.name) for s, p, _o in inferred)


@pytest.mark.parametrize("engine", ENGINES)
def test_plain_literals_asserted_are_not_inferred_again(engine: str) -> None:
    g = Graph()
    g.add((EX.a, RDFS.label, Literal("A")))
    g.add((EX.b, RDFS.label, Literal("B", datatype=XSD.string)))
    g.add((EX.a, RDF.type, EX.Thing))
    g.add((EX.b, RDF.type, EX.Thing))
    outcome = reason(g, engine)
    assert not any(s in (EX.a, EX.b) for s, _p, _o in outcome.inferred)
    assert outcome.dropped_trivial >= 2  # ex:a and ex:b are owl:Things (and owl:sameAs self)


@pytest.mark.parametrize("engine", ENGINES)
def test_result_contract(engine: str) -> None:
    g = Graph()
    g.add((OSCE.PressRelease, RDFS.subClassOf, OSCE.Statement))
    g.add((EX.doc, RDF.type, OSCE.PressRelease))
    g.add((EX.doc, SKOS.prefLabel, Literal("Doc", lang="en")))
    outcome = reason(g, engine)
    assert isinstance(outcome, Inference)
    assert outcome.engine == engine
    assert (EX.doc, RDF.type, OSCE.Statement) in outcome.inferred
    assert not any(isinstance(s, Literal) for s, _p, _o in outcome.inferred)
    assert (None, RDF.type, OWL.Thing) not in outcome.inferred
    assert not any(s == o for s, p, o in outcome.inferred if p == OWL.sameAs)


def test_unknown_engine_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="unknown reasoner 'hermit'"):
        reason(Graph(), "hermit")


def test_cli_offers_both_engines_and_rejects_others() -> None:
    runner = CliRunner()
    assert "--reasoner [reasonable|owlrl]" in runner.invoke(main, ["--help"]).output
    result = runner.invoke(main, ["--reasoner", "hermit", "data/sources"])
    assert result.exit_code == EXIT_INPUT
    assert "hermit" in result.output


# --- inconsistencies: the fast engine is no less safe than the reference -----------------------


def _clash(*triples: Triple) -> Graph:
    g = Graph()
    for triple in triples:
        g.add(triple)
    return g


CLASHES = {
    "disjoint classes of the ontology (owl:AllDisjointClasses)": (
        "ontology",
        _clash((EX.confused, RDF.type, OSCE.State), (EX.confused, RDF.type, SCHEMA.Person)),
        "https://example.org/confused",
    ),
    "disjoint classes of the ontology (owl:disjointWith), one by subclass": (
        "ontology",
        _clash((EX.war, RDF.type, OSCE.Conflict), (EX.war, RDF.type, OSCE.City)),
        "https://example.org/war",
    ),
    "owl:disjointWith": (
        "",
        _clash(
            (OSCE.State, OWL.disjointWith, ORG.Organization),
            (EX.confused, RDF.type, OSCE.State),
            (EX.confused, RDF.type, ORG.Organization),
        ),
        "https://example.org/confused",
    ),
    "owl:complementOf": (
        "",
        _clash(
            (EX.Alive, OWL.complementOf, EX.Dead),
            (EX.cat, RDF.type, EX.Alive),
            (EX.cat, RDF.type, EX.Dead),
        ),
        "https://example.org/Alive",  # owlrl names the classes, and the wrong element
    ),
    "owl:Nothing": ("", _clash((EX.void, RDF.type, OWL.Nothing)), "https://example.org/void"),
    "irreflexive property, through a subproperty": (
        "",
        _clash(
            (EX.parentOf, RDF.type, OWL.IrreflexiveProperty),
            (EX.motherOf, RDFS.subPropertyOf, EX.parentOf),
            (EX.eve, EX.motherOf, EX.eve),
        ),
        "https://example.org/eve",
    ),
    "asymmetric property": (
        "",
        _clash(
            (EX.above, RDF.type, OWL.AsymmetricProperty),
            (EX.x, EX.above, EX.y),
            (EX.y, EX.above, EX.x),
        ),
        "https://example.org/x",
    ),
    "disjoint properties": (
        "",
        _clash(
            (EX.likes, OWL.propertyDisjointWith, EX.hates),
            (EX.ann, EX.likes, EX.bob),
            (EX.ann, EX.hates, EX.bob),
        ),
        "https://example.org/ann",
    ),
    "owl:sameAs and owl:differentFrom": (
        "",
        _clash((EX.a, OWL.sameAs, EX.b), (EX.b, OWL.differentFrom, EX.a)),
        "https://example.org/a",
    ),
    "a value not in its datatype": (
        "",
        _clash((EX.meeting, EX.year, Literal("twenty", datatype=XSD.integer))),
        "twenty",
    ),
}


@pytest.fixture(scope="module")
def ontology() -> Graph:
    from tests.conftest import ROOT

    return Graph().parse(ROOT / "ontology" / "osce.ttl")


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", CLASHES, ids=list(CLASHES))
def test_inconsistency_is_an_error_naming_the_resource(
    engine: str, case: str, ontology: Graph
) -> None:
    base, facts, named = CLASHES[case]
    graph = Graph()
    if base == "ontology":
        graph += ontology
    graph += facts
    with pytest.raises(InconsistentGraph) as caught:
        reason(graph, engine)
    assert caught.value.exit_code == EXIT_INVALID
    assert named in str(caught.value)
    assert engine in str(caught.value) or engine == "owlrl"


def test_the_ontology_alone_is_consistent_with_both_engines(ontology: Graph) -> None:
    for engine in ENGINES:
        assert len(reason(ontology, engine).inferred) > 0


def test_fast_engine_refuses_constructs_whose_clashes_it_does_not_check() -> None:
    g = _clash((EX.axiom, RDF.type, OWL.AllDifferent))
    with pytest.raises(ConfigError, match="AllDifferent") as caught:
        reason(g, "reasonable")
    assert "--reasoner owlrl" in str(caught.value)
    g = _clash((EX.r, OWL.maxCardinality, Literal("0", datatype=XSD.nonNegativeInteger)))
    with pytest.raises(ConfigError, match="maxCardinality"):
        reason(g, "reasonable")


def test_a_term_the_fast_engine_cannot_read_is_an_error_not_a_crash() -> None:
    """reasonable panics (a BaseException) on an IRI that is not valid RDF 1.1."""
    g = _clash((URIRef("https://example.org/a b"), RDF.type, EX.Thing))
    with pytest.raises(ValidationFailed, match="cannot read the graph") as caught:
        reason(g, "reasonable")
    assert "--reasoner owlrl" in str(caught.value)


# --- the triples left out of reasoning ------------------------------------------------------


def _selected(base: Release, out: Path, ontology: Graph) -> tuple[set[Triple], Graph, Path]:
    """What the pipeline hands the reasoner (the triples and the file they are in), read from
    a checkpoint of ``base``'s store, and the schema among them."""
    inferred = str(Iris(BuildConfig().base_iri).inferred_graph())
    staged = StagedRelease(out, "probe", base)
    given = out / "given.ttl"
    try:
        schema = _reasoning_input(staged, ontology, [inferred], given)
    finally:
        staged.abandon()
    selected = set(Graph().parse(given, format="nt"))
    assert _ground(schema) <= _ground(selected)
    return selected, schema, given


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
def test_the_triples_left_out_of_reasoning_change_no_inference(
    seed_build: BuildResult,
    asserted: Graph,
    both: dict[str, set[Triple]],
    tmp_path: Path,
    engine: str,
) -> None:
    selected, schema, given = _selected(
        seed_build.release, tmp_path, load_ontology(BuildConfig().ontology)
    )
    # the ontology's lists are blank nodes, read twice under other labels: compared apart
    assert _ground(selected) < _ground(asserted)
    left_out = _ground(asserted) - _ground(selected)
    assert len(left_out) > len(asserted) / 3  # the mentions' annotations, mostly
    assert {p for _s, p, _o in left_out} >= {OA.hasSelector, OA.exact, OA.start}
    assert len(selected) - len(_ground(selected)) == len(asserted) - len(_ground(asserted))
    inferred = _ground(reason_file(given, engine, schema=schema).inferred)
    full = _ground(both[engine])
    assert {t for t in inferred if not _is_schema(t)} == {t for t in full if not _is_schema(t)}
    assert inferred <= full
    # owlrl states datatypes disjoint when literals of them occur, left-out ones included
    builtin = KNOWN_DIFFERENCES["owlrl's axioms about built-in datatypes and annotation properties"]
    assert all(builtin(t) for t in full - inferred)
    if engine == "reasonable":
        assert inferred == full


def _ground(triples: Iterable[Triple]) -> set[Triple]:
    return {t for t in triples if not any(isinstance(x, BNode) for x in t)}


def _release_of(tmp_path: Path, data: Graph) -> Release:
    staged = StagedRelease(tmp_path / "base", "data")
    nt = data.serialize(format="nt", encoding="utf-8")
    staged.replace(EX.data, nt)
    return staged.finish([Share(str(EX.data), partial(GraphDump.of, str(EX.data), nt))])


def test_an_axiom_in_the_data_brings_the_triples_it_governs_into_reasoning(tmp_path: Path):
    ontology = Graph().parse(data=f"<{OSCE.locatedIn}> a <{OWL.ObjectProperty}> .", format="turtle")
    data = Graph()
    data.add((EX.a, EX.near, EX.b))  # governed by nothing in the ontology...
    data.add((EX.a, EX.note, Literal("left out")))
    data.add((EX.near, RDF.type, OWL.SymmetricProperty))  # ...but by the data's own axiom
    selected, schema, given = _selected(_release_of(tmp_path, data), tmp_path / "out", ontology)
    assert (EX.a, EX.near, EX.b) in selected
    assert (EX.a, EX.note, Literal("left out")) not in selected
    assert (EX.b, EX.near, EX.a) in reason_file(given, schema=schema).inferred


def test_owl_same_as_in_the_data_brings_every_triple_into_reasoning(tmp_path: Path):
    ontology = Graph().parse(data=f"<{OSCE.locatedIn}> a <{OWL.ObjectProperty}> .", format="turtle")
    data = Graph()
    data.add((EX.a, EX.note, Literal("kept")))
    data.add((EX.a, OWL.sameAs, EX.c))
    selected, schema, given = _selected(_release_of(tmp_path, data), tmp_path / "out", ontology)
    assert selected == set(data)
    assert (EX.c, EX.note, Literal("kept")) in reason_file(given, schema=schema).inferred


def test_the_line_filter_keeps_what_the_relevance_keeps_and_flags_axioms() -> None:
    """A document's relevant lines are taken from its N-Triples as bytes; a line that could
    change the relevance (an axiom, a list link, owl:sameAs) flags the document, a label or
    another annotation does not."""
    ontology = Graph().parse(
        data=f"<{OSCE.locatedIn}> a <{OWL.TransitiveProperty}> ; <{RDFS.label}> 'located in' .\n"
        f"<{OSCE.ParticipatingState}> <{RDFS.subClassOf}> <{OSCE.State}> .",
        format="turtle",
    )
    lines = LineFilter.of(documents_relevance(ontology, []))
    a, b = "<http://example.org/a>", "<http://example.org/b>"
    kept = (
        f"{a} <{OSCE.locatedIn}> {b} .\n"
        f"{a} <{RDF.type}> <{OSCE.ParticipatingState}> .\n"
        f'{a} <{RDFS.label}> "A meeting"@en .\n'  # rdfs:label is in the RDFS vocabulary
    )
    left_out = f"{a} <{OA.hasTarget}> {b} .\n{a} <{RDF.type}> <{OA.Annotation}> .\n"
    data = (kept + left_out + f'{a} <{OWL.versionInfo}> "1" .\n').encode()
    assert lines.split(data) == (kept.encode() + f'{a} <{OWL.versionInfo}> "1" .\n'.encode(), False)
    for axiom in (
        f"{a} <{RDFS.subPropertyOf}> {b} .\n",
        f"{a} <{OWL.sameAs}> {b} .\n",
        f"{a} <{RDF.type}> <{OWL.Class}> .\n",
        f"{a} <{RDF.first}> {b} .\n",
    ):
        assert lines.split(data + axiom.encode())[1] is True, axiom
