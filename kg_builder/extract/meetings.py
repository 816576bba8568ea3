"""Meetings: negotiation rounds, summits, council meetings, conferences, visits, briefings,
courses and elections — with their type, place (a city, a venue or a State), date or interval
and participants, and the span of text that states them.

The rules work sentence by sentence on the body, once every name of the page is known (the
orchestrator calls ``meeting_of_the_day`` after the names and places pass):

* a *trigger* is a meeting noun ("round", "conference", "summit", "Ministerial Council"), a
  visit ("visited X", "a visit to X", "travelled to X") or a meeting verb ("met", "held talks
  with", "told journalists");
* its *clause* runs from the previous clause break (", and", "; ", ", during which" …) to the
  next one, and never over another trigger; the place and the date are looked for there,
  nearest first (after the trigger rather than before it);
* a meeting needs a place or a date of its own, unless it is a meeting with a named person;
  a definite mention without either ("after the meeting", "The round was co-chaired") refers
  back and adds nothing — except "The N-day conference" (a stated duration) and "The meeting
  was opened on Wednesday" (an opening session of the meeting referred to);
* dates come from ``kg_builder.dates.find_dates`` (relative dates resolved against the
  document date, tense from the sentence); a stated duration with "ended/concluded today"
  makes an interval, a visit that "concluded today" without one is open at the start;
* a meeting in the future (a date after the document date, or "will", "next") is planned.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from datetime import date

from rdflib import URIRef

from kg_builder import places
from kg_builder.dates import (
    DateSpan,
    Interval,
    Point,
    When,
    days_ending,
    days_starting,
    durations,
    find_dates,
    is_future,
)
from kg_builder.extract.model import (
    PLACE_TOKEN,
    Extraction,
    MeetingRef,
    Mention,
    PlaceRef,
    place_ref,
    plausible_place,
)
from kg_builder.gazetteer import Gazetteer
from kg_builder.iris import Iris, slugify
from kg_builder.parse import Region

# Trigger alternatives: group name → the meeting type it denotes.
_TRIGGER_TYPES = {
    "press": "press conference",
    "briefing": "press briefing",
    "mc": "Ministerial Council meeting",
    "pc": "Permanent Council meeting",
    "summit": "summit",
    "session": "session",
    "conference": "conference",
    "forum": "forum",
    "round": "negotiation round",
    "talks": "talks",
    "consult": "consultations",
    "conversation": "informal meeting",
    "gathering": "high-level meeting",
    "meeting": "meeting",
    "course": "training course",
    "election": "election",
    "visit": "visit",
    "travel": "visit",
    "met": "bilateral meeting",
    "received": "bilateral meeting",
}
_TRIGGER = re.compile(
    r"(?<![\w-])(?=\w)(?:"  # only at the start of a word: most positions fail here
    + "|".join(
        [
            r"(?P<press>\b(?:joint |closing |final )?(?:press|news|media) conferences?\b)",
            r"(?P<briefing>\b(?:press|media) briefings?\b|"
            r"\b(?:told|briefed|informed) (?:journalists|reporters|the press|the media)\b)",
            r"(?P<mc>\bMinisterial Council(?: meeting)?\b(?! [Dd]ecision))",
            r"(?P<pc>\bPermanent Council(?: meeting)?\b(?! [Dd]ecision))",
            r"(?P<summit>\b(?:(?P<summit_city>[A-Z][\w'’-]+) )?[Ss]ummits?\b)",
            r"(?P<session>\b(?:information|opening|closing|plenary|special|working|"
            r"high-level|training) sessions?\b)",
            r"(?P<conference>\b[Cc]onferences?\b)",
            r"(?P<forum>\b[Ff]orums?\b)",
            r"(?P<round>\b(?:\d+(?:st|nd|rd|th)|next|new|first|last|latest|previous|final|"
            r"current|this|that|the) (?:[Ff]ormal |[Ii]nformal )?rounds?\b"
            r"(?: of (?:talks|negotiations|consultations)\b)?|\brounds? of\b)",
            r"(?P<talks>\btalks\b)",
            r"(?P<consult>\bconsultations\b)",
            r"(?P<conversation>\bconversations?\b)",
            r"(?P<gathering>\bgatherings?\b)",
            r"(?P<meeting>\b[Mm]eetings?\b(?! (?:the|its|their|our|his|her|all|these|those)\b))",
            r"(?P<course>\b(?:training )?(?:courses?|seminars?|workshops?)\b|"
            r"\btraining (?:events?|programmes?)\b)",
            r"(?P<election>\belections\b|\belection\b(?! (?:observ|day|official|commission|"
            r"campaign|monitor|law|code|process|administration|mission|result|cycle)))",
            r"(?P<visit>\b(?:official |working |field |study |state |five-day |two-day )?"
            r"visits?\b|\bvisited\b|\bvisiting\b)",
            r"(?P<travel>\b(?:travelled|traveled|travels|travel|went) to\b)",
            r"(?P<met>\bmet\b|\bheld talks with\b|\bmet with\b)",
            r"(?P<received>\b(?:was|were) received by\b)",
        ]
    )
    + ")"
)
# A piece of every trigger of ``_TRIGGER`` (literals only: scanned much faster): a sentence
# without any has no trigger. Keep in step with ``_TRIGGER``.
_TRIGGER_HINT = re.compile(
    r"ummit|onferen|orum|ound|alks|onsult|onversation|athering|eeting|ourse|eminar|orkshop"
    r"|raining|lection|isit|ravel|went to|met|eceived by|ress|media|news|riefing|told|riefed"
    r"|nformed|Council|ession"
)
# Where a clause ends: a place or date on the far side belongs to another statement.
_BREAK = re.compile(
    r", and |; |, during which|, where |, while |, whereas |, which |, who | – | - |\band issued\b|"
    r"\band adopted\b|\bsaid\b|\bsays\b|\btold\b(?! (?:journalists|reporters|the press|the media))"
)
_PLACE = re.compile(rf"\b(?P<prep>[Ii]n|[Aa]t|to) (?:the )?(?P<name>{PLACE_TOKEN})")
_LIST_MORE = re.compile(rf"(?:,? and (?:to |in )?|, (?:to |in )?)(?:the )?(?P<name>{PLACE_TOKEN})")
_DIRECT = re.compile(rf" (?:the )?(?P<name>{PLACE_TOKEN})")
_COUNCIL_PLACE = re.compile(
    r"(?: (?:will take place|took place|was held|will be held|is held|is to be held|met|meets|"
    r"convened|opened|closed|concluded|ended))? (?:in|at) (?:the )?"
    rf"(?P<name>{PLACE_TOKEN})"
)
_COUNCIL_EVENT = re.compile(
    r" (?:will take place|took place|was held|will be held|is held|is to be held|met|meets|"
    r"convened|opened|closed|concluded|ended|began|started)\b"
)
_ORDINAL_BEFORE = re.compile(
    r"(?:\d+(?:st|nd|rd|th)|next|last|previous|forthcoming|upcoming|special|annual)"
    r"(?: OSCE| CSCE)? $"
)
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])[\"”’]?\s+(?=[\"“‘(]?[A-Z])|\n")
_ABBREVIATION = re.compile(r"(?:\b(?:No|Nos|Mr|Ms|Mrs|Dr|St|Art|para|Prof|Amb|Gen|Col)|\b[A-Z])\.$")
_END_VERB = re.compile(r"\b(?:ended|concluded|completed|closed|wrapped up|finished)\b")
_START_VERB = re.compile(
    r"\b(?:opened|opening|began|begins|started|starts|continues|continue|will continue)\b"
)
_OWN_DETERMINER = re.compile(r"\d|next |new |first |last |latest |previous |final ")
_ANAPHOR = re.compile(
    r"(?:^|\b)(?:[Tt]he|[Tt]his|[Tt]hat|[Ii]ts|[Tt]heir|[Hh]is|[Hh]er|[Tt]his year's|"
    r"[Tt]his week's|[Tt]oday's)(?: (?P<dur>[\w-]+-day|[\w-]+-week))? $"
)
# "Conference on Security and Co-operation in Europe", "Forum for Security Co-operation": names
_ORG_NAME = re.compile(r" (?:on|for) [A-Z]")


def _org_name(text: str, trig: re.Match[str]) -> bool:
    return trig.group(0)[0].isupper() and _ORG_NAME.match(text, trig.end()) is not None


# An event that did not happen: "elections could not be held in 2012".
_NEGATED = re.compile(
    r"^ (?:could|can|did|was|were|will|would|has|have|had)(?: not|n['’]t)(?: yet)?"
    r" (?:be |been )?(?:held|take place|took place|happen|go ahead|convene)\b"
    r"|^ (?:cannot|can not) (?:be held|take place)\b"
)
_PERIOD_WORD = re.compile(r"[Tt]his (?:year|week|month)$")
_AFTER_REFERENT = re.compile(
    r"\b[Aa]fter the (?:\w+ )?(?:meeting|session|talks|round|conference|summit|visit)\b"
)
_NTH_DAY = re.compile(
    r"\b(?:[Oo]n )?the (?P<nth>first|second|third|fourth|fifth|sixth|seventh|last) day of the "
    r"(?:\w+ )?(?:course|visit|conference|forum|meeting|training|seminar|workshop|session)\b"
)
_NTH = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7}
_PLURAL = re.compile(r"(?:s|meetings|talks|consultations)$")
_WORDS_NOT_PLACES = frozenset(
    {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "Working"}
)
# Free-text meeting types → the site's scheme of meetings and conferences (menu items).
SITE_TYPE = {
    "summit": "summit meetings",
    "Ministerial Council meeting": "ministerial council meetings",
    "Permanent Council meeting": "plenary meetings of the permanent council",
    "Forum for Security Co-operation meeting": "plenary meetings of the forum for security "
    "co-operation",
}
_VERB_GROUPS = frozenset({"met", "received", "travel", "briefing"})
_TAKES_PART = re.compile(
    r"\b(?:hosted|held|hold|holds|attended|attend|concluded|completed|co-chaired|chaired|"
    r"opened|took part|take part|participated|gathered|organized|organised|visited|met|"
    r"presented|addressed|began|started|ended|convened)\b"
)
_KNOWN_KINDS = ("person", "state", "organization", "structure")


@dataclass
class _Found:
    kind: str
    group: str
    start: int  # absolute span of the whole statement (trigger, place, date)
    end: int
    place: URIRef | None
    place_name: str | None
    when: When | None
    planned: bool
    participants: list[URIRef] = field(default_factory=list)
    label_who: list[URIRef] = field(default_factory=list)


class _Page:
    """What the rules need to know about the page: claimed spans and who is named where."""

    def __init__(self, out: Extraction) -> None:
        named = sorted(
            (m.start, m.end, m.entity, m.kind) for m in out.mentions if m.kind in _KNOWN_KINDS
        )
        self.starts = [m[0] for m in named]
        self.named = named
        self.claimed = sorted(
            (m.start, m.end)
            for m in out.mentions
            if m.kind in ("structure", "organization", "person")
        )
        self.claimed_starts = [c[0] for c in self.claimed]
        self.place_names = {p.name: p for p in out.places.values()}
        self.unlisted: dict[URIRef, PlaceRef] = {}  # cities that only name a meeting

    def within(self, start: int, end: int) -> list[tuple[int, int, URIRef, str]]:
        i = bisect.bisect_left(self.starts, start)
        j = bisect.bisect_left(self.starts, end)
        return [m for m in self.named[i:j] if m[1] <= end]

    def is_claimed(self, start: int, end: int) -> bool:
        """Does the span lie inside the name of a structure, organisation or person?"""
        i = bisect.bisect_right(self.claimed_starts, start)
        return i > 0 and self.claimed[i - 1][1] >= end


def meeting_of_the_day(out: Extraction, gaz: Gazetteer, iris: Iris) -> None:
    """Find the page's meetings (see the module docstring)."""
    doc = out.document
    page = _Page(out)
    found: list[_Found] = []
    for region in doc.regions:
        if region.kind != "body":
            continue
        sentences = _sentences(region.text)
        lead_start = _lead_start(
            sentences, region, doc.dateline.end if doc.dateline else region.start
        )
        for s_start, s_end in sentences:
            _sentence(out, gaz, iris, page, region, s_start, s_end, s_start <= lead_start, found)
    for item in found:
        _record(out, gaz, iris, item, page.unlisted.get(item.place) if item.place else None)


def _lead_start(sentences: list[tuple[int, int]], region: Region, dateline_end: int) -> int:
    """Offset (in the region) of the end of the first sentence after the dateline."""
    rel = max(0, dateline_end - region.start)
    for start, end in sentences:
        if end > rel:
            return start
    return 0


def _sentences(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for brk in _SENTENCE_BREAK.finditer(text):
        if brk.group(0) != "\n" and _ABBREVIATION.search(
            text, max(0, brk.start() - 6), brk.start()
        ):
            continue
        spans.append((start, brk.start()))
        start = brk.end()
    spans.append((start, len(text)))
    return [s for s in spans if s[1] > s[0]]


def _sentence(
    out: Extraction,
    gaz: Gazetteer,
    iris: Iris,
    page: _Page,
    region: Region,
    s_start: int,
    s_end: int,
    lead: bool,
    found: list[_Found],
) -> None:
    text = region.text[s_start:s_end]
    if _TRIGGER_HINT.search(text) is None:
        return  # no trigger word in the sentence (a cheap literal scan)
    base = region.start + s_start  # absolute offset of the sentence
    ref = out.doc_date
    triggers = [
        t
        for t in _TRIGGER.finditer(text)
        if t.lastgroup in ("mc", "pc")
        or not (page.is_claimed(base + t.start(), base + t.end()) or _org_name(text, t))
    ]
    if not triggers:
        return
    dates = [
        d
        for d in find_dates(text, ref)
        if not _since(text, d.start)
        and not (_PERIOD_WORD.match(d.text) and text.startswith("'s", d.end))
    ]
    breaks = [b.start() for b in _BREAK.finditer(text)]
    for n, trig in enumerate(triggers):
        group = trig.lastgroup or ""
        lo = max([0, *(b for b in breaks if b < trig.start())])
        if n > 0:
            lo = max(lo, triggers[n - 1].end())
        hi = min([len(text), *(b for b in breaks if b >= trig.end())])
        if n + 1 < len(triggers):
            hi = min(hi, triggers[n + 1].start())
        item = _one(
            out, gaz, iris, page, text, base, trig, group, (lo, hi), dates, breaks, lead, found
        )
        if item is not None:
            found.append(item)


def _since(text: str, start: int) -> bool:
    return text[max(0, start - 6) : start].strip().lower() == "since"


def _one(
    out: Extraction,
    gaz: Gazetteer,
    iris: Iris,
    page: _Page,
    text: str,
    base: int,
    trig: re.Match[str],
    group: str,
    window: tuple[int, int],
    dates: list[DateSpan],
    breaks: list[int],
    lead: bool,
    found: list[_Found],
) -> _Found | None:
    ref = out.doc_date
    lo, hi = window
    kind = _TRIGGER_TYPES[group]
    before, after = text[lo : trig.start()], text[trig.end() : hi]
    if _NEGATED.match(after):
        return None  # "elections could not be held": no event
    clause = text[lo:hi]
    after_referent = _AFTER_REFERENT.search(text)
    if after_referent and after_referent.start() <= trig.start() < after_referent.end():
        return None  # "After the Council meeting, …" names an earlier meeting
    if group == "met" and not any(
        m[3] == "person" for m in page.within(base + trig.end(), base + hi)
    ):
        kind = "meeting"  # "The Contact Group met in Minsk"; "met the Prime Minister" is bilateral
    elif group == "meeting" and "Forum for Security Co-operation" in text:
        kind = "Forum for Security Co-operation meeting"
    elif group == "session":
        kind = trig.group(0).lower().removesuffix("s")  # "information session"
    elif group == "visit" and "field" in trig.group(0):
        kind = "field visit"
    targets = _places(out, gaz, iris, page, text, base, trig, group, lo, hi)
    own_dates = [d for d in dates if lo <= d.start and d.end <= hi and _applies(text, d, trig, lo)]
    when_span = _nearest(own_dates, trig.start(), trig.end())
    when: When | None = when_span.value if when_span else None
    anaphor = _ANAPHOR.search(text, max(0, trig.start() - 40), trig.start())
    if (
        anaphor is not None
        and group not in ("met", "travel", "received", "briefing")
        and not (group == "summit" and trig["summit_city"])
        and not _OWN_DETERMINER.match(trig.group(0))
        and not any(t[2] >= trig.end() for t in targets)
    ):
        referent = _referent(found, group)
        return _anaphora(text, trig, anaphor, when, referent, base)
    nth = _NTH_DAY.search(text, 0, trig.start())
    if nth is not None and not any(nth.end() <= b < trig.start() for b in breaks):
        dated = [f for f in found if isinstance(f.when, Interval) and f.when.start]
        start = dated[-1].when.start if dated else None  # type: ignore[union-attr]
        if start is not None and start.day is not None:
            day = start.first_day().toordinal() + _NTH[nth["nth"]] - 1
            when = Point.of(date.fromordinal(day))
    if when is None and after_referent is not None:
        days = [f.when for f in found if isinstance(f.when, Point) and f.when.day is not None]
        if days:
            when = days[-1]  # "After the Council meeting, … held a press conference"
    # stated durations and "concluded today"
    if ref is not None and isinstance(when, Point) and when.day is not None:
        day = when.first_day()
        stated = [d for d in durations(text) if lo - 30 <= d[1] and d[2] <= hi + 40]
        if day == ref and stated and _END_VERB.search(text):
            when = days_ending(day, stated[0][0])
        elif stated and _START_VERB.search(clause) and day >= ref:
            when = days_starting(day, stated[0][0])
        elif kind == "visit" and day == ref and _END_VERB.search(clause):
            when = Interval(None, Point.of(day))
    # the lead sentence's meeting "today" is at the dateline
    if not targets and lead and when and ref and out.place and _ends_on(when, ref):
        targets = [(out.place.iri, out.place.name, -1, -1)]
    if not targets and when is not None:
        targets = [(None, None, -1, -1)]  # a dated meeting whose place the text does not say
    people = page.within(base + lo, base + hi)
    if not targets and when is None:
        objects = [m[2] for m in page.within(base + trig.end(), base + hi) if m[3] == "person"]
        if group in ("met", "received", "talks") and objects:
            targets = [(None, None, -1, -1)]
        else:
            return None  # no place, no date: nothing to state
    plural = bool(_PLURAL.search(trig.group(0))) and group not in ("talks", "consult", "met")
    if plural and not any(t[0] for t in targets):
        return None  # "visits to air bases", "several sessions": no one event
    council_event = _COUNCIL_EVENT.match(text, trig.end()) or _ORDINAL_BEFORE.search(before)
    if group in ("mc", "pc") and not any(t[0] for t in targets) and not council_event:
        return None  # "adopted by the Permanent Council in July 2003" is no meeting
    future = is_future(before + trig.group(0) + after) or before.rstrip().endswith("next")
    planned = future if when is None or ref is None else _planned(when, ref, future)
    label_who: list[URIRef] = []
    between = re.search(r"\b(?:between|of) ", after)
    if between:
        start = base + trig.end() + between.end()
        label_who = [m[2] for m in page.within(start, base + hi) if m[3] == "state"]
    # who is named before the trigger takes part only if a verb says so ("Thors concluded a
    # visit", "the Co-Chairs hosted a meeting"; not "the FSC, established at the Summit")
    subject_takes_part = (
        group in _VERB_GROUPS
        or trig.group(0) in ("visited", "visiting")
        or before.endswith(("will ", "to "))
        or _TAKES_PART.search(before) is not None
    )
    result = None
    for target, name, t_start, t_end in targets:
        participants = [
            m[2]
            for m in people
            if m[2] != target
            and m[0] >= (base + trig.end() if not subject_takes_part else 0)
            and not (m[0] < base + trig.end() and base + trig.start() < m[1])
        ]
        ends = [trig.start(), trig.end()]
        if t_start >= 0:
            ends += [t_start, t_end]
        if when_span is not None and (len(targets) == 1 or when_span.end <= t_start):
            ends += [when_span.start, when_span.end]  # one span per meeting of a list
        item = _Found(
            kind=kind,
            group=group,
            start=base + min(ends),
            end=base + max(ends),
            place=target,
            place_name=name,
            when=when,
            planned=planned,
            participants=list(dict.fromkeys(participants)),
            label_who=list(dict.fromkeys(label_who)),
        )
        if result is not None:
            found.append(result)
        result = item
    return result


def _applies(text: str, d: DateSpan, trig: re.Match[str], lo: int) -> bool:
    """Can the date be the meeting's? One before the trigger must be near it or open the
    clause ("On Thursday, the Heads of Delegation … met"); "of 1994" belongs to the noun
    before it unless that noun is the trigger ("the meeting of 12 May")."""
    if d.start >= trig.end():
        gap = d.start - trig.end()
    else:
        gap = trig.start() - d.end
        if gap > 60 and d.start - lo > 4:
            return False
    of = d.text.startswith("of ") or text[max(0, d.start - 3) : d.start] == "of "
    return not of or (d.start >= trig.end() and gap <= 4)


def _planned(when: When, ref: date, future: bool) -> bool:
    first = when.first_day() if isinstance(when, Point) else _first(when)
    last = when.last_day() if isinstance(when, Point) else _last(when)
    if first is not None and first > ref:
        return True
    return future and last is not None and last >= ref


def _referent(found: list[_Found], group: str) -> _Found | None:
    same = [f for f in found if f.group == group]
    if same:
        return same[-1]
    return found[-1] if found else None


def _first(when: Interval) -> date | None:
    return when.start.first_day() if when.start is not None else None


def _last(when: Interval) -> date | None:
    return when.end.last_day() if when.end is not None else None


def _ends_on(when: When, ref: date) -> bool:
    if isinstance(when, Point):
        return when.day is not None and when.first_day() == ref
    return when.end is not None and when.end.day is not None and when.end.first_day() == ref


def _nearest(dates: list[DateSpan], start: int, end: int) -> DateSpan | None:
    """The date nearest the trigger; one after it is preferred by 20 characters."""
    best, best_cost = None, 10**9
    for d in dates:
        cost = d.start - end if d.start >= end else start - d.end + 20
        if cost < best_cost:
            best, best_cost = d, cost
    return best


def _anaphora(
    text: str,
    trig: re.Match[str],
    anaphor: re.Match[str],
    when: When | None,
    referent: _Found | None,
    base: int,
) -> _Found | None:
    """ "The two-day conference, which continues tomorrow" dates the conference referred to;
    "The meeting was opened on Wednesday by …" is that meeting's opening session."""
    if referent is None:
        return None
    rwhen = referent.when
    days = [d[0] for d in durations(anaphor.group(0) + trig.group(0))]
    if days and isinstance(rwhen, Point) and rwhen.day is not None:
        day = rwhen.first_day()
        if _START_VERB.search(text) or "tomorrow" in text:
            referent.when = days_starting(day, days[0])
        else:
            referent.when = days_ending(day, days[0])
        return None
    opened = re.match(r" (?:was|were) (?P<verb>opened|closed)\b", text[trig.end() :])
    if opened and isinstance(when, Point) and when.day is not None and rwhen is not None:
        return _Found(
            kind="opening session" if opened["verb"] == "opened" else "closing session",
            group="session",
            start=base + trig.start(),
            end=base + trig.end() + opened.end(),
            place=referent.place,
            place_name=referent.place_name,
            when=when,
            planned=False,
        )
    return None


def _places(
    out: Extraction,
    gaz: Gazetteer,
    iris: Iris,
    page: _Page,
    text: str,
    base: int,
    trig: re.Match[str],
    group: str,
    lo: int,
    hi: int,
) -> list[tuple[URIRef | None, str | None, int, int]]:
    """The places of the meeting: ``(entity, name, start, end)`` with spans in the sentence."""

    def entity(name: str, start: int) -> URIRef | None:
        return _place_entity(out, gaz, iris, page, name, base + start)

    if group == "summit" and trig["summit_city"]:
        city = trig["summit_city"]
        found = _place_entity(out, gaz, iris, page, city, base + trig.start(), listed=False)
        if found is not None:
            return [(found, city, trig.start(), trig.start() + len(city))]
    if group in ("mc", "pc"):
        match = _COUNCIL_PLACE.match(text, trig.end())
        if match is None:
            return []
        found = entity(match["name"], match.start("name"))
        return [(found, match["name"], match.start("name"), match.end("name"))] if found else []
    going = group in ("visit", "travel")
    candidates: list[tuple[str, int]] = []
    if going:  # "visited Georgia", "will visit Armenia and Azerbaijan", "travelled to Osh"
        direct = _DIRECT.match(text, trig.end(), hi)
        if direct:
            candidates.append((direct["name"], direct.start("name")))
    for match in _PLACE.finditer(text, trig.end(), hi):
        if not going or match["prep"] == "to":
            candidates.append((match["name"], match.start("name")))
    result: list[tuple[URIRef | None, str | None, int, int]] = []
    for name, start in candidates:
        found = entity(name, start)
        if found is None:
            continue
        result.append((found, name, start, start + len(name)))
        pos = start + len(name)  # a list: "at Sochi, Newport, and Paris", "to Ukraine and Moldova"
        while True:
            more = _LIST_MORE.match(text, pos)  # a list may run over a clause break
            if more is None:
                break
            nxt = entity(more["name"], more.start("name"))
            if nxt is None:
                break
            result.append((nxt, more["name"], more.start("name"), more.end("name")))
            pos = more.end("name")
        if not going:
            return result  # the first place after the trigger, and its list
    if result or going:
        return list({r[0]: r for r in result}.values())
    # the nearest place before the trigger, in the same clause ("In Tbilisi, Thors met")
    for match in reversed(list(_PLACE.finditer(text, lo, trig.start()))):
        if match["prep"] == "to":
            continue
        found = entity(match["name"], match.start("name"))
        if found is not None:
            return [(found, match["name"], match.start("name"), match.end("name"))]
    return []


def _place_entity(
    out: Extraction,
    gaz: Gazetteer,
    iris: Iris,
    page: _Page,
    name: str,
    start: int,
    listed: bool = True,
) -> URIRef | None:
    """A State (for a country-wide event) or a place the page or GeoNames knows. A city
    that only names a meeting ("the Helsinki Summit") is the meeting's place but not a place
    mention of the page (``listed=False``)."""
    if name in _WORDS_NOT_PLACES or page.is_claimed(start, start + len(name)):
        return None
    state = gaz.states.get(name)
    if state is not None:
        return state
    known = page.place_names.get(name)
    if known is not None:
        return known.iri
    if not plausible_place(name, gaz) or not places.is_known(name):
        return None
    was_listed = {p.iri for p in out.places.values()}
    ref = place_ref(out, gaz, iris, name, None)
    if not listed:
        if ref.iri not in was_listed:
            del out.places[ref.iri]
            page.unlisted[ref.iri] = ref
        return ref.iri
    page.place_names[name] = ref
    text = out.document.text
    if text[start : start + len(name)] == name and not any(
        m.start < start + len(name) and start < m.end for m in out.mentions if m.kind == "place"
    ):
        out.mentions.append(Mention(ref.iri, "place", start, start + len(name), name))
    return ref.iri


def _record(
    out: Extraction, gaz: Gazetteer, iris: Iris, item: _Found, venue: PlaceRef | None
) -> None:
    when = item.when
    same_key = [
        m for m in out.meetings.values() if m.place == item.place and str(m.when) == str(when)
    ]
    if same_key:  # "The 27th Ministerial Council … after two days of meetings": one meeting
        old = same_key[0]
        merged = tuple(dict.fromkeys([*old.participants, *item.participants]))
        out.meetings[old.iri] = MeetingRef(
            old.iri, old.label, old.place, old.when, merged, old.meeting_type, old.kind, old.planned
        )
        return
    if when is None and any(m.place == item.place for m in out.meetings.values() if m.place):
        return  # "the last summit in Paris" is the Paris meeting already recorded
    place_name = item.place_name
    who = " and ".join(gaz.label(p) for p in item.label_who)
    kind = item.kind + (" (planned)" if item.planned else "")
    parts = [str(when) if when else out.document.doc_id, place_name or ""]
    parts += [] if item.kind == "meeting" else [item.kind]
    key = "-".join([*parts, *(slugify(gaz.label(p)) for p in item.label_who)])
    label = (
        f"{item.kind[0].upper()}{item.kind[1:]}"
        f"{' of ' + who if who else ''}"
        f"{(' to ' if 'visit' in item.kind else ' in ') + place_name if place_name else ''}"
        f"{', ' + str(when) if when else ''}"
    )
    iri = iris.meeting(key)
    meeting = MeetingRef(
        iri,
        label,
        item.place,
        when,
        tuple(item.participants),
        gaz.meeting_types.get(SITE_TYPE.get(item.kind, "")),
        kind,
        item.planned,
        venue,
    )
    out.meetings[iri] = meeting
    text = out.document.text
    out.mentions.append(Mention(iri, "meeting", item.start, item.end, text[item.start : item.end]))
