"""Look at a query before it runs: its form, its dataset clauses, and what this endpoint refuses.

rdflib's SPARQL parser builds the tree; pyoxigraph (which runs the query) offers no parse-only
API in 0.5. rdflib expands ``\\u`` escapes over the whole text before parsing, so an escaped
``SERVICE`` is found too. Queries rdflib cannot parse (SPARQL 1.2 triple terms, for one) are
refused as syntax errors rather than run unchecked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin

from pyparsing import ParseBaseException, ParseResults
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import URIRef, Variable

from server.protocol import ProtocolError, QueryForm

QUERY_SPEC = "https://www.w3.org/TR/sparql11-query/"
UPDATE_SPEC = "https://www.w3.org/TR/sparql11-update/"
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


@lru_cache(maxsize=4096)
def analyse_query(query: str, base_iri: str = "") -> QueryInfo:
    """Parse ``query`` and refuse, with a 400, syntax errors, SERVICE and undeclared prefixes.

    rdflib's parser takes milliseconds per query, more than Oxigraph needs to answer a lookup;
    the answers are cached by query text (refusals are not cached, they raise every time), so
    the queries of a dashboard or an application cost it once per process.

    FROM / FROM NAMED IRIs come back resolved against the query's BASE declarations, which
    resolve against ``base_iri`` (the endpoint's URL, the base the engine is given too).
    """
    prologue, body = _parse(parseQuery, query, "query")
    nodes = list(_nodes(body))
    _refuse_service(nodes)
    base = base_iri
    prefixes: dict[str, str] = {}
    for decl in prologue:  # each BASE and PREFIX resolves against the BASE before it
        if decl.name == "Base":
            base = urljoin(base, str(dict.get(decl, "iri")))
        elif decl.name == "PrefixDecl":
            prefixes[_prefix(decl)] = urljoin(base, str(dict.get(decl, "iri")))
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
        tuple(urljoin(base, _iri(c["default"], prefixes)) for c in clauses if "default" in c),
        tuple(urljoin(base, _iri(c["named"], prefixes)) for c in clauses if "named" in c),
    )


@dataclass(frozen=True)
class UpdateInfo:
    """What the endpoint needs to know about an update before running it."""

    has_dataset: bool  # a USING, USING NAMED or WITH clause


def analyse_update(update: str) -> UpdateInfo:
    """Parse ``update`` and refuse, with a 400, syntax errors, SERVICE and LOAD."""
    tree = _parse(parseUpdate, update, "update")
    nodes = list(_nodes(tree))
    _refuse_service(nodes)
    for node in nodes:
        if node.name == "Load":
            raise ProtocolError(
                400,
                f"LOAD {_show(dict.get(node, 'iri'))} is not allowed: this endpoint fetches "
                "nothing from the web or the disk.",
                "Send the triples in the update itself, with INSERT DATA { ... }.",
                title="LOAD disabled",
            )
    has_dataset = any(
        node.name == "Modify" and ("withClause" in node or "using" in node) for node in nodes
    )
    return UpdateInfo(has_dataset)


def _parse(parser: Callable[[str], Any], text: str, what: str) -> Any:
    try:
        return parser(text)
    except ParseBaseException as e:
        raise ProtocolError(
            400,
            str(e),
            f"Check the {what} near line {e.lineno}, column {e.col}: "
            f"{e.line.strip()!r}. For reference, see "
            f"{QUERY_SPEC if what == 'query' else UPDATE_SPEC}",
            title=f"{what.capitalize()} syntax error",
        ) from e
    except RecursionError as e:
        raise ProtocolError(
            400,
            f"The {what} is nested too deeply to be parsed.",
            "Flatten nested groups or subqueries.",
            title=f"{what.capitalize()} syntax error",
        ) from e


def _refuse_service(nodes: list[CompValue]) -> None:
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


_IRIREF = re.compile(r'<[^<>"{}|^`\\\x00-\x20]*>')
_STRING = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""|'
    r"'''(?:[^'\\]|\\.|'(?!''))*'''|"
    r'"(?:[^"\\\n\r]|\\.)*"|'
    r"'(?:[^'\\\n\r]|\\.)*'",
    re.DOTALL,
)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def add_using_clauses(update: str, default: Sequence[str], named: Sequence[str]) -> str:
    """``update`` with ``USING <g>`` / ``USING NAMED <g>`` before the WHERE of each
    DELETE/INSERT operation: how the protocol's ``using-graph-uri`` and ``using-named-graph-uri``
    parameters apply (pyoxigraph takes no dataset for updates).

    The caller has refused updates that carry their own USING or WITH (the protocol forbids
    both at once). A WHERE at brace depth 0 that does not follow DELETE is a Modify's.
    """
    clause = " ".join([*(f"USING <{g}>" for g in default), *(f"USING NAMED <{g}>" for g in named)])
    out: list[str] = []
    depth, i, previous = 0, 0, ""
    while i < len(update):
        char = update[i]
        match = None
        if char == "#":
            end = update.find("\n", i)
            match_end = len(update) if end < 0 else end
            out.append(update[i:match_end])
            i = match_end
            continue
        if char == "<":
            match = _IRIREF.match(update, i)
        elif char in "\"'":
            match = _STRING.match(update, i)
        elif char.isalpha() or char == "_":
            match = _WORD.match(update, i)
            if match and (i == 0 or not (update[i - 1].isalnum() or update[i - 1] in "?$:_-")):
                word = match.group().upper()
                if depth == 0 and word == "WHERE" and previous != "DELETE":
                    out.append(clause + " ")
                previous = word
        if match:
            out.append(match.group())
            i = match.end()
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        if not char.isspace():
            previous = char
        out.append(char)
        i += 1
    return "".join(out)
