"""Namespaces of the project. GENERATED from ontology/osce.ttl by
``python -m kg_builder.gen_namespaces``; do not edit by hand."""

from rdflib import Namespace, URIRef
from rdflib.namespace import (
    DCTERMS,
    ORG,
    OWL,
    PROV,
    RDF,
    RDFS,
    SDO,
    SH,
    SKOS,
    TIME,
    VOID,
    XSD,
    DefinedNamespace,
)

OA = Namespace("http://www.w3.org/ns/oa#")
SKOSXL = Namespace("http://www.w3.org/2008/05/skos-xl#")
SCHEMA = SDO

__all__ = [
    "DCTERMS",
    "OA",
    "ORG",
    "OSCE",
    "OWL",
    "PROV",
    "RDF",
    "RDFS",
    "SCHEMA",
    "SH",
    "SKOS",
    "SKOSXL",
    "TIME",
    "VOID",
    "XSD",
]


class OSCE(DefinedNamespace):
    """Terms of the OSCE ontology."""

    _fail = True
    _NS = Namespace("https://w3id.org/osce-kg/ontology#")

    Agreement: URIRef
    AsianPartnerForCooperation: URIRef
    Chairpersonship: URIRef
    City: URIRef
    Conflict: URIRef
    Decision: URIRef
    DecisionMakingBody: URIRef
    Declaration: URIRef
    Document: URIRef
    FieldOfWork: URIRef
    FieldOperation: URIRef
    Institution: URIRef
    JointStatement: URIRef
    MediterraneanPartnerForCooperation: URIRef
    Meeting: URIRef
    MeetingSeries: URIRef
    MeetingType: URIRef
    NegotiationFormat: URIRef
    NewsItem: URIRef
    ParliamentaryAssembly: URIRef
    ParticipatingState: URIRef
    PartnerForCooperation: URIRef
    Place: URIRef
    PlannedMeeting: URIRef
    PressCommunique: URIRef
    PressRelease: URIRef
    Region: URIRef
    Secretariat: URIRef
    SecretariatUnit: URIRef
    SettlementProcess: URIRef
    SourceDocument: URIRef
    State: URIRef
    Statement: URIRef
    Structure: URIRef
    Troika: URIRef
    addressedBy: URIRef
    addresses: URIRef
    adjective: URIRef
    attestedOn: URIRef
    capital: URIRef
    concerns: URIRef
    decidedBy: URIRef
    designatedFor: URIRef
    fieldOfWork: URIRef
    formerlyHeld: URIRef
    geonamesId: URIRef
    heldBy: URIRef
    holdsChairpersonship: URIRef
    hostCountry: URIRef
    hostState: URIRef
    hostsFieldOperation: URIRef
    inSeries: URIRef
    iso3166Alpha2: URIRef
    iso3166Alpha3: URIRef
    issued: URIRef
    issuedBy: URIRef
    layout: URIRef
    locatedIn: URIRef
    mandatedFor: URIRef
    mediatedBy: URIRef
    meetingType: URIRef
    mentionedIn: URIRef
    organizer: URIRef
    participant: URIRef
    party: URIRef
    partyTo: URIRef
    place: URIRef
    postOf: URIRef
    refersTo: URIRef
    seat: URIRef
    sha256: URIRef
    typeLabel: URIRef
    validDuring: URIRef
    year: URIRef
