"""Web pages as sources (``kg_builder.fetch``), against a local pytest-httpserver: never the
internet. Pauses (rate limit, Retry-After, backoff) go through a fake clock, so no test waits
for them or asserts on wall time."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from kg_builder.errors import ParseError, SourceError
from kg_builder.fetch import (
    USER_AGENT,
    Fetcher,
    for_reader,
    listing_links,
    read_sidecar,
    source_url_for,
)
from kg_builder.parse import MAX_BYTES, parse
from kg_builder.pipeline import collect_sources
from tests.conftest import FIXTURES, read_plain

HTML = FIXTURES / "html"
DCTERMS_SOURCE = ox.NamedNode("http://purl.org/dc/terms/source")
DEVSET = FIXTURES / "devset"
HTML_TYPE = "text/html; charset=utf-8"


class FakeClock:
    """A monotonic clock that moves only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def site(httpserver: HTTPServer) -> HTTPServer:
    """The local server, with no robots.txt (everything allowed)."""
    httpserver.expect_request("/robots.txt").respond_with_data("not found", status=404)
    return httpserver


def make_fetcher(out: Path, clock: FakeClock, **kwargs: object) -> Fetcher:
    settings: dict[str, object] = {
        "interval": 0.0,
        "timeout": 2.0,
        "retries": 2,
        "backoff": 0.5,
        "clock": clock.clock,
        "sleep": clock.sleep,
    }
    settings.update(kwargs)
    return Fetcher(out, **settings)  # type: ignore[arg-type]


@pytest.fixture
def fetcher(tmp_path: Path, clock: FakeClock) -> Iterator[Fetcher]:
    with make_fetcher(tmp_path / "out", clock) as f:
        yield f


def paths_requested(server: HTTPServer) -> list[str]:
    return [request.path for request, _ in server.log]


# --- fixtures served and parsed ----------------------------------------------------------


@pytest.mark.parametrize("name", ["full_dev01.html", "newsroom_dev03.html", "news_item_dev14.html"])
def test_fetched_html_page_parses_like_the_saved_file(
    site: HTTPServer, fetcher: Fetcher, name: str
) -> None:
    data = (HTML / name).read_bytes()
    site.expect_request(f"/en/{name}").respond_with_data(data, content_type="text/html")
    url = site.url_for(f"/en/{name}")
    path = fetcher.fetch(url)
    assert path.parent.name.startswith("localhost")
    assert path.suffix == ".html"
    fetched, saved = parse(path), parse(HTML / name)
    assert (fetched.title, fetched.layout, fetched.date, fetched.text) == (
        saved.title,
        saved.layout,
        saved.date,
        saved.text,
    )
    assert source_url_for(path) == url
    sidecar = read_sidecar(path)
    assert sidecar is not None
    assert sidecar["final_url"] == url
    assert sidecar["status"] == 200
    assert len(sidecar["sha256"]) == 64


def test_text_page_is_saved_as_txt_and_parsed(site: HTTPServer, fetcher: Fetcher) -> None:
    source = DEVSET / "dev02_gid_geneva_2017-12-13.txt"
    site.expect_request("/dev02").respond_with_data(
        source.read_bytes(), content_type="text/plain; charset=utf-8"
    )
    path = fetcher.fetch(site.url_for("/dev02"))
    assert path.name == "dev02.txt"
    assert parse(path).text == parse(source).text


def test_user_agent_names_the_project(site: HTTPServer, fetcher: Fetcher) -> None:
    site.expect_request("/p").respond_with_data("<h1>T</h1>", content_type="text/html")
    fetcher.get(site.url_for("/p"))
    agents = {request.headers.get("User-Agent") for request, _ in site.log}
    assert agents == {USER_AGENT}
    assert USER_AGENT.startswith("osce-kg/") and "(+http" in USER_AGENT


def test_header_charset_is_honoured(site: HTTPServer, fetcher: Fetcher) -> None:
    """A Windows-1252 text page whose charset only the HTTP header names."""
    source = DEVSET / "dev02_gid_geneva_2017-12-13.txt"
    text = source.read_text(encoding="utf-8")
    site.expect_request("/legacy").respond_with_data(
        text.encode("cp1252"), content_type="text/plain; charset=windows-1252"
    )
    path = fetcher.fetch(site.url_for("/legacy"))
    doc = parse(path)
    assert doc.text == text
    assert not doc.warnings
    sidecar = read_sidecar(path)
    assert sidecar is not None
    assert sidecar["charset_note"] == "transcoded from windows-1252 to UTF-8"


def test_utf8_bytes_under_a_latin1_label_stay_utf8() -> None:
    body = "<p>Zürich</p>".encode()
    assert for_reader(body, "iso-8859-1") == (body, None)
    assert for_reader(b"\xef\xbb\xbfcaf\xc3\xa9", "iso-8859-1")[1] is None  # a BOM wins


# --- HTTP failures, each a SourceError naming the URL --------------------------------------


def test_404_is_a_source_error_naming_the_url(site: HTTPServer, fetcher: Fetcher) -> None:
    site.expect_request("/gone").respond_with_data("no", status=404)
    url = site.url_for("/gone")
    with pytest.raises(SourceError) as caught:
        fetcher.fetch(url)
    assert caught.value.subject == url
    assert "HTTP 404" in caught.value.message
    assert "check the URL" in caught.value.hint
    assert str(caught.value).startswith(f"{url}: HTTP 404")


def test_500_then_200_is_retried(site: HTTPServer, fetcher: Fetcher, clock: FakeClock) -> None:
    site.expect_oneshot_request("/flaky").respond_with_data("boom", status=500)
    site.expect_request("/flaky").respond_with_data("<h1>Fine</h1>", content_type="text/html")
    page = fetcher.get(site.url_for("/flaky"))
    assert page.body == b"<h1>Fine</h1>"
    assert paths_requested(site).count("/flaky") == 2
    assert clock.sleeps == []  # urllib3 does not back off before the first retry


def test_500_every_time_gives_up_after_the_retries(
    site: HTTPServer, fetcher: Fetcher, clock: FakeClock
) -> None:
    site.expect_request("/down").respond_with_data("boom", status=503)
    with pytest.raises(SourceError, match=r"HTTP 503 .*after 2 retries") as caught:
        fetcher.get(site.url_for("/down"))
    assert "try again later" in caught.value.hint
    assert paths_requested(site).count("/down") == 3
    assert clock.sleeps == [1.0]  # backoff 0.5 doubled: none before the first retry


def test_retries_back_off_exponentially(tmp_path: Path, site: HTTPServer, clock: FakeClock) -> None:
    site.expect_request("/down").respond_with_data("boom", status=502)
    with (
        make_fetcher(tmp_path, clock, retries=4, backoff=0.5) as fetcher,
        pytest.raises(SourceError, match=r"HTTP 502 .*after 4 retries"),
    ):
        fetcher.get(site.url_for("/down"))
    assert paths_requested(site).count("/down") == 5
    assert clock.sleeps == [1.0, 2.0, 4.0]


def test_429_waits_as_retry_after_says(
    site: HTTPServer, fetcher: Fetcher, clock: FakeClock
) -> None:
    site.expect_oneshot_request("/busy").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "7"}
    )
    site.expect_request("/busy").respond_with_data("<h1>Ok</h1>", content_type="text/html")
    assert fetcher.get(site.url_for("/busy")).status == 200
    assert 7.0 in clock.sleeps


def test_retry_after_is_bounded(tmp_path: Path, site: HTTPServer, clock: FakeClock) -> None:
    site.expect_oneshot_request("/busy").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "86400"}
    )
    site.expect_request("/busy").respond_with_data("<h1>Ok</h1>", content_type="text/html")
    with make_fetcher(tmp_path, clock, max_retry_after=30.0) as fetcher:
        fetcher.get(site.url_for("/busy"))
    assert max(clock.sleeps) == 30.0


def test_hanging_server_times_out(tmp_path: Path, site: HTTPServer, clock: FakeClock) -> None:
    release, done = threading.Event(), threading.Event()

    def hang(_request: Request) -> Response:
        release.wait(10)
        done.set()
        return Response("<h1>late</h1>", content_type="text/html")

    site.expect_request("/hang").respond_with_handler(hang)
    try:
        with (
            make_fetcher(tmp_path, clock, timeout=0.3, retries=0) as fetcher,
            pytest.raises(SourceError, match=r"no data within 0.3 s") as caught,
        ):
            fetcher.get(site.url_for("/hang"))
        assert "--fetch-timeout" in caught.value.hint
    finally:
        release.set()
        done.wait(10)  # the server answers before the next test starts


def test_redirect_loop_is_refused(site: HTTPServer, fetcher: Fetcher) -> None:
    site.expect_request("/a").respond_with_data("", status=302, headers={"Location": "/b"})
    site.expect_request("/b").respond_with_data("", status=302, headers={"Location": "/a"})
    with pytest.raises(SourceError, match="more than 10 redirects"):
        fetcher.get(site.url_for("/a"))
    assert len([p for p in paths_requested(site) if p in {"/a", "/b"}]) == 11  # 1 + 10 hops


def test_redirect_is_followed_and_recorded(site: HTTPServer, fetcher: Fetcher) -> None:
    site.expect_request("/old").respond_with_data("", status=301, headers={"Location": "/new"})
    site.expect_request("/new").respond_with_data("<h1>New</h1>", content_type="text/html")
    path = fetcher.fetch(site.url_for("/old"))
    sidecar = read_sidecar(path)
    assert sidecar is not None
    assert (sidecar["url"], sidecar["final_url"]) == (site.url_for("/old"), site.url_for("/new"))
    assert path.name == "old.html"


def test_other_content_types_are_refused(site: HTTPServer, fetcher: Fetcher) -> None:
    site.expect_request("/report.pdf").respond_with_data(
        b"%PDF-1.7", content_type="application/pdf"
    )
    with pytest.raises(SourceError, match="is application/pdf, not an HTML or text page"):
        fetcher.get(site.url_for("/report.pdf"))


def test_error_page_with_status_200_is_reported_by_the_parser(
    site: HTTPServer, fetcher: Fetcher
) -> None:
    site.expect_request("/node/123456").respond_with_data(
        (HTML / "no_article.html").read_bytes(), content_type="text/html"
    )
    url = site.url_for("/node/123456")
    path = fetcher.fetch(url)
    with pytest.raises(ParseError, match="no recognisable article"):
        parse(path)
    assert source_url_for(path) == url  # so the failure is reported under the URL


# --- size cap --------------------------------------------------------------------------------

FIFTY_MB = 50 * 1024 * 1024


def _big_body(sent: list[int]) -> Iterator[bytes]:
    chunk = b"<p>" + b"x" * (64 * 1024 - 7) + b"</p>\n"
    while sent[0] < FIFTY_MB:
        sent[0] += len(chunk)
        yield chunk


def test_50_mb_stream_is_refused_after_the_cap(site: HTTPServer, fetcher: Fetcher) -> None:
    sent = [0]
    site.expect_request("/huge").respond_with_handler(
        lambda _r: Response(_big_body(sent), content_type="text/html")
    )
    with pytest.raises(SourceError, match=f"more than the {MAX_BYTES}-byte limit"):
        fetcher.get(site.url_for("/huge"))
    assert sent[0] < FIFTY_MB // 2  # the client stopped reading; the server stopped sending
    assert not list((fetcher.out_dir / "sources").glob("**/*.html"))


def test_declared_50_mb_is_refused_unread(site: HTTPServer, fetcher: Fetcher) -> None:
    sent = [0]
    site.expect_request("/huge").respond_with_handler(
        lambda _r: Response(
            _big_body(sent),
            content_type="text/html",
            headers={"Content-Length": str(FIFTY_MB)},
        )
    )
    with pytest.raises(SourceError, match=r"is 52428800 bytes.*not downloaded"):
        fetcher.get(site.url_for("/huge"))
    assert sent[0] < FIFTY_MB // 2


# --- robots.txt ------------------------------------------------------------------------------


def test_robots_disallow_is_honoured(httpserver: HTTPServer, fetcher: Fetcher) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data(
        "User-agent: *\nDisallow: /private/\n", content_type="text/plain"
    )
    httpserver.expect_request("/public").respond_with_data("<h1>P</h1>", content_type="text/html")
    url = httpserver.url_for("/private/page")
    with pytest.raises(SourceError, match=r"disallowed by .*/robots\.txt for osce-kg") as caught:
        fetcher.get(url)
    assert caught.value.subject == url
    fetcher.get(httpserver.url_for("/public"))
    assert paths_requested(httpserver) == ["/robots.txt", "/public"]  # read once, page never


def test_robots_group_for_our_agent(httpserver: HTTPServer, fetcher: Fetcher) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data(
        "User-agent: osce-kg\nDisallow: /\n\nUser-agent: *\nAllow: /\n"
    )
    with pytest.raises(SourceError, match="disallowed"):
        fetcher.get(httpserver.url_for("/anything"))


def test_unreachable_robots_disallows_the_site(httpserver: HTTPServer, fetcher: Fetcher) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("down", status=503)
    with pytest.raises(SourceError, match=r"robots.txt answered HTTP 503"):
        fetcher.get(httpserver.url_for("/page"))
    assert "/page" not in paths_requested(httpserver)


def test_robots_crawl_delay_spaces_requests(
    httpserver: HTTPServer, fetcher: Fetcher, clock: FakeClock
) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("User-agent: *\nCrawl-delay: 7\n")
    httpserver.expect_request("/p1").respond_with_data("<h1>1</h1>", content_type="text/html")
    httpserver.expect_request("/p2").respond_with_data("<h1>2</h1>", content_type="text/html")
    fetcher.get(httpserver.url_for("/p1"))
    fetcher.get(httpserver.url_for("/p2"))
    assert clock.sleeps == [7.0, 7.0]  # robots.txt → p1 → p2


# --- rate limit and cache ------------------------------------------------------------------


def test_requests_to_one_host_are_spaced(
    tmp_path: Path, site: HTTPServer, clock: FakeClock
) -> None:
    for name in ("p1", "p2"):
        site.expect_request(f"/{name}").respond_with_data("<h1>x</h1>", content_type="text/html")
    with make_fetcher(tmp_path, clock, interval=5.0) as fetcher:
        fetcher.get(site.url_for("/p1"))
        fetcher.get(site.url_for("/p2"))
        # another host name for the same server has its own turn: no pause
        other = site.url_for("/p1").replace("localhost", "127.0.0.1")
        fetcher.get(other)
    # robots.txt → p1 → p2 on localhost; robots.txt → p1 on 127.0.0.1
    assert clock.sleeps == [5.0, 5.0, 5.0]


def test_second_fetch_is_a_conditional_request(
    tmp_path: Path, site: HTTPServer, clock: FakeClock
) -> None:
    body = (HTML / "full_dev01.html").read_bytes()

    def page(request: Request) -> Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304, headers={"ETag": '"v1"'})
        return Response(body, content_type="text/html", headers={"ETag": '"v1"'})

    site.expect_request("/dev01").respond_with_handler(page)
    url = site.url_for("/dev01")
    with make_fetcher(tmp_path, clock) as first:
        path = first.fetch(url)
    with make_fetcher(tmp_path, clock) as second:  # the next day's build: a new session
        again = second.get(url)
        assert second.fetch(url) == path
    assert again.body == body
    assert again.from_cache and again.revalidated
    pages = [(r, resp) for r, resp in site.log if r.path == "/dev01"]
    assert [resp.status_code for _, resp in pages] == [200, 304, 304]
    assert pages[1][0].headers.get("If-None-Match") == '"v1"'
    assert path.read_bytes() == body
    sidecar = read_sidecar(path)
    assert sidecar is not None and sidecar["etag"] == '"v1"' and sidecar["revalidated"]


def test_page_without_validators_is_fetched_again(site: HTTPServer, fetcher: Fetcher) -> None:
    site.expect_request("/plain").respond_with_data("<h1>P</h1>", content_type="text/html")
    fetcher.get(site.url_for("/plain"))
    page = fetcher.get(site.url_for("/plain"))
    assert not page.from_cache
    assert paths_requested(site).count("/plain") == 2


def test_last_modified_revalidation(site: HTTPServer, fetcher: Fetcher) -> None:
    stamp = "Wed, 21 Oct 2015 07:28:00 GMT"

    def page(request: Request) -> Response:
        if request.headers.get("If-Modified-Since") == stamp:
            return Response(status=304)
        return Response("<h1>L</h1>", content_type="text/html", headers={"Last-Modified": stamp})

    site.expect_request("/lm").respond_with_handler(page)
    fetcher.get(site.url_for("/lm"))
    page_again = fetcher.get(site.url_for("/lm"))
    assert page_again.revalidated and page_again.body == b"<h1>L</h1>"


# --- batches -------------------------------------------------------------------------------


def test_fetch_all_collects_failures_and_goes_on(site: HTTPServer, fetcher: Fetcher) -> None:
    site.expect_request("/ok").respond_with_data(
        (HTML / "full_dev01.html").read_bytes(), content_type="text/html"
    )
    site.expect_request("/missing").respond_with_data("", status=404)
    urls = [site.url_for("/missing"), site.url_for("/ok"), site.url_for("/ok#again")]
    outcome = fetcher.fetch_all(urls)
    assert [p.name for p in outcome.paths] == ["ok.html"]
    assert [f.subject for f in outcome.failures] == [site.url_for("/missing")]


def test_not_a_url(fetcher: Fetcher) -> None:
    with pytest.raises(SourceError, match="not an http"):
        fetcher.get("ftp://example.org/x")


def test_slugs_are_bounded_and_distinct(fetcher: Fetcher) -> None:
    long = "https://example.org/" + "a" * 300
    assert len(fetcher.path_for(long).stem) <= 80
    assert fetcher.path_for(long + "?x=1") != fetcher.path_for(long + "?x=2")
    assert fetcher.path_for("https://example.org/").name == "index.html"
    assert fetcher.path_for("https://example.org:8443/a", "text/plain").parent.name == (
        "example-org_8443"
    )


# --- crawl ---------------------------------------------------------------------------------


def listing_page(items: list[str], next_href: str | None, pager_style: str = "rel") -> str:
    links = "".join(f'<li><a href="{href}">Item {href}</a></li>' for href in items)
    pager = ""
    if next_href and pager_style == "rel":
        pager = f'<nav class="pager"><a rel="next" href="{next_href}">Next</a></nav>'
    elif next_href and pager_style == "text":
        pager = f'<ul class="pagination"><li><a href="{next_href}">next ›</a></li></ul>'
    elif next_href:
        pager = f'<div><a href="{next_href}">2</a></div>'
    return (
        "<!doctype html><html><body>"
        '<header><nav><a href="/about">About</a></nav></header>'
        f"<main><h1>News</h1><ul>{links}</ul>"
        '<a href="/files/report.pdf">Report</a>'
        '<a href="https://elsewhere.example/x">Elsewhere</a>'
        f"{pager}</main>"
        '<footer><a href="/contact">Contact</a></footer></body></html>'
    )


def serve_item(server: HTTPServer, path: str) -> None:
    server.expect_request(path).respond_with_data(
        f"<html><body><h1>{path}</h1><p>VIENNA, 1 March 2020 - Text.</p></body></html>",
        content_type="text/html",
    )


def test_crawl_follows_items_and_pagination_up_to_max_pages(
    site: HTTPServer, fetcher: Fetcher
) -> None:
    site.expect_request("/news", query_string="").respond_with_data(
        listing_page(["/news/1", "/news/2", "/news/3"], "/news?page=1"),
        content_type="text/html",
    )
    site.expect_request("/news", query_string="page=1").respond_with_data(
        listing_page(["/news/4", "/news/5", "/news/3"], "/news?page=2", "text"),
        content_type="text/html",
    )
    site.expect_request("/news", query_string="page=2").respond_with_data(
        listing_page(["/news/6"], None), content_type="text/html"
    )
    for n in range(1, 7):
        serve_item(site, f"/news/{n}")
    outcome = fetcher.crawl(site.url_for("/news"), max_pages=5)
    assert [p.stem for p in outcome.paths] == [f"news-{n}" for n in range(1, 6)]
    assert outcome.failures == []
    requested = [f"{r.path}?{r.query_string.decode()}" for r, _ in site.log]
    assert "/news?page=2" not in requested  # five pages found before the third listing
    assert not any(p.startswith(("/about", "/contact", "/files")) for p in requested)
    assert parse(outcome.paths[0]).title == "/news/1"


def test_crawl_stops_when_pagination_loops(site: HTTPServer, fetcher: Fetcher) -> None:
    site.expect_request("/list", query_string="").respond_with_data(
        listing_page(["/a"], "/list?page=1"), content_type="text/html"
    )
    site.expect_request("/list", query_string="page=1").respond_with_data(
        listing_page(["/b"], "/list"), content_type="text/html"
    )
    serve_item(site, "/a")
    serve_item(site, "/b")
    outcome = fetcher.crawl(site.url_for("/list"), max_pages=50)
    assert [p.stem for p in outcome.paths] == ["a", "b"]
    assert [r.path for r, _ in site.log].count("/list") == 2


def test_crawl_reports_failing_items_and_a_failing_listing(
    site: HTTPServer, fetcher: Fetcher
) -> None:
    site.expect_request("/list").respond_with_data(
        listing_page(["/ok", "/broken"], "/list?page=1"), content_type="text/html"
    )
    serve_item(site, "/ok")
    site.expect_request("/broken").respond_with_data("", status=404)
    outcome = fetcher.crawl(site.url_for("/list"), max_pages=10)
    assert [p.stem for p in outcome.paths] == ["ok"]
    # /list?page=1 is answered by the same handler with the same items: no new item, stop
    assert [f.subject for f in outcome.failures] == [site.url_for("/broken")]


def test_crawl_is_bounded_by_time(tmp_path: Path, site: HTTPServer, clock: FakeClock) -> None:
    site.expect_request("/list", query_string="").respond_with_data(
        listing_page(["/a"], "/list?page=1"), content_type="text/html"
    )
    serve_item(site, "/a")
    with make_fetcher(tmp_path, clock, interval=10.0, crawl_seconds=5.0) as fetcher:
        outcome = fetcher.crawl(site.url_for("/list"), max_pages=10)
    assert [p.stem for p in outcome.paths] == ["a"]
    assert outcome.warnings and "crawl stopped after 5 s" in outcome.warnings[0]


def test_listing_links_next_page_by_number() -> None:
    page = listing_page(["/n/1"], "/n?page=2", pager_style="number").encode()
    links = listing_links(page, "https://example.org/n")
    assert links.items == ["https://example.org/n/1", "https://elsewhere.example/x"]
    assert links.next == "https://example.org/n?page=2"


# --- the pipeline and the command line -----------------------------------------------------


def test_collect_sources_fetches_urls(site: HTTPServer, tmp_path: Path) -> None:
    from kg_builder.config import BuildConfig

    site.expect_request("/dev01").respond_with_data(
        (HTML / "full_dev01.html").read_bytes(), content_type="text/html"
    )
    site.expect_request("/gone").respond_with_data("", status=404)
    config = BuildConfig(out_dir=tmp_path, urls=(site.url_for("/dev01"),), fetch_interval=0)
    files = collect_sources((), config)
    assert [f.name for f in files] == ["dev01.html"]
    assert json.loads(Path(f"{files[0]}.json").read_text())["url"] == site.url_for("/dev01")
    bad = BuildConfig(out_dir=tmp_path, urls=(site.url_for("/gone"),), fetch_interval=0)
    with pytest.raises(SourceError, match="HTTP 404"):
        collect_sources((), bad)


def _build_args(out: Path) -> list[str]:
    root = FIXTURES.parent.parent
    return [
        "--out-dir",
        str(out),
        "--reference-dir",
        str(root / "data" / "reference"),
        "--ontology",
        str(root / "ontology" / "osce.ttl"),
        "--shapes",
        str(root / "shapes"),
        "--fetch-interval",
        "0",
        "-q",
    ]


def test_kg_build_reports_a_failing_url(site: HTTPServer, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from kg_builder.cli import main

    site.expect_request("/gone").respond_with_data("", status=404)
    url = site.url_for("/gone")
    result = CliRunner().invoke(main, [url, *_build_args(tmp_path / "out")])
    assert result.exit_code == 2
    assert f"kg-build: {url}: HTTP 404" in result.output
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_kg_build_from_a_url_and_a_crawl(site: HTTPServer, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from kg_builder.cli import main

    site.expect_request("/en/dev01").respond_with_data(
        (HTML / "full_dev01.html").read_bytes(), content_type="text/html"
    )
    site.expect_request("/news").respond_with_data(
        listing_page(["/en/dev09", "/en/dev03"], None), content_type="text/html"
    )
    site.expect_request("/en/dev09").respond_with_data(
        (HTML / "full_dev09.html").read_bytes(), content_type="text/html"
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        [
            site.url_for("/en/dev01"),
            "--crawl",
            site.url_for("/news"),
            "--max-pages",
            "1",
            *_build_args(out),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert len(report["documents"]) == 2
    saved = sorted(p.name for p in (out / "sources").glob("*/*.html"))
    assert saved == ["en-dev01.html", "en-dev09.html"]  # --max-pages 1: dev03 not fetched
    # provenance names the URL each page came from, as an IRI
    nquads = read_plain(out / "current" / "dumps" / "osce-kg.nq.gz").decode()
    sources = {
        line.split(" ")[2]
        for line in nquads.splitlines()
        if " <http://purl.org/dc/terms/source> " in line and "/source/" in line.split(" ")[0]
    }
    assert len(sources) == 2 and all(s.startswith("<http://localhost:") for s in sources)


@pytest.mark.slow
def test_keep_going_builds_the_pages_that_came_and_keeps_a_failing_urls_last_version(
    site: HTTPServer, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from kg_builder.cli import main

    page, gone = site.url_for("/en/dev01"), site.url_for("/en/dev03")
    site.expect_request("/en/dev01").respond_with_data(
        (HTML / "full_dev01.html").read_bytes(), content_type="text/html"
    )
    site.expect_oneshot_request("/en/dev03").respond_with_data(
        (HTML / "newsroom_dev03.html").read_bytes(), content_type="text/html"
    )
    out = tmp_path / "out"
    first = CliRunner().invoke(main, [page, gone, *_build_args(out)])
    assert first.exit_code == 0, first.output
    site.expect_request("/en/dev03").respond_with_data("", status=404)
    args = [page, gone, *_build_args(out)]

    stopped = CliRunner().invoke(main, args)
    assert stopped.exit_code == 2 and f"{gone}: HTTP 404" in stopped.output

    kept = CliRunner().invoke(main, [*args, "--keep-going"])
    assert kept.exit_code == 1, kept.output
    assert f"{gone}: HTTP 404" in kept.output
    report = json.loads((out / "report.json").read_text())
    by_source = {d["source"]: d for d in report["documents"]}
    assert by_source[page]["status"] == "cached"  # fetched again, the same page
    assert by_source[gone]["status"] == "failed"
    assert "HTTP 404" in by_source[gone]["errors"][0]
    assert "the previous version stays published" in by_source[gone]["warnings"]
    store = ox.Store.read_only(str(out / "current" / "store"))
    sources = {q.object.value for q in store.quads_for_pattern(None, DCTERMS_SOURCE, None, None)}
    assert gone in sources  # the last version fetched is still served
