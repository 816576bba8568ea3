"""Reference data: States, OSCE structures, roles, conflicts and the site's concept schemes.

The reference graph is built from three inputs, each recorded as its source:
``data/reference/states.tsv`` (the 68 States with ISO codes and Wikidata items),
``state-names.tsv`` and ``structures.ttl`` (curated names, acronyms, hierarchy, conflicts),
and the navigation menu of the parsed pages (fields of work, meeting types, the Chairpersonship,
the Secretariat units and the field operations).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.exceptions import ParserError

from kg_builder.errors import ConfigError
from kg_builder.iris import Iris
from kg_builder.namespaces import ORG, OSCE, PROV, RDF, SKOS, XSD
from kg_builder.parse import Document, NavMenu
from kg_builder.reference_facts import add_dated_facts
from kg_builder.tables import read_tsv

STATUS_CLASS = {
    "participating": OSCE.ParticipatingState,
    "asian_partner": OSCE.AsianPartnerForCooperation,
    "mediterranean_partner": OSCE.MediterraneanPartnerForCooperation,
}
WIKIDATA = "http://www.wikidata.org/entity/"
CHAIRPERSONSHIP_ITEM = re.compile(r"^(?P<state>.+?)\s+[–-]\s+OSCE Chairpersonship (?P<year>\d{4})$")

# Menu entries that link to overview pages rather than naming a member of their section.
MENU_OVERVIEW_LINKS = frozenset(
    {
        "All",
        "Asian Partners for Co-operation",
        "Mediterranean Partners for Co-operation",
        "Chairpersonship",
        "Closed field activities",
        "Field operations",
        "Institutions",
        "Organizational structure",
        "Partnerships",
        "Projects",
        "About us",
    }
)
# Menu entries at the end of the field-operations list that are structures of their own kind.
MENU_STANDALONE_STRUCTURES = {
    "Parliamentary Assembly": OSCE.ParliamentaryAssembly,
    "Court of Conciliation and Arbitration": OSCE.Structure,
}
FIELDS_OF_WORK = "fields-of-work"
MEETING_TYPES = "meeting-types"


@dataclass(frozen=True)
class StateRow:
    name: str
    status: str
    iso2: str
    iso3: str
    wikidata: str


@dataclass
class ReferenceData:
    """The reference graph and the warnings met while building it."""

    graph: Graph
    warnings: list[str] = field(default_factory=list)


def load_states(path: Path) -> list[StateRow]:
    rows = read_tsv(path, ("name", "status", "iso2", "iso3", "wikidata"))
    states = []
    for number, row in rows:
        if row["status"] not in STATUS_CLASS:
            raise ConfigError(
                f"line {number}: status {row['status']!r} is not one of "
                f"{', '.join(sorted(STATUS_CLASS))}",
                subject=str(path),
            )
        states.append(StateRow(**{k: row[k].strip() for k in StateRow.__dataclass_fields__}))
    return states


def build_reference(
    reference_dir: Path, documents: Iterable[Document], iris: Iris
) -> ReferenceData:
    """The reference graph from the curated files and the menus of the parsed pages."""
    graph = Graph()
    ref = ReferenceData(graph)
    states_path = reference_dir / "states.tsv"
    states = load_states(states_path)
    by_name: dict[str, URIRef] = {}
    for row in states:
        state = iris.state(row.name)
        by_name[row.name] = state
        graph.add((state, RDF.type, STATUS_CLASS[row.status]))
        graph.add((state, SKOS.prefLabel, Literal(row.name, lang="en")))
        graph.add((state, OSCE.iso3166Alpha2, Literal(row.iso2)))
        graph.add((state, OSCE.iso3166Alpha3, Literal(row.iso3)))
        graph.add((state, SKOS.exactMatch, URIRef(WIKIDATA + row.wikidata)))
    names_path = reference_dir / "state-names.tsv"
    for number, names_row in read_tsv(names_path, ("state", "kind", "form")):
        state_iri = by_name.get(names_row["state"])
        if state_iri is None:
            raise ConfigError(
                f"line {number}: unknown state {names_row['state']!r}", subject=str(names_path)
            )
        prop = {"name": SKOS.altLabel, "adjective": OSCE.adjective}.get(names_row["kind"])
        if prop is None:
            raise ConfigError(
                f"line {number}: kind {names_row['kind']!r} is not 'name' or 'adjective'",
                subject=str(names_path),
            )
        graph.add((state_iri, prop, Literal(names_row["form"], lang="en")))
    structures_path = reference_dir / "structures.ttl"
    try:
        graph.parse(structures_path, format="turtle", publicID=iris.base)
    except (ParserError, SyntaxError, UnicodeDecodeError, OSError) as exc:
        raise ConfigError(
            f"cannot read curated reference data: {exc}", subject=str(structures_path)
        ) from exc
    reference_graph = iris.reference_graph()
    for path in (states_path, names_path, structures_path):
        graph.add((reference_graph, PROV.wasDerivedFrom, Literal(str(path))))
    state_index = _state_index(graph)
    seen: set[tuple[tuple[str, tuple[str, ...]], ...]] = set()
    for doc in documents:
        if doc.menu is not None:
            graph.add((reference_graph, PROV.wasDerivedFrom, iris.source(doc.doc_id)))
            menu = tuple(sorted(doc.menu.sections.items()))
            if menu not in seen:  # most pages share one menu: read each menu once
                seen.add(menu)
                _add_menu(ref, doc.menu, iris, state_index)
    for path in add_dated_facts(graph, reference_dir, iris, ref.warnings):
        graph.add((reference_graph, PROV.wasDerivedFrom, Literal(str(path))))
    return ref


def _state_index(graph: Graph) -> dict[str, URIRef]:
    index: dict[str, URIRef] = {}
    for prop in (SKOS.prefLabel, SKOS.altLabel):
        for state, label in graph.subject_objects(prop):
            if (state, OSCE.iso3166Alpha2, None) in graph:
                index[str(label)] = URIRef(str(state))
    return index


def _add_menu(ref: ReferenceData, menu: NavMenu, iris: Iris, states: dict[str, URIRef]) -> None:
    graph = ref.graph
    osce_org = iris.osce()
    for heading, scheme_slug, concept_class in (
        ("Fields of work", FIELDS_OF_WORK, OSCE.FieldOfWork),
        ("Meetings and conferences", MEETING_TYPES, OSCE.MeetingType),
    ):
        scheme = iris.concept_scheme(scheme_slug)
        graph.add((scheme, RDF.type, SKOS.ConceptScheme))
        graph.add((scheme, SKOS.prefLabel, Literal(heading, lang="en")))
        for item in menu.items(heading):
            if item in MENU_OVERVIEW_LINKS:
                continue
            concept = iris.concept(scheme_slug, item)
            graph.add((concept, RDF.type, concept_class))
            graph.add((concept, SKOS.prefLabel, Literal(item, lang="en")))
            graph.add((concept, SKOS.inScheme, scheme))
            graph.add((concept, SKOS.topConceptOf, scheme))
            graph.add((scheme, SKOS.hasTopConcept, concept))
    for item in menu.items("Participating States"):
        if item in MENU_OVERVIEW_LINKS:
            continue
        name, chair_year = item, None
        match = CHAIRPERSONSHIP_ITEM.match(item)
        if match:
            name, chair_year = match["state"], int(match["year"])
        state = states.get(name)
        if state is None:
            ref.warnings.append(f"menu names a participating State {name!r} not in states.tsv")
            continue
        if (state, RDF.type, OSCE.ParticipatingState) not in graph:
            ref.warnings.append(f"menu lists {name!r} as participating; states.tsv does not")
        if name not in (str(label) for label in graph.objects(state, SKOS.prefLabel)):
            graph.add((state, SKOS.altLabel, Literal(name, lang="en")))
        if chair_year is not None:
            chair = iris.chairpersonship(chair_year)
            graph.add((chair, RDF.type, OSCE.Chairpersonship))
            graph.add(
                (chair, SKOS.prefLabel, Literal(f"OSCE Chairpersonship {chair_year}", lang="en"))
            )
            graph.add((chair, OSCE.heldBy, state))
            graph.add((chair, OSCE.year, Literal(str(chair_year), datatype=XSD.gYear)))
            graph.add((chair, ORG.subOrganizationOf, osce_org))
    secretariat = iris.structure("Secretariat")
    for item in menu.items("Secretariat"):
        if item not in MENU_OVERVIEW_LINKS:
            _add_structure(graph, iris.structure(item), item, OSCE.SecretariatUnit, secretariat)
    for item in menu.items("Field operations"):
        if item in MENU_OVERVIEW_LINKS:
            continue
        kind = MENU_STANDALONE_STRUCTURES.get(item, OSCE.FieldOperation)
        _add_structure(graph, iris.structure(item), item, kind, osce_org)


def _add_structure(graph: Graph, iri: URIRef, label: str, kind: URIRef, parent: URIRef) -> None:
    graph.add((iri, RDF.type, kind))
    graph.add((iri, SKOS.prefLabel, Literal(label, lang="en")))
    graph.add((iri, ORG.subOrganizationOf, parent))
    if kind == OSCE.FieldOperation:
        graph.add((iri, SKOS.altLabel, Literal(f"OSCE {label}", lang="en")))


def concept_by_label(graph: Graph, iris: Iris, scheme_slug: str) -> dict[str, URIRef]:
    scheme = iris.concept_scheme(scheme_slug)
    return {
        str(label).casefold(): URIRef(str(concept))
        for concept in graph.subjects(SKOS.inScheme, scheme)
        for label in graph.objects(concept, SKOS.prefLabel)
    }
