"""The lexical safety check of queries (server.analysis): sound against tricky spellings of
SERVICE and FROM, and cheap enough to run on every uncached query."""

from __future__ import annotations

from typing import Any

import pytest
from pyoxigraph import Store

from server import analysis
from server.analysis import MAX_NESTING, QueryInfo, _parsed_info, analyse_query
from server.protocol import ProtocolError, QueryForm

ENDPOINT = "http://e/sparql"


def refusal(query: str) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        analyse_query(query, ENDPOINT)
    assert info.value.status == 400
    return info.value


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * { SERVICE <http://x/> { ?s ?p ?o } }",
        "select * { service <http://x/> { ?s ?p ?o } }",
        "SELECT * { SeRvIcE <http://x/> { ?s ?p ?o } }",
        "SELECT * { SERVICE SILENT <http://x/> { ?s ?p ?o } }",
        "SELECT * { SERVICE ?where { ?s ?p ?o } }",
        "PREFIX x: <http://x/> SELECT * { SERVICE x:sparql { ?s ?p ?o } }",
        "SELECT * { ?s ?p ?o .SERVICE <http://x/> { ?s ?p ?o } }",  # no space after the dot
        "SELECT * {?s ?p ?o}SERVICE<http://x/>{}",
        "SELECT * { ?s ?p ?o } # a comment\nSERVICE <http://x/> { }",
        "SELECT * { ?s ?p 'a # not a comment' SERVICE <http://x/> { } }",
        "SELECT * { ?s <http://x/#not-a-comment> ?o SERVICE <http://x/> { } }",
        # codepoint escapes are expanded before parsing (SPARQL 1.1, section 19.2)
        r"SELECT * { \u0053ERVICE <http://x/> { ?s ?p ?o } }",
        r"SELECT * { serv\u0069ce <http://x/> { ?s ?p ?o } }",
        r"SELECT * { \U00000053ERVICE <http://x/> { ?s ?p ?o } }",
        # a prefixed name's backslash escapes: \# and \' are part of the name, no comment and
        # no string start, so what follows them is read
        r"PREFIX ex: <http://x/> SELECT * { ?s ex:a\# SERVICE <http://x/> { } }",
        r"PREFIX ex: <http://x/> SELECT * { ?s ex:a\' SERVICE <http://x/> {} ?s ex:b\' ?o }",
        "SELECT * { \u017fervice <http://x/> { } }",  # the long s casefolds to s
        "ASK { { SELECT * { OPTIONAL { SERVICE <http://x/> { ?s ?p ?o } } } } }",
    ],
)
def test_service_refused_in_every_spelling(query: str) -> None:
    assert refusal(query).title == "Federated query disabled"


@pytest.mark.parametrize(
    "query",
    [
        'SELECT * { ?s ?p "SERVICE <http://x/> { ?a ?b ?c }" }',
        "SELECT * { ?s ?p 'service' }",
        'SELECT * { ?s ?p """\nSERVICE <http://x/> {}\n""" }',
        "SELECT * { ?s ?p '''it's SERVICE''' }",
        'SELECT * { ?s ?p "a \\" SERVICE <http://x/> {} \\"" }',  # escaped quotes stay inside
        "SELECT * { ?s ?p ?o } # SERVICE <http://x/> { ?s ?p ?o }",
        "SELECT ?service { ?service ?p $SERVICE }",
        "SELECT * { ?s <http://x/SERVICE> ?o }",
        "PREFIX service: <http://x/> SELECT * { ?s service:SERVICE ?o }",
        "PREFIX ex: <http://x/> SELECT * { ?s ex:a.service ?o }",
        "SELECT * { ?s ?p 'x'@service }",
        "SELECT * { ?s ?p _:service }",
        "SELECT (STR(?from) AS ?named) { ?s ?p ?from }",
        'SELECT * { ?s ?p ?o FILTER (CONTAINS(?o, "from <file:///etc/passwd>")) }',
    ],
)
def test_words_inside_other_tokens_are_no_keywords(query: str) -> None:
    assert analyse_query(query, ENDPOINT) == QueryInfo(QueryForm.SELECT)


@pytest.mark.parametrize(
    ("query", "default", "named"),
    [
        ("SELECT * FROM <http://g/1> { }", ("http://g/1",), ()),
        ("select * from named <http://g/1> { }", (), ("http://g/1",)),
        (
            "SELECT * FrOm NaMeD <http://g/1> FROM <http://g/2> { }",
            ("http://g/2",),
            ("http://g/1",),
        ),
        (
            "PREFIX g: <http://g/> SELECT * FROM g:a FROM NAMED g:b { }",
            ("http://g/a",),
            ("http://g/b",),
        ),
        (r"PREFIX g: <http://g/> SELECT * FROM g:a\-b { }", ("http://g/a-b",), ()),
        ("PREFIX : <http://g/> ASK FROM :x { }", ("http://g/x",), ()),
        ("SELECT * FROM <file:///etc/passwd> { }", ("file:///etc/passwd",), ()),
        ("SELECT * FROM <data.ttl> { }", ("http://e/data.ttl",), ()),  # resolved: the endpoint
        ("BASE <http://b/> SELECT * FROM <../x> { }", ("http://b/x",), ()),
        (r"SELECT * \u0046ROM <http://g/1> { }", ("http://g/1",), ()),
        ("CONSTRUCT { ?s ?p ?o } FROM <http://g/1> WHERE { ?s ?p ?o }", ("http://g/1",), ()),
        ("DESCRIBE ?s FROM <http://g/1> WHERE { ?s ?p ?o }", ("http://g/1",), ()),
        ("SELECT * # FROM <http://g/0>\nFROM <http://g/1> { }", ("http://g/1",), ()),
    ],
)
def test_dataset_clauses_found(
    query: str, default: tuple[str, ...], named: tuple[str, ...]
) -> None:
    info = analyse_query(query, ENDPOINT)
    assert (info.from_graphs, info.from_named_graphs) == (default, named)


@pytest.mark.parametrize(
    ("query", "form"),
    [
        ("SELECT * { }", QueryForm.SELECT),
        ("ask { }", QueryForm.ASK),
        ("CONSTRUCT WHERE { ?s ?p ?o }", QueryForm.CONSTRUCT),
        ("DESCRIBE <http://x/>", QueryForm.DESCRIBE),
        (
            "# DESCRIBE\nPREFIX select: <http://x/> BASE <http://b/> ASK { ?s select:p ?o }",
            QueryForm.ASK,
        ),
        ("PREFIX ask: <http://x/> SELECT * { ?s ask:ask ?o }", QueryForm.SELECT),
    ],
)
def test_form(query: str, form: QueryForm) -> None:
    assert analyse_query(query, ENDPOINT).form is form


def test_undeclared_prefix_refused() -> None:
    assert refusal("SELECT * { ?s ex:p ?o }").title == "Undeclared prefix"
    assert refusal("SELECT * FROM ex:g { ?s ?p ?o }").title in (
        "Undeclared prefix",
        "Query syntax error",
    )


def test_deep_nesting_refused_before_the_engine() -> None:
    """The engine's parser recurses: 5,000 nested groups overflow the stack of the process
    that parses them (a worker killed, a 500), so the scan refuses them with a 400."""
    deep = MAX_NESTING + 1
    assert "nested too deeply" in refusal("ASK " + "{" * deep + "}" * deep).message
    assert (
        "nested too deeply"
        in refusal("ASK { FILTER(" + "(" * deep + "1" + ")" * deep + ") }").message
    )
    ok = MAX_NESTING - 2
    assert analyse_query("ASK " + "{" * ok + "}" * ok, ENDPOINT).form is QueryForm.ASK
    Store().query("ASK " + "{" * MAX_NESTING + "}" * MAX_NESTING)  # the engine copes with the limit


def test_what_the_scan_cannot_read_goes_to_rdflib() -> None:
    """No form, or a FROM without an IRI: rdflib's parser decides, and says what is wrong."""
    assert refusal("SELEC * { }").title == "Query syntax error"
    assert refusal("SELECT * FROM { }").title == "Query syntax error"
    assert refusal("INSERT DATA { <http://x/a> <http://x/b> 1 }").title == "Query syntax error"


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * { ?s ?p ?o }",
        "PREFIX g: <http://g/> SELECT ?s FROM g:1 FROM NAMED <http://g/2> WHERE { ?s ?p ?o }",
        "BASE <http://b/dir/> PREFIX p: <sub/> SELECT * FROM <data.ttl> FROM NAMED p:g {}",
        "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p 'SERVICE' }",
        "ASK FROM <http://g/1> { }",
        "DESCRIBE <http://x/y>",
    ],
)
def test_agrees_with_rdflib(query: str) -> None:
    assert analyse_query(query, ENDPOINT) == _parsed_info(query, ENDPOINT)


def test_short_queries_are_scanned_once_and_long_ones_every_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What is remembered is bounded: a query longer than REMEMBERED_QUERY_CHARS is scanned
    again each time, so that a client cannot fill a worker's memory with long queries."""
    scanned: list[str] = []
    tokens = analysis._tokens

    def counting(query: str, *args: Any) -> Any:
        scanned.append(query)
        return tokens(query, *args)

    monkeypatch.setattr(analysis, "_tokens", counting)
    analysis._remembered_analysis.cache_clear()
    short = "ASK { ?s ?p 'remembered' }"
    long = "ASK { ?s ?p ?o } # " + "x" * analysis.REMEMBERED_QUERY_CHARS
    info = [analyse_query(q, ENDPOINT) for q in (short, short, long, long)]
    assert all(i == QueryInfo(QueryForm.ASK) for i in info)
    assert scanned == [short, long, long]
