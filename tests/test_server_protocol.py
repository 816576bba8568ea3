"""The I/O-free protocol functions: request parsing, content negotiation, query analysis."""

from __future__ import annotations

import pytest
from pyoxigraph import QueryResultsFormat, RdfFormat
from werkzeug.datastructures import MultiDict

from server.analysis import (
    QueryInfo,
    UpdateInfo,
    add_using_clauses,
    analyse_query,
    analyse_update,
    explain_syntax_error,
)
from server.protocol import (
    MediaRange,
    ProtocolError,
    QueryForm,
    QueryRequest,
    UpdateRequest,
    choose_format,
    parse_accept,
    parse_request,
    quality,
)

Q = "SELECT * WHERE { ?s ?p ?o }"
FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"


def md(**values: str | list[str]) -> MultiDict[str, str]:
    return MultiDict({k.replace("_", "-"): v for k, v in values.items()})


def refused(status: int, *args: object, **kwargs: object) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        parse_request(*args, **kwargs)  # type: ignore[arg-type]
    assert info.value.status == status
    assert info.value.message
    return info.value


# ---- parse_request --------------------------------------------------------------------------


def test_parse_get() -> None:
    request = parse_request(
        "GET", None, md(query=Q, default_graph_uri=["http://g/1", "http://g/2"]), md()
    )
    assert request == QueryRequest(Q, ("http://g/1", "http://g/2"), ())
    assert request.has_protocol_dataset


def test_parse_post_form() -> None:
    request = parse_request("POST", FORM, md(), md(query=Q, named_graph_uri="http://g/1"))
    assert request == QueryRequest(Q, (), ("http://g/1",))


def test_parse_post_direct_with_dataset_in_url() -> None:
    request = parse_request(
        "POST", f"{DIRECT}; charset=UTF-8", md(default_graph_uri="http://g/1"), md(), Q.encode()
    )
    assert request == QueryRequest(Q, ("http://g/1",), ())
    assert parse_request("POST", DIRECT.upper(), md(), md(), Q) == QueryRequest(Q)


def test_parse_bare_get_is_service_description() -> None:
    assert parse_request("GET", None, md(), md()) is None
    assert parse_request("GET", None, md(format="ttl"), md()) is None


def test_parse_no_query() -> None:
    assert "no query" in refused(400, "GET", None, md(default_graph_uri="http://g/1"), md()).message
    refused(400, "POST", FORM, md(), md())
    refused(400, "GET", None, md(query="  \n"), md())


def test_parse_query_in_url_and_body() -> None:
    assert "twice" in refused(400, "POST", FORM, md(query=Q), md(query=Q)).message
    refused(400, "POST", DIRECT, md(query=Q), md(), Q.encode())


def test_parse_two_queries() -> None:
    refused(400, "GET", None, md(query=[Q, "ASK {}"]), md())


def test_parse_update_refused() -> None:
    error = refused(403, "POST", FORM, md(), md(update="CLEAR ALL"))
    assert "read-only" in error.message
    refused(403, "POST", "application/sparql-update", md(), md(), b"CLEAR ALL")
    refused(403, "GET", None, md(update="CLEAR ALL"), md())


def test_parse_query_and_update() -> None:
    refused(400, "POST", FORM, md(), md(query=Q, update="CLEAR ALL"))
    refused(400, "GET", None, md(query=Q, update="CLEAR ALL"), md())


@pytest.mark.parametrize(
    "content_type", [None, "", "text/plain", "multipart/form-data", "application/json"]
)
def test_parse_unsupported_content_type(content_type: str | None) -> None:
    error = refused(415, "POST", content_type, md(), md(), Q.encode())
    assert "application/sparql-query" in error.hint


def test_parse_non_utf8() -> None:
    refused(415, "POST", f"{DIRECT}; charset=UTF-16", md(), md(), Q.encode("utf-16"))
    assert "UTF-8" in refused(400, "POST", DIRECT, md(), md(), b"ASK {} #\xff").message


def test_parse_too_large() -> None:
    query = "ASK {} #" + "é" * 50  # 108 bytes in UTF-8, 58 characters
    error = refused(413, "GET", None, md(query=query), md(), max_query_bytes=100)
    assert "108 bytes" in error.message
    assert parse_request("GET", None, md(query=query), md(), max_query_bytes=108)


def test_parse_other_method() -> None:
    refused(405, "PUT", FORM, md(query=Q), md())


# ---- content negotiation --------------------------------------------------------------------


def test_parse_accept() -> None:
    assert parse_accept("text/csv;q=0.5, */*;Q=0.1, text/*, bogus, a/b;q=x, */x") == [
        MediaRange("text", "csv", 0.5),
        MediaRange("*", "*", 0.1),
        MediaRange("text", "*", 1.0),
    ]


def test_quality_most_specific_range_wins() -> None:
    ranges = parse_accept("*/*;q=0.9, text/*;q=0.5, text/csv;q=0.1")
    assert quality(ranges, "text/csv") == 0.1
    assert quality(ranges, "text/turtle") == 0.5
    assert quality(ranges, "application/json") == 0.9
    assert quality(parse_accept("text/csv"), "application/json") == 0.0


@pytest.mark.parametrize(
    ("form", "accept", "expected"),
    [
        (QueryForm.SELECT, None, "application/sparql-results+json"),
        (QueryForm.SELECT, "", "application/sparql-results+json"),
        (QueryForm.SELECT, "*/*", "application/sparql-results+json"),
        (QueryForm.ASK, "application/json", "application/sparql-results+json"),
        (QueryForm.SELECT, "application/sparql-results+xml", "application/sparql-results+xml"),
        (QueryForm.SELECT, "text/csv", "text/csv"),
        (QueryForm.SELECT, "text/tab-separated-values", "text/tab-separated-values"),
        (QueryForm.SELECT, "text/*", "text/csv"),  # tie: server order
        (
            QueryForm.SELECT,
            "text/csv;q=0.4, text/tab-separated-values;q=0.6",
            "text/tab-separated-values",
        ),
        (QueryForm.CONSTRUCT, None, "text/turtle"),
        (QueryForm.DESCRIBE, "*/*", "text/turtle"),
        (QueryForm.CONSTRUCT, "application/n-triples", "application/n-triples"),
        (QueryForm.CONSTRUCT, "text/turtle;q=0.2, application/*", "application/n-triples"),
        (QueryForm.CONSTRUCT, "TEXT/Turtle; charset=utf-8", "text/turtle"),
    ],
)
def test_choose_format_accept(form: QueryForm, accept: str | None, expected: str) -> None:
    assert choose_format(form, accept).media_type == expected


@pytest.mark.parametrize(
    ("form", "accept"),
    [
        (QueryForm.SELECT, "text/turtle"),
        (QueryForm.ASK, "text/html, application/xml"),
        (QueryForm.CONSTRUCT, "application/sparql-results+json"),
        (QueryForm.SELECT, "*/*;q=0"),
        (QueryForm.SELECT, "text/csv;q=0, text/tab-separated-values;q=0, application/*;q=0"),
    ],
)
def test_choose_format_406(form: QueryForm, accept: str) -> None:
    with pytest.raises(ProtocolError) as info:
        choose_format(form, accept)
    assert info.value.status == 406
    assert form.value in info.value.message


@pytest.mark.parametrize(
    ("form", "param", "serializer"),
    [
        (QueryForm.SELECT, "json", QueryResultsFormat.JSON),
        (QueryForm.SELECT, "XML", QueryResultsFormat.XML),
        (QueryForm.ASK, "csv", QueryResultsFormat.CSV),
        (QueryForm.SELECT, "tsv", QueryResultsFormat.TSV),
        (QueryForm.SELECT, "text/csv", QueryResultsFormat.CSV),
        (QueryForm.CONSTRUCT, "ttl", RdfFormat.TURTLE),
        (QueryForm.CONSTRUCT, "turtle", RdfFormat.TURTLE),
        (QueryForm.DESCRIBE, "nt", RdfFormat.N_TRIPLES),
    ],
)
def test_choose_format_param(form: QueryForm, param: str, serializer: object) -> None:
    assert choose_format(form, "application/nothing", param).serializer == serializer


@pytest.mark.parametrize(
    ("form", "param"),
    [(QueryForm.SELECT, "ttl"), (QueryForm.CONSTRUCT, "csv"), (QueryForm.SELECT, "xlsx")],
)
def test_choose_format_param_406(form: QueryForm, param: str) -> None:
    with pytest.raises(ProtocolError) as info:
        choose_format(form, None, param)
    assert info.value.status == 406
    assert f"format={param}" in info.value.message


def test_content_type_charset() -> None:
    assert choose_format(QueryForm.SELECT, "text/csv").content_type == "text/csv; charset=utf-8"
    json_type = choose_format(QueryForm.SELECT, None).content_type
    assert json_type == "application/sparql-results+json"


# ---- analyse_query --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "form"),
    [
        (Q, QueryForm.SELECT),
        ("ASK {}", QueryForm.ASK),
        ("CONSTRUCT WHERE { ?s ?p ?o }", QueryForm.CONSTRUCT),
        ("DESCRIBE <http://x/y>", QueryForm.DESCRIBE),
        ("PREFIX : <http://x/> SELECT * { :a ?p : }", QueryForm.SELECT),
    ],
)
def test_analyse_form(query: str, form: QueryForm) -> None:
    assert analyse_query(query) == QueryInfo(form)


def test_analyse_dataset() -> None:
    info = analyse_query(
        "PREFIX g: <http://g/> SELECT * FROM g:1 FROM <http://g/2> "
        "FROM NAMED <http://g/3> WHERE { ?s ?p ?o }"
    )
    assert info == QueryInfo(QueryForm.SELECT, ("http://g/1", "http://g/2"), ("http://g/3",))
    assert info.has_dataset


def analysis_error(query: str) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        analyse_query(query)
    assert info.value.status == 400
    return info.value


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * { SERVICE <http://x/sparql> { ?s ?p ?o } }",
        "SELECT * { SERVICE SILENT <http://x/sparql> { ?s ?p ?o } }",
        "select * { service ?endpoint { ?s ?p ?o } }",
        "ASK { { SELECT * { OPTIONAL { SERVICE <http://x/> { ?s ?p ?o } } } } }",
        "PREFIX x: <http://x/> CONSTRUCT { ?s ?p ?o } WHERE { SERVICE x:sparql { ?s ?p ?o } }",
        r"SELECT * { \u0053ERVICE <http://x/sparql> { ?s ?p ?o } }",
    ],
)
def test_analyse_service_refused(query: str) -> None:
    assert analysis_error(query).title == "Federated query disabled"


@pytest.mark.parametrize(
    "query",
    [
        'SELECT * { ?s ?p "SERVICE <http://x/> { ?a ?b ?c }" }',
        "SELECT * { ?s ?p '''\nSERVICE <http://x/> {}\n''' }",
        "SELECT * { ?s ?p ?o } # SERVICE <http://x/> { ?s ?p ?o }",
        "SELECT ?service { ?service <http://x/SERVICE> ?o }",
        "PREFIX service: <http://x/> SELECT * { ?s service:SERVICE ?o }",
    ],
)
def test_analyse_service_word_elsewhere_allowed(query: str) -> None:
    assert analyse_query(query).form is QueryForm.SELECT


def test_analyse_syntax_error() -> None:
    """The scan leaves syntax to the engine; when the engine refuses a query, rdflib says where."""
    query = "SELECT * WHERE {\n  ?s ?p \n}"
    assert analyse_query(query).form is QueryForm.SELECT
    error = explain_syntax_error(query)
    assert error is not None and error.status == 400
    assert error.title == "Query syntax error"
    assert "found '?'" in error.message
    assert "line 2, column 3: '?s ?p'" in error.hint


def test_analyse_update_is_a_syntax_error() -> None:
    assert "INSERT" in analysis_error("INSERT DATA { <http://x/a> <http://x/b> 1 }").message


def test_analyse_undeclared_prefix() -> None:
    error = analysis_error("PREFIX a: <http://x/> SELECT * { ?s a:p ?o ; b:q ?z }")
    assert error.message == "The prefix 'b:' is used but not declared."
    assert error.hint.startswith("Add PREFIX b: <...>")


def test_analyse_deep_nesting_is_a_400_not_a_crash() -> None:
    assert "nested too deeply" in analysis_error("ASK " + "{" * 5000 + "}" * 5000).message


def test_head_is_read_as_get() -> None:
    """Regression: HEAD /sparql answered 405 while the Allow header of other 405s listed HEAD."""
    from werkzeug.datastructures import MultiDict

    request = parse_request("HEAD", None, MultiDict({"query": "ASK {}"}), MultiDict())
    assert request is not None and request.query == "ASK {}"


# ---- update mode ------------------------------------------------------------------------------

UPDATE = "application/sparql-update"
INSERT = "INSERT DATA { <http://x/a> <http://x/b> 1 }"


def test_parse_update_in_update_mode() -> None:
    request = parse_request(
        "POST", UPDATE, md(using_graph_uri="http://g/1"), md(), INSERT.encode(), allow_update=True
    )
    assert request == UpdateRequest(INSERT, ("http://g/1",), ())
    form = parse_request("POST", FORM, md(), md(update=INSERT), allow_update=True)
    assert form == UpdateRequest(INSERT)


def test_parse_update_by_get_refused_in_update_mode() -> None:
    assert "POST" in refused(405, "GET", None, md(update=INSERT), md(), allow_update=True).hint


def test_parse_two_updates_refused() -> None:
    refused(400, "POST", FORM, md(), md(update=[INSERT, INSERT]), allow_update=True)


def test_parse_update_non_utf8_refused() -> None:
    body = INSERT.encode("utf-16")
    refused(415, "POST", UPDATE + "; charset=UTF-16", md(), md(), body, allow_update=True)


def test_analyse_update_dataset_clauses() -> None:
    assert analyse_update(INSERT) == UpdateInfo(has_dataset=False)
    with_clause = "WITH <http://g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }"
    assert analyse_update(with_clause).has_dataset
    using = "DELETE { ?s ?p ?o } USING <http://g> WHERE { ?s ?p ?o }"
    assert analyse_update(using).has_dataset


@pytest.mark.parametrize(
    "update",
    [
        "LOAD <file:///etc/passwd>",
        "load silent <http://example.org/x> into graph <http://g>",
        "INSERT DATA { <http://x/a> <http://x/b> 1 } ; LOAD <http://example.org/x>",
    ],
)
def test_analyse_update_load_refused(update: str) -> None:
    with pytest.raises(ProtocolError) as info:
        analyse_update(update)
    assert info.value.title == "LOAD disabled"


def test_analyse_update_service_refused() -> None:
    with pytest.raises(ProtocolError) as info:
        analyse_update("INSERT { ?s ?p ?o } WHERE { SERVICE <http://evil/> { ?s ?p ?o } }")
    assert info.value.title == "Federated query disabled"


def test_analyse_update_syntax_error() -> None:
    with pytest.raises(ProtocolError) as info:
        analyse_update("CLEAR XYZ")
    assert info.value.title == "Update syntax error"


def test_add_using_clauses() -> None:
    update = (
        "PREFIX : <http://x/> # a WHERE in a comment\n"
        "INSERT DATA { :a :b 1 } ;\n"
        'INSERT { ?s a :C } WHERE { ?s :p "WHERE {" { SELECT * WHERE { ?s ?p ?o } } } ;\n'
        "DELETE WHERE { ?s ?p ?o } ;\n"
        "delete { ?s ?p ?o } where { ?s ?p ?o FILTER(?o<3) }"
    )
    out = add_using_clauses(update, ["http://g/1"], ["http://g/2"])
    using = "USING <http://g/1> USING NAMED <http://g/2> "
    assert out.count(using) == 2
    assert f"INSERT {{ ?s a :C }} {using}WHERE" in out
    assert f"delete {{ ?s ?p ?o }} {using}where" in out
    assert "DELETE WHERE" in out and "# a WHERE in a comment" in out


def test_analyse_from_resolved_against_base() -> None:
    query = "BASE <http://b/dir/> PREFIX p: <sub/> SELECT * FROM <data.ttl> FROM NAMED p:g {}"
    info = analyse_query(query, "http://endpoint/sparql")
    assert info.from_graphs == ("http://b/dir/data.ttl",)
    assert info.from_named_graphs == ("http://b/dir/sub/g",)
    assert analyse_query("SELECT * FROM <d> {}", "http://e/sparql").from_graphs == ("http://e/d",)


def test_query_analysis_is_cached_and_refusals_are_not() -> None:
    from server.analysis import analyse_query

    query = "SELECT ?s WHERE { ?s ?p ?o } LIMIT 3"
    assert analyse_query(query, "http://x/") is analyse_query(query, "http://x/")
    service = "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"
    for _ in range(2):  # refused every time, never served from the cache
        with pytest.raises(ProtocolError, match="SERVICE"):
            analyse_query(service, "http://x/")
