"""SPARQL 1.1 Protocol decisions as plain functions: request parsing and content negotiation.

Nothing here touches a socket or the store; the ``sparql`` blueprint feeds these functions the
parts of a request and acts on what they return or raise.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from pyoxigraph import QueryResultsFormat, RdfFormat
from werkzeug.datastructures import MultiDict
from werkzeug.http import parse_options_header

from server.errors import HttpError

PROTOCOL_SPEC = "https://www.w3.org/TR/sparql11-protocol/#query-operation"
UPDATE_SPEC = "https://www.w3.org/TR/sparql11-protocol/#update-operation"
FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"


class ProtocolError(HttpError):
    """A request that breaks the SPARQL protocol or this endpoint's rules."""


class QueryForm(enum.Enum):
    SELECT = "SELECT"
    ASK = "ASK"
    CONSTRUCT = "CONSTRUCT"
    DESCRIBE = "DESCRIBE"

    @property
    def returns_graph(self) -> bool:
        return self in (QueryForm.CONSTRUCT, QueryForm.DESCRIBE)


@dataclass(frozen=True)
class QueryRequest:
    """A query operation: the query text and the dataset the protocol parameters name."""

    query: str
    default_graph_uris: tuple[str, ...] = ()
    named_graph_uris: tuple[str, ...] = ()

    @property
    def has_protocol_dataset(self) -> bool:
        return bool(self.default_graph_uris or self.named_graph_uris)


@dataclass(frozen=True)
class UpdateRequest:
    """An update operation: the update text and the dataset its ``using-*`` parameters name."""

    update: str
    using_graph_uris: tuple[str, ...] = ()
    using_named_graph_uris: tuple[str, ...] = ()

    @property
    def has_protocol_dataset(self) -> bool:
        return bool(self.using_graph_uris or self.using_named_graph_uris)


def parse_request(
    method: str,
    content_type: str | None,
    args: MultiDict[str, str],
    form: MultiDict[str, str],
    body: bytes | str = b"",
    max_query_bytes: int = 100_000,
    allow_update: bool = False,
) -> QueryRequest | UpdateRequest | None:
    """Read a query operation from a request, or None for a GET without parameters (other than
    ``format``), which asks for the service description.

    Raises ProtocolError for anything the endpoint will not run: updates (403, unless
    ``allow_update``; then only by POST), a POST media type other than form, sparql-query or
    sparql-update (415), a missing, repeated or oversized operation.
    """
    if method == "HEAD":  # as GET, without the body (Flask drops it)
        method = "GET"
    if method not in ("GET", "POST"):
        raise ProtocolError(405, f"{method} is not a SPARQL query method.", "Use GET or POST.")
    queries = args.getlist("query")
    updates = args.getlist("update")
    body_queries: list[str] = []
    if method == "POST":
        media_type, params = parse_options_header(content_type)
        media_type = media_type.lower()
        if media_type == FORM:
            body_queries = form.getlist("query")
            updates = [*updates, *form.getlist("update")]
        elif media_type == SPARQL_QUERY:
            body_queries = [_decode(body, params.get("charset"))]
        elif media_type == SPARQL_UPDATE:
            updates = [*updates, _decode(body, params.get("charset")) if allow_update else ""]
        else:
            raise ProtocolError(
                415,
                f"POST with Content-Type {media_type or '(none)'!r} cannot carry a query.",
                f"Send {SPARQL_QUERY} (the query as the body) or {FORM} (query=...). "
                f"For reference, see {PROTOCOL_SPEC}",
            )
    if updates:
        if queries or body_queries:
            raise ProtocolError(
                400,
                "The request has both a query and an update.",
                "Send one operation per request.",
            )
        if allow_update:
            return _update_request(method, updates, args, form, max_query_bytes)
        raise ProtocolError(
            403,
            "This endpoint is read-only: SPARQL updates are refused.",
            "Rebuild the graph with kg-build to change its content.",
            title="Update refused",
        )
    if queries and body_queries:
        raise ProtocolError(
            400,
            "The query is given twice, in the URL and in the body.",
            "Send it in one place only.",
        )
    queries = queries or body_queries
    if not queries:
        if method == "GET" and not set(args) - {"format"}:
            return None
        raise ProtocolError(
            400,
            "The request has no query.",
            f"Pass the query as query=... For reference, see {PROTOCOL_SPEC}",
        )
    if len(queries) > 1:
        raise ProtocolError(
            400,
            f"The request has {len(queries)} query parameters.",
            "Send exactly one query per request.",
        )
    query = queries[0]
    if not query.strip():
        raise ProtocolError(400, "The query is empty.", "Pass a SPARQL query as query=...")
    size = len(query.encode("utf-8"))
    if size > max_query_bytes:
        raise ProtocolError(
            413,
            f"The query is {size} bytes; the limit is {max_query_bytes}.",
            "Shorten the query, for example move long VALUES lists into several queries.",
        )
    return QueryRequest(
        query,
        tuple(args.getlist("default-graph-uri") + form.getlist("default-graph-uri")),
        tuple(args.getlist("named-graph-uri") + form.getlist("named-graph-uri")),
    )


def _update_request(
    method: str,
    updates: list[str],
    args: MultiDict[str, str],
    form: MultiDict[str, str],
    max_bytes: int,
) -> UpdateRequest:
    if method != "POST":
        raise ProtocolError(
            405,
            "SPARQL updates are accepted by POST only.",
            f"POST the update as {SPARQL_UPDATE} or as {FORM} (update=...). "
            f"For reference, see {UPDATE_SPEC}",
        )
    if args.getlist("update"):
        raise ProtocolError(
            400, "The update is in the URL.", "Send it in the body of the POST, once."
        )
    if len(updates) > 1:
        raise ProtocolError(
            400,
            f"The request has {len(updates)} update parameters.",
            "Send one update per request; separate its operations with ';'.",
        )
    update = updates[0]
    if not update.strip():
        raise ProtocolError(400, "The update is empty.", "Pass a SPARQL update as update=...")
    size = len(update.encode("utf-8"))
    if size > max_bytes:
        raise ProtocolError(
            413,
            f"The update is {size} bytes; the limit is {max_bytes}.",
            "Split it into several requests.",
        )
    return UpdateRequest(
        update,
        tuple(args.getlist("using-graph-uri") + form.getlist("using-graph-uri")),
        tuple(args.getlist("using-named-graph-uri") + form.getlist("using-named-graph-uri")),
    )


def _decode(body: bytes | str, charset: str | None) -> str:
    if charset and charset.lower().replace("-", "") != "utf8":
        raise ProtocolError(
            415,
            f"The query is encoded as {charset}; SPARQL queries are UTF-8.",
            "Send the body in UTF-8 (charset=utf-8 or no charset).",
        )
    if isinstance(body, str):
        return body
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ProtocolError(
            400, f"The query body is not valid UTF-8 ({e.reason}).", "Send the body in UTF-8."
        ) from e


# ---- content negotiation -------------------------------------------------------------------


@dataclass(frozen=True)
class ResultFormat:
    """A serialization the endpoint offers: its media type, format= names and pyoxigraph format."""

    media_type: str
    names: tuple[str, ...]
    serializer: QueryResultsFormat | RdfFormat
    aliases: tuple[str, ...] = ()

    @property
    def content_type(self) -> str:
        return (
            f"{self.media_type}; charset=utf-8"
            if self.media_type.startswith("text/")
            else (self.media_type)
        )


SOLUTION_FORMATS = (  # SELECT and ASK; the first is the default
    ResultFormat(
        "application/sparql-results+json", ("json",), QueryResultsFormat.JSON, ("application/json",)
    ),
    ResultFormat("application/sparql-results+xml", ("xml",), QueryResultsFormat.XML),
    ResultFormat("text/csv", ("csv",), QueryResultsFormat.CSV),
    ResultFormat("text/tab-separated-values", ("tsv",), QueryResultsFormat.TSV),
)
GRAPH_FORMATS = (  # CONSTRUCT and DESCRIBE; the first is the default
    ResultFormat("text/turtle", ("ttl", "turtle"), RdfFormat.TURTLE),
    ResultFormat("application/n-triples", ("nt", "ntriples", "n-triples"), RdfFormat.N_TRIPLES),
    ResultFormat("application/ld+json", ("jsonld", "json-ld"), RdfFormat.JSON_LD),
    ResultFormat("application/rdf+xml", ("rdf", "xml", "rdfxml"), RdfFormat.RDF_XML),
    ResultFormat("application/trig", ("trig",), RdfFormat.TRIG),
    ResultFormat("application/n-quads", ("nq", "nquads", "n-quads"), RdfFormat.N_QUADS),
)


@dataclass(frozen=True)
class MediaRange:
    """One element of an Accept header."""

    type: str
    subtype: str
    q: float

    def specificity(self, media_type: str) -> int:
        """2 exact, 1 ``type/*``, 0 ``*/*``, -1 no match."""
        kind, _, sub = media_type.partition("/")
        if self.type == "*":
            return 0
        if self.type != kind:
            return -1
        if self.subtype == "*":
            return 1
        return 2 if self.subtype == sub else -1


def parse_accept(header: str) -> list[MediaRange]:
    """The media ranges of an Accept header; malformed elements are skipped."""
    ranges = []
    for element in header.split(","):
        media_type, params = parse_options_header(element.strip())
        kind, slash, sub = media_type.lower().partition("/")
        if not (kind and slash and sub) or (kind == "*" and sub != "*"):
            continue
        try:
            q = float(params.get("q", "1"))
        except ValueError:
            continue
        ranges.append(MediaRange(kind, sub, min(max(q, 0.0), 1.0)))
    return ranges


def quality(ranges: Sequence[MediaRange], media_type: str) -> float:
    """The q-value the most specific matching range gives ``media_type`` (RFC 9110, 12.5.1)."""
    best, q = -1, 0.0
    for r in ranges:
        s = r.specificity(media_type)
        if s > best:
            best, q = s, r.q
    return q


@lru_cache(maxsize=1024)
def choose_format(
    query_form: QueryForm, accept_header: str | None, format_param: str | None = None
) -> ResultFormat:
    """Pick the result serialization: ``format=`` first, then Accept with q-values, else 406.

    Cached: a client sends the same Accept header with every request (a 406 is not cached:
    it raises)."""
    offers = GRAPH_FORMATS if query_form.returns_graph else SOLUTION_FORMATS
    if format_param:
        wanted = format_param.strip().lower()
        for offer in offers:
            if wanted in offer.names or wanted == offer.media_type or wanted in offer.aliases:
                return offer
        raise _not_acceptable(query_form, offers, f"format={format_param}")
    if not accept_header or not accept_header.strip():
        return offers[0]
    ranges = parse_accept(accept_header)
    if not ranges:
        return offers[0]
    best, best_q = offers[0], 0.0
    for offer in offers:
        q = max(quality(ranges, t) for t in (offer.media_type, *offer.aliases))
        if q > best_q:
            best, best_q = offer, q
    if best_q <= 0:
        raise _not_acceptable(query_form, offers, f"Accept: {accept_header}")
    return best


def _not_acceptable(form: QueryForm, offers: Sequence[ResultFormat], asked: str) -> ProtocolError:
    types = ", ".join(o.media_type for o in offers)
    names = "|".join(o.names[0] for o in offers)
    return ProtocolError(
        406,
        f"{form.value} results cannot be served as requested ({asked}).",
        f"Accept one of {types}, or pass format={names}.",
        title="Not Acceptable",
    )
