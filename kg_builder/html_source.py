"""Saved HTML pages as sources: an osce.org page read from its HTML structure into the same
``Document`` the text layouts give.

The page is parsed with lxml (libxml2's HTML parser: maintained, fast, it repairs tag soup
and drops comments; html5lib follows the HTML5 algorithm exactly but is several times slower
and unreleased since 2020, BeautifulSoup would only wrap lxml here) and rendered to text the way
the devset renders pages — one block per line — so that mention offsets point into it:

* the site menu (of the ``<nav>`` elements outside the article that have sub-lists, the
  largest) as ``-`` / heading / ``- item`` lines; it feeds reference data only and lies
  outside every region;
* in the article (``<article>``, ``<main>`` or the body): the type label (the block just above
  the ``<h1>``), the ``<h1>`` title, the metadata block (``<dl>`` with ``<dt>Date:</dt>`` …, or
  elements whose class says ``label`` followed by their values) as ``- Date:`` / ``- value``
  lines, a newsroom header date or ``Publishing date:`` line, a photo caption
  (``<figcaption>``), then the body, one paragraph or list item (``- …``) per line.

The layout is named as for text pages (``full``, ``newsroom``, ``news_item``,
``title_dateline``); ``Document.media_type`` says the source was HTML. The SHA-256 is that of
the file's bytes. The character set comes from a byte-order mark, then ``<meta charset>`` (or
``http-equiv``) in the first 1024 bytes, else UTF-8 with stray bytes read as Windows-1252.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from lxml import etree

from kg_builder.errors import ParseError, SourceError
from kg_builder.iris import slugify
from kg_builder.parse import (
    DATELINE,
    MAX_BYTES,
    MAX_META_VALUE,
    META_KEYS,
    NEWSROOM_HEADER,
    PLACE_VALUE,
    PLAIN_DATE,
    PLAIN_HEAD,
    PUBLISHING_DATE,
    Dateline,
    Document,
    Metadata,
    NavMenu,
    Region,
    _decode_mixed,
    _parse_menu,
    parse_date,
)

MEDIA_TYPE = "text/html"
HTML_SUFFIXES = (".html", ".htm")
SNIFF_BYTES = 1024
# What never renders as page text.
SKIPPED = frozenset(
    {
        "script", "style", "noscript", "template", "head", "title", "meta", "link", "iframe",
        "object", "embed", "svg", "math", "canvas", "video", "audio", "map", "select",
        "button", "input", "textarea", "form", "dialog",
    }
)  # fmt: skip
# Parts of a page that are not the article: menus, sidebars, footers.
NOT_ARTICLE = frozenset({"nav", "aside", "footer"})
BLOCKS = frozenset(
    {
        "address", "article", "blockquote", "center", "dd", "details", "div", "dl", "dt",
        "fieldset", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
        "li", "main", "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot",
        "th", "thead", "tr", "ul", "body", "html", "nav", "aside", "footer", "caption",
    }
)  # fmt: skip
# Block-level tags that end a run of metadata values written as labelled divs.
BODY_BLOCKS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "section", "figure", "article"})
INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
META_CHARSET = re.compile(rb"<meta\b[^>]*?\bcharset\s*=\s*[\"']?\s*([A-Za-z0-9._:-]+)", re.I)
WHITESPACE = re.compile(r"\s+")
XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
PHOTO_CAPTION = re.compile(r"Photo details\s*$")
LISTS = frozenset({"ul", "ol"})
MENU_SKIPPED = SKIPPED - {"button"}  # a menu heading may be a button that opens it
MAX_LABEL = 60  # a type label is a short line ("Press release", "Newsroom")


def is_html(path: Path) -> bool:
    """Whether ``path`` is read as an HTML page: by its suffix, or by a start of
    ``<!doctype html`` or ``<html`` (after a byte-order mark and blank space)."""
    if path.suffix.lower() in HTML_SUFFIXES:
        return True
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError:
        return False  # the text reader reports why the file cannot be read
    head = head.removeprefix(codecs.BOM_UTF8).lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


def parse_html(path: Path) -> Document:
    """Read one saved HTML page into a ``Document``."""
    data = _read_bytes(path)
    text, warnings = decode_html(data, path)
    root = _parse_tree(text, path)
    page = _render(root, path)
    return _document(path, hashlib.sha256(data).hexdigest(), page, warnings)


# --- bytes and characters -------------------------------------------------------------------


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise SourceError("no such file", subject=str(path), hint="check the path")
    if not path.is_file():
        raise SourceError("is not a regular file", subject=str(path))
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise SourceError(
            f"file is {size} bytes, more than the {MAX_BYTES}-byte limit for one page",
            subject=str(path),
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror}", subject=str(path)) from exc
    if not data.strip():
        raise SourceError("empty document", subject=str(path), hint="the file has no text")
    return data


def decode_html(data: bytes, path: Path) -> tuple[str, list[str]]:
    """The characters of an HTML page and what could not be read as declared.

    Order of evidence (after HTML's encoding sniffing, without its full table of labels): a
    byte-order mark, a ``<meta charset>`` or ``http-equiv`` declaration in the first 1024 bytes,
    else UTF-8. A page that is not what it declares is read as UTF-8 with stray bytes as
    Windows-1252 (a ``latin-1`` or ``ascii`` label means Windows-1252, as browsers read it)."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding), []
            except UnicodeDecodeError as exc:
                raise SourceError(
                    f"starts with a {encoding} byte-order mark but is not {encoding} "
                    f"(byte {exc.start + len(bom)})",
                    subject=str(path),
                    hint="save the page again as UTF-8",
                ) from exc
    if data.startswith(b"\x1f\x8b"):
        raise SourceError(
            "is gzip-compressed, not an HTML page",
            subject=str(path),
            hint="decompress it first (gunzip)",
        )
    nul = data.find(b"\x00")
    if nul >= 0:
        raise SourceError(
            f"holds binary data (a NUL byte at {nul}), not an HTML page",
            subject=str(path),
            hint="save the page as HTML text",
        )
    warnings: list[str] = []
    encoding, said = "utf-8", "no charset declared"
    declared = META_CHARSET.search(data[:SNIFF_BYTES])
    if declared:
        label = declared.group(1).decode("ascii").lower()
        said = f"declared {label}"
        try:
            encoding = codecs.lookup(label).name
        except LookupError:
            warnings.append(f"declared charset {label!r} is unknown; read as UTF-8")
        if encoding in {"latin-1", "iso8859-1", "ascii"}:
            encoding = "cp1252"
        elif encoding.startswith("utf-16"):
            encoding = "utf-8"  # a page that reached here as bytes without NULs is not UTF-16
    if encoding != "utf-8" and not data.isascii():
        try:  # multi-byte UTF-8 sequences do not happen by chance in a legacy encoding
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            warnings.append(f"{said}, but the bytes are UTF-8; read as UTF-8")
            return text, warnings
    try:
        return data.decode(encoding), warnings
    except UnicodeDecodeError as exc:
        text, runs = _decode_mixed(data)
        warnings.append(
            f"{said}, but {runs} byte sequence(s) are not (the first at byte {exc.start}); "
            "read as UTF-8 with stray bytes as Windows-1252"
            if encoding == "utf-8"
            else f"{said}, but the bytes are not {encoding} (byte {exc.start}); read as UTF-8 "
            "with stray bytes as Windows-1252"
        )
        return text, warnings


def _parse_tree(text: str, path: Path) -> etree._Element:
    # The text is decoded already: the parser reads it as UTF-8 whatever the page declares.
    text = XML_DECLARATION.sub("", text, count=1)
    parser = etree.HTMLParser(remove_comments=True, remove_pis=True, encoding="utf-8")
    try:
        root = etree.fromstring(text.encode("utf-8"), parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        raise ParseError(f"not an HTML page: {exc}", subject=str(path)) from exc
    if root is None:
        raise ParseError("not an HTML page: no elements", subject=str(path))
    return root


# --- rendering -------------------------------------------------------------------------------


@dataclass
class _Page:
    """A page rendered to lines, with the role of each line and what the header says."""

    lines: list[tuple[str, str]] = field(default_factory=list)  # (role, text)
    menu: NavMenu | None = None
    type_label: str | None = None
    metadata: Metadata | None = None
    meta_lines: list[str] = field(default_factory=list)
    header_date: date | None = None
    publishing_date: date | None = None

    def add(self, role: str, text: str) -> None:
        self.lines.append((role, text))


def _render(root: etree._Element, path: Path) -> _Page:
    page = _Page()
    article = _article(root)
    title = _first(article, "h1")
    if title is not None and not _clean(_text_of(title)):
        title = None  # an empty <h1> (a logo, an icon) is no title
    skip = _metadata(article, page, path)
    if title is None and page.metadata is None:
        raise ParseError(
            "no recognisable article in the HTML page",
            subject=str(path),
            hint="expected an <h1> title or a metadata block (<dt>Date:</dt>, <dt>Source:</dt> "
            "…) in <article>, <main> or the page body",
        )
    nav = _menu_nav(root, article)
    if nav is not None:
        menu_lines = _site_menu(nav)
        page.lines.extend(("menu", line) for line in menu_lines)
        page.menu = _parse_menu(menu_lines) if menu_lines else None
    phase = "head"  # then "header" (title, metadata, dates, caption), then "body"
    for element, line in _walk(article, skip):
        if element is None:  # where the metadata block stands
            if page.meta_lines:
                page.lines.extend(("meta", meta) for meta in page.meta_lines)
                page.meta_lines = []
            if phase == "head":  # the type label sits right above the title or the block
                _label_last(page)
                phase = "header"
        elif title is not None and (element is title or title in element.iterancestors()):
            if page.lines and page.lines[-1][0] == "title":  # an <h1> broken by <br>
                page.lines[-1] = ("title", f"{page.lines[-1][1]} {line}")
                continue
            if phase == "head":
                _label_last(page)
                phase = "header"
            page.add("title", line)
        elif phase == "head":
            page.add("head", line)
        elif phase == "header" and _header_line(page, element, line, path):
            continue
        else:
            phase = "body"
            page.add("body", line)
    return page


def _label_last(page: _Page) -> None:
    """The block just above the title (or the metadata block) is the type label."""
    if page.lines and page.lines[-1][0] == "head" and len(page.lines[-1][1]) <= MAX_LABEL:
        page.type_label = page.lines[-1][1]
        page.lines[-1] = ("label", page.type_label)


def _header_line(page: _Page, element: etree._Element, line: str, path: Path) -> bool:
    """Whether a line between the title and the body is a header — the newsroom date line,
    ``Publishing date: …`` or the photo caption — and if so, record what it says."""
    header = NEWSROOM_HEADER.match(line)
    if header and page.header_date is None and page.publishing_date is None:
        page.header_date = _date(header["date"], "header date", path)
        page.add("header", line)
        return True
    published = PUBLISHING_DATE.match(line)
    if published and page.publishing_date is None:
        page.publishing_date = _date(published["date"], "Publishing date", path)
        page.add("header", line)
        return True
    if element.tag == "figcaption" or PHOTO_CAPTION.search(line):
        page.add("caption", line)
        return True
    return False


def _article(root: etree._Element) -> etree._Element:
    """The element holding the page's own content: the first ``<article>`` or ``<main>`` with
    a title or a metadata block, else an element with ``role="main"``, else the body."""
    for candidate in root.iter("article", "main"):
        if _first(candidate, "h1") is not None or _has_metadata_label(candidate):
            return candidate
    for candidate in root.iter():
        if candidate.get("role") == "main":
            return candidate
    body = root.find("body")
    return body if body is not None else root


def _has_metadata_label(element: etree._Element) -> bool:
    return any(_meta_key(e) is not None for e in element.iter())


def _first(element: etree._Element, tag: str) -> etree._Element | None:
    return next((e for e in element.iter(tag) if _shown(e, element)), None)


def _shown(
    element: etree._Element, within: etree._Element, skipped: frozenset[str] = SKIPPED
) -> bool:
    """Whether ``element`` renders as text of ``within`` (not in a menu, sidebar, script…)."""
    for node in (element, *element.iterancestors()):
        if node is within:
            return True
        if node.tag in skipped or node.tag in NOT_ARTICLE or _hidden(node):
            return False
    return True


def _hidden(element: etree._Element) -> bool:
    return element.get("hidden") is not None or element.get("aria-hidden") == "true"


def _menu_nav(root: etree._Element, article: etree._Element) -> etree._Element | None:
    """The site menu: of the ``<nav>`` elements outside the article that have sections (an
    item with a sub-list), the one with the most items. Breadcrumbs, language switchers and
    footer links are flat lists."""
    found = root.xpath("//nav | //*[@role='navigation']")
    navs = [
        e
        for e in (found if isinstance(found, list) else [])
        if isinstance(e, etree._Element)
        and not (article.tag != "body" and article in e.iterancestors())
        and (e.find(".//li//ul") is not None or e.find(".//li//ol") is not None)
    ]
    return max(navs, key=lambda e: sum(1 for _ in e.iter("li")), default=None)


_MENUS: dict[bytes, list[str]] = {}  # the pages of one site share their menu
MAX_MENUS = 32


def _site_menu(nav: etree._Element) -> list[str]:
    """The menu's lines, rendered once per distinct menu markup in this process."""
    key = etree.tostring(nav)
    if key not in _MENUS:
        if len(_MENUS) >= MAX_MENUS:
            _MENUS.clear()
        _MENUS[key] = _menu_lines(nav)
    return list(_MENUS[key])


def _menu_lines(element: etree._Element, lines: list[str] | None = None) -> list[str]:
    """The menu as the text pages render it: an item with a sub-list is ``-`` and its heading
    on the next line, then its items; any other item is ``- item``."""
    lines = [] if lines is None else lines
    for child in element:
        if not isinstance(child.tag, str) or child.tag in MENU_SKIPPED or _hidden(child):
            continue
        if child.tag != "li":
            _menu_lines(child, lines)
            continue
        label = _clean(_inline(child, stop=LISTS, skipped=MENU_SKIPPED))
        if child.find(".//ul") is not None or child.find(".//ol") is not None:
            lines.append("-")
            if label:
                lines.append(label)
            _menu_lines(child, lines)
        elif label:
            lines.append(f"- {label}")
    return lines


def _walk(
    element: etree._Element, skip: set[etree._Element]
) -> Iterator[tuple[etree._Element | None, str]]:
    """The lines of a block, each with the block it comes from: runs of inline content are
    lines (``<br>`` breaks them), block children recurse, list items start with ``- ``.
    An element in ``skip`` (the metadata block) yields ``(None, "")`` in its place."""
    run: list[str] = [_spaces(element.text)]
    bullet = element.tag == "li"

    def flush() -> Iterator[tuple[etree._Element | None, str]]:
        nonlocal bullet
        for piece in "".join(run).split("\n"):
            text = _clean(piece)
            if text:
                yield element, f"- {text}" if bullet else text
                bullet = False
        run.clear()

    for child in element:
        if not isinstance(child.tag, str):  # a comment the parser kept
            pass
        elif child in skip:
            yield from flush()
            yield None, ""
        elif child.tag in SKIPPED or child.tag in NOT_ARTICLE or _hidden(child):
            pass
        elif child.tag == "br":
            run.append("\n")
        elif child.tag in BLOCKS:
            yield from flush()
            for owner, text in _walk(child, skip):
                if bullet and owner is not None:
                    text, bullet = f"- {text}", False
                yield owner, text
        else:
            run.append(_inline(child))
        run.append(_spaces(child.tail))
    yield from flush()


def _inline(
    element: etree._Element,
    stop: frozenset[str] = frozenset(),
    skipped: frozenset[str] = SKIPPED,
) -> str:
    """The text of an element as it reads: ``<br>`` is a line break, table cells and other
    blocks are set apart by spaces, scripts and hidden parts are left out."""
    parts: list[str] = [_spaces(element.text)]
    for child in element:
        if isinstance(child.tag, str) and not (
            child.tag in stop or child.tag in skipped or _hidden(child)
        ):
            if child.tag == "br":
                parts.append("\n")
            elif child.tag in BLOCKS:
                parts.append(f" {_inline(child, stop, skipped)} ")
            else:
                parts.append(_inline(child, stop, skipped))
        parts.append(_spaces(child.tail))
    return "".join(parts)


def _text_of(element: etree._Element) -> str:
    """All the text inside an element, markup left out."""
    return "".join(t for t in element.itertext() if isinstance(t, str))


def _spaces(text: str | None) -> str:
    """Source text with every run of white space (line breaks in the HTML source too) as one
    space: only ``<br>`` breaks a line."""
    return WHITESPACE.sub(" ", text) if text else ""


def _clean(text: str) -> str:
    """One line of text: whitespace runs (no-break spaces too) as one space, invisible
    characters (soft hyphens, zero-width spaces) dropped."""
    return " ".join(INVISIBLE.sub("", text).split())


# --- metadata --------------------------------------------------------------------------------


def _meta_key(element: etree._Element) -> str | None:
    """The metadata key a label names: a ``<dt>`` or an element whose class says
    ``label``, reading ``Date:``, ``Place:``, ``Source:`` or ``Fields of work:``."""
    if not isinstance(element.tag, str):
        return None
    if element.tag != "dt" and "label" not in (element.get("class") or "").lower():
        return None
    return META_KEYS.get(_clean(_text_of(element)).removesuffix(":").strip())


def _metadata(article: etree._Element, page: _Page, path: Path) -> set[etree._Element]:
    """Read the metadata block into ``page`` (values and its ``- Key:`` / ``- value`` lines);
    return the elements it is made of, which the body walk leaves out."""
    labels: list[etree._Element] = []
    for element in article.iter():
        if element.tag == "p" and len(_clean(_text_of(element))) > MAX_META_VALUE:
            break  # the body has begun: a label below is a word in it, or in a table
        if _meta_key(element) is not None and _shown(element, article):
            labels.append(element)
    if not labels:
        return set()
    names = {key: label for label, key in META_KEYS.items()}
    values: dict[str, list[str]] = {}
    skip: set[etree._Element] = set()
    for label in labels:
        key = _meta_key(label)
        assert key is not None  # noqa: S101 (labels are filtered on it)
        found = values.setdefault(key, [])
        page.meta_lines.append(f"- {names[key]}:")
        skip.add(label)
        for value in _label_values(label, labels):
            skip.add(value)
            for item in _value_items(value):
                found.append(item)
                page.meta_lines.append(f"- {item}")
        block = label.getparent()
        if block is not None and block.tag == "dl":
            skip.add(block)
    when = None
    if values.get("date"):
        when = _date(values["date"][0], "metadata Date", path, like=True)
    city = country = None
    if values.get("place"):
        match = PLACE_VALUE.match(values["place"][0])
        if match:
            city, country = match["city"].strip(), match["country"]
    page.metadata = Metadata(
        date=when,
        place_city=city,
        place_country=country.strip() if country else None,
        source=values["source"][0] if values.get("source") else None,
        fields_of_work=tuple(values.get("fields", ())),
    )
    return skip


def _label_values(label: etree._Element, labels: list[etree._Element]) -> Iterator[etree._Element]:
    """The value elements after a label, up to the next label or the body's first block."""
    for sibling in label.itersiblings():
        if not isinstance(sibling.tag, str):
            continue
        if any(e in labels for e in sibling.iter()):
            return
        if label.tag == "dt" and sibling.tag != "dd":
            return
        if next(sibling.iter(*BODY_BLOCKS), None) is not None:
            return
        yield sibling


def _value_items(value: etree._Element) -> list[str]:
    """One value per list item or ``…item`` element, else the element's text."""
    items = [
        e
        for e in value.iterdescendants()
        if isinstance(e.tag, str)
        and (e.tag == "li" or any(c.endswith("item") for c in (e.get("class") or "").split()))
    ]
    texts = [_clean(_inline(e)) for e in (items or [value])]
    return [t for t in texts if t]


def _date(text: str, what: str, path: Path, *, like: bool = False) -> date:
    try:
        return parse_date(text)
    except ValueError as exc:
        shape = "a date like '4 December 2014'" if like else "a valid date"  # as parse.py says
        raise ParseError(f"{what} {text!r} is not {shape}", subject=str(path)) from exc


# --- the Document ----------------------------------------------------------------------------


def _document(path: Path, digest: str, page: _Page, warnings: list[str]) -> Document:
    """The rendered page as a ``Document``: its text is the lines joined, one per line, and
    regions (title, caption, body) are offsets into it."""
    offsets: list[int] = []
    position = 0
    for _, line in page.lines:
        offsets.append(position)
        position += len(line) + 1
    text = "".join(f"{line}\n" for _, line in page.lines)
    roles = [role for role, _ in page.lines]
    if "body" not in roles:
        raise ParseError("the page has no body text", subject=str(path))
    regions: list[Region] = []
    title: str | None = None
    if "title" in roles:
        index = roles.index("title")
        title = page.lines[index][1]
        regions.append(Region("title", offsets[index], title))
    for index, role in enumerate(roles):
        if role == "caption":
            regions.append(Region("caption", offsets[index], page.lines[index][1]))
    first = roles.index("body")
    last = len(roles) - 1 - roles[::-1].index("body")
    body_start = offsets[first]
    body = text[body_start : offsets[last] + len(page.lines[last][1])]
    regions.append(Region("body", body_start, body))
    dateline = _dateline(body, body_start)

    metadata = page.metadata or Metadata()
    label = page.type_label
    published: date | None = None
    if page.metadata is not None:
        layout = "full"
    elif label == "Newsroom" or page.header_date is not None:
        layout, label, published = "newsroom", label or "Newsroom", page.header_date
    elif label == "News" or page.publishing_date is not None:
        layout, label, published = "news_item", label or "News", page.publishing_date
    elif dateline is not None:
        layout = "title_dateline"
    else:
        layout, published = "plain", _plain_date([title or "", *body.split("\n")])
        if published is None:
            raise ParseError(
                "not a recognisable OSCE page",
                subject=str(path),
                hint="expected a metadata block (Date:, Place:, Source:), a 'Newsroom' or "
                "'News' label above the <h1>, or a first paragraph with a dateline such as "
                "'VIENNA, 4 December 2014 - …'",
            )
        warnings.append(
            "layout not recognised: read as the <h1> title, then the body; the date is the "
            "first date near the top"
        )
    return Document(
        doc_id=slugify(path.stem),
        path=path,
        sha256=digest,
        text=text,
        layout=layout,
        title=title,
        type_label=label,
        metadata=metadata,
        menu=page.menu,
        dateline=dateline,
        publishing_date=published,
        regions=tuple(regions),
        warnings=tuple(warnings),
        media_type=MEDIA_TYPE,
    )


def _dateline(body: str, start: int) -> Dateline | None:
    match = DATELINE.match(body)
    if not match:
        return None
    try:
        when = parse_date(match["date"])
    except ValueError:
        return None
    return Dateline(
        city=match["city"].strip(),
        country=match["country"].strip() if match["country"] else None,
        date=when,
        start=start,
        end=start + match.end(),
    )


def _plain_date(lines: list[str]) -> date | None:
    """The first valid 'D Month YYYY' in the title or the lines just below it."""
    for line in lines[: PLAIN_HEAD + 1]:
        for match in PLAIN_DATE.finditer(line):
            try:
                return parse_date(match["date"])
            except ValueError:
                continue
    return None
