"""Persons and the posts they hold ("Foreign Minister of the Russian Federation Sergey
Lavrov", "Thomas Greminger, the OSCE Secretary General"), former and incoming posts ("Frattini,
a former Italian Foreign Minister"), and later surname-only mentions.

A post is read from a *title phrase* next to a name: before it ("Austrian Foreign Minister
Sebastian Kurz"), after it as an apposition ("X, Head of the OSCE Mission to Moldova,"), after
"as" ("X as Representative on Freedom of the Media"), or shared by a list ("the Co-Chairs of
the OSCE Minsk Group, A of Russia, B of France and C of the US"). ``_posts_in`` turns a title
phrase into posts: who the post belongs to (a State, an OSCE structure, the OSCE, another
organisation) and the title as stated, lightly normalised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rdflib import URIRef

from kg_builder.extract.model import NOT_NAMES, Extraction, PostRef, Spans, add_mention
from kg_builder.gazetteer import MODIFIERS, OCCUPATION_HINTS, Gazetteer, bounded
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
        "Initiative",
        "Conference",
        "Discussions",
        # bodies beyond the OSCE's: courts, parliaments, parties, museums, schools ...
        "Court",
        "Tribunal",
        "Parliament",
        "Party",
        "Union",
        "Front",
        "Movement",
        "Alliance",
        "Museum",
        "University",
        "Institute",
        "Foundation",
        "Association",
        "Bank",
        "Church",
        "School",
        "Academy",
        "Authority",
        "Board",
        "Government",
        "Administration",
    }
)
# How a modifier dates a post: "a former Foreign Minister", "the incoming Chairperson".
STATUS = {
    "former": "former",
    "until recently": "former",
    "then": "former",
    "outgoing": "",
    "incoming": "incoming",
}
# Titles of a person that stand for an organisation: "the UN Secretary-General".
_ORG_PERSON_TITLE = re.compile(r" Secretary[- ]General\b")
_CIO_POSSESSIVE = re.compile(
    r"^(?:the )?(?:OSCE )?(?:CiO|Chairperson-in-Office|Chairman-in-Office|Chair)['’]s "
)
_MINISTER = re.compile(r"\bMinister\b|^Secretary of State\b")
_MODIFIER = re.compile(rf"(?:{MODIFIERS}) ")
_COMPLEMENT = re.compile(r" (for|on|to) ")
_SHORT_NAME = re.compile(r" of the ((?:[A-Z][\w-]+ ?){1,3})$")
_TITLE_HEAD = re.compile(r"^(?:[Ff]ormer|[Ii]ncoming) ")
_TITLE_TAIL = re.compile(r"(?: \([A-Za-z/]+\))?,?(?: Ambassador| Mr\.?| Ms\.?| Dr\.?)?$")
_ACRONYM_TAIL = re.compile(r" \([A-Z][A-Za-z/]{1,9}(?: [A-Z][A-Za-z/]{1,5})?\)$")
# "President of the Party of Democratic Action": a title of a named body
_OF_A_BODY = re.compile(
    r"(?P<title>[A-Z][\w-]*(?: [A-Z][\w-]*){0,3}) of the [A-Z][\w'’-]*"
    r"(?: (?:(?:of|and|for|the|on) )*[A-Z][\w'’-]*)*$"
)
# Bodies that are neither a State's institutions nor the OSCE's: parties, museums, ...
_PRIVATE_BODY = re.compile(
    r" of the (?:[A-Z][\w'’-]* )*(?:Party|Union|Front|Movement|Alliance|Museum|Foundation"
    r"|Association|University|Church|Bank)$"
)
_HAS_ACRONYM = re.compile(r"\b[A-Z]{2,6}\b")
_SPLIT_AND = re.compile(
    r" and (?:(?:a |an |the )?(?P<mod>former |incoming ))?(?=(?:OSCE |EU |UN )?[A-Z])"
)
_WORD = r"(?:[A-Z][\w-]*|of|the|for|and|on|in|to)"
_ACRONYM_DEF = re.compile(rf"\b({_WORD}(?: {_WORD}){{1,8}}) \(([A-Z]{{2,6}})\)")
_DELEGATION = re.compile(
    r"(?P<who>\w+?)(?:['’]s)? delegation (?:was |is |will be )?(?:headed|led) by $"
)


@dataclass(frozen=True)
class _Post:
    label: str  # the title as stated, without the owner's name or adjective
    of: URIRef
    of_is_state: bool
    status: str  # "", "former" or "incoming"


def _plausible_name(name: str, gaz: Gazetteer) -> bool:
    words = name.split()
    return (
        words[0] not in NOT_NAMES
        and not BODY_NOUNS.intersection(words)
        and gaz.structure(name) is None
        and name not in gaz.organizations
        and gaz.state(name) is None
    )


class _Reader:
    """Reads the persons and posts of one document region."""

    def __init__(
        self,
        out: Extraction,
        gaz: Gazetteer,
        iris: Iris,
        spans: Spans,
        context: URIRef | None,
    ) -> None:
        self.out, self.gaz, self.iris, self.spans, self.context = out, gaz, iris, spans, context
        self._doc_structures: list[URIRef] | None = None
        self.other_states = False  # the sentence at hand names a State besides the context
        # Persons found so far, by span (``out.person_at`` has those the reference knows).
        self.found = {(m.start, m.end): m.entity for m in out.mentions if m.kind == "person"}

    # -- persons -----------------------------------------------------------------------

    def person(self, name: str, start: int, end: int) -> URIRef | None:
        """The person a name at [start, end) names; a new mention unless already found."""
        found = self.found.get((start, end))
        if found is not None:
            return found
        if not self.spans.free(start, end) or not _plausible_name(name, self.gaz):
            return None
        known = self.gaz.persons.get(name)
        person = known or self.iris.person(name)
        add_mention(self.out, self.spans, person, "person", start, end)
        self.found[(start, end)] = person
        if known is not None:
            self.out.person_at[(start, end)] = known
        return person

    def add(self, person: URIRef, holder_name: str, post: _Post) -> None:
        gaz, iris = self.gaz, self.iris
        label = self._expand(post.label)
        role = gaz.roles.get(label)
        broader = None
        if role is None:
            head = gaz.role_start_re.match(label)
            broader = gaz.roles[head.group(0)] if head else None
            role = iris.role(label)
        canonical = gaz.label(role) if role in gaz.labels else label
        of_slug = str(post.of).rstrip("/").rsplit("/", 1)[-1]
        ref = PostRef(
            iri=iris.post(of_slug, canonical),
            label=f"{canonical} of {_with_article(gaz.label(post.of), post.of_is_state)}",
            role=role,
            role_label=label,
            broader_role=broader,
            of=post.of,
            of_is_state=post.of_is_state,
            holder=person,
            holder_name=holder_name,
            holder_known=person in gaz.labels,
            status=post.status,
            new_role=role not in gaz.labels,
        )
        key = (ref.iri, person)
        previous = self.out.posts.get(key)
        if previous is None or (previous.status and not ref.status):
            self.out.posts[key] = ref

    # -- title phrases -----------------------------------------------------------------

    def apposition_posts(self, chunk: str, modifier: str) -> list[_Post]:
        """The posts of an apposition, unless it names the next person of a list ("X,
        Foreign Minister Y, ...")."""
        following = self.gaz.title_name_re.search(chunk)
        if following is not None and _plausible_name(following["name"], self.gaz):
            return []
        return self.posts_in(chunk, STATUS.get(modifier, ""))

    def posts_in(self, phrase: str, status: str = "") -> list[_Post]:
        """The posts a title phrase states: "Minister for Foreign Affairs of Finland and OSCE
        Chairperson-in-Office" → two posts."""
        parts, start, statuses = [], 0, [status]
        for match in _SPLIT_AND.finditer(phrase):
            left = phrase[start : match.start()]
            if match["mod"] or (
                (" of " in left or " to " in left) and self._is_title(phrase[match.end() :])
            ):  # "Director of X and a former Minister of Y": two posts, the second former
                parts.append(left)
                start = match.end()
                statuses.append(STATUS[match["mod"].strip()] if match["mod"] else status)
        parts.append(phrase[start:])
        return [
            post
            for part, part_status in zip(parts, statuses, strict=True)
            if (post := self._post_in(part.strip(), part_status))
        ]

    def _post_in(self, text: str, status: str) -> _Post | None:
        gaz = self.gaz
        text = _ACRONYM_TAIL.sub("", text)  # "Director of the Office ... (ODIHR)"
        if text.startswith("the "):
            text = text[4:]
        modifier = _MODIFIER.match(text)
        if modifier:
            status = status or STATUS.get(modifier.group(0).strip(), "")
            text = text[modifier.end() :]
        parliament = gaz.parliament_re.match(text)
        if parliament:
            state = gaz.state(parliament["adj"])
            return _Post("member of parliament", state, True, status) if state else None
        cio = _CIO_POSSESSIVE.match(text)
        if cio:  # "the CiO's Special Representative for ..." (the site's own long form)
            pieces = _COMPLEMENT.split(text[cio.end() :], maxsplit=1)
            tail = f" {pieces[1]} {pieces[2]}" if len(pieces) == 3 else ""
            label = f"{pieces[0]} of the OSCE Chairperson-in-Office{tail}"
            return _Post(label, gaz.chairpersonship, False, status)
        occupation = gaz.occupation_of_re.match(text)
        if occupation:  # "an investigative reporter for the news website Aktuality.sk"
            found = self._owner(occupation["of"])
            if found is None or found[1]:
                return None
            return _Post(occupation["role"], found[0], False, status)
        prefix = gaz.title_prefix_re.match(text)
        owner: URIRef | None = None
        is_state = False
        if prefix:
            if prefix["osce"]:
                owner, text = gaz.osce, text[prefix.end() :]
            elif prefix["struct"]:  # "ODIHR Director"
                owner, text = gaz.structure(prefix["struct"]), text[prefix.end() :]
                if owner is not None and self._is_title(text):
                    return _Post(text, owner, False, status)
                return None
            elif prefix["org"]:
                owner = gaz.organizations[prefix["org"]]
            else:
                owner = gaz.state(prefix["adj"] or prefix["poss"])
                is_state, text = True, text[prefix.end() :]
        if is_state and owner is not None and gaz.occupation_full_re.fullmatch(text):
            return _Post(text, owner, True, status)  # "the Dutch crime reporter"
        if not self._is_title(text[prefix.end() :] if prefix and prefix["org"] else text):
            return None
        of = gaz.chunk_owner_re.search(text)
        found = self._owner(of["of"]) if of is not None else None
        if found is not None and found[0] == gaz.chairpersonship:
            return _Post(text, gaz.chairpersonship, False, status)  # "... of the CiO for ..."
        role = gaz.roles.get(text)
        if owner is None and (gaz.structure(text) is not None or role in gaz.osce_roles):
            return _Post(text, gaz.osce, False, status)  # "Representative on Freedom of ..."
        if owner is not None and (is_state or (prefix is not None and prefix["org"])):
            return _Post(text, owner, is_state, status)
        if of is not None and found is not None:
            of_iri, of_is_state = found
            before, after = text[: of.start()], text[of.end() :]
            if of_is_state and _PRIVATE_BODY.search(before):
                return None  # "President of the Democratic Union of X": the party's post
            if _ORG_PERSON_TITLE.match(after):  # "Special Adviser to the UN Secretary-General"
                return _Post(text, of_iri, False, status)
            between = of.group(0)[: of.start("of") - of.start()].split()
            whole = bool(after.strip()) or len(between) > 2 or not self._plain_title(before)
            return _Post(text if whole else before, of_iri, of_is_state, status)
        if owner is not None:  # "OSCE Representative on Freedom of the Media"
            return _Post(text, owner, False, status)
        short = _SHORT_NAME.search(text)
        if short:  # "Head of the Programme Office": the structure the document names
            structure = self._short_structure(short.group(1))
            if structure is not None:
                return _Post(text[: short.start()], structure, False, status)
            return None
        state_title = role in gaz.state_roles or _MINISTER.search(text)
        if state_title and self.context is not None and not self.other_states:
            return _Post(text, self.context, True, status)
        return None

    def _is_title(self, text: str) -> bool:
        """Whether a phrase opens with a title ("Head", "Special Adviser", "Minister")."""
        gaz = self.gaz
        return text.split(" ", 1)[0] in gaz.title_heads or bool(gaz.title_re.match(text))

    def _plain_title(self, text: str) -> bool:
        """A title alone, without free text ("Head", "Foreign Minister", "Secretary General")."""
        if self.gaz.role_start_re.fullmatch(text):
            return True
        return all(w in self.gaz.title_words or w in {"and", "of", "for"} for w in text.split())

    def _owner(self, label: str) -> tuple[URIRef, bool] | None:
        gaz = self.gaz
        if label == "OSCE":
            return gaz.osce, False
        state = gaz.states.get(label)
        if state is not None:
            return state, True
        structure = gaz.structure(label)
        if structure is not None:
            return structure, False
        organization = gaz.organizations.get(label) or self._new_organizations().get(label)
        return (organization, False) if organization is not None else None

    def _new_organizations(self) -> dict[str, URIRef]:
        """Organisations the document names that the reference data does not know (a news
        website), by name."""
        return {name: iri for iri, name in self.out.new_organizations.items()}

    def _short_structure(self, phrase: str) -> URIRef | None:
        """ "the Programme Office" → the one structure of the document whose name has it."""
        if self._doc_structures is None:
            self._doc_structures = list(
                dict.fromkeys(m.entity for m in self.out.mentions if m.kind == "structure")
            )
        folded = phrase.strip().casefold()
        found = {s for s in self._doc_structures if folded in self.gaz.label(s).casefold()}
        return found.pop() if len(found) == 1 else None

    def _expand(self, label: str) -> str:
        """Acronyms the document defines, spelled out: "UN Representative to the GID" →
        "... to the Geneva International Discussions"."""
        if not _HAS_ACRONYM.search(label):
            return label
        acronyms = self.out.acronyms
        if acronyms is None:  # read once per document, shared by the regions' readers
            acronyms = self.out.acronyms = {}
            for match in _ACRONYM_DEF.finditer(self.out.document.text):
                words, acronym = match.group(1).split(), match.group(2)
                while words and not words[0][:1].isupper():
                    words = words[1:]
                capitals = [w for w in words if w[:1].isupper()]
                for i in range(len(capitals)):
                    if "".join(w[0] for w in capitals[i:]) == acronym:
                        first = words.index(capitals[i])
                        acronyms[acronym] = " ".join(words[first:])
                        break
        for acronym, long in acronyms.items():
            if acronym not in label:
                continue
            known = self._owner(acronym) is not None or acronym in self.gaz.roles
            if not known:
                label = re.sub(rf"(?<!\w){acronym}(?!\w)", long, label)
        return label


def persons(
    out: Extraction,
    region: Region,
    gaz: Gazetteer,
    iris: Iris,
    spans: Spans,
    context: URIRef | None,
) -> None:
    """Persons and their posts in one region (see the module's docstring)."""
    reader = _Reader(out, gaz, iris, spans, context)
    text, base = region.text, region.start
    for match in gaz.person_re.finditer(text):
        start, end = base + match.start(), base + match.end()
        if (start, end) not in out.person_at and spans.free(start, end):
            out.person_at[(start, end)] = reader.found[(start, end)] = gaz.persons[match.group(0)]
            add_mention(out, spans, gaz.persons[match.group(0)], "person", start, end)
    for match in gaz.listed_re.finditer(text):
        posts = reader.posts_in(f"{match['role']} of the {match['of']}")
        offset = match.start("list")
        for item in gaz.listed_name_re.finditer(match["list"]):
            start = base + offset + item.start("name")
            person = reader.person(item["name"], start, start + len(item["name"]))
            for post in posts:
                if person is not None:
                    reader.add(person, item["name"], post)
    for match in gaz.title_name_re.finditer(text):
        _title_then_name(reader, region, match)
    # Patterns that open with a name are tried only where a name starts (one scan, not one
    # scan of the whole text per pattern).
    starts = [m.start() for m in gaz.name_start_re.finditer(text)]
    for pattern in (gaz.name_apposition_re, gaz.name_as_re):
        for match in _matches_at(pattern, text, starts):
            if gaz.next_name_re.match(text, match.end()):
                continue  # "A, the Head of X, B, ...": the title is B's
            modifier = (match["mod"] or "").strip()
            posts = reader.apposition_posts(match["chunk"], modifier)
            start = base + match.start("name")
            if not posts:
                body = _OF_A_BODY.match(_ACRONYM_TAIL.sub("", match["chunk"]))
                if body is not None and reader._plain_title(body["title"]):
                    # "X, President of the Party of Y": a person; the body is not known
                    reader.person(match["name"], start, start + len(match["name"]))
                continue
            person = reader.person(match["name"], start, start + len(match["name"]))
            for post in posts:
                if person is not None:
                    reader.add(person, match["name"], post)
    occupations = any(hint in text for hint in OCCUPATION_HINTS)
    for match in gaz.occupation_re.finditer(text) if occupations else ():
        start = base + match.start("name")
        person = reader.person(match["name"], start, start + len(match["name"]))
        state = gaz.state(match["adj"]) if match["adj"] else None
        if person is not None and state is not None:
            reader.add(person, match["name"], _Post(match["role"], state, True, ""))
    for match in [
        *gaz.relative_re.finditer(text),
        *_matches_at(gaz.person_of_state_re, text, starts),
    ]:
        start = base + match.start("name")
        reader.person(match["name"], start, start + len(match["name"]))
    _surname_posts(reader, region)


def _matches_at(pattern: re.Pattern[str], text: str, starts: list[int]) -> list[re.Match[str]]:
    return [m for start in starts if (m := pattern.match(text, start))]


def _title_then_name(reader: _Reader, region: Region, match: re.Match[str]) -> None:
    gaz, text = reader.gaz, region.text
    name = match["name"]
    start = region.start + match.start("name")
    status = "former" if match["former"] and match["former"][0] in "Ff" else ""
    status = "incoming" if match["former"] and match["former"][0] in "Ii" else status
    before = text[max(0, match.start() - 120) : match.start()]
    if not status and before.casefold().endswith(("former ", "ex-")):
        status = "former"
    phrase = match.group(0)[: match.start("name") - match.start()].rstrip(", ")
    phrase = _TITLE_TAIL.sub("", _TITLE_HEAD.sub("", phrase))
    after = gaz.name_of_state_re.match(text, match.end("name"))
    if after is not None and not (match["of"] or match["adj"] or match["poss"]):
        phrase = f"{phrase} of {after['of']}"  # "Minister of Justice X of Kyrgyzstan"
    sentence = text[text.rfind(". ", 0, match.start()) + 1 : _sentence_end(text, match.end())]
    reader.other_states = any(
        gaz.state(m.group(0)) not in (None, reader.context) for m in gaz.state_re.finditer(sentence)
    )
    posts = reader.posts_in(phrase, status)
    reader.other_states = False
    if not (match["of"] or match["adj"] or match["poss"] or match["org"] or match["osce"]) and (
        before.endswith(("its ", "Its "))
    ):  # "the people of Ukraine and its President, X": the post of the last owner named
        owner = _antecedent(reader, text, region.start, match.start())
        if owner is not None and gaz.role_start_re.fullmatch(phrase):
            posts = [_Post(phrase, owner[0], owner[1], status)]
    if not posts and not match["of"] and not (match["adj"] or match["poss"]):
        # "The Moldovan delegation was headed by"
        delegation = _DELEGATION.search(before) if "delegation" in before else None
        state = gaz.state(delegation["who"]) if delegation else None
        if state is not None:
            posts = [_Post(match["role"], state, True, status)]
    if not posts:
        if gaz.role_start_re.match(match["role"]) or re.search(
            r"Minister|Secretary", match["role"]
        ):
            reader.person(name, start, start + len(name))  # a person, post unclear
        return
    person = reader.person(name, start, start + len(name))
    if person is None:
        return
    for post in posts:
        reader.add(person, name, post)
    # "the OSCE Chairperson-in-Office, Austrian Foreign Minister X"
    first = (
        gaz.first_post_re.search(before, max(0, len(before) - 90))
        if before.endswith(", ")
        else None
    )
    if first is not None:
        for post in reader.posts_in(first.group(0).rstrip(", ")):
            reader.add(person, name, post)
    earlier = gaz.who_as_re.match(text, match.end())
    if earlier is not None:  # "X, who as Home Secretary steered ..."
        phrase = earlier["role"] + (f" of the {earlier['of']}" if earlier["of"] else "")
        former = reader.posts_in(phrase, "former")
        states = {p.of for p in posts if p.of_is_state}
        if not former and not earlier["of"] and len(states) == 1:
            former = [_Post(earlier["role"], states.pop(), True, "former")]
        for post in former:
            reader.add(person, name, post)
    later = gaz.take_over_re.match(text, match.end())
    if later is not None:  # "X will take over as Chairperson-in-Office"
        phrase = f"OSCE {later['role']}" if later["osce"] else later["role"]
        for post in reader.posts_in(phrase, "incoming"):
            reader.add(person, name, post)
    if " over the " in before and gaz.handover_re.search(before):  # "hand over ... to X"
        reader.add(person, name, _Post("Chairperson-in-Office", gaz.osce, False, "incoming"))


def _antecedent(reader: _Reader, text: str, base: int, at: int) -> tuple[URIRef, bool] | None:
    """What "its" before a title at ``at`` stands for: the State or OSCE structure named
    last in the same or the previous sentence ("The SMM will monitor it. Its Chief Monitor,
    X, said ..." → the SMM)."""
    gaz = reader.gaz
    sentence = text.rfind(". ", 0, at)
    window = text.rfind(". ", 0, sentence) + 1 if sentence > 0 else 0
    best: tuple[int, URIRef, bool] | None = None
    structures = [
        m
        for m in reader.out.mentions
        if m.kind == "structure" and base + window <= m.start < base + at
    ]
    for m in gaz.state_re.finditer(text, window, at):
        inside = any(s.start <= base + m.start() < s.end for s in structures)
        if m.group(0) in gaz.states and not inside:  # not "Mission to Ukraine"
            best = (m.start(), gaz.states[m.group(0)], True)
    for mention in structures:
        if best is None or mention.start - base > best[0]:
            best = (mention.start - base, mention.entity, False)
    return (best[1], best[2]) if best is not None else None


def _sentence_end(text: str, start: int) -> int:
    end = text.find(". ", start)
    return len(text) if end < 0 else end


def context_state(out: Extraction, gaz: Gazetteer) -> URIRef | None:
    """The State a document is about: the only one its title names (a dateline city such as
    Vienna says where the text was issued, not whom it is about)."""
    title = next((r.text for r in out.document.regions if r.kind == "title"), "")
    named = {s for m in gaz.state_re.finditer(title) if (s := gaz.state(m.group(0)))}
    return named.pop() if len(named) == 1 else None


_TAKES_ARTICLE = re.compile(r"Federation|United|Republic|Holy See|Netherlands|Council|Group|Office")


def _with_article(name: str, state: bool = True) -> str:
    """ "the Russian Federation", "the Minsk Group", "the Organization for ...", but "France",
    "ODIHR"."""
    if name.startswith("the ") or name.isupper():
        return name
    return f"the {name}" if not state or _TAKES_ARTICLE.search(name) else name


def surnames(out: Extraction, spans: Spans) -> None:
    """Later surname-only mentions ("Desir said") belong to the person named in full."""
    full = _full_names(out)
    if not full:
        return
    pattern = bounded("|".join(re.escape(s) for s in sorted(full, key=len, reverse=True)))
    for region in out.document.regions:
        for match in pattern.finditer(region.text):
            start, end = region.start + match.start(), region.start + match.end()
            if spans.free(start, end):
                add_mention(out, spans, full[match.group(0)][0], "person", start, end)


def _full_names(out: Extraction) -> dict[str, tuple[URIRef, str]]:
    """Surname → (person, full name as written), for the persons found so far."""
    full: dict[str, tuple[URIRef, str]] = {}
    for mention in sorted(out.mentions, key=lambda m: m.start):
        if mention.kind == "person" and " " in mention.exact:
            full.setdefault(mention.exact.split()[-1], (mention.entity, mention.exact))
    for post in out.posts.values():
        full.setdefault(post.holder_name.split()[-1], (post.holder, post.holder_name))
    return full


def _surname_posts(reader: _Reader, region: Region) -> None:
    """A surname with an apposition gives a post ("Frattini, a former Italian Foreign
    Minister,"); "Her predecessor, Knut Vollebæk" a former post."""
    full = _full_names(reader.out)
    if not full:
        return
    for match in reader.gaz.word_apposition_re.finditer(region.text):
        if match["name"] not in full or reader.gaz.next_name_re.match(region.text, match.end()):
            continue
        person, name = full[match["name"]]
        modifier = (match["mod"] or "").strip()
        for post in reader.apposition_posts(match["chunk"], modifier):
            reader.add(person, name, post)
    predecessors = list(reader.gaz.predecessor_re.finditer(region.text))
    if not predecessors:
        return
    names = "|".join(re.escape(s) for s in sorted(full, key=len, reverse=True))
    named = re.compile(rf"(?<![\w-])(?:{names})(?![\w-])")
    for match in predecessors:
        before = [m.group(0) for m in named.finditer(region.text, 0, match.start())]
        start = region.start + match.start("name")
        predecessor = reader.person(match["name"], start, start + len(match["name"]))
        if not before or predecessor is None:
            continue
        successor = full[before[-1]][0]  # the person last named before "predecessor"
        current = [
            p
            for p in reader.out.posts.values()
            if p.holder == successor and not p.status and not p.of_is_state
        ]
        if len(current) == 1:
            held = current[0]
            former = _Post(held.role_label, held.of, False, "former")
            reader.add(predecessor, match["name"], former)
