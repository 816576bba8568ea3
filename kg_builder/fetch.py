"""Web pages as sources: fetch URLs politely, save each page as a file, then parse it as usual.

One ``requests`` session per build, wrapped by requests-cache (SQLite under
``<out-dir>/cache/http``): a page is stored only when it carries a validator (``ETag`` or
``Last-Modified``) and is revalidated on every later run (``If-None-Match`` /
``If-Modified-Since``; a ``304`` reuses the stored copy), unless the site's ``Cache-Control``
says it is still fresh. Every request that reaches the network passes one gate: the host's
``robots.txt`` (RFC 9309, read with protego, once per host: a missing file allows all, an
unreachable one — 5xx, 429, no answer — disallows all) and a minimum interval between two
requests to one host (the larger of ``fetch_interval`` and the site's ``Crawl-delay``).
urllib3 retries connection errors, timeouts and 429/500/502/503/504 with exponential backoff,
honouring ``Retry-After`` up to a bound. Redirects are limited. A response must be
``text/html``, ``application/xhtml+xml`` or ``text/plain``; its body is read as a stream and
refused past ``parse.MAX_BYTES`` (the same limit as for a file), without reading the rest.

Each page is saved as ``<out-dir>/sources/<host>/<slug>.html`` (or ``.txt``) with a sidecar
``<file>.json`` (URL, final URL, status, validators, fetch time, SHA-256), then parsed by the
ordinary ``parse.parse``; ``source_url_for(path)`` gives the URL back for provenance. The
character set follows HTML's order of evidence: a byte-order mark, then the ``Content-Type``
charset, then the page's ``<meta charset>`` (read by ``html_source.decode_html``). A page whose
header names a legacy charset, and whose bytes are not UTF-8, is saved transcoded to UTF-8 with
a byte-order mark so that both readers read it as the site meant.

Failures are per source: ``fetch_all`` and ``crawl`` return the saved paths and one
``SourceError`` per URL that failed (``url: what went wrong — hint``). An "error page served
with status 200" is saved like any page; the parser refuses it with a ``ParseError`` (no
recognisable article), which the pipeline reports under the page's URL (``source_url_for``).
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, parse_qsl, urldefrag, urljoin, urlsplit

import requests
import requests_cache
from lxml import etree
from protego import Protego
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, ReadTimeoutError
from urllib3.util.retry import Retry

from kg_builder import __version__
from kg_builder.config import BuildConfig
from kg_builder.errors import KgError, SourceError
from kg_builder.iris import slugify
from kg_builder.parse import MAX_BYTES
from kg_builder.sidecar import (  # noqa: F401 (also named here, where they are written)
    SIDECAR_SUFFIX,
    is_url,
    read_sidecar,
    sidecar_path,
    source_url_for,
)

PROJECT_URL = "https://w3id.org/osce-kg/"
USER_AGENT = f"osce-kg/{__version__} (+{PROJECT_URL})"
ROBOTS_AGENT = "osce-kg"  # the product token that robots.txt groups are matched against
ACCEPTED_TYPES = {
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "text/plain": ".txt",
}
RETRY_STATUSES = (429, 500, 502, 503, 504)
CHUNK = 64 * 1024
MAX_SLUG = 80
# Links that lead to files, not pages: a crawl does not follow them.
NOT_PAGES = re.compile(
    r"\.(pdf|docx?|xlsx?|pptx?|odt|zip|gz|jpe?g|png|gif|svg|webp|mp[34]|avi|mov|ics|xml|rss)$",
    re.I,
)
PAGE_SUFFIX = re.compile(r"\.(html?|txt|php|aspx?)$", re.I)  # left out of file names
PAGER_CLASS = re.compile(r"pag(er|ination)", re.I)
NEXT_TEXT = re.compile(r"^(next( page)?|›|»|next ›|next »|>)$", re.I)
POOL_PREFIX = re.compile(r"^(<[^>]*>|\w*ConnectionPool\([^)]*\)): ")
SKIPPED_CONTAINERS = frozenset({"nav", "header", "footer", "aside"})


@dataclass(frozen=True)
class Page:
    """One fetched response: the body as received and what the server said about it."""

    url: str  # as requested
    final_url: str  # after redirects
    status: int
    content_type: str
    charset: str | None
    body: bytes
    etag: str | None = None
    last_modified: str | None = None
    from_cache: bool = False
    revalidated: bool = False


@dataclass
class FetchOutcome:
    """What a batch of URLs gave: the saved pages, and one error per URL that failed."""

    paths: list[Path] = field(default_factory=list)
    failures: list[SourceError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def extend(self, other: FetchOutcome) -> None:
        self.paths.extend(other.paths)
        self.failures.extend(other.failures)
        self.warnings.extend(other.warnings)


class _Refused(Exception):
    """Raised from inside the session (the gate, the response hook) and turned into a
    ``SourceError`` naming the URL that was asked for."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class RetryPolicy(Retry):
    """urllib3's retry policy with an injectable sleep and a bound on ``Retry-After``."""

    def __init__(
        self,
        *args: Any,
        pause: Callable[[float], None] = time.sleep,
        max_wait: float = 120.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.pause = pause
        self.max_wait = max_wait

    def new(self, **kw: Any) -> RetryPolicy:
        retry = super().new(**kw)
        retry.pause = self.pause
        retry.max_wait = self.max_wait
        return retry

    def sleep(self, response: Any = None) -> None:
        wait = None
        if self.respect_retry_after_header and response is not None:
            wait = self.get_retry_after(response)
        if wait is None:
            wait = self.get_backoff_time()
        wait = min(wait, self.max_wait)
        if wait > 0:
            self.pause(wait)


class _GatedAdapter(HTTPAdapter):
    """An adapter that lets a request reach the network only through ``gate`` (robots.txt and
    the per-host interval); redirects and revalidations pass it too, cache hits do not."""

    def __init__(self, gate: Callable[[str], None], **kwargs: Any) -> None:
        self._gate = gate
        super().__init__(**kwargs)

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        self._gate(str(request.url))
        return super().send(request, *args, **kwargs)


class Fetcher:
    """Fetches pages politely and saves them under ``out_dir``; one per build.

    ``clock`` and ``sleep`` are injectable so that tests check the pauses without waiting.
    """

    def __init__(
        self,
        out_dir: Path,
        *,
        interval: float = 1.0,
        timeout: float = 30.0,
        connect_timeout: float | None = None,
        retries: int = 3,
        backoff: float = 1.0,
        max_retry_after: float = 120.0,
        max_redirects: int = 10,
        max_bytes: int = MAX_BYTES,
        max_crawl_delay: float = 60.0,
        crawl_seconds: float = 3600.0,
        user_agent: str = USER_AGENT,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.out_dir = out_dir
        self.sources_dir = out_dir / "sources"
        self.interval = interval
        self.timeout = (connect_timeout or min(timeout, 10.0), timeout)
        self.retries = retries
        self.max_redirects = max_redirects
        self.max_bytes = max_bytes
        self.max_crawl_delay = max_crawl_delay
        self.crawl_seconds = crawl_seconds
        self.user_agent = user_agent
        self.clock = clock
        self.sleep = sleep
        self.now = now
        self._robots: dict[str, Protego | str] = {}  # origin -> rules, or why it disallows all
        self._last: dict[str, float] = {}  # host -> clock time of its last request
        self._lock = threading.Lock()
        cache_dir = out_dir / "cache"
        cache_dir.mkdir(parents=True, exist_ok=True)
        self.session = requests_cache.CachedSession(
            str(cache_dir / "http"),
            backend="sqlite",
            expire_after=requests_cache.EXPIRE_IMMEDIATELY,  # keep only what can be revalidated
            cache_control=True,  # … unless the site says a page is still fresh
            allowable_codes=(200,),
            allowable_methods=("GET",),
            stale_if_error=False,
        )
        retry = RetryPolicy(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            backoff_factor=backoff,
            backoff_max=max_retry_after,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET", "HEAD"}),
            respect_retry_after_header=True,
            raise_on_status=False,  # the last response is reported with its status
            raise_on_redirect=False,
            redirect=None,  # requests follows redirects itself, up to max_redirects
            pause=sleep,
            max_wait=max_retry_after,
        )
        adapter = _GatedAdapter(self._gate, max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.max_redirects = max_redirects
        self.session.headers["User-Agent"] = user_agent
        self.session.headers["Accept"] = "text/html,application/xhtml+xml,text/plain;q=0.9"
        self.session.hooks["response"].append(self._read_body)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- fetching -------------------------------------------------------------------------

    def get(self, url: str) -> Page:
        """Fetch one page (through the cache); a ``SourceError`` naming ``url`` if refused."""
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise SourceError(
                "not an http(s) URL", subject=url, hint="write it as https://host/path"
            )
        try:
            response = self.session.get(url, timeout=self.timeout, allow_redirects=True)
        except _Refused as exc:
            raise SourceError(exc.message, subject=url, hint=exc.hint) from exc
        except requests.exceptions.TooManyRedirects as exc:
            raise SourceError(
                f"more than {self.max_redirects} redirects (a redirect loop?)",
                subject=url,
                hint="open the URL in a browser to see where it leads",
            ) from exc
        except requests.exceptions.RequestException as exc:
            if is_timeout(exc):
                raise self._timed_out(url, exc) from exc
            raise _request_error(url, exc) from exc
        return self._page(url, response)

    def _timed_out(self, url: str, exc: Exception) -> SourceError:
        connect, read = self.timeout
        reading = is_timeout(exc) == "read"
        return SourceError(
            f"no {'data' if reading else 'connection'} within {read if reading else connect:g} s "
            f"(timeout; tried {self.retries + 1} time(s))",
            subject=url,
            hint="the site is slow or down: try again later, or raise --fetch-timeout",
        )

    def _page(self, url: str, response: requests.Response) -> Page:
        status = response.status_code
        if status != 200:
            raise SourceError(
                f"HTTP {status} {response.reason or ''}".rstrip() + _retried(response),
                subject=url,
                hint=_status_hint(status),
            )
        media, charset = _content_type(response.headers.get("Content-Type", ""))
        return Page(
            url=url,
            final_url=response.url,
            status=status,
            content_type=media,
            charset=charset,
            body=response.content,
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
            from_cache=bool(getattr(response, "from_cache", False)),
            revalidated=bool(getattr(response, "revalidated", False)),
        )

    def fetch(self, url: str) -> Path:
        """Fetch ``url`` and save it (with its sidecar) under ``out_dir/sources``."""
        return self.save(self.get(url))

    def fetch_all(self, urls: Iterable[str]) -> FetchOutcome:
        """Fetch each URL once, in order; a failure is recorded and the others go on."""
        outcome = FetchOutcome()
        seen: set[str] = set()
        for url in urls:
            key = urldefrag(url).url
            if key in seen:
                continue
            seen.add(key)
            try:
                outcome.paths.append(self.fetch(url))
            except SourceError as exc:
                outcome.failures.append(exc)
        return outcome

    # --- saving ---------------------------------------------------------------------------

    def path_for(self, url: str, content_type: str = "text/html") -> Path:
        """Where the page of ``url`` is saved: ``sources/<host>/<slug><suffix>``."""
        parts = urlsplit(url)
        host = slugify((parts.netloc or "unknown").replace(":", "_"))
        page_path = PAGE_SUFFIX.sub("", parts.path)
        slug = slugify(page_path + ("-" + parts.query if parts.query else ""))
        if slug == "x":
            slug = "index"
        if len(slug) > MAX_SLUG:
            digest = hashlib.sha256(urldefrag(url).url.encode()).hexdigest()[:10]
            slug = f"{slug[: MAX_SLUG - 11].rstrip('-')}-{digest}"
        return self.sources_dir / host / f"{slug}{ACCEPTED_TYPES.get(content_type, '.html')}"

    def save(self, page: Page) -> Path:
        data, note = for_reader(page.body, page.charset)
        path = self.path_for(page.url, page.content_type)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_bytes() != data:
            _write_bytes(path, data)
        sidecar = {
            "url": page.url,
            "final_url": page.final_url,
            "status": page.status,
            "content_type": page.content_type,
            "charset": page.charset,
            "charset_note": note,
            "etag": page.etag,
            "last_modified": page.last_modified,
            "from_cache": page.from_cache,
            "revalidated": page.revalidated,
            "fetched": self.now().isoformat(timespec="seconds"),
            "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "user_agent": self.user_agent,
        }
        _write_bytes(
            sidecar_path(path), (json.dumps(sidecar, indent=2, sort_keys=True) + "\n").encode()
        )
        return path

    # --- the gate: robots.txt and the per-host interval -------------------------------------

    def _gate(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.path != "/robots.txt":
            self._check_robots(url)
        self._wait_turn(parts.netloc.lower(), self._delay_for(url))

    def _origin(self, url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc.lower()}"

    def _rules(self, url: str) -> Protego | str:
        origin = self._origin(url)
        if origin not in self._robots:
            self._robots[origin] = self._read_robots(origin)
        return self._robots[origin]

    def _read_robots(self, origin: str) -> Protego | str:
        robots_url = f"{origin}/robots.txt"
        try:
            response = self.session.get(robots_url, timeout=self.timeout)
        except (requests.exceptions.RequestException, _Refused) as exc:
            reason = exc.message if isinstance(exc, _Refused) else first_reason(exc)
            return f"robots.txt could not be read ({reason}), so the whole site is disallowed"
        status = response.status_code
        if status == 429 or status >= 500:
            return f"robots.txt answered HTTP {status}, so the whole site is disallowed"
        if status >= 400:
            return Protego.parse("")  # no robots.txt: everything is allowed (RFC 9309 2.3.1.3)
        text = response.content.decode("utf-8", errors="replace")
        return Protego.parse(text)

    def _check_robots(self, url: str) -> None:
        rules = self._rules(url)
        if isinstance(rules, str):
            raise _Refused(rules, hint="try again later; the site's robots.txt must be readable")
        if not rules.can_fetch(url, ROBOTS_AGENT):
            raise _Refused(
                f"disallowed by {self._origin(url)}/robots.txt for {ROBOTS_AGENT}",
                hint="the site asks robots not to fetch this page; leave it out, or save it "
                "by hand and pass the file if you may",
            )

    def _delay_for(self, url: str) -> float:
        if urlsplit(url).path == "/robots.txt":
            return self.interval
        rules = self._robots.get(self._origin(url))
        asked = rules.crawl_delay(ROBOTS_AGENT) if isinstance(rules, Protego) else None
        return max(self.interval, min(float(asked or 0), self.max_crawl_delay))

    def _wait_turn(self, host: str, interval: float) -> None:
        with self._lock:
            last = self._last.get(host)
            if last is not None:
                wait = last + interval - self.clock()
                if wait > 0:
                    self.sleep(wait)
            self._last[host] = self.clock()

    # --- the response hook: content type and size -------------------------------------------

    def _read_body(self, response: requests.Response, *args: Any, **kwargs: Any) -> Any:
        """Read the body of a network response within the size cap (before requests-cache
        stores it and before requests follows a redirect)."""
        if getattr(response, "from_cache", False) or response._content_consumed:  # type: ignore[attr-defined]
            return response
        status = response.status_code
        if 200 <= status < 300 and urlsplit(response.url).path != "/robots.txt":
            media, _ = _content_type(response.headers.get("Content-Type", ""))
            if media not in ACCEPTED_TYPES:
                response.close()
                raise _Refused(
                    f"is {media or 'of no declared type'}, not an HTML or text page",
                    hint="only text/html and text/plain pages are read",
                )
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            response.close()
            raise _Refused(
                f"is {int(declared)} bytes, more than the {self.max_bytes}-byte limit for one "
                "page (not downloaded)",
                hint="is the URL a file download rather than a page?",
            )
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.raw.stream(CHUNK, decode_content=True):
                size += len(chunk)
                if size > self.max_bytes:
                    response.close()
                    raise _Refused(
                        f"is more than the {self.max_bytes}-byte limit for one page (stopped "
                        f"reading after {size} bytes)",
                        hint="is the URL a file download rather than a page?",
                    )
                chunks.append(chunk)
        except _Refused:
            raise
        except Exception as exc:  # urllib3's protocol, decoding and timeout errors
            if is_timeout(exc):
                raise _Refused(
                    f"the body stopped coming for {self.timeout[1]:g} s (timeout)",
                    hint="the site is slow or down: try again later, or raise --fetch-timeout",
                ) from exc
            raise _Refused(
                f"the body could not be read: {first_reason(exc)}",
                hint="the connection broke; try again later",
            ) from exc
        response._content = b"".join(chunks)
        response._content_consumed = True  # type: ignore[attr-defined]
        return response

    # --- crawling -------------------------------------------------------------------------

    def crawl(
        self, listing_url: str, max_pages: int, *, item_pattern: str | None = None
    ) -> FetchOutcome:
        """Follow a listing page's items and its pagination (same host only), saving at most
        ``max_pages`` item pages; stops when a listing page adds no new item, when there is no
        next page, or after ``crawl_seconds``."""
        outcome = FetchOutcome()
        pattern = re.compile(item_pattern) if item_pattern else None
        host = (urlsplit(listing_url).hostname or "").lower()
        deadline = self.clock() + self.crawl_seconds
        listings: set[str] = set()
        items: set[str] = set()
        next_url: str | None = listing_url
        while next_url is not None and len(items) < max_pages:
            if self.clock() > deadline:
                outcome.warnings.append(
                    f"{listing_url}: crawl stopped after {self.crawl_seconds:g} s with "
                    f"{len(outcome.paths)} page(s)"
                )
                break
            listings.add(urldefrag(next_url).url)
            try:
                listing = self.get(next_url)
            except SourceError as exc:
                outcome.failures.append(exc)
                break
            links = listing_links(listing.body, listing.final_url, listing.charset)
            new = [
                u
                for u in links.items
                if u not in items
                and u not in listings
                and (urlsplit(u).hostname or "").lower() == host
                and (pattern is None or pattern.search(u))
            ]
            if not new:
                break
            for item in new[: max_pages - len(items)]:
                items.add(item)
                try:
                    outcome.paths.append(self.fetch(item))
                except SourceError as exc:
                    outcome.failures.append(exc)
            following = links.next
            if following is not None and (
                (urlsplit(following).hostname or "").lower() != host
                or urldefrag(following).url in listings
            ):
                following = None
            next_url = following
        return outcome


# --- the build's entry points --------------------------------------------------------------


def fetch_sources(config: BuildConfig) -> FetchOutcome:
    """Fetch ``config.urls`` and crawl ``config.crawl`` with one ``Fetcher``."""
    with Fetcher(
        config.out_dir, interval=config.fetch_interval, timeout=config.fetch_timeout
    ) as fetcher:
        outcome = fetcher.fetch_all(config.urls)
        for listing in config.crawl:
            outcome.extend(fetcher.crawl(listing, config.max_pages))
    return outcome


def combined_failure(outcome: FetchOutcome) -> SourceError:
    """One error for all the URLs that failed (the build stops on them without
    ``--keep-going``)."""
    if len(outcome.failures) == 1:
        return outcome.failures[0]
    lines = "\n  ".join(str(f) for f in outcome.failures)
    return SourceError(
        f"{len(outcome.failures)} URL(s) could not be fetched:\n  {lines}",
        subject="sources",
        hint="fix or leave out those URLs",
    )


# --- listing pages ------------------------------------------------------------------------


@dataclass(frozen=True)
class ListingLinks:
    items: list[str]
    next: str | None


def listing_links(body: bytes, url: str, charset: str | None = None) -> ListingLinks:
    """The item links of a listing page (in its main content, outside menus, headers, footers,
    sidebars and the pager) and its next page (``rel="next"``, a pager link saying "next", or
    the link to ``?page=N+1``)."""
    from kg_builder.html_source import decode_html  # it imports the parser, which is heavy

    data, _ = for_reader(body, charset)
    try:
        text, _warnings = decode_html(data, Path("listing"))
    except KgError:
        return ListingLinks([], None)
    parser = etree.HTMLParser(remove_comments=True, encoding="utf-8")
    root = etree.fromstring(text.encode("utf-8"), parser=parser)
    if root is None:
        return ListingLinks([], None)
    anchors = [a for a in root.iter("a") if a.get("href")]
    base_tag = next((b for b in root.iter("base") if b.get("href")), None)
    base = urljoin(url, base_tag.get("href", "")) if base_tag is not None else url
    here = urlsplit(url)

    def resolve(element: etree._Element) -> str | None:
        href = (element.get("href") or "").strip()
        if not href or href.startswith(("#", "mailto:", "javascript:", "tel:")):
            return None
        target = urldefrag(urljoin(base, href)).url
        return target if urlsplit(target).scheme in {"http", "https"} else None

    next_url = _next_page(root, anchors, here, resolve)
    main = next(
        (e for e in root.iter() if e.tag == "main" or e.get("role") == "main"),
        next(root.iter("body"), root),
    )
    items: list[str] = []
    for anchor in main.iter("a"):
        if any(
            a.tag in SKIPPED_CONTAINERS or PAGER_CLASS.search(a.get("class") or "")
            for a in anchor.iterancestors()
        ):
            continue
        target = resolve(anchor)
        if target is None or target == next_url or target in items:
            continue
        parts = urlsplit(target)
        if parts.path.rstrip("/") == here.path.rstrip("/") or NOT_PAGES.search(parts.path):
            continue  # the listing itself (other pages, filters) or a file
        items.append(target)
    return ListingLinks(items, next_url)


def _next_page(
    root: etree._Element,
    anchors: list[etree._Element],
    here: SplitResult,
    resolve: Callable[[etree._Element], str | None],
) -> str | None:
    """A listing's next page: ``rel="next"``, else a pager link saying "next", else the
    link to the same path with ``page`` one more than this page's (or 1 or 2 on the first)."""
    for element in root.iter("a", "link"):
        if "next" in (element.get("rel") or "").lower().split():
            found = resolve(element)
            if found:
                return found
    for anchor in anchors:
        if not any(PAGER_CLASS.search(a.get("class") or "") for a in anchor.iterancestors()):
            continue
        label = " ".join("".join(str(t) for t in anchor.itertext()).split())
        parent = anchor.getparent()
        classes = (anchor.get("class") or "") + " "
        classes += (parent.get("class") or "") if parent is not None else ""
        if NEXT_TEXT.match(label) or "next" in classes.lower():
            found = resolve(anchor)
            if found:
                return found
    query = dict(parse_qsl(here.query))
    current = int(query["page"]) if query.get("page", "").isdigit() else None
    wanted = {str(current + 1)} if current is not None else {"1", "2"}
    for anchor in anchors:
        target = resolve(anchor)
        if target is None:
            continue
        parts = urlsplit(target)
        if parts.path == here.path and dict(parse_qsl(parts.query)).get("page") in wanted:
            return target
    return None


# --- bytes, charsets, files ---------------------------------------------------------------


def _content_type(header: str) -> tuple[str, str | None]:
    """The media type (lower case) and the charset label of a ``Content-Type`` header."""
    if not header.strip():
        return "", None
    message = Message()
    message["Content-Type"] = header
    charset = message.get_param("charset")
    label = charset.strip().strip("\"'").lower() if isinstance(charset, str) else None
    return message.get_content_type().lower(), label or None


def for_reader(body: bytes, charset: str | None) -> tuple[bytes, str | None]:
    """The bytes to save so that the file readers (which know BOMs and ``<meta charset>``, not
    HTTP headers) read the characters the server declared; and a note on what was done.

    A BOM wins; bytes that are UTF-8 stay as they are (a legacy label on UTF-8 bytes is a
    common misconfiguration, and multi-byte UTF-8 sequences do not happen by chance); else the
    header's charset (``latin-1`` and ``ascii`` read as Windows-1252, as browsers do) is used
    to transcode the page to UTF-8 with a BOM."""
    if charset is None or body.startswith(
        (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    ):
        return body, None
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return body, None
    try:
        encoding = codecs.lookup(charset).name
    except LookupError:
        return body, f"the server declared an unknown charset {charset!r}; saved as received"
    if encoding in {"latin-1", "iso8859-1", "ascii"}:
        encoding = "cp1252"
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError:
        return body, f"the bytes are not {charset} as the server declared; saved as received"
    return codecs.BOM_UTF8 + text.encode("utf-8"), f"transcoded from {charset} to UTF-8"


def _write_bytes(path: Path, data: bytes) -> None:
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def is_timeout(exc: BaseException) -> str | None:
    """``"read"`` or ``"connect"`` if a timeout is somewhere in the error chain."""
    seen: BaseException | None = exc
    for _ in range(6):
        if seen is None:
            return None
        if isinstance(seen, requests.exceptions.ConnectTimeout | ConnectTimeoutError):
            return "connect"
        if isinstance(seen, requests.exceptions.ReadTimeout | ReadTimeoutError):
            return "read"
        seen = inner_cause(seen)
    return None


def inner_cause(exc: BaseException) -> BaseException | None:
    inner = getattr(exc, "reason", None)
    if not isinstance(inner, BaseException) and exc.args and isinstance(exc.args[0], BaseException):
        inner = exc.args[0]
    return inner if isinstance(inner, BaseException) else None


def _request_error(url: str, exc: requests.exceptions.RequestException) -> SourceError:
    if isinstance(exc, requests.exceptions.SSLError):
        return SourceError(
            f"TLS error: {first_reason(exc)}",
            subject=url,
            hint="the site's certificate is not trusted",
        )
    if isinstance(exc, requests.exceptions.ConnectionError):
        return SourceError(
            f"cannot connect: {first_reason(exc)}",
            subject=url,
            hint="check the host name and the network",
        )
    return SourceError(f"request failed: {first_reason(exc)}", subject=url, hint="check the URL")


def first_reason(exc: BaseException) -> str:
    """The innermost useful message of a requests/urllib3 error chain."""
    reason: BaseException = exc
    for _ in range(6):
        inner = inner_cause(reason)
        if inner is None:
            break
        reason = inner
    text = str(reason).strip() or type(reason).__name__
    # urllib3 names the connection object or pool first: "<…HTTPConnection object at …>: "
    return POOL_PREFIX.sub("", text)


def _retried(response: requests.Response) -> str:
    retries = getattr(response.raw, "retries", None)
    history = getattr(retries, "history", ()) or ()
    return f" (after {len(history)} retries)" if history else ""


def _status_hint(status: int) -> str:
    if status in {404, 410}:
        return "check the URL; the page is gone or never existed"
    if status in {401, 403}:
        return "the site refuses the request; the page may need a login"
    if status == 429:
        return "the site asks for fewer requests: raise --fetch-interval"
    if status >= 500:
        return "the site is failing; try again later"
    return "the page could not be fetched"


__all__ = [
    "RETRY_STATUSES",
    "USER_AGENT",
    "FetchOutcome",
    "Fetcher",
    "ListingLinks",
    "Page",
    "RetryPolicy",
    "combined_failure",
    "fetch_sources",
    "first_reason",
    "for_reader",
    "inner_cause",
    "is_timeout",
    "is_url",
    "listing_links",
    "read_sidecar",
    "source_url_for",
]
