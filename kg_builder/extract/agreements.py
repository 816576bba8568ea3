"""Agreements and decisions referred to ("Permanent Council Decision No. 1117", "Vienna
Document 2011", "the Astrakhan statement of October 2010")."""

from __future__ import annotations

import re

from rdflib import URIRef

from kg_builder.dates import partial_date
from kg_builder.extract.model import MONTH_NUMBER, AgreementRef, Extraction, Spans, add_mention
from kg_builder.gazetteer import UP
from kg_builder.iris import Iris
from kg_builder.namespaces import OSCE
from kg_builder.parse import MONTHS, Region

GENERIC_FIRST_WORDS = {"Joint", "This", "The", "That", "Our", "A", "New", "Final", "Draft"}
AGREEMENT_HEADS = (
    "statement|Statement|Declaration|declaration|Protocol|protocol|Agreement|agreement|"
    "Document|Accords?|Charter|Final Act|Memorandum|Plan of Action"
)

_AGREEMENT = re.compile(
    rf"(?P<name>{UP}[\w-]+ (?:{AGREEMENT_HEADS}))"
    rf"(?: of (?P<month>{MONTHS})? ?(?P<year>(?:19|20)\d{{2}})| (?P<year2>(?:19|20)\d{{2}}))?"
)
_CEASEFIRE = re.compile(r"(?P<name>ceasefire)(?: agreement)? of (?P<year>(?:19|20)\d{2})")
_DECISION = re.compile(
    r"(?P<name>(?:Permanent Council|Ministerial Council|FSC|Forum for Security Co-operation) "
    r"Decision No\. ?\d+(?:/\d+)?)"
)


def agreements(out: Extraction, region: Region, iris: Iris, spans: Spans) -> None:
    for pattern in (_DECISION, _AGREEMENT, _CEASEFIRE):
        for match in pattern.finditer(region.text):
            name = match["name"]
            if name.split()[0] in GENERIC_FIRST_WORDS:
                continue
            groups = match.groupdict()
            year = groups.get("year") or groups.get("year2")
            month = groups.get("month")
            when = None
            if year:
                when = partial_date(f"{year}-{MONTH_NUMBER[month]:02d}" if month else year)
            label = name[0].upper() + name[1:]
            if name == "ceasefire" and year:
                label = f"Ceasefire of {year}"
            key = f"{name} {when}" if when is not None and name != "ceasefire" else label
            ref = AgreementRef(iris.agreement(key), label, when, _document_kind(name))
            start = region.start + match.start()
            end = region.start + match.end()
            if spans.free(start, end):
                out.agreements[ref.iri] = ref
                add_mention(out, spans, ref.iri, "agreement", start, end)


def _document_kind(name: str) -> URIRef:
    head = name.split()[-1].casefold()
    if "decision" in name.casefold():
        return OSCE.Decision
    if head in {"statement", "declaration"}:
        return OSCE.Declaration
    if head in {"protocol", "agreement", "accord", "accords", "ceasefire"}:
        return OSCE.Agreement
    return OSCE.Document
