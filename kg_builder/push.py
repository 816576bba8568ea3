"""Push stage: load a published release into an external SPARQL 1.1 store, one named graph at a
time, over the SPARQL 1.1 Graph Store HTTP Protocol
(https://www.w3.org/TR/sparql11-http-rdf-update/).

Each named graph of the release gets one ``PUT <url>?graph=<iri>`` (the protocol's indirect
graph identification), in the order ontology, reference, documents, inferred. A PUT replaces
the graph's whole content with the request body, so a graph pushed twice never accumulates old
triples. How a store applies the PUT is its own business: Fuseki runs each request in one
transaction; ``oxigraph serve`` (0.5) empties the graph, then loads the body in one transaction,
so a reader may briefly see it empty. The body is the graph as N-Triples — valid Turtle, and
sent as ``text/turtle``, the syntax every Graph Store reads — taken from the release's store
opened read-only: memory holds one graph's serialization at a time, never the release.

Incremental: ``<out-dir>/pushed.json`` keeps, per store URL, the SHA-256 of each graph as that
store last confirmed it. A graph whose serialization has the same digest is not sent again
(``push_all`` sends it anyway, for a store that was emptied or edited by hand). A graph's digest
is forgotten before it is sent and written back once the store answered 2xx, so a push that
fails half-way is resumed by the next run. The digest is of the bytes, so a graph that
the build rewrites with new blank node labels (the ontology's RDF lists, at every publish) is
sent again although its content is the same. A build that changed nothing therefore still pushes
what an earlier push did not get confirmed, and says so when there is nothing left to send.

Graphs an earlier push sent that the release no longer has (documents dropped with ``--prune``)
stay in the store unless ``prune``: then one ``DELETE <url>?graph=<iri>`` each (404: already
gone). Graphs that no push from this output directory sent are never touched.

HTTP: one requests session with the project's User-Agent and urllib3's retry policy from
``kg_builder.fetch`` (exponential backoff on connection errors, timeouts, 429 and 5xx, honouring
``Retry-After``; PUT and DELETE are idempotent, so a retry is safe). Credentials: a bearer
token, or ``user:password`` for HTTP Basic (requests drops both on a redirect to another host),
or those of the URL or ``~/.netrc``. The first failure stops the push with a ``PushError`` naming
the store URL, the graph, the status and the store's own message; the local release is untouched.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pyoxigraph as ox
import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NameResolutionError, NewConnectionError

from kg_builder.config import DEFAULTS
from kg_builder.errors import PushError
from kg_builder.fetch import (
    RETRY_STATUSES,
    USER_AGENT,
    RetryPolicy,
    first_reason,
    inner_cause,
    is_timeout,
)
from kg_builder.iris import Iris
from kg_builder.layout import PUSHED, Release

CONTENT_TYPE = "text/turtle"  # the bytes are N-Triples, a subset of Turtle
STATE_VERSION = 1
MAX_MESSAGE = 300  # characters of the store's error body quoted in a PushError
DOCS_HINT = "docs/SCALING.md"
# urllib3 starts its messages with the connection object and a generic sentence
CONNECTION_PREFIX = re.compile(r"^(\w+\([^)]*\): )?(Failed to establish a new connection: )?")


@dataclass(frozen=True)
class PushConfig:
    """Where and how to push; ``url`` is the store's Graph Store endpoint."""

    url: str
    token: str = ""  # bearer token
    user: str = ""  # "user:password" for HTTP Basic
    prune: bool = False
    push_all: bool = False
    timeout: float = 120.0  # seconds to wait for the store's answer to one graph
    connect_timeout: float = 10.0
    retries: int = 3
    backoff: float = 0.5
    base_iri: str = DEFAULTS["base_iri"]  # names the ontology, reference and inferred graphs


@dataclass
class PushResult:
    """What one push did: graphs sent (with their triples and bytes), skipped, deleted, kept."""

    url: str  # without credentials
    release: str
    sent: list[str] = field(default_factory=list)
    triples: int = 0
    bytes: int = 0
    unchanged: list[str] = field(default_factory=list)  # same digest as last confirmed
    deleted: list[str] = field(default_factory=list)  # --prune
    kept: list[str] = field(default_factory=list)  # gone from the release, left in the store
    total: int = 0  # graphs in the release
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


def public_url(url: str) -> str:
    """``url`` without the user name and password it may carry, for messages and the state."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc))


def check_url(url: str) -> str:
    """The reason ``url`` cannot be a Graph Store endpoint, or ``""``."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return "not an http(s) URL; give the store's Graph Store endpoint, e.g. http://localhost:7878/store"
    if parts.fragment:
        return "a Graph Store URL has no #fragment"
    return ""


def ordered(names: Iterable[str], first: Iterable[str] = (), last: Iterable[str] = ()) -> list[str]:
    """``names`` with ``first`` (in that order) before the rest (sorted) and ``last`` after."""
    pool = set(names)
    head = [n for n in first if n in pool]
    tail = [n for n in last if n in pool and n not in head]
    middle = sorted(pool - set(head) - set(tail))
    return head + middle + tail


def push(
    release: Release,
    config: PushConfig,
    state_path: Path,
    *,
    progress: Callable[[str], None] = lambda _msg: None,
    sleep: Callable[[float], None] = time.sleep,
) -> PushResult:
    """Push the named graphs of ``release`` to ``config.url``; raise ``PushError`` on the first
    failure (with what was done so far in its ``result``). The ontology and reference graphs
    go first, the documents' next, the inferred graph last."""
    started = time.monotonic()
    url = public_url(config.url)
    result = PushResult(url=url, release=release.root.name)
    state = _read_state(state_path, result.warnings)
    stores: dict[str, Any] = state.setdefault("stores", {})
    entry: dict[str, Any] = stores.setdefault(url, {})
    confirmed: dict[str, str] = entry.setdefault("graphs", {})
    session = _session(config, sleep)
    try:
        with _ReleaseGraphs(release) as graphs:
            iris = Iris(config.base_iri)
            names = ordered(
                graphs.names(),
                first=(str(iris.ontology_graph()), str(iris.reference_graph())),
                last=(str(iris.inferred_graph()),),
            )
            result.total = len(names)
            if graphs.default_graph_used():
                result.warnings.append(
                    "the release's default graph is not empty; --push sends named graphs only"
                )
            progress(f"pushing {len(names)} graph(s) of {release.root.name} to {url}")
            if config.push_all and confirmed:
                # Forget every digest first: a push killed half-way must not leave a graph
                # marked as confirmed whose PUT never completed. (Without push_all a graph is
                # sent only when its digest differs from the recorded one, so a record left
                # behind by a kill never matches it.) The names stay, for prune.
                confirmed.update(dict.fromkeys(confirmed, ""))
                _save_state(state_path, state)
            for name in names:
                data = graphs.ntriples(name)
                digest = hashlib.sha256(data).hexdigest()
                if not config.push_all and confirmed.get(name) == digest:
                    result.unchanged.append(name)
                    continue
                confirmed[name] = ""  # unknown until the store confirms the new content
                _request(session, config, "PUT", name, data, result)
                confirmed[name] = digest
                result.sent.append(name)
                result.triples += data.count(b"\n")
                result.bytes += len(data)
            gone = sorted(set(confirmed) - set(names))
            for name in gone:
                if not config.prune:
                    result.kept.append(name)
                    continue
                _request(session, config, "DELETE", name, None, result)
                del confirmed[name]
                result.deleted.append(name)
        entry["release"] = release.root.name
        entry["pushed"] = datetime.now(UTC).isoformat(timespec="seconds")
    except PushError as exc:
        exc.result = result
        raise
    finally:
        session.close()
        result.seconds = time.monotonic() - started
        if not any(confirmed.values()) and "pushed" not in entry:
            del stores[url]  # nothing ever reached this store: no record of it
        if stores or state_path.exists():
            _save_state(state_path, state)
    return result


def state_path_for(out_dir: Path) -> Path:
    return out_dir / PUSHED


# --- the release's graphs ---------------------------------------------------------------------


class _ReleaseGraphs:
    """The named graphs of a release's store, opened read-only and serialized one at a time."""

    def __init__(self, release: Release) -> None:
        self.path = release.store

    def __enter__(self) -> _ReleaseGraphs:
        try:
            self.store = ox.Store.read_only(str(self.path))
        except OSError as exc:
            raise PushError(
                f"cannot open the release's store: {exc}",
                subject=str(self.path),
                hint="rebuild with kg-build --force",
            ) from exc
        return self

    def __exit__(self, *exc: object) -> None:
        del self.store  # RocksDB closes with its last handle

    def names(self) -> list[str]:
        return [g.value for g in self.store.named_graphs() if isinstance(g, ox.NamedNode)]

    def default_graph_used(self) -> bool:
        quads = self.store.quads_for_pattern(None, None, None, ox.DefaultGraph())
        return next(iter(quads), None) is not None

    def ntriples(self, name: str) -> bytes:
        data = self.store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(name))
        return data or b""


# --- HTTP -------------------------------------------------------------------------------------


def _session(config: PushConfig, sleep: Callable[[float], None]) -> requests.Session:
    session = requests.Session()
    retry = RetryPolicy(
        total=config.retries,
        connect=config.retries,
        read=config.retries,
        status=config.retries,
        backoff_factor=config.backoff,
        backoff_max=60.0,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"PUT", "DELETE"}),
        respect_retry_after_header=True,
        raise_on_status=False,  # the last answer is reported with its status
        pause=sleep,
        max_wait=60.0,
    )
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    if config.token:
        session.headers["Authorization"] = f"Bearer {config.token}"
    elif config.user:
        user, _, password = config.user.partition(":")
        session.auth = (user, password)
    return session


def _request(
    session: requests.Session,
    config: PushConfig,
    method: str,
    graph: str,
    data: bytes | None,
    result: PushResult,
) -> None:
    url = public_url(config.url)
    what = f"{method} <{graph}>"
    done = f" ({len(result.sent)} of {result.total} graph(s) sent before)" if result.sent else ""
    headers = {"Content-Type": CONTENT_TYPE} if data is not None else {}
    try:
        response = session.request(
            method,
            config.url,
            params={"graph": graph},
            data=data,
            headers=headers,
            timeout=(config.connect_timeout, config.timeout),
        )
    except requests.exceptions.RequestException as exc:
        kind = None if _refused(exc) else is_timeout(exc)
        attempts = f"{config.retries + 1} attempt(s)"
        if kind == "read":
            message = f"no answer within {config.timeout:g} s ({attempts})"
            hint = "The store is slow or the graph large: raise --push-timeout."
        elif kind == "connect":
            message = f"no connection within {config.connect_timeout:g} s ({attempts})"
            hint = "Is the store running at this address?"
        elif isinstance(exc, requests.exceptions.ConnectionError):
            reason = CONNECTION_PREFIX.sub("", first_reason(exc))
            message = f"cannot connect: {reason} ({attempts})"
            hint = "Is the store running at this address?"
        else:
            message = f"request failed: {first_reason(exc)}"
            hint = "Check the URL."
        raise PushError(f"{what}: {message}{done}", subject=url, hint=f"{hint} {_LOCAL}") from exc
    status = response.status_code
    if 200 <= status < 300 or (method == "DELETE" and status == 404):
        return
    retries = getattr(getattr(response.raw, "retries", None), "history", ()) or ()
    tried = f" after {len(retries)} retries" if retries else ""
    said = _store_message(response)
    raise PushError(
        f"{what}: HTTP {status} {response.reason or ''}".rstrip()
        + tried
        + (f": {said}" if said else "")
        + done,
        subject=url,
        hint=f"{_status_hint(status)}. {_LOCAL}",
    )


_LOCAL = "The release stays published locally; the next kg-build --push resumes."


def _refused(exc: BaseException) -> bool:
    """Whether the connection itself failed (refused, unknown host): urllib3 2 makes that
    error a subclass of its connect timeout, which it is not."""
    seen: BaseException | None = exc
    for _ in range(6):
        if seen is None:
            return False
        if isinstance(seen, NewConnectionError | NameResolutionError):
            return True
        seen = inner_cause(seen)
    return False


def _store_message(response: requests.Response) -> str:
    """The first words of the store's error body, if it is text (not an HTML page)."""
    media = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if media and not (media.startswith("text/plain") or media.endswith("json")):
        return ""
    try:
        text = " ".join(response.text.split())
    except (UnicodeDecodeError, LookupError):
        return ""
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def _status_hint(status: int) -> str:
    if status in {401, 403}:
        return (
            "the store refuses the credentials: check --push-token (KG_PUSH_TOKEN) or "
            "--push-user (KG_PUSH_USER)"
        )
    if status in {404, 405}:
        return (
            "is the URL the store's Graph Store endpoint (Oxigraph: /store, Fuseki: "
            f"/<dataset>/data, Virtuoso: /sparql-graph-crud-auth)? See {DOCS_HINT}"
        )
    if status == 413:
        return f"the graph is larger than the store takes: bulk-load the N-Quads dump ({DOCS_HINT})"
    if status == 415:
        return "the store does not accept Turtle (text/turtle)"
    if status == 429 or status >= 500:
        return "the store is failing or overloaded: try again later"
    return "the store refused the graph"


# --- the state: what each store last confirmed ------------------------------------------------


def _read_state(path: Path, warnings: list[str]) -> dict[str, Any]:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"version": STATE_VERSION, "stores": {}}
    except (OSError, ValueError) as exc:
        warnings.append(f"{path}: unreadable ({exc}); every graph is pushed again")
        return {"version": STATE_VERSION, "stores": {}}
    if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
        warnings.append(f"{path}: unknown format; every graph is pushed again")
        return {"version": STATE_VERSION, "stores": {}}
    return state


def _save_state(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` atomically (a temporary file renamed over the old one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(state, out, indent=1, sort_keys=True)
            out.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def graphs_of(release: Release) -> Iterator[tuple[str, int]]:
    """Each named graph of ``release`` with its triple count (for checks and tests)."""
    with _ReleaseGraphs(release) as graphs:
        for name in graphs.names():
            yield name, graphs.ntriples(name).count(b"\n")


__all__ = [
    "PushConfig",
    "PushResult",
    "check_url",
    "graphs_of",
    "ordered",
    "public_url",
    "push",
    "state_path_for",
]
