"""Persons and the posts they hold ("Foreign Minister of the Russian Federation Sergey
Lavrov", "Thomas Greminger, the OSCE Secretary General"), and later surname-only mentions."""

from __future__ import annotations

import re

from rdflib import URIRef

from kg_builder.extract.model import NOT_NAMES, Extraction, PostRef, Spans, add_mention
from kg_builder.gazetteer import Gazetteer, bounded
from kg_builder.iris import Iris
from kg_builder.parse import Region

# Nouns that end the names of bodies, never of persons ("the Programme Office").
BODY_NOUNS = frozenset(
    {
        "Office",
        "Mission",
        "Centre",
        "Center",
        "Group",
        "Council",
        "Programme",
        "Committee",
        "Commission",
        "Assembly",
        "Ministry",
        "Forum",
        "Agency",
        "Service",
        "Department",
        "Unit",
    }
)


def _plausible_name(name: str, gaz: Gazetteer) -> bool:
    words = name.split()
    return (
        words[0] not in NOT_NAMES
        and not BODY_NOUNS.intersection(words)
        and not any(w in gaz.role_words or w in gaz.states or w in gaz.adjectives for w in words)
        and gaz.structure(name) is None
        and name not in gaz.organizations
    )


def persons(
    out: Extraction,
    region: Region,
    gaz: Gazetteer,
    iris: Iris,
    spans: Spans,
    context: URIRef | None,
) -> None:
    """Persons: those the reference data knows, by full name; and persons named with their
    post ("Foreign Minister of the Russian Federation Sergey Lavrov", "Austrian Foreign
    Minister Karin Kneissl", "Thomas Greminger, the OSCE Secretary General", "President
    Emomali Rahmon" with the State from the context)."""
    for match in gaz.person_re.finditer(region.text):
        start, end = region.start + match.start(), region.start + match.end()
        if spans.free(start, end):
            out.person_at[(start, end)] = gaz.persons[match.group(0)]
            add_mention(out, spans, gaz.persons[match.group(0)], "person", start, end)
    for pattern in (*gaz.person_res, gaz.role_then_person_re):
        for match in pattern.finditer(region.text):
            groups = match.groupdict()
            of_label = groups.get("of")
            state = gaz.state(of_label) if of_label else None
            of_iri = state if state is not None else gaz.structure(of_label or "")
            if of_label is None and (groups.get("osce") or gaz.structure(match["role"])):
                of_iri = gaz.osce  # "the OSCE Secretary General", "Representative on ..."
            elif of_label is None and gaz.roles[match["role"]] in gaz.state_roles:
                of_iri = state = context
            if not _plausible_name(match["name"], gaz):
                continue
            if (
                _person(
                    out,
                    region,
                    match,
                    gaz,
                    iris,
                    spans,
                    of_iri,
                    state is not None,
                    former=bool(groups.get("former")),
                )
                and of_label
            ):
                of_start = region.start + match.start("of")
                if of_iri is not None and spans.free(of_start, of_start + len(of_label)):
                    kind = "state" if state is not None else "structure"
                    add_mention(out, spans, of_iri, kind, of_start, of_start + len(of_label))
    for match in gaz.titled_person_re.finditer(region.text):
        start = region.start + match.start("name")
        if not _plausible_name(match["name"], gaz) or not spans.free(start, start + 1):
            continue  # a stronger pattern has named this person already
        osce_title = gaz.structure(match["role"]) is not None
        state_title = gaz.roles[match["role"]] in gaz.state_roles and not match["compl"]
        of_iri = gaz.osce if osce_title else context if state_title else None
        _person(out, region, match, gaz, iris, spans, of_iri, not osce_title, former=False)
    for match in gaz.person_of_state_re.finditer(region.text):
        if _plausible_name(match["name"], gaz):
            _person(out, region, match, gaz, iris, spans, None, False, former=False)


def _person(
    out: Extraction,
    region: Region,
    match: re.Match[str],
    gaz: Gazetteer,
    iris: Iris,
    spans: Spans,
    of_iri: URIRef | None,
    of_is_state: bool,
    *,
    former: bool,
) -> bool:
    """Record the person ``match`` names, and the post it gives them when it names one."""
    name = match["name"]
    start, end = region.start + match.start("name"), region.start + match.end("name")
    known = out.person_at.get((start, end))
    if known is not None:  # a person the reference data knows, already found by name
        person = known
    elif not spans.free(start, end):
        return False
    else:
        person = gaz.persons.get(name) or iris.person(name)
        add_mention(out, spans, person, "person", start, end)
    groups = match.groupdict()
    before = region.text[max(0, match.start() - 8) : match.start()].casefold()
    former = former or before.endswith(("former ", "ex-"))
    if of_iri is None or former or not groups.get("role"):
        return True  # a former post is not held on the document's date
    base_role = gaz.roles[groups["role"]]
    compl = groups.get("compl") or ""
    canonical = gaz.label(base_role) + compl
    role, broader = (iris.role(canonical), base_role) if compl else (base_role, None)
    of_slug = str(of_iri).rstrip("/").rsplit("/", 1)[-1]
    post = PostRef(
        iri=iris.post(of_slug, canonical),
        label=f"{canonical} of {_with_article(gaz.label(of_iri))}",
        role=role,
        role_label=groups["role"] + compl,
        broader_role=broader,
        of=of_iri,
        of_is_state=of_is_state,
        holder=person,
        holder_name=name,
        holder_known=person in gaz.labels,
    )
    out.posts[(post.iri, person)] = post
    return True


def context_state(out: Extraction, gaz: Gazetteer) -> URIRef | None:
    """The State a document is about: the only one its title names (a dateline city such as
    Vienna says where the text was issued, not whom it is about)."""
    title = next((r.text for r in out.document.regions if r.kind == "title"), "")
    named = {s for m in gaz.state_re.finditer(title) if (s := gaz.state(m.group(0)))}
    return named.pop() if len(named) == 1 else None


_TAKES_ARTICLE = re.compile(r"Federation|United|Republic|Holy See|Netherlands|Council|Group|Office")


def _with_article(name: str) -> str:
    """ "the Russian Federation", "the Minsk Group", but "France"."""
    return f"the {name}" if _TAKES_ARTICLE.search(name) and not name.startswith("the ") else name


def surnames(out: Extraction, spans: Spans) -> None:
    """Later surname-only mentions ("Desir said") belong to the person named in full."""
    surnames = {post.holder_name.split()[-1]: post.holder for post in out.posts.values()}
    patterns = [(bounded(re.escape(surname)), person) for surname, person in surnames.items()]
    for region in out.document.regions:
        for pattern, person in patterns:
            for match in pattern.finditer(region.text):
                start, end = region.start + match.start(), region.start + match.end()
                if spans.free(start, end):
                    add_mention(out, spans, person, "person", start, end)
