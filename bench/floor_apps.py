"""The smallest Python servers of a SPARQL answer, for ``bench.floor``: gunicorn serves these
apps beside kg-serve and ``oxigraph serve``, so that the cost of a Python server alone is
measured apart from our endpoint's own work.

The query apps answer a GET's ``query`` with one pyoxigraph call on a store (read-only, the
default graph the union of the named graphs, SPARQL JSON) and nothing else: no protocol
checks, safety scan, content negotiation, timeout, row cap, metrics or log. The constant app
makes no query. Not servers to use; measuring sticks. The store's location comes from
``OSCE_KG_FLOOR_STORE``: the build's, or oxigraph's own.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from pyoxigraph import QueryBoolean, QueryResultsFormat, QuerySolutions, Store

STORE_ENV = "OSCE_KG_FLOOR_STORE"
CONSTANT = b'{"head":{},"boolean":true}'  # the answer to ASK {}, 26 bytes
JSON = "application/sparql-results+json"

_store: Store | None = None


def answer(query_string: str) -> bytes:
    """The SPARQL JSON of the request's ``query`` (the store opened on first use, after
    gunicorn's fork)."""
    global _store
    if _store is None:
        _store = Store.read_only(os.environ[STORE_ENV])
    query = urllib.parse.parse_qs(query_string).get("query", [""])[0]
    return sparql_json(_store, query)


def sparql_json(store: Store, query: str) -> bytes:
    """The SPARQL JSON of a SELECT or ASK on ``store``, its default graph the union."""
    result = store.query(query, use_default_graph_as_union=True)
    if not isinstance(result, QuerySolutions | QueryBoolean):
        raise TypeError("a SELECT or ASK query is needed for SPARQL JSON")
    body = result.serialize(format=QueryResultsFormat.JSON)
    if body is None:  # given no output, serialize returns the bytes
        raise TypeError("pyoxigraph serialized to nowhere")
    return body


def _headers(body: bytes) -> list[tuple[str, str]]:
    return [("Content-Type", JSON), ("Content-Length", str(len(body)))]


def wsgi_query(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    body = answer(environ.get("QUERY_STRING", ""))
    start_response("200 OK", _headers(body))
    return [body]


def wsgi_constant(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """No query at all: what gunicorn alone costs a request."""
    start_response("200 OK", _headers(CONSTANT))
    return [CONSTANT]


Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def asgi_query(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    """The same call under gunicorn's ASGI worker (run in the event loop: it takes well
    under a millisecond)."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = answer(scope.get("query_string", b"").decode("latin-1"))
    headers = [(k.lower().encode(), v.encode()) for k, v in _headers(body)]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
