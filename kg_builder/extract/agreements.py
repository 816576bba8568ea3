"""Agreements, decisions and documents referred to: proper names ("Permanent Council Decision
No. 1117", "Vienna Document 2011", "Hague Recommendations regarding the Education Rights of
National Minorities", "the 1990 Copenhagen Document", "the Minsk agreements") and descriptive
mentions ("the six-point agreement of 12 August 2008", "the 1994 ceasefire", "adopted decisions
on X, on Y and on Z", the "package of eight"), each with its adoption or signature date when
the text states it.

The whole document is read once before its regions are claimed, so that a short mention ("the
Action Plan") is the same entity as the one full name it abbreviates ("the OSCE Action Plan to
Combat Trafficking in Human Beings"), and one that abbreviates several ("the Vienna Document"
next to "Vienna Document 2011" and "Vienna Document 1999") is left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date

from rdflib import Literal, URIRef

from kg_builder import places
from kg_builder.dates import day_month, partial_date
from kg_builder.extract.model import MONTH_NUMBER, AgreementRef, Extraction, Spans, add_mention
from kg_builder.gazetteer import UP
from kg_builder.iris import Iris
from kg_builder.namespaces import OSCE
from kg_builder.parse import MONTHS, Document, Region

YEAR = r"(?:19|20)\d{2}(?!\d)"
DATE = rf"(?:\d{{1,2}} (?:{MONTHS})(?: {YEAR})?|(?:{MONTHS}) {YEAR}|{YEAR})"
CAP = rf"{UP}[\w'’-]*"
# Head words of proper names ("Helsinki Final Act", "Ljubljana Guidelines on …").
HEADS = (
    "Final Act|Act|Agenda|Action Plan|Plan of Action|Plan|Addendum|Agreements|Agreement|"
    "Arrangement|Charter|Concept|Convention|Declaration|Decisions|Decision|Document|"
    "Guidelines|Memorandum of Understanding|Memorandum|Protocol|Recommendations|Resolution|"
    "Statement|Strategy|Treaty|Accords|Accord|Code of Conduct|Principles"
)
# Words between a qualifier's capitalised words; "and the" opens a second name instead.
LINK = r"(?:the|a|an|of|in|on|for|against|with|between|to|and(?! the | a | an ))"
# A qualifier's words are not a date ("Berlin Protocol of June 2016").
QCAP = rf"(?!(?:{MONTHS})(?![\w'’-])){CAP}"
QUALIFIER = (
    rf"(?: (?:on|for|regarding|to|against|concerning|of|between) (?:{LINK} )*{QCAP}"
    rf"(?: (?:{LINK} )*{QCAP})*)"
)
# Words that open a sentence or a noun phrase, never a name.
GENERIC = frozenset(
    [
        "The",
        "This",
        "That",
        "These",
        "Those",
        "Its",
        "Our",
        "Their",
        "His",
        "Her",
        "A",
        "An",
        "New",
        "Draft",
        "Final",
        "Joint",
        "Such",
        "Any",
        "Each",
        "Both",
        "Under",
        "In",
        "On",
        "At",
        "By",
        "For",
        "With",
        "As",
        "Since",
        "After",
        "Before",
        "From",
        "To",
        "And",
        "Or",
        "Also",
        "Press",
        "Closing",
        "Opening",
        "Introductory",
        "Concluding",
        "Keynote",
        "Welcome",
        "Written",
        "Oral",
        "Public",
        "Official",
    ]
)
ACRONYMS = frozenset({"OSCE", "CSCE", "EU", "UN", "NATO", "PC", "MC", "FSC"})
LOWER_HEADS = "agreements|agreement|accords|accord|protocol|memorandum|statement|declaration"
DESCRIPTIVE_HEADS = (
    "agreements|agreement|arrangements|arrangement|measures|protocol|memorandum|accords|accord|"
    "ceasefire|declaration|statement|decisions|decision|resolution|treaty"
)
NUMBER_WORDS = "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\\d+"

_NUMBERED = re.compile(
    r"(?P<name>(?:(?:Permanent Council|Ministerial Council|Forum for Security Co-operation|FSC|"
    r"PC|MC) )?(?P<head>Decision) No\. ?\d+(?:/\d+)?)"
    rf"(?: of (?P<date>{DATE}))?"
)
_NAMED = re.compile(
    rf"(?<![\w'’-])(?P<name>(?:(?P<year>{YEAR}) )?(?P<prefix>(?:{CAP} ){{0,5}})"
    rf"(?P<head>{HEADS})(?P<tail> {YEAR}| No\. ?\d+(?:/\d+)?| \d{{3,4}}(?!\d)|{QUALIFIER})?)"
    rf"(?! {UP})(?![\w'’-])"
    rf"(?: of (?P<date>{DATE})|,? (?:adopted|signed|concluded)(?: [^,.;]{{0,60}}?)? (?:in|on) "
    rf"(?P<date2>{DATE}))?"
)
_AFTER_CITY = re.compile(
    rf"(?<![\w'’-])(?P<name>(?P<city>{UP}[\w'’-]+) (?P<head>{LOWER_HEADS}))(?![\w'’-])"
    rf"(?: of (?P<date>{DATE}))?"
)
_DESCRIPTIVE = re.compile(
    rf"the (?P<name>(?:(?:[a-z][\w-]*|\d+-point) ){{0,2}}(?P<head>{DESCRIPTIVE_HEADS})"
    rf" of (?P<date>{DATE}))(?![\w-])"
)
_YEAR_FIRST = re.compile(
    rf"the (?P<name>(?P<date>{YEAR}) (?P<head>ceasefire|ceasefire agreement|"
    rf"agreements|agreement|accords|protocol|memorandum|treaty))(?![\w-])"
)
_PACKAGE = re.compile(
    rf"(?<![\w-])(?P<name>(?P<head>[Pp]ackage) of (?:{NUMBER_WORDS}|[Mm]easures{QUALIFIER}?))"
    rf"(?![\w-])"
)
# Cheap tests that let a region skip the costlier patterns (extraction must stay fast).
HEAD_HINTS = tuple(h.split()[0] for h in HEADS.split("|"))
LOWER_HINTS = tuple(LOWER_HEADS.split("|"))
_COORDINATED = re.compile(rf" and (?:the )?(?:{YEAR} )?(?:{CAP} )*(?:{HEADS})(?![\w'’-])")
# Heads that open a name of their own ("Charter of Paris for a New Europe").
OPENING_HEADS = frozenset(
    [
        "Charter",
        "Code of Conduct",
        "Convention",
        "Treaty",
        "Memorandum of Understanding",
        "Protocol",
        "Decision",
        "Declaration",
        "Guidelines",
        "Recommendations",
        "Principles",
        "Agreement",
        "Action Plan",
        "Plan of Action",
    ]
)
_ADOPTED = re.compile(
    r"\b(?:adopted|approved|took|passed|agreed on) (?:a |the |two |three |four |five |six |"
    r"several |new )?(?P<head>decisions?) (?P<items>on [^.;:]+)"
)
# Lower-case documents named by their subject, where the text says they were signed or
# adopted: "the framework decision on X signed by", "signed an agreement on X."
_SUBJECT_HEAD = r"(?:framework )?(?:decision|declaration|agreement|memorandum|resolution)"
_SUBJECT = r"on (?:the |a |an )?[\w-]+(?: [\w'’-]+){0,9}?"
_ON_SUBJECT = re.compile(
    rf"\b(?:the|a|an) (?P<name>{_SUBJECT_HEAD} {_SUBJECT})"
    r"(?= (?:was |were |is |had been |has been )?(?:signed|adopted|approved|concluded)\b)"
    rf"|\b(?:signed|adopted|approved|concluded|reached) (?:a|an|the) (?P<name2>{_SUBJECT_HEAD}"
    rf" {_SUBJECT})(?=[,.;:]| (?:in|on) \d| at )"
)
# A court case: "Baralija v. Bosnia and Herzegovina", "Smith v. United Kingdom".
_CASE = re.compile(
    rf"(?<![\w'’-])(?P<name>{UP}[\w'’-]+(?: (?:and )?{UP}[\w'’-]+)? v\. (?:the )?{UP}[\w'’-]+"
    rf"(?: (?:and )?{UP}[\w'’-]+){{0,3}})"
)
_FULL_DATE = re.compile(rf"\d{{1,2}} (?:{MONTHS}) {YEAR}")
_ITEM_SPLIT = re.compile(r"(?:, and |, | and )(?=on )")
# Where a decision's subject ends: "on combating violence against women at its meeting".
_ITEM_END = re.compile(
    r",? (?:at|during|in|by|which|that|when|after|before)(?= (?:its|the|their|a|this)\b)"
    r"|, which|, that"
)


@dataclass(frozen=True)
class Candidate:
    start: int  # in the document text
    end: int
    free_from: int  # the part that must not be claimed yet (a structure may open the name)
    label: str
    when: Literal | None
    kind: URIRef
    bare: bool  # a name without year, qualifier or date, that may abbreviate a longer one


# The plans of the documents being extracted, by document (safe across threads).
_plans: dict[int, tuple[Document, list[Candidate]]] = {}


def agreements(out: Extraction, region: Region, iris: Iris, spans: Spans) -> None:
    for cand in _plan(out.document, out.document.date):
        if not region.start <= cand.start < region.start + len(region.text):
            continue
        if not spans.free(cand.free_from, cand.end):
            continue
        if not cand.label:  # an abbreviation of several documents: claimed, not mentioned
            spans.take(cand.start, cand.end)
            continue
        key = cand.label  # a numbered decision is that number, whatever date a text gives
        if cand.when is not None and str(cand.when)[:4] not in cand.label and " No." not in key:
            key = f"{cand.label} {cand.when}"
        iri = iris.agreement(key)
        known = out.agreements.get(iri)
        if known is None or (known.when is None and cand.when is not None):
            out.agreements[iri] = AgreementRef(iri, cand.label, cand.when, cand.kind)
        add_mention(out, spans, iri, "agreement", cand.start, cand.end)


def _plan(doc: Document, today: date | None) -> list[Candidate]:
    """All candidates of the document, abbreviations resolved (computed once per document)."""
    cached = _plans.get(id(doc))
    if cached is not None and cached[0] is doc:
        return cached[1]
    found: list[Candidate] = []
    for region in doc.regions:
        found += _candidates(region, today)
    plan = _resolve_abbreviations(found)
    if len(_plans) > 8:  # a few documents at a time (threads); the plan is cheap to redo
        _plans.clear()
    _plans[id(doc)] = (doc, plan)
    return plan


def _candidates(region: Region, today: date | None) -> list[Candidate]:
    text, base = region.text, region.start
    found: list[Candidate] = []
    taken: list[tuple[int, int]] = []

    def add(
        start: int, end: int, label: str, when: Literal | None, head: str, **kw: object
    ) -> None:
        if any(s < end and start < e for s, e in taken):
            return
        taken.append((start, end))
        free_from = base + int(kw.get("free_from", start))  # type: ignore[call-overload]
        bare = bool(kw.get("bare", False))
        found.append(Candidate(base + start, base + end, free_from, label, when, _kind(head), bare))

    for m in _NUMBERED.finditer(text) if "Decision No" in text else ():
        when = _when(m["date"], today)
        add(m.start(), m.end(), m["name"], when, "Decision", free_from=m.start("head"))
    for m in _PACKAGE.finditer(text) if "ackage of" in text else ():
        bare = m["name"].casefold().endswith("measures")
        add(m.start(), m.end(), m["name"], None, "Package", bare=bare)
    title_case = region.kind == "title" and _title_case(text)
    title_case = title_case or not any(h in text for h in HEAD_HINTS)
    position = 0
    while not title_case and (hit := _NAMED.search(text, position)) is not None:
        m = hit
        cut = _COORDINATED.search(m["tail"] or "")
        if cut is not None:  # "2030 Agenda for … Development and the Paris Agreement": two
            m = _NAMED.match(text, m.start(), m.start("tail") + cut.start()) or m
        position = max(m.end(), position + 1)
        named = _named(m)
        if named is not None:
            start, label, bare = named
            when = _when(m["date"] or m["date2"], today) or _when(m["year"], today)
            if when is None and m["tail"] and re.fullmatch(rf" {YEAR}", m["tail"]):
                when = _when(m["tail"].strip(), today)
            end = m.end() if m["date"] else m.end("name")
            add(start, end, label, when, m["head"], free_from=m.start("head"), bare=bare)
    for m in _AFTER_CITY.finditer(text) if any(h in text for h in LOWER_HINTS) else ():
        if m["city"] in GENERIC or not places.is_known(m["city"]):
            continue
        add(m.start(), m.end(), m["name"], _when(m["date"], today), m["head"])
    for m in _DESCRIPTIVE.finditer(text):
        if text[m.start() - 1 : m.start()].isalpha():
            continue  # "bathe …"
        if m["name"].split()[0] in {"same", "other", "previous", "latest", "first", "last"}:
            continue
        when = _when(m["date"], today)
        add(m.start("name"), m.end(), _upper_first(m["name"]), when, m["head"])
    for m in _ON_SUBJECT.finditer(text) if " on " in text else ():
        group = "name" if m["name"] else "name2"
        add(m.start(group), m.end(group), m[group], None, m[group].split(" on ")[0].split()[-1])
    for m in _CASE.finditer(text) if " v. " in text else ():
        add(m.start(), m.end(), m["name"], None, "judgment")
    for m in _YEAR_FIRST.finditer(text):
        if not text[m.start() - 1 : m.start()].isalpha():
            add(m.start("name"), m.end(), m["name"], _when(m["date"], today), m["head"])
    for m in _ADOPTED.finditer(text) if "decision" in text else ():
        offset = m.start("items")
        pieces = _ITEM_SPLIT.split(m["items"])
        position = 0
        for piece in pieces:
            at = m["items"].index(piece, position)
            position = at + len(piece)
            stop = _ITEM_END.search(piece)
            piece = (piece[: stop.start()] if stop else piece).rstrip(" ,")
            if not piece.startswith("on ") or len(piece.split()) < 3:
                continue
            start = offset + at
            add(start, start + len(piece), f"decision {piece}", None, "decision")
    return found


def _named(m: re.Match[str]) -> tuple[int, str, bool] | None:
    """The name as written, without the sentence's opening words; None for a bare head
    ("the Statement") or an organisation's statement ("EU Statement")."""
    words = m["prefix"].split()
    start = m.start("prefix")
    while words and words[0] in GENERIC:
        start += len(words[0]) + 1
        words = words[1:]
    tail = m["tail"] or ""
    if tail.startswith((" to the", " of the", " to a", " of a")):
        tail = ""  # "presented the Strategy to the Council"
    if m["year"] and start == m.start("prefix") and not words:
        start = m.start("name")  # "the 1990 Copenhagen Document", "2030 Agenda …"
    elif m["year"] and start == m.start("prefix"):
        start = m.start("name")
    if not words and not m["year"] and m["date"] and _FULL_DATE.fullmatch(m["date"]):
        return start, m.string[start : m.end()], False  # "the Memorandum of 19 September 2014"
    if not words and not m["year"] and not (tail and m["head"] in OPENING_HEADS):
        return None
    if (
        words
        and all(w in ACRONYMS for w in words)
        and not (tail or m["year"])
        and m["head"] in {"Statement", "Decision", "Decisions", "Document", "Declaration"}
    ):
        return None
    end = m.end("head") + len(tail)
    label = m.string[start:end]
    bare = not tail and not m["year"]
    return start, label, bare


def _resolve_abbreviations(found: list[Candidate]) -> list[Candidate]:
    """A bare name whose words occur, in order, in longer names of the document: the one
    it abbreviates, or nothing (label "") when it could abbreviate several."""
    folded = {c.label: _words(c.label) for c in found}
    full = {c.label for c in found if not c.bare}
    resolved = []
    for cand in found:
        if not cand.bare:
            resolved.append(cand)
            continue
        short = folded[cand.label]
        longer = {
            label for label in full if label != cand.label and _contains(folded[label], short)
        }
        if len(longer) == 1:
            target = next(iter(longer))
            model = next(c for c in found if c.label == target)
            resolved.append(replace(cand, label=target, when=model.when, kind=model.kind))
        elif longer:
            resolved.append(replace(cand, label=""))
        else:
            resolved.append(cand)
    return resolved


def _words(label: str) -> list[str]:
    words = re.sub(r"[^\w]+", " ", label.casefold()).split()
    return [w for w in words if w not in {"the", "osce"}]


def _contains(words: list[str], part: list[str]) -> bool:
    n = len(part)
    return n > 0 and any(words[i : i + n] == part for i in range(len(words) - n + 1))


def _title_case(text: str) -> bool:
    words = [w for w in text.split() if len(w) > 3 and w[0].isalpha()]
    return bool(words) and sum(w[0].isupper() for w in words) > 0.6 * len(words)


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _when(text: str | None, today: date | None) -> Literal | None:
    """ "12 August 2008" → 2008-08-12, "June 2016" → 2016-06, "1996" → 1996; "9 November"
    → the latest 9 November on or before the document's date."""
    if not text:
        return None
    parts = text.split()
    try:
        if len(parts) == 1:
            return partial_date(parts[0])
        if parts[0].isdigit() and len(parts) == 3:
            return partial_date(f"{parts[2]}-{MONTH_NUMBER[parts[1]]:02d}-{int(parts[0]):02d}")
        if parts[0].isdigit():
            if today is None:
                return None
            day = day_month(int(parts[0]), MONTH_NUMBER[parts[1]], today, False)
            return partial_date(day.isoformat())
        return partial_date(f"{parts[1]}-{MONTH_NUMBER[parts[0]]:02d}")
    except (ValueError, KeyError):
        return None


def _kind(head: str) -> URIRef:
    return _document_kind(head)


def _document_kind(name: str) -> URIRef:
    head = name.split()[-1].casefold() if name.split() else ""
    lowered = name.casefold()
    if "decision" in lowered:
        return OSCE.Decision
    if head in {"statement", "declaration"}:
        return OSCE.Declaration
    if head in {
        "protocol",
        "agreement",
        "agreements",
        "accord",
        "accords",
        "ceasefire",
        "arrangement",
        "arrangements",
        "measures",
        "memorandum",
        "understanding",
        "treaty",
        "package",
    }:
        return OSCE.Agreement
    return OSCE.Document
