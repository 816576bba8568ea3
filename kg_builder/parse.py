"""Parse stage: a source file becomes a ``Document`` — layout, site menu, metadata, text regions.

Four osce.org layouts are recognised (see ``../shared/devset/README.md``):

* ``full``: the site menu, a type label, the title, the metadata block (``- Date:`` …), the body;
* ``title_dateline``: the title, then a body that opens with ``CITY, D Month YYYY - …``;
* ``newsroom``: ``Newsroom``, title, header date line, photo caption, dateline body;
* ``news_item``: ``News``, title, ``Publishing date: D Month YYYY``, body.

The menu and the metadata block are never searched for mentions: the menu feeds reference data,
the metadata the document's own record.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from kg_builder.errors import ParseError, SourceError
from kg_builder.iris import slugify

MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
DAY_MONTH_YEAR = rf"\d{{1,2}}\s+(?:{MONTHS})\s+\d{{4}}"
DATELINE = re.compile(
    rf"^(?P<city>[A-ZÀ-Þ][A-ZÀ-Þ.'’ -]*[A-ZÀ-Þ])"
    rf"(?:,\s*(?P<country>[A-Z][^,\d]*?))?,?\s+(?P<date>{DAY_MONTH_YEAR})\s*[-–—]\s*"
)
PLACE_VALUE = re.compile(r"^(?P<city>[^,]+?)(?:,\s*(?P<country>.+))?$")
META_KEYS = {"Date": "date", "Place": "place", "Source": "source", "Fields of work": "fields"}
TYPE_LABELS = ("Press release", "Statement", "Press communiqué", "News item", "Joint statement")
NEWSROOM_HEADER = re.compile(rf"^(?P<city>[A-ZÀ-Þ][A-ZÀ-Þ.'’ -]*)\s+(?P<date>{DAY_MONTH_YEAR})$")
PUBLISHING_DATE = re.compile(rf"^Publishing date:\s*(?P<date>{DAY_MONTH_YEAR})\s*$")
MAX_BYTES = 5_000_000
MAX_META_VALUE = 150  # a metadata value is a short line; a longer "- …" line is body text


@dataclass(frozen=True)
class Region:
    """A searchable stretch of the document text, at ``start`` in the source text."""

    kind: str  # "title", "caption" or "body"
    start: int
    text: str

    @property
    def end(self) -> int:
        return self.start + len(self.text)


@dataclass(frozen=True)
class Dateline:
    city: str
    country: str | None
    date: date
    start: int
    end: int  # end of the dateline prefix, body text follows


@dataclass(frozen=True)
class Metadata:
    """The press-release block of a full-layout page."""

    date: date | None = None
    place_city: str | None = None
    place_country: str | None = None
    source: str | None = None
    fields_of_work: tuple[str, ...] = ()


@dataclass(frozen=True)
class NavMenu:
    """The site menu, as ``section heading -> items`` in page order."""

    sections: dict[str, tuple[str, ...]]

    def items(self, heading: str) -> tuple[str, ...]:
        return self.sections.get(heading, ())


@dataclass(frozen=True)
class Document:
    doc_id: str
    path: Path
    sha256: str
    text: str
    layout: str
    title: str | None
    type_label: str | None
    metadata: Metadata
    menu: NavMenu | None
    dateline: Dateline | None
    publishing_date: date | None
    regions: tuple[Region, ...] = field(default_factory=tuple)
    warnings: tuple[str, ...] = ()  # what could not be read as expected
    media_type: str = "text/plain"  # what the source was: "text/html" for a saved HTML page

    @property
    def date(self) -> date | None:
        """The document date: from the metadata, the dateline or 'Publishing date:', in turn."""
        if self.metadata.date:
            return self.metadata.date
        if self.dateline:
            return self.dateline.date
        return self.publishing_date

    @property
    def date_source(self) -> str | None:
        if self.metadata.date:
            return "metadata"
        if self.dateline:
            return "dateline"
        return "publishing date" if self.publishing_date else None


def parse_date(text: str) -> date:
    return datetime.strptime(" ".join(text.split()), "%d %B %Y").date()


def read_source(path: Path) -> tuple[str, str, list[str]]:
    """The text of a source file, the SHA-256 of its bytes and what could not be read as
    expected; a ``SourceError`` if unusable."""
    if not path.exists():
        raise SourceError("no such file", subject=str(path), hint="check the path")
    if path.is_dir():
        raise SourceError("is a directory, not a document", subject=str(path))
    if not path.is_file():
        raise SourceError("is not a regular file (a device or a pipe?)", subject=str(path))
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
    warnings: list[str] = []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if b"\x00" in data:  # UTF-16, or not text at all
            raise SourceError(
                f"not UTF-8 text (byte {exc.start})",
                subject=str(path),
                hint="save the page as UTF-8",
            ) from exc
        text, count = _decode_mixed(data)
        warnings.append(
            f"{count} byte sequence(s) are not UTF-8 (the first at byte {exc.start}); "
            "read as Windows-1252"
        )
    # CRLF is kept: mention offsets count characters of the text as decoded (after a BOM).
    return text, hashlib.sha256(data).hexdigest(), warnings


_ESCAPED = re.compile("[\udc80-\udcff]+")


def _decode_mixed(data: bytes) -> tuple[str, int]:
    """UTF-8 with stray bytes of a legacy encoding (a page pasted together from two sources):
    each byte that is not valid UTF-8 is read as Windows-1252 (as Latin-1 where Windows-1252
    leaves a byte undefined). Returns the text and the number of runs of such bytes."""
    escaped = data.removeprefix(codecs.BOM_UTF8).decode("utf-8", errors="surrogateescape")
    runs = 0

    def legacy(match: re.Match[str]) -> str:
        nonlocal runs
        runs += 1
        return "".join(_legacy_char(ord(c) - 0xDC00) for c in match.group(0))

    return _ESCAPED.sub(legacy, escaped), runs


def _legacy_char(byte: int) -> str:
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:
        return bytes([byte]).decode("latin-1")


def parse(path: Path) -> Document:
    """Read and parse one source document (a saved HTML page: see ``html_source``)."""
    from kg_builder.html_source import is_html, parse_html  # it builds on this module

    if is_html(path):
        return parse_html(path)
    text, digest, warnings = read_source(path)
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    offsets = _line_offsets(text)
    for layout_parser in (
        _parse_full,
        _parse_newsroom,
        _parse_news_item,
        _parse_title_dateline,
        _parse_plain,
    ):
        parsed = layout_parser(path, text, lines, offsets)
        if parsed is not None:
            if parsed[0] == "plain":
                warnings.append(
                    "layout not recognised: read as a title line, then the body; the date is "
                    "the first date near the top"
                )
            layout, title_line, type_label, metadata, menu, body_line, pub_date, caption = parsed
            return _document(
                path,
                digest,
                text,
                lines,
                offsets,
                layout,
                title_line,
                type_label,
                metadata,
                menu,
                body_line,
                pub_date,
                caption,
                warnings,
            )
    raise ParseError(
        "not a recognisable OSCE page",
        subject=str(path),
        hint="expected the site menu with a press-release block, a 'Newsroom' or 'News' header, "
        "or a title followed by a dateline such as 'VIENNA, 4 December 2014 - …'",
    )


_Parsed = tuple[str, int | None, str | None, Metadata, NavMenu | None, int, date | None, int | None]


def _line_offsets(text: str) -> list[int]:
    offsets, pos = [], 0
    for raw in text.split("\n"):
        offsets.append(pos)
        pos += len(raw) + 1
    return offsets


def _document(
    path: Path,
    digest: str,
    text: str,
    lines: list[str],
    offsets: list[int],
    layout: str,
    title_line: int | None,
    type_label: str | None,
    metadata: Metadata,
    menu: NavMenu | None,
    body_line: int,
    publishing_date: date | None,
    caption_line: int | None,
    warnings: list[str],
) -> Document:
    regions: list[Region] = []
    title = lines[title_line].strip() or None if title_line is not None else None
    if title_line is not None and title is not None:
        indent = len(lines[title_line]) - len(lines[title_line].lstrip())
        regions.append(Region("title", offsets[title_line] + indent, title))
    if caption_line is not None:
        regions.append(Region("caption", offsets[caption_line], lines[caption_line]))
    body_start = offsets[body_line] if body_line < len(offsets) else len(text)
    body_text = text[body_start:].rstrip()
    if body_text.strip():
        regions.append(Region("body", body_start, body_text))
    elif title is not None and (metadata.date or publishing_date):
        # what could be read (title, date, metadata) is kept; the page says nothing more
        warnings.append("the page has no body text: only its title and metadata are kept")
    else:
        raise ParseError("the page has no body text", subject=str(path))
    dateline = None
    match = DATELINE.match(body_text)
    if match:
        try:
            when = parse_date(match["date"])
        except ValueError:
            when = None
        if when is not None:
            dateline = Dateline(
                city=match["city"].strip(),
                country=match["country"].strip() if match["country"] else None,
                date=when,
                start=body_start,
                end=body_start + match.end(),
            )
    return Document(
        doc_id=slugify(path.stem),
        path=path,
        sha256=digest,
        text=text,
        layout=layout,
        title=title,
        type_label=type_label,
        metadata=metadata,
        menu=menu,
        dateline=dateline,
        publishing_date=publishing_date,
        regions=tuple(regions),
        warnings=tuple(warnings),
    )


def _parse_full(path: Path, text: str, lines: list[str], offsets: list[int]) -> _Parsed | None:
    """The current osce.org rendering: menu, type label, title, metadata block, body."""
    date_key = next(
        (
            i
            for i, line in enumerate(lines)
            if line.strip() == "- Date:" and _has_metadata(lines, i)
        ),
        None,
    )
    if date_key is None:
        return None
    # The type label is the last line before the metadata block that is not a menu line; the
    # title sits between it and '- Date:' (a page without title has the label right above).
    above = lines[date_key - 1].strip() if date_key >= 1 else ""
    type_label: str | None
    title_line: int | None
    if above in TYPE_LABELS:
        type_label, title_line, menu_end = above, None, date_key - 1
    else:
        label = lines[date_key - 2].strip() if date_key >= 2 else ""
        type_label = label if label and not label.startswith("-") else None
        title_line = date_key - 1 if above and not above.startswith("- ") else None
        menu_end = date_key - 2 if type_label else date_key - 1
    menu = _parse_menu(lines[:menu_end]) if menu_end > 0 else None
    metadata, body_line = _parse_metadata(path, lines, date_key)
    return ("full", title_line, type_label, metadata, menu, body_line, None, None)


def _parse_menu(lines: list[str]) -> NavMenu:
    """Menu sections open with a ``-`` line followed by the heading; items are ``- item``."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    expect_heading = False
    for raw in lines:
        line = raw.strip()
        if line == "-":
            expect_heading = True
        elif expect_heading:
            current = sections.setdefault(line, [])
            expect_heading = False
        elif line.startswith("- ") and current is not None:
            current.append(line[2:].strip())
    return NavMenu({heading: tuple(items) for heading, items in sections.items()})


def _parse_metadata(path: Path, lines: list[str], start: int) -> tuple[Metadata, int]:
    values: dict[str, list[str]] = {}
    key: str | None = None
    index = start
    while index < len(lines) and lines[index].startswith("- "):
        item = lines[index][2:].strip()
        if DATELINE.match(item) or len(item) > MAX_META_VALUE:
            break  # the body has begun, with a bullet
        if item.endswith(":") and item[:-1] in META_KEYS:
            key = META_KEYS[item[:-1]]
            values.setdefault(key, [])
        elif key is not None:
            values[key].append(item)
        index += 1
    when = None
    if values.get("date"):
        try:
            when = parse_date(values["date"][0])
        except ValueError as exc:
            raise ParseError(
                f"metadata Date {values['date'][0]!r} is not a date like '4 December 2014'",
                subject=str(path),
            ) from exc
    city = country = None
    if values.get("place"):
        match = PLACE_VALUE.match(values["place"][0])
        if match:
            city, country = match["city"].strip(), match["country"]
    source = values["source"][0] if values.get("source") else None
    metadata = Metadata(
        date=when,
        place_city=city,
        place_country=country.strip() if country else None,
        source=source,
        fields_of_work=tuple(values.get("fields", ())),
    )
    return metadata, index


def _parse_newsroom(path: Path, text: str, lines: list[str], offsets: list[int]) -> _Parsed | None:
    if not lines or lines[0].strip() != "Newsroom" or len(lines) < 4:
        return None
    header = NEWSROOM_HEADER.match(lines[2].strip())
    index = 3 if header is not None else 2
    header_date = _date_or_error(path, header["date"], "header date") if header else None
    caption = None
    if index < len(lines) and lines[index].rstrip().endswith("Photo details"):
        caption, index = index, index + 1
    return ("newsroom", 1, "Newsroom", Metadata(), None, index, header_date, caption)


def _parse_news_item(path: Path, text: str, lines: list[str], offsets: list[int]) -> _Parsed | None:
    if not lines or lines[0].strip() != "News" or len(lines) < 3:
        return None
    index, published = 2, None
    match = PUBLISHING_DATE.match(lines[2].strip())
    if match:
        published, index = _date_or_error(path, match["date"], "Publishing date"), 3
    return ("news_item", 1, "News", Metadata(), None, index, published, None)


def _parse_title_dateline(
    path: Path, text: str, lines: list[str], offsets: list[int]
) -> _Parsed | None:
    if len(lines) < 2 or not DATELINE.match(lines[1]):
        return None
    return ("title_dateline", 0, None, Metadata(), None, 1, None, None)


PLAIN_DATE = re.compile(rf"(?<!\d)(?P<date>\d{{1,2}} (?:{MONTHS}) (?:19|20)\d{{2}})(?!\d)")
PLAIN_HEAD = 6  # lines below the title searched for the page's date
MAX_TITLE = 300


def _parse_plain(path: Path, text: str, lines: list[str], offsets: list[int]) -> _Parsed | None:
    """A page in no known layout: the first line is the title, the rest the body, and the
    page's date is the first 'D Month YYYY' in the title or the lines just below it. Without
    such a date it is not taken for a page."""
    filled = [i for i, line in enumerate(lines) if line.strip()]
    if len(filled) < 2 or len(lines[filled[0]].strip()) > MAX_TITLE:
        return None
    title, body = filled[0], filled[1]
    for index in filled[: PLAIN_HEAD + 1]:
        match = PLAIN_DATE.search(lines[index])
        if match:
            try:
                when = parse_date(match["date"])
            except ValueError:
                continue
            return ("plain", title, None, Metadata(), None, body, when, None)
    return None


def _has_metadata(lines: list[str], date_key: int) -> bool:
    """A press-release block has '- Date:' and at least one more of its keys below it."""
    keys = {f"- {k}:" for k in META_KEYS if k != "Date"}
    return any(line.strip() in keys for line in lines[date_key + 1 : date_key + 12])


def _date_or_error(path: Path, text: str, what: str) -> date:
    try:
        return parse_date(text)
    except ValueError as exc:
        raise ParseError(f"{what} {text!r} is not a valid date", subject=str(path)) from exc
