"""Stable, readable IRIs under one configurable base IRI (``…/state/armenia``)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rdflib import URIRef

from kg_builder.errors import ConfigError


def slugify(text: str) -> str:
    """``"Türkiye"`` → ``turkiye``; ``"Harlem Désir"`` → ``harlem-desir``."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9_]+", "-", folded.lower()).strip("-")
    return slug or "x"


# "sergei", "andrei", "aleksei": the English "-ei" for the Russian "-ей" written "-ey" too;
# not "-ej", which is also Polish and Slovak ("Andrzej", "Andrej")
_TRANSLITERATED_EY = re.compile(r"(?<=[a-z]{2}[bcdfghklmnpqrstvwxz])ei(?=-|$)")


@dataclass(frozen=True)
class Iris:
    """Mints the IRIs of every kind of entity under ``base``."""

    base: str

    def __post_init__(self) -> None:
        if not re.match(r"^https?://[^\s<>\"{}|\\^`]+/$", self.base):
            raise ConfigError(
                f"base IRI {self.base!r} is not an absolute http(s) IRI ending in '/'",
                subject="--base-iri",
                hint="use a value such as https://w3id.org/osce-kg/",
            )

    def _iri(self, *parts: str) -> URIRef:
        return URIRef(self.base + "/".join(parts))

    def relative(self, path: str) -> URIRef:
        return self._iri(path)

    # graphs
    def ontology_graph(self) -> URIRef:
        return self._iri("graph", "ontology")

    def reference_graph(self) -> URIRef:
        return self._iri("graph", "reference")

    def inferred_graph(self) -> URIRef:
        return self._iri("graph", "inferred")

    def document_graph(self, doc_id: str) -> URIRef:
        return self._iri("graph", "document", doc_id)

    # documents and provenance
    def document(self, doc_id: str) -> URIRef:
        return self._iri("document", doc_id)

    def source(self, doc_id: str) -> URIRef:
        return self._iri("source", doc_id)

    def source_version(self, doc_id: str, sha256: str) -> URIRef:
        """An earlier version of a source, named by the SHA-256 of its bytes."""
        return self._iri("source", doc_id, "sha256", sha256)

    def mention(self, doc_id: str, start: int, end: int) -> URIRef:
        return self._iri("document", doc_id, "mention", f"{start}-{end}")

    def build(self, build_id: str) -> URIRef:
        return self._iri("build", build_id)

    def software(self, version: str) -> URIRef:
        return self._iri("software", "osce-kg", version)

    # entities
    def osce(self) -> URIRef:
        """The Organization for Security and Co-operation in Europe itself."""
        return self._iri("org", "osce")

    def state(self, name: str) -> URIRef:
        return self._iri("state", slugify(name))

    def structure(self, name: str) -> URIRef:
        return self._iri("structure", slugify(name))

    def chairpersonship(self, year: int) -> URIRef:
        return self._iri("chairpersonship", str(year))

    def person(self, name: str) -> URIRef:
        """One IRI for the spellings of one name: accents fold ("Désir" / "Desir") and so do
        the two English transliterations of the Russian "-ей" ending ("Sergei" / "Sergey")."""
        return self._iri("person", _TRANSLITERATED_EY.sub("ey", slugify(name)))

    def role(self, label: str) -> URIRef:
        return self._iri("role", slugify(label))

    def post(self, of_slug: str, role_label: str) -> URIRef:
        return self._iri("post", of_slug, slugify(role_label))

    def place(self, name: str, country_code: str | None) -> URIRef:
        if country_code:
            return self._iri("place", country_code.lower(), slugify(name))
        return self._iri("place", slugify(name))

    def conflict(self, name: str) -> URIRef:
        return self._iri("conflict", slugify(name))

    def meeting(self, key: str) -> URIRef:
        return self._iri("meeting", slugify(key))

    def agreement(self, key: str) -> URIRef:
        return self._iri("agreement", slugify(key))

    def concept_scheme(self, name: str) -> URIRef:
        return self._iri("scheme", slugify(name))

    def concept(self, scheme: str, label: str) -> URIRef:
        return self._iri(slugify(scheme), slugify(label))
