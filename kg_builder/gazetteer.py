"""Lookup tables of names, built once from the reference graph and the ontology."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rdflib import Graph, URIRef

from kg_builder.iris import Iris
from kg_builder.namespaces import ORG, OSCE, RDF, RDFS, SCHEMA, SKOS
from kg_builder.reference import FIELDS_OF_WORK, MEETING_TYPES, concept_by_label

UPPER = "".join(chr(c) for c in range(0x41, 0x250) if chr(c).isupper())
UP = f"[{UPPER}]"
# A person's name: two to four capitalised words or initials ("Feridun H. Sinirlioğlu").
NAME = rf"{UP}[\w'’-]+(?: (?:{UP}\.|{UP}[\w'’-]+)){{1,3}}"
# What may follow a role: "State Secretary for European Affairs".
COMPLEMENT = rf"(?: for {UP}\w+(?: (?:and )?{UP}\w+)*)?"


def alternation(labels: Iterable[str]) -> str:
    """A regex alternative of ``labels``, longest first, so the longest name wins."""
    ordered = sorted(set(labels), key=lambda label: (-len(label), label))
    return "|".join(re.escape(label) for label in ordered) or r"(?!x)x"


def bounded(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w)(?:{pattern})(?!\w)")


@dataclass
class Gazetteer:
    states: dict[str, URIRef]
    adjectives: dict[str, URIRef]
    structures: dict[str, URIRef]
    roles: dict[str, URIRef]
    organizations: dict[str, URIRef]
    persons: dict[str, URIRef]
    state_roles: frozenset[URIRef]
    conflicts: dict[str, URIRef]
    fields_of_work: dict[str, URIRef]
    meeting_types: dict[str, URIRef]
    labels: dict[URIRef, str]
    iso2: dict[URIRef, str]
    state_by_iso2: dict[str, URIRef]
    osce: URIRef
    chairpersonship: URIRef  # the standing structure
    chairpersonship_of_year: dict[int, URIRef]
    meeting_series: dict[str, URIRef]  # "5+2 talks" -> the series
    organizer: dict[URIRef, URIRef]  # series -> the structure or body that convenes it
    bodies: dict[str, URIRef]  # bodies that issue statements but are no organisation proper

    def __post_init__(self) -> None:
        self.series_re = bounded(alternation(self.meeting_series))
        self.state_re = bounded(alternation([*self.states, *self.adjectives]))
        self.state_name_re = alternation(self.states)
        self.state_adjective_re = alternation(self.adjectives)
        self.structure_re = bounded(alternation(self.structures))
        self.role_re = alternation(self.roles)
        self.conflict_re = bounded(alternation(self.conflicts))
        self.organization_re = bounded(alternation(self.organizations))
        self.person_re = bounded(alternation(self.persons))
        of = f"{self.state_name_re}|{alternation(self.structures)}"
        role = f"(?P<role>{self.role_re})(?P<compl>{COMPLEMENT})"
        # Where a post's "of" ends: not before "delegation" in "the OSCE PA delegation".
        end = (
            r"(?=[,.;:)\"”]|$| (?:and|as|who|has|had|have|was|were|is|said|says|to|in"
            r"|at|on|for|with|from|during|since|after|before|until)\b)"
        )
        self.person_res = (
            re.compile(rf"(?<!\w){role} of (?:the )?(?P<of>{of}),? (?P<name>{NAME})"),
            re.compile(rf"(?<!\w)(?P<of>{self.state_adjective_re}) {role},? (?P<name>{NAME})"),
            re.compile(
                rf"(?P<name>{NAME}), (?:the |a )?(?P<former>former )?(?P<osce>OSCE )?{role}"
                rf"(?: of (?:the )?(?P<of>{of}))?{end}"
            ),
        )
        # "The OSCE Representative on Freedom of the Media, Harlem Désir"
        self.role_then_person_re = re.compile(
            rf"(?<!\w)(?:OSCE )?{role}(?: of (?:the )?(?P<of>{of}))?{end}, (?:Ambassador )?"
            rf"(?P<name>{NAME})"
        )
        # Words of role titles never start or make up a person's name ("Foreign Minister").
        self.role_words = frozenset(
            w for label in self.roles for w in label.split() if w[:1].isupper()
        )
        self._structures_folded = {k.casefold(): v for k, v in self.structures.items()}
        # "ethnic Armenian and Azerbaijani", "speak Russian or Georgian", "the state of Georgia"
        adj = f"(?:{self.state_adjective_re})"
        self.not_state_re = re.compile(
            rf"(?:ethnic|speak|speaks|speaking|spoken in) {adj}(?:(?:, | and | or ){adj})*"
            r"|state of Georgia"
        )
        # A title before a name ("President Emomali Rahmon"); the State comes from context.
        self.titled_person_re = re.compile(rf"(?<!\w){role} (?P<name>{NAME})")
        # "Helga Maria Schmid of Germany": a person, without a post.
        self.person_of_state_re = re.compile(
            rf"(?P<name>{NAME}) of (?:the )?(?P<of>{self.state_name_re})(?!\w)"
        )

    def state(self, name: str) -> URIRef | None:
        return self.states.get(name) or self.adjectives.get(name)

    def structure(self, name: str) -> URIRef | None:
        return self.structures.get(name) or self._structures_folded.get(name.casefold())

    def label(self, iri: URIRef) -> str:
        return self.labels.get(iri) or str(iri).rsplit("/", 1)[-1]


def build_gazetteer(reference: Graph, ontology: Graph, iris: Iris) -> Gazetteer:
    def subclasses(cls: URIRef) -> set[URIRef]:
        return {URIRef(str(c)) for c in ontology.transitive_subjects(RDFS.subClassOf, cls)}

    def instances(classes: set[URIRef]) -> set[URIRef]:
        return {URIRef(str(s)) for c in classes for s in reference.subjects(RDF.type, c)}

    def names(subjects: set[URIRef], *props: URIRef) -> dict[str, URIRef]:
        table: dict[str, URIRef] = {}
        for subject in sorted(subjects):
            for prop in props:
                for label in reference.objects(subject, prop):
                    table.setdefault(str(label), subject)
        return table

    states = instances(subclasses(OSCE.State))
    structures = instances(subclasses(OSCE.Structure))
    organizations = instances({ORG.FormalOrganization})
    organizations.discard(iris.osce())
    structure_names = names(structures, SKOS.prefLabel, SKOS.altLabel)
    for label, iri in list(structure_names.items()):
        if not label.startswith("OSCE") and len(label) > 4:
            structure_names.setdefault(f"OSCE {label}", iri)
    labels = {URIRef(str(s)): str(o) for s, o in reference.subject_objects(SKOS.prefLabel)}
    iso2 = {URIRef(str(s)): str(o) for s, o in reference.subject_objects(OSCE.iso3166Alpha2)}
    return Gazetteer(
        states=names(states, SKOS.prefLabel, SKOS.altLabel),
        adjectives=names(states, OSCE.adjective),
        structures=structure_names,
        roles=names(instances({ORG.Role}), SKOS.prefLabel, SKOS.altLabel),
        organizations=names(organizations, SKOS.prefLabel, SKOS.altLabel),
        persons=names(instances({SCHEMA.Person}), SKOS.prefLabel, SKOS.altLabel),
        state_roles=frozenset(
            URIRef(str(r))
            for r in reference.subjects(SKOS.inScheme, iris.relative("scheme/state-roles"))
        ),
        conflicts=names(instances(subclasses(OSCE.Conflict)), SKOS.prefLabel, SKOS.altLabel),
        fields_of_work=concept_by_label(reference, iris, FIELDS_OF_WORK),
        meeting_types=concept_by_label(reference, iris, MEETING_TYPES),
        labels=labels,
        iso2=iso2,
        state_by_iso2={code: state for state, code in iso2.items()},
        osce=iris.osce(),
        chairpersonship=iris.relative("structure/chairpersonship"),
        chairpersonship_of_year={
            int(str(year)): URIRef(str(chair))
            for chair, year in reference.subject_objects(OSCE.year)
            if (chair, RDF.type, OSCE.Chairpersonship) in reference
        },
        meeting_series=names(instances({OSCE.MeetingSeries}), SKOS.prefLabel, SKOS.altLabel),
        organizer={
            URIRef(str(s)): URIRef(str(o)) for s, o in reference.subject_objects(OSCE.organizer)
        },
        bodies=names(instances({ORG.Organization}), SKOS.prefLabel, SKOS.altLabel),
    )
