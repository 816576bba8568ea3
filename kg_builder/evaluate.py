"""Measure extraction against gold annotations (the devset's ``gold.json`` schema).

For every category the gold defines, precision, recall and F1 over all documents (micro
average), and every miss and false hit. Names are compared through the reference data where
it knows them (gold "Czech Republic" and our "Czechia" are one State), otherwise after
folding case and accents. The scoring rules are documented in ``docs/EVALUATION.md``.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import URIRef

from kg_builder.errors import SourceError
from kg_builder.extract import Extraction, MeetingRef, extract
from kg_builder.gazetteer import Gazetteer, build_gazetteer
from kg_builder.iris import Iris
from kg_builder.namespaces import OSCE
from kg_builder.parse import Document, parse
from kg_builder.pipeline import load_ontology
from kg_builder.reference import build_reference

CATEGORIES = (
    "doc_type",
    "date",
    "issuer",
    "places",
    "states",
    "osce_structures",
    "other_organizations",
    "persons",
    "person_posts",
    "conflicts",
    "meetings",
    "meetings_typed",
    "agreements",
    "menu_mentions",
)
DOC_TYPES = {
    OSCE.Statement: "statement",
    OSCE.JointStatement: "statement",
    OSCE.PressRelease: "press_release",
    OSCE.PressCommunique: "press_communique",
    OSCE.NewsItem: "news_item",
}


def fold(text: str | None) -> str:
    """Compare names without case, accents, a leading "the"/"OSCE", or punctuation runs."""
    if text is None:
        return ""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", " ", ascii_text.casefold()).split()
    while words and words[0] in {"the", "osce"}:
        words = words[1:]
    return " ".join(words)


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    misses: list[str] = field(default_factory=list)
    false_hits: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, doc_id: str, gold: Iterable[str], predicted: Iterable[str]) -> None:
        gold_set, predicted_set = set(gold), set(predicted)
        self.tp += len(gold_set & predicted_set)
        self.fn += len(gold_set - predicted_set)
        self.fp += len(predicted_set - gold_set)
        self.misses += [f"{doc_id}: {g}" for g in sorted(gold_set - predicted_set)]
        self.false_hits += [f"{doc_id}: {p}" for p in sorted(predicted_set - gold_set)]


@dataclass
class Evaluation:
    scores: dict[str, Score]
    documents: int
    failures: list[str] = field(default_factory=list)  # extraction rules that crashed

    def to_json(self) -> dict[str, object]:
        return {
            "documents": self.documents,
            "failures": self.failures,
            "categories": {
                name: {
                    "precision": round(s.precision, 4),
                    "recall": round(s.recall, 4),
                    "f1": round(s.f1, 4),
                    "tp": s.tp,
                    "fp": s.fp,
                    "fn": s.fn,
                    "misses": s.misses,
                    "false_hits": s.false_hits,
                }
                for name, s in self.scores.items()
            },
        }

    def table(self) -> str:
        lines = [f"{'category':<22}{'P':>7}{'R':>7}{'F1':>7}{'tp':>5}{'fp':>5}{'fn':>5}"]
        for name, s in self.scores.items():
            lines.append(
                f"{name:<22}{s.precision:7.3f}{s.recall:7.3f}{s.f1:7.3f}{s.tp:5}{s.fp:5}{s.fn:5}"
            )
        return "\n".join(lines)


class _Keys:
    """Turns gold names and our IRIs into comparable keys."""

    def __init__(self, gaz: Gazetteer) -> None:
        self.gaz = gaz

    def entity(self, iri: URIRef) -> str:
        if iri == self.gaz.osce:
            return "osce"
        if "/chairpersonship/" in str(iri) or str(iri).endswith("/structure/chairpersonship"):
            return "chairpersonship"
        return fold(self.gaz.label(iri))

    def state(self, name: str | None) -> str:
        found = self.gaz.state(name) if name else None
        return self.entity(found) if found is not None else fold(name)

    def conflict(self, name: str) -> str:
        found = self.gaz.conflicts.get(name)
        return self.entity(found) if found is not None else fold(name)

    def owner(self, name: str) -> str:
        """Whose post it is: the OSCE, a structure or a State (under any of its names)."""
        if name not in {"OSCE", "CSCE"} and self.gaz.structure(name) is None:
            return self.state(name)
        return self.structure(name)

    def structure(self, name: str | None) -> str:
        if name in {"OSCE", "CSCE"}:
            return "osce"
        found = self.gaz.structure(name) if name else None
        return self.entity(found) if found is not None else fold(name)


def predicted_record(ex: Extraction, keys: _Keys) -> dict[str, set[str]]:
    gaz = keys.gaz
    posts = ex.posts.values()
    return {
        "doc_type": {DOC_TYPES.get(ex.doc_class, str(ex.doc_class))},
        "date": {ex.doc_date.isoformat()} if ex.doc_date else set(),
        "issuer": {keys.entity(ex.issuer)} if ex.issuer is not None else set(),
        "places": {
            f"{fold(p.name)} | {keys.entity(p.state) if p.state else ''}"
            for p in ex.places.values()
        },
        "states": {keys.entity(m.entity) for m in ex.mentions if m.kind == "state"},
        "osce_structures": {keys.entity(m.entity) for m in ex.mentions if m.kind == "structure"},
        "other_organizations": {
            keys.entity(m.entity) for m in ex.mentions if m.kind == "organization"
        },
        "persons": {fold(p.holder_name) for p in posts} | _person_names(ex, gaz),
        "person_posts": {
            f"{fold(p.holder_name)} | {fold(f'{p.status} {p.role_label}')} | {keys.entity(p.of)}"
            for p in posts
        },
        "conflicts": {keys.entity(c) for c in ex.conflicts},
        "meetings": {
            f"{fold(_meeting_place(ex, gaz, m))} | {m.when or ''}" for m in ex.meetings.values()
        },
        "meetings_typed": {
            f"{fold(_meeting_place(ex, gaz, m))} | {m.when or ''} | "
            f"{meeting_type_key(m.kind, m.planned)}"
            for m in ex.meetings.values()
        },
        "agreements": {fold(a.label) for a in ex.agreements.values()},
    }


def meeting_type_key(kind: str, planned: bool) -> str:
    """A meeting type as compared: its head noun ("field visit" and "visit" are one type,
    "summit" and "meeting" are not), and whether it was announced for later."""
    words = fold(kind.replace("(planned)", "")).split()
    planned = planned or "(planned)" in kind
    return f"{words[-1] if words else ''}{' planned' if planned else ''}"


def _person_names(ex: Extraction, gaz: Gazetteer) -> set[str]:
    """The persons a page mentions: by the reference data's name, else by the fullest name the
    page writes (one pass over the mentions)."""
    written: dict[URIRef, str] = {}
    for m in ex.mentions:
        if m.kind == "person" and len(m.exact) > len(written.get(m.entity, "")):
            written[m.entity] = m.exact
    return {fold(gaz.labels.get(person) or name) for person, name in written.items()}


def _meeting_place(ex: Extraction, gaz: Gazetteer, meeting: MeetingRef) -> str | None:
    """A meeting's place as named: a place of the page, the city in the meeting's name ("the
    Helsinki Summit") or, for a country-wide event, a State."""
    if meeting.place is None:
        return None
    if meeting.place in ex.places:
        return ex.places[meeting.place].name
    return meeting.venue.name if meeting.venue is not None else gaz.label(meeting.place)


def gold_record(gold: dict[str, object], keys: _Keys) -> dict[str, set[str]]:
    def items(key: str) -> list[dict[str, object]]:
        return list(gold.get(key) or [])  # type: ignore[call-overload]

    return {
        "doc_type": {str(gold["doc_type"])},
        "date": {str(gold["date"])} if gold.get("date") else set(),
        "issuer": {keys.structure(str(gold["issuer"]))} if gold.get("issuer") else set(),
        "places": {
            f"{fold(str(p['name']))} | {keys.state(str(p['country']))}" for p in items("places")
        },
        "states": {keys.state(str(s)) for s in items("states")},
        "osce_structures": {keys.structure(str(s)) for s in items("osce_structures")},
        "other_organizations": {fold(str(s)) for s in items("other_organizations")},
        "persons": {fold(str(p["name"])) for p in items("persons")},
        "person_posts": {
            f"{fold(str(p['name']))} | {fold(str(p['role']))} | "
            f"{keys.owner(str(p['role_of'])) if p.get('role_of') else ''}"
            for p in items("persons")
        },
        "conflicts": {keys.conflict(str(c)) for c in items("conflicts")},
        "meetings": {
            f"{fold(str(m['place']) if m.get('place') else None)} | {m.get('date') or ''}"
            for m in items("meetings")
        },
        "meetings_typed": {
            f"{fold(str(m['place']) if m.get('place') else None)} | {m.get('date') or ''} | "
            f"{meeting_type_key(str(m.get('type') or ''), False)}"
            for m in items("meetings")
        },
        "agreements": {fold(str(a["name"])) for a in items("agreements_or_documents")},
    }


def evaluate(gold_path: Path, docs_dir: Path, reference_dir: Path, ontology: Path) -> Evaluation:
    try:
        golds = json.loads(gold_path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SourceError("no such file", subject=str(gold_path)) from exc
    except json.JSONDecodeError as exc:
        raise SourceError(f"not JSON: {exc}", subject=str(gold_path)) from exc
    if not isinstance(golds, list) or not all(
        isinstance(g, dict) and {"id", "file", "doc_type"} <= g.keys() for g in golds
    ):
        raise SourceError(
            "not a list of gold records with id, file and doc_type",
            subject=str(gold_path),
            hint="see the schema in ../shared/devset/README.md",
        )
    iris = Iris("https://w3id.org/osce-kg/")
    documents: list[tuple[dict[str, object], Document]] = []
    for gold in golds:
        documents.append((gold, parse(docs_dir / Path(str(gold["file"])).name)))
    reference = build_reference(reference_dir, [d for _g, d in documents], iris)
    gaz = build_gazetteer(reference.graph, load_ontology(ontology), iris)
    keys = _Keys(gaz)
    scores = {name: Score() for name in CATEGORIES}
    failures: list[str] = []
    for gold, doc in documents:
        ex = extract(doc, gaz, iris)
        failures += ex.failures
        predicted, expected = predicted_record(ex, keys), gold_record(gold, keys)
        for name in CATEGORIES[:-1]:
            scores[name].add(str(gold["id"]), expected[name], predicted[name])
        menu_end = doc.regions[0].start
        from_menu = [m.exact for m in ex.mentions if m.start < menu_end]
        scores["menu_mentions"].add(str(gold["id"]), [], from_menu)
    return Evaluation(scores, len(documents), failures)
