"""Build stage: an ``Extraction`` becomes the document's named graph.

The graph holds the statement's record, the entities minted for it (persons, posts, places,
meetings, agreements), one Web Annotation per mention (``oa:TextQuoteSelector`` and
``oa:TextPositionSelector`` into the source text, so each fact can be traced to its sentence),
and the PROV-O provenance of the graph itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef

from kg_builder import __version__
from kg_builder.dates import Point, add_interval, interval_bounds
from kg_builder.extract import Extraction, MeetingRef, PlaceRef
from kg_builder.iris import Iris
from kg_builder.namespaces import (
    DCTERMS,
    OA,
    ORG,
    OSCE,
    OWL,
    PROV,
    RDF,
    RDFS,
    SCHEMA,
    SKOS,
    TIME,
    XSD,
)
from kg_builder.reference import MEETING_TYPES
from kg_builder.triples import Triples

QUOTE_CONTEXT = 32


@dataclass(frozen=True)
class BuildInfo:
    """The build run the graphs come from."""

    build_id: str
    started: datetime
    source_label: dict[str, str]  # doc_id -> path as given on the command line


@dataclass(frozen=True)
class DocumentGraph:
    doc_id: str
    name: URIRef
    triples: Triples

    @property
    def graph(self) -> Graph:
        """The triples in an rdflib ``Graph`` (made on each call)."""
        return self.triples.graph()


def build_document(ex: Extraction, iris: Iris, info: BuildInfo) -> DocumentGraph:
    doc = ex.document
    g = Triples()
    subject = iris.document(doc.doc_id)
    source = iris.source(doc.doc_id)
    name = iris.document_graph(doc.doc_id)

    g.add((subject, RDF.type, ex.doc_class))
    g.add((subject, DCTERMS.identifier, Literal(doc.doc_id)))
    if doc.title:
        g.add((subject, DCTERMS.title, Literal(doc.title, lang="en")))
        g.add((subject, SKOS.prefLabel, Literal(doc.title, lang="en")))
    if doc.type_label:
        g.add((subject, OSCE.typeLabel, Literal(doc.type_label, lang="en")))
    if ex.doc_date is not None:
        g.add((subject, DCTERMS.date, Literal(ex.doc_date.isoformat(), datatype=XSD.date)))
    if ex.issuer is not None:
        g.add((subject, OSCE.issuedBy, ex.issuer))
        if ex.issuer_label is not None:  # a body the reference data does not know
            g.add((ex.issuer, RDF.type, ORG.Organization))
            g.add((ex.issuer, SKOS.prefLabel, Literal(ex.issuer_label, lang="en")))
    for organization, written in ex.new_organizations.items():
        g.add((organization, RDF.type, ORG.Organization))
        g.add((organization, SKOS.prefLabel, Literal(written, lang="en")))
    if ex.place is not None:
        g.add((subject, OSCE.place, ex.place.iri))
    for concept, label, known in ex.fields_of_work:
        g.add((subject, OSCE.fieldOfWork, concept))
        if not known:
            g.add((concept, RDF.type, OSCE.FieldOfWork))
            g.add((concept, SKOS.prefLabel, Literal(label, lang="en")))
            g.add((concept, SKOS.inScheme, iris.concept_scheme("fields-of-work")))
    for conflict in sorted(ex.conflicts):
        g.add((subject, OSCE.concerns, conflict))
    for agreement in ex.agreements.values():
        g.add((subject, OSCE.refersTo, agreement.iri))
        g.add((agreement.iri, RDF.type, agreement.kind))
        g.add((agreement.iri, SKOS.prefLabel, Literal(agreement.label, lang="en")))
        if agreement.when is not None:
            g.add((agreement.iri, DCTERMS.date, agreement.when))
    for mention in ex.mentions:
        g.add((subject, SCHEMA.mentions, mention.entity))
    for place in ex.places.values():
        _place(g, place)
    for post in ex.posts.values():
        if post.holder_known:  # the reference data names them; keep this spelling as an alias
            g.add((post.holder, SKOS.altLabel, Literal(post.holder_name)))
        else:
            g.add((post.holder, RDF.type, SCHEMA.Person))
            g.add((post.holder, SKOS.prefLabel, Literal(post.holder_name)))
        # A post held on the document's date; or one held before it, or to be taken up.
        held = {"former": OSCE.formerlyHeld, "incoming": OSCE.designatedFor}
        g.add((post.holder, held.get(post.status, ORG.holds), post.iri))
        g.add((post.iri, RDF.type, ORG.Post))
        g.add((post.iri, SKOS.prefLabel, Literal(post.label, lang="en")))
        g.add((post.iri, ORG.role, post.role))
        g.add((post.iri, ORG.postIn if not post.of_is_state else OSCE.postOf, post.of))
        if ex.doc_date is not None and not post.status:
            g.add((post.iri, OSCE.attestedOn, Literal(ex.doc_date.isoformat(), datatype=XSD.date)))
        if post.new_role or post.broader_role is not None:
            g.add((post.role, RDF.type, ORG.Role))
            g.add((post.role, SKOS.prefLabel, Literal(post.role_label, lang="en")))
        if post.broader_role is not None:
            g.add((post.role, SKOS.broader, post.broader_role))
    known_persons = set(ex.person_at.values())
    known_persons |= {p.holder for p in ex.posts.values() if p.holder_known}
    for mention in ex.mentions:
        # A person named in full whom the reference data does not know.
        if (
            mention.kind == "person"
            and mention.entity not in known_persons
            and mention.entity == iris.person(mention.exact)
        ):
            g.add((mention.entity, RDF.type, SCHEMA.Person))
            g.add((mention.entity, SKOS.prefLabel, Literal(mention.exact)))
    for meeting in ex.meetings.values():
        _meeting(g, ex, iris, meeting)
        g.add((subject, SCHEMA.mentions, meeting.iri))
    _annotations(g, ex, iris, source)
    _provenance(g, ex, iris, info, subject, source, name)
    return DocumentGraph(doc.doc_id, name, g)


def _meeting(g: Triples, ex: Extraction, iris: Iris, meeting: MeetingRef) -> None:
    """A meeting: its place (or host State), its date — a typed literal for a day, month or
    year, an OWL-Time interval (``time:hasTime``) for a span or an ISO week, labelled with
    the week — its type as a concept of the meeting-types scheme, its participants; a
    meeting announced for later is also an ``osce:PlannedMeeting``."""
    g.add((meeting.iri, RDF.type, OSCE.Meeting))
    if meeting.planned:
        g.add((meeting.iri, RDF.type, OSCE.PlannedMeeting))
    g.add((meeting.iri, SKOS.prefLabel, Literal(meeting.label, lang="en")))
    if meeting.place in ex.places:
        g.add((meeting.iri, SCHEMA.location, meeting.place))
    elif meeting.venue is not None:  # "the Helsinki Summit": a place only the name gives
        _place(g, meeting.venue)
        g.add((meeting.iri, SCHEMA.location, meeting.venue.iri))
    elif meeting.place is not None:
        g.add((meeting.iri, OSCE.hostCountry, meeting.place))
    when = meeting.when
    if isinstance(when, Point) and when.week is None:
        g.add((meeting.iri, DCTERMS.date, when.literal()))
    elif when is not None:
        interval = URIRef(f"{meeting.iri}-time")
        add_interval(g, interval, *interval_bounds(when))
        g.add((interval, RDFS.label, Literal(str(when))))
        g.add((meeting.iri, TIME.hasTime, interval))
    for participant in meeting.participants:
        g.add((meeting.iri, OSCE.participant, participant))
    kind = meeting.kind.removesuffix(" (planned)")
    concept = iris.concept(MEETING_TYPES, kind)
    scheme = iris.concept_scheme(MEETING_TYPES)
    g.add((concept, RDF.type, OSCE.MeetingType))
    g.add((concept, SKOS.prefLabel, Literal(kind, lang="en")))
    g.add((concept, SKOS.inScheme, scheme))
    g.add((scheme, RDF.type, SKOS.ConceptScheme))
    if meeting.meeting_type is not None and meeting.meeting_type != concept:
        g.add((concept, SKOS.broader, meeting.meeting_type))  # the site's menu category
    g.add((meeting.iri, OSCE.meetingType, concept))


def _place(g: Triples, place: PlaceRef) -> None:
    g.add((place.iri, RDF.type, OSCE.City if place.city is not None else OSCE.Place))
    canonical = place.city.name if place.city is not None else place.name
    g.add((place.iri, SKOS.prefLabel, Literal(canonical, lang="en")))
    if canonical != place.name:  # the spelling of the text ("Sukhumi" for Sokhumi)
        g.add((place.iri, SKOS.altLabel, Literal(place.name, lang="en")))
    if place.state is not None:
        g.add((place.iri, OSCE.locatedIn, place.state))
    if place.city is not None:
        g.add((place.iri, OSCE.geonamesId, Literal(place.city.geonames_id)))
        g.add(
            (
                place.iri,
                SKOS.exactMatch,
                URIRef(f"https://sws.geonames.org/{place.city.geonames_id}/"),
            )
        )
        g.add((place.iri, SCHEMA.latitude, Literal(str(place.city.latitude), datatype=XSD.decimal)))
        g.add(
            (place.iri, SCHEMA.longitude, Literal(str(place.city.longitude), datatype=XSD.decimal))
        )


def _annotations(g: Triples, ex: Extraction, iris: Iris, source: URIRef) -> None:
    """One Web Annotation per mention, made of Oxigraph's terms directly (``Triples``): they
    are most of a page's triples, and each of their subjects is the annotation's own."""
    text = ex.document.text
    doc_id = ex.document.doc_id
    add = g.add_oxigraph
    triple = ox.Triple
    source_node = ox.NamedNode(str(source))
    bodies: dict[URIRef, ox.NamedNode] = {}
    for mention in ex.mentions:
        iri = str(iris.mention(doc_id, mention.start, mention.end))
        ann = ox.NamedNode(iri)
        target = ox.NamedNode(f"{iri}#target")
        quote = ox.NamedNode(f"{iri}#quote")
        position = ox.NamedNode(f"{iri}#position")
        body = bodies.get(mention.entity)
        if body is None:
            body = bodies[mention.entity] = ox.NamedNode(str(mention.entity))
        add(triple(ann, _A, _OA_ANNOTATION))
        add(triple(ann, _OA_MOTIVATED_BY, _OA_IDENTIFYING))
        add(triple(ann, _OA_HAS_BODY, body))
        add(triple(ann, _OA_HAS_TARGET, target))
        add(triple(target, _A, _OA_SPECIFIC_RESOURCE))
        add(triple(target, _OA_HAS_SOURCE, source_node))
        add(triple(target, _OA_HAS_SELECTOR, quote))
        add(triple(target, _OA_HAS_SELECTOR, position))
        add(triple(quote, _A, _OA_TEXT_QUOTE_SELECTOR))
        add(triple(quote, _OA_EXACT, ox.Literal(mention.exact)))
        prefix = text[max(0, mention.start - QUOTE_CONTEXT) : mention.start]
        add(triple(quote, _OA_PREFIX, ox.Literal(prefix)))
        add(triple(quote, _OA_SUFFIX, ox.Literal(text[mention.end : mention.end + QUOTE_CONTEXT])))
        add(triple(position, _A, _OA_TEXT_POSITION_SELECTOR))
        # xsd:integer, not nonNegativeInteger: Oxigraph stores derived integer types as
        # xsd:integer, and the published graph must be the graph that was validated.
        add(triple(position, _OA_START, ox.Literal(str(mention.start), datatype=_INTEGER)))
        add(triple(position, _OA_END, ox.Literal(str(mention.end), datatype=_INTEGER)))


# The terms of the annotations, made once
_A = ox.NamedNode(str(RDF.type))
_INTEGER = ox.NamedNode(str(XSD.integer))
_OA_ANNOTATION = ox.NamedNode(str(OA.Annotation))
_OA_MOTIVATED_BY = ox.NamedNode(str(OA.motivatedBy))
_OA_IDENTIFYING = ox.NamedNode(str(OA.identifying))
_OA_HAS_BODY = ox.NamedNode(str(OA.hasBody))
_OA_HAS_TARGET = ox.NamedNode(str(OA.hasTarget))
_OA_SPECIFIC_RESOURCE = ox.NamedNode(str(OA.SpecificResource))
_OA_HAS_SOURCE = ox.NamedNode(str(OA.hasSource))
_OA_HAS_SELECTOR = ox.NamedNode(str(OA.hasSelector))
_OA_TEXT_QUOTE_SELECTOR = ox.NamedNode(str(OA.TextQuoteSelector))
_OA_EXACT = ox.NamedNode(str(OA.exact))
_OA_PREFIX = ox.NamedNode(str(OA.prefix))
_OA_SUFFIX = ox.NamedNode(str(OA.suffix))
_OA_TEXT_POSITION_SELECTOR = ox.NamedNode(str(OA.TextPositionSelector))
_OA_START = ox.NamedNode(str(OA.start))
_OA_END = ox.NamedNode(str(OA.end))


def datetime_literal(moment: datetime) -> Literal:
    """An ``xsd:dateTime`` in its canonical form (UTC as ``Z``, whole seconds): the form
    Oxigraph stores, so that the dumps, written from our bytes, match the store."""
    utc = moment.astimezone(UTC).replace(microsecond=0)
    lexical = utc.isoformat().replace("+00:00", "Z")
    return Literal(lexical, datatype=XSD.dateTime, normalize=False)  # rdflib would write +00:00


def _provenance(
    g: Triples,
    ex: Extraction,
    iris: Iris,
    info: BuildInfo,
    subject: URIRef,
    source: URIRef,
    name: URIRef,
) -> None:
    doc = ex.document
    activity = iris.build(info.build_id)
    software = iris.software(__version__)
    started = datetime_literal(info.started)
    g.add((source, RDF.type, OSCE.SourceDocument))
    label = info.source_label.get(doc.doc_id, str(doc.path))
    # a fetched page names its URL, a file its path
    origin = URIRef(label) if label.startswith(("http://", "https://")) else Literal(label)
    g.add((source, DCTERMS.source, origin))
    g.add((source, OSCE.sha256, Literal(doc.sha256)))
    g.add((source, OSCE.layout, Literal(doc.layout)))
    g.add((source, DCTERMS.format, Literal(doc.media_type)))
    g.add((subject, PROV.wasDerivedFrom, source))
    g.add((name, RDF.type, PROV.Entity))
    g.add((name, PROV.wasDerivedFrom, source))
    g.add((name, PROV.wasGeneratedBy, activity))
    g.add((name, PROV.generatedAtTime, started))
    g.add((activity, RDF.type, PROV.Activity))
    g.add((activity, PROV.startedAtTime, started))
    g.add((activity, PROV.wasAssociatedWith, software))
    g.add((software, RDF.type, PROV.SoftwareAgent))
    g.add((software, SKOS.prefLabel, Literal(f"osce-kg {__version__}")))
    g.add((software, OWL.versionInfo, Literal(__version__)))
