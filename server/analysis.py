"""Look at a query before it runs: its form, its dataset clauses, and what this endpoint refuses.

A lexical scan does it, in a fraction of the time Oxigraph takes to answer a lookup (rdflib's
parser took ~8 ms a query). It is sound because it reads the text the way the SPARQL grammar's
terminals do: strings, IRIs, comments, variables, language tags, prefixed names (with their
backslash escapes) and blank node labels are single tokens, so a word such as ``SERVICE``
inside one of them is no keyword; outside them it is one, in any case (``SeRvIcE``), and
codepoint escapes (``\\u0053ERVICE``) are expanded first, as the grammar does before parsing.
Where the scan cannot tell what a query is (no query form, a FROM that names no IRI), rdflib's
parser decides, under a lock: it is not safe to call from several threads at once.

SERVICE is refused unless the operator allow-lists its endpoint (``SPARQL_SERVICE_ALLOWLIST``,
empty by default), and then only in the one spelling that cannot be misread: the full IRI,
``SERVICE [SILENT] <http://…>``, exactly as listed, with nothing but spaces or comments between
the words. A variable, a prefixed name, a relative IRI or an IRI with escapes is refused: each
is resolved by the engine in ways the scan would have to imitate to be sure where it points.

The scan does not check the syntax: the engine does, in the query worker, and refuses with a
400 (``explain_syntax_error`` then asks rdflib where the error is). Nesting deeper than
``MAX_NESTING`` brackets is refused before the engine sees it: its parser recurses, and a few
thousand levels overflow the stack of the process running it. Updates (update mode only) are
parsed with rdflib.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin, urlsplit

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


MAX_NESTING = 256  # brackets ({, (, [) open at once
# The answers of analyse_query kept per process: as many, for queries of at most this many
# characters (at most 32 M characters of query text, 32-128 MB as Python strings; a longer
# query is scanned every time).
REMEMBERED_ANALYSES = 4096
REMEMBERED_QUERY_CHARS = 8192


def analyse_query(
    query: str, base_iri: str = "", services: frozenset[str] = frozenset()
) -> QueryInfo:
    """Scan ``query`` and refuse, with a 400, SERVICE (unless to one of the endpoint IRIs in
    ``services``), undeclared prefixes and deep nesting.

    Answers are remembered by query text, base and allow-list for queries up to
    ``REMEMBERED_QUERY_CHARS`` (refusals are not, they raise every time), so the queries of
    a dashboard or an application are scanned once per process.

    FROM / FROM NAMED IRIs come back resolved against the query's BASE declarations, which
    resolve against ``base_iri`` (the endpoint's URL, the base the engine is given too).
    """
    if len(query) <= REMEMBERED_QUERY_CHARS:
        return _remembered_analysis(query, base_iri, services)
    return _analysis(query, base_iri, services)


def _analysis(query: str, base_iri: str, services: frozenset[str]) -> QueryInfo:
    info = _lexical_info(_tokens(query, services), base_iri)
    if info is None:  # the scan cannot tell: rdflib's parser decides (and explains)
        return _parsed_info(query, base_iri, services)
    return info


_remembered_analysis = lru_cache(maxsize=REMEMBERED_ANALYSES)(_analysis)


def service_allowlist(value: object) -> frozenset[str]:
    """The ``SPARQL_SERVICE_ALLOWLIST`` setting as a set of endpoint IRIs: a list of strings,
    or one string of them separated by spaces or commas (``FLASK_*`` environment variables).

    ValueError, naming the value, for anything but absolute http(s) IRIs that can be written
    as a SPARQL IRIREF (no spaces, ``<>"{}|^`` backquote or backslash).
    """
    if value is None:
        return frozenset()
    items = re.split(r"[\s,]+", value.strip()) if isinstance(value, str) else value
    if not isinstance(items, list | tuple | set | frozenset):
        raise ValueError(f"SPARQL_SERVICE_ALLOWLIST: {value!r} is not a list of endpoint IRIs")
    out = set()
    for item in items:
        if item == "":
            continue
        if not (isinstance(item, str) and _is_endpoint_iri(item)):
            raise ValueError(
                f"SPARQL_SERVICE_ALLOWLIST: {item!r} is not an absolute http(s) IRI of a SPARQL "
                "endpoint (e.g. https://query.wikidata.org/sparql)"
            )
        out.add(item)
    return frozenset(out)


def _is_endpoint_iri(text: str) -> bool:
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:  # e.g. an unclosed [IPv6 address
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(host)
        and _IRIREF.fullmatch(f"<{text}>") is not None
    )


def explain_syntax_error(query: str) -> ProtocolError | None:
    """rdflib's account of a syntax error the engine reported (line, column, what was
    expected), or None when rdflib reads the query without error."""
    try:
        _parse(parseQuery, query, "query")
    except ProtocolError as e:
        return e
    return None


# --- the lexical scan -------------------------------------------------------------------------

_PN_CHARS_BASE = r"[^\W\d_]"
_PN_CHARS_U = r"[^\W\d]"
_PN_CHARS = r"[\w\-\u00B7\u0300-\u036F\u203F-\u2040]"
_PLX = r"(?:%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%])"
_PN_PREFIX = rf"{_PN_CHARS_BASE}(?:(?:{_PN_CHARS}|\.)*{_PN_CHARS})?"
_PN_LOCAL = (
    rf"(?:{_PN_CHARS_U}|[:0-9]|{_PLX})(?:(?:{_PN_CHARS}|[.:]|{_PLX})*(?:{_PN_CHARS}|:|{_PLX}))?"
)
_STRINGS = (
    r'"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n\r]|\\.)*"'
    r"|'(?:[^'\\\n\r]|\\.)*'"
)
_TOKEN = re.compile(
    r"(?P<space>[\x20\t\r\n]+)"
    r"|(?P<comment>#[^\r\n]*)"
    rf"|(?P<string>{_STRINGS})"
    r'|(?P<iri><[^<>"{}|^`\\\x00-\x20]*>)'
    r"|(?P<var>[?$][\w\u00B7\u0300-\u036F\u203F-\u2040]+)"
    r"|(?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)"
    r"|(?P<bnode>_:[\w\-.\u00B7\u0300-\u036F\u203F-\u2040]+)"
    rf"|(?P<pname>(?P<prefix>(?:{_PN_PREFIX})?):(?P<local>{_PN_LOCAL})?)"
    r"|(?P<word>\w+)"
    r"|(?P<open>[{(\[])"
    r"|(?P<close>[})\]])"
    r"|(?P<escape>\\.?)"
    r"|(?P<other>.)",
    re.DOTALL,
)
_SKIPPED = frozenset(("space", "comment", "escape", "other"))
_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_LOCAL_ESCAPE = re.compile(r"\\(.)")
_FORM_WORDS = {
    "select": QueryForm.SELECT,
    "ask": QueryForm.ASK,
    "construct": QueryForm.CONSTRUCT,
    "describe": QueryForm.DESCRIBE,
}


@dataclass(frozen=True)
class _Token:
    kind: str  # a group name of _TOKEN
    text: str
    prefix: str = ""  # of a prefixed name
    local: str = ""

    @property
    def keyword(self) -> str:
        """The word casefolded (U+017F, the long s, reads as s, as some parsers fold it); "" for
        other tokens."""
        return self.text.casefold() if self.kind == "word" else ""


def _unescape_codepoints(text: str) -> str:
    """``\\uXXXX`` and ``\\UXXXXXXXX`` expanded over the whole text before any tokenizing, as
    the SPARQL grammar prescribes (section 19.2, codepoint escape sequences)."""

    def expand(match: re.Match[str]) -> str:
        value = int(match.group(1) or match.group(2), 16)
        return chr(value) if value <= 0x10FFFF else match.group()

    return _CODEPOINT.sub(expand, text) if "\\" in text else text


def _tokens(query: str, services: frozenset[str] = frozenset()) -> list[_Token]:
    """The words, names, IRIs and literals of ``query`` (no spaces, comments or punctuation);
    ProtocolError (400) for a SERVICE not to one of ``services`` and for nesting deeper than
    MAX_NESTING.

    A parser that expands codepoint escapes reads the expanded text, one that does not reads
    the text as sent: both are scanned for refusals, the tokens come from the expanded one.
    """
    expanded = _unescape_codepoints(query)
    if expanded != query:
        _scan(query, services)
    return _scan(expanded, services)


def _scan(text: str, services: frozenset[str]) -> list[_Token]:
    out: list[_Token] = []
    service_ends: list[int] = []  # where each SERVICE keyword ends in ``text``
    depth = 0
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "other"
        if kind in _SKIPPED:
            continue
        if kind == "open":
            depth += 1
            if depth > MAX_NESTING:
                raise ProtocolError(
                    400,
                    f"The query is nested too deeply to be parsed (more than {MAX_NESTING} "
                    "brackets open at once).",
                    "Flatten nested groups or subqueries.",
                    title="Query syntax error",
                )
        elif kind == "close":
            depth -= 1
        elif kind == "pname":
            prefix, local = match.group("prefix"), match.group("local") or ""
            out.append(_Token(kind, match.group(), prefix, local))
        else:
            out.append(_Token(kind, match.group()))
            if out[-1].keyword == "service":
                service_ends.append(match.end())
    for end in service_ends:
        _check_service(text, end, services)
    return out


def _check_service(text: str, end: int, services: frozenset[str]) -> None:
    """Refuse the SERVICE keyword that ends at ``end`` in ``text`` unless the next token (past
    spaces and comments, and an optional SILENT) is the full IRI of an allow-listed endpoint.
    Punctuation counts as a token here: nothing the scan skips may stand before the IRI."""
    following: list[tuple[_Token, int]] = []  # up to two tokens and where they start
    for match in _TOKEN.finditer(text, end):
        kind = match.lastgroup or "other"
        if kind in ("space", "comment"):
            continue
        following.append((_Token(kind, match.group()), match.start()))
        if len(following) == 2 or following[0][0].keyword != "silent":
            break
    target, start = following[-1] if following else (_Token("other", ""), end)
    if target.kind == "iri" and target.text[1:-1] in services:
        return
    if target.keyword == "silent":  # SILENT and then nothing
        target = _Token("other", "")
    if target.kind == "other" and target.text == "<":  # an IRI the IRIREF terminal cannot read
        close = text.find(">", start, start + 200)
        target = _Token("escaped", text[start : close + 1] if close >= 0 else "<...")
    raise _service_refused(target.text, services, target.kind)


def _lexical_info(tokens: list[_Token], base_iri: str) -> QueryInfo | None:
    """What the tokens say about the query: None where they do not say enough (no query
    form, a prologue or a FROM that does not read as one)."""
    base = base_iri
    prefixes: dict[str, str] = {}
    form: QueryForm | None = None
    dataset: dict[str, list[str]] = {"default": [], "named": []}
    i = 0
    while i < len(tokens):
        token, following = tokens[i], tokens[i + 1 : i + 3]
        keyword = token.keyword
        if form is None and keyword == "base":  # the prologue: BASE <iri>
            if not following or following[0].kind != "iri":
                return None
            base = urljoin(base, following[0].text[1:-1])
            i += 2
        elif form is None and keyword == "prefix":  # PREFIX p: <iri>
            if [t.kind for t in following] != ["pname", "iri"] or following[0].local:
                return None
            prefixes[following[0].prefix] = urljoin(base, following[1].text[1:-1])
            i += 3
        elif form is None:
            form = _FORM_WORDS.get(keyword)
            if form is None:
                return None
            i += 1
        elif keyword == "from":  # FROM [NAMED] <iri> | p:name
            graphs = dataset["default"]
            if following and following[0].keyword == "named":
                graphs = dataset["named"]
                i += 1
                following = tokens[i + 1 : i + 2]
            iri = _graph_name(following[0] if following else None, base, prefixes)
            if iri is None:
                return None
            graphs.append(iri)
            i += 2
        else:
            if token.kind == "pname" and token.prefix not in prefixes:
                raise _undeclared_prefix(token.prefix)
            i += 1
    if form is None:
        return None
    return QueryInfo(form, tuple(dataset["default"]), tuple(dataset["named"]))


def _graph_name(token: _Token | None, base: str, prefixes: dict[str, str]) -> str | None:
    if token is not None and token.kind == "iri":
        return urljoin(base, token.text[1:-1])
    if token is not None and token.kind == "pname" and token.prefix in prefixes:
        return urljoin(base, prefixes[token.prefix] + _LOCAL_ESCAPE.sub(r"\1", token.local))
    return None


# --- rdflib's parser: updates, errors, and queries the scan cannot read ------------------------

_RDFLIB_LOCK = threading.Lock()  # rdflib's SPARQL parser is not safe in several threads at once


def _parsed_info(query: str, base_iri: str, services: frozenset[str] = frozenset()) -> QueryInfo:
    """The analysis by rdflib's parser, for the queries the lexical scan cannot read."""
    prologue, body = _parse(parseQuery, query, "query")
    nodes = list(_nodes(body))
    _refuse_service(nodes, services)
    base = base_iri
    prefixes: dict[str, str] = {}
    for decl in prologue:  # each BASE and PREFIX resolves against the BASE before it
        if decl.name == "Base":
            base = urljoin(base, str(dict.get(decl, "iri")))
        elif decl.name == "PrefixDecl":
            prefixes[_prefix(decl)] = urljoin(base, str(dict.get(decl, "iri")))
    for node in nodes:
        if node.name == "pname" and _prefix(node) not in prefixes:
            raise _undeclared_prefix(_prefix(node))
    clauses = dict.get(body, "datasetClause") or []
    return QueryInfo(
        _FORMS[body.name],
        tuple(urljoin(base, _iri(c["default"], prefixes)) for c in clauses if "default" in c),
        tuple(urljoin(base, _iri(c["named"], prefixes)) for c in clauses if "named" in c),
    )


def _undeclared_prefix(prefix: str) -> ProtocolError:
    return ProtocolError(
        400,
        f"The prefix '{prefix}:' is used but not declared.",
        f"Add PREFIX {prefix}: <...> at the start of the query.",
        title="Undeclared prefix",
    )


def _service_refused(
    target: str, services: frozenset[str] = frozenset(), kind: str = "iri"
) -> ProtocolError:
    """The 400 for a SERVICE to ``target`` (a token of ``kind``: iri, var, pname, escaped...)
    that the allow-list ``services`` does not let through."""
    if not services:
        return ProtocolError(
            400,
            f"SERVICE {target} is not allowed: federated queries are disabled on this endpoint.",
            "Query the other endpoint yourself, or load our dumps from /dumps/ into a local "
            "store and federate there.",
            title="Federated query disabled",
        )
    listed = ", ".join(f"<{iri}>" for iri in sorted(services))
    write = f"Write the endpoint as one of {listed}, in full: SERVICE <...> {{ ... }}."
    if kind == "iri" and not _ABSOLUTE_IRI.match(target[1:-1]):
        why = "a relative IRI is resolved against BASE by the engine, not checked here"
    elif kind == "iri":
        why = "this endpoint federates only with the endpoints it lists"
        write = f"Use one of {listed}, or query {target} yourself."
    elif kind == "var":
        why = "a variable could name any endpoint; only a full IRI can be checked"
    elif kind == "pname":
        why = "a prefixed name is not checked; only a full IRI written out can be"
    elif kind == "escaped":
        why = (
            "an IRI with escapes (or with characters an IRI cannot hold) is not checked; "
            "write it out in full, without \\u escapes"
        )
    else:
        why = "SERVICE must be followed by the endpoint's full IRI"
    return ProtocolError(
        400,
        f"SERVICE {target or '(nothing)'} is not allowed: {why}.",
        write,
        title="Federated query not allowed",
    )


_ABSOLUTE_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


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
        with _RDFLIB_LOCK:
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


def _refuse_service(nodes: list[CompValue], services: frozenset[str] = frozenset()) -> None:
    for node in nodes:
        if node.name != "ServiceGraphPattern":
            continue
        term = dict.get(node, "term")
        if isinstance(term, URIRef) and str(term) in services:
            continue
        kind = "iri" if isinstance(term, URIRef) else "var" if isinstance(term, Variable) else ""
        raise _service_refused(_show(term), services, kind or "pname")


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
