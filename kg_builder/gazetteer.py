"""Lookup tables of names, built once from the reference graph and the ontology."""

from __future__ import annotations

import re
import unicodedata
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


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words of titles and of their complements: never the first word of a person's name.
TITLE_WORDS = _words(
    """Minister Ministers Secretary Deputy Federal State Prime Vice Acting First Foreign
    Affairs Interior Defence Defense Finance Justice Economy Economic Environment Health
    Education Culture Trade Development Integration Reintegration Reconciliation Equality
    European Europe Internal External Relations Security Chairperson Chairman Chair
    Co-Chair Co-Chairs Head Director President Representative Special Personal Adviser
    Advisor Envoy Co-ordinator Coordinator Commissioner Chief Monitor Ambassador
    Ombudsperson Public Defender General Principal Senior Executive Permanent High"""
)
# Portfolios named before "Minister" or "Secretary": "Foreign and European Affairs Minister".
PORTFOLIOS = (
    r"(?:Foreign|European|Europe|Affairs|Interior|Home|Justice|Finance|Defence|Defense"
    r"|Economy|Economic|Trade|Health|Education|Culture|Energy|Environment|Labour|Social"
    r"|Agriculture|Transport|Digital|Development|Integration|Internal|External|Emergency"
    r"|Youth|Science|Research|Tourism|Infrastructure|Regional|Human Rights|Reintegration"
    r"|Security|Defence Policy|Treasury|Cabinet|Parliamentary)"
)
# Words a title may open with ("Head", "Special Adviser", "Foreign Minister").
TITLE_HEADS = _words(
    """Minister Secretary Deputy Federal State Prime Vice Acting First Foreign Interior
    Defence Defense Head Director President Chairperson Chairman Chair Co-Chair
    Representative Special Personal Adviser Advisor Envoy Co-ordinator Coordinator
    Commissioner Chief Ambassador Ombudsperson Public Principal Senior Executive Permanent
    High Member"""
)
# Words without which a text needs no ``not_state_name_re`` scan.
NOT_STATE_HINTS = (
    "language",
    "speaking",
    "Party",
    "Union",
    "Front",
    "Movement",
    "Alliance",
    "Museum",
)
# Forms of address before a name, never part of it ("Rabbi Andrew Baker", "Dr. Jane Roe").
HONORIFICS = (
    r"Ambassador|Mr\.?|Ms\.?|Mrs\.?|Dr\.?|Prof\.?|Professor|Judge|Sir|Dame|Rabbi|Imam"
    r"|Mufti|Bishop|Archbishop|Cardinal|Patriarch|Metropolitan|Father|Reverend|Rev\."
)
NOT_NAME_WORDS = _words(
    """The A An This That These Those In On At As By For From With To Of And But OSCE EU UN Mr
    Ms Mrs Dr Prof Professor Judge Sir Dame Rabbi Imam Mufti Bishop Archbishop
    Cardinal Patriarch Metropolitan Father Reverend Rev His Her Its Our Their Since After
    Before During When
    While Under Over According Both All Each Every Many Some Office Mission Centre Center
    Group Council Programme Committee Commission Assembly Ministry Forum Agency Service
    Department Unit Initiative Conference Discussions Organization Union Nations Process
    Settlement Negotiations Talks Plan Agreement Protocol Document Declaration Act"""
)
# What makes a post former or future: "a former Foreign Minister", "until recently".
MODIFIERS = (
    r"(?:former|incoming|outgoing|newly appointed|recently appointed|until recently"
    r"|then|current|new)"
)
_OCCUPATION = (
    r"(?:(?:investigative|freelance|independent|local|prominent|renowned|veteran|crime|war"
    r"|political) )?"
    r"(?:journalist|reporter|blogger|photojournalist|photographer|cameraman|editor"
    r"|human rights defender|activist|lawyer|comedian|actor|actress|writer|novelist|poet"
    r"|singer|musician|artist|film-maker|filmmaker|playwright)"
)
# Stems of the occupations: a text without any needs no occupation scan.
OCCUPATION_HINTS = (
    "journalist",
    "reporter",
    "blogger",
    "photograph",
    "cameraman",
    "editor",
    "defender",
    "activist",
    "lawyer",
    "comedian",
    "actor",
    "actress",
    "writer",
    "novelist",
    "poet",
    "singer",
    "musician",
    "artist",
    "film",
    "playwright",
)
# "the comedian and actor X": one or two occupations
OCCUPATIONS = rf"(?:{_OCCUPATION}(?: and {_OCCUPATION})?)"
RELATIVES = (
    r"partner|wife|husband|son|daughter|brother|sister|father|mother|colleague"
    r"|(?:chief )?negotiator|spokesperson|spokesman|spokeswoman|envoy|representative"
)


def alternation(labels: Iterable[str]) -> str:
    """A regex alternative of ``labels``, longest first, so the longest name wins."""
    ordered = sorted(set(labels), key=lambda label: (-len(label), label))
    return "|".join(re.escape(label) for label in ordered) or r"(?!x)x"


def trie(labels: Iterable[str]) -> str:
    """Like ``alternation``, but factored by common prefixes ("Fin(?:land|nish)"), which the
    regex engine tries much faster at every position of a text. Longest labels still win:
    at each branch point longer continuations come first, and an ending is tried last."""
    root: dict[str, dict] = {}  # type: ignore[type-arg,unused-ignore]
    for label in set(labels):
        node = root
        for char in label:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, dict]) -> str:  # type: ignore[type-arg,unused-ignore]
        branches = [re.escape(c) + build(child) for c, child in sorted(node.items()) if c]
        end = "" in node
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
        return f"(?:{body})?" if end else body

    return build(root) or r"(?!x)x"


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
    osce_roles: frozenset[URIRef]  # posts of the Organization as a whole (SG, CiO, HCNM...)
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
    mandated_for: dict[URIRef, URIRef]  # structure -> the one conflict it exists for

    def __post_init__(self) -> None:
        self.series_re = bounded(alternation(self.meeting_series))
        self.state_re = bounded(trie([*self.states, *self.adjectives]))
        self.state_name_re = alternation(self.states)
        self.state_adjective_re = alternation(self.adjectives)
        self.structure_re = bounded(trie(self.structures))
        self.conflict_re = bounded(trie(self.conflicts))
        self.organization_re = bounded(alternation(self.organizations))
        self.person_re = bounded(trie(self.persons))
        # "the Parliamentary Assembly of the Council of Europe": a body of an organisation
        # (found from its head word, fast; the words before it by ``organization_body_left``)
        self.organization_body_re = re.compile(
            r"(?:Assembly|Council|Committee|Court|Parliament|Commission|Secretariat|Tribunal)"
            rf" of (?:the )?(?:{trie(self.organizations)})(?![\w-])"
        )
        self.organization_body_left = re.compile(rf"(?<![\w-])(?:{UP}[\w-]* ){{0,2}}$")
        self._person_patterns()
        self._structures_folded = {k.casefold(): v for k, v in self.structures.items()}
        # "ethnic Armenian and Azerbaijani", "speak Russian or Georgian", "the state of Georgia"
        adj = f"(?:{self.state_adjective_re})"
        # "Albanian-language classes", "Macedonian- and Albanian-language": a language;
        # "the Croatian Democratic Union", "the Jewish Museum of Belgium": a name of its own
        own = r"(?:Party|Union|Front|Movement|Alliance|Museum)(?![\w-])"
        cap = rf"{UP}[\w'’-]*"
        self.not_state_re = re.compile(
            rf"(?:ethnic|speak|speaks|speaking|spoken in) {adj}(?:(?:, | and | or ){adj})*"
            r"|state of Georgia"
        )
        # found from their head words (fast), then read leftwards from the head
        self.not_state_head_re = re.compile(
            rf"(?P<lang>(?:-| )(?:language|speaking)(?![\w-]))|{own}"
        )
        self.not_state_lang_left = re.compile(rf"{adj}(?:-?(?:, | and | or ){adj})*$")
        self.not_state_adj_left = re.compile(rf"(?<![\w-]){adj}(?: {cap}){{0,3}} $")
        self.not_state_cap_left = re.compile(rf"(?<![\w-]){cap}(?: {cap}){{0,3}} $")
        self.not_state_of = re.compile(rf" of (?:the )?(?:{self.state_name_re})")

    def _person_patterns(self) -> None:
        """The regexes of persons and posts (see ``kg_builder.extract.persons``)."""
        states, adjectives = trie(self.states), trie(self.adjectives)
        not_state = rf"(?!(?:the )?(?:{states}|{adjectives})(?!\w))"
        cap = rf"{not_state}{UP}[\w'’-]*"
        # A title's complement: "for Reintegration", "of Migration and European Affairs";
        # never "of Finland" (the State whose post it is). Lazy, so that the name after it
        # keeps its words.
        compl = (
            rf"(?: (?:for|of|on) (?:the )?{cap}(?:,? (?:and |of |for |in |on )?(?:the )?{cap})*?)?"
        )
        known = trie(self.roles)
        # Ministers and secretaries beyond the reference's list: "Foreign and European Affairs
        # Minister", "State Minister for ...", "Federal Minister of Finance".
        lead = r"(?:(?:First |Deputy |Federal |State |Prime |Vice |Acting )*)"
        head_words = rf"(?:{PORTFOLIOS}(?:,? (?:and )?{PORTFOLIOS}){{0,3}} )?"
        generic = rf"{lead}{head_words}(?:Minister|Secretary)(?! General)"
        title = rf"(?:(?:{known})|{generic}){compl}"
        # Chained ministries are one post: "Prime Minister and Minister for Europe and ...".
        self.title = rf"{title}(?: and (?:{lead}{head_words}Minister{compl}))?"
        organizations = trie(self.organizations)
        self.owner = trie([*self.states, *self.structures, *self.organizations])
        self.title_heads = (
            frozenset(label.split()[0] for label in self.roles if label[:1].isupper()) | TITLE_HEADS
        )
        self.title_words = (
            frozenset(w for label in self.roles for w in label.split() if w[:1].isupper())
            | TITLE_WORDS
        )
        not_name = trie(
            self.title_words | NOT_NAME_WORDS | {w for w in [*self.states, *self.adjectives]}
        )
        particle = r"(?:de|da|dos|du|del|della|di|van|von|der|den|ter|le|la|af|bin|ibn)"
        # A person's name: two to four capitalised words, initials or particles; no word of
        # it a title word ("Ambassador", "Minister") or a State's name or adjective.
        word = rf"(?={UP})(?!(?:{not_name})(?![\w'’-])){UP}[\w'’-]+"
        name = (
            rf"(?<![\w'’-]){word}"
            rf"(?: (?:{UP}\.|{word}|{particle}(?= {UP}))){{1,3}}(?![\w'’-])"
        )
        self.person_name = name
        honorific = rf"(?:(?=[ABCDFIJMPRS])(?:{HONORIFICS}) )?"
        # a structure's acronym before a title: "ODIHR Director X", "SMM Chief Monitor X"
        acronyms = trie(
            k for k in self.structures if re.fullmatch(r"[A-Z][A-Za-z]{1,5}", k) and k != "OSCE"
        )
        prefix = (
            rf"(?:(?P<osce>OSCE )|(?P<struct>{acronyms}) (?=[A-Z])|(?P<org>EU|UN|{organizations}) "
            rf"|(?:the )?(?P<poss>{states})['’]s |(?P<adj>{adjectives}) )?"
        )
        acronym = r"(?: \([A-Za-z/]{2,10}\))?"
        # "Foreign Minister of Armenia Zohrab Mnatsakanyan", "Austrian Foreign Minister
        # Sebastian Kurz", "Sweden's Foreign Minister, Ann Linde", "the State Minister for
        # ..., Paata Zakareishvili", "The OSCE High Commissioner (HCNM), Astrid Thors".
        self.title_name_re = re.compile(
            rf"(?<![\w-])(?=[{UPPER}fit])(?P<former>[Ff]ormer |[Ii]ncoming )?{prefix}"
            rf"(?P<role>{self.title})"
            rf"(?: of (?:the )?(?P<of>{self.owner}))?{acronym},? {honorific}(?P<name>{name})"
        )
        # What may stand before such a title, as a first post: "the OSCE Chairperson-in-Office, "
        self.first_post_re = re.compile(
            rf"(?<![\w-])(?P<osce>OSCE )?(?P<role>{known})(?: of (?:the )?(?P<of>{self.owner}))?"
            rf"{acronym}, $"
        )
        # "Thomas Greminger, the OSCE Secretary General,": the post after the name, up to the
        # end of the apposition.
        chunk = (
            r"(?P<chunk>(?:[^,;:.()\"“”\n–—]|\.(?=\w)|\([A-Za-z/]{2,10}\)(?= and )"
            r"|\((?=[^)]*\)))+?)"
        )
        stop = (
            r"(?: \([A-Za-z/]{2,10}\)| \([A-Z][A-Za-z/]{1,9} [A-Z][A-Za-z/]{1,5}\))?"
            r"(?=[,;:\"”]|\.(?!\w)|\n|$| who\b| said\b| says\b| told\b"
            r"| has\b| had\b| is\b| was\b| will\b| would\b| as\b)"
        )
        self.apposition = rf", (?P<det>(?:the|a|an) )?(?P<mod>{MODIFIERS} )?{chunk}{stop}"
        self.name_apposition_re = re.compile(
            rf"(?<![\w-]){honorific}(?P<name>{name})(?: of (?:the )?(?P<of>{states}))?"
            rf"{self.apposition}"
        )
        self.name_start_re = re.compile(rf"(?<![\w'’-]){honorific}{name}")
        # A name after an apposition: the apposition was the title of that name.
        self.next_name_re = re.compile(rf"{acronym}, {honorific}{name}(?=[,;.:]| and )")
        self.name_of_state_re = re.compile(rf" of (?:the )?(?P<of>{states})(?![\w-])")
        # "Frattini, a former Italian Foreign Minister,": a surname with an apposition.
        self.word_apposition_re = re.compile(
            rf"(?<![\w'’-])(?P<name>{UP}[\w'’-]+){self.apposition}"
        )
        # "- Teresa Ribeiro of Portugal as Representative on Freedom of the Media;"
        self.name_as_re = re.compile(
            rf"(?<![\w-]){honorific}(?P<name>{name})(?: of (?:the )?(?:{states}))?"
            rf"(?:, [^,;\n]{{1,80}},)? as (?P<det>the )?(?P<mod>{MODIFIERS} )?{chunk}{stop}"
        )
        # "The Co-Chairs of the OSCE Minsk Group, Igor Popov of the Russian Federation,
        # Stéphane Visconti of France and Andrew Schofer of the United States of America"
        member = rf"{honorific}{name}(?: of (?:the )?(?:{states}))?"
        self.listed_re = re.compile(
            rf"(?<![\w-])(?:OSCE )?(?P<role>{known})s of (?:the )?(?P<of>{self.owner}),? "
            rf"(?P<list>{member}(?:, {member})*,? and {member})"
        )
        self.listed_name_re = re.compile(rf"{honorific}(?P<name>{name})")
        # "the Maltese journalist Daphne Caruana Galizia", "his partner Martina Kušnírová"
        self.occupation_re = re.compile(
            rf"(?<![\w-])(?:(?=[{UPPER}])(?P<adj>{adjectives}) )?(?P<role>{OCCUPATIONS})"
            rf" (?P<name>{name})"
        )
        self.occupation_full_re = re.compile(OCCUPATIONS)
        self.occupation_of_re = re.compile(
            rf"(?P<role>{OCCUPATIONS}) (?:for|with|at) (?:the )?(?:[a-z][\w-]* ){{0,2}}"
            rf"(?P<of>{UP}[\w.-]*\w(?: {UP}[\w.-]*\w){{0,4}})$"
        )
        self.relative_re = re.compile(
            rf"(?<![\w-])(?:his|her|its|their) (?:{RELATIVES}),? (?P<name>{name})"
        )
        self.predecessor_re = re.compile(
            rf"(?<![\w-])(?:[Hh]is|[Hh]er|[Tt]heir) predecessor,? (?P<name>{name})"
        )
        self.handover_re = re.compile(
            r"hand(?:s|ed)? over the (?:OSCE )?(?:Chairpersonship|Chairmanship)[^.;\n]{0,60}? to $"
        )
        # "Helga Maria Schmid of Germany": a person, without a post.
        self.person_of_state_re = re.compile(
            rf"(?<![\w-]){honorific}(?P<name>{name}) of (?:the )?(?P<of>{states})(?!\w)"
        )
        owners = trie([*self.states, *self.structures, *self.organizations, "OSCE"])
        self.chunk_owner_re = re.compile(
            rf" (?:of|to|for|in) (?:the )?(?:[a-z][\w-]+ )?(?:[a-z][\w-]+ )?"
            rf"(?P<of>{owners})(?![\w-])"
        )
        self.role_start_re = re.compile(rf"(?:{known})(?![\w-])")
        self.title_re = re.compile(rf"(?:{self.title})(?![\w-])")
        # "Theresa May, who as Home Secretary steered ...": a post held before.
        self.who_as_re = re.compile(
            rf", who,? as (?P<role>{self.title})(?: of (?:the )?(?P<of>{self.owner}))?,?"
            r" (?:had )?[a-z]+ed\b"
        )
        # "X, ..., will take over as Chairperson-in-Office": a post to come.
        self.take_over_re = re.compile(
            rf"(?:, [^,.;]{{1,60}},)?,? (?:will|is to|is due to|is set to)"
            rf" (?:take over|succeed [^,.;]{{1,40}}?) as "
            rf"(?:the )?(?:(?P<osce>OSCE) )?(?P<role>{self.title})(?![\w-])"
        )
        self.title_prefix_re = re.compile(
            rf"(?:(?P<osce>OSCE )|(?P<struct>{acronyms}) (?=[A-Z])"
            rf"|(?P<org>EU|UN|{organizations}) (?=[A-Z])"
            rf"|(?:the )?(?P<poss>{states})['’]s |(?P<adj>{adjectives}) )"
        )
        self.parliament_re = re.compile(
            rf"^member of (?:the )?(?P<adj>{adjectives}|{states}) (?:parliament|Parliament)$"
        )

    def state(self, name: str) -> URIRef | None:
        return self.states.get(name) or self.adjectives.get(name)

    def structure(self, name: str) -> URIRef | None:
        return self.structures.get(name) or self._structures_folded.get(name.casefold())

    def label(self, iri: URIRef) -> str:
        return self.labels.get(iri) or str(iri).rsplit("/", 1)[-1]


def _with_unaccented(table: dict[str, URIRef]) -> dict[str, URIRef]:
    """Names also as pages write them without their accents ("Harlem Desir", "Miroslav
    Lajcak"): the same person."""
    extended = dict(table)
    for name, iri in table.items():
        plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
        if plain != name and len(plain.split()) == len(name.split()):
            extended.setdefault(plain, iri)
    return extended


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
        persons=_with_unaccented(names(instances({SCHEMA.Person}), SKOS.prefLabel, SKOS.altLabel)),
        state_roles=frozenset(
            URIRef(str(r))
            for r in reference.subjects(SKOS.inScheme, iris.relative("scheme/state-roles"))
        ),
        osce_roles=frozenset(
            URIRef(str(r))
            for r in reference.subjects(SKOS.inScheme, iris.relative("scheme/osce-roles"))
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
        mandated_for={
            URIRef(str(s)): URIRef(str(o)) for s, o in reference.subject_objects(OSCE.mandatedFor)
        },
    )
