"""Look at a query before it runs: its form, its dataset clauses, and what this endpoint refuses.

rdflib's SPARQL parser builds the tree; pyoxigraph (which runs the query) offers no parse-only
API in 0.5. rdflib expands ``\\u`` escapes over the whole text before parsing, so an escaped
``SERVICE`` is found too. Queries rdflib cannot parse (SPARQL 1.2 triple terms, for one) are
refused as syntax errors rather than run unchecked.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pyparsing import ParseBaseException, ParseResults
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import URIRef, Variable

from server.protocol import ProtocolError, QueryForm

QUERY_SPEC = "https://www.w3.org/TR/sparql11-query/"
_FORMS = {
    "SelectQuery": QueryForm.SELECT,
    "AskQuery": QueryForm.ASK,
    "ConstructQuery": QueryForm.CONSTRUCT,
    "DescribeQuery": QueryForm.DESCRIBE,
}


@dataclass(frozen=True)
class QueryInfo:
    """What the endpoint needs to know about a query before running it."""

    form: QueryForm
    from_graphs: tuple[str, ...] = ()
    from_named_graphs: tuple[str, ...] = ()

    @property
    def has_dataset(self) -> bool:
        return bool(self.from_graphs or self.from_named_graphs)


def analyse_query(query: str) -> QueryInfo:
    """Parse ``query`` and refuse, with a 400, syntax errors, SERVICE and undeclared prefixes."""
    try:
        prologue, body = parseQuery(query)
    except ParseBaseException as e:
        raise ProtocolError(
            400,
            str(e),
            f"Check the query near line {e.lineno}, column {e.col}: "
            f"{e.line.strip()!r}. For reference, see {QUERY_SPEC}",
            title="Query syntax error",
        ) from e
    except RecursionError as e:
        raise ProtocolError(
            400,
            "The query is nested too deeply to be parsed.",
            "Flatten nested groups or subqueries.",
            title="Query syntax error",
        ) from e
    prefixes = {_prefix(d): str(dict.get(d, "iri")) for d in prologue if d.name == "PrefixDecl"}
    nodes = list(_nodes(body))
    for node in nodes:
        if node.name == "ServiceGraphPattern":
            raise ProtocolError(
                400,
                f"SERVICE {_show(dict.get(node, 'term'))} is not allowed: federated queries "
                "are disabled on this endpoint.",
                "Query the other endpoint yourself, or load our dumps from /dumps/ into a local "
                "store and federate there.",
                title="Federated query disabled",
            )
    for node in nodes:
        if node.name == "pname" and _prefix(node) not in prefixes:
            raise ProtocolError(
                400,
                f"The prefix '{_prefix(node)}:' is used but not declared.",
                f"Add PREFIX {_prefix(node)}: <...> at the start of the query.",
                title="Undeclared prefix",
            )
    clauses = dict.get(body, "datasetClause") or []
    return QueryInfo(
        _FORMS[body.name],
        tuple(_iri(c["default"], prefixes) for c in clauses if "default" in c),
        tuple(_iri(c["named"], prefixes) for c in clauses if "named" in c),
    )


def _nodes(tree: Any) -> Iterator[CompValue]:
    """Every CompValue in the parse tree, without recursion (deep queries stay safe)."""
    stack = [tree]
    while stack:
        item = stack.pop()
        if isinstance(item, CompValue):
            yield item
            stack.extend(dict.values(item))
        elif isinstance(item, ParseResults | list | tuple):
            stack.extend(item)


def _prefix(node: CompValue) -> str:
    return str(dict.get(node, "prefix") or "")


def _iri(term: Any, prefixes: dict[str, str]) -> str:
    if isinstance(term, CompValue):  # a prefixed name
        return prefixes[_prefix(term)] + str(dict.get(term, "localname") or "")
    return str(term)


def _show(term: Any) -> str:
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, Variable):
        return f"?{term}"
    if isinstance(term, CompValue):
        return f"{_prefix(term)}:{dict.get(term, 'localname') or ''}"
    return str(term)
